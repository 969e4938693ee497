"""Inbound SPF, DKIM and DMARC on the MX (docs/SMTP.md "Inbound
authentication"): dnsmasq serves SPF, DKIM key and DMARC TXT records for
test domains; mail signed with dkimpy (rsa-sha256 and ed25519-sha256)
arrives from 127.0.0.1 and must come out with the right
Authentication-Results header, and each domain's policy must act: p=reject
refused at DATA (550 5.7.26), p=quarantine into Junk, p=none delivered, and
the per recipient domain overrides of mailauth.domains."""
import base64
import os
import re
import subprocess
import unittest

from harness import TernServer, tern
from mxserver import DNS
from smtpclient import RawSMTP, mailbox, ports
from test_outbound import import_dkim


def rsa_key(tmp):
    path = os.path.join(tmp, "dkim-rsa.pem")
    subprocess.run(["openssl", "genrsa", "-out", path, "2048"], check=True,
                   capture_output=True)
    der = subprocess.run(["openssl", "rsa", "-in", path, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    with open(path, "rb") as f:
        return f.read(), base64.b64encode(der).decode()


def ed25519_key():
    import sys
    try:
        import nacl.signing
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")
        import nacl.signing
    k = nacl.signing.SigningKey.generate()
    return (base64.b64encode(bytes(k)),
            base64.b64encode(bytes(k.verify_key)).decode())


def message(frm, subject, body="hello\r\nsecond line\r\n"):
    return (f"From: <{frm}>\r\nTo: <rcpt@localhost>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject}@test>\r\nDate: Tue, 01 Dec 2026 21:00:00 +0000\r\n"
            f"\r\n{body}").encode()


class MailAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dkim = import_dkim()
        cls.server = TernServer()
        cls.rsa_priv, rsa_pub = rsa_key(cls.server.tmp)
        cls.ed_priv, ed_pub = ed25519_key()
        here = "ip4:127.0.0.1"
        txt = {
            # SPF passes for 127.0.0.1, DKIM keys for both algorithms, p=reject
            "good.example": f"v=spf1 {here} -all",
            "sub.good.example": f"v=spf1 {here} -all",
            "sel._domainkey.good.example": f"v=DKIM1; k=rsa; p={rsa_pub}",
            "ed._domainkey.good.example": f"v=DKIM1; k=ed25519; p={ed_pub}",
            "_dmarc.good.example": "v=DMARC1; p=reject",
            # a third party that signs for anyone: DKIM passes, not aligned
            "sel._domainkey.third.example": f"v=DKIM1; k=rsa; p={rsa_pub}",
            # SPF fails for 127.0.0.1; the three DMARC policies
            "reject.example": "v=spf1 ip4:192.0.2.1 -all",
            "_dmarc.reject.example": "v=DMARC1; p=reject",
            "quarantine.example": "v=spf1 ip4:192.0.2.1 -all",
            "_dmarc.quarantine.example": "v=DMARC1; p=quarantine",
            "monitor.example": "v=spf1 ip4:192.0.2.1 -all",
            "_dmarc.monitor.example": "v=DMARC1; p=none",
        }
        cls.dns = DNS(cls.server.tmp, {}, {}, txt)
        cls.server.add_config(
            "[smtp]\ndomains = localhost lenient.example strict.example\n"
            f"[dns]\nnameservers = 127.0.0.1:{cls.dns.port}\n"
            "[mailauth]\nenabled = yes\n"
            "domains = lenient.example:deliver strict.example:reject\n")
        tern("alias", "add", "a@lenient.example", cls.server.user, data_dir=cls.server.dir)
        tern("alias", "add", "a@strict.example", cls.server.user, data_dir=cls.server.dir)
        cls.server.start()
        cls.port = ports(cls.server)["smtp"]

    @classmethod
    def tearDownClass(cls):
        try:
            rc = cls.server.stop()
        finally:
            cls.dns.stop()
        log = cls.server.read_log()
        cls.server.cleanup()
        if rc != 0:
            raise AssertionError(f"tern serve exited {rc}:\n{log[-3000:]}")

    def sign(self, msg, domain, selector, ed=False):
        key = self.ed_priv if ed else self.rsa_priv
        sig = self.dkim.sign(msg, selector.encode(), domain.encode(), key,
                             signature_algorithm=b"ed25519-sha256" if ed else b"rsa-sha256",
                             include_headers=[b"from", b"to", b"subject", b"date"])
        return sig.replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n") + msg

    def send(self, sender, data, rcpt=None, helo="client.example"):
        rcpt = rcpt or self.server.user
        c = RawSMTP(self.port)
        self.addCleanup(c.close)
        self.assertEqual(c.reply()[0], 220)
        self.assertEqual(c.cmd(f"EHLO {helo}")[0], 250)
        self.assertEqual(c.cmd(f"MAIL FROM:<{sender}>")[0], 250)
        self.assertEqual(c.cmd(f"RCPT TO:<{rcpt}>")[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send(data.replace(b"\r\n.", b"\r\n..") + b".\r\n")
        code, text, _ = c.reply()
        c.cmd("QUIT")
        return code, text

    def stored(self, subject, folder="INBOX"):
        msgs = mailbox(self.server, self.server.user, self.server.password, folder) or []
        got = [m for m in msgs if f"Subject: {subject}\r\n".encode() in m]
        return got[0] if got else None

    def results(self, raw):
        """The Authentication-Results field, unfolded, and the field names
        before the message's own header."""
        m = re.search(rb"^Authentication-Results: (.*?)\r\n(?![ \t])", raw, re.M | re.S)
        self.assertIsNotNone(m, raw[:600])
        names = re.findall(rb"^([A-Za-z-]+):", raw.split(b"\r\nFrom: ")[0], re.M)
        return re.sub(rb"\r\n[ \t]+", b" ", m.group(1)).decode(), [n.decode() for n in names]

    def test_rsa_signature_spf_and_dmarc_pass(self):
        msg = self.sign(message("alice@good.example", "rsa-pass"), "good.example", "sel")
        self.assertEqual(self.send("alice@good.example", msg)[0], 250)
        ar, names = self.results(self.stored("rsa-pass"))
        self.assertEqual(names[:4], ["Return-Path", "Delivered-To", "Authentication-Results",
                                     "Received"])
        self.assertTrue(ar.startswith("localhost; spf=pass smtp.mailfrom=good.example;"), ar)
        self.assertRegex(ar, r"dkim=pass header\.d=good\.example header\.s=sel "
                             r"header\.a=rsa-sha256 header\.b=\"[A-Za-z0-9+/]{8}\"")
        self.assertIn("dmarc=pass header.from=good.example", ar)

    def test_ed25519_signature_passes(self):
        msg = self.sign(message("alice@good.example", "ed-pass"), "good.example", "ed", ed=True)
        # From another IP's point of view SPF would fail: DKIM alone aligns.
        self.assertEqual(self.send("alice@good.example", msg)[0], 250)
        ar, _ = self.results(self.stored("ed-pass"))
        self.assertIn("dkim=pass header.d=good.example header.s=ed header.a=ed25519-sha256", ar)
        self.assertIn("dmarc=pass", ar)

    def test_changed_body_fails_dkim_but_spf_aligns(self):
        msg = self.sign(message("alice@good.example", "tampered"), "good.example", "sel")
        msg = msg.replace(b"second line", b"SECOND line")
        self.assertEqual(self.send("alice@good.example", msg)[0], 250)
        ar, _ = self.results(self.stored("tampered"))
        self.assertIn("dkim=fail header.d=good.example", ar)
        self.assertIn("spf=pass", ar)
        self.assertIn("dmarc=pass", ar)

    def test_relaxed_alignment_of_a_subdomain_sender(self):
        msg = message("alice@good.example", "relaxed")
        self.assertEqual(self.send("bounces@sub.good.example", msg)[0], 250)
        ar, _ = self.results(self.stored("relaxed"))
        self.assertIn("spf=pass smtp.mailfrom=sub.good.example", ar)
        self.assertIn("dkim=none", ar)
        self.assertIn("dmarc=pass header.from=good.example", ar)

    def test_p_reject_is_refused_at_data(self):
        code, text = self.send("x@reject.example", message("x@reject.example", "rejected"))
        self.assertEqual(code, 550)
        self.assertTrue(text.startswith("5.7.26 "), text)
        self.assertIn("reject.example", text)
        self.assertIsNone(self.stored("rejected"))
        self.assertRegex(self.server.read_log(),
                         r"event=mailauth spf=fail dkim=none dmarc=fail "
                         r"from-domain=reject.example action=reject")

    def test_unaligned_signature_does_not_save_a_forgery(self):
        # Signed by third.example, From: good.example (p=reject), SPF of
        # the envelope domain (reject.example) fails: DMARC fails.
        msg = self.sign(message("ceo@good.example", "forged"), "third.example", "sel")
        code, _ = self.send("x@reject.example", msg)
        self.assertEqual(code, 550)
        self.assertIsNone(self.stored("forged"))

    def test_spf_pass_for_another_domain_does_not_align(self):
        # The sender's own domain passes SPF; From: names reject.example.
        code, _ = self.send("alice@good.example", message("ceo@reject.example", "unaligned"))
        self.assertEqual(code, 550)
        self.assertIsNone(self.stored("unaligned"))

    def test_p_quarantine_goes_to_junk(self):
        self.assertEqual(self.send("x@quarantine.example",
                                   message("x@quarantine.example", "junked"))[0], 250)
        self.assertIsNone(self.stored("junked"))
        ar, _ = self.results(self.stored("junked", "Junk"))
        self.assertIn("spf=fail smtp.mailfrom=quarantine.example", ar)
        self.assertIn("dmarc=fail (p=quarantine) header.from=quarantine.example", ar)

    def test_p_none_is_delivered_with_the_failure_recorded(self):
        self.assertEqual(self.send("x@monitor.example",
                                   message("x@monitor.example", "monitored"))[0], 250)
        ar, _ = self.results(self.stored("monitored"))
        self.assertIn("dmarc=fail (p=none) header.from=monitor.example", ar)

    def test_recipient_domain_policies_override_the_sender(self):
        # lenient.example delivers what p=reject would refuse...
        self.assertEqual(self.send("x@reject.example", message("x@reject.example", "lenient"),
                                   rcpt="a@lenient.example")[0], 250)
        ar, _ = self.results(self.stored("lenient"))
        self.assertIn("dmarc=fail (p=reject)", ar)
        # ...strict.example refuses what p=none would let through.
        code, _ = self.send("x@monitor.example", message("x@monitor.example", "strict"),
                            rcpt="a@strict.example")
        self.assertEqual(code, 550)
        self.assertIsNone(self.stored("strict"))

    def test_no_records_and_the_null_sender(self):
        self.assertEqual(self.send("x@nothing.example",
                                   message("x@nothing.example", "nothing"))[0], 250)
        ar, _ = self.results(self.stored("nothing"))
        self.assertIn("spf=none smtp.mailfrom=nothing.example", ar)
        self.assertIn("dkim=none", ar)
        self.assertIn("dmarc=none header.from=nothing.example", ar)
        # RFC 7208 section 2.4: the null sender is checked by its HELO name.
        self.assertEqual(self.send("", message("mailer-daemon@good.example", "bounce"),
                                   helo="good.example")[0], 250)
        ar, _ = self.results(self.stored("bounce"))
        self.assertIn("spf=pass smtp.helo=good.example", ar)
        self.assertIn("dmarc=pass", ar)

    def test_results_claiming_our_name_are_removed(self):
        # RFC 8601 section 5: a field with our authserv-id (any case, after
        # a comment, folded) is a forgery; another server's stays.
        msg = (b"Authentication-Results: LOCALHOST; dmarc=pass header.from=monitor.example\r\n"
               b"Authentication-Results: (c) localhost\r\n\t; spf=pass\r\n"
               b"Authentication-Results: mx.other.example; spf=fail\r\n"
               + message("x@monitor.example", "forged-ar"))
        self.assertEqual(self.send("x@monitor.example", msg)[0], 250)
        raw = self.stored("forged-ar")
        ar, _ = self.results(raw)  # the first one is ours
        self.assertIn("dmarc=fail (p=none) header.from=monitor.example", ar)
        self.assertEqual(raw.count(b"Authentication-Results:"), 2, raw[:800])
        self.assertIn(b"Authentication-Results: mx.other.example; spf=fail\r\n", raw)
        self.assertNotIn(b"dmarc=pass header.from=monitor.example", raw)
        self.assertRegex(self.server.read_log(), r"event=mailauth .*action=deliver dropped=2")


if __name__ == "__main__":
    unittest.main()
