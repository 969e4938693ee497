"""ANNOTATE-EXPERIMENT-1 (RFC 5257): the RFC's FETCH and STORE examples,
wildcards, size attributes, literal values, the ANNOTATIONS response code
of SELECT/EXAMINE, the limits from tern.conf ([ANNOTATE TOOBIG] and
[ANNOTATE TOOMANY]), the modseq rules with CONDSTORE and UNCHANGEDSINCE,
other sessions told by an unsolicited FETCH, annotations copied by COPY and
MOVE and gone with EXPUNGE, value.priv per user and the 'n' right for
value.shared on a mailbox shared through the ACL, SEARCH and SORT by
annotation, APPEND with ANNOTATION, and the syntax errors (BAD)."""
import imaplib
import os
import re
import sqlite3
import time

from harness import TERN, ServerTestCase, tern
from test_imap_mailbox import Session, new_account

AT_ONCE = 2.0 if "asan" in TERN or "tsan" in TERN else 0.5
MSG = b"From: a@example.org\r\nSubject: annotated\r\n\r\nbody\r\n"


def status(lines):
    return lines[-1].split(" ", 2)[1]


class AnnotateBase(ServerTestCase):
    CONFIG = "[imap]\nannotation_max_size = 1k\nannotation_max_entries = 6\n"

    def setUp(self):
        base = self._testMethodName[5:30]
        self.addr, self.pw = new_account(self.server, f"{base}@localhost")
        self.s = Session(self.server, self.addr, self.pw)
        self.sessions = [self.s]
        for _ in range(3):
            self.s.append("INBOX", MSG)

    def tearDown(self):
        for s in self.sessions:
            s.close()

    def session(self, user=None, password=None):
        s = Session(self.server, '"%s"' % (user or self.addr), password or self.pw)
        self.sessions.append(s)
        return s

    def annotations_rows(self, address):
        shown = tern("user", "show", address, data_dir=self.server.dir).stdout
        account = re.search(r"^id:\s+(\d+)", shown, re.M).group(1)
        db = sqlite3.connect(os.path.join(self.server.dir, "accounts", account, "index.db"),
                             timeout=30)
        try:
            return db.execute("SELECT mailbox_id, uid, entry, owner, value FROM annotations"
                              " ORDER BY 1, 2, 3, 4").fetchall()
        finally:
            db.close()


