"""test_hardening.py: the findings of issue 17, each probed as an attacker on
loopback would (docs/SECURITY.md): mailbox names that alias through an
encoded control character, a revoked account's IDLE session, a 10 MB line
without CRLF in every protocol, the deadline from connect to login, SCRAM's
decoy salts across a restart, a SIGHUP policy change for connections not
yet logged in, orphan blobs collected at start, and the watchdog's log line
for a slow event-loop callback.
"""
import base64
import os
import signal
import socket
import time
import unittest

import saslclient as sc
from harness import TERN, Raw, ServerTestCase, TernServer, tern
from test_imap_literals import PeakSampler, rss_anon_kib
from test_imap_mailbox import Session, new_account

SANITIZED = "asan" in TERN  # ASan's quarantine keeps freed memory: no RSS figures


class MailboxNameTest(ServerTestCase):
    """Modified UTF-7 "&AAA-" is a NUL: decoded, it ended the C string, so
    "zz&AAA-def" was "zz" and "INBOX&AAA-garbage" was INBOX."""

    def setUp(self):
        self.addr, self.pw = new_account(self.server, f"{self._testMethodName[:40]}@localhost")
        self.s = Session(self.server, self.addr, self.pw)

    def tearDown(self):
        self.s.close()

    def test_encoded_nul_does_not_alias(self):
        self.s.ok("CREATE zz")
        for cmd in ('CREATE "zz&AAA-def"', 'SELECT "INBOX&AAA-garbage"', 'DELETE "zz&AAA-x"',
                    'RENAME "zz&AAA-x" other', 'STATUS "INBOX&AAA-" (MESSAGES)',
                    'SUBSCRIBE "zz&AAA-q"'):
            reply = self.s.do(cmd)[-1]
            self.assertNotIn(" OK ", reply, cmd)
        names = [l.rsplit(" ", 1)[1] for l in self.s.ok('LIST "" "*"')[:-1]]
        self.assertIn('"zz"', names)  # DELETE "zz&AAA-x" did not delete it

    def test_encoded_control_characters_are_refused(self):
        for enc in ("&AAE-", "&AB8-", "&AH8-", "&AIU-"):  # U+0001, U+001F, DEL, U+0085
            reply = self.s.do(f'CREATE "c{enc}x"')[-1]
            self.assertRegex(reply, r"^t\d+ NO ", enc)
        self.s.ok('CREATE "nbsp&AKA-x"')  # U+00A0 is not a control character

    def test_utf8_names_refuse_c1_controls(self):
        self.s.ok("ENABLE UTF8=ACCEPT")
        tag = self.s.tag()
        self.s.send(f'{tag} CREATE "c1\u0085x"\r\n'.encode())
        self.assertRegex(self.s.until_tagged(tag)[-1], rf"^{tag} (NO|BAD) ")


class RevokedIdleTest(ServerTestCase):
    """Already fixed on main (the session core delivers a stop at once to a
    command that only waits for the client); this keeps it so: a session in
    IDLE got nothing for as long as it idled after `user set ... imap=off`."""

    def test_idle_session_gets_bye_when_imap_is_switched_off(self):
        addr, pw = new_account(self.server, "idler@localhost")
        s = Session(self.server, addr, pw)
        s.send(b"i1 IDLE\r\n")
        self.assertTrue(s.line().startswith("+ "))
        start = time.monotonic()
        tern("user", "set", addr, "imap=off", data_dir=self.server.dir)
        self.assertEqual(s.line(), "* BYE IMAP access has been disabled for this account")
        self.assertTrue(s.is_closed())
        self.assertLess(time.monotonic() - start, 5)
        s.close()


