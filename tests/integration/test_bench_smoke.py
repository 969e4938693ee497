"""test_bench_smoke.py: `bench/run --smoke` works: every workload of the
benchmark runs once at tiny sizes against tern and its anchors (Dovecot,
Postfix), with every answer checked, and the table comes out with a row for
each (issue 22). The figures themselves are not judged here.

Runs once, on the release tree (a benchmark of a sanitizer build measures
the sanitizer), as root (bench/run installs packages and starts Postfix's
master). Skipped, saying why, when not root or when Dovecot cannot be
installed (bench/run exits 77 then).
"""
import os
import subprocess
import unittest

from harness import TERN

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN = os.path.join(ROOT, "bench", "run")
# The table's first column names each workload once (bench/workloads.py).
WORKLOADS = ("mixed load, 10 clients", "one busy mailbox", "caching client resync",
             "webmail page loads", "idle fleet, 20 in IDLE, 1 per account",
             "idle fleet, 20 in IDLE, 10 per account", "big mailbox",
             "delivery, SMTP vs Postfix", "delivery, LMTP vs Dovecot LMTP",
             "POP3 download and delete", "a provider's day (profile.conf",
             "a provider's day (pop3-profile.conf")


class BenchSmokeTest(unittest.TestCase):
    def test_every_workload_runs_and_the_table_has_its_rows(self):
        tree = os.path.basename(os.path.dirname(TERN))
        if tree in ("asan", "tsan"):
            self.skipTest(f"bench smoke runs on the release tree only, not {tree}")
        if os.geteuid() != 0:
            self.skipTest("bench/run needs root (packages, Postfix's master)")
        if not os.environ.get("IMAPTEST") and not os.path.isdir(
                os.path.join(os.path.dirname(ROOT), "shared", "imaptest")):
            self.skipTest("no ImapTest: ../shared/imaptest is not beside the clone and "
                          "IMAPTEST is unset (as test_imaptest.py)")
        proc = subprocess.run([RUN, "--smoke", "--tern", TERN], capture_output=True, text=True,
                              timeout=600)
        if proc.returncode == 77:
            self.skipTest(f"Dovecot cannot be installed here: {proc.stderr.strip()[-300:]}")
        self.assertEqual(proc.returncode, 0, proc.stdout[-3000:] + proc.stderr[-3000:])
        table = [line for line in proc.stdout.splitlines() if line.startswith("| ")]
        names = [line.split("|")[1].strip() for line in table[1:]]
        for w in WORKLOADS:
            self.assertTrue(any(n.startswith(w) for n in names), f"no row for {w}:\n" +
                            "\n".join(table))
        self.assertNotIn("Failed:", proc.stdout)
        # tern answered every ImapTest run without an error (Dovecot's own
        # occasional false reports are the anchor's, not ours).
        for line in table:
            if "ImapTest errors" in line:
                cells = [c.strip() for c in line.split("|")]
                self.assertEqual(cells[3], "0", line)
                self.assertIn(cells[5], ("ok", "ok (anchor's own)"), line)


if __name__ == "__main__":
    unittest.main()
