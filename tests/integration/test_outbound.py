"""The queue runner on a loopback internet (mxserver.py): dnsmasq answers MX
and A for *.example, test SMTP servers listen on 127.0.0.2 and .3, and tern
(delivery.mx_port, dns.nameservers) delivers submitted mail to them: the
right MX, fallback to the next, retry after a temporary failure, a
permanent failure, null MX, DSN parameters and BDAT passed on, STARTTLS,
hold/release/retry/delete, per-recipient state across a retry, a SIGKILL
mid-delivery, and a smarthost with AUTH."""
import os
import re
import signal
import smtplib
import time
import unittest

from harness import TernServer, client_ssl_context, tern
from mxserver import DNS, MX, free_port
from smtpclient import mailbox, ports

IPS = ["127.0.0.2", "127.0.0.3"]
ZONE_MX = {
    "a.example": [(10, "mx1.a.example"), (20, "mx2.a.example")],
    "down.example": [(10, "dead.down.example"), (20, "mx2.a.example")],
    "nullmx.example": [(0, ".")],
}
ZONE_A = {"mx1.a.example": "127.0.0.2", "mx2.a.example": "127.0.0.3",
          "dead.down.example": "127.0.0.9", "plain.example": "127.0.0.3"}


def message(frm, to, subject):
    return (f"From: {frm}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject}@localhost>\r\n\r\nhello\r\n.dot line\r\n").encode()


