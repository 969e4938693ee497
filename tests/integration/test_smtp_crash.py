"""Durability of SMTP and LMTP delivery: senders deliver concurrently
(some messages to two accounts, some through LMTP) while the server is
killed with SIGKILL between DATA and its 250 at random points, several
times. Every message that got its 250 must be there after a restart, byte
for byte after the trace fields, in every account it was for; `tern check`
must find the store consistent."""
import random
import signal
import smtplib
import threading
import time
import unittest

from harness import TernServer, tern
from smtpclient import add_user, mailbox, ports, split_trace

ALLOWED_AFTER_CRASH = ("problem=orphan-blob", "problem=temp-file")


def message(tag, i):
    return (f"From: w@example.org\r\nSubject: crash {tag}.{i}\r\n"
            f"Message-ID: <{tag}.{i}.crash@example.org>\r\n\r\n"
            + f"payload {tag} {i} " * (50 + i * 37 % 5000) + "\r\n").encode()


class SmtpCrashTest(unittest.TestCase):
    def test_acknowledged_deliveries_survive_sigkill(self):
        srv = TernServer("[auth]\nfail_delay = 100ms\n")
        bob_pw = add_user(srv, "bob@localhost")
        users = {srv.user: srv.password, "bob@localhost": bob_pw}
        acked = {u: {} for u in users}
        lock = threading.Lock()
        rng = random.Random()
        p = ports(srv)
        try:
            for round_ in range(4):
                srv.start()
                stop = threading.Event()

                def writer(w):
                    lmtp = w == 3
                    rcpts = [srv.user] if w % 2 == 0 else [srv.user, "bob@localhost"]
                    s = None
                    try:
                        s = (smtplib.LMTP("127.0.0.1", p["lmtp"]) if lmtp
                             else smtplib.SMTP("127.0.0.1", p["smtp"], timeout=10))
                        s.ehlo_or_helo_if_needed()
                        i = 0
                        while not stop.is_set():
                            tag = f"{round_}-{w}"
                            body = message(tag, i)
                            s.sendmail("w@example.org", rcpts, body)  # raises unless 250
                            with lock:
                                for r in rcpts:
                                    acked[r][f"<{tag}.{i}.crash@example.org>"] = body
                            i += 1
                    except (OSError, smtplib.SMTPException):
                        pass  # the server died under us
                    finally:
                        if s is not None:
                            s.close()

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
                for user, pw in users.items():
                    stored = {}
                    for raw in mailbox(srv, user, pw) or []:
                        rest = split_trace(raw)[1]
                        mid = rest.split(b"Message-ID: ", 1)[1].split(b"\r\n", 1)[0].decode()
                        stored[mid] = rest
                    for mid, body in acked[user].items():
                        self.assertIn(mid, stored, f"round {round_}: {user}: {mid} lost")
                        self.assertEqual(stored[mid], body, f"round {round_}: {mid} changed")
                self.assertEqual(srv.stop(), 0)
            self.assertGreater(sum(len(v) for v in acked.values()), 20)

            proc = tern("check", data_dir=srv.dir, check=False)
            for line in proc.stdout.splitlines():
                if " problems=" in line:
                    continue
                self.assertTrue(any(a in line for a in ALLOWED_AFTER_CRASH), line)
            tern("check", "--repair", data_dir=srv.dir, check=False)
            proc = tern("check", data_dir=srv.dir, check=False)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        finally:
            if srv.proc is not None:
                srv.stop()
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
