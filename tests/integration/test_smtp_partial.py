"""One message, several local accounts, one of them refusing it when it is
stored (over quota only once the message is there: RCPT could not know):
SMTP has one reply for all, so the others' 250 stands and the refused
account is queued for local redelivery (docs/SMTP.md "Delivery"), stored
by the queue runner once it has room, or bounced once queue.max_age has
passed (into the submitting account's INBOX)."""
import os
import re
import smtplib
import time
import unittest

from harness import TernServer, tern
from mxserver import DNS, MX, free_port
from smtpclient import add_user, mailbox, ports
from test_outbound import wait_for

BIG = "x" * 70 + "\r\n"


def message(frm, subject, lines=100):
    return (f"From: <{frm}>\r\nTo: <a@localhost>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject}@test>\r\n\r\n" + BIG * lines).encode()


class PartialTest(unittest.TestCase):
    MAX_AGE = "5d"
    MAILAUTH = "no"

    @classmethod
    def setUpClass(cls):
        cls.server = TernServer()
        cls.server.add_config(
            f"[auth]\nfail_delay = 0\n[mailauth]\nenabled = {cls.MAILAUTH}\n"
            f"[queue]\nretry_first = 1s\nretry_max = 1s\nmax_age = {cls.MAX_AGE}\n"
            + cls.extra())
        cls.pw = {u: add_user(cls.server, f"{u}@localhost") for u in ("a", "b")}
        # b's quota takes a small message but not this one: RCPT passes
        # (no SIZE), the store refuses it.
        tern("user", "quota", "b@localhost", "--storage", "2k", data_dir=cls.server.dir)
        cls.server.start()
        cls.p = ports(cls.server)

    @classmethod
    def extra(cls):
        return ""

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        log = cls.server.read_log()
        cls.server.cleanup()
        if rc != 0:
            raise AssertionError(f"tern serve exited {rc}:\n{log[-3000:]}")

    def got(self, user, subject):
        return [m for m in mailbox(self.server, f"{user}@localhost", self.pw[user])
                if f"Subject: {subject}\r\n".encode() in m]

    def queue_ids(self):
        out = tern("queue", "list", data_dir=self.server.dir).stdout
        return re.findall(r"^([0-9a-f]{26}) ", out, re.M)


class RequeueTest(PartialTest):
    def test_refused_account_is_stored_once_it_has_room(self):
        s = smtplib.SMTP("127.0.0.1", self.p["smtp"], timeout=10)
        self.addCleanup(s.close)
        s.ehlo()
        del s.esmtp_features["size"]  # no SIZE=: RCPT cannot tell
        refused = s.sendmail("sender@example.com", ["a@localhost", "b@localhost"],
                             message("sender@example.com", "partial"))
        s.quit()
        self.assertEqual(refused, {})  # 250 for the message
        self.assertEqual(len(self.got("a", "partial")), 1)
        self.assertEqual(self.got("b", "partial"), [])
        log = self.server.read_log()
        self.assertRegex(log, r"event=rcpt-requeued account=b@localhost err=\"[^\"]*quota")
        self.assertEqual(len(self.queue_ids()), 1)
        # Still full: the runner retries and keeps it.
        time.sleep(2.5)
        self.assertEqual(self.got("b", "partial"), [])
        self.assertRegex(self.server.read_log(),
                         r"event=deferred \S+ rcpt=b@localhost host=local reply=\"452 4.2.2")
        tern("user", "quota", "b@localhost", "--storage", "none", data_dir=self.server.dir)
        self.assertTrue(wait_for(lambda: self.got("b", "partial")))
        got = self.got("b", "partial")[0]
        self.assertTrue(got.startswith(b"Return-Path: <sender@example.com>\r\n"), got[:200])
        self.assertEqual(len(self.got("a", "partial")), 1)  # no duplicate for a
        self.assertTrue(wait_for(lambda: self.queue_ids() == []))


class RequeueCheckedTest(RequeueTest):
    """The same with SPF/DKIM/DMARC on: the message waits in the hold file
    and the spool and its copy are written from there."""
    MAILAUTH = "yes"


class BounceTest(PartialTest):
    MAX_AGE = "2s"

    def test_refused_account_bounces_after_max_age(self):
        user, pw = self.server.user, self.server.password
        s = smtplib.SMTP("127.0.0.1", self.p["submission"], timeout=10)
        self.addCleanup(s.close)
        s.ehlo()
        s.login(user, pw)
        del s.esmtp_features["size"]
        s.sendmail(user, ["a@localhost", "b@localhost"], message(user, "gives-up"))
        s.quit()
        self.assertEqual(len(self.got("a", "gives-up")), 1)

        def bounce():
            return [m for m in mailbox(self.server, user, pw)
                    if b"report-type=delivery-status" in m and b"gives-up" in m]
        got = wait_for(bounce, timeout=30)
        self.assertTrue(got, self.server.read_log()[-2000:])
        self.assertIn(b"Final-Recipient: rfc822;b@localhost", got[0])
        self.assertIn(b"Action: failed", got[0])
        self.assertEqual(self.got("b", "gives-up"), [])
        self.assertTrue(wait_for(lambda: self.queue_ids() == []))


class RemoteBounceTest(PartialTest):
    """Mail from the internet: the bounce is queued to the sender's MX
    (here a test server on 127.0.0.2 found through dnsmasq), from <>."""
    MAX_AGE = "2s"

    @classmethod
    def extra(cls):
        cls.mx_port = free_port(["127.0.0.2"])
        cls.dns = DNS(cls.server.tmp, {"remote.example": [(10, "mx.remote.example")]},
                      {"mx.remote.example": "127.0.0.2"})
        cls.mx = MX("127.0.0.2", cls.mx_port, "mx.remote.example",
                    os.path.join(cls.server.dir, "tls", "cert.pem"),
                    os.path.join(cls.server.dir, "tls", "key.pem"))
        return (f"[delivery]\nmx_port = {cls.mx_port}\ntimeout = 5s\n"
                f"[dns]\nnameservers = 127.0.0.1:{cls.dns.port}\n")

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.mx.stop()
            cls.dns.stop()

    def test_bounce_goes_back_to_the_remote_sender(self):
        s = smtplib.SMTP("127.0.0.1", self.p["smtp"], timeout=10)
        self.addCleanup(s.close)
        s.ehlo()
        del s.esmtp_features["size"]
        s.sendmail("x@remote.example", ["a@localhost", "b@localhost"],
                   message("x@remote.example", "remote-bounce"))
        s.quit()
        got = wait_for(lambda: [m for m in self.mx.received
                                if b"report-type=delivery-status" in m["data"]], timeout=30)
        self.assertTrue(got, self.server.read_log()[-2000:])
        self.assertIn("<>", got[0]["mail"])
        self.assertIn("<x@remote.example>", got[0]["rcpts"][0])
        self.assertIn(b"Final-Recipient: rfc822;b@localhost", got[0]["data"])
        self.assertTrue(wait_for(lambda: self.queue_ids() == []))


if __name__ == "__main__":
    unittest.main()
