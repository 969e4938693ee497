"""IMAP ACL (RFC 4314), namespaces (RFC 2342), LIST-MYRIGHTS (RFC 8440) and
the shared-mailbox login: the RFC's examples and errors, a rights matrix
that walks every command as a user holding each single right (and none)
on another account's mailbox and asserts what is allowed and refused,
groups, negative rights, public "Shared/" mailboxes, IDLE across accounts
and quota charged to the owner."""
import imaplib
import re
import time

from harness import TERN, Raw, ServerTestCase, tern
from test_imap_mailbox import Session, new_account

AT_ONCE = 2.0 if "asan" in TERN or "tsan" in TERN else 0.5
MSG = b"From: a@example.org\r\nSubject: shared\r\n\r\nbody\r\n"


def status(lines):
    """OK, NO or BAD of a command's tagged reply."""
    return lines[-1].split(" ", 2)[1]


class AclBase(ServerTestCase):
    def setUp(self):
        base = self._testMethodName[5:25]
        self.owner, self.opw = new_account(self.server, f"{base}.own@localhost")
        self.user, self.upw = new_account(self.server, f"{base}.usr@localhost")
        self.o = Session(self.server, self.owner, self.opw)
        self.sessions = [self.o]

    def tearDown(self):
        for s in self.sessions:
            s.close()

    def login(self, user=None, password=None):
        s = Session(self.server, '"%s"' % (user or self.user), password or self.upw)
        self.sessions.append(s)
        return s

    def other(self, box):
        return f'"Other Users/{self.owner}/{box}"'


class RfcExamplesTest(AclBase):
    def test_capability_and_namespace(self):
        caps = self.o.ok("CAPABILITY")[0].split()
        for c in ("ACL", "RIGHTS=texkn", "LIST-MYRIGHTS", "NAMESPACE"):
            self.assertIn(c, caps)
        self.assertEqual(self.o.ok("NAMESPACE")[0],
                         '* NAMESPACE (("" "/")) (("Other Users/" "/")) (("Shared/" "/"))')

    def test_setacl_getacl_deleteacl(self):
        o = self.o
        o.ok("CREATE INBOX/Drafts")
        # RFC 4314 3.1: "+cda" adds c (k x), d (t e) and a; the owner is
        # listed with its implicit rights.
        o.ok("SETACL INBOX/Drafts Chris lrswi")
        o.ok("SETACL INBOX/Drafts Chris +cda")
        self.assertEqual(o.ok("GETACL INBOX/Drafts")[0],
                         f'* ACL "INBOX/Drafts" "{self.owner}" lrswipkxteancd "chris" lrswikxteacd')
        self.assertEqual(o.do("SETACL INBOX/Drafts John lrQswicda")[-1].split(" ", 1)[1],
                         "BAD Uppercase rights are not allowed")
        self.assertEqual(o.do("SETACL INBOX/Drafts John lrqswicda")[-1].split(" ", 1)[1],
                         "BAD The q right is not supported")
        # 2.1.1: "d" expands to "et"; "-" removes.
        o.ok("SETACL INBOX/Drafts David lrswida")
        o.ok("SETACL INBOX/Drafts David -w")
        # 3.2: negative rights are entries of their own.
        o.ok("SETACL INBOX/Drafts -Fred wetd")
        o.ok("SETACL INBOX/Drafts Fred rwipslxetad")
        o.ok("DELETEACL INBOX/Drafts Fred")
        acl = o.ok("GETACL INBOX/Drafts")[0]
        self.assertIn('"-fred" wted', acl)
        self.assertIn('"david" lrsitead', acl)
        self.assertNotIn('"fred"', acl)
        self.assertEqual(status(o.do("SETACL INBOX/Drafts \"\" lr")), "BAD")
        self.assertEqual(status(o.do("GETACL Nowhere")), "NO")
        self.assertIn("[CANNOT]", o.do(f"SETACL INBOX {self.owner} lr")[-1])

    def test_listrights_and_myrights(self):
        o = self.o
        self.assertEqual(o.ok("LISTRIGHTS INBOX Smith")[0],
                         '* LISTRIGHTS "INBOX" "Smith" "" l r s w i p k x t e a n c d')
        self.assertEqual(o.ok(f"LISTRIGHTS INBOX {self.owner}")[0],
                         f'* LISTRIGHTS "INBOX" "{self.owner}" lrswipkxteancd')
        self.assertEqual(o.ok("MYRIGHTS INBOX")[0], '* MYRIGHTS "INBOX" lrswipkxteancd')

    def test_list_myrights(self):
        o = self.o
        o.ok("SETACL Sent " + self.user + " lr")
        u = self.login()
        lines = u.ok('LIST "" "*" RETURN (MYRIGHTS)')
        i = lines.index(f'* LIST (\\HasNoChildren \\Sent) "/" "Other Users/{self.owner}/Sent"')
        self.assertEqual(lines[i + 1], f'* MYRIGHTS "Other Users/{self.owner}/Sent" lr')
        self.assertIn('* LIST (\\Noselect \\HasChildren) "/" "Other Users"', lines)
        self.assertIn(f'* LIST (\\Noselect \\HasChildren) "/" "Other Users/{self.owner}"', lines)
        self.assertEqual(lines[1], '* MYRIGHTS "INBOX" lrswipkxteancd')
        # imaplib sees the same.
        c = imaplib.IMAP4_SSL("127.0.0.1", self.server.imaps_port,
                              ssl_context=__import__("harness").client_ssl_context())
        c.login(self.user, self.upw)
        typ, data = c.list('"Other Users/"', "*")
        self.assertEqual(typ, "OK")
        self.assertIn(f'(\\HasNoChildren \\Sent) "/" "Other Users/{self.owner}/Sent"'.encode(),
                      data)
        c.logout()


