"""Access control: per-account protocol switches (one account, a file of
10,000, a domain, all) taking effect on new and live sessions without a
restart, administrators, master users, app passwords with protocol limits,
Dovecot passwd-file import, schema migration, throttling and the fail2ban
log line."""
import base64
import imaplib
import os
import re
import signal
import sqlite3
import subprocess
import time
import unittest

from harness import TERN, SAN_ENV, Raw, ServerTestCase, TernServer, client_ssl_context, tern
import saslclient as sc


def login_line(port, user, password, tag="a1"):
    r = Raw(port, tls=True)
    r.line()
    lines = r.cmd(tag, f'LOGIN "{user}" "{password}"')
    r.close()
    return lines[-1]


def add_user(d, address, password):
    tern("user", "add", address, "--password-stdin", data_dir=d, input=password + "\n")


class ProtocolSwitchTest(ServerTestCase):
    CONFIG = "[auth]\nfail_delay = 100ms\nmaster_users = master@localhost\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        d = cls.server.dir
        add_user(d, "alice@example.org", "alice-pw")
        add_user(d, "boss@example.org", "boss-pw")
        add_user(d, "master@localhost", "master-pw")

    def test_imap_off_refuses_login_with_contactadmin_and_on_restores(self):
        d, port = self.server.dir, self.server.imaps_port
        tern("user", "set", "alice@example.org", "imap=off", "pop3=on", data_dir=d)
        self.assertEqual(login_line(port, "alice@example.org", "alice-pw"),
                         "a1 NO [CONTACTADMIN] IMAP access is disabled for this account")
        # A wrong password still gets the ordinary answer: nothing is revealed.
        self.assertEqual(login_line(port, "alice@example.org", "bad"),
                         "a1 NO [AUTHENTICATIONFAILED] Authentication failed")
        show = tern("user", "show", "alice@example.org", data_dir=d).stdout
        self.assertIn("imap     off", show)
        listed = tern("user", "list", "--disabled", "imap", data_dir=d).stdout
        self.assertIn("alice@example.org", listed)
        self.assertNotIn("test@localhost", listed)
        tern("user", "set", "alice@example.org", "imap=on", data_dir=d)
        self.assertTrue(login_line(port, "alice@example.org", "alice-pw").startswith("a1 OK "))

    def test_live_session_gets_bye_when_imap_is_switched_off(self):
        d = self.server.dir
        add_user(d, "live@example.org", "live-pw")
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        self.assertTrue(r.cmd("a1", 'LOGIN live@example.org live-pw')[-1].startswith("a1 OK"))
        other = Raw(self.server.imaps_port, tls=True)
        other.line()
        other.cmd("b1", f"LOGIN {self.server.user} {self.server.password}")
        start = time.monotonic()
        tern("user", "set", "live@example.org", "imap=off", data_dir=d)
        self.assertEqual(r.line(), "* BYE IMAP access has been disabled for this account")
        self.assertTrue(r.is_closed())
        self.assertLess(time.monotonic() - start, 5)
        # Sessions of other accounts go on.
        self.assertEqual(other.cmd("b2", "NOOP")[-1], "b2 OK NOOP completed")
        other.close()

    def test_deleted_account_session_ends(self):
        d = self.server.dir
        add_user(d, "gone@example.org", "gone-pw")
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        r.cmd("a1", "LOGIN gone@example.org gone-pw")
        tern("user", "del", "gone@example.org", data_dir=d)
        self.assertTrue(r.line().startswith("* BYE "))
        self.assertTrue(r.is_closed())

    def test_admin_role_cannot_use_imap(self):
        d = self.server.dir
        tern("user", "set", "boss@example.org", "role=admin", data_dir=d)
        self.assertEqual(login_line(self.server.imaps_port, "boss@example.org", "boss-pw"),
                         "a1 NO [CONTACTADMIN] Administrator accounts cannot use IMAP")
        self.assertIn("note:    administrators", tern("user", "show", "boss@example.org",
                                                       data_dir=d).stdout)

    def test_master_user_logs_in_as_a_user_and_is_logged(self):
        port = self.server.imaps_port
        line = login_line(port, f"{self.server.user}*master@localhost", "master-pw")
        self.assertTrue(line.startswith("a1 OK "), line)
        # SASL PLAIN with an authorization identity does the same.
        r = Raw(port, tls=True)
        r.line()
        ir = sc.b64(f"{self.server.user}\0master@localhost\0master-pw")
        self.assertTrue(r.cmd("a1", "AUTHENTICATE PLAIN " + ir)[-1].startswith("a1 OK "))
        r.close()
        log = self.server.read_log()
        self.assertRegex(log, r"event=master-login master=master@localhost "
                              r"user=test@localhost ip=127\.0\.0\.1 proto=imap")
        self.assertRegex(log, r"event=login user=test@localhost .* master=master@localhost")
        # Not a master: the right password, but no acting as someone else.
        self.assertEqual(login_line(port, "master@localhost*alice@example.org", "alice-pw"),
                         "a1 NO [AUTHORIZATIONFAILED] Not authorized to log in as that user")
        # A wrong master password is an ordinary failure.
        self.assertEqual(login_line(port, f"{self.server.user}*master@localhost", "x"),
                         "a1 NO [AUTHENTICATIONFAILED] Authentication failed")

    def test_app_passwords_with_protocol_limits(self):
        d, port = self.server.dir, self.server.imaps_port
        add_user(d, "app@example.org", "main-pw")
        out = tern("user", "app-password", "add", "app@example.org", "phone", data_dir=d).stdout
        phone = re.search(r"app password 'phone': (\S+)", out).group(1)
        out = tern("user", "app-password", "add", "app@example.org", "mailer",
                   "--protocols", "smtp", data_dir=d).stdout
        mailer = re.search(r"app password 'mailer': (\S+)", out).group(1)
        self.assertTrue(login_line(port, "app@example.org", phone).startswith("a1 OK "))
        # Typed without the dashes and in capitals, it still works.
        self.assertTrue(login_line(port, "app@example.org",
                                   phone.replace("-", "").upper()).startswith("a1 OK "))
        self.assertEqual(login_line(port, "app@example.org", mailer),
                         "a1 NO [AUTHORIZATIONFAILED] This app password is not valid for IMAP")
        listed = tern("user", "app-password", "list", "app@example.org", data_dir=d).stdout
        self.assertRegex(listed, r"mailer\s+smtp\s")
        self.assertRegex(listed, r"phone\s+imap,pop3,smtp\s")
        proc = tern("user", "app-password", "add", "app@example.org", "phone", data_dir=d,
                    check=False)
        self.assertEqual(proc.stderr.strip(),
                         "tern: app@example.org: an app password named 'phone' exists")
        tern("user", "app-password", "del", "app@example.org", "phone", data_dir=d)
        self.assertEqual(login_line(port, "app@example.org", phone),
                         "a1 NO [AUTHENTICATIONFAILED] Authentication failed")
        self.assertTrue(login_line(port, "app@example.org", "main-pw").startswith("a1 OK "))
        log = self.server.read_log()
        self.assertRegex(log, r"event=login user=app@example.org .* app_password=phone")


