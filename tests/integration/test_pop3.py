"""test_pop3.py: the POP3 server (docs/POP3.md) with poplib, raw sockets,
fetchmail and curl, against the same INBOX IMAP sees."""
import imaplib
import os
import poplib
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from harness import ServerTestCase, client_ssl_context, tern

MSG = (b"From: a@example.org\r\nTo: b@example.org\r\nSubject: %d\r\n\r\n"
       b"first line\r\n.starts with a dot\r\n..two dots\r\n.\r\nlast line\r\n")


class RawPop:
    def __init__(self, port, tls=False):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        if tls:
            self.sock = client_ssl_context().wrap_socket(self.sock)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(repr(self.buf))
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def multi(self):
        """The lines of a multi-line response up to '.', raw (still stuffed)."""
        lines = []
        while True:
            line = self.line()
            if line == b".":
                return lines
            lines.append(line)

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.line().decode()

    def close(self):
        self.sock.close()


class Pop3Base(ServerTestCase):
    CONFIG = "[auth]\nfail_delay = 0\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pop3_port = cls.server.base + 110
        cls.pop3s_port = cls.server.base + 995

    def imap(self):
        c = imaplib.IMAP4("127.0.0.1", self.server.imap_port)
        c.login(self.server.user, self.server.password)
        return c

    def fill(self, n, first=0):
        c = self.imap()
        for i in range(first, first + n):
            c.append("INBOX", None, None, MSG % i)
        c.logout()

    def empty(self):
        c = self.imap()
        if c.select("INBOX")[1] != [b"0"]:
            c.store("1:*", "+FLAGS", "\\Deleted")
            c.expunge()
        c.logout()

    def login(self, tls=False):
        p = poplib.POP3_SSL("127.0.0.1", self.pop3s_port, context=client_ssl_context()) \
            if tls else poplib.POP3("127.0.0.1", self.pop3_port)
        p.user(self.server.user)
        p.pass_(self.server.password)
        return p

    def setUp(self):
        self.empty()