# Which single right each operation needs (RFC 4314 section 4). Selected
# state operations run with "r" added (SELECT needs it).
RIGHTS = ["", "l", "r", "s", "w", "i", "p", "k", "x", "t", "e", "a"]


class RightsMatrixTest(AclBase):
    def setUp(self):
        super().setUp()
        o = self.o
        o.ok("CREATE Dest")
        o.ok(f"SETACL Dest {self.user} lrswitei")
        for r in RIGHTS:
            name = f"m_{r or 'none'}"
            o.ok(f"CREATE {name}")
            if r:
                o.ok(f"SETACL {name} {self.user} {r}")
            o.ok(f"CREATE {name}/child")  # inherits the entry
            o.append(name, MSG)
            sel = f"s_{r or 'none'}"
            o.ok(f"CREATE {sel}")
            o.ok(f"SETACL {sel} {self.user} r{r}")
            o.append(sel, MSG, flags="\\Deleted")
        self.u = self.login()

    def check(self, what, right, lines, allowed):
        st = status(lines)
        self.assertEqual(st, "OK" if allowed else "NO",
                         f"{what} with right {right!r}: {lines}")
        if not allowed:
            self.assertTrue(re.search(r"\[(NOPERM|NONEXISTENT|TRYCREATE|READ-ONLY)\]", lines[-1]),
                            lines)

    def test_authenticated_state_commands(self):
        u = self.u
        listed = u.ok(f'LIST "" "Other Users/{self.owner}/m_%"')
        for r in RIGHTS:
            name = f"m_{r or 'none'}"
            box = self.other(name)
            seen = any(l.endswith(f'/{name}"') for l in listed)
            self.assertEqual(seen, r == "l", f"LIST with {r!r}")
            self.check("STATUS", r, u.do(f"STATUS {box} (MESSAGES)"), r == "r")
            self.check("SELECT", r, u.do(f"SELECT {box}"), r == "r")
            self.check("EXAMINE", r, u.do(f"EXAMINE {box}"), r == "r")
            u.do("UNSELECT")
            self.check("APPEND", r, u.append(box, MSG), r == "i")
            self.check("CREATE", r, u.do(f'CREATE "Other Users/{self.owner}/{name}/new"'),
                       r == "k")
            self.check("RENAME", r, u.do(f'RENAME "Other Users/{self.owner}/{name}/child" '
                                         f'"Other Users/{self.owner}/{name}/moved"'), False)
            self.check("DELETE", r, u.do(f'DELETE "Other Users/{self.owner}/{name}/child"'),
                       r == "x")
            self.check("GETACL", r, u.do(f"GETACL {box}"), r == "a")
            self.check("LISTRIGHTS", r, u.do(f"LISTRIGHTS {box} anyone"), r == "a")
            self.check("SETACL", r, u.do(f"SETACL {box} anyone +l"), r == "a")
            self.check("DELETEACL", r, u.do(f"DELETEACL {box} anyone"), r == "a")
            self.check("MYRIGHTS", r, u.do(f"MYRIGHTS {box}"), r in "lrikxa" and r != "")
        # RENAME needs x on the mailbox and k on the new parent.
        o = self.o
        o.ok("CREATE both")
        o.ok(f"SETACL both {self.user} lxk")
        o.ok("CREATE both/child")
        self.check("RENAME", "xk", u.do(f'RENAME {self.other("both/child")} '
                                        f'{self.other("both/moved")}'), True)
        self.assertEqual(status(u.do(f'RENAME {self.other("both/moved")} "mine"')), "NO")

    def test_selected_state_commands(self):
        u = self.u
        for r in RIGHTS:
            name = f"s_{r or 'none'}"
            box = self.other(name)
            lines = u.ok(f"SELECT {box}")
            writable = r in ("s", "w", "i", "t", "e")
            self.assertIn("[READ-WRITE]" if writable else "[READ-ONLY]", lines[-1], (r, lines))
            self.assertEqual(status(u.do("SEARCH ALL")), "OK")
            # FETCH BODY[] sets \Seen only with "s".
            u.ok("FETCH 1 BODY[]")
            flags = u.ok("FETCH 1 FLAGS")[0]
            self.assertEqual("\\Seen" in flags, r == "s", (r, flags))
            if writable:
                for flag, need in (("\\Flagged", "w"), ("\\Answered", "w"), ("\\Deleted", "t"),
                                   ("$Work", "w")):
                    lines = u.do(f"STORE 1 -FLAGS ({flag})")
                    self.check(f"STORE {flag}", r, lines, r == need)
            else:
                self.check("STORE", r, u.do("STORE 1 +FLAGS (\\Flagged)"), False)
            if r == "s":
                self.check("STORE \\Seen", r, u.do("STORE 1 -FLAGS (\\Seen)"), True)
            # COPY out needs only "r" here, into Dest ("i" there).
            self.check("COPY out", r, u.do("COPY 1 " + self.other("Dest")), True)
            self.check("MOVE out", r, u.do("MOVE 1 " + self.other("Dest")), False)
            self.check("EXPUNGE", r, u.do("EXPUNGE"), r == "e")
            u.ok("CLOSE")
            # COPY into it needs "i".
            u.ok("SELECT " + self.other("Dest"))
            self.check("COPY into", r, u.do(f"COPY 1 {box}"), r == "i")
            u.ok("CLOSE")

    def test_move_needs_t_and_e(self):
        o, u = self.o, self.u
        o.ok("CREATE movable")
        o.ok(f"SETACL movable {self.user} lrte")
        o.append("movable", MSG)
        u.ok("SELECT " + self.other("movable"))
        lines = u.ok("MOVE 1 " + self.other("Dest"))
        self.assertTrue(any("COPYUID" in l for l in lines), lines)
    def test_copy_and_move_between_owners(self):
        o, u = self.o, self.u
        o.ok("CREATE across")
        o.ok(f"SETACL across {self.user} lrsi")
        o.append("across", MSG, flags="\\Seen $Work")
        o.append("across", MSG + b"second\r\n")
        # Out of the shared mailbox into the user's own: bytes, flags,
        # keywords travel; the user's quota pays.
        u.ok("SELECT " + self.other("across"))
        # Keywords are the owner's: SEARCH finds them by name.
        self.assertEqual(u.ok("SEARCH KEYWORD $Work")[0], "* SEARCH 1")
        lines = u.ok("COPY 1:2 INBOX")
        self.assertRegex(lines[-1], r"OK \[COPYUID \d+ 1:2 1:2\] COPY completed")
        self.assertIn("[NOPERM]", u.do("MOVE 1 INBOX")[-1])  # no t, e on the source
        u.ok("SELECT INBOX")
        lines = u.ok("FETCH 1:2 (FLAGS BODY.PEEK[])")
        # The flags as the user saw them: the owner's \Seen is not theirs
        # (per-user \Seen, RFC 4314 section 4).
        self.assertIn("FLAGS (\\Recent $Work)", lines[0])
        u.ok("STORE 1 +FLAGS.SILENT (\\Seen)")
        self.assertEqual(lines[-3], "second", lines)
        # Into the shared mailbox: 'i' there; \Deleted dropped without 't'.
        u.ok("STORE 1 +FLAGS (\\Deleted)")
        lines = u.ok("MOVE 1 " + self.other("across"))
        self.assertTrue(any(l.startswith("* OK [COPYUID ") for l in lines), lines)
        self.assertIn("* 1 EXPUNGE", lines)
        o.ok("SELECT across")
        # The user's \Seen went along as theirs; the owner's is untouched.
        self.assertEqual(o.ok("FETCH 3 FLAGS")[0], "* 3 FETCH (FLAGS (\\Recent))")
        u.ok("SELECT " + self.other("across"))
        self.assertIn("* 3 FETCH (FLAGS (\\Seen))", u.ok("FETCH 3 FLAGS"))
        u.ok("SELECT INBOX")
        self.assertEqual(status(u.do("COPY 1 " + self.other("Sent"))), "NO")