class BulkSwitchTest(unittest.TestCase):
    """10,000 accounts switched from a file, then by domain and all."""
    N = 10000

    def setUp(self):
        self.srv = TernServer()
        d = self.srv.dir
        tern("user", "list", data_dir=d)  # migrate the schema
        db = sqlite3.connect(os.path.join(d, "accounts.db"))
        now = int(time.time())
        # Rows written directly: hashing 10,000 passwords is not what is tested.
        db.executemany("INSERT INTO accounts(address, password, created) VALUES (?, '*', ?)",
                       [(f"user{i}@bulk{i % 2}.example", now) for i in range(self.N)])
        db.commit()
        db.close()
        self.listfile = os.path.join(self.srv.tmp, "addresses.txt")
        with open(self.listfile, "w") as f:
            f.write("# accounts to switch\n")
            for i in range(self.N):
                f.write(f"user{i}@bulk{i % 2}.example\n")
            f.write("nobody@bulk0.example\n")

    def tearDown(self):
        self.srv.cleanup()

    def test_bulk_switch_from_a_file_of_10000_accounts(self):
        d = self.srv.dir
        start = time.monotonic()
        proc = tern("user", "set", "--from-file", self.listfile, "imap=off", "pop3=off",
                    data_dir=d, check=False)
        took = time.monotonic() - start
        print(f"\n  bulk: {self.N} accounts switched from a file in {took:.2f}s "
              f"({os.path.basename(TERN) if 'asan' not in TERN else 'asan'})")
        self.assertEqual(proc.returncode, 1)  # one address does not exist
        self.assertEqual(proc.stdout.strip(), f"{self.N} accounts updated, 1 not found")
        self.assertIn("nobody@bulk0.example: no such account", proc.stderr)
        self.assertLess(took, 30)
        listed = tern("user", "list", "--disabled", "imap", data_dir=d).stdout.splitlines()
        self.assertEqual(len(listed), self.N)
        self.assertTrue(all("imap=off pop3=off smtp=on" in l for l in listed[:5]))
        out = tern("user", "set", "--domain", "bulk1.example", "imap=on", data_dir=d).stdout
        self.assertEqual(out.strip(), f"{self.N // 2} accounts updated")
        listed = tern("user", "list", "--disabled", "imap", data_dir=d).stdout
        self.assertEqual(len(listed.splitlines()), self.N // 2)
        self.assertNotIn("bulk1.example", listed)
        out = tern("user", "set", "--all", "imap=on", "pop3=on", data_dir=d).stdout
        self.assertEqual(out.strip(), f"{self.N + 1} accounts updated")
        self.assertEqual(tern("user", "list", "--disabled", "pop3", data_dir=d).stdout, "")

    def test_set_rejects_bad_arguments(self):
        d = self.srv.dir
        for args, want in [
            (("set", "user1@bulk1.example"), "nothing to set"),
            (("set", "user1@bulk1.example", "imap=maybe"), "bad setting"),
            (("set", "--all", "--domain", "x.org", "imap=on"), "give one of"),
            (("set", "ghost@x.org", "imap=on"), "ghost@x.org: no such account"),
        ]:
            proc = tern("user", *args, data_dir=d, check=False)
            self.assertEqual(proc.returncode, 1, args)
            self.assertIn(want, proc.stderr, args)


class ImportAndMigrationTest(unittest.TestCase):
    def setUp(self):
        self.srv = TernServer("[auth]\nfail_delay = 100ms\n")

    def tearDown(self):
        rc = self.srv.stop()
        self.srv.cleanup()
        self.assertEqual(rc, 0)

    def test_import_dovecot_passwd_file(self):
        d = self.srv.dir
        path = os.path.join(self.srv.tmp, "passwd")
        with open(path, "w") as f:
            f.write(
                "# Dovecot passwd-file\n"
                "sha@example.org:{SHA512-CRYPT}$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6G"
                "Lc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1:1000:1000::/home/sha::\n"
                "plain:{PLAIN}plain-pw:1000:1000::/home/plain::userdb_quota_rule=*:storage=1G\n"
                f"scram@example.org:{{SCRAM-SHA-256}}{sc.scram_keys('scram-pw', 'sha256')}\n"
                "weak@example.org:{MD5}1a1dc91c907325c69271ddf0c944bc72\n")
        proc = tern("user", "import-passwd", path, "--domain", "example.org", data_dir=d,
                    check=False)
        self.assertEqual(proc.stdout.strip(), "3 added, 0 updated, 1 skipped")
        self.assertIn("weak@example.org: skipped: scheme not supported", proc.stderr)
        self.srv.start()
        port = self.srv.imaps_port
        self.assertTrue(login_line(port, "sha@example.org", "secret").startswith("a1 OK "))
        self.assertTrue(login_line(port, "plain@example.org", "plain-pw").startswith("a1 OK "))
        # SCRAM-only account: SCRAM works, PLAIN has no hash to check.
        r = Raw(port, tls=True)
        r.line()
        c = sc.Scram("scram@example.org", "scram-pw", "sha256")
        r.send(f"a1 AUTHENTICATE SCRAM-SHA-256 {sc.b64(c.first())}\r\n")
        first = sc.unb64(r.line()[2:]).decode()
        r.send(sc.b64(c.final(first)) + "\r\n")
        self.assertTrue(c.verify_server(sc.unb64(r.line()[2:]).decode()))
        r.close()
        # The imported SHA512-CRYPT account got yescrypt and SCRAM keys at login.
        show = tern("user", "show", "sha@example.org", data_dir=d).stdout
        self.assertIn("credentials: yescrypt scram-sha-1 scram-sha-256", show)

    def test_foundation_database_is_migrated(self):
        d = self.srv.dir
        os.unlink(os.path.join(d, "accounts.db"))
        for suffix in ("-wal", "-shm"):
            if os.path.exists(os.path.join(d, "accounts.db" + suffix)):
                os.unlink(os.path.join(d, "accounts.db" + suffix))
        # The schema the foundation created (user_version 0).
        db = sqlite3.connect(os.path.join(d, "accounts.db"))
        db.execute("CREATE TABLE accounts(id INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT "
                   "NOT NULL UNIQUE, password TEXT NOT NULL, role TEXT NOT NULL DEFAULT 'user', "
                   "imap INTEGER NOT NULL DEFAULT 1, pop3 INTEGER NOT NULL DEFAULT 1, smtp "
                   "INTEGER NOT NULL DEFAULT 1, created INTEGER NOT NULL)")
        db.execute("INSERT INTO accounts(address, password, created) VALUES ('old@localhost', "
                   "'$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wi"
                   "OQSpT0Y77vwPZN.Pq.H91p5hVO1', 1700000000)")
        db.commit()
        db.close()
        self.srv.start()
        self.assertTrue(login_line(self.srv.imaps_port, "old@localhost", "secret")
                        .startswith("a1 OK "))
        db = sqlite3.connect(os.path.join(d, "accounts.db"))
        self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], 6)
        self.assertEqual(db.execute("SELECT count(*) FROM aliases").fetchone()[0], 0)
        self.assertEqual(db.execute("SELECT count(*) FROM group_members").fetchone()[0], 0)
        self.assertEqual(db.execute("SELECT count(*) FROM accounts WHERE referral != ''")
                         .fetchone()[0], 0)
        row = db.execute("SELECT id, password, scram_sha256 FROM accounts").fetchone()
        db.close()
        self.assertEqual(row[0], 1)
        self.assertTrue(row[1].startswith("$y$") and row[2] != "", row)
        self.assertIn("event=schema-migrated from=0 to=6", self.srv.read_log())