class RfcExamplesTest(AnnotateBase):
    def test_capability_and_select_codes(self):
        caps = self.s.ok("CAPABILITY")[0].split()
        self.assertIn("ANNOTATE-EXPERIMENT-1", caps)
        self.assertIn("RIGHTS=texkn", caps)
        self.assertIn("* OK [ANNOTATIONS 1024] Largest annotation value",
                      self.s.ok("SELECT INBOX"))
        self.assertIn("* OK [ANNOTATIONS READ-ONLY] Annotations cannot be changed",
                      self.s.ok("EXAMINE INBOX"))
        # The ANNOTATE select parameter (section 4.1) is taken.
        self.assertIn("* OK [ANNOTATIONS 1024] Largest annotation value",
                      self.s.ok("SELECT INBOX (ANNOTATE)"))

    def test_store_and_fetch(self):
        s = self.s
        s.ok("SELECT INBOX")
        # Section 4.4's first example, then 4.2's fetches.
        self.assertEqual(s.ok('STORE 1 ANNOTATION (/comment (value.priv "My new comment"))'),
                         [f"t{s.n} OK STORE completed"])
        self.assertEqual(s.ok("FETCH 1 (ANNOTATION (/comment value.priv))")[0],
                         '* 1 FETCH (ANNOTATION (/comment (value.priv "My new comment")))')
        self.assertEqual(s.ok("FETCH 1 (ANNOTATION (/comment value))")[0],
                         '* 1 FETCH (ANNOTATION (/comment (value.priv "My new comment"'
                         ' value.shared NIL)))')
        self.assertEqual(s.ok("FETCH 1 (ANNOTATION (/comment (value size)))")[0],
                         '* 1 FETCH (ANNOTATION (/comment (value.priv "My new comment"'
                         ' value.shared NIL size.priv "14" size.shared "0")))')
        # Several entries and attributes; UID FETCH adds UID.
        s.ok('STORE 1 ANNOTATION (/altsubject (value.shared "Rewritten")'
             ' /comment (value.shared "For everyone"))')
        self.assertEqual(s.ok("UID FETCH 1 (ANNOTATION ((/comment /altsubject) value.shared))")[0],
                         '* 1 FETCH (UID 1 ANNOTATION (/altsubject (value.shared "Rewritten")'
                         ' /comment (value.shared "For everyone")))')
        # Entry names are case-insensitive.
        self.assertEqual(s.ok("FETCH 1 (ANNOTATION (/COMMENT value.priv))")[0],
                         '* 1 FETCH (ANNOTATION (/comment (value.priv "My new comment")))')
        # Other items go along; a message without any annotation.
        self.assertEqual(s.ok("FETCH 2 (UID ANNOTATION (/comment value))")[0],
                         '* 2 FETCH (UID 2 ANNOTATION (/comment (value.priv NIL'
                         ' value.shared NIL)))')
        # NIL removes (section 4.4).
        s.ok("STORE 1 ANNOTATION (/comment (value.priv NIL))")
        self.assertEqual(s.ok("FETCH 1 (ANNOTATION (/comment value.priv))")[0],
                         '* 1 FETCH (ANNOTATION (/comment (value.priv NIL)))')

    def test_wildcards(self):
        s = self.s
        s.ok("SELECT INBOX")
        s.ok('STORE 1 ANNOTATION (/comment (value.priv "c") /altsubject (value.shared "a")'
             ' /1/comment (value.shared "part") /vendor/tern/x (value.priv "v"))')
        # '*' crosses '/', '%' does not; only existing values are listed.
        self.assertEqual(s.ok("FETCH 1 (ANNOTATION (* value))")[0],
                         '* 1 FETCH (ANNOTATION (/1/comment (value.priv NIL value.shared "part")'
                         ' /altsubject (value.priv NIL value.shared "a")'
                         ' /comment (value.priv "c" value.shared NIL)'
                         ' /vendor/tern/x (value.priv "v" value.shared NIL)))')
        self.assertEqual(s.ok("FETCH 1 (ANNOTATION (/% value.priv))")[0],
                         '* 1 FETCH (ANNOTATION (/comment (value.priv "c")))')
        self.assertEqual(s.ok("FETCH 1 (ANNOTATION (/vendor/* value))")[0],
                         '* 1 FETCH (ANNOTATION (/vendor/tern/x (value.priv "v"'
                         ' value.shared NIL)))')
        self.assertEqual(s.ok("FETCH 2 (ANNOTATION (* value))")[0],
                         "* 2 FETCH (ANNOTATION ())")

    def test_literal_values(self):
        s = self.s
        s.ok("SELECT INBOX")
        s.send(f"t90 STORE 1 ANNOTATION (/comment (value.priv {{15}}\r\n".encode())
        self.assertTrue(s.line().startswith("+ "))
        s.send(b"two\r\nlines here))\r\n")
        self.assertIn("t90 OK", s.until_tagged("t90")[-1])
        lines = s.ok("FETCH 1 (ANNOTATION (/comment value.priv))")
        self.assertEqual(lines[0], "* 1 FETCH (ANNOTATION (/comment (value.priv {15}")
        self.assertEqual(lines[1:3], ["two", "lines here)))"])
        # literal8 with a NUL comes back as literal8 (section 7: value).
        s.send(b"t91 STORE 1 ANNOTATION (/comment (value.shared ~{3+}\r\na\x00b))\r\n")
        self.assertIn("t91 OK", s.until_tagged("t91")[-1])
        s.send(b"t92 FETCH 1 (ANNOTATION (/comment value.shared))\r\n")
        s.sock.settimeout(10)
        data = b""
        while b"t92 OK" not in data:
            data += s.sock.recv(4096)
        self.assertIn(b"/comment (value.shared ~{3}\r\na\x00b)))", data)

    def test_errors(self):
        s = self.s
        s.ok("SELECT INBOX")
        for bad in ("STORE 1 ANNOTATION (/comment (size.priv \"3\"))",
                    "STORE 1 ANNOTATION (/comment (value \"x\"))",
                    "STORE 1 ANNOTATION (/comment (value.priv))",
                    "STORE 1 ANNOTATION (/comment)",
                    "STORE 1 ANNOTATION ()",
                    "STORE 1 ANNOTATION (comment (value.priv \"x\"))",
                    "STORE 1 ANNOTATION (/com*ent (value.priv \"x\"))",
                    "STORE 1 ANNOTATION (/a//b (value.priv \"x\"))",
                    "STORE 1 ANNOTATION (/comment/ (value.priv \"x\"))",
                    "STORE 1 ANNOTATION (/comment (value.priv \"x\" value.priv \"y\"))",
                    "STORE 1 ANNOTATION (/comment (value.priv (x)))",
                    "STORE 1 ANNOTATION (/comment (bogus \"x\"))",
                    "FETCH 1 (ANNOTATION (/comment))",
                    "FETCH 1 (ANNOTATION (/comment bogus))",
                    "FETCH 1 (ANNOTATION (comment value))",
                    "FETCH 1 (ANNOTATION (() value))",
                    "FETCH 1 (ANNOTATION (/comment ()))",
                    "FETCH 1 ANNOTATION"):
            self.assertEqual(status(s.do(bad)), "BAD", bad)
        # Reserved or undefined entries (section 3.1) cannot be set.
        for entry in ("/flags", "/flags/seen", "/", "/1", "/1/altsubject", "/other",
                      "/vendor", "/0/comment"):
            self.assertIn("NO [CANNOT]",
                          s.do(f'STORE 1 ANNOTATION ({entry} (value.priv "x"))')[-1], entry)
        # Limits: value size and entries per message, nothing stored.
        big = "x" * 1025
        self.assertIn("NO [ANNOTATE TOOBIG]",
                      s.do(f'STORE 1 ANNOTATION (/comment (value.priv "{big}"))')[-1])
        s.ok('STORE 1 ANNOTATION (/vendor/t/1 (value.priv "1") /vendor/t/2 (value.priv "2")'
             ' /vendor/t/3 (value.priv "3") /vendor/t/4 (value.shared "4"))')
        self.assertIn("NO [ANNOTATE TOOMANY]",
                      s.do('STORE 1:2 ANNOTATION (/vendor/t/5 (value.priv "5")'
                           ' /vendor/t/6 (value.priv "6") /vendor/t/7 (value.priv "7"))')[-1])
        self.assertEqual(s.ok("FETCH 2 (ANNOTATION (* value))")[0],
                         "* 2 FETCH (ANNOTATION ())")
        # Replacing at the limit still works.
        s.ok('STORE 1 ANNOTATION (/vendor/t/5 (value.priv "5") /vendor/t/6 (value.priv "6"))')
        s.ok('STORE 1 ANNOTATION (/vendor/t/6 (value.priv "six"))')
        # Read-only: EXAMINE.
        s.ok("EXAMINE INBOX")
        self.assertIn("NO [READ-ONLY]",
                      s.do('STORE 1 ANNOTATION (/comment (value.priv "x"))')[-1])
        # Not selected.
        s.ok("UNSELECT")
        self.assertEqual(status(s.do('STORE 1 ANNOTATION (/comment (value.priv "x"))')), "BAD")


