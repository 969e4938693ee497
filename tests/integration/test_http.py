"""test_http.py: the HTTP(S) listener (src/http): autoconfiguration for
Thunderbird, Outlook and Apple clients, the MTA-STS policy, /metrics after
real IMAP and POP3 logins, and the request parser's limits on the wire
(keep-alive, pipelining, malformed requests, timeouts, per-IP limits)."""
import http.client
import imaplib
import os
import plistlib
import poplib
import re
import socket
import subprocess
import time
import unittest
import xml.etree.ElementTree as ET

from harness import ServerTestCase, TernServer, client_ssl_context, tern

MOZ = "{http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a}"


def raw_exchange(port, data, timeout=10):
    """Sends data, returns everything until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return out


class HttpTest(ServerTestCase):
    CONFIG = ("[server]\nhostname = mail.example.org\n[auth]\nfail_delay = 100ms\n"
              "[http]\ntimeout = 1s\nmax_body = 4k\n")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.http_port = cls.server.base + 80
        cls.https_port = cls.server.base + 443

    def get(self, path, tls=False, method="GET", body=None, headers=None):
        if tls:
            conn = http.client.HTTPSConnection("127.0.0.1", self.https_port, timeout=10,
                                               context=client_ssl_context())
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp, data

    # ---- autoconfiguration ----

    def check_mozilla(self, data, domain):
        root = ET.fromstring(data)
        self.assertEqual(root.tag, "clientConfig")
        prov = root.find("emailProvider")
        self.assertEqual(prov.get("id"), domain)
        incoming = [(s.get("type"), s.findtext("hostname"), int(s.findtext("port")),
                     s.findtext("socketType")) for s in prov.findall("incomingServer")]
        b = self.server.base
        self.assertEqual(incoming, [("imap", "mail.example.org", b + 993, "SSL"),
                                    ("imap", "mail.example.org", b + 143, "STARTTLS"),
                                    ("pop3", "mail.example.org", b + 995, "SSL"),
                                    ("pop3", "mail.example.org", b + 110, "STARTTLS")])
        outgoing = [(s.get("type"), int(s.findtext("port")), s.findtext("socketType"))
                    for s in prov.findall("outgoingServer")]
        self.assertEqual(outgoing, [("smtp", b + 465, "SSL"), ("smtp", b + 587, "STARTTLS")])
        for s in prov.findall("incomingServer") + prov.findall("outgoingServer"):
            self.assertEqual(s.findtext("username"), "%EMAILADDRESS%")

    def test_thunderbird_autoconfig_both_urls(self):
        resp, data = self.get("/mail/config-v1.1.xml?emailaddress=alice%40example.com")
        self.assertEqual(resp.status, 200)
        self.assertTrue(resp.getheader("Content-Type").startswith("application/xml"))
        self.check_mozilla(data, "example.com")
        # The well-known URL on autoconfig.DOMAIN, without the address.
        resp, data = self.get("/.well-known/autoconfig/mail/config-v1.1.xml",
                              headers={"Host": "autoconfig.example.net"})
        self.assertEqual(resp.status, 200)
        self.check_mozilla(data, "example.net")
        # Over HTTPS too.
        resp, data = self.get("/.well-known/autoconfig/mail/config-v1.1.xml"
                              "?emailaddress=bob%40example.com", tls=True)
        self.check_mozilla(data, "example.com")

    def test_autoconfig_refuses_a_bad_address(self):
        resp, data = self.get("/mail/config-v1.1.xml?emailaddress=%3Cscript%3E")
        self.assertEqual(resp.status, 400)
        self.assertNotIn(b"<script>", data)

    def test_outlook_autodiscover(self):
        body = ('<?xml version="1.0" encoding="utf-8"?>\n'
                '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/'
                'outlook/requestschema/2006"><Request>'
                '<EMailAddress>carol@example.com</EMailAddress>'
                '<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/'
                'outlook/responseschema/2006a</AcceptableResponseSchema>'
                '</Request></Autodiscover>')
        # Outlook capitalises the path.
        resp, data = self.get("/Autodiscover/Autodiscover.xml", method="POST", body=body,
                              headers={"Content-Type": "text/xml"}, tls=True)
        self.assertEqual(resp.status, 200, data)
        root = ET.fromstring(data)
        account = root.find(f"{MOZ}Response/{MOZ}Account")
        self.assertEqual(account.findtext(f"{MOZ}Action"), "settings")
        protos = {p.findtext(f"{MOZ}Type"): p for p in account.findall(f"{MOZ}Protocol")}
        self.assertEqual(sorted(protos), ["IMAP", "POP3", "SMTP"])
        self.assertEqual(int(protos["SMTP"].findtext(f"{MOZ}Port")), self.server.base + 465)
        imap = protos["IMAP"]
        self.assertEqual(imap.findtext(f"{MOZ}Server"), "mail.example.org")
        self.assertEqual(int(imap.findtext(f"{MOZ}Port")), self.server.base + 993)
        self.assertEqual(imap.findtext(f"{MOZ}SSL"), "on")
        self.assertEqual(imap.findtext(f"{MOZ}LoginName"), "carol@example.com")
        # GET is not how Autodiscover asks.
        resp, _ = self.get("/autodiscover/autodiscover.xml")
        self.assertEqual(resp.status, 405)
        self.assertEqual(resp.getheader("Allow"), "POST")
        resp, _ = self.get("/autodiscover/autodiscover.xml", method="POST", body="<x/>")
        self.assertEqual(resp.status, 400)

    def verified_profile(self, data):
        """The plist inside a signed profile, after `openssl cms -verify`
        accepted its signature by the server's certificate."""
        cert = os.path.join(self.server.dir, "tls", "cert.pem")
        proc = subprocess.run(["openssl", "cms", "-verify", "-inform", "DER", "-CAfile", cert,
                               "-purpose", "any"], input=data, capture_output=True)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertIn(b"Verification successful", proc.stderr)
        # The signer is the TLS certificate itself.
        signer = subprocess.run(["openssl", "cms", "-verify", "-noverify", "-inform", "DER",
                                 "-signer", "/dev/stdout", "-out", "/dev/null"], input=data,
                                capture_output=True).stdout
        with open(cert, "rb") as f:
            self.assertIn(signer.split(b"-----END CERTIFICATE-----")[0], f.read())
        return proc.stdout

    def test_apple_mobileconfig(self):
        resp, data = self.get("/apple/mobileconfig?emailaddress=dave%40example.com")
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.getheader("Content-Type"), "application/x-apple-aspen-config")
        self.assertIn('filename="dave@example.com.mobileconfig"',
                      resp.getheader("Content-Disposition"))
        self.assertEqual(data[:1], b"\x30")  # DER: CMS SignedData, not the bare XML
        profile = plistlib.loads(self.verified_profile(data))
        self.assertEqual(profile["PayloadType"], "Configuration")
        mail = profile["PayloadContent"][0]
        self.assertEqual(mail["PayloadType"], "com.apple.mail.managed")
        self.assertEqual(mail["EmailAccountType"], "EmailTypeIMAP")
        self.assertEqual(mail["IncomingMailServerHostName"], "mail.example.org")
        self.assertEqual(mail["IncomingMailServerPortNumber"], self.server.base + 993)
        self.assertIs(mail["IncomingMailServerUseSSL"], True)
        self.assertEqual(mail["OutgoingMailServerPortNumber"], self.server.base + 465)
        self.assertIs(mail["OutgoingMailServerUseSSL"], True)
        self.assertEqual(mail["IncomingMailServerUsername"], "dave@example.com")
        # A changed byte breaks the signature.
        broken = bytearray(data)
        at = broken.index(b"dave@example.com")
        broken[at] = ord("D")
        self.assertNotEqual(subprocess.run(
            ["openssl", "cms", "-verify", "-inform", "DER", "-CAfile",
             os.path.join(self.server.dir, "tls", "cert.pem"), "-purpose", "any"],
            input=bytes(broken), capture_output=True).returncode, 0)
        # Stable identifiers: the same profile replaces itself on reinstall.
        _, again = self.get("/apple/mobileconfig?emailaddress=dave%40example.com")
        self.assertEqual(plistlib.loads(self.verified_profile(again))["PayloadUUID"],
                         profile["PayloadUUID"])
        _, other = self.get("/apple/mobileconfig?emailaddress=erin%40example.com")
        self.assertNotEqual(plistlib.loads(self.verified_profile(other))["PayloadUUID"],
                            profile["PayloadUUID"])
        resp, _ = self.get("/apple/mobileconfig")
        self.assertEqual(resp.status, 400)

    def test_mta_sts_policy(self):
        resp, data = self.get("/.well-known/mta-sts.txt", tls=True)
        self.assertEqual(resp.status, 200)
        self.assertTrue(resp.getheader("Content-Type").startswith("text/plain"))
        self.assertEqual(data, b"version: STSv1\r\nmode: testing\r\nmx: mail.example.org\r\n"
                               b"max_age: 604800\r\n")

    # ---- metrics ----

    def metric(self, text, name, **labels):
        want = ",".join(f'{k}="{v}"' for k, v in labels.items())
        m = re.search(r"^" + re.escape(name + "{" + want + "}") + r" (\S+)$", text, re.M)
        return float(m.group(1)) if m else None

    def test_metrics_count_sessions_logins_and_commands(self):
        imap = imaplib.IMAP4("127.0.0.1", self.server.imap_port)
        imap.login(self.server.user, self.server.password)
        imap.select("INBOX")
        imap.logout()
        with self.assertRaises(imaplib.IMAP4.error):
            bad = imaplib.IMAP4("127.0.0.1", self.server.imap_port)
            try:
                bad.login(self.server.user, "wrong")
            finally:
                bad.shutdown()
        pop = poplib.POP3_SSL("127.0.0.1", self.server.base + 995,
                              context=client_ssl_context())
        pop.user(self.server.user)
        pop.pass_(self.server.password)
        pop.stat()
        pop.quit()
        self.get("/healthz")
        resp, data = self.get("/metrics")
        self.assertEqual(resp.status, 200)
        self.assertTrue(resp.getheader("Content-Type").startswith("text/plain; version=0.0.4"))
        text = data.decode()
        self.assertIn("# TYPE tern_command_duration_seconds histogram", text)
        self.assertGreaterEqual(self.metric(text, "tern_sessions_total", proto="imap"), 2)
        self.assertGreaterEqual(self.metric(text, "tern_sessions_total", proto="pop3"), 1)
        self.assertGreaterEqual(self.metric(text, "tern_sessions_active", proto="http"), 1)
        self.assertGreaterEqual(self.metric(text, "tern_logins_total", proto="imap",
                                            result="ok", mechanism="LOGIN"), 1)
        self.assertGreaterEqual(self.metric(text, "tern_logins_total", proto="imap",
                                            result="failed", mechanism="LOGIN"), 1)
        self.assertGreaterEqual(self.metric(text, "tern_logins_total", proto="pop3",
                                            result="ok", mechanism="USER"), 1)
        self.assertGreaterEqual(self.metric(text, "tern_tls_sessions_total",
                                            version="TLSv1.3"), 1)
        self.assertGreaterEqual(self.metric(text, "tern_command_duration_seconds_count",
                                            proto="imap", command="SELECT"), 1)
        self.assertGreaterEqual(self.metric(text, "tern_command_duration_seconds_count",
                                            proto="pop3", command="STAT"), 1)
        inf = self.metric(text, "tern_command_duration_seconds_bucket", proto="imap",
                          command="SELECT", le="+Inf")
        self.assertEqual(inf, self.metric(text, "tern_command_duration_seconds_count",
                                          proto="imap", command="SELECT"))
        self.assertGreaterEqual(self.metric(text, "tern_http_requests_total", route="healthz",
                                            code="200"), 1)

    def test_metrics_count_deliveries(self):
        import smtplib
        with smtplib.SMTP("127.0.0.1", self.server.base + 25, timeout=10) as smtp:
            smtp.sendmail("a@example.org", [self.server.user, "nobody@localhost"],
                          b"From: a@example.org\r\nSubject: m\r\n\r\nhi\r\n")
        text = self.get("/metrics")[1].decode()
        self.assertGreaterEqual(self.metric(text, "tern_deliveries_total", proto="smtp",
                                            result="delivered"), 1)
        self.assertGreaterEqual(self.metric(text, "tern_command_duration_seconds_count",
                                            proto="smtp", command="DATA"), 1)

    def test_healthz(self):
        resp, data = self.get("/healthz")
        self.assertEqual((resp.status, data), (200, b"ok\n"))

    # ---- the wire ----

    def test_keep_alive_and_head(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
        for _ in range(3):
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            self.assertEqual(resp.read(), b"ok\n")
        conn.request("HEAD", "/.well-known/mta-sts.txt")
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertGreater(int(resp.getheader("Content-Length")), 0)
        self.assertEqual(resp.read(), b"")
        conn.close()

    def test_pipelined_requests_are_answered_in_order(self):
        out = raw_exchange(self.http_port,
                           b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
                           b"GET /nothing HTTP/1.1\r\nHost: a\r\n\r\n"
                           b"GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: a\r\n"
                           b"Connection: close\r\n\r\n")
        statuses = re.findall(rb"^HTTP/1\.1 (\d+)", out, re.M)
        self.assertEqual(statuses, [b"200", b"404", b"200"])
        self.assertTrue(out.endswith(b"max_age: 604800\r\n"))

    def test_http10_closes_after_the_response(self):
        out = raw_exchange(self.http_port, b"GET /healthz HTTP/1.0\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 200 OK\r\n"))
        self.assertIn(b"Connection: close\r\n", out)

    def test_malformed_requests_get_their_status_and_close(self):
        cases = [
            (b"GARBAGE\r\n\r\n", b"400"),
            (b"GET / HTTP/2.0\r\n\r\n", b"505"),
            (b"GET / HTTP/1.1\r\n\r\n", b"400"),  # no Host
            (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", b"414"),
            (b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"b" * 9000 + b"\r\n\r\n", b"431"),
            (b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X: y\r\n" * 70 + b"\r\n", b"431"),
            (b"POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: a\r\n"
             b"Content-Length: 5000\r\n\r\n", b"413"),
            (b"POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: a\r\n"
             b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", b"501"),
            (b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", b"400"),
        ]
        for request, status in cases:
            with self.subTest(request=request[:40]):
                out = raw_exchange(self.http_port, request)
                self.assertTrue(out.startswith(b"HTTP/1.1 " + status + b" "), out[:80])
                self.assertIn(b"Connection: close\r\n", out)
        # The server still serves.
        resp, _ = self.get("/healthz")
        self.assertEqual(resp.status, 200)

    def test_a_slow_request_times_out_with_408(self):
        start = time.monotonic()
        out = raw_exchange(self.http_port, b"GET /healthz HTTP/1.1\r\nHost: a\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 408 "), out[:80])
        self.assertLess(time.monotonic() - start, 5)
        # An idle keep-alive connection just closes.
        self.assertEqual(raw_exchange(self.http_port, b""), b"")

    def test_requests_are_logged_with_sid(self):
        self.get("/healthz?probe=1")
        time.sleep(0.2)
        self.assertRegex(self.server.read_log(),
                         r"info http sid=[0-9a-f]{8} event=request method=GET path=/healthz "
                         r"status=200 route=healthz tls=no us=\d+ ip=127\.0\.0\.1")


class MetricsFamiliesTest(ServerTestCase):
    """Every family /metrics promises (docs/HTTP.md), each after the event it
    counts: a scrape, then the value checked."""
    @classmethod
    def setUpClass(cls):
        with socket.socket() as s:  # a port nothing listens on: every relay attempt fails
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]
        cls.CONFIG = ("[auth]\nfail_delay = 50ms\nblock_after_ip = 0\n"
                      "block_after_account = 3\n"
                      f"[delivery]\nrelayhost = 127.0.0.1:{closed}\ntimeout = 2s\n"
                      "[http]\nusage_interval = 1s\nmetrics_top = 2\n"
                      "[store]\nsqlite_memory = 48m\n")
        super().setUpClass()

    def scrape(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.base + 80, timeout=10)
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
        conn.close()
        return text

    metric = HttpTest.metric

    def plain(self, text, name):
        m = re.search(r"^" + re.escape(name) + r" (\S+)$", text, re.M)
        return float(m.group(1)) if m else 0

    def wait_metric(self, pred, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            text = self.scrape()
            if pred(text):
                return text
            self.assertLess(time.monotonic(), deadline, text[-3000:])
            time.sleep(0.2)

    def test_every_family(self):
        import smtplib
        user, pw = self.server.user, self.server.password
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.server.imaps_port,
                                 ssl_context=client_ssl_context())
        imap.login(user, pw)
        imap.append("INBOX", None, None, b"Subject: big\r\n\r\n" + b"x" * 5000 + b"\r\n")
        imap.logout()
        tern("user", "add", "small@localhost", "--password-stdin", data_dir=self.server.dir,
             input="small-pw-1\n")
        small = imaplib.IMAP4("127.0.0.1", self.server.imap_port)
        small.login("small@localhost", "small-pw-1")
        small.append("INBOX", None, None, b"Subject: s\r\n\r\nhi\r\n")
        small.logout()
        small = imaplib.IMAP4("127.0.0.1", self.server.imap_port)
        small.login("small@localhost", "small-pw-1")  # the login cache's hit
        small.logout()
        # An account blocked after three wrong passwords; the fourth try is throttled.
        for _ in range(4):
            bad = imaplib.IMAP4("127.0.0.1", self.server.imap_port)
            with self.assertRaises(imaplib.IMAP4.error):
                bad.login("small@localhost", "wrong")
            bad.shutdown()
        # One remote recipient: queued, then deferred by the refused relay.
        with smtplib.SMTP("127.0.0.1", self.server.base + 587, timeout=10) as s:
            s.starttls(context=client_ssl_context())
            s.login(user, pw)
            s.sendmail(user, ["far@remote.example"],
                       f"From: {user}\r\nSubject: r\r\n\r\nhi\r\n".encode())
        text = self.wait_metric(lambda t: (self.metric(t, "tern_queue_messages", state="deferred")
                                           or 0) >= 1)
        self.assertGreaterEqual(self.metric(text, "tern_outbound_deliveries_total",
                                            result="deferred"), 1)
        self.assertGreaterEqual(self.metric(text, "tern_deliveries_total", proto="smtp",
                                            result="queued"), 1)
        self.assertGreaterEqual(self.metric(text, "tern_sessions_total", proto="imap"), 6)
        self.assertGreaterEqual(self.metric(text, "tern_sessions_active", proto="http"), 1)
        self.assertGreaterEqual(self.metric(text, "tern_logins_total", proto="imap",
                                            result="ok", mechanism="LOGIN"), 2)
        self.assertGreaterEqual(self.metric(text, "tern_command_duration_seconds_count",
                                            proto="imap", command="APPEND"), 2)
        self.assertGreaterEqual(self.metric(text, "tern_tls_sessions_total",
                                            version="TLSv1.3"), 2)  # IMAPS, submission
        self.assertEqual(self.metric(text, "tern_throttle_blocks_total", kind="account"), 1)
        # The login cache: each first login verified the hash, small's second hit.
        self.assertGreaterEqual(self.metric(text, "tern_auth_cache_total", result="miss"), 1)
        self.assertGreaterEqual(self.metric(text, "tern_auth_cache_total", result="hit"), 1)
        # store.sqlite_memory reaches SQLite as its soft heap limit.
        self.assertEqual(self.plain(text, "tern_sqlite_memory_limit_bytes"), 48 << 20)
        self.assertGreater(self.plain(text, "tern_sqlite_memory_bytes"), 0)
        self.assertGreaterEqual(self.metric(text, "tern_throttled_total", proto="imap"), 1)
        self.assertGreaterEqual(self.metric(text, "tern_http_requests_total", route="metrics",
                                            code="200"), 1)
        # Held: the gauge moves at the runner's next look.
        qid = tern("queue", "list", data_dir=self.server.dir).stdout.split()[0]
        tern("queue", "hold", qid, data_dir=self.server.dir)
        self.wait_metric(lambda t: self.metric(t, "tern_queue_messages", state="held") == 1
                         and self.metric(t, "tern_queue_messages", state="deferred") == 0)
        # The store census: totals, and the top two accounts, largest first.
        text = self.wait_metric(lambda t: "tern_account_storage_bytes{" in t and
                                self.plain(t, "tern_store_messages") >= 2)
        self.assertGreaterEqual(self.plain(text, "tern_store_accounts"), 2)
        self.assertGreater(self.plain(text, "tern_store_bytes"), 5000)
        top = re.findall(r'^tern_account_storage_bytes\{account="([^"]+)"\} (\d+)$', text, re.M)
        self.assertEqual([a for a, _ in top][:2], [user, "small@localhost"])
        self.assertGreater(int(top[0][1]), 5000)
        self.assertEqual(self.metric(text, "tern_account_messages", account=user), 1)
        self.assertIn("# TYPE tern_store_census_age_seconds gauge", text)


class DnsRecordsTest(unittest.TestCase):
    def setUp(self):
        self.srv = TernServer("[server]\nhostname = mail.example.org\n[pop3]\nenabled = no\n")

    def tearDown(self):
        self.srv.cleanup()

    def records(self, *args):
        return tern("dns-records", *args, data_dir=self.srv.dir).stdout

    def test_every_record_of_the_domain(self):
        out = self.records("example.com")
        b = self.srv.base
        rows = {tuple(line.split(None, 3)[:3]): line.split(None, 3)[3]
                for line in out.splitlines() if line and not line.startswith(";")}
        self.assertEqual(rows[("example.com.", "IN", "MX")], "10 mail.example.org.")
        self.assertEqual(rows[("example.com.", "IN", "TXT")], '"v=spf1 mx -all"')
        self.assertIn("v=DMARC1", rows[("_dmarc.example.com.", "IN", "TXT")])
        self.assertRegex(rows[("_mta-sts.example.com.", "IN", "TXT")],
                         r'^"v=STSv1; id=[0-9a-f]{16}"$')
        self.assertIn("v=TLSRPTv1", rows[("_smtp._tls.example.com.", "IN", "TXT")])
        self.assertEqual(rows[("_imaps._tcp.example.com.", "IN", "SRV")],
                         f"0 1 {b + 993} mail.example.org.")
        self.assertEqual(rows[("_submissions._tcp.example.com.", "IN", "SRV")],
                         f"0 1 {b + 465} mail.example.org.")
        # POP3 is off: RFC 6186's "not offered".
        self.assertEqual(rows[("_pop3s._tcp.example.com.", "IN", "SRV")], "0 0 0 .")
        self.assertEqual(rows[("autoconfig.example.com.", "IN", "CNAME")], "mail.example.org.")
        self.assertEqual(rows[("autodiscover.example.com.", "IN", "CNAME")], "mail.example.org.")
        self.assertEqual(rows[("_autodiscover._tcp.example.com.", "IN", "SRV")],
                         f"0 1 {b + 443} mail.example.org.")
        self.assertIn("DKIM", out)

    def test_dkim_records_of_the_domains_keys(self):
        self.assertIn("dkim keygen example.com", self.records("example.com"))
        made = {}
        for sel, kind in (("tern", "rsa"), ("ed", "ed25519")):
            out = tern("dkim", "keygen", "example.com", "--selector", sel, "--type", kind,
                       data_dir=self.srv.dir).stdout
            made[sel] = re.search(r'TXT "(.*)"', out).group(1)
        out = self.records("example.com")
        for sel, txt in made.items():
            line = [l for l in out.splitlines() if l.startswith(f"{sel}._domainkey.example.com.")]
            self.assertEqual(len(line), 1, out)
            strings = re.findall(r'"([^"]*)"', line[0])
            self.assertTrue(all(len(x) <= 255 for x in strings), strings)  # RFC 1035 3.3.14
            self.assertEqual("".join(strings), txt)
        self.assertNotIn("_domainkey", self.records("example.org"))

    def test_the_mta_sts_id_follows_the_policy(self):
        first = re.search(r"id=(\w+)", self.records("example.com")).group(1)
        self.assertEqual(first, re.search(r"id=(\w+)", self.records("example.com")).group(1))
        self.srv.add_config("[http]\nmta_sts_mode = enforce\n")
        self.assertNotEqual(first, re.search(r"id=(\w+)", self.records("example.com")).group(1))

    def test_bad_domain(self):
        proc = tern("dns-records", "-bad..", data_dir=self.srv.dir, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("not a domain name", proc.stderr)


class HttpLockedDownTest(ServerTestCase):
    CONFIG = "[http]\nmetrics = never\nmta_sts_mode = enforce\nsign_mobileconfig = no\n" \
             "[limits]\nmax_connections_per_ip = 3\n"

    def test_profiles_unsigned_when_signing_is_off(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.base + 80, timeout=10)
        conn.request("GET", "/apple/mobileconfig?emailaddress=a%40example.com")
        data = conn.getresponse().read()
        conn.close()
        self.assertTrue(data.startswith(b"<?xml"))
        self.assertEqual(plistlib.loads(data)["PayloadType"], "Configuration")

    def test_metrics_can_be_switched_off(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.base + 80, timeout=10)
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        self.assertEqual(resp.status, 403)
        self.assertNotIn(b"tern_", resp.read())
        conn.request("GET", "/.well-known/mta-sts.txt")
        self.assertIn(b"mode: enforce\r\n", conn.getresponse().read())
        conn.close()

    def test_connection_limit_per_ip_covers_http(self):
        time.sleep(0.3)  # wait_ready's probe connection must be gone
        held = [socket.create_connection(("127.0.0.1", self.server.base + 80))
                for _ in range(3)]
        try:
            time.sleep(0.2)
            out = raw_exchange(self.server.base + 80,
                               b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            self.assertEqual(out, b"")
        finally:
            for s in held:
                s.close()
        # The other tests of this class need the slots back: wait until the
        # server has seen the closes (slower under the sanitizers).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            out = raw_exchange(self.server.base + 80,
                               b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            if out.startswith(b"HTTP/1.1 200"):
                break
            time.sleep(0.1)
        self.assertTrue(out.startswith(b"HTTP/1.1 200"), out)


if __name__ == "__main__":
    unittest.main()
