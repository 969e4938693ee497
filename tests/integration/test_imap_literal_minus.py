"""test_imap_literal_minus.py: imap.literal_minus = yes (RFC 7888 section 5).

The server then advertises LITERAL- and not LITERAL+ (never both), takes
non-synchronising literals up to 4096 bytes, answers a bigger one in APPEND
with a tagged BAD [TOOBIG] and skips its bytes so the connection stays in
step, and still takes the same message as a synchronising literal.
"""
from harness import Raw, ServerTestCase


class LiteralMinusTest(ServerTestCase):
    CONFIG = "[auth]\nfail_delay = 200ms\n[imap]\nliteral_minus = yes\n"

    def login(self):
        r = Raw(self.server.imap_port)
        greeting = r.line()
        self.assertIn(" LITERAL- ", greeting)
        self.assertNotIn("LITERAL+", greeting)
        lines = r.cmd("a", f"LOGIN {self.server.user} {self.server.password}")
        self.assertTrue(lines[-1].startswith("a OK"), lines)
        self.assertIn(" LITERAL- ", lines[-1])
        self.assertNotIn("LITERAL+", lines[-1])
        return r

    def test_nonsync_limit(self):
        r = self.login()
        small = b"Subject: small\r\n\r\n" + b"x" * (4096 - 18)
        self.assertEqual(len(small), 4096)
        r.send(b"b APPEND INBOX {4096+}\r\n" + small + b"\r\n")
        self.assertTrue(r.until_tagged("b")[-1].startswith("b OK"))
        big = b"Subject: big\r\n\r\n" + b"y" * 5000
        r.send(b"c APPEND INBOX {%d+}\r\n" % len(big) + big + b"\r\n")
        lines = r.until_tagged("c")
        self.assertTrue(lines[-1].startswith("c BAD [TOOBIG]"), lines)
        # The skipped bytes did not turn into commands; the same message
        # goes in synchronising.
        self.assertTrue(r.cmd("d", "NOOP")[-1].startswith("d OK"))
        r.send(b"e APPEND INBOX {%d}\r\n" % len(big))
        self.assertTrue(r.line().startswith("+"))
        r.send(big + b"\r\n")
        self.assertTrue(r.until_tagged("e")[-1].startswith("e OK"))
        lines = r.cmd("f", "STATUS INBOX (MESSAGES)")
        self.assertIn("(MESSAGES 2)", lines[0])


class LiteralPlusDefaultTest(ServerTestCase):
    def test_default_is_literal_plus(self):
        r = Raw(self.server.imap_port)
        greeting = r.line()
        self.assertIn(" LITERAL+ ", greeting)
        self.assertNotIn("LITERAL-", greeting)
        big = b"Subject: big\r\n\r\n" + b"y" * 5000
        r.cmd("a", f"LOGIN {self.server.user} {self.server.password}")
        r.send(b"c APPEND INBOX {%d+}\r\n" % len(big) + big + b"\r\n")
        self.assertTrue(r.until_tagged("c")[-1].startswith("c OK"))
