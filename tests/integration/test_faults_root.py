"""test_faults_root.py: the store on a file system that really fills up
(`make check-root`: mounting a tmpfs needs root; skipped otherwise).

The data directory is a 12 MiB tmpfs. IMAP APPENDs of 256 KiB messages
(blob files) and SMTP deliveries go on until the disk is full: each one is
either acknowledged or refused with a temporary error (NO [UNAVAILABLE] /
[SERVERBUG] / [OVERQUOTA], 451/452), never a crash or a dropped
connection. Then the tmpfs grows (remount, size=64m), and without a
restart every acknowledged message is there, no refused one is, and new
mail is taken again. `tern check` finds the store consistent.
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import TernServer, tern
from test_faults import imap_append, smtp_deliver
from test_query_pool import Client

ENABLED = os.environ.get("TERN_CHECK_ROOT") == "1" and os.geteuid() == 0


@unittest.skipUnless(ENABLED, "make check-root (root, TERN_CHECK_ROOT=1)")
class FullTmpfsTest(unittest.TestCase):
    def test_fill_the_disk_then_grow_it(self):
        mnt = tempfile.mkdtemp(prefix="tern-tmpfs-")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", mnt], check=True)
        server = None
        try:
            server = TernServer("[auth]\nfail_delay = 0\n[delivery]\nenabled = no\n")
            # The data directory moves onto the tmpfs; the log stays outside.
            shutil.copytree(server.dir, os.path.join(mnt, "var"))
            shutil.rmtree(server.dir)
            os.symlink(os.path.join(mnt, "var"), server.dir)
            server.start()
            c = Client(server.imap_port, server.user, server.password)
            c.cmd("s", "SELECT INBOX")
            kept, refused = [], 0
            for i in range(200):
                body = f"Subject: m{i}\r\n\r\n".encode() + os.urandom(96 * 1024).hex().encode()
                reply = imap_append(c, f"a{i}", body)
                if reply.startswith(f"a{i} OK".encode()):
                    kept.append(f"m{i}")
                else:
                    self.assertRegex(reply.decode(),
                                     rf"^a{i} NO \[(UNAVAILABLE|SERVERBUG|OVERQUOTA)\] ")
                    refused += 1
                    if refused >= 3:
                        break
            self.assertGreater(refused, 0, "the 12 MiB disk never filled")
            # Small messages may still fit (inline in index.db): SMTP fills
            # what is left until it too is refused.
            for i in range(400):
                code, text = smtp_deliver(server, f"s{i}", 50_000)
                if code == 250:
                    kept.append(f"s{i}")
                    continue
                self.assertIn(code, (451, 452), text)
                break
            else:
                self.fail("SMTP never saw the disk full")
            c.cmd("n", "NOOP")  # the session survived
            subprocess.run(["mount", "-o", "remount,size=64m", mnt], check=True)
            self.assertTrue(imap_append(c, "z", b"Subject: after\r\n\r\nx\r\n").startswith(b"z OK"))
            self.assertEqual(smtp_deliver(server, "after-smtp")[0], 250)
            c.cmd("n2", "NOOP")  # the delivery's EXISTS
            lines = c.cmd("f", "FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            found = [re.sub(r"^Subject: ", "", l.decode().strip())
                     for l in lines if l.startswith(b"Subject:")]
            self.assertEqual(found, kept + ["after", "after-smtp"])
            c.close()
            print(f"\n  {len(kept)} messages acknowledged, then {refused} refused; all kept")
            proc = tern("check", data_dir=server.dir, check=False)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        finally:
            if server is not None:
                rc = server.stop()
                log = server.read_log()
                if os.path.islink(server.dir):
                    os.unlink(server.dir)
                server.cleanup()
            subprocess.run(["umount", mnt], check=False)
            os.rmdir(mnt)
        self.assertEqual(rc, 0, log[-4000:])


if __name__ == "__main__":
    unittest.main()
