"""swaks, a real SMTP client, against all three ports: plain and STARTTLS on
the MX, AUTH PLAIN and LOGIN on submission (STARTTLS and implicit TLS),
pipelining, an 8-bit body, a UTF-8 address. Debian's swaks (20201014)
speaks neither SMTPUTF8 nor CHUNKING: it must see the UTF-8 address
refused (553 5.6.7, as RFC 6531 wants without SMTPUTF8) and never be
offered BDAT it would misuse; both extensions are tested with smtplib and
raw sockets (test_smtp.py, test_smtp_raw.py)."""
import shutil
import subprocess
import unittest

from harness import ServerTestCase
from smtpclient import add_user, mailbox, ports, split_trace

BODY8 = "Subject: swaks 8bit\r\n\r\nGr\u00fc\u00dfe, caf\u00e9 \u2615\r\n"


@unittest.skipUnless(shutil.which("swaks"), "swaks not installed (scripts/deps.sh)")
class SwaksTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.p = ports(cls.server)
        cls.bob_pw = add_user(cls.server, "bob@localhost")

    def swaks(self, *args, body=None, quiet=True):
        cmd = ["swaks", "--timeout", "10", "--helo", "swaks.example"] + list(args)
        if quiet:
            cmd += ["--silent", "1", "--hide-all"]
        if body is not None:
            cmd += ["--data", "-"]
        p = subprocess.run(cmd, input=body.encode() if body else None, capture_output=True,
                           timeout=60)
        return p.returncode, (p.stdout + p.stderr).decode(errors="replace")

    def last(self):
        return mailbox(self.server, "bob@localhost", self.bob_pw)[-1]

    def test_mx_plain_and_starttls(self):
        for extra in ([], ["--tls"], ["--pipeline"]):
            rc, out = self.swaks("--server", f"127.0.0.1:{self.p['smtp']}",
                                 "--from", "a@example.com", "--to", "bob@localhost",
                                 "--header", f"Subject: swaks {extra}", *extra)
            self.assertEqual(rc, 0, out)
            self.assertIn(f"Subject: swaks {extra}".encode(), self.last())
        self.assertIn(b"with ESMTPS", mailbox(self.server, "bob@localhost", self.bob_pw)[-2])

    def test_mx_eight_bit_body(self):
        rc, out = self.swaks("--server", f"127.0.0.1:{self.p['smtp']}", "--from",
                             "a@example.com", "--to", "bob@localhost", body=BODY8 + ".\r\n")
        self.assertEqual(rc, 0, out)
        self.assertEqual(split_trace(self.last())[1], BODY8.encode())

    def test_mx_refuses_relay(self):
        rc, out = self.swaks("--server", f"127.0.0.1:{self.p['smtp']}", "--from",
                             "a@example.com", "--to", "victim@elsewhere.example")
        self.assertNotEqual(rc, 0)

    def test_utf8_address_without_smtputf8(self):
        rc, out = self.swaks("--server", f"127.0.0.1:{self.p['smtp']}", "--from",
                             "a@example.com", "--to", "j\u00f6rg@localhost", quiet=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("553 5.6.7", out)

    def test_submission_auth_plain_and_login(self):
        for port, tls in ((self.p["submission"], "--tls"),
                          (self.p["submissions"], "--tls-on-connect")):
            for mech in ("PLAIN", "LOGIN"):
                rc, out = self.swaks("--server", f"127.0.0.1:{port}", tls,
                                     "--auth", mech, "--auth-user", self.server.user,
                                     "--auth-password", self.server.password,
                                     "--from", self.server.user, "--to", "bob@localhost",
                                     "--header", f"From: {self.server.user}",
                                     "--header", f"Subject: sub {port} {mech}")
                self.assertEqual(rc, 0, out)
                self.assertIn(f"Subject: sub {port} {mech}".encode(), self.last())

    def test_submission_refuses_bad_password(self):
        rc, out = self.swaks("--server", f"127.0.0.1:{self.p['submissions']}",
                             "--tls-on-connect", "--auth", "PLAIN", "--auth-user",
                             self.server.user, "--auth-password", "wrong", "--to",
                             "bob@localhost")
        self.assertNotEqual(rc, 0)

    def test_lmtp(self):
        rc, out = self.swaks("--server", f"127.0.0.1:{self.p['lmtp']}", "--protocol", "LMTP",
                             "--from", "a@example.com", "--to", "bob@localhost",
                             "--header", "Subject: swaks lmtp")
        self.assertEqual(rc, 0, out)
        self.assertIn(b"Subject: swaks lmtp", self.last())
        self.assertIn(b"with LMTP id", self.last())


if __name__ == "__main__":
    unittest.main()
