"""STORE, COPY and MOVE (RFC 9051 6.4.6-6.4.9, RFC 7162 UNCHANGEDSINCE,
RFC 4315 COPYUID, RFC 6851 MOVE), and how other sessions see them."""
import re

from harness import ServerTestCase
from test_imap_fetch import Conn, connect

MSG = b"Subject: s\r\nFrom: a@b\r\n\r\nbody\r\n"


def login(server):
    c = Conn(server.imap_port)
    c.line()
    c.cmd("l", f"LOGIN {server.user} {server.password}")
    return c


def uidvalidity(c, name):
    line = c.cmd("st", f"STATUS {name} (UIDVALIDITY)")[0]
    return int(re.search(r"UIDVALIDITY (\d+)", line).group(1))


class StoreTest(ServerTestCase):
    def test_flags_plus_minus_and_keywords(self):
        c, _ = connect(self.server, messages=[MSG, MSG, MSG])
        # A new keyword is announced first (RFC 9051 7.3.5).
        lines = c.cmd("a", "STORE 1:2 +FLAGS (\\Flagged $Label1)")
        self.assertRegex(lines.pop(0), r"^\* FLAGS \(\\Answered .*\$Label1\)$")
        self.assertRegex(lines.pop(0), r"^\* OK \[PERMANENTFLAGS \(.*\$Label1 \\\*\)\]")
        self.assertEqual(lines, [
            "* 1 FETCH (FLAGS (\\Flagged \\Recent $Label1))",
            "* 2 FETCH (FLAGS (\\Flagged \\Recent $Label1))",
            "a OK STORE completed"])
        self.assertEqual(c.cmd("b", "STORE 2 -FLAGS $label1"), [
            "* 2 FETCH (FLAGS (\\Flagged \\Recent))", "b OK STORE completed"])
        self.assertEqual(c.cmd("c", "STORE 3 FLAGS (\\Seen \\Answered)"), [
            "* 3 FETCH (FLAGS (\\Answered \\Seen \\Recent))", "c OK STORE completed"])
        # Flags without parentheses, several atoms.
        self.assertEqual(c.cmd("d", "STORE 3 FLAGS \\Draft \\Deleted"), [
            "* 3 FETCH (FLAGS (\\Deleted \\Draft \\Recent))", "d OK STORE completed"])
        self.assertEqual(c.cmd("e", "STORE 3 FLAGS ()"), [
            "* 3 FETCH (FLAGS (\\Recent))", "e OK STORE completed"])
        self.assertEqual(c.cmd("f", "FETCH 1 FLAGS")[0],
                         "* 1 FETCH (FLAGS (\\Flagged \\Recent $Label1))")
        c.close()

    def test_silent_and_uid_store(self):
        c, _ = connect(self.server, messages=[MSG, MSG])
        self.assertEqual(c.cmd("a", "STORE 1 +FLAGS.SILENT (\\Seen)"), ["a OK STORE completed"])
        self.assertEqual(c.cmd("b", "UID STORE 2 +FLAGS (\\Seen)"), [
            "* 2 FETCH (UID 2 FLAGS (\\Seen \\Recent))", "b OK UID STORE completed"])
        self.assertEqual(c.cmd("c", "UID STORE 1:2 -FLAGS.SILENT (\\Seen)"),
                         ["c OK UID STORE completed"])
        self.assertEqual(c.cmd("d", "UID STORE 7 +FLAGS (\\Seen)"), ["d OK UID STORE completed"])
        c.close()

    def test_errors(self):
        c, _ = connect(self.server, messages=[MSG])
        self.assertTrue(c.cmd("a", "STORE 2 +FLAGS (\\Seen)")[-1].startswith("a BAD"))
        self.assertTrue(c.cmd("b", "STORE 1 +FLAGS (\\Recent)")[-1].startswith("b BAD"))
        self.assertTrue(c.cmd("c", "STORE 1 FLAGZ (\\Seen)")[-1].startswith("c BAD"))
        self.assertTrue(c.cmd("d", "STORE 1 +FLAGS")[-1].startswith("d BAD"))
        c.close()

    def test_read_only_is_no(self):
        c, name = connect(self.server, messages=[MSG])
        c.close()
        c, _ = connect(self.server, mailbox=name, examine=True)
        self.assertTrue(c.cmd("a", "STORE 1 +FLAGS (\\Seen)")[-1].startswith("a NO "))
        self.assertEqual(c.cmd("b", "FETCH 1 FLAGS")[0], "* 1 FETCH (FLAGS ())")
        c.close()

    def test_unchangedsince(self):
        c, _ = connect(self.server, messages=[MSG, MSG, MSG])
        ms = [int(m) for m in re.findall(r"MODSEQ \((\d+)\)",
                                         " ".join(c.cmd("a", "FETCH 1:3 MODSEQ")))]
        c.cmd("b", "STORE 2 +FLAGS.SILENT (\\Answered)")  # 2 moves past ms
        lines = c.cmd("c", f"STORE 1:3 (UNCHANGEDSINCE {max(ms)}) +FLAGS.SILENT (\\Flagged)")
        self.assertEqual(len(lines), 3, lines)
        # .SILENT still reports MODSEQ of the changed ones (RFC 7162 3.1.3).
        self.assertRegex(lines[0], r"^\* 1 FETCH \(MODSEQ \(\d+\)\)$")
        self.assertRegex(lines[1], r"^\* 3 FETCH \(MODSEQ \(\d+\)\)$")
        self.assertEqual(lines[2], "c OK [MODIFIED 2] Conditional STORE failed")
        lines = c.cmd("d", "UID STORE 1:3 (UNCHANGEDSINCE 0) +FLAGS (\\Seen)")
        self.assertEqual(lines, ["d OK [MODIFIED 1:3] Conditional STORE failed"])
        lines = c.cmd("e", "UID STORE 2 (UNCHANGEDSINCE 99999999) +FLAGS (\\Seen)")
        self.assertRegex(lines[0], r"^\* 2 FETCH \(UID 2 FLAGS \(\\Answered \\Seen \\Recent\) "
                         r"MODSEQ \(\d+\)\)$")
        self.assertTrue(c.cmd("f", "STORE 1 (UNCHANGEDSINCE x) +FLAGS (\\Seen)")[-1]
                        .startswith("f BAD"))
        c.close()

    def test_other_session_sees_store_on_noop(self):
        a, name = connect(self.server, messages=[MSG, MSG])
        b, _ = connect(self.server, mailbox=name)
        a.cmd("a", "STORE 2 +FLAGS.SILENT (\\Flagged $Work)")
        # $Work is new to b: FLAGS and PERMANENTFLAGS name it first.
        lines = b.cmd("n", "NOOP")
        self.assertRegex(lines[0], r"^\* FLAGS \(\\Answered .*\$Work\)$")
        self.assertRegex(lines[1], r"^\* OK \[PERMANENTFLAGS \(.*\$Work \\\*\)\]")
        self.assertEqual(lines[2:], ["* 2 FETCH (FLAGS (\\Flagged $Work))", "n OK NOOP completed"])
        a.close()
        b.close()


