"""ESORT, CONTEXT=SEARCH, CONTEXT=SORT (RFC 5267) and PARTIAL (RFC 9394):
SORT RETURN, PARTIAL windows from both ends, UPDATE contexts that report
later changes as ADDTO/REMOVEFROM (for SORT with positions), CANCELUPDATE,
NOUPDATE and tag reuse."""
import re
import time

from harness import ServerTestCase
from test_imap_mailbox import Session, new_account


def msg(subject, size=0):
    return f"From: a@example.org\r\nSubject: {subject}\r\n\r\n{'x' * size}body\r\n".encode()


class ContextTest(ServerTestCase):
    def setUp(self):
        self.addr, self.pw = new_account(self.server, f"{self._testMethodName[:40]}@localhost")
        self.s = Session(self.server, self.addr, self.pw)
        # Subjects sort c, a, e, b, d -> order 2 4 1 5 3; sizes ascend with uid.
        for i, subj in enumerate(["c", "a", "e", "b", "d"]):
            self.s.append("INBOX", msg(subj, i * 10))
        self.s.ok("SELECT INBOX")

    def tearDown(self):
        self.s.close()

    def esearch(self, text):
        lines = self.s.ok(text)
        found = [l for l in lines if l.startswith("* ESEARCH")]
        self.assertEqual(len(found), 1, lines)
        return re.sub(r'^\* ESEARCH \(TAG "[^"]*"\) ?', "", found[0])

    def test_capabilities(self):
        caps = self.s.ok("CAPABILITY")[0]
        for c in ("ESORT", "CONTEXT=SEARCH", "CONTEXT=SORT", "PARTIAL"):
            self.assertIn(f" {c}", caps)

    def test_esort(self):
        self.assertEqual(self.esearch("SORT RETURN (MIN MAX COUNT) (SUBJECT) UTF-8 ALL"),
                         "MIN 2 MAX 3 COUNT 5")
        # In sort order; ranges only where numbers ascend (RFC 5267 3.2).
        self.assertEqual(self.esearch("SORT RETURN () (SUBJECT) UTF-8 ALL"), "ALL 2,4,1,5,3")
        self.assertEqual(self.esearch("SORT RETURN (ALL) (SIZE) UTF-8 ALL"), "ALL 1:5")
        self.assertEqual(self.esearch("UID SORT RETURN (ALL) (REVERSE SIZE) UTF-8 2:4"),
                         "UID ALL 4,3,2")
        self.assertIn("BAD", self.s.do("SORT RETURN (BOGUS) (SIZE) UTF-8 ALL")[-1])

    def test_partial(self):
        self.assertEqual(self.esearch("SEARCH RETURN (PARTIAL 2:3) ALL"), "PARTIAL (2:3 2:3)")
        self.assertEqual(self.esearch("SEARCH RETURN (PARTIAL 4:9) ALL"), "PARTIAL (4:9 4:5)")
        self.assertEqual(self.esearch("SEARCH RETURN (PARTIAL 6:9) ALL"), "PARTIAL (6:9 NIL)")
        # RFC 9394: negative ranges count from the last result.
        self.assertEqual(self.esearch("SEARCH RETURN (PARTIAL -1:-2) ALL"),
                         "PARTIAL (-1:-2 4:5)")
        self.assertEqual(self.esearch("SORT RETURN (PARTIAL 1:2) (SUBJECT) UTF-8 ALL"),
                         "PARTIAL (1:2 2,4)")
        self.assertEqual(self.esearch("SORT RETURN (PARTIAL -2:-1) (SUBJECT) UTF-8 ALL"),
                         "PARTIAL (-1:-2 5,3)")
        self.assertEqual(self.esearch("SEARCH RETURN (PARTIAL 1:2 COUNT) ALL"),
                         "COUNT 5 PARTIAL (1:2 1:2)")
        for bad in ("PARTIAL 1", "PARTIAL 1:*", "PARTIAL 0:1", "PARTIAL 1:2 ALL"):
            self.assertIn("BAD", self.s.do(f"SEARCH RETURN ({bad}) ALL")[-1], bad)
        # SAVE with PARTIAL keeps the window.
        self.s.ok("SEARCH RETURN (SAVE PARTIAL 2:3) ALL")
        self.assertEqual(self.esearch("SEARCH RETURN (ALL) $"), "ALL 2:3")

    def test_search_update(self):
        self.assertEqual(self.esearch("SEARCH RETURN (UPDATE) SEEN"), "")
        tag = f"t{self.s.n}"
        lines = self.s.ok("STORE 2,4 +FLAGS (\\Seen)")
        self.assertIn(f'* ESEARCH (TAG "{tag}") ADDTO (0 2,4)', lines)
        lines = self.s.ok("STORE 2 -FLAGS (\\Seen)")
        self.assertIn(f'* ESEARCH (TAG "{tag}") REMOVEFROM (0 2)', lines)
        # An expunged member: REMOVEFROM first, numbered as before the EXPUNGE.
        self.s.ok("STORE 4 +FLAGS.SILENT (\\Deleted)")
        lines = self.s.ok("EXPUNGE")
        self.assertEqual(lines[:2], [f'* ESEARCH (TAG "{tag}") REMOVEFROM (0 4)', "* 4 EXPUNGE"])
        # Another session's append, pushed during IDLE after its EXISTS.
        self.s.ok("STORE 1 +FLAGS.SILENT (\\Seen)")
        other = Session(self.server, self.addr, self.pw)
        itag = self.s.tag()
        self.s.send(f"{itag} IDLE\r\n")
        self.assertEqual(self.s.line(), "+ idling")
        other.append("INBOX", msg("new"), flags="\\Seen")
        got = [self.s.line() for _ in range(3)]
        self.assertEqual([got[0], got[2]], ["* 5 EXISTS", f'* ESEARCH (TAG "{tag}") ADDTO (0 5)'])
        self.s.send("DONE\r\n")
        self.s.until_tagged(itag)
        other.close()
        # A UID context sends UIDs; CANCELUPDATE ends both.
        self.assertEqual(self.esearch("UID SEARCH RETURN (UPDATE COUNT) UNSEEN"), "UID COUNT 3")
        utag = f"t{self.s.n}"
        lines = self.s.ok("STORE 2 +FLAGS (\\Seen)")
        self.assertIn(f'* ESEARCH (TAG "{utag}") UID REMOVEFROM (0 2)', lines)
        self.s.ok(f'CANCELUPDATE "{tag}" "{utag}"')
        lines = self.s.ok("STORE 1:* -FLAGS (\\Seen)")
        self.assertFalse([l for l in lines if "ESEARCH" in l], lines)
        self.assertIn("BAD", self.s.do(f'CANCELUPDATE "{tag}"')[-1])

    def test_sort_update_positions(self):
        # Sorted by subject: c(1) a(2) e(3) b(4) d(5) -> 2 4 1 5 3
        self.assertEqual(self.esearch("SORT RETURN (UPDATE ALL) (SUBJECT) UTF-8 UNSEEN"),
                         "ALL 2,4,1,5,3")
        tag = f"t{self.s.n}"
        # b and e go (positions 2 and 5): two removals, each at its position.
        lines = self.s.ok("STORE 4,3 +FLAGS (\\Seen)")
        self.assertIn(f'* ESEARCH (TAG "{tag}") REMOVEFROM (2 4 4 3)', lines)
        # They come back where they belong in 2,1,5.
        lines = self.s.ok("STORE 3:4 -FLAGS (\\Seen)")
        self.assertIn(f'* ESEARCH (TAG "{tag}") ADDTO (2 4 5 3)', lines)

    def test_tag_reuse_and_context_limit(self):
        self.s.cmd("same", "SEARCH RETURN (UPDATE) ALL")
        self.assertIn("BAD", self.s.cmd("same", "SEARCH RETURN (UPDATE) ALL")[-1])
        for i in range(7):
            self.s.cmd(f"c{i}", "SEARCH RETURN (UPDATE) ALL")
        lines = self.s.cmd("over", "SEARCH RETURN (UPDATE COUNT) ALL")
        self.assertIn('* NO [NOUPDATE "over"] Too many contexts', lines)
        self.assertTrue(lines[-1].startswith("over OK"))
        # Contexts end with the selection.
        self.s.ok("UNSELECT")
        self.s.ok("SELECT INBOX")
        lines = self.s.ok("STORE 1 +FLAGS (\\Seen)")
        self.assertFalse([l for l in lines if "ESEARCH" in l], lines)
