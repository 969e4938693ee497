"""test_imap_compress.py: COMPRESS=DEFLATE (RFC 4978) on a real server.

imaplib has no COMPRESS, so the client here is a raw socket with Python's
zlib (raw DEFLATE, wbits -15, a sync flush after each command, as clients
do). Covered: the RFC's examples and errors (BAD for an unknown algorithm
or a second COMPRESS, not before login), a command pipelined right after
COMPRESS, COMPRESS above TLS (port 993 and STARTTLS), a multi-megabyte FETCH
that must arrive whole, a corrupt stream (connection closed, server fine),
a small compressed bomb (decoded within the read limit), IDLE across the
parking of both zlib states, and a real client (mbsync's UseCompression, if
the installed isync has it).
"""
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import zlib

from harness import Raw, ServerTestCase, client_ssl_context


class ZRaw:
    """An IMAP connection that compresses after COMPRESS DEFLATE."""

    def __init__(self, sock, buf=b""):
        self.sock = sock
        self.z_out = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.z_in = zlib.decompressobj(-15)
        self.buf = self.z_in.decompress(buf) if buf else b""
        self.wire_in = 0

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(self.z_out.compress(data) + self.z_out.flush(zlib.Z_SYNC_FLUSH))

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed; have %r" % self.buf[-200:])
        self.wire_in += len(chunk)
        self.buf += self.z_in.decompress(chunk)

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode(errors="replace")

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def until_tagged(self, tag):
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if line.startswith(tag + " "):
                return lines

    def cmd(self, tag, text):
        self.send(f"{tag} {text}\r\n")
        return self.until_tagged(tag)


def start_compress(r, tag="z"):
    """Sends COMPRESS on a Raw connection; returns the ZRaw that follows."""
    r.send(f"{tag} COMPRESS DEFLATE\r\n")
    # The tagged OK is the last uncompressed line; what follows it in the
    # buffer is already compressed.
    while b"\r\n" not in r.buf:
        r.buf += r.sock.recv(65536)
    line, rest = r.buf.split(b"\r\n", 1)
    assert line.startswith(tag.encode() + b" OK"), line
    return ZRaw(r.sock, rest)