class Pop3CommandsTest(Pop3Base):
    def test_transaction_commands(self):
        self.fill(3)
        p = self.login()
        count, size = p.stat()
        self.assertEqual(count, 3)
        resp, lines, _ = p.list()
        sizes = [int(l.split()[1]) for l in lines]
        self.assertEqual(sum(sizes), size)
        self.assertEqual(sizes[0], len(MSG % 0))
        self.assertEqual(p.list(2), b"+OK 2 %d" % len(MSG % 1))
        resp, uidls, _ = p.uidl()
        ids = [l.split()[1] for l in uidls]
        self.assertEqual(len(set(ids)), 3)
        for i in ids:
            self.assertRegex(i.decode(), r"^[0-9A-F]{8}u[0-9A-F]{8}v$")
        # RETR: poplib unstuffs; the content is the message, byte for byte.
        resp, lines, octets = p.retr(1)
        self.assertEqual(b"\r\n".join(lines) + b"\r\n", MSG % 0)
        resp, lines, _ = p.top(2, 1)
        self.assertEqual(lines, [b"From: a@example.org", b"To: b@example.org", b"Subject: 1",
                                 b"", b"first line"])
        resp, lines, _ = p.top(2, 0)
        self.assertEqual(lines[-1], b"")
        self.assertEqual(len(lines), 4)
        self.assertTrue(p.dele(2).startswith(b"+OK"))
        with self.assertRaises(poplib.error_proto):
            p.retr(2)  # marked deleted
        with self.assertRaises(poplib.error_proto):
            p.dele(2)
        self.assertEqual(p.stat()[0], 2)
        self.assertTrue(p.rset().startswith(b"+OK"))
        self.assertEqual(p.stat()[0], 3)
        self.assertTrue(p.noop().startswith(b"+OK"))
        with self.assertRaises(poplib.error_proto):
            p.retr(4)
        p.dele(1)
        p.quit()
        p = self.login()
        self.assertEqual(p.stat()[0], 2)
        # UIDLs stay across sessions.
        self.assertEqual([l.split()[1] for l in p.uidl()[1]], ids[1:])
        p.quit()

    def test_dropped_connection_deletes_nothing(self):
        self.fill(2)
        p = self.login()
        p.dele(1)
        p.dele(2)
        p.sock.shutdown(socket.SHUT_RDWR)  # no QUIT: no UPDATE state
        p.sock.close()
        time.sleep(0.3)
        p = self.login()
        self.assertEqual(p.stat()[0], 2)
        p.quit()

    def test_deletions_are_seen_by_imap(self):
        self.fill(3)
        p = self.login()
        p.dele(1)
        p.dele(3)
        p.quit()
        c = self.imap()
        c.select("INBOX")
        typ, data = c.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        subjects = [d[1].strip() for d in data if isinstance(d, tuple)]
        self.assertEqual(subjects, [b"Subject: 1"])
        c.logout()

    def test_maildrop_is_inbox_at_login(self):
        self.fill(2)
        p = self.login()
        self.fill(1, first=10)  # arrives during the session
        self.assertEqual(p.stat()[0], 2)
        p.quit()
        p = self.login()
        self.assertEqual(p.stat()[0], 3)
        p.quit()

    def test_imap_expunge_during_session(self):
        self.fill(3)
        p = self.login()
        c = self.imap()
        c.select("INBOX")
        c.store("2", "+FLAGS", "\\Deleted")
        c.expunge()
        c.logout()
        with self.assertRaisesRegex(poplib.error_proto, "deleted by another session"):
            p.retr(2)
        p.dele(2)
        p.dele(3)
        self.assertTrue(p.quit().startswith(b"+OK"))
        c = self.imap()
        self.assertEqual(c.select("INBOX")[1], [b"1"])
        c.logout()

    def test_second_session_is_in_use(self):
        p = self.login()
        with self.assertRaisesRegex(poplib.error_proto, r"\[IN-USE\]"):
            self.login()
        p.quit()
        self.login().quit()  # free again

    def test_quit_frees_the_maildrop_before_its_reply(self):
        # A client that logs in again as soon as it has read QUIT's +OK,
        # its first connection not yet closed (fetchmail's keep-then-check
        # raced this), gets the maildrop: RFC 1939 section 6 releases the
        # lock in the UPDATE state, before the connection goes.
        self.fill(1)
        for i in range(60):
            r = RawPop(self.pop3s_port, tls=True) if i % 2 else RawPop(self.pop3_port)
            r.line()
            r.send(f"USER {self.server.user}\r\n")
            r.line()
            r.send(f"PASS {self.server.password}\r\n")
            self.assertTrue(r.line().startswith(b"+OK"))
            r.send("RETR 1\r\n")  # read: QUIT marks it \Seen, a longer UPDATE
            self.assertTrue(r.line().startswith(b"+OK"))
            r.multi()
            r.send("QUIT\r\n")
            self.assertTrue(r.line().startswith(b"+OK"))
            self.login().quit()
            r.sock.close()

    def test_apop_is_not_offered_by_default(self):
        r = RawPop(self.pop3_port)
        self.assertEqual(r.line(), b"+OK tern POP3 ready")
        self.assertTrue(r.cmd("APOP a 0123456789abcdef0123456789abcdef").startswith(
            "-ERR [AUTH] APOP is not offered"))
        r.close()

    def test_wrong_password_and_states(self):
        r = RawPop(self.pop3_port)
        self.assertTrue(r.line().startswith(b"+OK"))
        self.assertTrue(r.cmd("STAT").startswith("-ERR"))  # not logged in
        self.assertTrue(r.cmd("PASS x").startswith("-ERR"))  # USER first
        self.assertEqual(r.cmd(f"USER {self.server.user}"), "+OK Send your password")
        self.assertEqual(r.cmd("PASS wrong"), "-ERR [AUTH] Authentication failed")
        self.assertTrue(r.cmd("BOGUS").startswith("-ERR Unknown command"))
        r.cmd(f"USER {self.server.user}")
        self.assertTrue(r.cmd(f"PASS {self.server.password}").startswith("+OK Logged in"))
        self.assertTrue(r.cmd("USER x").startswith("-ERR"))  # already logged in
        self.assertTrue(r.cmd("QUIT").startswith("+OK"))
        r.close()

    def test_raw_dot_stuffing_and_sizes(self):
        self.fill(1)
        r = RawPop(self.pop3_port)
        r.line()
        r.cmd(f"USER {self.server.user}")
        r.cmd(f"PASS {self.server.password}")
        size = int(r.cmd("LIST 1").split()[2])
        self.assertEqual(r.cmd("RETR 1"), f"+OK {size} octets")
        lines = r.multi()
        self.assertIn(b"..starts with a dot", lines)
        self.assertIn(b"...two dots", lines)
        self.assertIn(b"..", lines)
        # The size counts CRLFs, not the stuffing (RFC 1939 section 11).
        unstuffed = b"".join((l[1:] if l.startswith(b".") else l) + b"\r\n" for l in lines)
        self.assertEqual(len(unstuffed), size)
        r.cmd("QUIT")
        r.close()

    def test_pipelining(self):
        self.fill(2)
        r = RawPop(self.pop3_port)
        r.line()
        r.send(f"USER {self.server.user}\r\nPASS {self.server.password}\r\nSTAT\r\n"
               "LIST\r\nUIDL 1\r\nNOOP\r\nQUIT\r\n")
        self.assertTrue(r.line().startswith(b"+OK"))
        self.assertTrue(r.line().startswith(b"+OK Logged in"))
        self.assertRegex(r.line(), rb"^\+OK 2 \d+$")
        self.assertTrue(r.line().startswith(b"+OK 2 messages"))
        self.assertEqual(len(r.multi()), 2)
        self.assertRegex(r.line(), rb"^\+OK 1 [0-9A-F]{8}u[0-9A-F]{8}v$")
        self.assertTrue(r.line().startswith(b"+OK"))
        self.assertTrue(r.line().startswith(b"+OK Logging out"))
        r.close()

    def test_capa_and_lang_and_utf8(self):
        r = RawPop(self.pop3_port)
        r.line()
        self.assertEqual(r.cmd("CAPA"), "+OK Capability list follows")
        caps = [l.decode() for l in r.multi()]
        for c in ("TOP", "UIDL", "USER", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING",
                  "EXPIRE NEVER", "IMPLEMENTATION tern", "STLS", "UTF8 USER", "LANG"):
            self.assertIn(c, caps)
        self.assertTrue(any(c.startswith("SASL ") and "PLAIN" in c for c in caps))
        self.assertEqual(r.cmd("LANG"), "+OK Language listing follows")
        self.assertEqual(r.multi(), [b"en English"])
        self.assertTrue(r.cmd("LANG en").startswith("+OK en"))
        self.assertTrue(r.cmd("LANG xx").startswith("-ERR"))
        self.assertTrue(r.cmd("UTF8").startswith("+OK"))
        self.assertEqual(r.cmd("AUTH"), "+OK Mechanisms follow")
        self.assertIn(b"PLAIN", r.multi())
        r.close()

    def test_stls_then_login(self):
        r = RawPop(self.pop3_port)
        r.line()
        self.assertEqual(r.cmd("STLS"), "+OK Begin TLS negotiation")
        r.sock = client_ssl_context().wrap_socket(r.sock)
        r.send("CAPA\r\n")
        r.line()
        self.assertNotIn(b"STLS", r.multi())
        r.cmd(f"USER {self.server.user}")
        self.assertTrue(r.cmd(f"PASS {self.server.password}").startswith("+OK"))
        self.assertTrue(r.cmd("STLS").startswith("-ERR"))
        r.cmd("QUIT")
        r.close()

    def test_sasl_plain_with_initial_response_and_abort(self):
        import base64
        token = base64.b64encode(f"\0{self.server.user}\0{self.server.password}".encode())
        r = RawPop(self.pop3s_port, tls=True)
        r.line()
        self.assertEqual(r.cmd("AUTH PLAIN"), "+ ")
        self.assertEqual(r.cmd("*"), "-ERR Authentication cancelled")
        self.assertTrue(r.cmd("AUTH PLAIN " + token.decode()).startswith("+OK Logged in"))
        r.cmd("QUIT")
        r.close()
        p = poplib.POP3_SSL("127.0.0.1", self.pop3s_port, context=client_ssl_context())
        self.assertEqual(p.capa()["EXPIRE"], ["NEVER"])
        p.user(self.server.user)
        p.pass_(self.server.password)
        p.quit()

    def test_long_line_and_bad_input(self):
        r = RawPop(self.pop3_port)
        r.line()
        self.assertEqual(r.cmd("NOOP " + "x" * 2000), "-ERR Line too long")
        self.assertTrue(r.cmd("LIST  1").startswith("-ERR "))
        self.assertTrue(r.cmd("").startswith("-ERR"))
        self.assertTrue(r.cmd("CAPA").startswith("+OK"))
        r.multi()
        r.close()

    def test_large_maildrop_and_message_stream(self):
        big = b"Subject: big\r\n\r\n" + (b"." + b"y" * 98 + b"\r\n") * 60000  # 6 MB
        c = self.imap()
        c.append("INBOX", None, None, big)
        c.logout()
        p = self.login()
        resp, lines, octets = p.retr(1)
        self.assertEqual(b"\r\n".join(lines) + b"\r\n", big)
        p.quit()


