"""SASL mechanisms over IMAP AUTHENTICATE, each against an independent client
(saslclient.py): SCRAM-SHA-1/-256 and -PLUS (tls-server-end-point and
tls-exporter), channel-binding mismatch and downgrade, CRAM-MD5, DIGEST-MD5,
ANONYMOUS, EXTERNAL with a client certificate, OAUTHBEARER and XOAUTH2 with
HS256/RS256/ES256 tokens, SASLprep, cancellation, and what is advertised."""
import base64
import hashlib
import imaplib
import json
import os
import re
import ssl
import subprocess
import time

from harness import Raw, ServerTestCase, TernServer, client_ssl_context, tern
import saslclient as sc

SECRET = b"0123456789abcdef0123456789abcdef-test-secret"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


class MechanismTest(ServerTestCase):
    CONFIG = None

    @classmethod
    def setUpClass(cls):
        srv = TernServer()
        d = srv.dir
        with open(os.path.join(d, "hs256.key"), "wb") as f:
            f.write(SECRET)
        # Keys for RS256/ES256 and a CA with a client certificate, made by the
        # openssl command line (independent of tern's OpenSSL calls).
        openssl("genrsa", "-out", "rsa.pem", "2048", cwd=d)
        openssl("rsa", "-in", "rsa.pem", "-pubout", "-out", "rsa.pub", cwd=d)
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ec.pem", cwd=d)
        openssl("ec", "-in", "ec.pem", "-pubout", "-out", "ec.pub", cwd=d)
        with open(os.path.join(d, "oauth.pub"), "wb") as f:
            for name in ("rsa.pub", "ec.pub"):
                f.write(open(os.path.join(d, name), "rb").read())
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                "-subj", "/CN=Test CA", cwd=d)
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "client.key", "-out", "client.csr",
                "-subj", "/CN=Test Client/emailAddress=test@localhost", cwd=d)
        openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", "client.pem", "-days", "2", cwd=d)
        srv.add_config(
            "[tls]\nclient_ca = ca.pem\n"
            "[auth]\nfail_delay = 100ms\nmax_fail_delay = 200ms\nblock_after_ip = 500\n"
            "mechanisms = PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1 SCRAM-SHA-1-PLUS "
            "SCRAM-SHA-256 SCRAM-SHA-256-PLUS OAUTHBEARER XOAUTH2 EXTERNAL ANONYMOUS\n"
            "anonymous_account = public@localhost\n"
            "[oauth]\nissuer = https://issuer.test\naudience = tern\n"
            "hs256_secret_file = hs256.key\npublic_keys_file = oauth.pub\n"
            "configuration_url = https://issuer.test/.well-known/openid-configuration\n")
        # With DIGEST-MD5 and CRAM-MD5 on, passwd stores their keys too.
        cls.password = "correct horse"
        tern("user", "passwd", srv.user, "--password-stdin", data_dir=d,
             input=cls.password + "\n")
        tern("user", "add", "public@localhost", "--password-stdin", data_dir=d,
             input="unused-anonymous\n")
        cls.server = srv.start()
        cls.user = srv.user

    def tls(self):
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        return r

    def step(self, r, data):
        r.send(sc.b64(data) + "\r\n")
        return r.line()

    def scram_login(self, r, mech, client, tag="a1"):
        r.send(f"{tag} AUTHENTICATE {mech} {sc.b64(client.first())}\r\n")
        line = r.line()
        self.assertTrue(line.startswith("+ "), line)
        server_first = sc.unb64(line[2:]).decode()
        line = self.step(r, client.final(server_first))
        return line

    # -- what is offered --

    def test_plus_mechanisms_only_over_tls(self):
        caps = Raw(self.server.imap_port).line()
        self.assertIn("AUTH=SCRAM-SHA-256 ", caps)
        self.assertNotIn("-PLUS", caps)  # (UIDPLUS is no SASL mechanism)
        self.assertNotIn("AUTH=EXTERNAL", caps)  # no client certificate here
        r = self.tls()
        caps = r.cmd("c", "CAPABILITY")[0]
        for m in ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "CRAM-MD5", "DIGEST-MD5",
                  "OAUTHBEARER", "XOAUTH2", "ANONYMOUS", "PLAIN", "LOGIN"):
            self.assertIn("AUTH=" + m, caps)
        r.close()

    # -- SCRAM --

    def test_scram_sha_256(self):
        r = self.tls()
        c = sc.Scram(self.user, self.password, "sha256")
        line = self.scram_login(r, "SCRAM-SHA-256", c)
        self.assertTrue(line.startswith("+ "), line)
        self.assertTrue(c.verify_server(sc.unb64(line[2:]).decode()))
        r.send("\r\n")
        self.assertTrue(r.until_tagged("a1")[-1].startswith("a1 OK [CAPABILITY"))
        r.close()

    def test_scram_sha_1_without_initial_response(self):
        r = self.tls()
        c = sc.Scram(self.user, self.password, "sha1")
        r.send("a1 AUTHENTICATE SCRAM-SHA-1\r\n")
        self.assertEqual(r.line(), "+ ")
        line = self.step(r, c.first())
        line = self.step(r, c.final(sc.unb64(line[2:]).decode()))
        self.assertTrue(c.verify_server(sc.unb64(line[2:]).decode()))
        r.send("\r\n")
        self.assertTrue(r.until_tagged("a1")[-1].startswith("a1 OK "))
        r.close()

    def test_scram_wrong_password_and_unknown_user_look_alike(self):
        r = self.tls()
        c = sc.Scram(self.user, "wrong", "sha256")
        self.assertEqual(self.scram_login(r, "SCRAM-SHA-256", c),
                         "a1 NO [AUTHENTICATIONFAILED] Authentication failed")
        # Same salt for the same unknown name twice; a real salt differs.
        salts = []
        for tag in ("a2", "a3"):
            c = sc.Scram("ghost@localhost", "x", "sha256")
            r.send(f"{tag} AUTHENTICATE SCRAM-SHA-256 {sc.b64(c.first())}\r\n")
            first = sc.unb64(r.line()[2:]).decode()
            salts.append(dict(kv.split("=", 1) for kv in first.split(","))["s"])
            self.assertEqual(self.step(r, c.final(first)),
                             f"{tag} NO [AUTHENTICATIONFAILED] Authentication failed")
        self.assertEqual(salts[0], salts[1])
        r.close()

    def test_scram_plus_tls_server_end_point(self):
        r = self.tls()
        cert = r.sock.getpeercert(binary_form=True)
        cb = hashlib.sha256(cert).digest()  # RFC 5929 4.1: ECDSA-SHA256 -> SHA-256
        c = sc.Scram(self.user, self.password, "sha256", cb_name="tls-server-end-point",
                     cb_data=cb)
        line = self.scram_login(r, "SCRAM-SHA-256-PLUS", c)
        self.assertTrue(c.verify_server(sc.unb64(line[2:]).decode()), line)
        r.send("\r\n")
        self.assertTrue(r.until_tagged("a1")[-1].startswith("a1 OK "))
        r.close()

    def test_scram_plus_channel_binding_mismatch_is_rejected(self):
        r = self.tls()
        c = sc.Scram(self.user, self.password, "sha256", cb_name="tls-server-end-point",
                     cb_data=b"\0" * 32)
        self.assertEqual(self.scram_login(r, "SCRAM-SHA-256-PLUS", c),
                         "a1 NO [AUTHENTICATIONFAILED] Authentication failed")
        r.close()
        self.assertIn("reason=channel-binding-mismatch", self.server.read_log())

    def test_scram_plus_unknown_binding_type_is_rejected(self):
        r = self.tls()
        c = sc.Scram(self.user, self.password, "sha256", cb_name="tls-unique", cb_data=b"x")
        r.send(f"a1 AUTHENTICATE SCRAM-SHA-256-PLUS {sc.b64(c.first())}\r\n")
        self.assertTrue(r.until_tagged("a1")[-1].startswith("a1 NO "))
        r.close()

    def test_scram_downgrade_flag_y_is_rejected_over_tls(self):
        # 'y': "I could bind but the server cannot" though -PLUS was offered.
        r = self.tls()
        c = sc.Scram(self.user, self.password, "sha256", flag="y")
        r.send(f"a1 AUTHENTICATE SCRAM-SHA-256 {sc.b64(c.first())}\r\n")
        self.assertTrue(r.until_tagged("a1")[-1].startswith("a1 NO "))
        r.close()

    def test_scram_plus_tls_exporter_with_openssl_s_client(self):
        # Python's ssl cannot export keying material; openssl s_client can
        # (RFC 9266: label EXPORTER-Channel-Binding, 32 bytes, TLS 1.3).
        p = subprocess.Popen(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{self.server.imaps_port}",
             "-tls1_3", "-keymatexport", "EXPORTER-Channel-Binding", "-keymatexportlen", "32",
             "-ign_eof"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            cb = None
            for raw in p.stdout:
                line = raw.decode(errors="replace").strip()
                m = re.match(r"Keying material:\s*([0-9A-Fa-f]+)", line)
                if m:
                    cb = bytes.fromhex(m.group(1))
                if line.startswith("* OK "):
                    break
            self.assertIsNotNone(cb)
            c = sc.Scram(self.user, self.password, "sha256", cb_name="tls-exporter", cb_data=cb)
            p.stdin.write(f"a1 AUTHENTICATE SCRAM-SHA-256-PLUS {sc.b64(c.first())}\r\n".encode())
            p.stdin.flush()
            line = p.stdout.readline().decode().strip()
            first = sc.unb64(line[2:]).decode()
            p.stdin.write((sc.b64(c.final(first)) + "\r\n").encode())
            p.stdin.flush()
            line = p.stdout.readline().decode().strip()
            self.assertTrue(c.verify_server(sc.unb64(line[2:]).decode()), line)
            p.stdin.write(b"\r\n")
            p.stdin.flush()
            self.assertTrue(p.stdout.readline().decode().startswith("a1 OK "))
            # And with the wrong exporter value it fails.
            c = sc.Scram(self.user, self.password, "sha256", cb_name="tls-exporter",
                         cb_data=bytes(32))
            p.stdin.write(f"a2 AUTHENTICATE SCRAM-SHA-256-PLUS {sc.b64(c.first())}\r\n".encode())
            p.stdin.flush()
        finally:
            p.stdin.close()
            p.kill()
            p.wait()

    def test_scram_cancel_mid_exchange(self):
        r = self.tls()
        c = sc.Scram(self.user, self.password, "sha256")
        r.send(f"a1 AUTHENTICATE SCRAM-SHA-256 {sc.b64(c.first())}\r\n")
        self.assertTrue(r.line().startswith("+ "))
        r.send("*\r\n")
        self.assertEqual(r.until_tagged("a1")[-1], "a1 BAD Authentication cancelled")
        self.assertEqual(r.cmd("a2", "NOOP")[-1], "a2 OK NOOP completed")
        r.close()

    # -- CRAM-MD5, DIGEST-MD5 --

    def test_cram_md5(self):
        r = self.tls()
        r.send("a1 AUTHENTICATE CRAM-MD5\r\n")
        challenge = sc.unb64(r.line()[2:])
        self.assertRegex(challenge.decode(), r"^<.+@localhost>$")
        r.send(sc.b64(sc.cram_md5(self.user, self.password, challenge)) + "\r\n")
        self.assertTrue(r.until_tagged("a1")[-1].startswith("a1 OK "))
        r.close()

    def test_cram_md5_wrong_password(self):
        r = self.tls()
        r.send("a1 AUTHENTICATE CRAM-MD5\r\n")
        challenge = sc.unb64(r.line()[2:])
        r.send(sc.b64(sc.cram_md5(self.user, "nope", challenge)) + "\r\n")
        self.assertEqual(r.until_tagged("a1")[-1],
                         "a1 NO [AUTHENTICATIONFAILED] Authentication failed")
        r.close()

    def test_digest_md5(self):
        r = self.tls()
        r.send("a1 AUTHENTICATE DIGEST-MD5\r\n")
        challenge = sc.unb64(r.line()[2:])
        line = self.step(r, sc.digest_md5(self.user, self.password, challenge))
        self.assertTrue(line.startswith("+ "), line)
        self.assertIn(b"rspauth=", sc.unb64(line[2:]))
        r.send("\r\n")
        self.assertTrue(r.until_tagged("a1")[-1].startswith("a1 OK "))
        r.close()

    # -- ANONYMOUS, EXTERNAL --

    def test_anonymous(self):
        r = self.tls()
        lines = r.cmd("a1", "AUTHENTICATE ANONYMOUS " + sc.b64("tester@example.org"))
        self.assertTrue(lines[-1].startswith("a1 OK "), lines)
        r.close()
        self.assertIn("event=anonymous-login", self.server.read_log())

    def test_external_with_client_certificate(self):
        ctx = client_ssl_context()
        ctx.load_cert_chain(os.path.join(self.server.dir, "client.pem"),
                            os.path.join(self.server.dir, "client.key"))
        m = imaplib.IMAP4_SSL("127.0.0.1", self.server.imaps_port, ssl_context=ctx)
        self.assertIn("AUTH=EXTERNAL", m.capabilities)
        typ, _ = m.authenticate("EXTERNAL", lambda _: b"")
        self.assertEqual(typ, "OK")
        m.logout()

    # -- PLAIN with imaplib, SASLprep --

    def test_plain_via_imaplib(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.server.imaps_port,
                              ssl_context=client_ssl_context())
        typ, _ = m.authenticate("PLAIN", lambda _: f"\0{self.user}\0{self.password}".encode())
        self.assertEqual(typ, "OK")
        m.logout()

    def test_saslprep_maps_password_and_user(self):
        # U+00AD (soft hyphen) maps to nothing, U+00A0 to a space (RFC 4013).
        d = self.server.dir
        tern("user", "add", "prep@localhost", "--password-stdin", data_dir=d,
             input="pass\u00adword\u00a0x\n")
        r = self.tls()
        lines = r.cmd("a1", "AUTHENTICATE PLAIN " + sc.b64("\0prep@localhost\0password x"))
        self.assertTrue(lines[-1].startswith("a1 OK "), lines)
        r.close()
        r = self.tls()
        c = sc.Scram("prep@localhost", "password x", "sha256")
        line = self.scram_login(r, "SCRAM-SHA-256", c)
        self.assertTrue(c.verify_server(sc.unb64(line[2:]).decode()), line)
        r.close()

    # -- OAUTHBEARER, XOAUTH2 --

    def claims(self, **over):
        c = {"iss": "https://issuer.test", "aud": ["tern", "other"], "email": self.user,
             "exp": int(time.time()) + 300, "iat": int(time.time())}
        c.update(over)
        return {k: v for k, v in c.items() if v is not None}

    def oauth(self, mech, token, user=None):
        r = self.tls()
        msg = (sc.oauthbearer(user or self.user, token) if mech == "OAUTHBEARER"
               else sc.xoauth2(user or self.user, token))
        r.send(f"a1 AUTHENTICATE {mech} {sc.b64(msg)}\r\n")
        line = r.line()
        error = None
        if line.startswith("+ "):
            error = json.loads(sc.unb64(line[2:]))
            r.send((sc.b64("\x01") if mech == "OAUTHBEARER" else "") + "\r\n")
            line = r.until_tagged("a1")[-1]
        r.close()
        return line, error

    def test_oauthbearer_hs256(self):
        line, error = self.oauth("OAUTHBEARER", sc.jwt_hs256(self.claims(), SECRET))
        self.assertTrue(line.startswith("a1 OK "), (line, error))

    def test_oauthbearer_rs256_and_es256(self):
        for alg, key in (("RS256", "rsa.pem"), ("ES256", "ec.pem")):
            token = sc.jwt_openssl(self.claims(), os.path.join(self.server.dir, key), alg)
            line, error = self.oauth("OAUTHBEARER", token)
            self.assertTrue(line.startswith("a1 OK "), (alg, line, error))

    def test_oauthbearer_rejections_carry_rfc7628_json(self):
        cases = {
            "expired": self.claims(exp=int(time.time()) - 3600),
            "audience": self.claims(aud="someone-else"),
            "issuer": self.claims(iss="https://evil.test"),
            "no exp": self.claims(exp=None),
        }
        for name, claims in cases.items():
            line, error = self.oauth("OAUTHBEARER", sc.jwt_hs256(claims, SECRET))
            self.assertEqual(line, "a1 NO [AUTHENTICATIONFAILED] Authentication failed", name)
            self.assertEqual(error["status"], "invalid_token", name)
            self.assertIn("openid-configuration", error)
        line, error = self.oauth("OAUTHBEARER", sc.jwt_hs256(self.claims(), b"x" * 40))
        self.assertEqual(error["status"], "invalid_token")
        # An HS256 token signed with the RSA public key (alg confusion).
        pub = open(os.path.join(self.server.dir, "rsa.pub"), "rb").read()
        line, error = self.oauth("OAUTHBEARER", sc.jwt_hs256(self.claims(), pub))
        self.assertEqual(error["status"], "invalid_token")
        # The user named must be the token's account.
        line, error = self.oauth("OAUTHBEARER", sc.jwt_hs256(self.claims(), SECRET),
                                 user="public@localhost")
        self.assertIsNotNone(error)

    def test_xoauth2(self):
        line, _ = self.oauth("XOAUTH2", sc.jwt_hs256(self.claims(), SECRET))
        self.assertTrue(line.startswith("a1 OK "), line)
        line, error = self.oauth("XOAUTH2",
                                 sc.jwt_hs256(self.claims(exp=int(time.time()) - 999), SECRET))
        self.assertEqual(error["status"], "401")
        self.assertTrue(line.startswith("a1 NO "), line)
