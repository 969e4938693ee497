"""test_imap_utf8.py: UTF8=ACCEPT (RFC 6855) end to end.

After ENABLE UTF8=ACCEPT: UTF-8 in quoted strings (mailbox names in CREATE,
LIST, STATUS, SELECT; SEARCH strings), invalid UTF-8 refused with BAD,
APPEND's UTF8 (literal8) data item (section 4) for messages with UTF-8
header fields, streamed like any APPEND, SEARCH with a CHARSET refused
(section 3), and the same message's ENVELOPE and SORT keys decoded. A
client that did not ENABLE sees the same mailbox in modified UTF-7.
"""
from harness import Raw, ServerTestCase

MSG = ("From: Zoë Ünal <zoe@example.org>\r\n"
       "To: Łukasz <lukasz@example.org>\r\n"
       "Subject: Привет, świat\r\n"
       "Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n"
       "Content-Type: text/plain; charset=utf-8\r\n\r\n"
       "Тело письма, zażółć gęślą jaźń.\r\n").encode()


class Utf8AcceptTest(ServerTestCase):
    def login(self, enable=True):
        r = Raw(self.server.imap_port)
        r.line()
        lines = r.cmd("a", f"LOGIN {self.server.user} {self.server.password}")
        self.assertIn("UTF8=ACCEPT", lines[-1])
        if enable:
            self.assertEqual(r.cmd("e", "ENABLE UTF8=ACCEPT"),
                             ["* ENABLED UTF8=ACCEPT", "e OK ENABLE completed"])
        return r

    def cmd(self, r, tag, text):
        r.send(f"{tag} {text}\r\n".encode())
        return r.until_tagged(tag)

    def test_end_to_end(self):
        r = self.login()
        self.assertTrue(self.cmd(r, "c", 'CREATE "Привет/Świat"')[-1].startswith("c OK"))
        lines = self.cmd(r, "l", 'LIST "" "Привет*"')
        self.assertIn('* LIST (\\HasChildren) "/" "Привет"', lines)
        self.assertIn('* LIST (\\HasNoChildren) "/" "Привет/Świat"', lines)
        r.send(b'ap APPEND "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82/\xc5\x9awiat" '
               b"UTF8 (~{%d+}\r\n" % len(MSG) + MSG + b")\r\n")
        self.assertTrue(r.until_tagged("ap")[-1].startswith("ap OK [APPENDUID"))
        lines = self.cmd(r, "st", 'STATUS "Привет/Świat" (MESSAGES)')
        self.assertEqual(lines[0], '* STATUS "Привет/Świat" (MESSAGES 1)')
        self.assertTrue(self.cmd(r, "s", 'SELECT "Привет/Świat"')[-1].startswith("s OK"))
        self.assertEqual(self.cmd(r, "s1", 'UID SEARCH SUBJECT "привет"')[0], "* SEARCH 1")
        self.assertEqual(self.cmd(r, "s2", 'UID SEARCH BODY "ZAŻÓŁĆ"')[0], "* SEARCH 1")
        self.assertEqual(self.cmd(r, "s3", 'UID SEARCH FROM "zoë"')[0], "* SEARCH 1")
        self.assertEqual(self.cmd(r, "s4", 'UID SEARCH SUBJECT "пока"')[0], "* SEARCH")
        # Section 3: invalid UTF-8 in a quoted string is BAD, and so is a
        # CHARSET once UTF-8 is enabled.
        r.send(b's5 SEARCH SUBJECT "\xd0"\r\n')
        self.assertTrue(r.until_tagged("s5")[-1].startswith("s5 BAD"))
        self.assertTrue(self.cmd(r, "s6", "SEARCH CHARSET UTF-8 ALL")[-1].startswith("s6 BAD"))
        r.send(b'c2 CREATE "bad\xff name"\r\n')
        self.assertTrue(r.until_tagged("c2")[-1].startswith("c2 BAD"))
        text = "\n".join(self.cmd(r, "f", "FETCH 1 (ENVELOPE BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
        self.assertIn("Привет, świat", text)
        self.assertIn("Zoë Ünal", text)
        self.assertIn("Łukasz", text)
        self.assertEqual(self.cmd(r, "o", "SORT (SUBJECT) UTF-8 ALL")[0], "* SORT 1")

        # A client that did not enable UTF-8 gets modified UTF-7 names.
        old = self.login(enable=False)
        lines = self.cmd(old, "l", 'LIST "" "*"')
        self.assertIn('* LIST (\\HasChildren) "/" "&BB8EQAQ4BDIENQRC-"', lines)
        self.assertIn('* LIST (\\HasNoChildren) "/" "&BB8EQAQ4BDIENQRC-/&AVo-wiat"', lines)
        # and it may still search with a CHARSET
        self.cmd(old, "s", 'SELECT "&BB8EQAQ4BDIENQRC-/&AVo-wiat"')
        lines = self.cmd(old, "s2", "SEARCH CHARSET UTF-8 SUBJECT {6+}\r\nпри")
        self.assertEqual(lines[0], "* SEARCH 1")

    def test_utf8_append_item_syntax(self):
        r = self.login()
        self.assertTrue(self.cmd(r, "b", "APPEND INBOX UTF8 ()")[-1].startswith("b BAD"))
        self.assertTrue(self.cmd(r, "b2", 'APPEND INBOX UTF8 ("x")')[-1].startswith("b2 BAD"))