def cache_counts(server):
    """tern_auth_cache_total's hit and miss counts from /metrics."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", server.base + 80, timeout=10)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    got = dict(re.findall(r'^tern_auth_cache_total\{result="(\w+)"\} (\d+)$', text, re.M))
    return int(got.get("hit", 0)), int(got.get("miss", 0))


class LoginCacheTest(ServerTestCase):
    """The login cache (docs/AUTH.md): a repeated login skips the hash, and
    nothing it remembers outlives a password change, a switch turned off or
    a SIGHUP that turns it off."""
    CONFIG = "[auth]\nfail_delay = 0\nmax_fail_delay = 0\n"

    def test_repeat_login_hits_and_a_password_change_ends_it(self):
        d, port = self.server.dir, self.server.imaps_port
        add_user(d, "cached@example.org", "first-pw")
        hit0, miss0 = cache_counts(self.server)
        for _ in range(3):
            self.assertTrue(login_line(port, "cached@example.org", "first-pw").startswith("a1 OK "))
        hit1, miss1 = cache_counts(self.server)
        self.assertEqual((hit1 - hit0, miss1 - miss0), (2, 1))
        # A wrong password is never answered from the cache.
        self.assertEqual(login_line(port, "cached@example.org", "first-pW"),
                         "a1 NO [AUTHENTICATIONFAILED] Authentication failed")
        # Another process changes the password: the old one fails at once.
        tern("user", "passwd", "cached@example.org", "--password-stdin", data_dir=d,
             input="second-pw\n")
        self.assertEqual(login_line(port, "cached@example.org", "first-pw"),
                         "a1 NO [AUTHENTICATIONFAILED] Authentication failed")
        self.assertTrue(login_line(port, "cached@example.org", "second-pw").startswith("a1 OK "))
        # POP3 and SMTP logins use it too: the same password, a hit.
        import poplib
        hit2, _ = cache_counts(self.server)
        pop = poplib.POP3_SSL("127.0.0.1", self.server.base + 995,
                              context=client_ssl_context())
        pop.user("cached@example.org")
        pop.pass_("second-pw")
        pop.quit()
        self.assertEqual(cache_counts(self.server)[0], hit2 + 1)
        # A cached login is still refused when the protocol is switched off.
        tern("user", "set", "cached@example.org", "imap=off", data_dir=d)
        self.assertEqual(login_line(port, "cached@example.org", "second-pw"),
                         "a1 NO [CONTACTADMIN] IMAP access is disabled for this account")
        tern("user", "set", "cached@example.org", "imap=on", data_dir=d)

    def test_sighup_turning_it_off_forgets(self):
        d, port = self.server.dir, self.server.imaps_port
        add_user(d, "hup@example.org", "hup-pw")
        self.assertTrue(login_line(port, "hup@example.org", "hup-pw").startswith("a1 OK "))
        self.server.add_config("[auth]\ncache_size = 0")
        reloads = self.server.read_log().count("event=reloaded")
        self.server.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while self.server.read_log().count("event=reloaded") == reloads:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        hit0, miss0 = cache_counts(self.server)
        self.assertTrue(login_line(port, "hup@example.org", "hup-pw").startswith("a1 OK "))
        self.assertTrue(login_line(port, "hup@example.org", "hup-pw").startswith("a1 OK "))
        self.assertEqual(cache_counts(self.server), (hit0, miss0))


class ThrottleTest(ServerTestCase):
    CONFIG = ("[auth]\nfail_delay = 100ms\nmax_fail_delay = 800ms\nblock_after_ip = 8\n"
              "block_time = 3s\nfail_window = 1m\n")

    def test_delay_grows_then_the_ip_is_blocked_and_successes_are_never_slowed(self):
        port, user, pw = self.server.imaps_port, self.server.user, self.server.password
        r = Raw(port, tls=True)
        r.line()
        took = []
        for i in range(7):
            start = time.monotonic()
            line = r.cmd(f"f{i}", f"LOGIN {user} wrong{i}")[-1]
            took.append(time.monotonic() - start)
            self.assertEqual(line, f"f{i} NO [AUTHENTICATIONFAILED] Authentication failed")
        # 100 ms for the first three, then doubling: 200, 400, 800, 800.
        self.assertGreaterEqual(took[0], 0.1)
        self.assertGreaterEqual(took[4], 0.4)
        self.assertGreater(took[5], took[1] * 3)
        # A right password is answered without the delay.
        start = time.monotonic()
        self.assertTrue(r.cmd("ok", f"LOGIN {user} {pw}")[-1].startswith("ok OK "))
        self.assertLess(time.monotonic() - start, took[5])
        r.close()
        # The 8th failure blocks the IP: now even the right password is refused.
        self.assertEqual(login_line(port, user, "wrong8"),
                         "a1 NO [AUTHENTICATIONFAILED] Authentication failed")
        self.assertEqual(login_line(port, user, pw),
                         "a1 NO [UNAVAILABLE] Too many failed logins; try again later")
        log = self.server.read_log()
        self.assertIn("event=auth-block ip=127.0.0.1", log)
        # The fail2ban line (docs/AUTH.md) for each failure.
        fail2ban = re.compile(r"^\S+ info imap sid=[0-9a-f]{8} event=auth-failed "
                              r"ip=(?P<host>\S+) user=\S+ mech=\S+ reason=\S+", re.M)
        hosts = [m.group("host") for m in fail2ban.finditer(log)]
        self.assertGreaterEqual(len(hosts), 9)
        self.assertEqual(set(hosts), {"127.0.0.1"})
        time.sleep(3.2)  # block_time
        self.assertTrue(login_line(port, user, pw).startswith("a1 OK "))


class AccountBlockTest(ServerTestCase):
    CONFIG = ("[auth]\nfail_delay = 0\nmax_fail_delay = 0\nblock_after_ip = 0\n"
              "block_after_account = 5\nblock_time = 2s\n")

    def test_account_is_blocked_after_threshold(self):
        port, user, pw = self.server.imaps_port, self.server.user, self.server.password
        for i in range(5):
            login_line(port, user, f"bad{i}")
        self.assertEqual(login_line(port, user, pw),
                         "a1 NO [UNAVAILABLE] Too many failed logins; try again later")
        # Other accounts are not affected (no IP block configured).
        self.assertEqual(login_line(port, "other@localhost", "x"),
                         "a1 NO [AUTHENTICATIONFAILED] Authentication failed")
        time.sleep(2.2)
        self.assertTrue(login_line(port, user, pw).startswith("a1 OK "))
