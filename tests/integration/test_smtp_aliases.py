"""Recipient aliases and lists, the per-domain catch-all (off by default),
sub-addressing into INBOX or, with smtp.subaddress_folder, into an
existing folder; `tern alias` itself."""
import imaplib
import smtplib
import unittest

from harness import ServerTestCase, TernServer, tern
from smtpclient import add_user, mailbox, ports


def send(srv, rcpts, subject):
    s = smtplib.SMTP("127.0.0.1", ports(srv)["smtp"], timeout=10)
    try:
        s.ehlo()
        s.mail("a@example.com")
        codes = [s.rcpt(r)[0] for r in rcpts]
        if 250 in codes:
            s.data(f"Subject: {subject}\r\n\r\nx\r\n".encode())
        return codes
    finally:
        s.close()


def subjects(msgs):
    return [m.split(b"Subject: ", 1)[1].split(b"\r\n", 1)[0].decode() for m in msgs or []]


class AliasTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bob_pw = add_user(cls.server, "bob@localhost")
        d = cls.server.dir
        tern("alias", "add", "sales@localhost", "bob@localhost", data_dir=d)
        tern("alias", "add", "team@localhost", "bob@localhost", data_dir=d)
        tern("alias", "add", "team@localhost", cls.server.user, data_dir=d)

    def test_cli(self):
        out = tern("alias", "list", data_dir=self.server.dir).stdout
        self.assertIn("sales@localhost -> bob@localhost", out)
        self.assertIn("team@localhost -> test@localhost", out)
        p = tern("alias", "add", "sales@localhost", "bob@localhost", data_dir=self.server.dir,
                 check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertNotEqual(tern("alias", "del", "nope@localhost", data_dir=self.server.dir,
                                 check=False).returncode, 0)
        self.assertNotEqual(tern("alias", "add", "bad", "x@localhost", data_dir=self.server.dir,
                                 check=False).returncode, 0)

    def test_alias_and_list(self):
        self.assertEqual(send(self.server, ["Sales@localhost"], "to-sales"), [250])
        self.assertIn("to-sales", subjects(mailbox(self.server, "bob@localhost", self.bob_pw)))
        self.assertEqual(send(self.server, ["team@localhost", "bob@localhost"], "to-team"),
                         [250, 250])
        bob = subjects(mailbox(self.server, "bob@localhost", self.bob_pw))
        self.assertEqual(bob.count("to-team"), 1, "bob once, though named twice")
        self.assertIn("to-team", subjects(mailbox(self.server, self.server.user,
                                                  self.server.password)))

    def test_catch_all_off_by_default(self):
        self.assertEqual(send(self.server, ["random@localhost"], "x"), [550])
        tern("alias", "add", "@localhost", "bob@localhost", data_dir=self.server.dir)
        try:
            self.assertEqual(send(self.server, ["random@localhost"], "caught"), [250])
            self.assertIn("caught", subjects(mailbox(self.server, "bob@localhost",
                                                     self.bob_pw)))
        finally:
            tern("alias", "del", "@localhost", data_dir=self.server.dir)
        self.assertEqual(send(self.server, ["random@localhost"], "x"), [550])

    def test_subaddress_into_inbox(self):
        self.assertEqual(send(self.server, ["bob+lists@localhost"], "tagged"), [250])
        self.assertIn("tagged", subjects(mailbox(self.server, "bob@localhost", self.bob_pw)))


class SubaddressFolderTest(unittest.TestCase):
    def test_tag_names_an_existing_folder(self):
        srv = TernServer("[smtp]\nsubaddress_folder = yes\n").start()
        try:
            m = imaplib.IMAP4("127.0.0.1", srv.imap_port)
            m.login(srv.user, srv.password)
            m.create("Lists")
            m.logout()
            user, domain = srv.user.split("@")
            self.assertEqual(send(srv, [f"{user}+lists@{domain}"], "into-lists"), [250])
            self.assertEqual(send(srv, [f"{user}+nofolder@{domain}"], "into-inbox"), [250])
            self.assertEqual(subjects(mailbox(srv, srv.user, srv.password, "Lists")),
                             ["into-lists"])
            self.assertEqual(subjects(mailbox(srv, srv.user, srv.password)), ["into-inbox"])
        finally:
            self.assertEqual(srv.stop(), 0)
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
