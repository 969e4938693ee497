"""Per-user \\Seen on mailboxes shared through the ACL (RFC 4314 section 4):
each user other than the owner has their own \\Seen on "Other Users/" and
"Shared/" mailboxes, with two and three users at once: FETCH FLAGS, STORE,
FETCH BODY[]'s implicit \\Seen, SEARCH SEEN/UNSEEN, STATUS UNSEEN,
LIST-STATUS, SELECT's [UNSEEN n], APPEND with \\Seen, other sessions of the
same user told at once, the owner's \\Seen and counters untouched, the state gone with the
message, and the mailbox METADATA /shared/vendor/tern/sharedseen "true"
that keeps one \\Seen for everybody."""
import re
import time

from harness import TERN, ServerTestCase, tern
from test_imap_mailbox import Session, new_account

AT_ONCE = 2.0 if "asan" in TERN or "tsan" in TERN else 0.5
MSG = b"From: a@example.org\r\nSubject: shared\r\n\r\nbody\r\n"


def flags_of(lines):
    """{seq: flags} of the FETCH responses in lines, sorted, \\Recent left out
    (it goes to the first session, whoever that is)."""
    out = {}
    for line in lines:
        m = re.match(r"\* (\d+) FETCH \(.*FLAGS \(([^)]*)\)", line)
        if m:
            out[int(m.group(1))] = " ".join(sorted(f for f in m.group(2).split()
                                                   if f != "\\Recent"))
    return out


