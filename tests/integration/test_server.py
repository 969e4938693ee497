"""The daemon's lifecycle: config errors, SIGTERM with clients connected,
SIGHUP reload of config and certificate, timeouts, connection limits,
privilege drop."""
import imaplib
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import time
import unittest

from harness import TERN, SAN_ENV, Raw, TernServer, client_ssl_context, tern


def cert_fingerprint(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with client_ssl_context().wrap_socket(s) as t:
            return t.getpeercert(binary_form=True)


class ConfigErrorTest(unittest.TestCase):
    def run_serve(self, extra):
        srv = TernServer(extra)
        try:
            proc = subprocess.run([TERN, "-d", srv.dir, "serve"], capture_output=True,
                                  text=True, env=SAN_ENV, timeout=30)
            return proc, srv
        finally:
            srv.cleanup()

    def test_unknown_key_stops_startup_with_file_and_line(self):
        proc, srv = self.run_serve("[imap]\nno_such_key = 1\n")
        self.assertNotEqual(proc.returncode, 0)
        self.assertRegex(proc.stderr, r"tern\.conf:\d+: unknown key 'imap\.no_such_key'")

    def test_bad_value_stops_startup(self):
        proc, _ = self.run_serve("[auth]\nplaintext = sometimes\n")
        self.assertNotEqual(proc.returncode, 0)
        self.assertRegex(proc.stderr, r"tern\.conf:\d+: auth\.plaintext: value not one of")

    def test_missing_config_file(self):
        srv = TernServer()
        os.remove(os.path.join(srv.dir, "tern.conf"))
        proc = subprocess.run([TERN, "-d", srv.dir, "serve"], capture_output=True, text=True,
                              env=SAN_ENV, timeout=30)
        srv.cleanup()
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("tern.conf: No such file or directory", proc.stderr)

    def test_port_in_use_is_reported(self):
        srv = TernServer()
        blocker = socket.socket()
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", srv.imap_port))
        blocker.listen(1)
        try:
            proc = subprocess.run([TERN, "-d", srv.dir, "serve"], capture_output=True,
                                  text=True, env=SAN_ENV, timeout=30)
        finally:
            blocker.close()
            srv.cleanup()
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(f"cannot listen on 127.0.0.1:{srv.imap_port}", proc.stderr)


class LifecycleTest(unittest.TestCase):
    def setUp(self):
        self.srv = TernServer("[auth]\nfail_delay = 100ms\n")

    def tearDown(self):
        if self.srv.proc is not None:
            self.srv.stop()
        self.srv.cleanup()

    def test_sigterm_says_bye_to_clients_and_exits_cleanly(self):
        self.srv.start()
        clients = []
        for port, tls in ((self.srv.imap_port, False), (self.srv.imaps_port, True)):
            r = Raw(port, tls=tls)
            r.line()
            clients.append(r)
        r = clients[1]
        r.cmd("a1", f"LOGIN {self.srv.user} {self.srv.password}")
        rc = self.srv.stop()
        self.assertEqual(rc, 0, self.srv.read_log())
        for c in clients:
            self.assertEqual(c.line(), "* BYE Server shutting down")
            self.assertTrue(c.is_closed())
        self.assertIn("event=stopped", self.srv.read_log())

    def test_sigterm_lets_a_running_login_finish(self):
        self.srv.start()
        r = Raw(self.srv.imaps_port, tls=True)
        r.line()
        r.send("a1 LOGIN nobody@localhost wrong\r\n")  # waits fail_delay
        time.sleep(0.03)
        self.srv.signal(signal.SIGTERM)
        self.assertEqual(r.line(), "a1 NO [AUTHENTICATIONFAILED] Authentication failed")
        self.assertEqual(r.line(), "* BYE Server shutting down")
        self.assertEqual(self.srv.stop(), 0)

    def test_sigterm_ends_idle_at_once(self):
        self.srv.start()
        r = Raw(self.srv.imaps_port, tls=True)
        r.line()
        r.cmd("a1", f"LOGIN {self.srv.user} {self.srv.password}")
        r.cmd("a2", "SELECT INBOX")
        r.send("a3 IDLE\r\n")
        self.assertEqual(r.line(), "+ idling")
        start = time.monotonic()
        self.assertEqual(self.srv.stop(), 0)
        self.assertEqual(r.line(), "* BYE Server shutting down")
        self.assertLess(time.monotonic() - start, 5)  # not the 10 s grace

    def test_sighup_reloads_certificate_without_dropping_connections(self):
        self.srv.start()
        before = cert_fingerprint(self.srv.imaps_port)
        kept = Raw(self.srv.imaps_port, tls=True)
        kept.line()
        kept.cmd("a1", f"LOGIN {self.srv.user} {self.srv.password}")
        # A new certificate from a second init, put in place of the first.
        other = TernServer()
        for name in ("cert.pem", "key.pem"):
            shutil.copy(os.path.join(other.dir, "tls", name),
                        os.path.join(self.srv.dir, "tls", name))
        other.cleanup()
        self.srv.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "event=reloaded" not in self.srv.read_log() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertNotEqual(cert_fingerprint(self.srv.imaps_port), before)
        self.assertEqual(kept.cmd("a2", "NOOP"), ["a2 OK NOOP completed"])
        kept.close()

    def test_sighup_with_a_broken_config_keeps_running(self):
        self.srv.start()
        self.srv.add_config("bogus line without equals")
        self.srv.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "event=reload-failed" not in self.srv.read_log() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIn("expected key = value", self.srv.read_log())
        r = Raw(self.srv.imap_port)
        self.assertTrue(r.line().startswith("* OK"))
        r.close()

    def test_login_timeout_says_autologout(self):
        self.srv.add_config("[imap]\nlogin_timeout = 1s\n")
        self.srv.start()
        r = Raw(self.srv.imap_port)
        r.line()
        start = time.monotonic()
        self.assertEqual(r.line(), "* BYE Autologout; idle for too long")
        self.assertTrue(r.is_closed())
        self.assertLess(time.monotonic() - start, 5)

    def test_connections_per_ip_are_limited(self):
        self.srv.add_config("[limits]\nmax_connections_per_ip = 2\n")
        self.srv.start()
        time.sleep(0.3)  # wait_ready's probe connection must be gone
        a, b = Raw(self.srv.imap_port), Raw(self.srv.imap_port)
        a.line()
        b.line()
        c = Raw(self.srv.imap_port)
        self.assertTrue(c.is_closed())
        self.assertIn("reason=max-connections-per-ip", self.srv.read_log())
        a.close()
        time.sleep(0.2)
        d = Raw(self.srv.imap_port)
        self.assertTrue(d.line().startswith("* OK"))
        for x in (b, c, d):
            x.close()

    @unittest.skipUnless(os.geteuid() == 0, "needs root")
    def test_privilege_drop_to_configured_user(self):
        nobody = pwd.getpwnam("nobody")
        for root, dirs, files in os.walk(self.srv.tmp):
            for n in dirs + files:
                os.chown(os.path.join(root, n), nobody.pw_uid, nobody.pw_gid)
        os.chown(self.srv.tmp, nobody.pw_uid, nobody.pw_gid)
        self.srv.add_config("[server]\nuser = nobody\n")
        self.srv.start()
        with open(f"/proc/{self.srv.proc.pid}/status") as f:
            uid_line = [l for l in f if l.startswith("Uid:")][0]
        self.assertEqual(uid_line.split()[1:], [str(nobody.pw_uid)] * 4)
        m = imaplib.IMAP4_SSL("127.0.0.1", self.srv.imaps_port, ssl_context=client_ssl_context())
        self.assertEqual(m.login(self.srv.user, self.srv.password)[0], "OK")
        m.logout()


class ClientTest(unittest.TestCase):
    """Real clients from Debian against a real server."""

    @classmethod
    def setUpClass(cls):
        cls.srv = TernServer().start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        cls.srv.cleanup()
        assert rc == 0, "tern serve did not exit cleanly"

    @unittest.skipUnless(shutil.which("openssl"), "openssl not installed")
    def test_openssl_s_client_login_over_993(self):
        script = f"a1 LOGIN {self.srv.user} {self.srv.password}\r\na2 LOGOUT\r\n"
        proc = subprocess.run(["openssl", "s_client", "-connect",
                               f"127.0.0.1:{self.srv.imaps_port}", "-quiet", "-crlf"],
                              input=script.replace("\r\n", "\n"), capture_output=True,
                              text=True, timeout=30)
        self.assertIn("a1 OK [CAPABILITY", proc.stdout)
        self.assertIn("a2 OK LOGOUT completed", proc.stdout)

    @unittest.skipUnless(shutil.which("openssl"), "openssl not installed")
    def test_openssl_s_client_starttls_on_143(self):
        script = f"a1 LOGIN {self.srv.user} {self.srv.password}\na2 LOGOUT\n"
        proc = subprocess.run(["openssl", "s_client", "-connect",
                               f"127.0.0.1:{self.srv.imap_port}", "-starttls", "imap",
                               "-quiet", "-crlf"],
                              input=script, capture_output=True, text=True, timeout=30)
        self.assertIn("a1 OK [CAPABILITY", proc.stdout)

    @unittest.skipUnless(shutil.which("openssl"), "openssl not installed")
    def test_tls_1_1_is_refused(self):
        proc = subprocess.run(["openssl", "s_client", "-connect",
                               f"127.0.0.1:{self.srv.imaps_port}", "-tls1_1"],
                              input="", capture_output=True, text=True, timeout=30)
        self.assertNotIn("* OK", proc.stdout)
