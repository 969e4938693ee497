"""test_memory_budget.py: issue 17's memory budgets (docs/CONFIG.md).

- Before login (a few KiB per connection): IMAP lines of at most
  imap.max_line_before_login (32k, ID's largest; 64k before), and at most 16 KiB of input
  buffered (net's 256 KiB before), so what a client pipelines during its
  LOGIN check waits in the kernel, not in the server.
- Per session: imap.max_session_memory bounds a command's working sets.
  Each SEARCH key allocated a set as large as its candidates: 500 times
  "NOT DRAFT" over 100,000 messages took the server from 12 MB to 303 MB.
- Server-wide: over limits.max_memory every protocol refuses new
  connections with its temporary error, and IMAP answers big commands NO
  [UNAVAILABLE]; when memory is back, so is service.
"""
import os
import re
import signal
import socket
import time
import unittest

from harness import TERN, TernServer
from test_imap_literals import PeakSampler, rss_anon_kib
from test_query_pool import WRITER, Client, fill

SANITIZED = "asan" in TERN or "tsan" in TERN


def greeting(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        return s.makefile("rb").readline().decode()


class BeforeLoginTest(unittest.TestCase):
    CONFIG = "[limits]\nmax_connections_per_ip = 0\n[auth]\nfail_delay = 0\n"

    @classmethod
    def setUpClass(cls):
        cls.server = TernServer(cls.CONFIG).start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        log = cls.server.read_log()
        cls.server.cleanup()
        if rc != 0:
            raise AssertionError(f"tern serve exited {rc}:\n{log[-6000:]}")

    def test_line_over_32k_before_login_is_too_long(self):
        c = socket.create_connection(("127.0.0.1", self.server.imap_port), timeout=10)
        f = c.makefile("rb")
        f.readline()
        c.sendall(b"a LOGIN " + b"x" * 40000 + b" pw\r\n")
        self.assertEqual(f.readline(), b"a BAD Line too long\r\n")
        # The session goes on; after login the line may be as long as max_line.
        c.sendall(f"b LOGIN {self.server.user} {self.server.password}\r\n".encode())
        self.assertTrue(f.readline().startswith(b"b OK"))
        c.sendall(b"c SELECT " + b"x" * 40000 + b"\r\n")
        self.assertIn(b"[NONEXISTENT]", f.readline())
        c.close()

    @unittest.skipIf(SANITIZED, "ASan's quarantine and shadow memory make RSS meaningless")
    def test_connections_before_login_cost_a_few_kib(self):
        """200 connections, each with 32,000 bytes of an unfinished LOGIN line
        (just under imap.max_line_before_login) and 64 KiB more pipelined
        behind it: each costs the server its line and 16 KiB of buffered
        input at most (64 KiB + 256 KiB could be held before)."""
        pid = self.server.proc.pid
        before = rss_anon_kib(pid)
        conns = []
        for i in range(200):
            c = socket.create_connection(("127.0.0.1", self.server.imap_port), timeout=10)
            c.makefile("rb").readline()
            c.sendall(b"a LOGIN " + b"u" * 31990)
            conns.append(c)
        for c in conns:
            c.setblocking(False)
            try:
                c.send(b"x" * 65536)  # a partial line: no CRLF anywhere
            except BlockingIOError:
                pass
        time.sleep(1)
        grown = rss_anon_kib(pid) - before
        print(f"\n  200 connections before login: +{grown} KiB RssAnon, "
              f"{grown / 200:.1f} KiB each")
        for c in conns:
            c.close()
        self.assertLess(grown / 200, 64)


@unittest.skipUnless(os.path.exists(WRITER), "build store_writer first (make unit-bins)")
class SessionBudgetTest(unittest.TestCase):
    CONFIG = "[imap]\nmax_session_memory = 4m\n[auth]\nfail_delay = 0\n"
    MESSAGES = 20_000

    @classmethod
    def setUpClass(cls):
        cls.server = TernServer(cls.CONFIG)
        fill(cls.server, cls.MESSAGES)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        log = cls.server.read_log()
        cls.server.cleanup()
        if rc != 0:
            raise AssertionError(f"tern serve exited {rc}:\n{log[-6000:]}")

    def test_search_over_the_session_budget_is_no_limit(self):
        c = Client(self.server.imap_port, self.server.user, self.server.password)
        c.cmd("s", "SELECT INBOX")
        # 20,000 UIDs are 80 KB a set; 300 sets are 24 MB, over 4m.
        sampler = PeakSampler(self.server.proc.pid)
        before = rss_anon_kib(self.server.proc.pid)
        sampler.start()
        c.send("c SEARCH RETURN (COUNT) " + " ".join(["NOT DRAFT"] * 300))
        reply = c.tagged("c")[-1]
        peak = sampler.stop()
        self.assertTrue(reply.startswith(b"c NO [LIMIT]"), reply)
        if not SANITIZED:
            print(f"\n  refused SEARCH: RssAnon {before} -> peak {peak} KiB")
            self.assertLess(peak - before, 12 * 1024)
        # Within the budget the same search works.
        lines = c.cmd("d", "SEARCH RETURN (COUNT) " + " ".join(["NOT DRAFT"] * 10))
        self.assertIn(b"COUNT %d" % self.MESSAGES, lines[0])
        c.close()


class ServerBudgetTest(unittest.TestCase):
    """limits.max_memory set below what the server uses (by SIGHUP), then
    lifted again."""

    def setUp(self):
        self.server = TernServer("[auth]\nfail_delay = 0\n").start()
        self.conf = os.path.join(self.server.dir, "tern.conf")
        with open(self.conf) as f:
            self.original = f.read()

    def tearDown(self):
        rc = self.server.stop()
        log = self.server.read_log()
        self.server.cleanup()
        if rc != 0:
            raise AssertionError(f"tern serve exited {rc}:\n{log[-6000:]}")

    def reload(self, extra):
        with open(self.conf, "w") as f:
            f.write(self.original + "\n" + extra + "\n")
        n = self.server.read_log().count("event=reloaded")
        self.server.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while self.server.read_log().count("event=reloaded") == n:
            self.assertLess(time.monotonic(), deadline, self.server.read_log()[-2000:])
            time.sleep(0.05)

    def test_over_budget_refuses_with_temporary_errors_then_recovers(self):
        base = self.server.base
        c = Client(self.server.imap_port, self.server.user, self.server.password)
        c.cmd("s", "SELECT INBOX")
        self.reload("[limits]\nmax_memory = 1m")
        self.assertEqual(greeting(base + 143),
                         "* BYE [UNAVAILABLE] Server short of memory, try again later\r\n")
        self.assertEqual(greeting(base + 110),
                         "-ERR [SYS/TEMP] Server short of memory, try again later\r\n")
        self.assertEqual(greeting(base + 25), "421 4.3.2 Server short of memory, try again later\r\n")
        self.assertEqual(greeting(base + 587),
                         "421 4.3.2 Server short of memory, try again later\r\n")
        self.assertEqual(greeting(base + 80), "HTTP/1.1 503 Service Unavailable\r\n")
        # A logged-in session stays; its big commands wait, small ones run.
        c.send("b SEARCH ALL")
        self.assertEqual(c.tagged("b")[-1],
                         b"b NO [UNAVAILABLE] Server short of memory, try again later\r\n")
        c.cmd("n", "NOOP")
        self.assertIn("event=memory-short", self.server.read_log())
        self.assertIn("event=refused reason=memory", self.server.read_log())
        self.reload("")
        self.assertTrue(greeting(base + 143).startswith("* OK"))
        self.assertTrue(greeting(base + 110).startswith("+OK"))
        c.cmd("b2", "SEARCH ALL")
        c.close()


def index_db_mapped(pid):
    with open(f"/proc/{pid}/maps") as f:
        return any(line.rstrip().endswith("/index.db") for line in f)


class SqliteMmapTest(unittest.TestCase):
    """store.sqlite_mmap: by default (0) the connections read index.db into
    their page caches and nothing of it is mapped; with a size they map it
    (PRAGMA mmap_size); both answer the same."""

    def session(self, config):
        server = TernServer("[auth]\nfail_delay = 0\n" + config)
        fill(server, 2000)
        server.start()
        try:
            c = Client(server.imap_port, server.user, server.password)
            c.cmd("s", "SELECT INBOX")
            fetched = c.cmd("f", "FETCH 1:* (FLAGS ENVELOPE)")
            found = c.cmd("t", "SEARCH BODY nomatchanywhere")
            mapped = index_db_mapped(server.proc.pid)
            c.close()
        finally:
            rc = server.stop()
            log = server.read_log()
            server.cleanup()
            if rc != 0:
                raise AssertionError(f"tern serve exited {rc}:\n{log[-6000:]}")
        return mapped, sum(1 for x in fetched if b" FETCH (" in x), found

    def test_default_maps_nothing_of_index_db_a_size_maps_it(self):
        mapped, fetched, found = self.session("")
        self.assertFalse(mapped)
        self.assertEqual(fetched, 2000)
        mapped256, fetched256, found256 = self.session("[store]\nsqlite_mmap = 256m\n")
        self.assertTrue(mapped256)
        self.assertEqual((fetched256, found256), (fetched, found))


if __name__ == "__main__":
    unittest.main()
