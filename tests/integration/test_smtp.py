"""SMTP on the MX port (N+25) with smtplib: every command and extension,
delivery read back over IMAP byte for byte, the trace fields, one blob for
many recipients, quota, size and session limits."""
import glob
import os
import signal
import smtplib
import ssl
import unittest

from harness import ServerTestCase, TernServer, client_ssl_context, tern
from smtpclient import RawSMTP, add_user, mailbox, ports, split_trace

MSG = (b"From: Sender <sender@example.com>\r\nTo: test@localhost\r\n"
       b"Subject: hello\r\nMessage-ID: <1@example.com>\r\n\r\n"
       b"line one\r\n.starts with a dot\r\n..two dots\r\n")


class SmtpTest(ServerTestCase):
    CONFIG = "[auth]\nfail_delay = 200ms\n[smtp]\nmax_recipients = 5\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.p = ports(cls.server)
        cls.bob_pw = add_user(cls.server, "bob@localhost")
        cls.utf8_pw = add_user(cls.server, "j\u00f6rg@localhost")

    def smtp(self):
        s = smtplib.SMTP("127.0.0.1", self.p["smtp"], timeout=10)
        self.addCleanup(s.close)
        return s

    def test_ehlo_lists_every_extension(self):
        s = self.smtp()
        code, _ = s.ehlo("client.example")
        self.assertEqual(code, 250)
        for ext in ("pipelining", "size", "8bitmime", "enhancedstatuscodes", "smtputf8",
                    "chunking", "binarymime", "dsn", "starttls", "help"):
            self.assertTrue(s.has_extn(ext), ext)
        self.assertEqual(s.esmtp_features["size"], str(64 << 20))
        self.assertFalse(s.has_extn("auth"), "no AUTH on the MX port")
        self.assertFalse(s.has_extn("requiretls"), "REQUIRETLS only over TLS")

    def test_starttls_then_requiretls_offered(self):
        s = self.smtp()
        s.ehlo()
        s.starttls(context=client_ssl_context())
        s.ehlo()
        self.assertTrue(s.has_extn("requiretls"))
        self.assertFalse(s.has_extn("starttls"))
        s.sendmail("a@example.com", ["test@localhost"], MSG, mail_options=["REQUIRETLS"])
        raw = mailbox(self.server, self.server.user, self.server.password)[-1]
        received = raw.split(b"Received: ", 1)[1].split(b";", 1)[0]
        self.assertIn(b"with ESMTPS", received)
        self.assertRegex(received, rb"tls TLS_[A-Z0-9_]+ \(TLSv1\.[23]\)")

    def test_requiretls_refused_without_tls(self):
        s = self.smtp()
        s.ehlo()
        code, msg = s.mail("a@example.com", ["REQUIRETLS"])
        self.assertEqual(code, 530)
        self.assertTrue(msg.startswith(b"5.7.10"), msg)

    def test_delivery_read_back_byte_for_byte(self):
        s = self.smtp()
        s.ehlo("client.example")
        s.sendmail("sender@example.com", ["Bob@LOCALHOST"], MSG)
        raw = mailbox(self.server, "bob@localhost", self.bob_pw)[-1]
        names, rest = split_trace(raw)
        self.assertEqual(names, ["Return-Path", "Delivered-To", "Authentication-Results", "Received"])
        self.assertEqual(rest, MSG)  # smtplib stuffed the dots, tern unstuffed them
        self.assertTrue(raw.startswith(b"Return-Path: <sender@example.com>\r\n"
                                       b"Delivered-To: bob@localhost\r\n"
                                       b"Authentication-Results: localhost;\r\n"), raw[:200])
        self.assertIn(b"\r\nReceived: from client.example ([127.0.0.1])\r\n"
                      b"\tby localhost (tern) with ESMTP id ", raw)
        self.assertIn(b"\tfor <Bob@LOCALHOST>;\r\n", raw)

    def test_bare_lf_is_stored_as_crlf(self):
        s = self.smtp()
        s.ehlo()
        code, _ = s.mail("a@example.com")
        s.rcpt("bob@localhost")
        s.putcmd("data")
        self.assertEqual(s.getreply()[0], 354)
        s.send(b"Subject: lf\nX: y\n\nbody\r\n.\r\n")
        self.assertEqual(s.getreply()[0], 250)
        raw = mailbox(self.server, "bob@localhost", self.bob_pw)[-1]
        self.assertTrue(raw.endswith(b"Subject: lf\r\nX: y\r\n\r\nbody\r\n"), raw)

    def test_eight_bit_body(self):
        body = ("From: a@example.com\r\nSubject: 8bit\r\nContent-Type: text/plain; "
                "charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                "Gr\u00fc\u00dfe aus K\u00f6ln \u2603\r\n").encode()
        s = self.smtp()
        s.ehlo()
        s.sendmail("a@example.com", ["bob@localhost"], body, mail_options=["BODY=8BITMIME"])
        raw = mailbox(self.server, "bob@localhost", self.bob_pw)[-1]
        self.assertEqual(split_trace(raw)[1], body)

    def test_smtputf8_address(self):
        s = self.smtp()
        s.ehlo()
        body = "From: a@example.com\r\nSubject: utf8\r\n\r\nhi\r\n".encode()
        s.sendmail("\u00e9@example.com", ["j\u00f6rg@localhost"], body,
                   mail_options=["SMTPUTF8"])
        raw = mailbox(self.server, "j\u00f6rg@localhost", self.utf8_pw)[-1]
        self.assertIn("Return-Path: <\u00e9@example.com>".encode(), raw)
        self.assertIn(b"with UTF8SMTP id", raw)

    def test_utf8_address_needs_smtputf8(self):
        s = self.smtp()
        s.ehlo()
        s.command_encoding = "utf-8"
        self.assertEqual(s.mail("a@example.com")[0], 250)
        code, msg = s.rcpt("j\u00f6rg@localhost")
        self.assertEqual(code, 553)
        self.assertTrue(msg.startswith(b"5.6.7"), msg)

    def test_dsn_parameters_accepted(self):
        s = self.smtp()
        s.ehlo()
        s.sendmail("a@example.com", ["bob@localhost"], MSG,
                   mail_options=["RET=HDRS", "ENVID=QQ314159"],
                   rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;bob@localhost"])
        code, msg = s.mail("a@example.com", ["RET=SOME"])
        self.assertEqual(code, 501)
        s.rset()
        code, msg = s.mail("a@example.com")
        code, msg = s.rcpt("bob@localhost", ["NOTIFY=NEVER,SUCCESS"])
        self.assertEqual(code, 501)
        code, msg = s.rcpt("bob@localhost", ["FROB=1"])
        self.assertEqual(code, 555)

    def test_unknown_recipient_refused_at_rcpt(self):
        s = self.smtp()
        s.ehlo()
        s.mail("a@example.com")
        code, msg = s.rcpt("nobody@localhost")
        self.assertEqual((code, msg[:5]), (550, b"5.1.1"))

    def test_size_declared_too_big_refused_at_mail(self):
        s = self.smtp()
        s.ehlo()
        code, msg = s.mail("a@example.com", ["SIZE=%d" % ((64 << 20) + 1)])
        self.assertEqual((code, msg[:5]), (552, b"5.3.4"))
        self.assertEqual(s.mail("a@example.com", ["SIZE=1000"])[0], 250)

    def test_vrfy_expn_never_tell(self):
        s = self.smtp()
        s.ehlo()
        for cmd in ("VRFY test@localhost", "VRFY nobody@localhost", "EXPN staff"):
            code, msg = s.docmd(cmd)
            self.assertEqual(code, 252, cmd)
        self.assertEqual(s.docmd("VRFY test@localhost")[1], s.docmd("VRFY x@localhost")[1])

    def test_noop_rset_help_quit(self):
        s = self.smtp()
        s.ehlo()
        self.assertEqual(s.noop()[0], 250)
        s.mail("a@example.com")
        self.assertEqual(s.rset()[0], 250)
        self.assertEqual(s.mail("a@example.com")[0], 250, "RSET ended the transaction")
        self.assertEqual(s.docmd("HELP")[0], 214)
        self.assertEqual(s.quit()[0], 221)

    def test_helo_gives_plain_replies(self):
        s = self.smtp()
        self.assertEqual(s.helo("old.example")[0], 250)
        code, msg = s.mail("a@example.com")
        self.assertEqual((code, msg), (250, b"Ok"), "no enhanced codes after HELO")
        s.rcpt("bob@localhost")
        s.data(MSG)
        raw = mailbox(self.server, "bob@localhost", self.bob_pw)[-1]
        self.assertIn(b"with SMTP id", raw)

    def test_too_many_recipients(self):
        s = self.smtp()
        s.ehlo()
        s.mail("a@example.com")
        for _ in range(5):
            self.assertEqual(s.rcpt("bob@localhost")[0], 250)
        code, msg = s.rcpt("bob@localhost")
        self.assertEqual((code, msg[:5]), (452, b"4.5.3"))

    def test_many_recipients_share_one_blob(self):
        big = (b"From: a@example.com\r\nSubject: big\r\n\r\n" +
               b"x" * 100 + b"\r\n") * 1000  # above store.inline_max: a file
        s = self.smtp()
        s.ehlo()
        s.sendmail("a@example.com", ["bob@localhost", self.server.user], big)
        for user, pw in (("bob@localhost", self.bob_pw),
                         (self.server.user, self.server.password)):
            raw = mailbox(self.server, user, pw)[-1]
            names, rest = split_trace(raw)
            self.assertEqual(names, ["Return-Path", "Authentication-Results", "Received"], "no Delivered-To for two")
            self.assertEqual(rest, big)
        inodes = {}
        for path in glob.glob(os.path.join(self.server.dir, "accounts", "*", "blobs", "**"),
                              recursive=True):
            if os.path.isfile(path) and os.path.getsize(path) > len(big):
                inodes.setdefault(os.stat(path).st_ino, []).append(path)
        self.assertTrue(any(len(v) == 2 for v in inodes.values()), inodes)

    def test_postmaster_without_domain(self):
        tern("alias", "add", "postmaster@localhost", self.server.user, data_dir=self.server.dir)
        s = self.smtp()
        s.ehlo()
        s.mail("a@example.com")
        self.assertEqual(s.rcpt("Postmaster")[0], 250)


class SmtpLimitsTest(unittest.TestCase):
    def start(self, config):
        srv = TernServer("[auth]\nfail_delay = 100ms\n" + config)
        srv.start()
        self.addCleanup(srv.cleanup)
        self.addCleanup(lambda: self.assertEqual(srv.stop(), 0, srv.read_log()[-3000:]))
        return srv

    def test_message_over_size_refused_after_data(self):
        srv = self.start("[smtp]\nmax_message_size = 2k\n")
        s = smtplib.SMTP("127.0.0.1", ports(srv)["smtp"], timeout=10)
        s.ehlo()
        s.mail("a@example.com")  # no SIZE: the limit hits while the data streams
        s.rcpt(srv.user)
        code, msg = s.data(b"Subject: big\r\n\r\n" + b"y" * 5000)
        self.assertEqual((code, msg[:5]), (552, b"5.3.4"))
        self.assertEqual(s.noop()[0], 250, "the session goes on")
        s.sendmail("a@example.com", [srv.user], b"Subject: small\r\n\r\nok\r\n")
        self.assertEqual(len(mailbox(srv, srv.user, srv.password)), 1)
        s.quit()

    def over_quota(self, temporary):
        srv = self.start("[store]\nquota_messages = 1\n[smtp]\nquota_temporary = %s\n"
                         % ("yes" if temporary else "no"))
        s = smtplib.SMTP("127.0.0.1", ports(srv)["smtp"], timeout=10)
        s.ehlo()
        s.sendmail("a@example.com", [srv.user], MSG)
        s.mail("a@example.com")
        code, msg = s.rcpt(srv.user)
        s.quit()
        return code, msg[:5]

    def test_over_quota_temporary(self):
        self.assertEqual(self.over_quota(True), (452, b"4.2.2"))

    def test_over_quota_permanent(self):
        self.assertEqual(self.over_quota(False), (552, b"5.2.2"))

    def test_too_many_errors_end_the_session(self):
        srv = self.start("[smtp]\nmax_errors = 3\n")
        r = RawSMTP(ports(srv)["smtp"])
        r.reply()
        r.cmd("EHLO x")
        self.assertEqual(r.cmd("FOO")[0], 500)
        self.assertEqual(r.cmd("BAR")[0], 500)
        code, text, _ = r.cmd("BAZ")
        self.assertEqual(code, 500)
        code, text, _ = r.reply()
        self.assertEqual(code, 421)
        self.assertTrue(r.closed())

    def test_junk_commands_limited(self):
        srv = self.start("[smtp]\nmax_junk_commands = 3\n")
        r = RawSMTP(ports(srv)["smtp"])
        r.reply()
        r.cmd("EHLO x")
        for _ in range(3):
            self.assertEqual(r.cmd("NOOP")[0], 250)
        self.assertEqual(r.cmd("NOOP")[0], 421)
        self.assertTrue(r.closed())

    def test_shutdown_says_421(self):
        srv = self.start("")
        r = RawSMTP(ports(srv)["smtp"])
        r.reply()
        r.cmd("EHLO x")
        srv.signal(signal.SIGTERM)
        code, text, _ = r.reply()
        self.assertEqual(code, 421)
        self.assertIn("4.3.2", text)
        self.assertTrue(r.closed())

    def test_timeout_says_421(self):
        srv = self.start("[smtp]\ntimeout = 1s\n")
        r = RawSMTP(ports(srv)["smtp"])
        r.reply()
        code, text, _ = r.reply()
        self.assertEqual(code, 421)
        self.assertTrue(r.closed())


if __name__ == "__main__":
    unittest.main()
