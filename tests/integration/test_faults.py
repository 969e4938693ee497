"""test_faults.py: issue 17's fault injection at the protocol level.

The server runs with build/tests/fault_shim.so preloaded (tests/unit/
fault_shim.c): writing a word to a control file makes every write and fsync
of its regular files fail, as a full file system (ENOSPC), a dying disk
(EIO) or a failing fsync would. Meanwhile every protocol must answer with a
clean temporary error (IMAP NO [UNAVAILABLE], POP3 -ERR [SYS/TEMP], SMTP
451 4.3.0), nothing acknowledged may be lost, and service must resume by
itself once the disk is back. SQLite busy: another process holds the
account's index.db write lock past the store's busy timeout (10 s).
A tmpfs that really fills up needs root: `make check-root`
(test_faults_root.py).
"""
import os
import re
import sqlite3
import subprocess
import threading
import time
import unittest

from harness import SAN_ENV, TERN, TernServer, tern
from smtpclient import RawSMTP
from test_query_pool import Client

SHIM = os.path.join(os.path.dirname(TERN), "tests", "fault_shim.so")
BIG = b"Subject: big\r\n\r\n" + b"x" * 200_000 + b"\r\n"  # a blob file, not inline


class FaultServer(TernServer):
    """A TernServer whose process has the shim preloaded."""

    def start(self, wait=True):
        # Inside the data directory: the sandbox (Landlock) lets the server
        # read nothing else of ours.
        self.ctl = os.path.join(self.dir, "fault-control")
        self.set_fault("ok")
        env = dict(SAN_ENV, LD_PRELOAD=SHIM, TERN_FAULT_FILE=self.ctl)
        env["ASAN_OPTIONS"] = env["ASAN_OPTIONS"] + ":verify_asan_link_order=0"
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([TERN, "-d", self.dir, "serve"], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)
        if wait:
            self.wait_ready()
        return self

    def set_fault(self, word):
        with open(self.ctl + ".tmp", "w") as f:
            f.write(word)
        os.rename(self.ctl + ".tmp", self.ctl)
        time.sleep(0.1)  # the shim re-reads it every 20 ms


def imap_append(c, tag, msg, box="INBOX"):
    c.send(f"{tag} APPEND {box} {{{len(msg)}+}}\r\n" + msg.decode())
    return c.tagged(tag)[-1]


