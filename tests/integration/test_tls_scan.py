"""test_tls_scan.py: testssl.sh (the Debian package, scripts/deps.sh) against
a live server, offline checks only: protocols, cipher categories, forward
secrecy, renegotiation and the classic vulnerabilities (-p -s -f -R -U). Every
listener shares one TLS context (net/tls.c), so one implicit-TLS port (IMAPS)
and one STARTTLS port (submission) stand for all. Any finding of severity
LOW or worse fails, as does SSLv2/3, TLS 1.0/1.1 or a cipher of the weak
categories being offered. Run against the release build only: the TLS is
OpenSSL's either way, and each scan takes about 20 s.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import TERN, ServerTestCase

SANITIZED = "asan" in TERN or "tsan" in TERN
BAD = {"LOW", "MEDIUM", "HIGH", "CRITICAL"}
NOT_OFFERED = ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "cipherlist_NULL", "cipherlist_aNULL",
               "cipherlist_EXPORT", "cipherlist_LOW", "cipherlist_3DES_IDEA",
               "cipherlist_AVERAGE")


@unittest.skipIf(SANITIZED, "TLS is scanned on the release build")
class TlsScanTest(ServerTestCase):
    def scan(self, port, starttls=None):
        testssl = shutil.which("testssl") or shutil.which("testssl.sh")
        self.assertIsNotNone(testssl, "testssl.sh is not installed (scripts/deps.sh)")
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "scan.json")
            cmd = [testssl, "--quiet", "--warnings", "off", "--color", "0", "-p", "-s", "-f",
                   "-R", "-U", "--jsonfile", out]
            cmd += ["-t", starttls] if starttls else []
            proc = subprocess.run(cmd + [f"127.0.0.1:{port}"], capture_output=True, text=True,
                                  timeout=300)
            self.assertTrue(os.path.exists(out), proc.stdout[-2000:] + proc.stderr[-2000:])
            with open(out) as f:
                findings = {x["id"]: x for x in json.load(f)}
        bad = [f"{x['id']}: {x['finding']}" for x in findings.values() if x["severity"] in BAD]
        self.assertEqual(bad, [])
        for key in NOT_OFFERED:
            self.assertIn(key, findings)
            self.assertTrue(findings[key]["finding"].startswith("not offered"), findings[key])
        for key in ("TLS1_2", "TLS1_3", "PFS"):
            self.assertTrue(findings[key]["finding"].startswith("offered"), findings[key])
        self.assertEqual(findings["secure_renego"]["severity"], "OK")
        self.assertEqual(findings["secure_client_renego"]["severity"], "OK")

    def test_imaps(self):
        self.scan(self.server.imaps_port)

    def test_submission_starttls(self):
        self.scan(self.server.base + 587, "smtp")


if __name__ == "__main__":
    unittest.main()
