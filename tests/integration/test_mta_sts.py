"""MTA-STS (RFC 8461) on a loopback internet: dnsmasq serves MX, A and
_mta-sts TXT records, a Python HTTPS server on 127.0.0.4 serves each
domain's policy with a certificate from a test CA (tern trusts it through
delivery.ca_file), and the test MX servers on 127.0.0.2 (a certificate
valid for its name) and 127.0.0.3 (one for another name) receive. Enforce
delivers only over verified TLS to an MX the policy names, testing
delivers anyway and logs, the policy is cached in DIR/mta-sts and used
from there while the TXT id stays the same, and a failed fetch is not
repeated for five minutes (section 3.3)."""
import http.server
import os
import re
import smtplib
import ssl
import subprocess
import threading
import unittest

from harness import TernServer, tern
from mxserver import DNS, MX, free_port
from smtpclient import ports
from test_outbound import message, wait_for

IPS = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
ZONE_MX = {
    "sts.example": [(10, "mx1.sts.example")],
    "badcert.example": [(10, "mx.badcert.example")],
    "wrongmx.example": [(10, "mx1.sts.example")],
    "testing.example": [(10, "mx.badcert.example")],
    "down.example": [(10, "mx1.sts.example")],
}
ZONE_A = {"mx1.sts.example": "127.0.0.2", "mx.badcert.example": "127.0.0.3"}
POLICIES = {
    "sts.example": "version: STSv1\r\nmode: enforce\r\nmx: *.sts.example\r\nmax_age: 86400\r\n",
    "badcert.example": "version: STSv1\nmode: enforce\nmx: mx.badcert.example\nmax_age: 86400\n",
    "wrongmx.example": "version: STSv1\nmode: enforce\nmx: mail.wrongmx.example\nmax_age: 86400\n",
    "testing.example": "version: STSv1\nmode: testing\nmx: mx.badcert.example\nmax_age: 86400\n",
}


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_certs(tmp):
    """A test CA, and leaf certificates it signs: (ca, {name: (cert, key)})."""
    ca_key, ca = os.path.join(tmp, "ca.key"), os.path.join(tmp, "ca.pem")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
            "-days", "2", "-subj", "/CN=tern test CA")
    leaves = {}
    for label, names in (("mx1", ["mx1.sts.example"]), ("wrong", ["wrong.example"]),
                         ("web", ["mta-sts." + d for d in [*POLICIES, "down.example"]])):
        key, csr, cert = (os.path.join(tmp, f"{label}.{ext}") for ext in ("key", "csr", "pem"))
        ext = os.path.join(tmp, f"{label}.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=" + ",".join("DNS:" + n for n in names) + "\n")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
                "-subj", f"/CN={names[0]}")
        openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                "-out", cert, "-days", "2", "-extfile", ext)
        leaves[label] = (cert, key)
    return ca, leaves


