"""SMTP over raw sockets: exact replies, pipelining (RFC 2920), BDAT chunks
(RFC 3030), STARTTLS discarding pipelined plaintext, bad sequences and
malformed commands."""
import unittest

from harness import ServerTestCase
from smtpclient import RawSMTP, mailbox, ports, split_trace


class SmtpRawTest(ServerTestCase):
    CONFIG = "[auth]\nfail_delay = 200ms\n[smtp]\nmax_errors = 100\n"

    def conn(self, ehlo=True):
        r = RawSMTP(ports(self.server)["smtp"])
        self.addCleanup(r.close)
        code, text, _ = r.reply()
        self.assertEqual(code, 220)
        self.assertEqual(text, "localhost ESMTP tern")
        if ehlo:
            self.assertEqual(r.cmd("EHLO client.example")[0], 250)
        return r

    def last_message(self):
        return mailbox(self.server, self.server.user, self.server.password)[-1]

    def test_pipelined_transaction_replies_in_order(self):
        r = self.conn()
        u = self.server.user
        r.send(f"MAIL FROM:<a@example.com>\r\nRCPT TO:<nobody@localhost>\r\n"
               f"RCPT TO:<{u}>\r\nRCPT TO:<x@elsewhere.example>\r\nDATA\r\n")
        want = [(250, "2.1.0 Ok"), (550, "5.1.1 <nobody@localhost>: No such user here"),
                (250, "2.1.5 Ok"), (550, "5.7.1 <x@elsewhere.example>: Relaying denied"),
                (354, "End data with <CR><LF>.<CR><LF>")]
        for code, text in want:
            got = r.reply()
            self.assertEqual((got[0], got[1]), (code, text))
        r.send("Subject: pipelined\r\n\r\nbody\r\n.\r\nNOOP\r\nQUIT\r\n")
        code, text, _ = r.reply()
        self.assertEqual(code, 250)
        self.assertRegex(text, r"^2\.0\.0 Ok: delivered as [0-9a-f]{8}\.1$")
        self.assertEqual(r.reply()[:2], (250, "2.0.0 Ok"))
        self.assertEqual(r.reply()[:2], (221, "2.0.0 localhost Bye"))
        self.assertTrue(self.last_message().endswith(b"Subject: pipelined\r\n\r\nbody\r\n"))

    def test_all_rcpts_failed_then_data(self):
        r = self.conn()
        r.send("MAIL FROM:<a@example.com>\r\nRCPT TO:<nobody@localhost>\r\nDATA\r\n")
        self.assertEqual(r.reply()[0], 250)
        self.assertEqual(r.reply()[0], 550)
        self.assertEqual(r.reply()[:2], (554, "5.5.1 No valid recipients"))
        self.assertEqual(r.cmd("NOOP")[0], 250)

    def test_bdat_chunks(self):
        r = self.conn()
        u = self.server.user
        parts = [b"Subject: chunked\r\n", b"\r\nfirst half, ", b"second half\r\n"]
        r.send(f"MAIL FROM:<a@example.com> BODY=BINARYMIME\r\nRCPT TO:<{u}>\r\n")
        self.assertEqual(r.reply()[0], 250)
        self.assertEqual(r.reply()[0], 250)
        # Chunks pipelined, one with a CRLF.CRLF inside that must not end anything.
        r.send(b"BDAT %d\r\n%s" % (len(parts[0]), parts[0]))
        r.send(b"BDAT %d\r\n%s" % (len(parts[1]) + 5, parts[1] + b"\r\n.\r\n"))
        r.send(b"BDAT %d LAST\r\n%s" % (len(parts[2]), parts[2]))
        self.assertEqual(r.reply()[:2], (250, "2.0.0 Chunk received"))
        self.assertEqual(r.reply()[:2], (250, "2.0.0 Chunk received"))
        code, text, _ = r.reply()
        self.assertEqual(code, 250, text)
        raw = self.last_message()
        self.assertEqual(split_trace(raw)[1], parts[0] + parts[1] + b"\r\n.\r\n" + parts[2])

    def test_bdat_zero_last_and_binary_bytes(self):
        r = self.conn()
        # Every byte but NUL and a bare CR or LF, which the store makes CRLF.
        body = (b"Subject: bin\r\n\r\n" + bytes(b for b in range(1, 256) if b not in (10, 13))
                + b"\r\n")
        r.cmd("MAIL FROM:<a@example.com> BODY=BINARYMIME")
        r.cmd(f"RCPT TO:<{self.server.user}>")
        r.send(b"BDAT %d\r\n" % len(body) + body + b"BDAT 0 LAST\r\n")
        self.assertEqual(r.reply()[0], 250)
        self.assertEqual(r.reply()[0], 250)
        self.assertEqual(split_trace(self.last_message())[1], body)

    def test_bdat_without_transaction_is_read_and_refused(self):
        r = self.conn()
        r.send("BDAT 13 LAST\r\nRCPT TO:<x>\r\nNOOP\r\n")
        self.assertEqual(r.reply()[:2], (503, "5.5.1 Send MAIL first"))
        self.assertEqual(r.reply()[:2], (250, "2.0.0 Ok"), "the chunk was skipped")

    def test_binarymime_needs_bdat(self):
        r = self.conn()
        r.cmd("MAIL FROM:<a@example.com> BODY=BINARYMIME")
        r.cmd(f"RCPT TO:<{self.server.user}>")
        self.assertEqual(r.cmd("DATA")[:2], (503, "5.5.1 BODY=BINARYMIME requires BDAT"))

    def test_data_after_bdat_refused(self):
        r = self.conn()
        r.cmd("MAIL FROM:<a@example.com>")
        r.cmd(f"RCPT TO:<{self.server.user}>")
        r.send("BDAT 3\r\nabc")
        self.assertEqual(r.reply()[0], 250)
        self.assertEqual(r.cmd("DATA")[0], 503)

    def test_bad_sequences(self):
        r = self.conn(ehlo=False)
        self.assertEqual(r.cmd("MAIL FROM:<a@example.com>")[:2],
                         (503, "Send EHLO/HELO first"))
        r.cmd("EHLO x")
        self.assertEqual(r.cmd(f"RCPT TO:<{self.server.user}>")[:2],
                         (503, "5.5.1 Send MAIL first"))
        self.assertEqual(r.cmd("DATA")[:2], (503, "5.5.1 Send MAIL first"))
        self.assertEqual(r.cmd("MAIL FROM:<a@example.com>")[0], 250)
        self.assertEqual(r.cmd("MAIL FROM:<a@example.com>")[:2],
                         (503, "5.5.1 Nested MAIL command"))
        self.assertEqual(r.cmd("DATA")[:2], (554, "5.5.1 No valid recipients"))
        self.assertEqual(r.cmd("STARTTLS")[0], 503)
        self.assertEqual(r.cmd("LHLO x")[0], 500, "LHLO is LMTP's")
        self.assertEqual(r.cmd("AUTH PLAIN")[:2],
                         (503, "5.5.1 AUTH is offered on the submission ports only"))

    def test_malformed_commands(self):
        r = self.conn()
        cases = [
            ("FROB", 500, "5.5.2 Command not recognized"),
            ("EHLO", 501, "5.5.4 Syntax: EHLO hostname"),
            ("MAIL FROM:a@example.com", 501, "5.5.2 Syntax: MAIL FROM:<address>"),
            ("MAIL FROM:<a@@example.com>", 501, "5.1.7 Invalid sender address"),
            ("MAIL FROM:<a@example.com> FROB=1", 555, "5.5.4 Unknown MAIL parameter"),
            ("MAIL FROM:<a@example.com> SIZE=x", 501, "5.5.4 Invalid SIZE"),
            ("MAIL FROM:<a@example.com> BODY=8BITMIME BODY=7BIT", 501, "5.5.4 BODY given twice"),
            ("RSET x", 501, "5.5.4 Syntax: RSET"),
            ("BDAT x", 501, "5.5.4 Syntax: BDAT size [LAST]"),
        ]
        for line, code, text in cases:
            self.assertEqual(r.cmd(line)[:2], (code, text), line)
        r.cmd("MAIL FROM:<a@example.com>")
        self.assertEqual(r.cmd("RCPT TO:<a b@localhost>")[:2],
                         (501, "5.1.3 Invalid recipient address"))
        self.assertEqual(r.cmd("DATA x")[:2], (501, "5.5.4 Syntax: DATA"))

    def test_line_too_long(self):
        r = self.conn()
        self.assertEqual(r.cmd("NOOP " + "x" * 20000)[:2], (500, "5.5.2 Line too long (limit 16384)"))
        self.assertEqual(r.cmd("NOOP")[0], 250, "in step after a long line")

    def test_nul_in_command(self):
        r = self.conn()
        self.assertEqual(r.cmd("NOOP \0x")[0], 500)

    def test_bare_lf_dot_does_not_end_data(self):
        r = self.conn()
        r.cmd("MAIL FROM:<a@example.com>")
        r.cmd(f"RCPT TO:<{self.server.user}>")
        self.assertEqual(r.cmd("DATA")[0], 354)
        # "\n.\n" is not the end: a smuggled second message stays data.
        r.send("Subject: smuggle\r\n\r\nbody\n.\nMAIL FROM:<evil@example.com>\r\n.\r\n")
        self.assertEqual(r.reply()[0], 250)
        self.assertEqual(r.cmd("NOOP")[0], 250)
        self.assertTrue(self.last_message().endswith(
            b"body\r\n.\r\nMAIL FROM:<evil@example.com>\r\n"))

    def test_starttls_drops_pipelined_plaintext(self):
        r = self.conn()
        r.send("STARTTLS\r\nMAIL FROM:<injected@example.com>\r\n")
        self.assertEqual(r.reply()[:2], (220, "2.0.0 Ready to start TLS"))
        r.starttls()
        # After TLS the session starts over: MAIL needs EHLO again.
        self.assertEqual(r.cmd("MAIL FROM:<a@example.com>")[0], 503)
        code, _, lines = r.cmd("EHLO again")
        self.assertEqual(code, 250)
        self.assertIn("250-REQUIRETLS", lines)
        self.assertNotIn("250-STARTTLS", lines)
        self.assertEqual(r.cmd("STARTTLS")[0], 503)


if __name__ == "__main__":
    unittest.main()
