"""TLS-RPT (RFC 8460) on a loopback internet. rpt.example publishes an
MTA-STS enforce policy and two MX hosts: the first (127.0.0.3) shows a
certificate for another name, the second (127.0.0.2) a valid one, so a
message to it makes one failed and one successful session.
plain.example has no policy and an MX without STARTTLS (127.0.0.6). Each
domain's _smtp._tls record names where its report goes: a mailbox at
rua.example (the test MX on 127.0.0.5) and an HTTPS endpoint on
127.0.0.4. `tern tlsrpt send --today` sends both; the test unpacks the
gzip'd JSON and checks the counts and failure details, the report mail's
header fields (section 5.3) and its DKIM signature. The report mail goes
to an MX that fails rua.example's enforced MTA-STS policy: it is delivered
all the same and not counted (section 5.3)."""
import email
import email.policy
import gzip
import http.server
import json
import os
import re
import smtplib
import ssl
import threading
import unittest

from harness import TernServer, tern
from mxserver import DNS, MX, free_port
from smtpclient import ports
from test_mta_sts import openssl
from test_outbound import message, wait_for

IPS = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"]
ZONE_MX = {
    "rpt.example": [(10, "mx-bad.rpt.example"), (20, "mx-good.rpt.example")],
    "plain.example": [(10, "mx.plain.example")],
    "rua.example": [(10, "mx.rua.example")],
}
ZONE_A = {
    "mx-good.rpt.example": "127.0.0.2",
    "mx-bad.rpt.example": "127.0.0.3",
    "mta-sts.rpt.example": "127.0.0.4",
    "mta-sts.rua.example": "127.0.0.4",
    "reports.example": "127.0.0.4",
    "mx.rua.example": "127.0.0.5",
    "mx.plain.example": "127.0.0.6",
}
POLICY = "version: STSv1\nmode: enforce\nmx: *.rpt.example\nmax_age: 86400\n"


def make_certs(tmp):
    """A test CA and the leaves it signs: (ca, {label: (cert, key)})."""
    ca_key, ca = os.path.join(tmp, "ca.key"), os.path.join(tmp, "ca.pem")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
            "-days", "2", "-subj", "/CN=tern test CA")
    leaves = {}
    for label, names in (("good", ["mx-good.rpt.example", "mx.rua.example"]),
                         ("wrong", ["wrong.example"]),
                         ("web", ["mta-sts.rpt.example", "mta-sts.rua.example",
                                  "reports.example"])):
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


class WebServer(http.server.ThreadingHTTPServer):
    """HTTPS: the MTA-STS policy of rpt.example, and POST /tlsrpt keeping
    each report's headers and body."""

    def __init__(self, ip, port, cert, key):
        self.reports = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path != "/.well-known/mta-sts.txt":
                    self.send_error(404)
                    return
                data = POLICY.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.reports.append({"path": self.path, "headers": dict(self.headers),
                                      "body": body})
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__((ip, port), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.socket = ctx.wrap_socket(self.socket, server_side=True)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self):
        self.shutdown()
        self.server_close()


class TlsRptTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.port = free_port(IPS)
        cls.server = TernServer()
        cls.domain = cls.server.user.split("@")[1]
        ca, leaves = make_certs(cls.server.tmp)
        txt = {
            "_mta-sts.rpt.example": "v=STSv1; id=tlsrpt1",
            # rua.example's MX fails its own enforced policy (not named,
            # wrong certificate): reports go there all the same.
            "_mta-sts.rua.example": "v=STSv1; id=tlsrpt1",
            "_smtp._tls.rpt.example": "v=TLSRPTv1; rua=mailto:tls-reports@rua.example",
            "_smtp._tls.plain.example": f"v=TLSRPTv1;rua=https://reports.example:{cls.port}"
                                        "/tlsrpt",
        }
        cls.dns = DNS(cls.server.tmp, ZONE_MX, ZONE_A, txt)
        cls.good = MX(IPS[0], cls.port, "mx-good.rpt.example", *leaves["good"])
        cls.bad = MX(IPS[1], cls.port, "mx-bad.rpt.example", *leaves["wrong"])
        cls.sink = MX(IPS[3], cls.port, "mx.rua.example", *leaves["wrong"])
        cls.plain = MX(IPS[4], cls.port, "mx.plain.example", *leaves["good"])
        cls.plain.behaviour.extensions.remove("STARTTLS")
        cls.web = WebServer(IPS[2], cls.port, *leaves["web"])
        cls.server.add_config(
            f"[delivery]\nmx_port = {cls.port}\nmta_sts_port = {cls.port}\n"
            f"ca_file = {ca}\ntimeout = 5s\ntlsrpt = yes\n"
            "tlsrpt_organization = Tern Test Org\n"
            f"[dns]\nnameservers = 127.0.0.1:{cls.dns.port}\n"
            "[queue]\nretry_first = 1s\nretry_max = 2s\n")
        tern("dkim", "keygen", cls.domain, data_dir=cls.server.dir)
        cls.server.start()
        cls.p = ports(cls.server)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            for m in (cls.good, cls.bad, cls.sink, cls.plain):
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

    def test_reports_by_mail_and_https(self):
        self.submit("alice@rpt.example", "rpt-sts")
        got = wait_for(lambda: self.got(self.good, "rpt-sts"))
        self.assertEqual(len(got), 1, self.server.read_log()[-3000:])
        self.assertTrue(got[0]["tls"])
        self.assertEqual(self.bad.received, [])
        self.submit("bob@plain.example", "rpt-plain")
        self.assertTrue(wait_for(lambda: self.got(self.plain, "rpt-plain")))

        shown = wait_for(lambda: (lambda out: out if "plain.example" in out else None)(
            tern("tlsrpt", "show", data_dir=self.server.dir).stdout))
        self.assertRegex(shown, r"rpt\.example sts certificate-host-mismatch 1 "
                                r"mx=mx-bad\.rpt\.example ip=127\.0\.0\.3 reason=\"hostname mismatch\"")
        self.assertRegex(shown, r"rpt\.example sts success 1\n")
        self.assertRegex(shown, r"plain\.example no-policy-found starttls-not-supported 1 "
                                r"mx=mx\.plain\.example ip=127\.0\.0\.6")
        preview = [json.loads(line) for line in
                   tern("tlsrpt", "show", "--json", data_dir=self.server.dir).stdout.splitlines()]
        self.assertEqual(sorted(r["policies"][0]["policy"]["policy-domain"] for r in preview),
                         ["plain.example", "rpt.example"])

        out = tern("tlsrpt", "send", "--today", data_dir=self.server.dir).stdout
        self.assertIn("2 reports sent", out)
        self.assertEqual(tern("tlsrpt", "show", data_dir=self.server.dir).stdout, "")

        # By mail, through the queue to rua.example's MX.
        mails = wait_for(lambda: [m for m in self.sink.received
                                  if b"TLS-Report-Domain: rpt.example" in m["data"]])
        self.assertEqual(len(mails), 1, self.server.read_log()[-3000:])
        self.assertIn("<tls-reports@rua.example>", mails[0]["rcpts"][0])
        msg = email.message_from_bytes(mails[0]["data"], policy=email.policy.default)
        self.assertEqual(msg["TLS-Report-Submitter"], "localhost")
        self.assertRegex(str(msg["Subject"]), r"^Report Domain: rpt\.example Submitter: "
                                              r"localhost Report-ID: <[^>]+@localhost>$")
        self.assertEqual(msg.get_content_type(), "multipart/report")
        self.assertEqual(msg.get_param("report-type"), "tlsrpt")
        self.assertRegex(msg["DKIM-Signature"], r"d=" + re.escape(self.domain))
        self.assertIn("tls-report-domain", msg["DKIM-Signature"].replace(" ", ""))
        parts = [p for p in msg.iter_parts() if p.get_content_type() == "application/tlsrpt+gzip"]
        self.assertEqual(len(parts), 1)
        self.assertRegex(parts[0].get_filename(), r"^localhost!rpt\.example!\d+!\d+\.json\.gz$")
        report = json.loads(gzip.decompress(parts[0].get_content()))
        self.assertEqual(report["organization-name"], "Tern Test Org")
        self.assertEqual(report["contact-info"], "postmaster@" + self.domain)
        self.assertIn(report["report-id"], str(msg["Subject"]))
        self.assertRegex(report["date-range"]["start-datetime"], r"T00:00:00Z$")
        [pol] = report["policies"]
        self.assertEqual(pol["policy"]["policy-type"], "sts")
        self.assertEqual(pol["policy"]["policy-domain"], "rpt.example")
        self.assertEqual(pol["policy"]["mx-host"], ["*.rpt.example"])
        self.assertIn("mode: enforce", pol["policy"]["policy-string"])
        self.assertEqual(pol["summary"], {"total-successful-session-count": 1,
                                          "total-failure-session-count": 1})
        [fail] = pol["failure-details"]
        self.assertEqual(fail["result-type"], "certificate-host-mismatch")
        self.assertEqual(fail["receiving-mx-hostname"], "mx-bad.rpt.example")
        self.assertEqual(fail["receiving-ip"], "127.0.0.3")
        self.assertEqual(fail["sending-mta-ip"], "127.0.0.1")
        self.assertEqual(fail["failed-session-count"], 1)

        # By HTTPS POST (sent by the CLI itself).
        self.assertEqual(len(self.web.reports), 1)
        post = self.web.reports[0]
        self.assertEqual(post["path"], "/tlsrpt")
        self.assertEqual(post["headers"]["Content-Type"], "application/tlsrpt+gzip")
        report = json.loads(gzip.decompress(post["body"]))
        [pol] = report["policies"]
        self.assertEqual(pol["policy"], {"policy-type": "no-policy-found",
                                         "policy-domain": "plain.example"})
        self.assertEqual(pol["summary"], {"total-successful-session-count": 0,
                                          "total-failure-session-count": 1})
        self.assertEqual(pol["failure-details"][0]["result-type"], "starttls-not-supported")
        self.assertNotIn("domain=rua.example", self.server.read_log())
        self.assertEqual(tern("tlsrpt", "show", data_dir=self.server.dir).stdout, "")


if __name__ == "__main__":
    unittest.main()