class CopyMoveTest(ServerTestCase):
    def test_copy_with_copyuid(self):
        c, name = connect(self.server, messages=[MSG, MSG, MSG])
        c.cmd("x", "CREATE dest1")
        c.cmd("y", "STORE 2 +FLAGS.SILENT (\\Flagged)")
        uv = uidvalidity(c, "dest1")
        self.assertEqual(c.cmd("a", "COPY 2:3 dest1"),
                         [f"a OK [COPYUID {uv} 2:3 1:2] COPY completed"])
        self.assertEqual(c.cmd("b", "UID COPY 1,3 dest1"),
                         [f"b OK [COPYUID {uv} 1,3 3:4] UID COPY completed"])
        self.assertEqual(c.cmd("c", "UID COPY 9 dest1"), ["c OK UID COPY completed"])
        self.assertEqual(c.cmd("d", "COPY 1 nosuch"), ["d NO [TRYCREATE] Mailbox does not exist"])
        self.assertEqual(c.cmd("e", "UID COPY 9 nosuch"),
                         ["e NO [TRYCREATE] Mailbox does not exist"])
        self.assertTrue(c.cmd("f", "COPY 4 dest1")[-1].startswith("f BAD"))
        # Flags travel with the copy.
        c.cmd("g", "SELECT dest1")
        self.assertEqual(c.cmd("h", "FETCH 1 FLAGS")[0], "* 1 FETCH (FLAGS (\\Flagged \\Recent))")
        c.close()

    def test_move_order_and_other_session(self):
        a, name = connect(self.server, messages=[MSG, MSG, MSG])
        b, _ = connect(self.server, mailbox=name)
        a.cmd("x", "CREATE dest2")
        uv = uidvalidity(a, "dest2")
        # RFC 6851 4.3: untagged COPYUID, then EXPUNGEs, then tagged OK.
        self.assertEqual(a.cmd("a", "MOVE 2:3 dest2"), [
            f"* OK [COPYUID {uv} 2:3 1:2] Moved", "* 3 EXPUNGE", "* 2 EXPUNGE",
            "a OK MOVE completed"])
        self.assertEqual(a.cmd("b", "UID MOVE 1 dest2"), [
            f"* OK [COPYUID {uv} 1 3] Moved", "* 1 EXPUNGE", "b OK UID MOVE completed"])
        self.assertEqual(b.cmd("n", "NOOP"), ["* 3 EXPUNGE", "* 2 EXPUNGE", "* 1 EXPUNGE",
                                              "n OK NOOP completed"])
        self.assertEqual(a.cmd("c", "STATUS dest2 (MESSAGES)")[0], '* STATUS "dest2" (MESSAGES 3)')
        self.assertEqual(a.cmd("d", "UID MOVE 1 nosuch"),
                         ["d NO [TRYCREATE] Mailbox does not exist"])
        a.close()
        b.close()

    def test_move_from_read_only_is_no(self):
        c, name = connect(self.server, messages=[MSG])
        c.close()
        c, _ = connect(self.server, mailbox=name, examine=True)
        self.assertTrue(c.cmd("a", "MOVE 1 INBOX")[-1].startswith("a NO "))
        c.close()