def wait_for(pred, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    return pred()


class OutboundTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.port = free_port(IPS + ["127.0.0.9"])
        cls.server = TernServer()
        cert = os.path.join(cls.server.dir, "tls", "cert.pem")
        key = os.path.join(cls.server.dir, "tls", "key.pem")
        cls.dns = DNS(cls.server.tmp, ZONE_MX, ZONE_A)
        cls.mx = [MX(ip, cls.port, f"mx{i + 1}.a.example", cert, key) for i, ip in enumerate(IPS)]
        cls.server.add_config(
            f"[delivery]\nmx_port = {cls.port}\ntimeout = 5s\n"
            f"[dns]\nnameservers = 127.0.0.1:{cls.dns.port}\n"
            "[queue]\nretry_first = 1s\nretry_max = 2s\ndelay_warning = 1s\n")
        cls.server.start()
        cls.p = ports(cls.server)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            for m in cls.mx:
                m.stop()
            cls.dns.stop()
            cls.server.cleanup()

    def setUp(self):
        for m in self.mx:
            m.received.clear()
            m.commands.clear()

    def submit(self, rcpts, subject, mail_options=(), rcpt_options=()):
        s = smtplib.SMTP("127.0.0.1", self.p["submission"], timeout=10)
        self.addCleanup(s.close)
        s.ehlo()
        s.login(self.server.user, self.server.password)
        s.sendmail(self.server.user, rcpts, message(self.server.user, rcpts[0], subject),
                   mail_options=list(mail_options), rcpt_options=list(rcpt_options))
        s.quit()

    def queue_ids(self):
        out = tern("queue", "list", data_dir=self.server.dir).stdout
        return re.findall(r"^([0-9a-f]{26}) ", out, re.M)

    def got(self, mx, subject):
        return [m for m in mx.received if f"Subject: {subject}".encode() in m["data"]]

    def test_delivers_to_the_preferred_mx_with_tls_bdat_and_dsn(self):
        self.submit(["bob@a.example"], "first-mx", mail_options=["RET=HDRS", "ENVID=env+2B1"],
                    rcpt_options=["NOTIFY=FAILURE,DELAY"])
        got = wait_for(lambda: self.got(self.mx[0], "first-mx"))
        self.assertEqual(len(got), 1)
        self.assertEqual(self.got(self.mx[1], "first-mx"), [])
        m = got[0]
        self.assertTrue(m["tls"])
        self.assertEqual(m["how"], "BDAT")
        self.assertIn(f"<{self.server.user}>", m["mail"])
        self.assertIn("RET=HDRS", m["mail"])
        self.assertIn("ENVID=env+2B1", m["mail"])
        self.assertIn("NOTIFY=FAILURE,DELAY", m["rcpts"][0])
        self.assertIn(b"\r\n.dot line\r\n", m["data"])
        self.assertTrue(m["data"].startswith(b"Received: "))
        self.assertTrue(wait_for(lambda: self.queue_ids() == []))

    def test_dot_stuffing_over_data_without_chunking(self):
        b = self.mx[0].behaviour
        saved = list(b.extensions)
        b.extensions = ["PIPELINING", "8BITMIME"]
        self.addCleanup(setattr, b, "extensions", saved)
        # tern's kept connection still has the old EHLO: it finds the
        # connection gone and opens a fresh one.
        self.mx[0].drop_connections()
        self.submit(["carol@a.example"], "plain-data")
        got = wait_for(lambda: self.got(self.mx[0], "plain-data"))
        self.assertEqual(got[0]["how"], "DATA", self.mx[0].commands)
        self.assertFalse(got[0]["tls"])
        self.assertIn(b"\r\n.dot line\r\n", got[0]["data"])

    def without_8bitmime(self):
        for mx in self.mx:  # the next MX would take it as it is
            b = mx.behaviour
            saved = list(b.extensions)
            b.extensions = [e for e in saved if e != "8BITMIME"]
            self.addCleanup(setattr, b, "extensions", saved)
            mx.drop_connections()  # a kept connection has the old EHLO

    def submit_raw(self, rcpt, data, mail_options):
        s = smtplib.SMTP("127.0.0.1", self.p["submission"], timeout=10)
        self.addCleanup(s.close)
        s.login(self.server.user, self.server.password)
        s.sendmail(self.server.user, [rcpt], data, mail_options=mail_options)
        s.quit()

    def test_eight_bit_body_is_downgraded_to_quoted_printable(self):
        import quopri
        self.without_8bitmime()
        body = "Gr\u00fc\u00dfe, caf\u00e9 \u2014 " * 4 + "\r\nline two\r\n"
        data = (f"From: {self.server.user}\r\nTo: hans@a.example\r\nSubject: eight\r\n"
                "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                "Content-Transfer-Encoding: 8bit\r\n\r\n" + body).encode()
        self.submit_raw("hans@a.example", data, ["BODY=8BITMIME"])
        got = wait_for(lambda: self.got(self.mx[0], "eight"))
        self.assertEqual(len(got), 1, self.server.read_log()[-1500:])
        m = got[0]
        self.assertNotIn("BODY=8BITMIME", m["mail"])
        self.assertTrue(all(b < 0x80 for b in m["data"]))
        head, _, qp = m["data"].partition(b"\r\n\r\n")
        self.assertIn(b"Content-Transfer-Encoding: quoted-printable", head)
        self.assertNotIn(b"8bit", head)
        self.assertTrue(all(len(line) <= 76 for line in qp.split(b"\r\n")))
        self.assertEqual(quopri.decodestring(qp.replace(b"\r\n", b"\n")).decode(),
                         body.replace("\r\n", "\n"))

    def test_eight_bit_header_cannot_be_downgraded_and_bounces(self):
        self.without_8bitmime()
        data = (f"From: {self.server.user}\r\nTo: ida@a.example\r\n"
                "Subject: cannot-convert \u00e9\r\n\r\nbody \u00e9\r\n").encode()
        self.submit_raw("ida@a.example", data, ["BODY=8BITMIME"])
        self.assertTrue(wait_for(lambda: "rcpt=ida@a.example" in self.server.read_log()))
        log = self.server.read_log()
        self.assertRegex(log, r"event=failed \S+ rcpt=ida@a.example .*554 5.6.3")
        self.assertIn("event=downgrade-failed", log)
        self.assertEqual(self.got(self.mx[0], "cannot-convert"), [])
        self.assertEqual(self.got(self.mx[1], "cannot-convert"), [])
        got = wait_for(lambda: self.bounces("cannot-convert"))
        self.assertIn(b"Status: 5.6.3", got[0])

    def test_falls_back_to_the_next_mx_and_the_implicit_mx(self):
        self.submit(["dave@down.example"], "fallback")
        self.assertTrue(wait_for(lambda: self.got(self.mx[1], "fallback")))
        self.submit(["erin@plain.example"], "implicit")
        self.assertTrue(wait_for(lambda: self.got(self.mx[1], "implicit")))

    def test_retries_after_a_temporary_failure(self):
        self.mx[0].behaviour.rcpt_replies["frank@a.example"] = ["451 4.3.0 try later"]
        self.submit(["frank@a.example"], "retry")
        got = wait_for(lambda: self.got(self.mx[0], "retry"), timeout=30)
        self.assertEqual(len(got), 1)
        log = self.server.read_log()
        self.assertIn("event=deferred", log)
        self.assertRegex(log, r"event=done id=\S+ attempts=2")

    def test_permanent_failure_and_null_mx_fail_the_recipient(self):
        self.mx[0].behaviour.rcpt_replies["gone@a.example"] = ["550 5.1.1 no such user"]
        self.submit(["gone@a.example"], "perm")
        self.submit(["x@nullmx.example"], "nullmx")
        self.assertTrue(wait_for(lambda: "rcpt=gone@a.example" in self.server.read_log()
                                 and "rcpt=x@nullmx.example" in self.server.read_log()))
        log = self.server.read_log()
        self.assertRegex(log, r"event=failed \S+ rcpt=gone@a.example .*550 5.1.1")
        self.assertRegex(log, r"event=failed \S+ rcpt=x@nullmx.example .*556 5.1.10")
        self.assertTrue(wait_for(lambda: self.queue_ids() == []))

    def bounces(self, subject):
        return [m for m in mailbox(self.server, self.server.user, self.server.password)
                if b"report-type=delivery-status" in m and f"Subject: {subject}".encode() in m]

    def test_bounce_for_a_permanent_failure_honours_ret_envid_orcpt(self):
        self.mx[0].behaviour.rcpt_replies["nobody@a.example"] = ["550 5.1.1 no such user"]
        self.submit(["nobody@a.example"], "bounced", mail_options=["RET=HDRS", "ENVID=e42"],
                    rcpt_options=["ORCPT=rfc822;orig+2Bx@a.example"])
        got = wait_for(lambda: self.bounces("bounced"))
        self.assertEqual(len(got), 1)
        dsn = got[0].decode()
        self.assertIn("Content-Type: multipart/report; report-type=delivery-status", dsn)
        self.assertIn("From: Mail Delivery System <MAILER-DAEMON@", dsn)
        self.assertIn("Original-Envelope-Id: e42\r\n", dsn)
        self.assertIn("Original-Recipient: rfc822;orig+x@a.example\r\n", dsn)
        self.assertIn("Final-Recipient: rfc822;nobody@a.example\r\nAction: failed\r\n"
                      "Status: 5.1.1\r\nRemote-MTA: dns; mx1.a.example\r\n"
                      "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n", dsn)
        self.assertIn("Content-Type: text/rfc822-headers", dsn)
        self.assertNotIn(".dot line", dsn)  # headers only

    def test_notify_never_and_success(self):
        self.mx[0].behaviour.rcpt_replies["quiet@a.example"] = ["550 5.1.1 no such user"]
        self.submit(["quiet@a.example"], "never-bounced", rcpt_options=["NOTIFY=NEVER"])
        b = self.mx[1].behaviour
        saved = list(b.extensions)
        b.extensions = ["PIPELINING"]  # no DSN: tern reports "relayed" itself
        self.addCleanup(setattr, b, "extensions", saved)
        self.mx[1].drop_connections()
        self.submit(["happy@plain.example"], "relayed", rcpt_options=["NOTIFY=SUCCESS"])
        got = wait_for(lambda: self.bounces("relayed"))
        self.assertIn("Action: relayed", got[0].decode())
        self.assertIn("Content-Type: message/rfc822", got[0].decode())
        self.assertIn(".dot line", got[0].decode())
        self.assertTrue(wait_for(lambda: "rcpt=quiet@a.example" in self.server.read_log()))
        time.sleep(1)
        self.assertEqual(self.bounces("never-bounced"), [])

    def test_only_pending_recipients_are_retried(self):
        self.mx[1].behaviour.rcpt_replies["hank@plain.example"] = ["451 4.2.0 busy"] * 2
        self.submit(["ivy@a.example", "hank@plain.example"], "partial")
        self.assertTrue(wait_for(lambda: self.got(self.mx[1], "partial"), timeout=30))
        self.assertTrue(wait_for(lambda: self.queue_ids() == []))
        self.assertEqual(len(self.got(self.mx[0], "partial")), 1)

    def test_delay_warning_once_for_notify_delay(self):
        self.mx[0].behaviour.rcpt_replies["slow@a.example"] = ["451 4.3.0 later"] * 3
        self.submit(["slow@a.example"], "slow", rcpt_options=["NOTIFY=DELAY,FAILURE"])
        self.assertTrue(wait_for(lambda: self.got(self.mx[0], "slow"), timeout=30))
        got = wait_for(lambda: self.bounces("slow"))
        self.assertEqual(len(got), 1)
        dsn = got[0].decode()
        self.assertIn("Action: delayed\r\nStatus: 4.3.0\r\n", dsn)
        self.assertIn("Subject: Delivery Status Notification", dsn)

    def test_per_domain_connection_limit(self):
        b = self.mx[1].behaviour
        b.data_delay = 0.5
        self.addCleanup(setattr, b, "data_delay", 0)
        self.mx[1].max_active = 0
        for i in range(5):
            self.submit([f"p{i}@plain.example"], f"limit{i}")
        self.assertTrue(wait_for(lambda: all(self.got(self.mx[1], f"limit{i}")
                                             for i in range(5)), timeout=30))
        self.assertEqual(self.mx[1].max_active, 2)  # delivery.per_domain

    def test_failed_tls_handshake_falls_back_to_plaintext(self):
        b = self.mx[1].behaviour
        b.break_tls = True
        self.addCleanup(setattr, b, "break_tls", False)
        self.mx[1].drop_connections()
        self.submit(["tls@plain.example"], "tls-fallback")
        got = wait_for(lambda: self.got(self.mx[1], "tls-fallback"))
        self.assertFalse(got[0]["tls"])
        self.assertIn("event=tls-failed host=plain.example", self.server.read_log())

    def test_requiretls_bounces_without_a_verified_certificate(self):
        s = smtplib.SMTP("127.0.0.1", self.p["submission"], timeout=10)
        self.addCleanup(s.close)
        s.starttls(context=client_ssl_context())
        s.login(self.server.user, self.server.password)
        self.assertTrue(s.has_extn("REQUIRETLS"))
        s.sendmail(self.server.user, ["strict@a.example"],
                   message(self.server.user, "strict@a.example", "requiretls"),
                   mail_options=["REQUIRETLS"])
        s.quit()
        got = wait_for(lambda: self.bounces("requiretls"))
        self.assertIn("Status: 5.7.10", got[0].decode())
        self.assertEqual(self.got(self.mx[0], "requiretls"), [])

    def test_hold_release_retry_delete(self):
        b = self.mx[0].behaviour
        b.rcpt_replies["held@a.example"] = ["451 4.3.0 later"] * 100
        self.submit(["held@a.example"], "held")
        qid = wait_for(lambda: self.queue_ids())[0]
        self.addCleanup(tern, "queue", "delete", qid, data_dir=self.server.dir, check=False)
        self.assertTrue(wait_for(lambda: re.search(
            r"state rcpt 0 pending 451 4.3.0 later \(mx1.a.example\)",
            tern("queue", "show", qid, data_dir=self.server.dir).stdout)))
        tern("queue", "hold", qid, data_dir=self.server.dir)
        b.rcpt_replies["held@a.example"] = []
        time.sleep(3)
        self.assertEqual(self.got(self.mx[0], "held"), [])
        tern("queue", "release", qid, data_dir=self.server.dir)
        self.assertTrue(wait_for(lambda: self.got(self.mx[0], "held")))
        # delete: a message that would never go
        b.rcpt_replies["never@a.example"] = ["451 4.3.0 later"] * 100
        self.submit(["never@a.example"], "never")
        qid = wait_for(lambda: self.queue_ids())[0]
        tern("queue", "delete", qid, data_dir=self.server.dir)
        self.assertEqual(self.queue_ids(), [])
        self.assertNotEqual(tern("queue", "retry", qid, data_dir=self.server.dir,
                                 check=False).returncode, 0)
        self.assertIn("0 messages", tern("queue", "retry", "--all",
                                         data_dir=self.server.dir).stdout)


def import_dkim():
    """dkimpy from Debian's python3-dkim (scripts/deps.sh), also when this
    Python is not Debian's."""
    try:
        import dkim
    except ImportError:
        import sys
        sys.path.append("/usr/lib/python3/dist-packages")
        import dkim
    return dkim


class DkimTest(unittest.TestCase):
    """tern dkim keygen for rsa and ed25519: both signatures on delivered
    mail verify with dkimpy against the printed TXT records; a changed body
    does not."""

    def test_signatures_verify_with_dkimpy(self):
        dkim = import_dkim()
        port = free_port(IPS)
        server = TernServer()
        self.addCleanup(server.cleanup)
        cert = os.path.join(server.dir, "tls", "cert.pem")
        key = os.path.join(server.dir, "tls", "key.pem")
        dns = DNS(server.tmp, ZONE_MX, ZONE_A)
        self.addCleanup(dns.stop)
        mx = MX(IPS[0], port, "mx1.a.example", cert, key)
        self.addCleanup(mx.stop)
        records = {}
        for typ in ("rsa", "ed25519"):
            out = tern("dkim", "keygen", "localhost", "--type", typ, data_dir=server.dir).stdout
            name, txt = re.match(r'^(\S+)\. TXT "(.*)"$', out.strip()).groups()
            records[name] = txt.encode()
        self.assertEqual(sorted(records), ["tern-ed25519._domainkey.localhost",
                                           "tern._domainkey.localhost"])
        self.assertNotEqual(tern("dkim", "keygen", "localhost", data_dir=server.dir,
                                 check=False).returncode, 0)  # exists already
        self.assertIn("localhost tern\n", tern("dkim", "list", data_dir=server.dir).stdout)
        server.add_config(f"[delivery]\nmx_port = {port}\n[dns]\n"
                          f"nameservers = 127.0.0.1:{dns.port}\n")
        server.start()
        s = smtplib.SMTP("127.0.0.1", server.base + 587, timeout=10)
        s.login(server.user, server.password)
        s.sendmail(server.user, ["lee@a.example"],
                   message(server.user, "lee@a.example", "signed") + b"  trailing  \r\n\r\n\r\n")
        s.quit()
        self.assertTrue(wait_for(lambda: mx.received))
        data = mx.received[0]["data"]

        def dnsfunc(name, timeout=5):
            return records.get(name.decode().rstrip("."), b"")

        d = dkim.DKIM(data)
        self.assertEqual(data.count(b"DKIM-Signature:"), 2)
        for idx in (0, 1):
            self.assertTrue(d.verify(idx=idx, dnsfunc=dnsfunc), idx)
        tampered = data.replace(b"hello", b"HELLO")
        self.assertFalse(dkim.verify(tampered, dnsfunc=dnsfunc))
        server.stop()


class CrashTest(unittest.TestCase):
    """SIGKILL while the remote server holds the reply to the data: after a
    restart the message goes again (SMTP allows that duplicate) and the
    queue empties; nothing is lost."""

    def test_sigkill_mid_delivery_loses_nothing(self):
        port = free_port(IPS)
        server = TernServer()
        self.addCleanup(server.cleanup)
        cert = os.path.join(server.dir, "tls", "cert.pem")
        key = os.path.join(server.dir, "tls", "key.pem")
        dns = DNS(server.tmp, ZONE_MX, ZONE_A)
        self.addCleanup(dns.stop)
        mx = MX(IPS[0], port, "mx1.a.example", cert, key)
        self.addCleanup(mx.stop)
        mx.behaviour.data_delay = 3
        server.add_config(f"[delivery]\nmx_port = {port}\n[dns]\n"
                          f"nameservers = 127.0.0.1:{dns.port}\n[queue]\nretry_first = 1s\n")
        server.start()
        s = smtplib.SMTP("127.0.0.1", server.base + 587, timeout=10)
        s.login(server.user, server.password)
        s.sendmail(server.user, ["kim@a.example"], message(server.user, "kim@a.example", "crash"))
        s.quit()
        self.assertTrue(wait_for(lambda: any("BDAT" in c for c in mx.commands)))
        server.signal(signal.SIGKILL)
        server.proc.wait(10)
        mx.behaviour.data_delay = 0
        server.start()
        self.assertTrue(wait_for(lambda: len(mx.received) >= 2, timeout=30))
        out = wait_for(lambda: "0 queued" in tern("queue", "list", data_dir=server.dir).stdout)
        self.assertTrue(out)
        server.stop()


    def test_sigterm_mid_delivery_stops_at_once(self):
        """A stop does not wait out a slow server (delivery.timeout): the
        delivery is cut, its recipient stays queued for the next start."""
        port = free_port(IPS)
        server = TernServer()
        self.addCleanup(server.cleanup)
        cert = os.path.join(server.dir, "tls", "cert.pem")
        key = os.path.join(server.dir, "tls", "key.pem")
        dns = DNS(server.tmp, ZONE_MX, ZONE_A)
        self.addCleanup(dns.stop)
        mx = MX(IPS[0], port, "mx1.a.example", cert, key)
        self.addCleanup(mx.stop)
        mx.behaviour.data_delay = 30
        server.add_config(f"[delivery]\nmx_port = {port}\n[dns]\n"
                          f"nameservers = 127.0.0.1:{dns.port}\n")
        server.start()
        s = smtplib.SMTP("127.0.0.1", server.base + 587, timeout=10)
        s.login(server.user, server.password)
        s.sendmail(server.user, ["slow@a.example"], message(server.user, "slow@a.example", "cut"))
        s.quit()
        self.assertTrue(wait_for(lambda: any("BDAT" in c for c in mx.commands)))
        t0 = time.time()
        server.stop()
        self.assertLess(time.time() - t0, 10)
        self.assertIn("1 queued", tern("queue", "list", data_dir=server.dir).stdout)
        self.assertIn("event=deferred", server.read_log())


class RelayhostTest(unittest.TestCase):
    """delivery.relayhost with AUTH: every remote recipient goes to the
    smarthost, whatever its domain, after AUTH PLAIN."""

    def test_relayhost_with_auth(self):
        port = free_port(IPS)
        server = TernServer()
        self.addCleanup(server.cleanup)
        cert = os.path.join(server.dir, "tls", "cert.pem")
        key = os.path.join(server.dir, "tls", "key.pem")
        relay = MX(IPS[1], port, "smarthost.example", cert, key)
        self.addCleanup(relay.stop)
        relay.behaviour.auth = ("relayuser", "relay-secret")
        with open(os.path.join(server.dir, "relay.pw"), "w") as f:
            f.write("relay-secret\n")
        server.add_config(f"[delivery]\nrelayhost = {IPS[1]}:{port}\nrelay_user = relayuser\n"
                          "relay_password_file = relay.pw\n")
        server.start()
        s = smtplib.SMTP("127.0.0.1", server.base + 587, timeout=10)
        s.login(server.user, server.password)
        s.sendmail(server.user, ["a@one.example", "b@two.example"],
                   message(server.user, "a@one.example", "smarthost"))
        s.quit()
        self.assertTrue(wait_for(lambda: relay.received))
        self.assertEqual(len(relay.received), 1)
        self.assertEqual(len(relay.received[0]["rcpts"]), 2)
        self.assertTrue(relay.received[0]["tls"])
        self.assertTrue(any(c.startswith("AUTH PLAIN") for c in relay.commands))
        server.stop()


if __name__ == "__main__":
    unittest.main()
