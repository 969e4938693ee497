"""test_imap_unauthenticate.py: UNAUTHENTICATE (RFC 8437).

After it the connection is as new (but for TLS): not authenticated, no
mailbox, no NOTIFY, no ENABLEd extension, no SEARCHRES result, and none of
the first account's changes reach it any more, while another user logs in
on the same connection and sees only their own mail. With COMPRESS active,
compression ends after the OK (section 4.1).
"""
import time

from harness import Raw, ServerTestCase, tern
from test_imap_compress import start_compress

OTHER, OTHER_PW = "bob@localhost", "bob-password-1"


class UnauthenticateTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tern("user", "add", OTHER, "--password-stdin", data_dir=cls.server.dir,
             input=OTHER_PW + "\n")

    def append(self, user, password, subject, mailbox="INBOX"):
        r = Raw(self.server.imap_port)
        r.line()
        r.cmd("a", f"LOGIN {user} {password}")
        msg = f"Subject: {subject}\r\n\r\nbody\r\n".encode()
        r.send(f"b APPEND {mailbox} {{{len(msg)}+}}\r\n".encode() + msg + b"\r\n")
        self.assertTrue(r.until_tagged("b")[-1].startswith("b OK"))
        r.cmd("c", "LOGOUT")

    def test_state_is_reset_and_another_user_logs_in(self):
        me, pw = self.server.user, self.server.password
        self.append(me, pw, "for alice")
        r = Raw(self.server.imap_port)
        self.assertNotIn("UNAUTHENTICATE", r.line())
        lines = r.cmd("a", f"LOGIN {me} {pw}")
        self.assertIn(" UNAUTHENTICATE", lines[-1])
        self.assertTrue(r.cmd("e", "ENABLE QRESYNC UTF8=ACCEPT")[-1].startswith("e OK"))
        self.assertTrue(r.cmd("s", "SELECT INBOX")[-1].startswith("s OK"))
        self.assertTrue(r.cmd("r", "SEARCH RETURN (SAVE) ALL")[-1].startswith("r OK"))
        self.assertTrue(r.cmd("n", "NOTIFY SET (selected (MessageNew MessageExpunge)) "
                                   "(personal (MessageNew))")[-1].startswith("n OK"))
        lines = r.cmd("u", "UNAUTHENTICATE")
        self.assertEqual(lines, ["u OK UNAUTHENTICATE completed, now not authenticated"])
        # Not authenticated: what needs a login is refused, LOGIN is offered.
        caps = r.cmd("c", "CAPABILITY")[0]
        self.assertIn("AUTH=PLAIN", caps)
        self.assertNotIn("UNAUTHENTICATE", caps)
        self.assertTrue(r.cmd("x", "SELECT INBOX")[-1].startswith("x BAD"))
        self.assertTrue(r.cmd("y", "UNAUTHENTICATE")[-1].startswith("y BAD"))
        # The first account's news no longer reaches this connection.
        self.append(me, pw, "after unauthenticate")
        lines = r.cmd("z", "NOOP")
        self.assertEqual(lines, ["z OK NOOP completed"])

        # Another user on the same connection sees their own mailbox.
        self.assertTrue(r.cmd("b", f"LOGIN {OTHER} {OTHER_PW}")[-1].startswith("b OK"))
        lines = r.cmd("s2", "SELECT INBOX")
        self.assertIn("* 0 EXISTS", lines)
        # No ENABLE survived: without UTF8=ACCEPT names travel as modified
        # UTF-7, and $ is empty again.
        self.assertTrue(r.cmd("f", "CREATE &ANw-ber")[-1].startswith("f OK"))
        lines = r.cmd("f2", 'LIST "" "*ber"')
        self.assertIn('* LIST (\\HasNoChildren) "/" "&ANw-ber"', lines)
        lines = r.cmd("g", "SEARCH $")
        self.assertTrue(lines[-1].startswith("g OK"), lines)
        self.assertEqual([l for l in lines if l.startswith("* ")], ["* SEARCH"])
        # Alice's mail goes on arriving; Bob's session hears nothing of it.
        r.send("i IDLE\r\n")
        self.assertTrue(r.line().startswith("+"))
        self.append(me, pw, "idle check")
        r.sock.settimeout(1.5)
        try:
            data = r.sock.recv(4096)
        except OSError:
            data = b""
        self.assertEqual(data, b"")
        r.sock.settimeout(10)
        r.send("DONE\r\n")
        self.assertTrue(r.until_tagged("i")[-1].startswith("i OK"))
        # And Bob's own appends do reach it.
        self.append(OTHER, OTHER_PW, "for bob")
        lines = r.cmd("n2", "NOOP")
        self.assertIn("* 1 EXISTS", lines)
        log = self.server.read_log()
        self.assertIn("event=unauthenticate", log)
        r.cmd("l", "LOGOUT")

    def test_arguments_and_pipelined_login(self):
        r = Raw(self.server.imap_port)
        r.line()
        r.cmd("a", f"LOGIN {self.server.user} {self.server.password}")
        self.assertTrue(r.cmd("b", "UNAUTHENTICATE now")[-1].startswith("b BAD"))
        # Section 3: without a security layer, a LOGIN may be pipelined.
        r.send(f"u UNAUTHENTICATE\r\nl LOGIN {OTHER} {OTHER_PW}\r\n")
        self.assertTrue(r.until_tagged("u")[-1].startswith("u OK"))
        self.assertTrue(r.until_tagged("l")[-1].startswith("l OK"))
        lines = r.cmd("s", "STATUS INBOX (MESSAGES)")
        self.assertTrue(lines[-1].startswith("s OK"), lines)

    def test_compression_ends(self):
        r = Raw(self.server.imap_port)
        r.line()
        r.cmd("a", f"LOGIN {self.server.user} {self.server.password}")
        z = start_compress(r)
        z.send("u UNAUTHENTICATE\r\n")
        self.assertTrue(z.until_tagged("u")[-1].startswith("u OK"))
        # From here on plain text, both ways.
        time.sleep(0.2)
        r.buf = z.buf
        self.assertTrue(r.cmd("b", f"LOGIN {OTHER} {OTHER_PW}")[-1].startswith("b OK"))
        self.assertTrue(r.cmd("n", "NOOP")[-1].startswith("n OK"))
        # And may compress again.
        z2 = start_compress(r, "z2")
        self.assertTrue(z2.cmd("n2", "NOOP")[-1].startswith("n2 OK"))
