"""DANE for SMTP (RFC 7672) on a loopback internet with DNSSEC: the zone
dane.example (MX, A, TLSA) is signed with ldns-signzone and served by NSD
on 127.0.0.1; tern's resolver validates it with the zone's DS record as
trust anchor (dns.trust_anchor_file). Test MX servers on 127.0.0.2 (a
certificate matching its TLSA records) and 127.0.0.3 (one that does not)
receive: DANE-EE(3) and DANE-TA(2) records that match deliver over TLS, a
mismatch defers the message (451 4.7.5), a host without TLSA records gets
opportunistic TLS. Edge cases: PKIX-TA(0)/PKIX-EE(1) records only are
unusable for SMTP (RFC 7672 section 3.1.3) but still make TLS mandatory
(section 2.2; 127.0.0.4 offers no STARTTLS); an MX name that is a CNAME
has its TLSA records looked up at the expanded name first, then at the
name itself (section 2.2.3)."""
import hashlib
import os
import re
import shutil
import smtplib
import subprocess
import time
import unittest

from harness import TernServer, tern
from mxserver import MX, free_port
from smtpclient import ports
from test_mta_sts import openssl
from test_outbound import message, wait_for

IPS = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]


def der(cert):
    return subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"], check=True,
                          capture_output=True).stdout


def spki(cert):
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"], check=True,
                         capture_output=True).stdout
    return subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                          check=True, capture_output=True).stdout


def make_certs(tmp):
    """A CA; "good" for mx and mxta (with the CA in its chain file), "other"
    self-signed for mxbad."""
    ca_key, ca = os.path.join(tmp, "ca.key"), os.path.join(tmp, "ca.pem")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
            "-days", "2", "-subj", "/CN=tern DANE test CA")
    key, csr, cert = (os.path.join(tmp, f"good.{e}") for e in ("key", "csr", "pem"))
    ext = os.path.join(tmp, "good.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:mx.dane.example,DNS:mxta.dane.example\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
            "-subj", "/CN=mx.dane.example")
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
            "-out", cert, "-days", "2", "-extfile", ext)
    chain = os.path.join(tmp, "good-chain.pem")
    with open(chain, "wb") as f, open(cert, "rb") as a, open(ca, "rb") as b:
        f.write(a.read() + b.read())
    okey, ocert = os.path.join(tmp, "other.key"), os.path.join(tmp, "other.pem")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", okey, "-out", ocert,
            "-days", "2", "-subj", "/CN=mxbad.dane.example",
            "-addext", "subjectAltName=DNS:mxbad.dane.example")
    return {"ca": ca, "good": (chain, key, cert), "other": (ocert, okey)}