class SharedSeenTest(ServerTestCase):
    def setUp(self):
        base = self._testMethodName[5:25]
        self.owner, opw = new_account(self.server, f"{base}.own@localhost")
        self.users = [new_account(self.server, f"{base}.u{i}@localhost") for i in range(2)]
        self.o = Session(self.server, self.owner, opw)
        self.sessions = [self.o]
        self.o.ok("CREATE Team")
        for _ in range(3):
            self.o.append("Team", MSG)
        for user, _ in self.users:
            self.o.ok(f"SETACL Team {user} lrswi")
        self.box = f'"Other Users/{self.owner}/Team"'

    def tearDown(self):
        for s in self.sessions:
            s.close()

    def login(self, i):
        user, pw = self.users[i]
        s = Session(self.server, f'"{user}"', pw)
        self.sessions.append(s)
        return s

    def test_two_users_each_have_their_own_seen(self):
        o, u = self.o, self.login(0)
        o.ok("SELECT Team")
        o.ok("STORE 1 +FLAGS.SILENT (\\Seen)")
        u.ok(f"SELECT {self.box}")
        # The owner's \Seen is not the user's.
        self.assertEqual(flags_of(u.ok("FETCH 1:* (FLAGS)")), {1: "", 2: "", 3: ""})
        lines = u.ok("STORE 2 +FLAGS (\\Seen \\Flagged)")
        self.assertEqual(flags_of(lines), {2: "\\Flagged \\Seen"})
        self.assertEqual(u.ok("SEARCH SEEN")[0], "* SEARCH 2")
        self.assertEqual(u.ok("SEARCH UNSEEN")[0], "* SEARCH 1 3")
        # FETCH BODY[] sets the user's \Seen only.
        lines = u.ok("FETCH 3 (BODY[])")
        self.assertIn("\\Seen", " ".join(lines))
        # The owner: its own \Seen, the shared \Flagged; counters its own.
        lines = o.ok("NOOP")
        self.assertEqual(flags_of(o.ok("FETCH 1:* (FLAGS)")),
                         {1: "\\Seen", 2: "\\Flagged", 3: ""})
        self.assertEqual(o.ok("SEARCH SEEN")[0], "* SEARCH 1")
        self.assertIn("UNSEEN 2", o.ok("STATUS Team (UNSEEN)")[0])
        self.assertIn("UNSEEN 1", u.ok(f"STATUS {self.box} (UNSEEN)")[0])
        # -FLAGS \Seen by the user leaves the owner's alone.
        u.ok("STORE 1:3 -FLAGS.SILENT (\\Seen)")
        self.assertEqual(flags_of(o.ok("FETCH 1 (FLAGS)")), {1: "\\Seen"})
        self.assertIn("UNSEEN 3", u.ok(f"STATUS {self.box} (UNSEEN)")[0])

    def test_three_users_and_second_sessions(self):
        o = self.o
        a, b = self.login(0), self.login(1)
        a2 = self.login(0)  # a second session of user 0
        for s in (a, b, a2):
            s.ok(f"SELECT {self.box}")
        o.ok("SELECT Team")
        a.ok("STORE 1 +FLAGS.SILENT (\\Seen)")
        b.ok("STORE 2 +FLAGS.SILENT (\\Seen)")
        # a's other session is told of a's \Seen; b and the owner see none
        # of it (a sync may still report the message, with their flags).
        self.assertEqual(flags_of(a2.ok("NOOP")).get(1), "\\Seen")
        self.assertEqual(flags_of(a2.ok("FETCH 1:* (FLAGS)")), {1: "\\Seen", 2: "", 3: ""})
        self.assertEqual(flags_of(b.ok("FETCH 1:* (FLAGS)")), {1: "", 2: "\\Seen", 3: ""})
        self.assertEqual(flags_of(o.ok("FETCH 1:* (FLAGS)")), {1: "", 2: "", 3: ""})
        self.assertIn("UNSEEN 3", o.ok("STATUS Team (UNSEEN)")[0])
        self.assertIn("UNSEEN 2", a.ok(f"STATUS {self.box} (UNSEEN)")[0])
        # LIST-STATUS and SELECT's [UNSEEN n] (rev1) are the user's too.
        lines = b.ok(f'LIST "" "Other Users/{self.owner}/*" RETURN (STATUS (UNSEEN MESSAGES))')
        self.assertIn("(MESSAGES 3 UNSEEN 2)", " ".join(lines))
        self.assertIn("* OK [UNSEEN 1] First unseen", b.ok(f"EXAMINE {self.box}"))
        self.assertIn("* OK [UNSEEN 2] First unseen", a.ok(f"SELECT {self.box}"))
        # During IDLE, a's second session hears at once.
        a2.send(b"i1 IDLE\r\n")
        self.assertTrue(a2.line().startswith("+ "))
        a.ok("STORE 3 +FLAGS.SILENT (\\Seen)")
        a2.sock.settimeout(AT_ONCE * 4)
        self.assertRegex(a2.line(), r"^\* 3 FETCH \(.*FLAGS \(\\Seen\)")
        a2.sock.settimeout(10)
        a2.send(b"DONE\r\n")
        self.assertIn("i1 OK", a2.until_tagged("i1")[-1])

    def test_append_with_seen_is_the_users(self):
        o, u = self.o, self.login(0)
        u.ok(f"SELECT {self.box}")
        lines = u.append(self.box, MSG, flags="\\Seen \\Flagged") + u.ok("NOOP")
        self.assertIn("OK [APPENDUID", " ".join(lines))
        self.assertIn("* 4 EXISTS", lines)
        self.assertEqual(flags_of(u.ok("FETCH 4 (FLAGS)")), {4: "\\Flagged \\Seen"})
        o.ok("SELECT Team")
        self.assertEqual(flags_of(o.ok("FETCH 4 (FLAGS)")), {4: "\\Flagged"})
        self.assertIn("UNSEEN 4", o.ok("STATUS Team (UNSEEN)")[0])
        self.assertIn("UNSEEN 3", u.ok(f"STATUS {self.box} (UNSEEN)")[0])

    def test_seen_state_goes_with_the_message(self):
        o, u = self.o, self.login(0)
        self.o.ok(f"SETACL Team {self.users[0][0]} lrswite")
        u.ok(f"SELECT {self.box}")
        u.ok("STORE 1:3 +FLAGS.SILENT (\\Seen)")
        u.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        u.ok("EXPUNGE")
        self.assertIn("UNSEEN 0", u.ok(f"STATUS {self.box} (UNSEEN MESSAGES)")[0])
        o.append("Team", MSG)
        self.assertIn("MESSAGES 3 UNSEEN 1", u.ok(f"STATUS {self.box} (MESSAGES UNSEEN)")[0])
        # A new session of the user loads the state from the store.
        u.close()
        self.sessions.remove(u)
        u = self.login(0)
        u.ok(f"SELECT {self.box}")
        self.assertEqual(flags_of(u.ok("FETCH 1:* (FLAGS)")), {1: "\\Seen", 2: "\\Seen", 3: ""})

    def test_public_shared_mailbox(self):
        # A "Shared/" mailbox, owned by the server's shared account: every
        # user is another user there.
        name = "news" + self._testMethodName[-6:]
        d = self.server.dir
        tern("acl", "set", "--shared", "", self.users[0][0], "lrswipkxtea", data_dir=d)
        a, b = self.login(0), self.login(1)
        a.ok(f'CREATE "Shared/{name}"')
        a.ok(f'SETACL "Shared/{name}" {self.users[1][0]} lrs')
        a.append(f'"Shared/{name}"', MSG)
        a.append(f'"Shared/{name}"', MSG)
        a.ok(f'SELECT "Shared/{name}"')
        b.ok(f'SELECT "Shared/{name}"')
        a.ok("STORE 1 +FLAGS.SILENT (\\Seen)")
        self.assertEqual(flags_of(b.ok("FETCH 1:* (FLAGS)")), {1: "", 2: ""})
        self.assertEqual(flags_of(a.ok("FETCH 1:* (FLAGS)")), {1: "\\Seen", 2: ""})
        self.assertIn("UNSEEN 1", a.ok(f'STATUS "Shared/{name}" (UNSEEN)')[0])
        self.assertIn("UNSEEN 2", b.ok(f'STATUS "Shared/{name}" (UNSEEN)')[0])

    def test_sharedseen_metadata_keeps_one_seen(self):
        o = self.o
        o.ok('SETMETADATA Team (/shared/vendor/tern/sharedseen "true")')
        a, b = self.login(0), self.login(1)
        a.ok(f"SELECT {self.box}")
        a.ok("STORE 1 +FLAGS.SILENT (\\Seen)")
        b.ok(f"SELECT {self.box}")
        self.assertEqual(flags_of(b.ok("FETCH 1 (FLAGS)")), {1: "\\Seen"})
        o.ok("SELECT Team")
        self.assertEqual(flags_of(o.ok("FETCH 1 (FLAGS)")), {1: "\\Seen"})
        self.assertIn("UNSEEN 2", b.ok(f"STATUS {self.box} (UNSEEN)")[0])
        # Back to per-user: the next SELECT counts.
        o.ok("SETMETADATA Team (/shared/vendor/tern/sharedseen NIL)")
        b.ok(f"SELECT {self.box}")
        self.assertEqual(flags_of(b.ok("FETCH 1 (FLAGS)")), {1: ""})