class ModseqTest(AnnotateBase):
    def modseq(self, s, seq):
        line = [l for l in s.ok(f"FETCH {seq} (MODSEQ)") if "MODSEQ" in l][0]
        return int(re.search(r"MODSEQ \((\d+)\)", line).group(1))

    def test_store_bumps_modseq_and_unchangedsince(self):
        s = self.s
        s.ok("SELECT INBOX (CONDSTORE)")
        before = self.modseq(s, 3)  # the newest message's: the highest
        lines = s.ok('STORE 1 ANNOTATION (/comment (value.priv "x"))')
        self.assertRegex(lines[0], r"^\* 1 FETCH \(MODSEQ \(\d+\)\)$")
        after = self.modseq(s, 1)
        self.assertGreater(after, before)
        # The same value again changes nothing: no new modseq (RFC 7162 3.1.3).
        self.assertEqual(s.ok('STORE 1 ANNOTATION (/comment (value.priv "x"))'),
                         [f"t{s.n} OK STORE completed"])
        self.assertEqual(self.modseq(s, 1), after)
        # CHANGEDSINCE sees it.
        lines = s.ok(f"FETCH 1:* (UID) (CHANGEDSINCE {before})")
        self.assertEqual(lines[0], f"* 1 FETCH (UID 1 MODSEQ ({after}))")
        self.assertEqual(len(lines), 2)
        # UNCHANGEDSINCE: message 1 changed after `before`, 2 did not.
        lines = s.do(f'STORE 1:2 (UNCHANGEDSINCE {before}) ANNOTATION'
                     ' (/comment (value.shared "y"))')
        self.assertIn("OK [MODIFIED 1]", lines[-1])
        self.assertEqual(s.ok("FETCH 1:2 (ANNOTATION (/comment value.shared))")[:2],
                         ['* 1 FETCH (ANNOTATION (/comment (value.shared NIL)))',
                          '* 2 FETCH (ANNOTATION (/comment (value.shared "y")))'])
        lines = s.do('UID STORE 2 (UNCHANGEDSINCE 1) ANNOTATION (/comment (value.shared "z"))')
        self.assertIn("OK [MODIFIED 2]", lines[-1])
        lines = s.do('STORE 2 (UNCHANGEDSINCE 0) ANNOTATION (/comment (value.shared "z"))')
        self.assertIn("OK [MODIFIED 2]", lines[-1])

    def test_other_session_gets_unsolicited_fetch(self):
        s, t = self.s, self.session()
        s.ok("SELECT INBOX")
        t.ok("SELECT INBOX (CONDSTORE)")
        s.ok('STORE 2 ANNOTATION (/comment (value.shared "seen by t"))')
        lines = t.ok("NOOP")
        self.assertRegex(lines[0], r"^\* 2 FETCH \((UID 2 )?FLAGS \(\) MODSEQ \(\d+\)\)$")
        self.assertEqual(t.ok("FETCH 2 (ANNOTATION (/comment value.shared))")[0],
                         '* 2 FETCH (ANNOTATION (/comment (value.shared "seen by t")))')
        # And during IDLE, at once.
        t.send(b"i1 IDLE\r\n")
        self.assertTrue(t.line().startswith("+ "))
        s.ok('STORE 3 ANNOTATION (/comment (value.shared "now"))')
        t.sock.settimeout(AT_ONCE * 4)
        self.assertRegex(t.line(), r"^\* 3 FETCH \((UID 3 )?FLAGS \(\) MODSEQ \(\d+\)\)$")
        t.sock.settimeout(10)
        t.send(b"DONE\r\n")
        self.assertIn("i1 OK", t.until_tagged("i1")[-1])


