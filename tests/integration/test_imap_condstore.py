"""CONDSTORE and QRESYNC (RFC 7162): ENABLE, SELECT (CONDSTORE) and
(QRESYNC ...), VANISHED (EARLIER) for SELECT and UID FETCH, the first
enabling command's HIGHESTMODSEQ, EXPUNGE's [HIGHESTMODSEQ] and UID in
every untagged FETCH once QRESYNC is on."""
import re

from harness import ServerTestCase
from test_imap_mailbox import MSG, Session, new_account


class CondstoreTest(ServerTestCase):
    def setUp(self):
        self.addr, self.pw = new_account(self.server, f"{self._testMethodName[:40]}@localhost")
        self.s = Session(self.server, self.addr, self.pw)
        for _ in range(5):
            self.s.append("INBOX", MSG)

    def tearDown(self):
        self.s.close()

    def state(self):
        lines = self.s.ok("STATUS INBOX (UIDVALIDITY HIGHESTMODSEQ)")
        m = re.search(r"UIDVALIDITY (\d+) HIGHESTMODSEQ (\d+)", lines[0])
        return int(m.group(1)), int(m.group(2))

    def change_elsewhere(self):
        """Another session flags uid 2 and expunges uid 3."""
        o = Session(self.server, self.addr, self.pw)
        o.ok("SELECT INBOX")
        o.ok("UID STORE 2 +FLAGS.SILENT (\\Flagged)")
        o.ok("UID STORE 3 +FLAGS.SILENT (\\Deleted)")
        o.ok("UID EXPUNGE 3")
        o.close()

    def test_enable_and_capability(self):
        self.assertIn("CONDSTORE QRESYNC", self.s.ok("CAPABILITY")[0])
        self.assertEqual(self.s.ok("ENABLE QRESYNC")[0], "* ENABLED QRESYNC")
        self.assertEqual(self.s.ok("ENABLE CONDSTORE")[0], "* ENABLED CONDSTORE")

    def test_select_qresync_reports_changes_since(self):
        uv, modseq = self.state()
        self.change_elsewhere()
        bad = self.s.do(f"SELECT INBOX (QRESYNC ({uv} {modseq}))")
        self.assertIn("BAD", bad[-1])  # QRESYNC not enabled yet
        self.s.ok("ENABLE QRESYNC")
        lines = self.s.ok(f"SELECT INBOX (QRESYNC ({uv} {modseq} 1:5 (1:3 1:3)))")
        self.assertIn("* VANISHED (EARLIER) 3", lines)
        fetches = [l for l in lines if " FETCH " in l]
        self.assertEqual(len(fetches), 1, lines)
        self.assertRegex(fetches[0], r"^\* 2 FETCH \(UID 2 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$")
        self.assertTrue(lines[-1].endswith("OK [READ-WRITE] SELECT completed"))
        # VANISHED comes before the FETCH.
        self.assertLess(lines.index("* VANISHED (EARLIER) 3"), lines.index(fetches[0]))
        # known-uids limit the report; a wrong UIDVALIDITY reports nothing.
        lines = self.s.ok(f"SELECT INBOX (QRESYNC ({uv} {modseq} 4:5))")
        self.assertFalse([l for l in lines if "VANISHED" in l or " FETCH " in l], lines)
        lines = self.s.ok(f"EXAMINE INBOX (QRESYNC ({uv + 1} {modseq}))")
        self.assertFalse([l for l in lines if "VANISHED" in l or " FETCH " in l], lines)
        for bad in ("(QRESYNC)", f"(QRESYNC ({uv}))", f"(QRESYNC ({uv} {modseq} 1:*))",
                    f"(QRESYNC ({uv} x))", "(FOO)"):
            self.assertIn("BAD", self.s.do(f"SELECT INBOX {bad}")[-1], bad)

    def test_uid_fetch_vanished(self):
        uv, modseq = self.state()
        self.s.ok("ENABLE QRESYNC")
        self.s.ok("SELECT INBOX")
        self.change_elsewhere()
        lines = self.s.ok(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {modseq} VANISHED)")
        self.assertEqual(lines[0], "* VANISHED (EARLIER) 3")
        self.assertRegex(lines[1],
                         r"^\* 2 FETCH \(UID 2 FLAGS \(\\Flagged \\Recent\) MODSEQ \(\d+\)\)$")
        # The untold expunge follows as a plain VANISHED (a UID command may).
        self.assertIn("* VANISHED 3", lines)
        self.assertIn("BAD", self.s.do(f"FETCH 1:* (FLAGS) (CHANGEDSINCE {modseq} VANISHED)")[-1])
        self.assertIn("BAD", self.s.do("UID FETCH 1:* (FLAGS) (VANISHED)")[-1])

    def test_vanished_needs_qresync(self):
        self.s.ok("SELECT INBOX")
        self.assertIn("BAD", self.s.do("UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")[-1])

    def test_first_enabling_command_sends_highestmodseq(self):
        self.s.ok("SELECT INBOX")
        lines = self.s.ok("FETCH 1 (MODSEQ)")
        self.assertRegex(lines[0], r"^\* OK \[HIGHESTMODSEQ \d+\]")
        lines = self.s.ok("FETCH 1 (MODSEQ)")
        self.assertFalse(any("HIGHESTMODSEQ" in l for l in lines[:-1]), lines)

    def test_expunge_and_store_with_qresync(self):
        self.s.ok("ENABLE QRESYNC")
        self.s.ok("SELECT INBOX")
        lines = self.s.ok("STORE 4 +FLAGS (\\Deleted)")
        self.assertRegex(lines[0],
                         r"^\* 4 FETCH \(UID 4 FLAGS \(\\Deleted \\Recent\) MODSEQ \(\d+\)\)$")
        lines = self.s.ok("EXPUNGE")
        self.assertEqual(lines[0], "* VANISHED 4")
        self.assertRegex(lines[-1], r"OK \[HIGHESTMODSEQ \d+\] EXPUNGE completed$")
        _, modseq = self.state()
        self.assertIn(f"[HIGHESTMODSEQ {modseq}]", lines[-1])