class LongLineTest(ServerTestCase):
    """A 10 MB line without CRLF is discarded as it streams, in every
    protocol: the server does not grow by anything like its size."""
    CONFIG = "[auth]\nfail_delay = 0\n"
    SIZE = 10 * 1024 * 1024

    def flood(self, port, prefix, greeting=True):
        sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        if greeting:
            sock.recv(4096)
        pid = self.server.proc.pid
        before = rss_anon_kib(pid)
        sampler = PeakSampler(pid)
        sampler.start()
        chunk = b"x" * 65536
        sent = 0
        try:
            sock.sendall(prefix)
            while sent < self.SIZE:
                sock.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed on us once the line was too long: fine
        time.sleep(0.2)
        peak = sampler.stop()
        sock.close()
        if not SANITIZED:
            self.assertLess(peak - before, 2 * 1024, f"peak {peak} KiB, before {before} KiB")
        return sent

    def test_imap_before_login(self):
        self.flood(self.server.imap_port, b"a LOGIN ")

    def test_imap_logged_in(self):
        r = Raw(self.server.imap_port)
        r.line()
        self.assertTrue(r.cmd("a", f"LOGIN {self.server.user} {self.server.password}")[-1]
                        .startswith("a OK"))
        pid = self.server.proc.pid
        before = rss_anon_kib(pid)
        sampler = PeakSampler(pid)
        sampler.start()
        try:
            r.send(b"b SEARCH ")
            for _ in range(self.SIZE // 65536):
                r.send(b"x" * 65536)
            r.send(b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        time.sleep(0.2)
        peak = sampler.stop()
        r.close()
        if not SANITIZED:
            self.assertLess(peak - before, 2 * 1024, f"peak {peak} KiB, before {before} KiB")

    def test_pop3(self):
        self.flood(self.server.base + 110, b"USER ")

    def test_smtp(self):
        self.flood(self.server.base + 25, b"EHLO ")


class LoginDeadlineTest(ServerTestCase):
    """One byte now and then restarted the read timeout: an unauthenticated
    connection stayed open for as long as the client liked. The login
    timeout now counts from connect, whatever arrives."""
    CONFIG = ("[auth]\nfail_delay = 0\n[imap]\nlogin_timeout = 2s\n[pop3]\nlogin_timeout = 2s\n"
              "[submission]\nlogin_timeout = 2s\n")

    def trickle(self, port, expect):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        start = time.monotonic()
        got = b""
        sock.settimeout(0.3)
        closed_at = None
        reset = False
        while time.monotonic() - start < 8:
            try:
                sock.send(b"N")  # never a whole line
            except OSError:
                closed_at = time.monotonic() - start
                break
            try:
                data = sock.recv(4096)
                if not data:
                    closed_at = time.monotonic() - start
                    break
                got += data
            except socket.timeout:
                pass
            except ConnectionResetError:
                # A byte sent after the server closed: the kernel resets the
                # connection and may drop the goodbye still unread.
                closed_at = time.monotonic() - start
                reset = True
                break
        sock.close()
        self.assertIsNotNone(closed_at, f"still open after 8 s; got {got!r}")
        self.assertLess(closed_at, 4.5)
        if not reset:
            self.assertIn(expect, got)

    def test_imap(self):
        self.trickle(self.server.imap_port, b"* BYE ")

    def test_pop3(self):
        self.trickle(self.server.base + 110, b"-ERR ")

    def test_submission(self):
        self.trickle(self.server.base + 587, b"421 ")

    def test_logged_in_session_outlives_the_deadline(self):
        r = Raw(self.server.imap_port)
        r.line()
        self.assertTrue(r.cmd("a", f"LOGIN {self.server.user} {self.server.password}")[-1]
                        .startswith("a OK"))
        time.sleep(3)
        self.assertTrue(r.cmd("b", "NOOP")[-1].startswith("b OK"))
        r.close()
        self.assertIn("event=login-deadline", self.server.read_log())


class DecoySaltTest(unittest.TestCase):
    """An unknown user's SCRAM salt changed at every restart while a real
    account's stayed: comparing s= across a restart told which exist."""

    def salt(self, server, user):
        r = Raw(server.imap_port)
        r.line()
        c = sc.Scram(user, "x", "sha256")
        r.send(f"a AUTHENTICATE SCRAM-SHA-256 {sc.b64(c.first())}\r\n")
        line = r.line()
        r.close()
        self.assertTrue(line.startswith("+ "), line)
        first = sc.unb64(line[2:]).decode()
        return dict(kv.split("=", 1) for kv in first.split(","))["s"]

    def test_unknown_users_salt_survives_a_restart(self):
        server = TernServer("[auth]\nfail_delay = 0\n")
        try:
            server.start()
            before = [self.salt(server, u) for u in ("ghost@localhost", server.user)]
            self.assertEqual(server.stop(), 0)
            key = os.path.join(server.dir, "decoy.key")
            self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
            server.start()
            after = [self.salt(server, u) for u in ("ghost@localhost", server.user)]
            self.assertEqual(before, after)
            self.assertNotEqual(after[0], after[1])
        finally:
            server.stop()
            server.cleanup()


class PlaintextReloadTest(unittest.TestCase):
    """A SIGHUP setting auth.plaintext = never used to reach only new
    connections: one opened before could still log in in cleartext."""

    def test_reload_applies_to_connections_not_logged_in(self):
        server = TernServer("[auth]\nfail_delay = 0\n")
        try:
            server.start()
            imap = Raw(server.imap_port)
            imap.line()
            pop = socket.create_connection(("127.0.0.1", server.base + 110), timeout=10)
            pop.recv(4096)
            smtp = socket.create_connection(("127.0.0.1", server.base + 587), timeout=10)
            smtp.recv(4096)
            server.add_config("[auth]\nplaintext = never\n")
            server.signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while "event=reloaded" not in server.read_log() and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertIn("event=reloaded", server.read_log())
            self.assertRegex(imap.cmd("a", f"LOGIN {server.user} {server.password}")[-1],
                             r"^a NO \[PRIVACYREQUIRED\]")
            self.assertNotIn("AUTH=", imap.cmd("b", "CAPABILITY")[0])
            imap.close()
            pop.sendall(f"USER {server.user}\r\n".encode())
            self.assertTrue(pop.recv(4096).startswith(b"-ERR"))
            pop.close()
            smtp.sendall(b"EHLO x\r\n")
            time.sleep(0.2)
            smtp.recv(4096)
            plain = base64.b64encode(f"\0{server.user}\0{server.password}".encode()).decode()
            smtp.sendall(f"AUTH PLAIN {plain}\r\n".encode())
            self.assertTrue(smtp.recv(4096).startswith(b"538 "))
            smtp.close()
        finally:
            server.stop()
            server.cleanup()


class OrphanCollectionTest(unittest.TestCase):
    """Orphan blobs a crash left were removed only by `check --repair`; the
    server now collects them itself at start, while it serves."""

    def test_server_collects_orphans_at_start(self):
        server = TernServer("[auth]\nfail_delay = 0\n[store]\ninline_max = 0\n")
        try:
            server.start()
            s = Session(server)
            s.append("INBOX")
            s.close()
            self.assertEqual(server.stop(), 0)
            blobs = [os.path.join(root, f) for root, _, files in
                     os.walk(os.path.join(server.dir, "accounts")) for f in files
                     if "/blobs/" in root]
            self.assertEqual(len(blobs), 1)
            kept = blobs[0]
            fan = os.path.dirname(kept)
            orphan = os.path.join(fan, os.path.basename(fan) + "0" * 62)
            old_tmp = os.path.join(fan, "tmp." + "1" * 64 + ".abcdef")
            new_tmp = os.path.join(fan, "tmp." + "2" * 64 + ".abcdef")
            for path in (orphan, old_tmp, new_tmp):
                with open(path, "wb") as f:
                    f.write(b"left by a crash")
            hour_ago = time.time() - 7200
            os.utime(old_tmp, (hour_ago, hour_ago))
            self.assertIn("orphan-blob", tern("check", data_dir=server.dir, check=False).stdout)
            server.start()
            deadline = time.monotonic() + 20
            # The log file is appended to: the first start's line is there.
            while (server.read_log().count("event=orphans-collected files") < 2 and
                   time.monotonic() < deadline):
                time.sleep(0.05)
            self.assertIn("event=orphans-collected files=2", server.read_log())
            self.assertFalse(os.path.exists(orphan))
            self.assertFalse(os.path.exists(old_tmp))
            self.assertTrue(os.path.exists(new_tmp))  # may be a writer's
            self.assertTrue(os.path.exists(kept))
            s = Session(server)
            s.ok("SELECT INBOX")
            self.assertIn("Subject: hello", "\n".join(s.ok("FETCH 1 BODY[]")))
            s.close()
        finally:
            server.stop()
            server.cleanup()


class WatchdogTest(ServerTestCase):
    """A callback that holds a worker's loop stalls every session on it:
    the watchdog logs each over server.slow_callback with sid and command."""
    CONFIG = "[auth]\nfail_delay = 0\n[server]\nslow_callback = 1ms\n"

    def test_slow_callback_is_logged_with_sid_and_command(self):
        s = Session(self.server)
        msgs = b"".join(b" {%d+}\r\n" % len(m) + m for m in
                        (b"Subject: m%d\r\nFrom: a@example.org\r\n\r\nbody\r\n" % i
                         for i in range(3000)))
        tag = s.tag()
        s.send(f"{tag} APPEND INBOX".encode() + msgs + b"\r\n")
        self.assertIn(" OK ", s.until_tagged(tag)[-1])
        s.ok("SELECT INBOX")
        s.ok("FETCH 1:* (ENVELOPE BODYSTRUCTURE BODY.PEEK[])")
        s.close()
        log = self.server.read_log()
        lines = [l for l in log.splitlines() if "event=slow-callback" in l]
        self.assertTrue(any("cmd=FETCH" in l for l in lines), lines[-5:])
        self.assertRegex(lines[0], r"sid=[0-9a-f]{8} event=slow-callback callback=[a-z-]+ ms=\d+ cmd=\w+")


if __name__ == "__main__":
    unittest.main()