class LifetimeTest(AnnotateBase):
    def test_copy_move_and_expunge(self):
        s = self.s
        s.ok("SELECT INBOX")
        s.ok('STORE 1:2 ANNOTATION (/comment (value.priv "mine") /altsubject (value.shared "all"))')
        self.assertIn("OK [COPYUID", s.ok("COPY 1 Archive")[-1])
        self.assertIn("COPYUID", " ".join(s.ok("MOVE 2 Drafts")))
        for box in ("Archive", "Drafts"):
            s.ok(f"SELECT {box}")
            self.assertEqual(s.ok("FETCH 1 (ANNOTATION (* value))")[0],
                             '* 1 FETCH (ANNOTATION (/altsubject (value.priv NIL value.shared'
                             ' "all") /comment (value.priv "mine" value.shared NIL)))', box)
        s.ok("SELECT INBOX")
        rows = self.annotations_rows(self.addr)
        self.assertEqual(len(rows), 6)  # INBOX 1, Archive 1, Drafts 1; MOVE's source gone
        s.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        s.ok("EXPUNGE")
        self.assertEqual(len(self.annotations_rows(self.addr)), 4)
        s.ok("DELETE Archive")
        self.assertEqual([r[2] for r in self.annotations_rows(self.addr)],
                         ["/altsubject", "/comment"])


