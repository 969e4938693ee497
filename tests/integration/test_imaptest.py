"""ImapTest's compliance suite (Dovecot's scripted IMAP tests, 71 groups)
against a fresh tern with two users: every group must pass, none fail,
none be skipped. Our own regression tests for what it found live in
test_imap_compliance.py and the per-extension modules; this runs the tool
itself.

ImapTest is built by ../shared/imaptest/build.sh when that folder exists
beside the repository (CI has it; README says how to get it elsewhere),
into build/imaptest; without it the test is skipped, saying why.

Two fixture steps, both for the one group that cannot run as shipped:
urlauth2 has a second connection log in as user2 and SELECT the test
mailbox, which ImapTest only creates for user1, and it FETCHes 1:2 of a
mailbox its header never fills (no "messages: 2" line). So user2 gets the
mailbox, and the group's copy gets the header line; nothing else changes.
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import Raw, TernServer, tern

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "imaptest")
DEST = os.path.join(ROOT, "build", "imaptest")
MAILBOX = "imaptest"  # ImapTest's default test mailbox
PASSWORD = "imaptest-pw"
GROUPS = 71


def build_imaptest():
    """Path of the imaptest binary, built once into build/imaptest."""
    proc = subprocess.run(["bash", os.path.join(SHARED, "build.sh"), DEST], capture_output=True,
                          text=True, timeout=900)
    if proc.returncode != 0:
        raise AssertionError(f"ImapTest build failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return proc.stdout.strip().splitlines()[-1]


class ImapTestComplianceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.isdir(SHARED):
            raise unittest.SkipTest(f"ImapTest not found at {SHARED}: the compliance run is "
                                    "skipped (README: 'ImapTest')")
        cls.imaptest = build_imaptest()
        cls.server = TernServer("[auth]\nfail_delay = 0ms\n")
        for user in ("u1@localhost", "u2@localhost"):
            tern("user", "add", user, "--password-stdin", data_dir=cls.server.dir,
                 input=PASSWORD + "\n")
        cls.server.start()
        # urlauth2's second connection selects the test mailbox as user2.
        r = Raw(cls.server.imap_port)
        r.line()
        r.cmd("a", f"LOGIN u2@localhost {PASSWORD}")
        assert r.cmd("b", f"CREATE {MAILBOX}")[-1].startswith("b OK")
        r.sock.close()
        cls.tests = tempfile.mkdtemp(prefix="tern-imaptest-")
        shutil.copytree(os.path.join(DEST, "tests"), cls.tests, dirs_exist_ok=True)
        path = os.path.join(cls.tests, "urlauth2")
        with open(path) as f:
            text = f.read()
        if "\nmessages:" not in text:
            with open(path, "w") as f:
                f.write(text.replace("connections: 2\n", "connections: 2\nmessages: 2\n", 1))

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        log = cls.server.read_log()
        cls.server.cleanup()
        shutil.rmtree(cls.tests, ignore_errors=True)
        if rc != 0:
            raise AssertionError(f"tern serve exited {rc}:\n{log[-6000:]}")

    def test_every_group_passes(self):
        env = dict(os.environ, IMAPTEST=self.imaptest, USER2="u2@localhost")
        proc = subprocess.run(["bash", os.path.join(SHARED, "compliance.sh"), "127.0.0.1",
                               str(self.server.imap_port), "u1@localhost", PASSWORD, self.tests],
                              env=env, capture_output=True, text=True, timeout=1800)
        out = proc.stdout
        # The per-group lines and the totals, for the log of make check.
        groups = [l for l in out.splitlines()
                  if re.match(r"^\S+\s+(PASS|FAIL|SKIP)\s+failed/total", l)]
        for line in groups:
            print(line)
        totals = re.findall(r"### per-group totals: (\d+) groups, (\d+) passed, (\d+) failed, "
                            r"(\d+) skipped", out)
        self.assertTrue(totals, out[-4000:])
        print(f"imaptest: {totals[-1][0]} groups, {totals[-1][1]} passed, "
              f"{totals[-1][2]} failed, {totals[-1][3]} skipped")
        failing = [l for l in groups if " PASS " not in l]
        details = "\n".join(l for l in out.splitlines() if l.startswith("    | "))
        self.assertEqual(totals[-1], (str(GROUPS), str(GROUPS), "0", "0"),
                         "\n".join(failing) + "\n" + details[-6000:])