class CompressTest(ServerTestCase):
    def login(self, tls=False, port=None):
        r = Raw(port or self.server.imap_port, tls=tls)
        r.line()
        self.assertTrue(r.cmd("a", f"LOGIN {self.server.user} {self.server.password}")[-1]
                        .startswith("a OK"))
        return r

    def append(self, z, body, tag="ap", mailbox="INBOX"):
        z.send(f"{tag} APPEND {mailbox} {{{len(body)}+}}\r\n".encode() + body + b"\r\n")
        lines = z.until_tagged(tag)
        self.assertTrue(lines[-1].startswith(f"{tag} OK"), lines)

    def test_capability_after_login_only(self):
        r = Raw(self.server.imap_port)
        greeting = r.line()
        self.assertNotIn("COMPRESS=DEFLATE", greeting)
        lines = r.cmd("b", "COMPRESS DEFLATE")
        self.assertTrue(lines[-1].startswith("b BAD"), lines)
        lines = r.cmd("a", f"LOGIN {self.server.user} {self.server.password}")
        caps = r.cmd("c", "CAPABILITY")[0]
        self.assertIn(" COMPRESS=DEFLATE", caps)

    def test_errors(self):
        r = self.login()
        self.assertTrue(r.cmd("b", "COMPRESS GZIP")[-1].startswith("b BAD"))
        self.assertTrue(r.cmd("c", "COMPRESS")[-1].startswith("c BAD"))
        self.assertTrue(r.cmd("d", "COMPRESS DEFLATE DEFLATE")[-1].startswith("d BAD"))
        z = start_compress(r)
        # Section 3: BAD when COMPRESS is already active; still compressed.
        lines = z.cmd("e", "COMPRESS DEFLATE")
        self.assertTrue(lines[-1].startswith("e BAD"), lines)
        self.assertTrue(z.cmd("f", "NOOP")[-1].startswith("f OK"))
        z.send("g LOGOUT\r\n")
        self.assertEqual(z.until_tagged("g")[-1], "g OK LOGOUT completed")

    def test_session_and_pipelined_command(self):
        r = self.login()
        # RFC 4978 says the client waits for the OK; a client that sends its
        # first compressed command in the same packet must still be heard.
        zc = zlib.compressobj(6, zlib.DEFLATED, -15)
        first = zc.compress(b"p1 SELECT INBOX\r\n") + zc.flush(zlib.Z_SYNC_FLUSH)
        r.send(b"z COMPRESS DEFLATE\r\n" + first)
        while b"\r\n" not in r.buf:
            r.buf += r.sock.recv(65536)
        line, rest = r.buf.split(b"\r\n", 1)
        self.assertEqual(line, b"z OK DEFLATE active")
        z = ZRaw(r.sock, rest)
        z.z_out = zc
        lines = z.until_tagged("p1")
        self.assertTrue(lines[-1].startswith("p1 OK"), lines)
        self.append(z, b"Subject: compressed\r\n\r\nhello over deflate\r\n")
        lines = z.cmd("f", "FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertTrue(any("Subject: compressed" in l for l in lines), lines)
        z.send("l LOGOUT\r\n")
        lines = z.until_tagged("l")
        self.assertTrue(lines[0].startswith("* BYE"), lines)

    def test_large_fetch_arrives_whole(self):
        r = self.login()
        z = start_compress(r)
        z.cmd("c", "CREATE big")
        self.assertTrue(z.cmd("s", "SELECT big")[-1].startswith("s OK"))
        # 3 MB of text that does not compress to nothing: the filter must
        # keep going while the output queue is full and flush the end.
        import random
        rnd = random.Random(7)
        words = [("".join(rnd.choice("abcdefghij") for _ in range(rnd.randint(2, 9))))
                 for _ in range(5000)]
        body = b"Subject: big\r\n\r\n" + b"".join(
            (" ".join(rnd.choice(words) for _ in range(12)) + "\r\n").encode()
            for _ in range(40000))
        self.append(z, body, mailbox="big")
        z.send("f FETCH 1 BODY.PEEK[]\r\n")
        head = z.line()
        self.assertTrue(head.endswith("{%d}" % len(body)), head)
        self.assertEqual(z.read_exact(len(body)), body)
        rest = z.until_tagged("f")
        self.assertTrue(rest[-1].startswith("f OK"), rest)
        self.assertLess(z.wire_in, len(body) * 0.7)  # it was compressed
        z.cmd("d", "DELETE big")

    def test_above_implicit_tls_and_starttls(self):
        r = self.login(tls=True, port=self.server.imaps_port)
        z = start_compress(r)
        self.assertTrue(z.cmd("n", "NOOP")[-1].startswith("n OK"))
        self.assertTrue(z.cmd("s", "STATUS INBOX (MESSAGES)")[-1].startswith("s OK"))
        r2 = Raw(self.server.imap_port)
        r2.line()
        self.assertTrue(r2.cmd("t", "STARTTLS")[-1].startswith("t OK"))
        r2.starttls()
        self.assertTrue(r2.cmd("a", f"LOGIN {self.server.user} {self.server.password}")[-1]
                        .startswith("a OK"))
        z2 = start_compress(r2)
        self.assertTrue(z2.cmd("l", "LIST \"\" *")[-1].startswith("l OK"))
        z2.send("o LOGOUT\r\n")
        z2.until_tagged("o")

    def test_corrupt_stream_closes_connection(self):
        r = self.login()
        start_compress(r)
        r.send(b"\xff\xff\xff\xff garbage that is not deflate")
        r.sock.settimeout(5)
        closed = False
        try:
            while True:
                if not r.sock.recv(65536):
                    closed = True
                    break
        except (ConnectionResetError, socket.timeout):
            closed = True
        self.assertTrue(closed)
        # The server goes on serving others.
        r2 = self.login()
        self.assertTrue(r2.cmd("n", "NOOP")[-1].startswith("n OK"))

    def test_compressed_bomb_is_bounded(self):
        r = self.login()
        z = start_compress(r)
        # 64 MB of one byte, about 64 KB on the wire: a line far over
        # imap.max_line. The server must drop it as it streams (never hold
        # it inflated) and answer one BAD, then carry on.
        chunk = b"A" * (1024 * 1024)
        data = z.z_out.compress(b"x NOOP ")
        for _ in range(64):
            data += z.z_out.compress(chunk)
        data += z.z_out.compress(b"\r\n") + z.z_out.flush(zlib.Z_SYNC_FLUSH)
        self.assertLess(len(data), 200 * 1024)
        z.sock.sendall(data)
        line = z.line()
        self.assertIn("BAD", line)
        self.assertTrue(z.cmd("n", "NOOP")[-1].startswith("n OK"))

    def test_idle_across_parking(self):
        r = self.login()
        z = start_compress(r)
        self.assertTrue(z.cmd("s", "SELECT INBOX")[-1].startswith("s OK"))
        z.send("i IDLE\r\n")
        self.assertTrue(z.line().startswith("+"))
        # Longer than the filter's PARK_MS (2 s): both zlib states are
        # parked, and what comes next must decode against the histories.
        time.sleep(2.5)
        other = self.login()
        msg = b"Subject: while idle\r\n\r\nping\r\n"
        other.send(f"ap APPEND INBOX {{{len(msg)}+}}\r\n".encode() + msg + b"\r\n")
        other.until_tagged("ap")
        deadline = time.monotonic() + 5
        got = []
        while time.monotonic() < deadline:
            got.append(z.line())
            if "EXISTS" in got[-1]:
                break
        self.assertTrue(any("EXISTS" in l for l in got), got)
        time.sleep(2.5)
        z.send("DONE\r\n")
        self.assertTrue(z.until_tagged("i")[-1].startswith("i OK"))
        lines = z.cmd("f", "FETCH * (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertTrue(any("while idle" in l for l in lines), lines)


class StackedTimeoutTest(ServerTestCase):
    """A stacked filter (STARTTLS, COMPRESS) takes over the connection's
    timeouts: the login timeout left on the socket below must not end a
    session that has logged in since (it did after STARTTLS)."""
    CONFIG = "[auth]\nfail_delay = 200ms\n[imap]\nlogin_timeout = 2s\n"

    def test_starttls_session_outlives_login_timeout(self):
        r = Raw(self.server.imap_port)
        r.line()
        self.assertTrue(r.cmd("t", "STARTTLS")[-1].startswith("t OK"))
        r.starttls()
        self.assertTrue(r.cmd("a", f"LOGIN {self.server.user} {self.server.password}")[-1]
                        .startswith("a OK"))
        time.sleep(3)
        self.assertTrue(r.cmd("n", "NOOP")[-1].startswith("n OK"))

    def test_compressed_session_outlives_login_timeout(self):
        r = Raw(self.server.imap_port)
        r.line()
        self.assertTrue(r.cmd("a", f"LOGIN {self.server.user} {self.server.password}")[-1]
                        .startswith("a OK"))
        z = start_compress(r)
        time.sleep(3)
        self.assertTrue(z.cmd("n", "NOOP")[-1].startswith("n OK"))


@unittest.skipUnless(shutil.which("mbsync"), "mbsync (isync) not installed")
class MbsyncCompressTest(ServerTestCase):
    """A real client: mbsync with UseCompression (isync >= 1.5)."""

    def test_mbsync_sync_over_compress(self):
        version = subprocess.run(["mbsync", "--version"], capture_output=True,
                                 text=True).stdout
        tmp = tempfile.mkdtemp(prefix="tern-mbsync-z-")
        try:
            maildir = os.path.join(tmp, "mail")
            os.makedirs(maildir)
            rc = os.path.join(tmp, "mbsyncrc")
            with open(rc, "w") as f:
                f.write(f"""IMAPAccount tern
Host 127.0.0.1
Port {self.server.imap_port}
User {self.server.user}
Pass {self.server.password}
TLSType None
AuthMechs LOGIN
UseCompression yes

IMAPStore remote
Account tern

MaildirStore local
Path {maildir}/
Inbox {maildir}/INBOX

Channel c
Far :remote:
Near :local:
Patterns INBOX
Create Both
Sync All
SyncState *
""")
            probe = subprocess.run(["mbsync", "-c", rc, "-a"], capture_output=True,
                                   text=True, timeout=60)
            if "UseCompression" in probe.stderr:
                self.skipTest(f"this mbsync has no UseCompression ({version.strip()})")
            self.assertEqual(probe.returncode, 0, probe.stderr)
            log = self.server.read_log()
            self.assertIn("event=compress", log)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
