"""test_imap_i18n.py: I18NLEVEL=2 and COMPARATOR (RFC 5255 section 4).

One mailbox of accented ("Émile", "émile", "Ésope"), German (ß/SS), Turkish
(dotted İ, dotless ı) and Cyrillic ("Привет"/"привет") subjects, sorted and
searched under each comparator: i;unicode-casemap (RFC 5051, the default),
i;ascii-casemap and i;octet. The wanted orders are worked out from the keys
of RFC 5051 section 2 (titlecase, then NFKD) and RFC 4790 9.2/9.3; see
tests/unit/test_lib_collation.c for the keys themselves.

Dovecot 2.3 is an I18NLEVEL=1 server with i;unicode-casemap: under the
default comparator tern must give the order and the matches it gives, and
DovecotAgreesTest checks that against Debian's dovecot-imapd when it is
installed (run as a PREAUTH imap process on a pipe; skipped otherwise).
Under i;ascii-casemap and i;octet level 2 must differ, and the tests assert
how.
"""
import base64
import glob
import os
import pwd
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest
from contextlib import closing

from harness import Raw, ServerTestCase

# Appended in this order: message n has SUBJECTS[n - 1].
SUBJECTS = ["apple", "Émile", "émile", "Ésope", "Emu", "Straße", "STRASSE", "İzmir",
            "izmir", "ızmir", "Привет", "привет", "Zebra", "Grüße"]

# SORT (SUBJECT), ties in mailbox order (RFC 5256 BASE.6.4.SORT).
ORDER = {
    # Accented letters right after their base letter (the combining mark
    # follows it in NFKD), so É sorts among the E's; ı and i are one letter;
    # İ is I + U+0307, after "IZ"; ß is itself, after "SS"; Cyrillic
    # case-insensitive. This is Dovecot 2.3's order too.
    "i;unicode-casemap": ["apple", "Emu", "Émile", "émile", "Ésope", "Grüße", "izmir", "ızmir",
                          "İzmir", "STRASSE", "Straße", "Zebra", "Привет", "привет"],
    # Only a-z fold: every non-ASCII letter sorts after "Zebra", by octets
    # (É C3 89 before é C3 A9), and Привет/привет differ.
    "i;ascii-casemap": ["apple", "Emu", "Grüße", "izmir", "STRASSE", "Straße", "Zebra", "Émile",
                        "Ésope", "émile", "İzmir", "ızmir", "Привет", "привет"],
    # Octets: upper case before lower case.
    "i;octet": ["Emu", "Grüße", "STRASSE", "Straße", "Zebra", "apple", "izmir", "Émile", "Ésope",
                "émile", "İzmir", "ızmir", "Привет", "привет"],
}

# SEARCH SUBJECT needle -> matches under each comparator (U, A, O).
SEARCHES = [
    ("émile", ["Émile", "émile"], ["émile"], ["émile"]),
    ("MILE", ["Émile", "émile"], ["Émile", "émile"], []),
    ("emile", [], [], []),                      # the accent is not ignored
    ("strasse", ["STRASSE"], ["STRASSE"], []),  # ß is not "ss" (no full folding)
    ("STRAßE", ["Straße"], ["Straße"], []),
    ("izmir", ["izmir", "ızmir"], ["izmir"], ["izmir"]),  # dotless ı ~ i, not İ
    ("İzmir", ["İzmir"], ["İzmir"], ["İzmir"]),
    ("zmir", ["İzmir", "izmir", "ızmir"], ["İzmir", "izmir", "ızmir"],
     ["İzmir", "izmir", "ızmir"]),
    ("ПРИВЕТ", ["Привет", "привет"], [], []),
    ("ри", ["Привет", "привет"], ["Привет", "привет"], ["Привет", "привет"]),  # short: scan
    # "gr" before "ü" is no index run: in the text "ü" is one letter, "u" +
    # U+0308 only in the key
    ("grüße", ["Grüße"], ["Grüße"], []),
    # RFC 5051 keys: "Grüße" is "GRU" U+0308 "ßE", so "Gru" is a substring
    # of it under i;unicode-casemap (Dovecot agrees), of no other
    ("Gru", ["Grüße"], [], []),
    ("GRÜSSE", [], [], []),
]
NAMES = ["i;unicode-casemap", "i;ascii-casemap", "i;octet"]


