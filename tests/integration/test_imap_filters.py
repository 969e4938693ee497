"""FILTERS (RFC 5466): named searches stored as server METADATA entries
/private/filters/values/<name> (or /shared/...), used by SEARCH, UID
SEARCH, ESEARCH, SORT and THREAD as FILTER <name>; descriptions beside
them; NO [UNDEFINED-FILTER] for a missing, broken or too deep filter; BAD
[BADCHARSET] for FILTER with a CHARSET other than UTF-8."""
from harness import ServerTestCase
from test_imap_mailbox import Session, new_account

BOSS = b"From: boss@example.com\r\nSubject: plan\r\n\r\n" + b"x" * 6000 + b"\r\n"
SMALL = b"From: friend@example.org\r\nSubject: hi\r\n\r\nhello\r\n"
BIG = b"From: friend@example.org\r\nSubject: big\r\n\r\n" + b"y" * 6000 + b"\r\n"


class FiltersTest(ServerTestCase):
    CONFIG = "[auth]\nfail_delay = 100ms\nmaster_users = boss@localhost\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from harness import tern
        new_account(cls.server, "boss@localhost")
        tern("user", "set", "boss@localhost", "role=admin", data_dir=cls.server.dir)

    def setUp(self):
        self.addr, self.pw = new_account(self.server, f"{self._testMethodName[:40]}@localhost")
        self.s = Session(self.server, self.addr, self.pw)
        for m in (BOSS, SMALL, BIG):
            self.s.append("INBOX", m)
        self.s.ok("SELECT INBOX")

    def tearDown(self):
        self.s.close()

    def test_capability(self):
        self.assertIn("FILTERS", self.s.ok("CAPABILITY")[0].split())

    def test_rfc_example(self):
        self.s.ok('SETMETADATA "" ("/private/filters/values/on-the-road"'
                  ' "OR SMALLER 5000 FROM \\"boss@example.com\\"")')
        self.s.ok('SETMETADATA "" (/private/filters/descriptions/on-the-road'
                  ' "Small or from the boss")')
        self.assertEqual(self.s.ok("SEARCH FILTER on-the-road")[0], "* SEARCH 1 2")
        self.assertEqual(self.s.ok('UID SEARCH UID 2:900 FILTER on-the-road SINCE "3-Dec-2002"')[0],
                         "* SEARCH 2")
        self.assertEqual(self.s.ok("SEARCH RETURN (COUNT) FILTER On-The-Road")[0],
                         '* ESEARCH (TAG "t%d") COUNT 2' % self.s.n)
        self.assertEqual(self.s.ok("SORT (SIZE) UTF-8 FILTER on-the-road")[0], "* SORT 2 1")
        self.assertEqual(self.s.ok("THREAD ORDEREDSUBJECT UTF-8 NOT FILTER on-the-road")[0],
                         "* THREAD (3)")
        lines = self.s.ok('GETMETADATA "" (DEPTH 1) (/private/filters/descriptions)')
        self.assertIn('/private/filters/descriptions/on-the-road "Small or from the boss"',
                      lines[0])

    def test_private_before_shared_and_nested(self):
        # The administrator provisions a shared filter for the account.
        admin = Session(self.server, f"{self.addr}*boss@localhost", "pw-boss@localhost")
        admin.ok('SETMETADATA "" (/shared/filters/values/mine "FROM friend"'
                 ' /shared/filters/values/big "SMALLER 10")')
        self.assertIn("NO [NOPERM]", admin.do('SETMETADATA "" (/shared/admin "x")')[-1])
        admin.close()
        self.assertIn("NO [NOPERM]", self.s.do('SETMETADATA "" (/shared/x/y "x")')[-1])
        self.assertEqual(self.s.ok("SEARCH FILTER mine")[0], "* SEARCH 2 3")
        self.s.ok('SETMETADATA "" (/private/filters/values/big "LARGER 5000"'
                  ' /private/filters/values/big-boss "FILTER big FROM boss"'
                  ' /private/filters/values/l1 "FILTER big-boss"'
                  ' /private/filters/values/l2 "FILTER l1")')
        self.assertEqual(self.s.ok("SEARCH FILTER big-boss")[0], "* SEARCH 1")
        self.assertEqual(self.s.ok("SEARCH FILTER l1")[0], "* SEARCH 1")
        # l2 -> l1 -> big-boss -> big: a fourth pass, so undefined (3.1).
        self.assertIn("NO [UNDEFINED-FILTER l2]", self.s.do("SEARCH FILTER l2")[-1])

    def test_errors(self):
        self.assertIn("NO [UNDEFINED-FILTER nosuch]", self.s.do("SEARCH FILTER nosuch")[-1])
        self.s.ok('SETMETADATA "" (/private/filters/values/half "OR SMALLER"'
                  ' /private/filters/values/self "FILTER self")')
        self.assertIn("NO [UNDEFINED-FILTER half]", self.s.do("SEARCH FILTER half")[-1])
        self.assertIn("NO [UNDEFINED-FILTER self]", self.s.do("SEARCH FILTER self")[-1])
        self.assertIn("NO [UNDEFINED-FILTER nosuch]",
                      self.s.do("SORT (ARRIVAL) UTF-8 FILTER nosuch")[-1])
        lines = self.s.do("SEARCH CHARSET ISO-8859-1 FILTER half")
        self.assertRegex(lines[-1], r"^t\d+ BAD \[BADCHARSET")
        self.assertIn(" BAD ", self.s.do("SEARCH FILTER")[-1])
        # A failed SEARCH ... SAVE empties $ (RFC 5182 2.1).
        self.s.ok("SEARCH RETURN (SAVE) ALL")
        self.s.do("SEARCH RETURN (SAVE) FILTER nosuch")
        self.assertEqual(self.s.ok("SEARCH $")[0], "* SEARCH")
        # Deleting the entry deletes the filter.
        self.s.ok('SETMETADATA "" (/private/filters/values/x "SEEN")')
        self.s.ok("SEARCH FILTER x")
        self.s.ok('SETMETADATA "" (/private/filters/values/x NIL)')
        self.assertIn("NO [UNDEFINED-FILTER x]", self.s.do("SEARCH FILTER x")[-1])