class SharingTest(AclBase):
    def test_groups_negative_rights_and_anyone(self):
        o = self.o
        group = self._testMethodName[:10].replace("_", "")
        tern("group", "add", group, self.user, data_dir=self.server.dir)
        o.ok(f"SETACL Archive ${group} lrs")
        u = self.login()
        self.assertEqual(u.ok("MYRIGHTS " + self.other("Archive"))[0],
                         f'* MYRIGHTS "Other Users/{self.owner}/Archive" lrs')
        o.ok(f"SETACL Archive -{self.user} s")
        self.assertEqual(u.ok("MYRIGHTS " + self.other("Archive"))[0].split()[-1], "lr")
        o.ok("SETACL Junk anyone lr")
        self.assertEqual(u.ok("MYRIGHTS " + self.other("Junk"))[0].split()[-1], "lr")
        o.ok("DELETEACL Junk anyone")
        self.assertIn("[NONEXISTENT]", u.do("MYRIGHTS " + self.other("Junk"))[-1])
        out = tern("group", "list", group, data_dir=self.server.dir).stdout
        self.assertEqual(out, f"${group} {self.user}\n")
        tern("group", "del", group, data_dir=self.server.dir)

    def test_public_shared_namespace(self):
        name = "pub" + self._testMethodName[-6:]
        d = self.server.dir
        tern("acl", "set", "--shared", "", self.user, "lrswipkxtea", data_dir=d)
        u = self.login()
        u.ok(f'CREATE "Shared/{name}"')
        u.ok(f'SETACL "Shared/{name}" {self.owner} lri')
        self.assertEqual(status(u.append(f"Shared/{name}", MSG)), "OK")
        self.assertIn(f"{self.owner} lri",
                      tern("acl", "get", "--shared", name, data_dir=d).stdout)
        lines = self.o.ok('LIST "" "Shared*"')
        self.assertEqual(lines[:-1], ['* LIST (\\Noselect \\HasChildren) "/" "Shared"',
                                      f'* LIST (\\HasNoChildren) "/" "Shared/{name}"'])
        self.assertIn("[READ-WRITE]", self.o.ok(f'SELECT "Shared/{name}"')[-1])
        self.assertEqual(status(self.o.do(f'CREATE "Shared/{name}x"')), "NO")
        tern("acl", "del", "--shared", "", self.user, data_dir=d)

    def test_idle_sees_the_owners_changes_and_quota_is_the_owners(self):
        o = self.o
        o.ok("CREATE team")
        o.ok(f"SETACL team {self.user} lrswi")
        u = self.login()
        u.ok("SELECT " + self.other("team"))
        u.send("i1 IDLE\r\n")
        self.assertTrue(u.line().startswith("+ "))
        t0 = time.monotonic()
        o.append("team", MSG)
        self.assertEqual(u.line(), "* 1 EXISTS")
        self.assertLess(time.monotonic() - t0, AT_ONCE)
        u.send("DONE\r\n")
        u.until_tagged("i1")
        # A flag the user sets is seen by the owner's IDLE at once.
        o.ok("SELECT team")
        o.send("i2 IDLE\r\n")
        o.line()
        u.ok("STORE 1 +FLAGS (\\Flagged)")
        self.assertRegex(o.line(), r"^\* 1 FETCH \(FLAGS \(\\Flagged.*\)\)$")
        o.send("DONE\r\n")
        o.until_tagged("i2")
        # What the user appends counts against the owner's quota.
        used = lambda: int(re.search(r"messages: (\d+)", tern(
            "user", "quota", self.owner, data_dir=self.server.dir).stdout).group(1))
        before = used()
        tern("user", "quota", self.owner, "--messages", str(before + 1),
             data_dir=self.server.dir)
        self.assertEqual(status(u.append(self.other("team"), MSG)), "OK")
        self.assertEqual(used(), before + 1)
        lines = u.append(self.other("team"), MSG)
        self.assertIn("[OVERQUOTA]", lines[-1])


