# SPDX-License-Identifier: MIT
"""Changes another process writes to the store reach live IMAP sessions.

tern serve listens for other processes' commits (store_watch_start():
a datagram per commit to DATA_DIR/store-notify.sock, a data_version sweep
as the safety net). The other process here is build/tests/store_writer
(tests/unit/store_writer.c), which appends, sets flags, expunges and
deletes through the store like a delivery or an admin command would.
Build it first: make unit-bins (it is looked for beside the tern binary).
"""
import os
import re
import subprocess
import time
import unittest

import harness
from harness import Raw, ServerTestCase, tern

WRITER = os.path.join(os.path.dirname(harness.TERN), "tests", "store_writer")
MSG = b"From: a@example.org\r\nSubject: hello\r\n\r\nbody\r\n"


class Session(Raw):
    """A logged-in raw session on implicit TLS."""

    def __init__(self, server, user, password):
        super().__init__(server.imaps_port, tls=True)
        self.line()
        self.n = 0
        lines = self.cmd(self.tag(), f"LOGIN {user} {password}")
        assert " OK " in lines[-1], lines

    def tag(self):
        self.n += 1
        return f"t{self.n}"

    def ok(self, text):
        lines = self.cmd(self.tag(), text)
        assert lines[-1].split(" ", 2)[1] == "OK", (text, lines)
        return lines

    def append(self, mailbox):
        tag = self.tag()
        self.send(f"{tag} APPEND {mailbox} {{{len(MSG)}+}}\r\n".encode() + MSG + b"\r\n")
        return self.until_tagged(tag)

    def idle(self):
        tag = self.tag()
        self.send(f"{tag} IDLE\r\n")
        assert self.line() == "+ idling"
        return tag


@unittest.skipUnless(os.path.exists(WRITER), "build store_writer first (make unit-bins)")
class ExternalWriterTest(ServerTestCase):
    def setUp(self):
        self.addr = f"{self._testMethodName[:40]}@localhost"
        tern("user", "add", self.addr, "--password-stdin", data_dir=self.server.dir,
             input="pw\n")
        shown = tern("user", "show", self.addr, data_dir=self.server.dir).stdout
        self.account = re.search(r"^id:\s+(\d+)", shown, re.M).group(1)
        self.s = Session(self.server, self.addr, "pw")

    def tearDown(self):
        self.s.close()

    def elsewhere(self, *args):
        """Runs store_writer on this account; returns when it has exited."""
        proc = subprocess.run([WRITER, self.server.dir, self.account, *args],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout

    def test_idle_sees_another_process_append_within_a_second(self):
        self.s.ok("SELECT INBOX")
        tag = self.s.idle()
        start = time.monotonic()
        self.elsewhere("append", "INBOX", "1")
        self.s.sock.settimeout(5)
        self.assertEqual(self.s.line(), "* 1 EXISTS")
        # From the writer's start (process start and its commit included).
        self.assertLess(time.monotonic() - start, 1.0)
        self.assertEqual(self.s.line(), "* 1 RECENT")
        self.s.send("DONE\r\n")
        self.assertEqual(self.s.line(), f"{tag} OK IDLE terminated")

    def test_idle_sees_flags_and_expunges_from_another_process(self):
        for _ in range(3):
            self.s.append("INBOX")
        self.s.ok("SELECT INBOX")
        tag = self.s.idle()
        self.s.sock.settimeout(5)
        self.elsewhere("flags", "INBOX", "+seen", "2")
        # \Recent: this (IMAP4rev1) session claimed the messages at SELECT.
        self.assertEqual(self.s.line(), "* 2 FETCH (FLAGS (\\Seen \\Recent))")
        self.elsewhere("remove", "INBOX", "1")
        self.assertEqual(self.s.line(), "* 1 EXPUNGE")
        self.s.send("DONE\r\n")
        self.assertEqual(self.s.line(), f"{tag} OK IDLE terminated")
        # The session's numbering moved with it: uid 2 is now seq 1.
        lines = self.s.ok("FETCH 1:* (UID FLAGS)")
        self.assertEqual(lines[:-1], ["* 1 FETCH (UID 2 FLAGS (\\Seen \\Recent))",
                                      "* 2 FETCH (UID 3 FLAGS (\\Recent))"])

    def test_noop_reports_another_process_append(self):
        self.s.ok("SELECT INBOX")
        self.elsewhere("append", "INBOX", "2")
        deadline = time.monotonic() + 2
        lines = []
        while time.monotonic() < deadline and "* 2 EXISTS" not in lines:
            lines = self.s.ok("NOOP")[:-1]
            time.sleep(0.05)
        self.assertEqual(lines, ["* 2 EXISTS", "* 2 RECENT"])
        self.assertEqual(self.s.ok("NOOP")[:-1], [])

    def test_mailbox_deleted_by_another_process_ends_the_session(self):
        self.s.ok("CREATE Box")
        self.s.ok("SELECT Box")
        self.s.idle()
        self.s.sock.settimeout(5)
        self.elsewhere("delete", "Box")
        self.assertTrue(self.s.line().startswith("* BYE"))


if __name__ == "__main__":
    unittest.main()
