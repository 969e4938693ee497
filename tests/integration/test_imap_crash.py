"""Durability through the whole server: concurrent IMAP APPENDs while the
server is killed with SIGKILL at random points, several times. Every APPEND
that got its OK must be there after a restart, byte for byte, and `tern
check` must find the store consistent (a crash may leave only blobs written
but never committed, which --repair removes)."""
import random
import signal
import threading
import time
import unittest

from harness import TernServer, client_ssl_context, tern
import imaplib

ALLOWED_AFTER_CRASH = ("problem=orphan-blob", "problem=temp-file")


def message(writer, i):
    return (f"From: w{writer}@example.org\r\nSubject: crash {writer}.{i}\r\n"
            f"Message-ID: <{writer}.{i}.crash@example.org>\r\n\r\n"
            + f"payload {writer} {i} " * (50 + i % 200) + "\r\n").encode()


class CrashTest(unittest.TestCase):
    def test_acknowledged_appends_survive_sigkill(self):
        srv = TernServer("[auth]\nfail_delay = 100ms\n")
        acked = {}
        lock = threading.Lock()
        rng = random.Random()
        try:
            for round_ in range(4):
                srv.start()
                stop = threading.Event()

                def writer(w):
                    try:
                        m = imaplib.IMAP4("127.0.0.1", srv.imap_port)
                        m.login(srv.user, srv.password)
                        i = 0
                        while not stop.is_set():
                            body = message(f"{round_}-{w}", i)
                            typ, _ = m.append("INBOX", None, None, body)
                            if typ == "OK":
                                with lock:
                                    acked[f"<{round_}-{w}.{i}.crash@example.org>"] = body
                            i += 1
                    except (OSError, imaplib.IMAP4.abort, imaplib.IMAP4.error):
                        pass  # the server died under us

                threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
                for t in threads:
                    t.start()
                time.sleep(rng.uniform(0.5, 1.5))
                srv.proc.send_signal(signal.SIGKILL)
                srv.proc.wait()
                stop.set()
                for t in threads:
                    t.join(30)
                srv.log.close()
                srv.proc = None

                srv.start()
                m = imaplib.IMAP4("127.0.0.1", srv.imap_port)
                m.login(srv.user, srv.password)
                m.select("INBOX", readonly=True)
                typ, data = m.fetch("1:*", "(BODY.PEEK[])")
                stored = {}
                for item in data:
                    if isinstance(item, tuple):
                        body = item[1]
                        mid = body.split(b"Message-ID: ", 1)[1].split(b"\r\n", 1)[0].decode()
                        stored[mid] = body
                m.logout()
                for mid, body in acked.items():
                    self.assertIn(mid, stored, f"round {round_}: acknowledged {mid} lost")
                    self.assertEqual(stored[mid], body, f"round {round_}: {mid} changed")
                self.assertEqual(srv.stop(), 0)
            self.assertGreater(len(acked), 20)

            proc = tern("check", data_dir=srv.dir, check=False)
            for line in proc.stdout.splitlines():
                if " problems=" in line:
                    continue  # the per-account summary
                self.assertTrue(any(a in line for a in ALLOWED_AFTER_CRASH), line)
            tern("check", "--repair", data_dir=srv.dir, check=False)
            proc = tern("check", data_dir=srv.dir, check=False)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        finally:
            if srv.proc is not None:
                srv.stop()
            srv.cleanup()
