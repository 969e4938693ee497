"""test_newcomer.py: issue 21's "first five minutes": make run's port base,
tern init on an existing directory, hints with the path that works, admin
commands that say what they changed, per-action --help, a quota for one
account, error texts with the real ports, ordinary TLS disconnects not
logged as errors, and user show naming protocols this server does not run."""
import os
import poplib
import re
import socket
import ssl
import subprocess
import time
import unittest

from harness import TERN, Raw, ServerTestCase, TernServer, client_ssl_context, tern

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class CliTest(unittest.TestCase):
    def setUp(self):
        self.srv = TernServer("[pop3]\nenabled = no\n")
        self.d = self.srv.dir

    def tearDown(self):
        self.srv.cleanup()

    def test_init_on_an_existing_directory_says_what_to_do(self):
        proc = tern("init", self.d, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("already holds a tern.conf", proc.stderr)
        self.assertIn(f"{TERN} -d {self.d} serve", proc.stderr)

    def test_init_hint_names_the_binary_that_was_run(self):
        d = os.path.join(self.srv.tmp, "second")
        out = tern("init", d, "--port-base", "30000").stdout
        self.assertIn(f"Start it with:  {TERN} -d {d} serve", out)
        self.assertIn("http://127.0.0.1:30080/", out)

    def test_admin_commands_confirm_what_they_changed(self):
        out = tern("user", "add", "new@example.org", "--password-stdin", data_dir=self.d,
                   input="pw1\n").stdout
        self.assertEqual(out, "Added new@example.org\n")
        out = tern("user", "passwd", "new@example.org", "--password-stdin", data_dir=self.d,
                   input="pw2\n").stdout
        self.assertEqual(out, "Changed the password of new@example.org\n")
        out = tern("user", "set", "new@example.org", "imap=off", "role=admin",
                   data_dir=self.d).stdout
        self.assertEqual(out, "Updated new@example.org: imap=off role=admin\n")
        out = tern("user", "del", "new@example.org", data_dir=self.d).stdout
        self.assertEqual(out, "Deleted new@example.org\n")
        user = self.srv.user
        self.assertEqual(tern("alias", "add", "a@localhost", user, data_dir=self.d).stdout,
                         f"a@localhost -> {user}\n")
        self.assertEqual(tern("alias", "del", "a@localhost", user, data_dir=self.d).stdout,
                         f"a@localhost -> {user} removed\n")
        tern("alias", "add", "b@localhost", user, data_dir=self.d)
        self.assertEqual(tern("alias", "del", "b@localhost", data_dir=self.d).stdout,
                         "b@localhost removed\n")
        tern("user", "app-password", "add", user, "ph", data_dir=self.d)
        self.assertEqual(tern("user", "app-password", "del", user, "ph", data_dir=self.d).stdout,
                         f"{user}: app password 'ph' revoked\n")
        self.assertEqual(tern("queue", "hold", "--all", data_dir=self.d).stdout,
                         "hold: 0 messages\n")

    def test_each_user_action_has_its_own_help(self):
        out = tern("user", "set", "--help").stdout
        self.assertTrue(out.startswith("usage: tern [-d DIR] user set TARGET SETTING..."), out)
        self.assertNotIn("app-password", out)
        out = tern("user", "quota", "--help").stdout
        self.assertIn("user quota ADDRESS", out)
        self.assertIn("user app-password", tern("user", "--help").stdout)

    def test_quota_for_one_account(self):
        out = tern("user", "quota", self.srv.user, "--storage", "10m", "--messages", "500",
                   data_dir=self.d).stdout
        self.assertEqual(out, f"Updated {self.srv.user}'s quota\n"
                              "storage: 0 bytes of 10.0 MiB\nmessages: 0 of 500\n")
        show = tern("user", "show", self.srv.user, data_dir=self.d).stdout
        self.assertIn("storage: 0 bytes of 10.0 MiB\nmessages: 0 of 500\n", show)
        out = tern("user", "quota", self.srv.user, "--storage", "none", data_dir=self.d).stdout
        self.assertIn("storage: 0 bytes of no limit", out)
        proc = tern("user", "quota", self.srv.user, "--storage", "lots", data_dir=self.d,
                    check=False)
        self.assertEqual(proc.returncode, 1)

    def test_status_without_a_running_server(self):
        proc = tern("status", data_dir=self.d, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("is tern serve running", proc.stderr)
        self.srv.start()
        self.assertIn("sessions: imap=0", tern("status", data_dir=self.d).stdout)
        self.assertEqual(self.srv.stop(), 0)
        self.assertFalse(os.path.exists(os.path.join(self.d, "admin.token")))

    def test_show_says_when_a_protocol_is_not_served(self):
        show = tern("user", "show", self.srv.user, data_dir=self.d).stdout
        self.assertIn("imap     on\n", show)
        self.assertIn("pop3     on (not served: switched off in tern.conf)\n", show)

    def test_quota_is_enforced_by_the_running_server(self):
        import imaplib
        tern("user", "quota", self.srv.user, "--messages", "1", data_dir=self.d)
        self.srv.start()
        try:
            imap = imaplib.IMAP4("127.0.0.1", self.srv.imap_port)
            imap.login(self.srv.user, self.srv.password)
            msg = b"From: a@b.c\r\nSubject: x\r\n\r\nhi\r\n"
            self.assertEqual(imap.append("INBOX", None, None, msg)[0], "OK")
            typ, data = imap.append("INBOX", None, None, msg)
            self.assertEqual(typ, "NO")
            self.assertIn(b"OVERQUOTA", data[0])
            imap.logout()
        finally:
            self.assertEqual(self.srv.stop(), 0)


class LogFileTest(unittest.TestCase):
    def test_log_file_and_reopen_on_sigusr1(self):
        import signal
        srv = TernServer("[server]\nlog_file = tern.log\n")
        try:
            srv.start()
            path = os.path.join(srv.dir, "tern.log")
            with open(path) as f:
                self.assertIn("event=started", f.read())
            os.rename(path, path + ".1")  # what logrotate does
            srv.signal(signal.SIGUSR1)
            deadline = time.monotonic() + 10
            while not os.path.exists(path) and time.monotonic() < deadline:
                time.sleep(0.05)
            with socket.create_connection(("127.0.0.1", srv.imap_port)) as s:
                s.recv(100)
            time.sleep(0.3)
            with open(path) as f:
                new = f.read()
            self.assertIn("event=log-reopened", new)
            self.assertIn("event=connect", new)
            with open(path + ".1") as f:
                self.assertNotIn("event=log-reopened", f.read())
            self.assertEqual(srv.stop(), 0)
            with open(path) as f:
                self.assertIn("event=stopped", f.read())
        finally:
            srv.stop()
            srv.cleanup()


class MakeRunTest(unittest.TestCase):
    def run_script(self, env_extra, cwd):
        env = dict(os.environ, **env_extra)
        proc = subprocess.Popen(["sh", os.path.join(ROOT, "scripts", "run.sh"),
                                 os.path.relpath(os.path.dirname(TERN), cwd)],
                                cwd=cwd, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 20
        out = ""
        while "server event=started" not in out and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            out += line
        proc.terminate()
        out += proc.communicate(timeout=20)[0]
        return out

    def moves_on_when_taken(self, port):
        import tempfile
        cwd = tempfile.mkdtemp(prefix="tern-run-")
        blocker = socket.socket()
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            blocker.bind(("127.0.0.1", port))
            blocker.listen()
        except OSError:
            pass  # taken already: all the better
        try:
            out = self.run_script({}, cwd)
        finally:
            blocker.close()
        m = re.search(r"using port base (\d+)", out)
        self.assertIsNotNone(m, out)
        self.assertIn(f"imap=127.0.0.1:{int(m.group(1)) + 143}", out)

    def test_a_taken_default_port_base_moves_on_and_says_so(self):
        self.moves_on_when_taken(10143)

    def test_a_taken_smtp_port_moves_the_base_too(self):
        self.moves_on_when_taken(10025)  # SMTP, not only IMAP/POP3/HTTP, is checked

    def test_a_taken_port_says_which_service_and_what_to_do(self):
        srv = TernServer()
        blocker = socket.socket()
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", srv.base + 587))
        blocker.listen()
        try:
            proc = tern("serve", data_dir=srv.dir, check=False)
        finally:
            blocker.close()
            srv.cleanup()
        self.assertEqual(proc.returncode, 1)
        self.assertIn(f"cannot listen on 127.0.0.1:{srv.base + 587} (submission): "
                      "Address already in use", proc.stderr)
        self.assertIn(f"set another port_base (or that service's port) in {srv.dir}/tern.conf",
                      proc.stderr)

    def test_port_base_from_the_environment(self):
        import tempfile
        from harness import free_port_base
        cwd = tempfile.mkdtemp(prefix="tern-run-")
        base = free_port_base()
        out = self.run_script({"PORT_BASE": str(base)}, cwd)
        self.assertIn(f"imap=127.0.0.1:{base + 143}", out)


class WireTextsTest(ServerTestCase):
    CONFIG = "[auth]\nplaintext = never\nfail_delay = 100ms\n"

    def test_pop3_names_its_real_tls_port(self):
        pop = poplib.POP3("127.0.0.1", self.server.base + 110)
        with self.assertRaises(poplib.error_proto) as e:
            pop.user(self.server.user)
        self.assertIn(f"port {self.server.base + 995} first".encode(), e.exception.args[0])
        pop.quit()

    def test_a_client_dropping_a_tls_connection_is_no_tls_error(self):
        for _ in range(3):
            sock = socket.create_connection(("127.0.0.1", self.server.imaps_port))
            tls = client_ssl_context().wrap_socket(sock)
            tls.recv(100)
            tls.close()  # Python sends no close_notify: what most clients do
        time.sleep(0.3)
        log = self.server.read_log()
        self.assertGreaterEqual(log.count("event=disconnect"), 3, log)
        self.assertNotIn("tls-error", log)


if __name__ == "__main__":
    unittest.main()
