"""test_sandbox.py: after start-up the server confines itself (issue 17):
Landlock limits its file access to the data directory, the log file,
certificates and the system files read late; a seccomp allow-list limits
its system calls (src/net/sandbox.c). Each where the kernel supports it,
and the log says which took effect. server.sandbox = no turns both off.

A write outside the allowed paths is tried through a test hook: with
TERN_SANDBOX_PROBE=PATH the server, once confined, creates PATH and logs
whether it could (event=sandbox-probe).
"""
import ctypes
import os
import re
import signal
import time
import unittest

from harness import SAN_ENV, TERN, TernServer
from test_query_pool import Client

SYS_landlock_create_ruleset = 444  # x86_64 and arm64 alike
LANDLOCK_CREATE_RULESET_VERSION = 1


def landlock_abi():
    libc = ctypes.CDLL(None, use_errno=True)
    return max(0, libc.syscall(SYS_landlock_create_ruleset, None, 0,
                               LANDLOCK_CREATE_RULESET_VERSION))


def seccomp_mode(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^Seccomp:\s+(\d+)", f.read(), re.M).group(1))


class SandboxTest(unittest.TestCase):
    def serve(self, config=""):
        srv = TernServer("[auth]\nfail_delay = 0\n" + config)
        # harness.SAN_ENV is a copy made at import: the probe goes in it.
        SAN_ENV["TERN_SANDBOX_PROBE"] = os.path.join(srv.tmp, "outside-the-data-dir")
        try:
            srv.start()
        finally:
            del SAN_ENV["TERN_SANDBOX_PROBE"]
        self.addCleanup(self.stop, srv)
        deadline = time.monotonic() + 10
        while "event=started" not in srv.read_log():
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        return srv

    def stop(self, srv):
        rc = srv.stop()
        log = srv.read_log()
        srv.cleanup()
        self.assertEqual(rc, 0, log[-4000:])

    def test_confined_after_start_up(self):
        srv = self.serve()
        log = srv.read_log()
        abi = landlock_abi()
        want_landlock = f"abi{abi}" if abi > 0 else "0"
        want_seccomp = "off" if "tsan" in TERN else "on"
        self.assertIn(f"event=sandbox landlock={want_landlock} seccomp={want_seccomp}", log)
        if want_seccomp == "on":
            self.assertEqual(seccomp_mode(srv.proc.pid), 2)  # SECCOMP_MODE_FILTER
        if abi > 0:
            self.assertIn('event=sandbox-probe result=refused err="Permission denied"', log)
        self.assertFalse(os.path.exists(os.path.join(srv.tmp, "outside-the-data-dir")))
        # Confined, it still does its work: IMAP over TLS, a delivery, a
        # reload that re-reads tern.conf and the certificate.
        c = Client(srv.imap_port, srv.user, srv.password)
        c.cmd("s", "SELECT INBOX")
        c.send("a APPEND INBOX {21+}\r\nSubject: x\r\n\r\nbody\r\n")
        self.assertTrue(c.tagged("a")[-1].startswith(b"a OK"))
        c.cmd("f", "SEARCH TEXT body")
        c.close()
        srv.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "event=reloaded" not in srv.read_log():
            self.assertNotIn("event=reload-failed", srv.read_log())
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)

    def test_switch_turns_it_off(self):
        srv = self.serve("[server]\nsandbox = no\n")
        log = srv.read_log()
        self.assertIn("event=sandbox landlock=off seccomp=off reason=server.sandbox", log)
        self.assertIn("event=sandbox-probe result=created", log)
        self.assertEqual(seccomp_mode(srv.proc.pid), 0)


if __name__ == "__main__":
    unittest.main()