def message(i, subject):
    enc = "=?UTF-8?B?" + base64.b64encode(subject.encode()).decode() + "?="
    return (f"From: a@example.org\r\nSubject: {enc}\r\n"
            f"Date: Mon, 1 Jan 2024 00:00:{i:02d} +0000\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Text: {subject}.\r\n").encode()


def literal(s):
    b = s.encode()
    return b"{%d+}\r\n" % len(b) + b


class Client:
    """Raw-socket or pipe IMAP client: send(bytes), line() -> str."""

    def cmd(self, tag, data):
        if isinstance(data, str):
            data = data.encode()
        self.send(tag.encode() + b" " + data + b"\r\n")
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if line.startswith(tag + " "):
                return lines

    def fill(self):
        for i, s in enumerate(SUBJECTS):
            msg = message(i, s)
            self.send(b"a%d APPEND INBOX {%d+}\r\n" % (i, len(msg)) + msg + b"\r\n")
            while not self.line().startswith("a%d " % i):
                pass
        assert self.cmd("s", "SELECT INBOX")[-1].startswith("s OK")

    def sorted_subjects(self):
        lines = self.cmd("o", "SORT (SUBJECT) UTF-8 ALL")
        assert lines[-1].startswith("o OK"), lines
        return [SUBJECTS[int(n) - 1] for n in lines[0].split()[2:]]

    def search_subject(self, needle, key="SUBJECT"):
        lines = self.cmd("q", b"SEARCH CHARSET UTF-8 " + key.encode() + b" " + literal(needle))
        assert lines[-1].startswith("q OK"), lines
        found = [ln for ln in lines if ln.startswith("* SEARCH")][0]
        return sorted(SUBJECTS[int(n) - 1] for n in found.split()[2:])


class TernClient(Client):
    def __init__(self, port):
        self.raw = Raw(port)
        self.send = self.raw.send
        self.line = self.raw.line


def tern_login(server):
    c = TernClient(server.imap_port)
    c.line()
    lines = c.cmd("l", f"LOGIN {server.user} {server.password}")
    assert lines[-1].startswith("l OK"), lines
    return c