class Pop3LoginDelayTest(Pop3Base):
    CONFIG = "[auth]\nfail_delay = 0\n[pop3]\nlogin_delay = 2s\nexpire = 0\n"

    def test_login_delay_and_expire_zero(self):
        self.fill(2)
        p = self.login()
        self.assertEqual(p.capa()["LOGIN-DELAY"], ["2"])
        self.assertEqual(p.capa()["EXPIRE"], ["0"])
        p.retr(1)
        p.quit()
        with self.assertRaisesRegex(poplib.error_proto, r"\[LOGIN-DELAY\]"):
            self.login()
        time.sleep(2.1)
        p = self.login()
        self.assertEqual(p.stat()[0], 1)  # RETR'd message removed at QUIT (EXPIRE 0)
        p.quit()


class Pop3ApopTest(Pop3Base):
    CONFIG = "[auth]\nfail_delay = 0\napop = yes\n"

    def test_apop_after_a_password_login_and_for_new_accounts(self):
        p = poplib.POP3("127.0.0.1", self.pop3_port)
        self.assertRegex(p.getwelcome(), rb"^\+OK tern POP3 ready <[0-9a-f]{8}\.\d+\.\d+@tern>$")
        p.close()
        # The account was made before auth.apop; setUp's IMAP password login
        # kept its secret (any password login does, from then on).
        shown = tern("user", "show", self.server.user, data_dir=self.server.dir).stdout
        self.assertIn(" apop", shown)
        p = poplib.POP3("127.0.0.1", self.pop3_port)
        self.assertTrue(p.apop(self.server.user, self.server.password).startswith(b"+OK"))
        p.quit()
        p = poplib.POP3("127.0.0.1", self.pop3_port)
        with self.assertRaisesRegex(poplib.error_proto, r"\[AUTH\]"):
            p.apop(self.server.user, "wrong")
        p.close()
        # A new account gets its secret at once.
        tern("user", "add", "new@localhost", "--password-stdin", input="newpw\n",
             data_dir=self.server.dir)
        p = poplib.POP3("127.0.0.1", self.pop3_port)
        self.assertTrue(p.apop("new@localhost", "newpw").startswith(b"+OK"))
        p.quit()



