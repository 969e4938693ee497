"""Submission on N+587 (STARTTLS) and N+465 (implicit TLS): AUTH PLAIN and
LOGIN, AUTH required, sender and From: ownership, local recipients
delivered and remote ones queued (tern queue), the per-account smtp switch
and its revocation, auth.plaintext."""
import smtplib
import time
import unittest

from harness import ServerTestCase, TernServer, client_ssl_context, tern
from smtpclient import RawSMTP, add_user, mailbox, ports, split_trace


def message(frm, to="bob@localhost", subject="sub"):
    return (f"From: {frm}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject}@localhost>\r\n\r\nhello\r\n").encode()


class SubmissionTest(ServerTestCase):
    # The runner stays off: the queue is what these tests look at.
    CONFIG = "[auth]\nfail_delay = 200ms\n[delivery]\nenabled = no\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.p = ports(cls.server)
        cls.bob_pw = add_user(cls.server, "bob@localhost")
        tern("alias", "add", "info@localhost", cls.server.user, data_dir=cls.server.dir)

    def submit(self, tls="starttls", login=True, mech="PLAIN"):
        if tls == "implicit":
            s = smtplib.SMTP_SSL("127.0.0.1", self.p["submissions"], timeout=10,
                                 context=client_ssl_context())
        else:
            s = smtplib.SMTP("127.0.0.1", self.p["submission"], timeout=10)
        self.addCleanup(s.close)
        s.ehlo()
        if tls == "starttls":
            s.starttls(context=client_ssl_context())
            s.ehlo()
        if login:
            s.user, s.password = self.server.user, self.server.password
            code, _ = s.auth(mech, getattr(s, "auth_" + mech.lower()))
            self.assertEqual(code, 235)
        return s

    def test_auth_plain_and_login_on_both_ports(self):
        for tls in ("starttls", "implicit"):
            for mech in ("PLAIN", "LOGIN"):
                s = self.submit(tls, mech=mech)
                subject = f"{tls}-{mech}"
                s.sendmail(self.server.user, ["bob@localhost"],
                           message(self.server.user, subject=subject))
                raw = mailbox(self.server, "bob@localhost", self.bob_pw)[-1]
                self.assertIn(f"Subject: {subject}".encode(), raw)
                self.assertIn(b"with ESMTPSA id", raw)
                self.assertRegex(raw, rb"tls TLS_[A-Z0-9_]+ \(TLSv1\.[23]\)")

    def test_ehlo_offers_auth_and_no_relay_without_it(self):
        s = self.submit(login=False)
        self.assertIn("PLAIN", s.esmtp_features["auth"])
        self.assertIn("LOGIN", s.esmtp_features["auth"])
        code, msg = s.mail(self.server.user)
        self.assertEqual((code, msg[:5]), (530, b"5.7.0"))

    def test_wrong_password(self):
        s = self.submit(login=False)
        s.user, s.password = self.server.user, "wrong"
        with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
            s.auth("PLAIN", s.auth_plain)
        self.assertEqual(cm.exception.smtp_code, 535)
        self.assertTrue(cm.exception.smtp_error.startswith(b"5.7.8"))

    def test_auth_cancel_and_twice(self):
        r = RawSMTP(self.p["submissions"], tls=True)
        self.addCleanup(r.close)
        r.reply()
        r.cmd("EHLO x")
        self.assertEqual(r.cmd("AUTH LOGIN")[0], 334)
        self.assertEqual(r.cmd("*")[:2], (501, "5.0.0 Authentication cancelled"))
        self.assertEqual(r.cmd("AUTH NOPE")[0], 504)
        s = self.submit("implicit")
        self.assertEqual(s.docmd("AUTH PLAIN")[0], 503)

    def test_sender_must_be_owned(self):
        s = self.submit()
        code, msg = s.mail("bob@localhost")
        self.assertEqual((code, msg[:5]), (553, b"5.7.1"))
        self.assertEqual(s.mail("info@localhost")[0], 250, "an alias of the account")
        s.rset()
        self.assertEqual(s.mail(self.server.user.replace("@", "+tag@"))[0], 250)
        s.rset()
        self.assertEqual(s.mail("")[0], 250, "the null sender")

    def test_from_header_must_be_owned(self):
        s = self.submit()
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            s.sendmail(self.server.user, ["bob@localhost"], message("bob@localhost"))
        self.assertEqual(cm.exception.smtp_code, 550)
        self.assertIn(b"5.7.1", cm.exception.smtp_error)
        s.sendmail(self.server.user, ["bob@localhost"],
                   message('"Info" <info@localhost>', subject="via-alias"))
        raw = mailbox(self.server, "bob@localhost", self.bob_pw)[-1]
        self.assertIn(b"Subject: via-alias", raw)

    def test_remote_recipients_are_queued(self):
        s = self.submit()
        body = message(self.server.user, to="far@remote.example", subject="queued")
        s.sendmail(self.server.user, ["far@Remote.Example", "bob@localhost"], body,
                   mail_options=["ENVID=env42", "RET=HDRS"],
                   rcpt_options=["NOTIFY=SUCCESS,FAILURE"])
        out = tern("queue", "list", data_dir=self.server.dir).stdout
        lines = [l for l in out.splitlines() if "<far@remote.example>" in l]
        self.assertEqual(len(lines), 1, out)
        qid = lines[0].split()[0]
        self.assertNotIn("bob@localhost", lines[0], "local recipients are delivered")
        show = tern("queue", "show", qid, "--message", data_dir=self.server.dir).stdout
        self.assertIn("sender %s" % self.server.user, show)
        self.assertIn("rcpt far@remote.example NOTIFY=SUCCESS,FAILURE", show)
        self.assertIn("envid env42", show)
        self.assertIn("ret HDRS", show)
        message_part = show.split("\n\n", 1)[1].encode()  # text mode: LF for CRLF
        self.assertTrue(message_part.startswith(b"Received: from "), message_part[:100])
        self.assertTrue(message_part.endswith(body.replace(b"\r\n", b"\n")),
                        message_part[-200:])
        self.assertIn(b"Subject: queued", mailbox(self.server, "bob@localhost", self.bob_pw)[-1])
        self.assertNotEqual(tern("queue", "show", "nope", data_dir=self.server.dir,
                                 check=False).returncode, 0)

    def test_smtp_switch_and_revocation(self):
        pw = add_user(self.server, "carol@localhost")
        s = smtplib.SMTP_SSL("127.0.0.1", self.p["submissions"], timeout=10,
                             context=client_ssl_context())
        self.addCleanup(s.close)
        s.ehlo()
        s.user, s.password = "carol@localhost", pw
        self.assertEqual(s.auth("PLAIN", s.auth_plain)[0], 235)
        tern("user", "set", "carol@localhost", "smtp=off", data_dir=self.server.dir)
        deadline = time.monotonic() + 10
        code = None
        while time.monotonic() < deadline:
            try:
                code, msg = s.noop()
            except smtplib.SMTPServerDisconnected:
                break
            if code == 421:
                break
            time.sleep(0.2)
        self.assertTrue(code in (421, None), code)
        s2 = smtplib.SMTP_SSL("127.0.0.1", self.p["submissions"], timeout=10,
                              context=client_ssl_context())
        self.addCleanup(s2.close)
        s2.ehlo()
        s2.user, s2.password = "carol@localhost", pw
        with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
            s2.auth("PLAIN", s2.auth_plain)
        self.assertEqual(cm.exception.smtp_code, 535)


class SubmissionPlaintextTest(unittest.TestCase):
    def test_no_auth_before_tls_when_plaintext_never(self):
        srv = TernServer("[auth]\nplaintext = never\nfail_delay = 100ms\n").start()
        try:
            s = smtplib.SMTP("127.0.0.1", ports(srv)["submission"], timeout=10)
            s.ehlo()
            self.assertFalse(s.has_extn("auth"))
            code, msg = s.docmd("AUTH PLAIN", "AHRlc3QAeA==")
            self.assertEqual((code, msg[:6]), (538, b"5.7.11"))
            s.starttls(context=client_ssl_context())
            s.ehlo()
            self.assertTrue(s.has_extn("auth"))
            s.user, s.password = srv.user, srv.password
            self.assertEqual(s.auth("PLAIN", s.auth_plain)[0], 235)
            s.quit()
        finally:
            self.assertEqual(srv.stop(), 0)
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