class I18nTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tern_login(cls.server).fill()

    def login_client(self):
        return tern_login(self.server)

    def selected(self):
        c = self.login_client()
        self.assertTrue(c.cmd("s", "SELECT INBOX")[-1].startswith("s OK"))
        return c

    def test_capability_after_login_only(self):
        c = TernClient(self.server.imap_port)
        self.assertNotIn("I18NLEVEL", c.line())
        self.assertNotIn("I18NLEVEL", c.cmd("c", "CAPABILITY")[0])
        self.assertTrue(c.cmd("x", "COMPARATOR")[-1].startswith("x BAD"))  # not yet
        lines = c.cmd("l", f"LOGIN {self.server.user} {self.server.password}")
        self.assertIn(" I18NLEVEL=2", lines[-1])
        self.assertNotIn("I18NLEVEL=1", lines[-1])

    def test_comparator_command(self):
        c = self.login_client()
        # 4.7: no arguments names the active one; the default is
        # i;unicode-casemap (4.4 SHOULD).
        self.assertEqual(c.cmd("a", "COMPARATOR"),
                         ["* COMPARATOR i;unicode-casemap", "a OK COMPARATOR completed"])
        self.assertEqual(c.cmd("b", "COMPARATOR i;octet"),
                         ["* COMPARATOR i;octet", "b OK COMPARATOR completed"])
        self.assertEqual(c.cmd("c", "COMPARATOR")[0], "* COMPARATOR i;octet")
        # The RFC's example: the first argument that matches wins.
        self.assertEqual(c.cmd("d", 'COMPARATOR "cz;*" i;ascii-casemap')[0],
                         "* COMPARATOR i;ascii-casemap")
        # 4.8: several matches are listed after the active one.
        self.assertEqual(c.cmd("e", 'COMPARATOR "i;*"')[0],
                         "* COMPARATOR i;unicode-casemap"
                         " (i;unicode-casemap i;ascii-casemap i;octet)")
        self.assertEqual(c.cmd("f", 'COMPARATOR "*casemap"')[0],
                         "* COMPARATOR i;unicode-casemap (i;unicode-casemap i;ascii-casemap)")
        c.cmd("g", "COMPARATOR i;octet")
        self.assertEqual(c.cmd("h", "COMPARATOR default")[0], "* COMPARATOR i;unicode-casemap")
        # 4.9: none matches: NO [BADCOMPARATOR], the active one stays.
        c.cmd("i", "COMPARATOR I;ASCII-CASEMAP")
        self.assertEqual(c.cmd("j", "COMPARATOR i;basic"),
                         ["j NO [BADCOMPARATOR] No matching comparator"])
        self.assertEqual(c.cmd("k", "COMPARATOR")[0], "* COMPARATOR i;ascii-casemap")
        # Not a collation-order, or not an astring: BAD.
        self.assertTrue(c.cmd("m", 'COMPARATOR "i octet"')[-1].startswith("m BAD"))
        self.assertTrue(c.cmd("n", "COMPARATOR (i;octet)")[-1].startswith("n BAD"))
        self.assertTrue(c.cmd("p", 'COMPARATOR ""')[-1].startswith("p BAD"))
        # Per session: another session still has the default.
        self.assertEqual(self.login_client().cmd("q", "COMPARATOR")[0],
                         "* COMPARATOR i;unicode-casemap")
        # UNAUTHENTICATE forgets it with the rest of the account's state.
        c.cmd("u", "UNAUTHENTICATE")
        c.cmd("l", f"LOGIN {self.server.user} {self.server.password}")
        self.assertEqual(c.cmd("r", "COMPARATOR")[0], "* COMPARATOR i;unicode-casemap")

    def test_sort_subject_under_each_comparator(self):
        c = self.selected()
        for name in NAMES:
            c.cmd("c", "COMPARATOR " + name)
            self.assertEqual(c.sorted_subjects(), ORDER[name], name)
        # Level 2 must differ from level 1 once another comparator is
        # chosen (4.4): the three orders are not the same.
        self.assertNotEqual(ORDER["i;unicode-casemap"], ORDER["i;ascii-casemap"])
        self.assertNotEqual(ORDER["i;ascii-casemap"], ORDER["i;octet"])

    def test_reverse_and_esort_follow_the_comparator(self):
        c = self.selected()
        c.cmd("c", "COMPARATOR i;octet")
        lines = c.cmd("o", "SORT (REVERSE SUBJECT) UTF-8 ALL")
        self.assertEqual([SUBJECTS[int(n) - 1] for n in lines[0].split()[2:]],
                         list(reversed(ORDER["i;octet"])))
        lines = c.cmd("m", "SORT RETURN (MIN) (SUBJECT) UTF-8 ALL")
        self.assertIn("MIN %d" % (SUBJECTS.index("Emu") + 1), lines[0])

    def test_search_subject_under_each_comparator(self):
        # Indexed, so the index's narrowing must not lose "ızmir" for "izmir".
        self.wait_indexed()
        c = self.selected()
        for i, name in enumerate(NAMES):
            c.cmd("c", "COMPARATOR " + name)
            for row in SEARCHES:
                self.assertEqual(c.search_subject(row[0]), sorted(row[1 + i]), (name, row[0]))

    def wait_indexed(self):
        """Until the background indexer has taken every text in (the
        store's fts_pending table is empty), at most 20 s."""
        dbs = glob.glob(os.path.join(self.server.dir, "**", "index.db"), recursive=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            pending = 0
            for path in dbs:
                with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
                    pending += db.execute("SELECT count(*) FROM fts_pending").fetchone()[0]
            if pending == 0:
                return
            time.sleep(0.2)
        self.fail("the indexer did not catch up")

    def test_body_text_and_header_keys_follow_the_comparator(self):
        # BODY and TEXT go through the full-text index (3+ characters; so
        # wait for it, the unindexed tail is scanned like short needles);
        # HEADER reads the raw field, RFC 2047 decoded.
        self.wait_indexed()
        c = self.selected()
        for key in ("BODY", "TEXT", "HEADER Subject"):
            for i, name in enumerate(NAMES):
                c.cmd("c", "COMPARATOR " + name)
                for row in SEARCHES:
                    want = row[1 + i]
                    if row[0] in ("izmir", "Gru") and i == 0:
                        # The known gaps (docs/IMAP.md, store/search.c):
                        # the index does not fold "ı" to "i", nor "ü" to
                        # "u", so an indexed ASCII needle misses "ızmir"
                        # and "Grüße" (SUBJECT does not: it narrows with
                        # allowance for both).
                        want = {"izmir": ["izmir"], "Gru": []}[row[0]]
                    self.assertEqual(c.search_subject(row[0], key), sorted(want),
                                     (key, name, row[0]))

    def test_thread_orderedsubject_follows_the_comparator(self):
        c = self.selected()
        c.cmd("c", "COMPARATOR default")
        threads = c.cmd("t", "THREAD ORDEREDSUBJECT UTF-8 ALL")[0]
        # Émile and émile (2, 3) are one base subject, and so are izmir and
        # ızmir (9, 10), Привет and привет (11, 12)...
        self.assertIn("(2 3)", threads)
        self.assertIn("(9 10)", threads)
        self.assertIn("(11 12)", threads)
        c.cmd("c", "COMPARATOR i;octet")
        threads = c.cmd("t", "THREAD ORDEREDSUBJECT UTF-8 ALL")[0]
        # ...but not under i;octet.
        self.assertNotIn("(2 3)", threads)
        self.assertNotIn("(11 12)", threads)
        self.assertEqual(threads.count("("), len(SUBJECTS))


class PipeClient(Client):
    def __init__(self, proc):
        self.proc = proc

    def send(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def line(self):
        line = self.proc.stdout.readline()
        if not line:
            raise EOFError("dovecot closed the pipe")
        return line.decode(errors="replace").rstrip("\r\n")


DOVECOT_IMAP = "/usr/lib/dovecot/imap"


@unittest.skipUnless(os.path.exists(DOVECOT_IMAP) and os.geteuid() == 0,
                     "Debian's dovecot-imapd is not installed (or not root to run it)")
class DovecotAgreesTest(ServerTestCase):
    """Dovecot 2.3 (I18NLEVEL=1, i;unicode-casemap) against tern's default
    comparator, on the same messages."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="tern-i18n-dovecot-")
        os.chmod(cls.tmp, 0o755)
        nobody = pwd.getpwnam("nobody")
        mail = os.path.join(cls.tmp, "mail")
        os.makedirs(mail)
        os.chown(mail, nobody.pw_uid, nobody.pw_gid)
        conf = os.path.join(cls.tmp, "dovecot.conf")
        with open(conf, "w") as f:
            f.write(f"mail_location = maildir:{mail}\nlog_path = {cls.tmp}/log\n"
                    f"base_dir = {cls.tmp}/run\nstate_dir = {cls.tmp}/state\nssl = no\n"
                    f"mail_uid = {nobody.pw_uid}\nmail_gid = {nobody.pw_gid}\n")
        for d in ("run", "state"):
            os.makedirs(os.path.join(cls.tmp, d))
        cls.dovecot = subprocess.Popen([DOVECOT_IMAP, "-c", conf], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                       env={"USER": "i18n", "HOME": cls.tmp})
        cls.dc = PipeClient(cls.dovecot)
        assert cls.dc.line().startswith("* PREAUTH")
        cls.dc.fill()
        cls.tc = tern_login(cls.server)
        cls.tc.fill()

    @classmethod
    def tearDownClass(cls):
        cls.dovecot.stdin.close()
        cls.dovecot.wait(timeout=30)
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def test_same_sort_order_as_dovecot(self):
        self.tc.cmd("c", "COMPARATOR default")
        theirs = self.dc.sorted_subjects()
        self.assertEqual(theirs, ORDER["i;unicode-casemap"])
        self.assertEqual(self.tc.sorted_subjects(), theirs)
        # Where level 2 must differ: after COMPARATOR, tern follows it and
        # Dovecot, which cannot change comparator, does not.
        for name in ("i;ascii-casemap", "i;octet"):
            self.tc.cmd("c", "COMPARATOR " + name)
            self.assertNotEqual(self.tc.sorted_subjects(), theirs, name)

    def test_same_search_matches_as_dovecot(self):
        self.tc.cmd("c", "COMPARATOR default")
        for row in SEARCHES:
            self.assertEqual(self.tc.search_subject(row[0]), self.dc.search_subject(row[0]),
                             row[0])


if __name__ == "__main__":
    unittest.main()
