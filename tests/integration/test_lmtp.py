"""LMTP (RFC 2033) on N+24 and on a Unix socket: LHLO, one reply per
recipient after DATA and after the last BDAT, over quota for one
recipient only, and messages read back byte for byte; a RCPT is not
queued behind a login storm's password checks."""
import os
import selectors
import smtplib
import socket
import time
import unittest

from harness import ServerTestCase
from smtpclient import RawSMTP, add_user, mailbox, ports, split_trace

MSG = b"From: a@example.com\r\nSubject: lmtp\r\n\r\nbody\r\n"


class LmtpTest(ServerTestCase):
    CONFIG = ("[auth]\nfail_delay = 200ms\n[lmtp]\nsocket = lmtp.sock\n"
              "[store]\nquota_storage = 20k\n")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.port = ports(cls.server)["lmtp"]
        cls.bob_pw = add_user(cls.server, "bob@localhost")
        cls.carol_pw = add_user(cls.server, "carol@localhost")

    def conn(self):
        r = RawSMTP(self.port)
        self.addCleanup(r.close)
        code, text, _ = r.reply()
        self.assertEqual((code, text), (220, "localhost LMTP tern"))
        self.assertEqual(r.cmd("LHLO mta.example")[0], 250)
        return r

    def test_smtplib_lmtp_on_tcp_and_socket(self):
        for host, port in (("127.0.0.1", self.port),
                           (os.path.join(self.server.dir, "lmtp.sock"), 0)):
            s = smtplib.LMTP(host, port) if port else smtplib.LMTP(host)
            s.ehlo_or_helo_if_needed()
            self.assertTrue(s.has_extn("pipelining") and s.has_extn("chunking"))
            s.sendmail("a@example.com", ["bob@localhost"], MSG + host.encode() + b"\r\n")
            s.quit()
            raw = mailbox(self.server, "bob@localhost", self.bob_pw)[-1]
            names, rest = split_trace(raw)
            self.assertEqual(names, ["Return-Path", "Delivered-To", "Received"])
            self.assertEqual(rest, MSG + host.encode() + b"\r\n")
            self.assertIn(b"with LMTP id", raw)

    def test_ehlo_is_not_lmtp(self):
        r = RawSMTP(self.port)
        self.addCleanup(r.close)
        r.reply()
        self.assertEqual(r.cmd("EHLO x")[0], 500)
        self.assertEqual(r.cmd("MAIL FROM:<a@example.com>")[:2], (503, "Send LHLO first"))

    def test_one_reply_per_recipient(self):
        r = self.conn()
        r.send("MAIL FROM:<a@example.com>\r\nRCPT TO:<bob@localhost>\r\n"
               "RCPT TO:<nobody@localhost>\r\nRCPT TO:<carol@localhost>\r\nDATA\r\n")
        self.assertEqual([r.reply()[0] for _ in range(5)], [250, 250, 550, 250, 354])
        r.send(b"Subject: two\r\n\r\nfor two\r\n.\r\n")
        first, second = r.reply(), r.reply()
        self.assertEqual((first[0], second[0]), (250, 250))
        self.assertIn("<bob@localhost>", first[1])
        self.assertIn("<carol@localhost>", second[1])
        self.assertEqual(r.cmd("NOOP")[0], 250, "no third reply")
        for user, pw in (("bob@localhost", self.bob_pw), ("carol@localhost", self.carol_pw)):
            raw = mailbox(self.server, user, pw)[-1]
            self.assertEqual(split_trace(raw), (["Return-Path", "Received"],
                                                b"Subject: two\r\n\r\nfor two\r\n"))

    def test_one_recipient_over_quota(self):
        pw = add_user(self.server, "full@localhost")
        r = self.conn()
        big = b"Subject: fill\r\n\r\n" + b"z" * 12000 + b"\r\n"
        r.cmd("MAIL FROM:<a@example.com>")
        r.cmd("RCPT TO:<full@localhost>")
        r.cmd("DATA")
        r.send(big + b".\r\n")
        self.assertEqual(r.reply()[0], 250)
        # Now 12k of 20k used: another 12k fits carol, not full.
        r.cmd("MAIL FROM:<a@example.com>")
        self.assertEqual(r.cmd("RCPT TO:<carol@localhost>")[0], 250)
        self.assertEqual(r.cmd("RCPT TO:<full@localhost>")[0], 250)
        self.assertEqual(r.cmd("DATA")[0], 354)
        r.send(big + b".\r\n")
        ok, full = r.reply(), r.reply()
        self.assertEqual(ok[0], 250)
        self.assertEqual((full[0], full[1][:5]), (452, "4.2.2"))
        self.assertIn("<full@localhost>", full[1])
        self.assertEqual(len(mailbox(self.server, "full@localhost", pw)), 1)

    def test_bdat_last_replies_per_recipient(self):
        r = self.conn()
        r.cmd("MAIL FROM:<a@example.com>")
        r.cmd("RCPT TO:<bob@localhost>")
        r.cmd("RCPT TO:<carol@localhost>")
        r.send(b"BDAT %d LAST\r\n" % len(MSG) + MSG)
        self.assertEqual([r.reply()[0] for _ in range(2)], [250, 250])
        self.assertEqual(r.cmd("NOOP")[0], 250)


class LmtpBesideLoginsTest(ServerTestCase):
    """RCPT's account lookup runs on its own pool (smtp.lookup_workers), not
    behind the yescrypt checks of the auth pool: with one auth thread and no
    login cache, 30 LOGINs sent at once take 30 hashes in a row, and a RCPT
    sent after them is answered before most of them."""
    CONFIG = ("[auth]\nfail_delay = 200ms\nworkers = 1\ncache_size = 0\n"
              "[smtp]\nlookup_workers = 1\n")
    LOGINS = 30

    def test_rcpt_does_not_wait_for_password_checks(self):
        pw = add_user(self.server, "dan@localhost")
        lmtp = RawSMTP(ports(self.server)["lmtp"])
        self.addCleanup(lmtp.close)
        lmtp.reply()
        self.assertEqual(lmtp.cmd("LHLO mta.example")[0], 250)
        self.assertEqual(lmtp.cmd("MAIL FROM:<a@example.com>")[0], 250)
        imaps = []
        for _ in range(self.LOGINS):
            c = socket.create_connection(("127.0.0.1", self.server.imap_port))
            self.addCleanup(c.close)
            self.assertTrue(c.recv(4096).startswith(b"* OK"))
            imaps.append(c)
        sel = selectors.DefaultSelector()
        t0 = time.monotonic()
        for c in imaps:
            c.sendall(b"a LOGIN dan@localhost %s\r\n" % pw.encode())
            sel.register(c, selectors.EVENT_READ)
        lmtp.send("RCPT TO:<dan@localhost>\r\n")
        self.assertEqual(lmtp.reply()[0], 250)
        rcpt_s = time.monotonic() - t0
        done, last_s = 0, 0.0
        while done < self.LOGINS:
            ready = sel.select(timeout=60)
            self.assertTrue(ready, f"{self.LOGINS - done} LOGINs unanswered after 60 s")
            for key, _ in ready:
                self.assertIn(b"a OK", key.fileobj.recv(4096))
                sel.unregister(key.fileobj)
                done += 1
            last_s = time.monotonic() - t0
        sel.close()
        # Queued behind the checks, the RCPT would come after (nearly) all.
        self.assertLess(rcpt_s, last_s / 3,
                        f"RCPT {rcpt_s * 1000:.0f} ms, the last LOGIN {last_s * 1000:.0f} ms")


if __name__ == "__main__":
    unittest.main()