class SharedTest(AnnotateBase):
    def test_private_per_user_and_n_right(self):
        o = self.s
        user, upw = new_account(self.server, f"{self._testMethodName[5:25]}.u@localhost")
        o.ok(f"SETACL INBOX {user} lrs")
        o.ok("SELECT INBOX")
        o.ok('STORE 1 ANNOTATION (/comment (value.priv "owner note")'
             ' /altsubject (value.shared "team"))')
        u = self.session(user, upw)
        box = f'"Other Users/{self.addr}/INBOX"'
        self.assertIn("* OK [ANNOTATIONS 1024] Largest annotation value", u.ok(f"SELECT {box}"))
        # The owner's private value is not the user's; the shared one is.
        self.assertEqual(u.ok("FETCH 1 (ANNOTATION (* value))")[0],
                         '* 1 FETCH (ANNOTATION (/altsubject (value.priv NIL value.shared'
                         ' "team")))')
        u.ok('STORE 1 ANNOTATION (/comment (value.priv "user note"))')
        self.assertEqual(u.ok("FETCH 1 (ANNOTATION (/comment value.priv))")[0],
                         '* 1 FETCH (ANNOTATION (/comment (value.priv "user note")))')
        self.assertEqual(o.ok("FETCH 1 (ANNOTATION (/comment value.priv))")[0],
                         '* 1 FETCH (ANNOTATION (/comment (value.priv "owner note")))')
        # value.shared needs 'n' (RFC 5257 section 5); nothing is changed.
        self.assertIn("NO [NOPERM]",
                      u.do('STORE 1 ANNOTATION (/comment (value.priv "x")'
                           ' /altsubject (value.shared "mine"))')[-1])
        self.assertEqual(u.ok("FETCH 1 (ANNOTATION (/comment value.priv))")[0],
                         '* 1 FETCH (ANNOTATION (/comment (value.priv "user note")))')
        o.ok(f"SETACL INBOX {user} +n")
        self.assertIn(f'"{user}" lrsn', o.ok("GETACL INBOX")[0])
        u.ok(f"SELECT {box}")
        u.ok('STORE 1 ANNOTATION (/altsubject (value.shared "changed by user"))')
        self.assertEqual(o.ok("FETCH 1 (ANNOTATION (/altsubject value.shared))")[-2],
                         '* 1 FETCH (ANNOTATION (/altsubject (value.shared "changed by user")))')
        # With 'r' only the mailbox is read-only, so are its annotations.
        o.ok(f"SETACL INBOX {user} lr")
        self.assertIn("* OK [ANNOTATIONS READ-ONLY] Annotations cannot be changed",
                      u.ok(f"SELECT {box}"))
        self.assertIn("NO [READ-ONLY]",
                      u.do('STORE 1 ANNOTATION (/comment (value.priv "x"))')[-1])