class SignedZone:
    """dane.example signed with ldns-signzone, served by NSD; trust_anchor
    is the DS record's file."""

    def __init__(self, tmp, records):
        self.dir = os.path.join(tmp, "nsd")
        os.makedirs(self.dir)
        self.port = free_port(["127.0.0.1"])
        zone = os.path.join(self.dir, "dane.example.zone")
        with open(zone, "w") as f:
            f.write("$ORIGIN dane.example.\n$TTL 300\n"
                    "@ IN SOA ns.dane.example. host.dane.example. 1 3600 600 86400 300\n"
                    "@ IN NS ns.dane.example.\nns IN A 127.0.0.1\n" + records)

        def run(*args):
            return subprocess.run(args, check=True, capture_output=True, text=True,
                                  cwd=self.dir).stdout.strip()

        ksk = run("ldns-keygen", "-a", "ECDSAP256SHA256", "-k", "dane.example")
        zsk = run("ldns-keygen", "-a", "ECDSAP256SHA256", "dane.example")
        run("ldns-signzone", "-n", zone, ksk, zsk)
        self.trust_anchor = os.path.join(self.dir, ksk + ".ds")
        conf = os.path.join(self.dir, "nsd.conf")
        with open(conf, "w") as f:
            f.write(f"""server:
  ip-address: 127.0.0.1@{self.port}
  port: {self.port}
  username: ""
  chroot: ""
  zonesdir: "{self.dir}"
  pidfile: "{self.dir}/nsd.pid"
  database: ""
  xfrdfile: "{self.dir}/xfrd.state"
  zonelistfile: "{self.dir}/zone.list"
  xfrdir: "{self.dir}"
  logfile: "{self.dir}/nsd.log"
remote-control:
  control-enable: no
zone:
  name: dane.example
  zonefile: dane.example.zone.signed
""")
        nsd = shutil.which("nsd") or "/usr/sbin/nsd"
        self.proc = subprocess.Popen([nsd, "-d", "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            r = subprocess.run(["dig", "+short", "+norec", "-p", str(self.port), "@127.0.0.1",
                                "ns.dane.example", "A"], capture_output=True, text=True)
            if r.stdout.strip() == "127.0.0.1":
                return
            time.sleep(0.1)
        raise AssertionError("nsd did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


class DaneTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.port = free_port(IPS)
        cls.server = TernServer()
        certs = make_certs(cls.server.tmp)
        chain, key, leaf = certs["good"]
        ee = hashlib.sha256(spki(leaf)).hexdigest()
        ta = hashlib.sha256(der(certs["ca"])).hexdigest()
        p = cls.port
        records = (
            "mx IN A 127.0.0.2\n"
            f"_{p}._tcp.mx IN TLSA 3 1 1 {ee}\n"
            "mxta IN A 127.0.0.2\n"
            f"_{p}._tcp.mxta IN TLSA 2 0 1 {ta}\n"
            "mxbad IN A 127.0.0.3\n"
            f"_{p}._tcp.mxbad IN TLSA 3 1 1 {ee}\n"
            "mxplain IN A 127.0.0.3\n"
            "mxpkix IN A 127.0.0.2\n"
            f"_{p}._tcp.mxpkix IN TLSA 1 1 1 {ee}\n"
            "mxpkixplain IN A 127.0.0.4\n"
            f"_{p}._tcp.mxpkixplain IN TLSA 0 0 1 {ta}\n"
            "alias IN CNAME mx.dane.example.\n"
            "alias2 IN CNAME mx.dane.example.\n"
            f"_{p}._tcp.alias2 IN TLSA 3 1 1 {'00' * 32}\n"
            "alias3 IN CNAME mxplain.dane.example.\n"
            f"_{p}._tcp.alias3 IN TLSA 3 1 1 {ee}\n"
            "pkix IN MX 10 mxpkix.dane.example.\n"
            "pkixplain IN MX 10 mxpkixplain.dane.example.\n"
            "cname IN MX 10 alias.dane.example.\n"
            "cname2 IN MX 10 alias2.dane.example.\n"
            "cname3 IN MX 10 alias3.dane.example.\n"
            "good IN MX 10 mx.dane.example.\n"
            "ta IN MX 10 mxta.dane.example.\n"
            "bad IN MX 10 mxbad.dane.example.\n"
            "plain IN MX 10 mxplain.dane.example.\n")
        cls.zone = SignedZone(cls.server.tmp, records)
        cls.mx = [MX(IPS[0], p, "mx.dane.example", chain, key),
                  MX(IPS[1], p, "mxbad.dane.example", *certs["other"]),
                  MX(IPS[2], p, "mxpkixplain.dane.example", *certs["other"])]
        cls.mx[2].behaviour.extensions.remove("STARTTLS")
        cls.server.add_config(
            f"[delivery]\nmx_port = {p}\ntimeout = 5s\ntlsrpt = yes\n"
            f"[dns]\nnameservers = 127.0.0.1:{cls.zone.port}\n"
            f"trust_anchor_file = {cls.zone.trust_anchor}\n"
            "[queue]\nretry_first = 1s\nretry_max = 2s\n")
        cls.server.start()
        cls.p = ports(cls.server)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            for m in cls.mx:
                m.stop()
            cls.zone.stop()
            cls.server.cleanup()

    def submit(self, rcpt, subject):
        s = smtplib.SMTP("127.0.0.1", self.p["submission"], timeout=10)
        self.addCleanup(s.close)
        s.login(self.server.user, self.server.password)
        s.sendmail(self.server.user, [rcpt], message(self.server.user, rcpt, subject))
        s.quit()

    def got(self, mx, subject):
        return [m for m in mx.received if f"Subject: {subject}".encode() in m["data"]]

    def drop_queue(self):
        out = tern("queue", "list", data_dir=self.server.dir).stdout
        for qid in re.findall(r"^([0-9a-f]{26}) ", out, re.M):
            tern("queue", "delete", qid, data_dir=self.server.dir)

    def test_dane_ee_match_delivers_over_tls(self):
        self.submit("bob@good.dane.example", "dane-ee")
        got = wait_for(lambda: self.got(self.mx[0], "dane-ee"))
        self.assertEqual(len(got), 1)
        self.assertTrue(got[0]["tls"])
        self.assertIn("event=dane-verified", self.server.read_log())
        self.assertRegex(self.server.read_log(), r"event=dane-verified \S+ host=mx.dane.example")

    def test_dane_ta_match_delivers(self):
        self.submit("carol@ta.dane.example", "dane-ta")
        got = wait_for(lambda: self.got(self.mx[0], "dane-ta"))
        self.assertEqual(len(got), 1)
        self.assertTrue(got[0]["tls"])
        self.assertRegex(self.server.read_log(),
                         r"event=dane-verified \S+ host=mxta.dane.example")

    def test_mismatch_defers_without_plaintext(self):
        self.addCleanup(self.drop_queue)
        self.submit("dave@bad.dane.example", "dane-bad")
        self.assertTrue(wait_for(lambda: re.search(
            r"event=deferred \S+ rcpt=dave@bad.dane.example .*4\.7\.5",
            self.server.read_log())), self.server.read_log()[-2000:])
        self.assertEqual(self.got(self.mx[1], "dane-bad"), [])
        self.assertNotIn("action=plaintext", self.server.read_log())
        # TLS-RPT (RFC 8460 section 4.4) counts it under the host's TLSA policy.
        self.assertRegex(tern("tlsrpt", "show", data_dir=self.server.dir).stdout,
                         r"bad\.dane\.example tlsa tlsa-invalid \d+ mx=mxbad\.dane\.example "
                         r"ip=127\.0\.0\.3")

    def test_host_without_tlsa_is_opportunistic(self):
        self.submit("erin@plain.dane.example", "dane-none")
        got = wait_for(lambda: self.got(self.mx[1], "dane-none"))
        self.assertEqual(len(got), 1)
        self.assertTrue(got[0]["tls"])  # any certificate will do

    def test_pkix_only_records_make_tls_mandatory_unauthenticated(self):
        self.submit("frank@pkix.dane.example", "dane-pkix")
        got = wait_for(lambda: self.got(self.mx[0], "dane-pkix"))
        self.assertEqual(len(got), 1)
        self.assertTrue(got[0]["tls"])  # the name does not match: not checked
        self.assertRegex(self.server.read_log(),
                         r"event=dane-unusable \S+ host=mxpkix.dane.example reason=\"TLSA "
                         r"records for \S+ none usable for SMTP\"")

    def test_pkix_only_records_refuse_plaintext(self):
        self.addCleanup(self.drop_queue)
        self.submit("gina@pkixplain.dane.example", "dane-pkixplain")
        self.assertTrue(wait_for(lambda: re.search(
            r"event=deferred \S+ rcpt=gina@pkixplain.dane.example .*4\.7\.5 "
            r"mxpkixplain.dane.example offers no TLS", self.server.read_log())),
            self.server.read_log()[-2000:])
        self.assertEqual(self.got(self.mx[2], "dane-pkixplain"), [])

    def test_cname_target_records_are_used(self):
        self.submit("hank@cname.dane.example", "dane-cname")
        got = wait_for(lambda: self.got(self.mx[0], "dane-cname"))
        self.assertEqual(len(got), 1)
        self.assertRegex(self.server.read_log(),
                         r"event=dane-verified \S+ host=alias.dane.example")

    def test_cname_target_records_come_first(self):
        # alias2's own record matches nothing; its target's matches.
        self.submit("ida@cname2.dane.example", "dane-cname2")
        got = wait_for(lambda: self.got(self.mx[0], "dane-cname2"))
        self.assertEqual(len(got), 1)
        self.assertRegex(self.server.read_log(),
                         r"event=dane-verified \S+ host=alias2.dane.example")

    def test_cname_without_target_records_uses_the_alias_records(self):
        # mxplain has no TLSA records: alias3's own apply, and its server's
        # certificate does not match them.
        self.addCleanup(self.drop_queue)
        self.submit("jack@cname3.dane.example", "dane-cname3")
        self.assertTrue(wait_for(lambda: re.search(
            r"event=deferred \S+ rcpt=jack@cname3.dane.example .*4\.7\.5",
            self.server.read_log())), self.server.read_log()[-2000:])
        self.assertEqual(self.got(self.mx[1], "dane-cname3"), [])


if __name__ == "__main__":
    unittest.main()
