"""test_install.py: `make install` into a DESTDIR: the binary, tern(8) and
tern.conf(5) made from the command and key tables (they render without
warnings), the systemd unit with its hardening and the logrotate file."""
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import TERN

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class InstallTest(unittest.TestCase):
    def setUp(self):
        self.dest = tempfile.mkdtemp(prefix="tern-install-")

    def tearDown(self):
        shutil.rmtree(self.dest, ignore_errors=True)

    def test_install_into_destdir(self):
        env = dict(os.environ, DESTDIR=self.dest, PREFIX="/usr")
        proc = subprocess.run(["sh", "scripts/install.sh", os.path.dirname(os.path.abspath(TERN))],
                              cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        d = self.dest
        self.assertTrue(os.access(f"{d}/usr/bin/tern", os.X_OK))
        unit = open(f"{d}/lib/systemd/system/tern.service").read()
        self.assertIn("ExecStart=/usr/bin/tern -d /var/lib/tern serve\n", unit)
        for key in ("NoNewPrivileges=yes", "ProtectSystem=strict",
                    "ReadWritePaths=/var/lib/tern", "AmbientCapabilities=CAP_NET_BIND_SERVICE",
                    "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "User=tern"):
            self.assertIn(key + "\n", unit)
        self.assertIn("postrotate", open(f"{d}/etc/logrotate.d/tern").read())
        man8 = open(f"{d}/usr/share/man/man8/tern.8").read()
        man5 = open(f"{d}/usr/share/man/man5/tern.conf.5").read()
        self.assertTrue(man8.startswith(".TH TERN 8"))
        self.assertIn("tern dns\\-records DOMAIN", man8)
        self.assertIn(".B log_file\n", man5)
        if shutil.which("groff"):
            for page in (f"{d}/usr/share/man/man8/tern.8", f"{d}/usr/share/man/man5/tern.conf.5"):
                r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page],
                                   capture_output=True, text=True)
                self.assertEqual(r.stderr, "", page)
        # No system set-up into a DESTDIR.
        self.assertFalse(os.path.exists(f"{d}/var/lib/tern"))


if __name__ == "__main__":
    unittest.main()
