#!/usr/bin/env python3
"""run.py: runs every test and prints one total, "N passed, N failed".

Unit tests: each build/<tree>/tests/test_* binary, in the normal and the
sanitizer tree; a binary's last line is "<name>: P passed, F failed", and a
crash counts as one failure. Integration tests: tests/integration/test_*.py
(Python unittest) against the sanitizer build's `tern`, so ASan/UBSan and
LeakSanitizer watch every server the suite starts, then again against the
normal build. Fuzz harnesses (--fuzz build/fuzz): each libFuzzer binary
replays its corpus fuzz/corpus/<name>/ and mutates it, with its dictionary,
for --fuzz-seconds; a harness is one test, failed by any crash, leak,
sanitizer report or timeout. New inputs go to a temporary directory, never
into fuzz/corpus; crashing inputs to build/fuzz/artifacts/. ThreadSanitizer
(--tsan build/tsan): that tree's unit binaries, then the integration tests
where threads share state (TSAN_PATTERNS); a race report makes the binary or
server exit non-zero, which fails the test.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LINE = re.compile(r"^(\S+): (\d+) passed, (\d+) failed$")
# Integration tests where several sessions, workers or writer threads touch
# the same account at once: what ThreadSanitizer is run on.
TSAN_PATTERNS = ("test_imap_consistency.py", "test_store_crash.py", "test_imap_crash.py",
                 "test_imap_mailbox.py", "test_outbound.py", "test_http.py",
                 "test_query_pool.py")
TSAN_OPTIONS = "halt_on_error=0:second_deadlock_stack=1:history_size=4"


def run_unit(tree):
    passed = failed = 0
    bindir = os.path.join(ROOT, tree, "tests")
    if not os.path.isdir(bindir):
        print(f"unit [{tree}]: no test binaries in {bindir}")
        return 0, 1
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1", TSAN_OPTIONS=TSAN_OPTIONS)
    for name in sorted(os.listdir(bindir)):
        path = os.path.join(bindir, name)
        if not name.startswith("test_") or not os.access(path, os.X_OK):
            continue
        proc = subprocess.run([path], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=600)
        last = proc.stdout.strip().splitlines()[-1:] or [""]
        m = LINE.match(last[0])
        if m and proc.returncode in (0, 1):
            p, f = int(m.group(2)), int(m.group(3))
        else:
            p, f = 0, 1
        passed += p
        failed += f
        status = "ok" if f == 0 and proc.returncode == 0 else "FAILED"
        print(f"unit [{tree}] {name}: {p} passed, {f} failed {status}")
        if status != "ok":
            sys.stdout.write(proc.stdout[-4000:])
            sys.stdout.write(proc.stderr[-4000:])
    return passed, failed


def run_fuzz(fuzz_dir, seconds):
    passed = failed = 0
    bindir = os.path.join(ROOT, fuzz_dir)
    names = sorted(n for n in os.listdir(bindir) if n.startswith("fuzz_")
                   and os.access(os.path.join(bindir, n), os.X_OK)) if os.path.isdir(bindir) else []
    if not names:
        print(f"fuzz: no harnesses in {bindir}")
        return 0, 1
    artifacts = os.path.join(bindir, "artifacts")
    os.makedirs(artifacts, exist_ok=True)
    for name in names:
        short = name[len("fuzz_"):]
        corpus = os.path.join(ROOT, "fuzz", "corpus", short)
        args = [os.path.join(bindir, name), f"-max_total_time={seconds}", "-timeout=10",
                "-rss_limit_mb=2048", f"-artifact_prefix={artifacts}/{short}-"]
        dict_path = os.path.join(ROOT, "fuzz", short + ".dict")
        if os.path.exists(dict_path):
            args.append(f"-dict={dict_path}")
        scratch = tempfile.mkdtemp(prefix=f"tern-fuzz-{short}-")
        try:
            proc = subprocess.run(args + [scratch, corpus], cwd=ROOT, capture_output=True,
                                  text=True, errors="replace", timeout=seconds + 120)
            rc, log = proc.returncode, proc.stderr
        except subprocess.TimeoutExpired as e:
            rc, log = -1, (e.stderr or b"").decode(errors="replace") + "\n(hung)"
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        runs = re.search(r"Done (\d+) runs", log)
        ok = rc == 0 and runs is not None
        passed += ok
        failed += not ok
        print(f"fuzz {short}: {runs.group(1) if runs else '?'} runs in {seconds}s "
              f"{'ok' if ok else 'FAILED'}")
        if not ok:
            sys.stdout.write(log[-6000:])
    return passed, failed


class CountingResult(unittest.TextTestResult):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.passed = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1


def run_integration(tern, label, pattern):
    os.environ["TERN_BIN"] = os.path.join(ROOT, tern)
    # the tree's helper programs (crash_store_writer) go with its server
    os.environ["TERN_BUILD"] = os.path.join(ROOT, os.path.dirname(tern))
    # harness.TERN is read at import: drop the modules the previous tree's
    # pass imported, or the second pass would run the first tree's binary.
    integration = os.path.join(HERE, "integration") + os.sep
    for name, mod in list(sys.modules.items()):
        if (getattr(mod, "__file__", None) or "").startswith(integration):
            del sys.modules[name]
    loader = unittest.TestLoader()
    suite = loader.discover(os.path.join(HERE, "integration"), pattern=pattern,
                            top_level_dir=os.path.join(HERE, "integration"))
    print(f"integration [{label}]: {suite.countTestCases()} tests against {tern}")
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=1,
                                     resultclass=CountingResult)
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    return result.passed, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--build-asan", default="build/asan")
    ap.add_argument("--pattern", default="test_*.py")
    ap.add_argument("--no-unit", action="store_true")
    ap.add_argument("--no-integration", action="store_true")
    ap.add_argument("--fuzz", metavar="DIR", help="replay the fuzz corpora with DIR/fuzz_*")
    ap.add_argument("--fuzz-seconds", type=int, default=3)
    ap.add_argument("--tsan", metavar="DIR", help="also the ThreadSanitizer tree in DIR")
    args = ap.parse_args()

    start = time.monotonic()
    passed = failed = 0
    if not args.no_unit:
        for tree in (args.build, args.build_asan):
            p, f = run_unit(tree)
            passed += p
            failed += f
    if not args.no_integration:
        for tree, label in ((args.build_asan, "asan"), (args.build, "release")):
            p, f = run_integration(os.path.join(tree, "tern"), label, args.pattern)
            passed += p
            failed += f
    if args.fuzz:
        p, f = run_fuzz(args.fuzz, args.fuzz_seconds)
        passed += p
        failed += f
    if args.tsan:
        os.environ["TSAN_OPTIONS"] = TSAN_OPTIONS
        p, f = run_unit(args.tsan)
        passed += p
        failed += f
        for pattern in TSAN_PATTERNS:
            p, f = run_integration(os.path.join(args.tsan, "tern"), "tsan", pattern)
            passed += p
            failed += f
    print(f"time: {time.monotonic() - start:.0f}s")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
