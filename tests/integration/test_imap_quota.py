"""QUOTA (RFC 9208): the capabilities, GETQUOTA, GETQUOTAROOT, SETQUOTA (an
administrator through a master login; users only where imap.user_setquota
allows), STATUS DELETED and DELETED-STORAGE, [OVERQUOTA] on APPEND, COPY,
MOVE, CREATE and LMTP delivery, and `tern user set --quota-*` for one
account, a file of addresses, a domain and all."""
import os
import re
import socket

from harness import ServerTestCase, TernServer, tern
from test_imap_mailbox import MSG, Session, new_account

CAPS = ("QUOTA", "QUOTA=RES-STORAGE", "QUOTA=RES-MESSAGE", "QUOTA=RES-MAILBOX")


def quota_line(lines):
    return [l for l in lines if l.startswith("* QUOTA ")]


class QuotaTest(ServerTestCase):
    CONFIG = "[auth]\nfail_delay = 100ms\nmaster_users = boss@localhost, helper@localhost\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        new_account(cls.server, "boss@localhost")
        tern("user", "set", "boss@localhost", "role=admin", data_dir=cls.server.dir)
        new_account(cls.server, "helper@localhost")  # a master user, but no admin

    def setUp(self):
        self.addr, self.pw = new_account(self.server, f"{self._testMethodName[:40]}@localhost")
        self.s = Session(self.server, self.addr, self.pw)

    def tearDown(self):
        self.s.close()

    def set_quota(self, *args):
        return tern("user", "set", self.addr, *args, data_dir=self.server.dir).stdout

    def admin(self):
        return Session(self.server, f"{self.addr}*boss@localhost", "pw-boss@localhost")

    def test_capabilities_and_quotaset_only_for_admins(self):
        caps = self.s.ok("CAPABILITY")[0].split()
        for c in CAPS:
            self.assertIn(c, caps)
        self.assertNotIn("QUOTASET", caps)
        a = self.admin()
        self.assertIn("QUOTASET", a.ok("CAPABILITY")[0].split())
        a.close()
        helper = Session(self.server, f"{self.addr}*helper@localhost", "pw-helper@localhost")
        self.assertNotIn("QUOTASET", helper.ok("CAPABILITY")[0].split())
        self.assertIn("NO [NOPERM]", helper.do('SETQUOTA "" (STORAGE 100)')[-1])
        helper.close()
        # Not advertised before login either.
        self.assertNotIn("QUOTA", self.s.ok("NOOP")[-1])

    def test_getquotaroot_and_getquota_without_limits(self):
        lines = self.s.ok("GETQUOTAROOT INBOX")
        self.assertEqual(lines[:-1], ['* QUOTAROOT "INBOX" ""', '* QUOTA "" ()'])
        # A mailbox that does not exist yet has the same root (4.1.2).
        lines = self.s.ok("GETQUOTAROOT Later/Maybe")
        self.assertEqual(lines[0], '* QUOTAROOT "Later/Maybe" ""')
        self.assertEqual(self.s.ok('GETQUOTA ""')[:-1], ['* QUOTA "" ()'])
        self.assertIn("NO [NONEXISTENT]", self.s.do('GETQUOTA "#user/other"')[-1])
        self.assertIn("BAD", self.s.do("GETQUOTA")[-1])
        self.assertIn("BAD", self.s.do("GETQUOTAROOT")[-1])

    def test_usage_and_limits_from_the_cli(self):
        self.s.append("INBOX", MSG)
        self.s.append("INBOX", b"x" * 3000 + b"\r\n")
        out = self.set_quota("--quota-storage", "2m", "--quota-messages", "10",
                             "--quota-mailboxes", "8")
        self.assertEqual(out, f"Updated {self.addr}: quota-storage=2097152 quota-messages=10"
                              " quota-mailboxes=8\n")
        lines = self.s.ok("GETQUOTAROOT INBOX")
        size = len(MSG) + 3002
        self.assertEqual(lines[1], '* QUOTA "" (STORAGE %d 2048 MESSAGE 2 10 MAILBOX 6 8)'
                         % ((size + 1023) // 1024))
        show = tern("user", "show", self.addr, data_dir=self.server.dir).stdout
        self.assertIn("storage: 3.0 KiB of 2.0 MiB\nmessages: 2 of 10\nmailboxes: 6 of 8\n",
                      show)
        self.set_quota("--quota-mailboxes", "none")
        self.assertEqual(quota_line(self.s.ok('GETQUOTA ""')),
                         ['* QUOTA "" (STORAGE %d 2048 MESSAGE 2 10)' % ((size + 1023) // 1024)])
        self.assertIn("mailboxes: 6 of no limit",
                      tern("user", "show", self.addr, data_dir=self.server.dir).stdout)
        proc = tern("user", "set", self.addr, "--quota-messages", "many",
                    data_dir=self.server.dir, check=False)
        self.assertEqual((proc.returncode, proc.stderr.strip()),
                         (1, "tern: --quota-messages: expected a number or none"))

    def test_setquota_by_an_administrator(self):
        a = self.admin()
        lines = a.ok('SETQUOTA "" (STORAGE 512 MESSAGE 3)')
        self.assertEqual(lines[0], '* QUOTA "" (STORAGE 0 512 MESSAGE 0 3)')
        self.assertEqual(quota_line(self.s.ok("GETQUOTAROOT INBOX")),
                         ['* QUOTA "" (STORAGE 0 512 MESSAGE 0 3)'])
        # Every limit not named is removed (4.1.3).
        self.assertEqual(a.ok('SETQUOTA "" (mailbox 20)')[0], '* QUOTA "" (MAILBOX 6 20)')
        # 0 means "nothing may be used": kept as 1, and said so.
        lines = a.ok('SETQUOTA "" (MESSAGE 0)')
        self.assertEqual(lines[0], '* QUOTA "" (MESSAGE 0 1)')
        self.assertIn("rounded", lines[-1])
        self.assertEqual(a.ok('SETQUOTA "" ()')[0], '* QUOTA "" ()')
        # Errors: unknown root, unknown resource, syntax.
        self.assertIn("NO [NONEXISTENT]", a.do('SETQUOTA "#user/x" (STORAGE 1)')[-1])
        self.assertIn("NO [CANNOT]", a.do('SETQUOTA "" (ANNOTATION-STORAGE 10)')[-1])
        for bad in ('SETQUOTA "" STORAGE 1', 'SETQUOTA "" (STORAGE)',
                    'SETQUOTA "" (STORAGE -1)', 'SETQUOTA "" (STORAGE 1 STORAGE 2)',
                    'SETQUOTA "" (STORAGE 99999999999999999999)', 'SETQUOTA ""'):
            self.assertIn(" BAD ", a.do(bad)[-1], bad)
        a.close()
        self.assertIn("NO [NOPERM]", self.s.do('SETQUOTA "" (STORAGE 100)')[-1])
        self.assertIn("event=setquota", self.server.read_log())

    def test_status_deleted_and_deleted_storage(self):
        self.s.append("INBOX", MSG)
        self.s.append("INBOX", MSG + b"more\r\n")
        self.s.append("INBOX", MSG)
        self.s.ok("SELECT INBOX")
        self.s.ok("STORE 1:2 +FLAGS.SILENT (\\Deleted)")
        lines = self.s.ok("STATUS INBOX (MESSAGES DELETED DELETED-STORAGE)")
        self.assertEqual(lines[0], '* STATUS "INBOX" (MESSAGES 3 DELETED 2 DELETED-STORAGE %d)'
                         % (2 * len(MSG) + 6))
        self.s.ok("STORE 1 -FLAGS.SILENT (\\Deleted)")
        self.assertIn("DELETED-STORAGE %d)" % (len(MSG) + 6),
                      self.s.ok("STATUS INBOX (DELETED-STORAGE)")[0])
        self.s.ok("EXPUNGE")
        self.assertIn("(DELETED 0 DELETED-STORAGE 0)",
                      self.s.ok("STATUS INBOX (DELETED DELETED-STORAGE)")[0])
        self.assertIn("DELETED-STORAGE 0",
                      self.s.ok('LIST "" "INBOX" RETURN (STATUS (DELETED-STORAGE))')[1])

    def test_overquota_on_append_copy_move_and_create(self):
        self.s.append("INBOX", MSG)
        self.s.append("INBOX", MSG)
        self.set_quota("--quota-messages", "3", "--quota-mailboxes", "7")
        self.assertIn(" OK ", self.s.append("Drafts", MSG)[-1])
        lines = self.s.append("INBOX", MSG)
        self.assertRegex(lines[-1], r"^t\d+ NO \[OVERQUOTA\]")
        # MULTIAPPEND is all or nothing.
        self.s.ok("SELECT INBOX")
        self.assertIn("NO [OVERQUOTA]", self.s.do("COPY 1 Archive")[-1])
        # MOVE within the root adds nothing: allowed.
        self.s.ok("MOVE 2 Archive")
        self.assertIn("MESSAGE 3 3", self.s.ok("GETQUOTAROOT INBOX")[1])
        # MAILBOX: 6 + 1 fits, the next does not; parents count too.
        self.s.ok("CREATE Projects")
        self.assertIn("NO [OVERQUOTA]", self.s.do("CREATE More")[-1])
        self.set_quota("--quota-mailboxes", "9")
        self.assertIn("NO [OVERQUOTA]", self.s.do("CREATE a/b/c")[-1])
        self.assertNotIn('"a"', "".join(self.s.ok('LIST "" "*"')))
        self.s.ok("CREATE a/b")
        self.assertIn("NO [OVERQUOTA]", self.s.do("RENAME Projects x/y/z")[-1])
        self.s.ok("RENAME Projects Plans")
        # Lowering a limit below usage refuses growth only.
        self.set_quota("--quota-messages", "1")
        self.s.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.s.ok("EXPUNGE")
        self.s.ok("DELETE a/b")

    def test_lmtp_delivery_over_quota(self):
        self.set_quota("--quota-messages", "1")
        port = self.server.base + 24
        with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
            f = c.makefile("rwb")
            def ask(line):
                f.write(line + b"\r\n")
                f.flush()
                reply = []
                while True:
                    l = f.readline()
                    reply.append(l)
                    if l[3:4] == b" ":
                        return b"".join(reply)
            f.readline()
            ask(b"LHLO test")
            for n in range(2):
                ask(b"MAIL FROM:<a@example.org>")
                r = ask(b"RCPT TO:<%s>" % self.addr.encode())
                if n == 1:
                    # RFC 9208 leaves the SMTP side to the MTA: 452 4.2.2
                    # (smtp.quota_temporary = yes, the default).
                    self.assertTrue(r.startswith(b"452 4.2.2"), r)
                    ask(b"RSET")
                    break
                ask(b"DATA")
                self.assertTrue(ask(MSG + b".").startswith(b"250"))
        self.assertIn("MESSAGE 1 1", self.s.ok("GETQUOTAROOT INBOX")[1])


class QuotaBulkTest(ServerTestCase):
    CONFIG = "[imap]\nuser_setquota = yes\n[store]\nquota_mailboxes = 10\n"

    def test_bulk_targets(self):
        d = self.server.dir
        for a in ("a1@one.example", "a2@one.example", "b1@two.example"):
            new_account(self.server, a)
        out = tern("user", "set", "--domain", "one.example", "--quota-storage", "1g",
                   data_dir=d).stdout
        self.assertEqual(out, "2 accounts updated\n")
        self.assertIn("storage: 0 bytes of 1.00 GiB",
                      tern("user", "show", "a2@one.example", data_dir=d).stdout)
        self.assertIn("storage: 0 bytes of no limit",
                      tern("user", "show", "b1@two.example", data_dir=d).stdout)
        path = os.path.join(self.server.tmp, "addresses")
        with open(path, "w") as f:
            f.write("# a comment\nb1@two.example\nnobody@two.example\n")
        proc = tern("user", "set", "--from-file", path, "--quota-messages", "5", data_dir=d,
                    check=False)
        self.assertEqual((proc.returncode, proc.stdout), (1, "1 account updated, 1 not found\n"))
        self.assertIn("messages: 0 of 5", tern("user", "show", "b1@two.example", data_dir=d).stdout)
        out = tern("user", "set", "--all", "--quota-messages", "none", "pop3=off",
                   data_dir=d).stdout
        self.assertRegex(out, r"^\d+ accounts updated\n$")
        show = tern("user", "show", "b1@two.example", data_dir=d).stdout
        self.assertIn("messages: 0 of no limit", show)
        self.assertIn("pop3     off", show)
        # store.quota_mailboxes applies to new accounts.
        self.assertIn("mailboxes: 6 of 10", show)
        # imap.user_setquota: users set their own limits.
        s = Session(self.server, "a1@one.example", "pw-a1@one.example")
        self.assertIn("QUOTASET", s.ok("CAPABILITY")[0])
        self.assertEqual(s.ok('SETQUOTA "" (MESSAGE 50)')[0], '* QUOTA "" (MESSAGE 0 50)')
        s.close()
        proc = tern("user", "set", "nobody@x.example", "--quota-messages", "5", data_dir=d,
                    check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("no such account", proc.stderr)
