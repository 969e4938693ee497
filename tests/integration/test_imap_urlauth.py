"""URLAUTH (RFC 4467) and URLAUTH=BINARY (RFC 5524): GENURLAUTH, URLFETCH
(plain and with BINARY / BODYPARTSTRUCTURE), RESETKEY, and who may fetch:
the access of the URL, its verifier, its expiry."""
import re

from harness import ServerTestCase
from test_imap_mailbox import Session, new_account

MSG = (b"From: a@example.org\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
       b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
       b"--b\r\nContent-Type: text/plain\r\n\r\nplain part\r\n"
       b"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
       b"AAEC/w==\r\n--b--\r\n")


class UrlauthTest(ServerTestCase):
    def setUp(self):
        base = self._testMethodName[:30]
        self.addr, self.pw = new_account(self.server, f"{base}@localhost")
        self.other, self.opw = new_account(self.server, f"{base}.o@localhost")
        self.s = Session(self.server, self.addr, self.pw)
        self.s.append("INBOX", MSG)
        self.base = "imap://" + self.addr.replace("@", "%40") + "@localhost/INBOX/;UID=1"

    def tearDown(self):
        self.s.close()

    def gen(self, rump, s=None):
        lines = (s or self.s).ok(f'GENURLAUTH "{rump}" INTERNAL')
        return re.match(r'^\* GENURLAUTH "([^"]+)"$', lines[0]).group(1)

    def fetch_raw(self, s, args):
        tag = s.tag()
        s.send(f"{tag} URLFETCH {args}\r\n")
        data = b""
        while not re.search(rb"\r\n" + tag.encode() + rb" [^\r\n]*\r\n$", data):
            data += s.sock.recv(1 << 16)
        return data

    def test_generate_and_fetch(self):
        self.assertIn("URLAUTH=BINARY", self.s.ok("CAPABILITY")[0])
        url = self.gen(self.base + ";URLAUTH=user+" + self.addr)
        self.assertTrue(url.startswith(self.base + ";URLAUTH=user+" + self.addr + ":INTERNAL:"))
        data = self.fetch_raw(self.s, f'"{url}"')
        self.assertIn(f'* URLFETCH "{url}" {{{len(MSG)}}}\r\n'.encode() + MSG, data)
        # A part, and the same with the extended options (RFC 5524).
        url = self.gen(self.base + "/;SECTION=2;URLAUTH=user+" + self.addr)
        data = self.fetch_raw(self.s, f'("{url}" BINARY BODYPARTSTRUCTURE)')
        self.assertIn(b'(BODYPARTSTRUCTURE ("application" "octet-stream" NIL NIL NIL "base64" 4 ',
                      data)
        self.assertIn(b"BINARY ~{4}\r\n\x00\x01\x02\xff)", data)
        data = self.fetch_raw(self.s, f'("{url}" BODY)')
        self.assertIn(b"(BODY {8}\r\nAAEC/w==)", data)

    def test_access_and_verifier(self):
        other = Session(self.server, self.other, self.opw)
        mine = self.gen(self.base + ";URLAUTH=user+" + self.addr)
        anyone = self.gen(self.base + ";URLAUTH=authuser")
        # user+<me> is for me only; authuser for any user of this server.
        self.assertIn(f'"{mine}" NIL'.encode(), self.fetch_raw(other, f'"{mine}"'))
        self.assertIn(b"Subject: s", self.fetch_raw(other, f'"{anyone}"'))
        # A changed verifier, a changed rump, an expired URL: NIL.
        bad = anyone[:-1] + ("0" if anyone[-1] != "0" else "1")
        self.assertIn(b" NIL", self.fetch_raw(other, f'"{bad}"'))
        moved = anyone.replace(";UID=1", ";UID=2")
        self.assertIn(b" NIL", self.fetch_raw(other, f'"{moved}"'))
        old = self.gen(self.base + ";EXPIRE=2000-01-01T00:00:00Z;URLAUTH=authuser")
        self.assertIn(b" NIL", self.fetch_raw(other, f'"{old}"'))
        later = self.gen(self.base + ";EXPIRE=2100-01-01T00:00:00Z;URLAUTH=authuser")
        self.assertIn(b"Subject: s", self.fetch_raw(other, f'"{later}"'))
        # RESETKEY revokes every URL of the mailbox at once.
        self.s.ok("RESETKEY INBOX INTERNAL")
        self.assertIn(b" NIL", self.fetch_raw(other, f'"{anyone}"'))
        fresh = self.gen(self.base + ";URLAUTH=authuser")
        self.assertIn(b"Subject: s", self.fetch_raw(other, f'"{fresh}"'))
        self.s.ok("RESETKEY")
        self.assertIn(b" NIL", self.fetch_raw(other, f'"{fresh}"'))
        other.close()

    def test_refusals(self):
        self.assertIn("NO", self.s.do(f'GENURLAUTH "{self.base};URLAUTH=authuser" FOO')[-1])
        theirs = "imap://" + self.other.replace("@", "%40") + "@localhost/INBOX/;UID=1;URLAUTH=authuser"
        self.assertIn("NO [BADURL", self.s.do(f'GENURLAUTH "{theirs}" INTERNAL')[-1])
        self.assertIn("NO [BADURL", self.s.do(
            f'GENURLAUTH "{self.base.replace("INBOX", "Nope")};URLAUTH=authuser" INTERNAL')[-1])
        for bad in (f'"{self.base}" INTERNAL', f'"{self.base};URLAUTH=authuser"',
                    f'"/INBOX/;UID=1;URLAUTH=authuser" INTERNAL'):
            self.assertIn("BAD", self.s.do(f"GENURLAUTH {bad}")[-1], bad)
        self.assertIn("BAD", self.s.do("RESETKEY INBOX FOO")[-1])
        self.assertIn("BAD", self.s.do('URLFETCH ("x" FOO)')[-1])
        self.assertIn(b'"junk" NIL', self.fetch_raw(self.s, '"junk"'))