class SearchSortAppendTest(AnnotateBase):
    def test_search_annotation(self):
        s = self.s
        s.ok("SELECT INBOX")
        s.ok('STORE 1 ANNOTATION (/comment (value.priv "Call Bob back"))')
        s.ok('STORE 2 ANNOTATION (/comment (value.shared "bob was here")'
             ' /altsubject (value.priv "x"))')
        s.ok('STORE 3 ANNOTATION (/vendor/tern/tag (value.shared "BOB"))')
        # Section 4.3: entry-match, att-search, substring, case-insensitive.
        self.assertEqual(s.ok('SEARCH ANNOTATION /comment value "bob"')[0], "* SEARCH 1 2")
        self.assertEqual(s.ok('SEARCH ANNOTATION /comment value.priv "bob"')[0], "* SEARCH 1")
        self.assertEqual(s.ok('SEARCH ANNOTATION /comment value.shared "BOB"')[0], "* SEARCH 2")
        self.assertEqual(s.ok('SEARCH ANNOTATION * value.shared "bob"')[0], "* SEARCH 2 3")
        self.assertEqual(s.ok('SEARCH ANNOTATION /% value.shared "bob"')[0], "* SEARCH 2")
        self.assertEqual(s.ok('SEARCH NOT ANNOTATION * value ""')[0], "* SEARCH")
        self.assertEqual(s.ok('UID SEARCH ANNOTATION /altsubject value "x" SMALLER 100000')[0],
                         "* SEARCH 2")
        self.assertEqual(s.ok('SEARCH RETURN (COUNT) ANNOTATION /comment value "bob"')[0],
                         '* ESEARCH (TAG "t%d") COUNT 2' % s.n)
        for bad in ('SEARCH ANNOTATION /comment size "1"', 'SEARCH ANNOTATION /comment value',
                    'SEARCH ANNOTATION comment value "x"', 'SEARCH ANNOTATION'):
            self.assertEqual(status(s.do(bad)), "BAD", bad)

    def test_sort_annotation(self):
        s = self.s
        s.ok("SELECT INBOX")
        s.ok('STORE 1 ANNOTATION (/altsubject (value.shared "beta"))')
        s.ok('STORE 2 ANNOTATION (/altsubject (value.shared "Alpha") /comment (value.priv "z"))')
        s.ok('STORE 3 ANNOTATION (/comment (value.priv "a"))')
        # No value sorts as "" (first); i;ascii-casemap; ties by arrival.
        self.assertEqual(s.ok("SORT (ANNOTATION /altsubject value.shared) UTF-8 ALL")[0],
                         "* SORT 3 2 1")
        self.assertEqual(s.ok("SORT (REVERSE ANNOTATION /altsubject value.shared) UTF-8 ALL")[0],
                         "* SORT 1 2 3")
        self.assertEqual(s.ok("UID SORT (ANNOTATION /comment value.priv ARRIVAL) UTF-8 ALL")[0],
                         "* SORT 1 3 2")
        lines = s.ok("SORT RETURN (UPDATE) (ANNOTATION /comment value.priv) UTF-8 ALL")
        self.assertTrue(lines[0].startswith('* NO [NOUPDATE "t'), lines)
        for bad in ("SORT (ANNOTATION /comment value) UTF-8 ALL",
                    "SORT (ANNOTATION /comment) UTF-8 ALL",
                    "SORT (ANNOTATION /c* value.priv) UTF-8 ALL"):
            self.assertEqual(status(s.do(bad)), "BAD", bad)

    def test_append_annotation(self):
        s = self.s
        tag = s.tag()
        s.send(f'{tag} APPEND INBOX (\\Seen) ANNOTATION (/comment (value.priv "on arrival"'
               f' value.shared {{4+}}\r\nboth) /altsubject (value.shared NIL))'
               f' {{{len(MSG)}+}}\r\n'.encode() + MSG + b"\r\n")
        self.assertIn("OK [APPENDUID", s.until_tagged(tag)[-1])
        s.ok("SELECT INBOX")
        self.assertEqual(s.ok("FETCH 4 (FLAGS ANNOTATION (* value))")[0],
                         '* 4 FETCH (FLAGS (\\Seen \\Recent) ANNOTATION (/comment'
                         ' (value.priv "on arrival" value.shared "both")))')
        big = "x" * 1025
        tag = s.tag()
        s.send(f'{tag} APPEND INBOX ANNOTATION (/comment (value.priv "{big}"))'
               f' {{{len(MSG)}+}}\r\n'.encode() + MSG + b"\r\n")
        self.assertIn("NO [ANNOTATE TOOBIG]", s.until_tagged(tag)[-1])
        tag = s.tag()
        s.send(f'{tag} APPEND INBOX ANNOTATION (/flags (value.priv "1"))'
               f' {{{len(MSG)}+}}\r\n'.encode() + MSG + b"\r\n")
        self.assertIn("NO [CANNOT]", s.until_tagged(tag)[-1])
        tag = s.tag()
        s.send(f'{tag} APPEND INBOX ANNOTATION (/comment (size.priv "1"))'
               f' {{{len(MSG)}+}}\r\n'.encode() + MSG + b"\r\n")
        self.assertIn(f"{tag} BAD", s.until_tagged(tag)[-1])
        self.assertIn("* 4 EXISTS", s.ok("NOOP") + s.ok("SELECT INBOX"))

    def test_append_shared_needs_n(self):
        o = self.s
        user, upw = new_account(self.server, f"{self._testMethodName[5:25]}.u@localhost")
        o.ok(f"SETACL Drafts {user} lri")
        u = self.session(user, upw)
        box = f'"Other Users/{self.addr}/Drafts"'
        for ann, want in (('/comment (value.shared "s")', "NO [NOPERM]"),
                          ('/comment (value.priv "p")', "OK [APPENDUID")):
            tag = u.tag()
            u.send(f"{tag} APPEND {box} ANNOTATION ({ann}) {{{len(MSG)}+}}\r\n".encode()
                   + MSG + b"\r\n")
            self.assertIn(want, u.until_tagged(tag)[-1], ann)
        u.ok(f"SELECT {box}")
        self.assertEqual(u.ok("FETCH 1:* (ANNOTATION (/comment value))")[0],
                         '* 1 FETCH (ANNOTATION (/comment (value.priv "p" value.shared NIL)))')
        o.ok("SELECT Drafts")
        self.assertEqual(o.ok("FETCH 1:* (ANNOTATION (/comment value))")[0],
                         '* 1 FETCH (ANNOTATION (/comment (value.priv NIL value.shared NIL)))')


class ImaplibTest(AnnotateBase):
    def test_imaplib_flow(self):
        c = imaplib.IMAP4_SSL("127.0.0.1", self.server.imaps_port,
                              ssl_context=__import__("harness").client_ssl_context())
        try:
            c.login(self.addr, self.pw)
            self.assertIn(b"ANNOTATE-EXPERIMENT-1", c.capability()[1][0].split())
            c.select("INBOX")
            typ, _ = c.uid("STORE", "3", "ANNOTATION", '(/comment (value.shared "from imaplib"))')
            self.assertEqual(typ, "OK")
            typ, data = c.uid("FETCH", "3", "(ANNOTATION (/comment value.shared))")
            self.assertEqual(typ, "OK")
            self.assertIn(b'ANNOTATION (/comment (value.shared "from imaplib"))', data[0])
        finally:
            c.logout()
