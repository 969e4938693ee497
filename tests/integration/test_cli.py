"""The `tern` command line: init, user add/del/list/passwd/show, version,
help, and clean errors for user mistakes."""
import os
import shutil
import tempfile
import unittest

from harness import TernServer, tern


class CliTest(unittest.TestCase):
    def setUp(self):
        self.srv = TernServer()
        self.d = self.srv.dir

    def tearDown(self):
        self.srv.cleanup()

    def test_init_writes_config_certificate_and_account(self):
        for name in ("tern.conf", "tls/cert.pem", "tls/key.pem", "accounts.db", "accounts"):
            self.assertTrue(os.path.exists(os.path.join(self.d, name)), name)
        self.assertEqual(os.stat(os.path.join(self.d, "tls/key.pem")).st_mode & 0o777, 0o600)
        self.assertEqual(self.srv.user, "test@localhost")
        self.assertGreaterEqual(len(self.srv.password), 16)

    def test_check_of_a_fresh_data_directory_is_clean(self):
        proc = tern("check", data_dir=self.d, check=False)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def test_init_refuses_to_overwrite(self):
        proc = tern("init", self.d, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("already holds a tern.conf", proc.stderr)

    def test_init_domain_and_hostname(self):
        tmp = tempfile.mkdtemp()
        try:
            out = tern("init", os.path.join(tmp, "v"), "--domain", "example.org",
                       "--hostname", "mail.example.org", "--port-base", "30000").stdout
            self.assertIn("user:     test@example.org", out)
            self.assertIn("port 30143, STARTTLS", out)
            self.assertIn("port 30993, TLS", out)
            conf = open(os.path.join(tmp, "v", "tern.conf")).read()
            self.assertIn("hostname = mail.example.org", conf)
        finally:
            shutil.rmtree(tmp)

    def test_user_add_list_show_passwd_del(self):
        tern("user", "add", "Alice@Example.org", "--password-stdin", data_dir=self.d,
             input="s3cret\n")
        out = tern("user", "list", data_dir=self.d).stdout
        self.assertIn("alice@example.org", out)
        self.assertIn("test@localhost", out)
        show = tern("user", "show", "alice@example.org", data_dir=self.d).stdout
        self.assertIn("address: alice@example.org", show)
        self.assertIn("imap     on", show)
        proc = tern("user", "add", "alice@example.org", "--password-stdin", data_dir=self.d,
                    input="x\n", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr.strip(), "tern: alice@example.org: account already exists")
        tern("user", "passwd", "alice@example.org", "--password-stdin", data_dir=self.d,
             input="new\n")
        tern("user", "del", "alice@example.org", data_dir=self.d)
        proc = tern("user", "show", "alice@example.org", data_dir=self.d, check=False)
        self.assertEqual(proc.stderr.strip(), "tern: alice@example.org: no such account")

    def test_user_add_without_stdin_generates_a_password(self):
        out = tern("user", "add", "bob@example.org", data_dir=self.d, input="").stdout
        self.assertRegex(out, r"bob@example.org\npassword: \S{16}\n")

    def test_user_mistakes_are_one_line_errors(self):
        cases = [
            (("user",), "tern: user: expected add, del, list, passwd, show, set, quota, app-password or import-passwd"),
            (("user", "frob"), "tern: user: unknown action 'frob'"),
            (("user", "add"), "tern: user add: wrong arguments (see tern user --help)"),
            (("user", "add", "not-an-address", "--password-stdin"),
             "tern: 'not-an-address' is not a valid address"),
            (("user", "del", "ghost@example.org"), "tern: ghost@example.org: no such account"),
            (("nonsense",), "tern: unknown command 'nonsense'"),
            (("version", "extra"), "tern: version takes no arguments"),
        ]
        for args, want in cases:
            proc = tern(*args, data_dir=self.d, input="pw\n", check=False)
            self.assertNotEqual(proc.returncode, 0, args)
            self.assertEqual(proc.stderr.strip().splitlines()[-1], want, args)

    def test_missing_data_dir(self):
        proc = tern("user", "list", data_dir="/nonexistent/dir", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("no data directory", proc.stderr)

    def test_version_and_help(self):
        self.assertRegex(tern("version").stdout, r"^tern \d+\.\d+\.\d+\n$")
        out = tern("--help").stdout
        for word in ("init", "serve", "user", "version"):
            self.assertIn(word, out)
        self.assertIn("user add ADDRESS", tern("user", "--help").stdout)
        self.assertIn("--port-base", tern("init", "--help").stdout)

    def test_config_keys_document_every_default(self):
        out = tern("config-keys").stdout
        for key in ("`port_base`", "`max_line`", "`plaintext`", "`fail_delay`"):
            self.assertIn(key, out)