class PolicyServer(http.server.ThreadingHTTPServer):
    """HTTPS on ip:port: /.well-known/mta-sts.txt by Host; counts requests."""

    def __init__(self, ip, port, cert, key):
        self.requests = {}
        self.status = 200
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                host = (self.headers.get("Host") or "").split(":")[0]
                domain = host[len("mta-sts."):] if host.startswith("mta-sts.") else ""
                outer.requests[domain] = outer.requests.get(domain, 0) + 1
                body = POLICIES.get(domain)
                if self.path != "/.well-known/mta-sts.txt" or body is None \
                        or outer.status != 200:
                    self.send_error(404 if outer.status == 200 else outer.status)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        super().__init__((ip, port), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.socket = ctx.wrap_socket(self.socket, server_side=True)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.shutdown()
        self.server_close()


class MtaStsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.port = free_port(IPS)
        cls.server = TernServer()
        ca, leaves = make_certs(cls.server.tmp)
        # down.example announces a policy its host does not serve (404).
        txt = {f"_mta-sts.{d}": "v=STSv1; id=20261202T1" for d in [*POLICIES, "down.example"]}
        a = dict(ZONE_A, **{f"mta-sts.{d}": "127.0.0.4" for d in [*POLICIES, "down.example"]})
        cls.dns = DNS(cls.server.tmp, ZONE_MX, a, txt)
        cls.mx = [MX(IPS[0], cls.port, "mx1.sts.example", *leaves["mx1"]),
                  MX(IPS[1], cls.port, "mx.badcert.example", *leaves["wrong"])]
        cls.web = PolicyServer(IPS[2], cls.port, *leaves["web"])
        cls.server.add_config(
            f"[delivery]\nmx_port = {cls.port}\nmta_sts_port = {cls.port}\n"
            f"ca_file = {ca}\ntimeout = 5s\ntlsrpt = yes\n"
            f"[dns]\nnameservers = 127.0.0.1:{cls.dns.port}\n"
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
            cls.web.stop()
            cls.dns.stop()
            cls.server.cleanup()

    def submit(self, rcpt, subject):
        s = smtplib.SMTP("127.0.0.1", self.p["submission"], timeout=10)
        self.addCleanup(s.close)
        s.login(self.server.user, self.server.password)
        s.sendmail(self.server.user, [rcpt], message(self.server.user, rcpt, subject))
        s.quit()

    def got(self, mx, subject):
        return [m for m in mx.received if f"Subject: {subject}".encode() in m["data"]]

    def queue_ids(self):
        out = tern("queue", "list", data_dir=self.server.dir).stdout
        return re.findall(r"^([0-9a-f]{26}) ", out, re.M)

    def drop_queue(self):
        for qid in self.queue_ids():
            tern("queue", "delete", qid, data_dir=self.server.dir)

    def test_enforce_delivers_over_verified_tls_and_caches_the_policy(self):
        self.submit("bob@sts.example", "sts-enforce")
        got = wait_for(lambda: self.got(self.mx[0], "sts-enforce"))
        self.assertEqual(len(got), 1)
        self.assertTrue(got[0]["tls"])
        self.assertRegex(self.server.read_log(),
                         r"event=mta-sts-policy domain=sts.example id=20261202T1 mode=enforce")
        with open(os.path.join(self.server.dir, "mta-sts", "sts.example")) as f:
            cached = f.read()
        self.assertTrue(cached.startswith("tern-mta-sts 1 "), cached)
        self.assertIn("mx: *.sts.example", cached)

    def test_enforce_refuses_a_certificate_for_another_name(self):
        self.addCleanup(self.drop_queue)
        self.submit("carol@badcert.example", "sts-badcert")
        self.assertTrue(wait_for(lambda: re.search(
            r"event=deferred \S+ rcpt=carol@badcert.example .*4\.7\.5",
            self.server.read_log())), self.server.read_log()[-2000:])
        self.assertEqual(self.got(self.mx[1], "sts-badcert"), [])
        self.assertEqual(len(self.queue_ids()), 1)
        # The policy host fails now; the TXT id is the same, so the cached
        # policy applies (no new fetch) and still refuses.
        fetched = self.web.requests.get("badcert.example")
        self.web.status = 500
        self.addCleanup(setattr, self.web, "status", 200)
        self.drop_queue()
        self.submit("dave@badcert.example", "sts-badcert-cached")
        self.assertTrue(wait_for(lambda: "rcpt=dave@badcert.example" in self.server.read_log()))
        self.assertRegex(self.server.read_log(),
                         r"event=deferred \S+ rcpt=dave@badcert.example .*4\.7\.5")
        self.assertEqual(self.got(self.mx[1], "sts-badcert-cached"), [])
        self.assertEqual(self.web.requests.get("badcert.example"), fetched)

    def test_enforce_refuses_an_mx_the_policy_does_not_name(self):
        self.addCleanup(self.drop_queue)
        self.submit("erin@wrongmx.example", "sts-wrongmx")
        self.assertTrue(wait_for(lambda: re.search(
            r"event=deferred \S+ rcpt=erin@wrongmx.example .*4\.7\.5 mx1.sts.example is not "
            r"an MX host of the MTA-STS policy of wrongmx.example", self.server.read_log())),
            self.server.read_log()[-2000:])
        self.assertIn("event=mta-sts-refused", self.server.read_log())
        self.assertEqual(self.got(self.mx[0], "sts-wrongmx"), [])

    def test_testing_mode_delivers_and_logs(self):
        self.submit("frank@testing.example", "sts-testing")
        got = wait_for(lambda: self.got(self.mx[1], "sts-testing"))
        self.assertEqual(len(got), 1)
        self.assertRegex(self.server.read_log(),
                         r"event=mta-sts-testing \S+ domain=testing.example "
                         r"host=mx.badcert.example reason=tls")

    def test_failed_fetch_is_held_off(self):
        # RFC 8461 section 3.3: after a failed fetch, not again for five
        # minutes per id; without a cached policy, delivery goes on as
        # without MTA-STS.
        for i in range(3):
            self.submit(f"gus{i}@down.example", f"sts-down-{i}")
            self.assertTrue(wait_for(lambda: self.got(self.mx[0], f"sts-down-{i}")),
                            self.server.read_log()[-2000:])
        self.assertEqual(self.web.requests.get("down.example"), 1)
        self.assertEqual(len(re.findall(r"event=mta-sts-fetch-held domain=down.example "
                                        r"id=20261202T1", self.server.read_log())), 2)
        with open(os.path.join(self.server.dir, "mta-sts", "down.example_failed")) as f:
            self.assertTrue(f.read().startswith("20261202T1 "))
        # TLS-RPT (RFC 8460 section 4.4): each delivery meets the failure.
        shown = tern("tlsrpt", "show", data_dir=self.server.dir).stdout
        self.assertRegex(shown, r"down\.example sts sts-policy-fetch-error 3\n")
        self.assertRegex(shown, r"down\.example no-policy-found success \d+\n")


if __name__ == "__main__":
    unittest.main()