class Pop3AccessTest(Pop3Base):
    def test_disabled_account_and_revoked_session(self):
        tern("user", "set", self.server.user, "pop3=off", data_dir=self.server.dir)
        with self.assertRaisesRegex(poplib.error_proto, r"\[AUTH\] POP3 access is disabled"):
            self.login()
        tern("user", "set", self.server.user, "pop3=on", data_dir=self.server.dir)
        p = self.login()
        tern("user", "set", self.server.user, "pop3=off", data_dir=self.server.dir)
        time.sleep(1.5)  # the server polls access changes every second
        r = p.file.readline()
        self.assertEqual(r, b"-ERR [AUTH] POP3 access has been disabled for this account\r\n")
        self.assertEqual(p.file.readline(), b"")  # closed
        tern("user", "set", self.server.user, "pop3=on", data_dir=self.server.dir)

    def test_admin_cannot_use_pop3(self):
        tern("user", "add", "boss@localhost", "--password-stdin", input="bosspw\n",
             data_dir=self.server.dir)
        tern("user", "set", "boss@localhost", "role=admin", data_dir=self.server.dir)
        p = poplib.POP3("127.0.0.1", self.pop3_port)
        p.user("boss@localhost")
        with self.assertRaisesRegex(poplib.error_proto, r"\[AUTH\] Administrator"):
            p.pass_("bosspw")