class SharedLoginTest(AclBase):
    def test_login_lands_in_the_shared_mailbox(self):
        o = self.o
        o.ok("CREATE sales")
        o.ok(f"SETACL sales {self.user} lr")
        o.append("sales", MSG)
        # The connector form: address, separator, a mailbox shared with it.
        s = self.login(f"{self.user}/Other Users/{self.owner}/sales", self.upw)
        self.assertEqual(s.ok('LIST "" "*"')[:-1], ['* LIST (\\HasNoChildren) "/" "INBOX"'])
        lines = s.ok("SELECT INBOX")
        self.assertIn("* 1 EXISTS", lines)
        self.assertIn("[READ-ONLY]", lines[-1])  # the ACL applies: "lr"
        self.assertEqual(status(s.do("STORE 1 +FLAGS (\\Flagged)")), "NO")
        self.assertEqual(status(s.do("SELECT Sent")), "NO")
        # An address alone means its INBOX; nothing shared: refused.
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        lines = r.cmd("a", f'LOGIN "{self.user}/{self.owner}" {self.upw}')
        self.assertEqual(lines[-1], "a NO [AUTHORIZATIONFAILED] No such mailbox shared with you")
        o.ok(f"SETACL INBOX {self.user} lr")
        self.assertIn("a2 OK", r.cmd("a2", f'LOGIN "{self.user}/{self.owner}" {self.upw}')[-1])
        r.sock.close()
        # A wrong password stays a wrong password.
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        self.assertIn("[AUTHENTICATIONFAILED]",
                      r.cmd("b", f'LOGIN "{self.user}/{self.owner}" wrong')[-1])
        r.sock.close()
