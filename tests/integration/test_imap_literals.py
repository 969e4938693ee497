"""test_imap_literals.py: literals never cost memory ahead of their bytes.

APPEND's messages stream into spool files as they arrive (a 50 MB APPEND
must not grow the server by anything like 50 MB), other literals are kept
within a per-command budget, and before login a command may carry only a
few KiB of literals (LOGIN needs no more), whatever size it announces.
"""
import hashlib
import imaplib
import os
import re
import threading
import time
import unittest

from harness import TERN, Raw, ServerTestCase

SANITIZED = "asan" in TERN  # ASan's quarantine keeps freed memory: no RSS figures


def rss_anon_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


class PeakSampler(threading.Thread):
    """Samples the server's anonymous RSS until stopped; keeps the peak."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, rss_anon_kib(self.pid))
            time.sleep(0.01)

    def stop(self):
        self.running = False
        self.join()
        return self.peak


def login(server):
    r = Raw(server.imap_port)
    r.line()
    assert r.cmd("a", f"LOGIN {server.user} {server.password}")[-1].startswith("a OK")
    return r


class AppendStreamsTest(ServerTestCase):
    def test_50mb_append_is_streamed_not_buffered(self):
        size = 50 * 1024 * 1024
        line = b"x" * 78 + b"\r\n"
        body = b"Subject: big\r\n\r\n" + line * ((size - 16) // 80)
        body += b"y" * (size - len(body))
        r = login(self.server)
        before = rss_anon_kib(self.server.proc.pid)
        sampler = PeakSampler(self.server.proc.pid)
        sampler.start()
        r.send(f"b APPEND INBOX {{{len(body)}}}\r\n")
        self.assertTrue(r.line().startswith("+ "))
        for i in range(0, len(body), 1 << 20):
            r.send(body[i:i + (1 << 20)])
        r.send(b"\r\n")
        reply = r.until_tagged("b")[-1]
        peak = sampler.stop()
        self.assertRegex(reply, r"^b OK \[APPENDUID \d+ \d+\]")
        uid = re.search(r"APPENDUID \d+ (\d+)", reply).group(1)
        if not SANITIZED:
            # The whole message went by; the server grew by a fraction of it.
            self.assertLess(peak - before, 8 * 1024, f"peak {peak} KiB, before {before} KiB")
        # Read back byte for byte.
        c = imaplib.IMAP4("127.0.0.1", self.server.imap_port)
        c.login(self.server.user, self.server.password)
        c.select("INBOX")
        typ, data = c.uid("FETCH", uid, "(BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        self.assertEqual(hashlib.sha256(data[0][1]).hexdigest(), hashlib.sha256(body).hexdigest())
        c.logout()
        r.close()

    def test_multiappend_streams_every_message(self):
        r = login(self.server)
        msgs = [b"Subject: m%d\r\n\r\n" % i + b"z" * (100000 * (i + 1)) + b"\r\n"
                for i in range(3)]
        r.send(f"c APPEND INBOX (\\Seen) {{{len(msgs[0])}+}}\r\n".encode() + msgs[0] +
               f" {{{len(msgs[1])}+}}\r\n".encode() + msgs[1] +
               f" ~{{{len(msgs[2])}+}}\r\n".encode() + msgs[2] + b"\r\n")
        reply = r.until_tagged("c")[-1]
        self.assertRegex(reply, r"^c OK \[APPENDUID \d+ \d+:\d+\]")
        r.close()

    def test_too_big_message_is_refused_and_the_session_goes_on(self):
        r = login(self.server)
        # Over imap.max_literal (64m): a sync literal is refused before "+".
        r.send(b"d APPEND INBOX {100000000}\r\n")
        self.assertRegex(r.line(), r"^d BAD \[TOOBIG\]")
        self.assertTrue(r.cmd("e", "NOOP")[-1].startswith("e OK"))
        r.close()

    def test_plain_literal_with_nul_is_refused(self):
        r = login(self.server)
        msg = b"Subject: nul\r\n\r\na\x00b\r\n"
        r.send(f"f APPEND INBOX {{{len(msg)}+}}\r\n".encode() + msg + b"\r\n")
        self.assertRegex(r.until_tagged("f")[-1], r"^f NO .*NUL")
        r.close()

    def test_client_that_leaves_mid_append_leaves_no_spool(self):
        fds = os.path.join("/proc", str(self.server.proc.pid), "fd")
        r = login(self.server)
        time.sleep(0.2)
        before = len(os.listdir(fds))
        r.send(b"g APPEND INBOX {500000+}\r\n" + b"q" * 200000)
        time.sleep(0.3)
        during = len(os.listdir(fds))
        r.close()
        time.sleep(0.5)
        after = len(os.listdir(fds))
        self.assertGreater(during, before)  # the spool file (and nothing else new)
        self.assertLessEqual(after, before - 1)  # the connection and the spool are gone


class LiteralBudgetTest(ServerTestCase):
    CONFIG = "[auth]\nfail_delay = 0\n[imap]\nmax_command_literals = 64k\n"

    def test_before_login_a_big_literal_is_refused_before_its_bytes(self):
        r = Raw(self.server.imap_port)
        r.line()
        r.send(b"a LOGIN {67108864}\r\n")
        self.assertRegex(r.line(), r"^a BAD \[TOOBIG\]")
        # Non-synchronising: the announced bytes are skipped, the session goes on.
        r.send(b"b ID ({20000+}\r\n" + b"i" * 20000 + b")\r\n")
        self.assertRegex(r.line(), r"^b BAD \[TOOBIG\]")
        self.assertTrue(r.cmd("c", "NOOP")[-1].startswith("c OK"))
        r.close()

    def test_many_literals_count_together(self):
        r = Raw(self.server.imap_port)
        r.line()
        # Each is small; together they pass the 8k before-login budget.
        parts = b"".join(b" {3000+}\r\n" + b"k" * 3000 for _ in range(4))
        r.send(b"d ID (" + parts[1:] + b")\r\n")
        self.assertRegex(r.line(), r"^d BAD \[TOOBIG\]")
        r.close()

    def test_after_login_literals_have_a_per_command_budget(self):
        r = login(self.server)
        r.send(b"e STATUS {70000+}\r\n" + b"t" * 70000 + b" (MESSAGES)\r\n")
        self.assertRegex(r.line(), r"^e BAD \[TOOBIG\]")
        r.send(b"f STATUS {5}\r\n")
        self.assertTrue(r.line().startswith("+ "))
        r.send(b"INBOX (MESSAGES)\r\n")
        self.assertTrue(r.until_tagged("f")[-1].startswith("f OK"))
        r.close()


if __name__ == "__main__":
    unittest.main()
