"""CATENATE (RFC 4469): APPEND messages made of TEXT literals and IMAP URLs
(RFC 5092) to this user's messages and parts, also in MULTIAPPEND; BADURL,
TRYCREATE, and TEXT parts that stream (bigger than any in-memory budget)."""
import re

from harness import ServerTestCase
from test_imap_mailbox import Session, new_account

FIRST = (b"From: a@example.org\r\nSubject: first\r\nMIME-Version: 1.0\r\n"
         b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
         b"--b\r\nContent-Type: text/plain\r\n\r\npart one\r\n"
         b"--b\r\nContent-Type: text/plain\r\n\r\npart two\r\n--b--\r\n")


class CatenateTest(ServerTestCase):
    def setUp(self):
        self.addr, self.pw = new_account(self.server, f"{self._testMethodName[:40]}@localhost")
        self.s = Session(self.server, self.addr, self.pw)
        self.s.append("INBOX", FIRST)
        self.uv = int(re.search(r"UIDVALIDITY (\d+)",
                                self.s.ok("STATUS INBOX (UIDVALIDITY)")[0]).group(1))
        self.s.ok("CREATE Out")

    def tearDown(self):
        self.s.close()

    def append(self, text):
        """APPEND with literals given as b"{...}" placeholders: each bytes
        object in text (a list) is sent as a non-synchronising literal."""
        tag = self.s.tag()
        data = f"{tag} APPEND ".encode()
        for piece in text:
            if isinstance(piece, bytes):
                data += b"{%d+}\r\n" % len(piece) + piece
            else:
                data += piece.encode()
        self.s.send(data + b"\r\n")
        return self.s.until_tagged(tag)

    def body(self, seq):
        tag = self.s.tag()
        self.s.send(f"{tag} FETCH {seq} BODY.PEEK[]\r\n")
        data = b""
        while not re.search(rb"\r\n" + tag.encode() + rb" [^\r\n]*\r\n$", data):
            data += self.s.sock.recv(1 << 20)
        m = re.search(rb"BODY\[\] \{(\d+)\}\r\n", data)
        return data[m.end():m.end() + int(m.group(1))]

    def test_text_and_urls(self):
        lines = self.append(["Out CATENATE (TEXT ", b"Subject: new\r\n\r\n",
                             ' URL "/INBOX/;UID=1/;SECTION=1" TEXT ', b"\r\n--\r\n",
                             f' URL "/INBOX;UIDVALIDITY={self.uv}/;UID=1/;SECTION=2/;PARTIAL=5.3"'
                             ' URL "imap://' + self.addr.replace("@", "%40") +
                             '@localhost/INBOX/;UID=1/;SECTION=HEADER.FIELDS%20(SUBJECT)")'])
        self.assertIn("OK [APPENDUID", lines[-1])
        self.s.ok("SELECT Out")
        self.assertEqual(self.body(1),
                         b"Subject: new\r\n\r\npart one\r\n--\r\ntwoSubject: first\r\n\r\n")

    def test_multiappend_and_whole_message(self):
        lines = self.append(["Out CATENATE (URL \"/INBOX/;UID=1\") (\\Seen) ",
                             b"Subject: plain\r\n\r\nx\r\n",
                             " CATENATE (URL \"/INBOX/;UID=1/;SECTION=HEADER\" TEXT ", b"y\r\n", ")"])
        self.assertRegex(lines[-1], r"OK \[APPENDUID \d+ 1:3\]")
        self.s.ok("SELECT Out")
        self.assertEqual(self.body(1), FIRST)
        self.assertEqual(self.body(3), FIRST.split(b"\r\n\r\n")[0] + b"\r\n\r\ny\r\n")

    def test_big_text_part_streams(self):
        # Over imap.max_command_literals (1 MiB): only a streamed literal fits.
        big = b"Subject: big\r\n\r\n" + b"0123456789abcdef" * 200000
        lines = self.append(["Out CATENATE (TEXT ", big, ' URL "/INBOX/;UID=1/;SECTION=TEXT")'])
        self.assertIn("OK [APPENDUID", lines[-1])
        self.s.ok("SELECT Out")
        self.assertEqual(len(self.body(1)), len(big) + len(FIRST.split(b"\r\n\r\n", 1)[1]))

    def test_bad_urls(self):
        for url in (f"/INBOX;UIDVALIDITY={self.uv + 1}/;UID=1", "/INBOX/;UID=9", "/Nope/;UID=1",
                    "/INBOX/;UID=1/;SECTION=7", "imap://other@localhost/INBOX/;UID=1", "junk"):
            lines = self.append(["Out CATENATE (TEXT ", b"a: b\r\n\r\n", f' URL "{url}")'])
            self.assertIn("NO [BADURL", lines[-1], url)
        # The mailbox is missing: TRYCREATE comes first.
        lines = self.append(["Nope CATENATE (URL \"/INBOX/;UID=9\")"])
        self.assertIn("NO [TRYCREATE]", lines[-1])
        for bad in ("Out CATENATE ()", "Out CATENATE (TEXT)", 'Out CATENATE (URL "/INBOX/;UID=1" TEXT "x")',
                    "Out CATENATE (FOO bar)"):
            self.assertIn("BAD", self.append([bad])[-1], bad)
        self.assertIn("MESSAGES 0", self.s.ok("STATUS Out (MESSAGES)")[0])
