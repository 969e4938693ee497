"""test_wire_fuzz.py: a short run of fuzz/wire_fuzz.py in `make check`.

Random but well-formed IMAP, POP3, SMTP and submission sessions, six at a
time on three accounts, against the ASan+UBSan server for WIRE_FUZZ_SECONDS
(45): fails on a crash, a stuck reply, a non-zero exit or any sanitizer
report in the server's log. Only against the sanitizer build, where a
memory error shows; `make fuzz-wire` runs the same for 10 minutes.
"""
import os
import sys
import unittest

from harness import TERN

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "fuzz"))
import wire_fuzz  # noqa: E402

SECONDS = int(os.environ.get("WIRE_FUZZ_SECONDS", "45"))


@unittest.skipUnless("asan" in TERN, "the wire fuzzer runs against the ASan build")
class WireFuzzTest(unittest.TestCase):
    def test_random_sessions_leave_no_sanitizer_report(self):
        ok, report = wire_fuzz.run(TERN, SECONDS, log=lambda s: None)
        print("\n  " + report.splitlines()[0])
        self.assertTrue(ok, report)


if __name__ == "__main__":
    unittest.main()