def smtp_deliver(server, subject, size=0):
    s = RawSMTP(server.base + 25, timeout=60)
    s.reply()
    s.cmd("EHLO test.example")
    s.cmd("MAIL FROM:<a@example.org>")
    s.cmd(f"RCPT TO:<{server.user}>")
    s.cmd("DATA")
    body = "body\r\n" + ("y" * 76 + "\r\n") * (size // 78)
    code, text, _ = s.cmd(f"Subject: {subject}\r\n\r\n{body}.")
    s.cmd("QUIT")
    s.close()
    return code, text


def pop3_dele_quit(server):
    """DELE 1 then QUIT: the commit of the deletion is what may fail."""
    s = RawSMTP(server.base + 110, timeout=60)  # line-based: the same reader serves
    s.line()
    s.send(f"USER {server.user}\r\n")
    s.line()
    s.send(f"PASS {server.password}\r\n")
    assert s.line().startswith("+OK")
    s.send("DELE 1\r\n")
    assert s.line().startswith("+OK")
    s.send("QUIT\r\n")
    reply = s.line()
    s.close()
    return reply


def subjects(c):
    lines = c.cmd("f", "FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    return sorted(l.decode().strip() for l in lines if l.startswith(b"Subject:"))


@unittest.skipUnless(os.path.exists(SHIM), "build the shim first (make unit-bins)")
class DiskFaultTest(unittest.TestCase):
    def setUp(self):
        self.server = FaultServer("[auth]\nfail_delay = 0\n[delivery]\nenabled = no\n").start()

    def tearDown(self):
        rc = self.server.stop()
        log = self.server.read_log()
        self.server.cleanup()
        if rc != 0:
            raise AssertionError(f"tern serve exited {rc}:\n{log[-6000:]}")

    def check_fault(self, word):
        srv = self.server
        c = Client(srv.imap_port, srv.user, srv.password)
        c.cmd("s", "SELECT INBOX")
        self.assertTrue(imap_append(c, "a1", b"Subject: kept-small\r\n\r\nx\r\n").startswith(b"a1 OK"))
        self.assertTrue(imap_append(c, "a2", BIG.replace(b"big", b"kept-big")).startswith(b"a2 OK"))
        self.assertEqual(smtp_deliver(srv, "kept-smtp")[0], 250)

        srv.set_fault(word)
        # Each protocol: a clean temporary error, the session still usable.
        for tag, msg in (("b1", b"Subject: lost-small\r\n\r\nx\r\n"), ("b2", BIG)):
            reply = imap_append(c, tag, msg)
            self.assertRegex(reply.decode(), rf"^{tag} NO \[(UNAVAILABLE|SERVERBUG)\] ")
        reply = c.cmd("n", "NOOP")[-1]
        self.assertTrue(reply.startswith(b"n OK"))
        c.send("st STORE 1 +FLAGS (\\Flagged)")
        self.assertRegex(c.tagged("st")[-1].decode(), r"^st NO \[(UNAVAILABLE|SERVERBUG)\] ")
        code, text = smtp_deliver(srv, "lost-smtp")
        self.assertEqual(code, 451, text)
        self.assertTrue(text.startswith("4.3.0"), text)
        self.assertTrue(pop3_dele_quit(srv).startswith("-ERR [SYS/TEMP]"))

        srv.set_fault("ok")
        # Nothing acknowledged is lost, nothing refused appears, and service
        # is back without a restart.
        c.cmd("n2", "NOOP")
        self.assertEqual(subjects(c), ["Subject: kept-big", "Subject: kept-small",
                                       "Subject: kept-smtp"])
        self.assertNotIn(b"\\Flagged", b"".join(c.cmd("fl", "FETCH 1 FLAGS")))
        self.assertTrue(imap_append(c, "a3", b"Subject: after\r\n\r\nx\r\n").startswith(b"a3 OK"))
        self.assertEqual(smtp_deliver(srv, "after-smtp")[0], 250)
        self.assertTrue(pop3_dele_quit(srv).startswith("+OK"))
        c.cmd("n3", "NOOP")
        self.assertEqual(len(subjects(c)), 4)  # 3 kept + 2 after - 1 deleted by POP3
        c.close()
        proc = tern("check", data_dir=srv.dir, check=False)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def test_full_disk(self):
        self.check_fault("enospc")

    def test_io_error(self):
        self.check_fault("eio")

    def test_failed_fsync(self):
        self.check_fault("fsync")


class SqliteBusyTest(unittest.TestCase):
    """Another process holds the account's write lock beyond the store's
    busy timeout (10 s): each protocol answers a temporary error, then
    works again once the lock is gone."""

    def test_busy_index_gives_temporary_errors(self):
        srv = TernServer("[auth]\nfail_delay = 0\n[delivery]\nenabled = no\n").start()
        try:
            c = Client(srv.imap_port, srv.user, srv.password)
            c.cmd("s", "SELECT INBOX")
            self.assertTrue(imap_append(c, "a1", b"Subject: kept\r\n\r\nx\r\n").startswith(b"a1 OK"))
            shown = tern("user", "show", srv.user, data_dir=srv.dir).stdout
            account = re.search(r"^id:\s+(\d+)", shown, re.M).group(1)
            db = sqlite3.connect(os.path.join(srv.dir, "accounts", account, "index.db"),
                                 isolation_level=None, timeout=30)
            db.execute("BEGIN IMMEDIATE")
            results = {}
            threads = [
                threading.Thread(target=lambda: results.update(
                    imap=imap_append(c, "b1", b"Subject: lost\r\n\r\nx\r\n"))),
                threading.Thread(target=lambda: results.update(smtp=smtp_deliver(srv, "lost"))),
                threading.Thread(target=lambda: results.update(pop3=pop3_dele_quit(srv))),
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            db.execute("ROLLBACK")
            db.close()
            self.assertRegex(results["imap"].decode(), r"^b1 NO \[(UNAVAILABLE|SERVERBUG|INUSE)\] ")
            self.assertEqual(results["smtp"][0], 451, results["smtp"])
            self.assertTrue(results["pop3"].startswith("-ERR [SYS/TEMP]"), results["pop3"])
            self.assertTrue(imap_append(c, "a2", b"Subject: after\r\n\r\nx\r\n").startswith(b"a2 OK"))
            c.cmd("n", "NOOP")
            self.assertEqual(subjects(c), ["Subject: after", "Subject: kept"])
            c.close()
        finally:
            rc = srv.stop()
            log = srv.read_log()
            srv.cleanup()
        self.assertEqual(rc, 0, log[-4000:])


if __name__ == "__main__":
    unittest.main()