class Pop3ClientsTest(Pop3Base):
    def fetchmail(self, port, ssl_mode, keep):
        home = tempfile.mkdtemp()
        try:
            rc = os.path.join(home, "fetchmailrc")
            mbox = os.path.join(home, "mbox")
            with open(rc, "w") as f:
                f.write(f'poll 127.0.0.1 service {port} protocol pop3 uidl\n'
                        f'  user "{self.server.user}" password "{self.server.password}"\n'
                        f'  {ssl_mode} sslcertck sslcommonname localhost\n'
                        f'  sslcertfile {os.path.join(self.server.dir, "tls", "cert.pem")}\n'
                        f'  {"keep" if keep else "nokeep"}\n'
                        f'  mda "cat >> {mbox}"\n')
            os.chmod(rc, 0o600)
            env = dict(os.environ, HOME=home, FETCHMAILHOME=home)
            proc = subprocess.run(["fetchmail", "-f", rc, "--nodetach", "--nosyslog"],
                                  capture_output=True, text=True, env=env, timeout=60)
            if not os.path.exists(mbox):
                return proc, b""
            with open(mbox, "rb") as f:
                return proc, f.read()
        finally:
            shutil.rmtree(home, ignore_errors=True)

    def test_fetchmail_keep_over_stls_then_delete_over_995(self):
        if shutil.which("fetchmail") is None:
            self.skipTest("fetchmail not installed")
        self.fill(3)
        proc, got = self.fetchmail(self.pop3_port, "sslproto tls1.2+", True)
        self.assertIn(proc.returncode, (0,), proc.stderr + proc.stdout)
        self.assertEqual(got.count(b"Subject: "), 3)
        self.assertIn(b"\r\n.starts with a dot", got.replace(b"\n", b"\r\n").replace(b"\r\r", b"\r"))
        p = self.login()
        self.assertEqual(p.stat()[0], 3)  # kept
        p.quit()
        proc, got = self.fetchmail(self.pop3s_port, "ssl sslproto tls1.2+", False)
        self.assertEqual(proc.returncode, 0, proc.stderr + proc.stdout)
        self.assertEqual(got.count(b"Subject: "), 3)
        p = self.login()
        self.assertEqual(p.stat()[0], 0)  # deleted
        p.quit()

    def test_curl_pop3s(self):
        self.fill(2)
        base = ["curl", "-s", "-k", "--user", f"{self.server.user}:{self.server.password}"]
        listing = subprocess.run(base + [f"pop3s://127.0.0.1:{self.pop3s_port}/"],
                                 capture_output=True, timeout=30)
        self.assertEqual(listing.returncode, 0, listing.stderr)
        self.assertEqual(len(listing.stdout.strip().splitlines()), 2)
        msg = subprocess.run(base + [f"pop3s://127.0.0.1:{self.pop3s_port}/1"],
                             capture_output=True, timeout=30)
        self.assertEqual(msg.returncode, 0, msg.stderr)
        self.assertEqual(msg.stdout, MSG % 0)


if __name__ == "__main__":
    unittest.main()
