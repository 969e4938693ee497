"""What ImapTest's compliance groups found, kept as our own regressions: one
test per group that failed once (tests/integration/test_imaptest.py runs
ImapTest itself when it is available). Each test names its group and the
RFC rule it checks."""
import base64
import re

from harness import Raw, ServerTestCase
from test_imap_mailbox import Session, new_account


def message(headers, body="body\r\n"):
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode()


class ComplianceTest(ServerTestCase):
    def setUp(self):
        self.addr, self.pw = new_account(self.server, f"{self._testMethodName[:40]}@localhost")
        self.s = Session(self.server, self.addr, self.pw)

    def tearDown(self):
        self.s.close()

    def fill(self, msgs, mailbox="INBOX"):
        for m in msgs:
            self.assertIn("OK", self.s.append(mailbox, m)[-1])

    def search(self, text):
        lines = self.s.ok(text)
        found = [l for l in lines if l.startswith("* SEARCH") or l.startswith("* SORT")]
        self.assertEqual(len(found), 1, lines)
        return [int(x) for x in found[0].split()[2:]]

    def test_atoms(self):
        # '[' is an ATOM-CHAR: no section opens, and the mailbox is just missing.
        name = "!#$&'+,-.0123456789:;<=>?@^_`|[}"
        self.assertEqual(self.s.do(f"SELECT {name}")[-1].split()[1], "NO")
        # Not modified UTF-7, but a pattern may be anything: no match, no error.
        self.assertEqual(self.s.ok(f'LIST "" {name}%*')[:-1], [])
        self.s.ok('CREATE "a&-b"')  # the name "a&b"
        self.assertEqual(self.s.ok('LIST "" a&*')[:-1], ['* LIST (\\HasNoChildren) "/" "a&-b"'])

    def test_search_sets(self):
        self.fill([message(["Subject: x"])] * 3)
        self.s.ok("SELECT INBOX")
        # 4294967295 is the largest nz-number, not '*'.
        self.assertEqual(self.search("UID SEARCH UID 1:4294967295"), [1, 2, 3])
        self.assertEqual(self.search("UID SEARCH UID 4:4294967295"), [])
        self.assertEqual(self.search("UID SEARCH UID 4:*"), [3])

    def test_select(self):
        # EXAMINE reports \Recent messages without claiming them (RFC 3501 6.3.2).
        self.fill([message(["Subject: x"])] * 2)
        lines = self.s.ok("EXAMINE INBOX")
        self.assertIn("* 2 RECENT", lines)
        self.s.ok("CLOSE")
        self.assertIn("RECENT 2", self.s.ok("STATUS INBOX (RECENT)")[0])
        self.assertIn("* 2 RECENT", self.s.ok("SELECT INBOX"))
        self.s.ok("CLOSE")
        self.assertIn("RECENT 0", self.s.ok("STATUS INBOX (RECENT)")[0])

    def test_search_date(self):
        # SENT* compare the Date: field's own calendar date (RFC 9051 6.4.4).
        dates = ["Sat, 24 Mar 2007 23:00:00 +0200",  # 21:00 UTC on the 24th
                 "Sun, 25 Mar 2007 00:00:00 +0200",  # the 24th in UTC
                 "Sun, 25 Mar 2007 23:00:00 +0300",
                 "Mon, 26 Mar 2007 00:00:00 -1100"]  # the 26th 11:00 UTC
        self.fill([message([f"Date: {d}", "Subject: d"]) for d in dates])
        # No Date: INTERNALDATE decides, as for SORT (RFC 5256 2.2).
        tag = self.s.tag()
        m = message(["Subject: undated"])
        self.s.send(f'{tag} APPEND INBOX "25-Mar-2007 12:00:00 +0000" {{{len(m)}+}}\r\n'.encode()
                    + m + b"\r\n")
        self.assertIn("OK", self.s.until_tagged(tag)[-1])
        self.s.ok("SELECT INBOX")
        self.assertEqual(self.search("SEARCH SENTON 24-Mar-2007"), [1])
        self.assertEqual(self.search("SEARCH SENTON 25-Mar-2007"), [2, 3, 5])
        self.assertEqual(self.search("SEARCH SENTON 26-Mar-2007"), [4])
        self.assertEqual(self.search("SEARCH SENTBEFORE 25-Mar-2007"), [1])
        self.assertEqual(self.search("SEARCH SENTSINCE 25-Mar-2007"), [2, 3, 4, 5])
        self.assertEqual(self.search("SEARCH NOT SENTON 25-Mar-2007"), [1, 4])

    def test_sort_addresses(self):
        # FROM/TO/CC sort by the first address's mailbox part only (BASE.6.4.SORT).
        self.fill([message(["From: user2@domain2.org", "To: foo bar <user2@domain2.org>"]),
                   message(["From: user2@domain1.org", "To: user2@domain1.org"]),
                   message(["From: user1@domain1.org", "To: user1@domain1.org"])])
        self.s.ok("SELECT INBOX")
        self.assertEqual(self.search("SORT (FROM) US-ASCII ALL"), [3, 1, 2])
        self.assertEqual(self.search("SORT (TO) US-ASCII ALL"), [3, 1, 2])
        self.assertEqual(self.search("SORT (REVERSE FROM) US-ASCII ALL"), [1, 2, 3])

    def test_sort_subject(self):
        # Base subjects (RFC 5256 2.1) compared as i;ascii-casemap: letters
        # upper-cased, so "[" and "_" sort after them.
        subjects = ["a", "C", "_", "[foo] Fwd: [bar] Re: fw: b (fWd)  (fwd)", "[xyz]",
                    "=?iso-8859-1?q?RE:_C?=", "re: [fwd: [fwd: re: [fwd: babylon]]]",
                    "Ad: Re: x", None]
        self.fill([message([f"Subject: {s}"] if s else ["X: y"]) for s in subjects])
        self.s.ok("SELECT INBOX")
        self.assertEqual(self.search("SORT (SUBJECT) US-ASCII ALL"), [9, 1, 8, 4, 7, 2, 6, 5, 3])

    def test_append_binary(self):
        # A literal8's binary part is stored as base64 (RFC 3516 4.4, 6):
        # BODY[1] stays valid IMAP, BINARY[1] gives the bytes back unchanged.
        raw = b"\x00-\xe4\n\r\n\n"
        msg = (b"From: user@domain.org\r\nMime-Version: 1.0\r\n"
               b"Content-Type: application/octet-stream\r\n"
               b"Content-Transfer-Encoding: binary\r\n\r\n" + raw)
        tag = self.s.tag()
        self.s.send(f"{tag} APPEND INBOX ~{{{len(msg)}+}}\r\n".encode() + msg + b"\r\n")
        self.assertIn("OK [APPENDUID", self.s.until_tagged(tag)[-1])
        self.s.ok("SELECT INBOX")
        tag = self.s.tag()
        self.s.send(f"{tag} FETCH 1 (BODYSTRUCTURE BODY.PEEK[1] BINARY.SIZE[1] BINARY.PEEK[1])\r\n")
        data = b""
        while not re.search(rb"\r\n" + tag.encode() + rb" OK[^\r\n]*\r\n$", data):
            data += self.s.sock.recv(65536)
        self.assertIn(b'"base64"', data)
        body = re.search(rb"BODY\[1\] \{(\d+)\}\r\n", data)
        encoded = data[body.end():body.end() + int(body.group(1))]
        self.assertEqual(base64.b64decode(encoded), raw)
        self.assertIn(b"BINARY.SIZE[1] 7 BINARY[1] ~{7}\r\n" + raw + b")", data)

    def test_fetch_binary_mime(self):
        # BINARY of a message/rfc822 or multipart part is its content, as
        # BODY[n] gives it, and BINARY.SIZE matches.
        inner = (b"Subject: sub\r\nContent-Type: multipart/alternative; boundary=\"s\"\r\n\r\n"
                 b"--s\r\nContent-Type: text/plain\r\n\r\nhello\r\n--s--\r\n")
        encoded = inner.replace(b"\r\n\r\nhello", b"\r\nContent-Transfer-Encoding: base64"
                                b"\r\n\r\naGVsbG8=")
        msg = (b"Subject: top\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: multipart/mixed; boundary=\"t\"\r\n\r\n"
               b"--t\r\nContent-Type: text/plain\r\n\r\nfirst\r\n"
               b"--t\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--t--\r\n")
        self.fill([msg])
        self.s.ok("SELECT INBOX")
        lines = self.s.ok("FETCH 1 (BINARY.SIZE[2] BINARY.PEEK[2] BINARY.SIZE[2.1])")
        joined = "\r\n".join(lines)
        self.assertIn(f"BINARY.SIZE[2] {len(inner)} BINARY[2] {{{len(inner)}}}", joined)
        self.assertIn("BINARY.SIZE[2.1] ", joined)
        self.assertNotIn("BINARY.SIZE[2.1] 0", joined)
        # Encoded parts inside are decoded, their CTE saying binary.
        self.fill([msg.replace(inner, encoded)])
        self.s.ok("NOOP")
        decoded = inner.replace(b"text/plain\r\n", b"text/plain\r\nContent-Transfer-Encoding: binary\r\n")
        lines = self.s.ok("FETCH 2 (BINARY.SIZE[2] BINARY.PEEK[2])")
        joined = "\r\n".join(lines)
        self.assertIn(f"BINARY.SIZE[2] {len(decoded)} BINARY[2] {{{len(decoded)}}}", joined)
        self.assertIn(decoded.decode(), joined + "\r\n")
