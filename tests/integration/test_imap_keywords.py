"""The IMAP keyword registry (RFC 5788) and $Important/\\Important (RFC
8457): the registered keywords are in FLAGS and PERMANENTFLAGS of every
mailbox, used or not, each once; \\Important is a special use CREATE (USE)
makes and LIST shows, also through METADATA /private/specialuse."""
from harness import ServerTestCase
from test_imap_mailbox import MSG, Session, new_account

REGISTERED = "$Forwarded $MDNSent $Junk $NotJunk $Phishing $Important"


class KeywordsTest(ServerTestCase):
    def setUp(self):
        self.addr, self.pw = new_account(self.server, f"{self._testMethodName[:40]}@localhost")
        self.s = Session(self.server, self.addr, self.pw)

    def tearDown(self):
        self.s.close()

    def test_registered_keywords_are_always_permanent(self):
        lines = self.s.ok("SELECT INBOX")
        self.assertIn(f"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft {REGISTERED})",
                      lines)
        self.assertIn(f"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft"
                      f" {REGISTERED} \\*)] Flags permitted", lines)
        self.s.append("INBOX", MSG)
        lines = self.s.ok("STORE 1 +FLAGS ($important $Label)")
        self.assertIn("* 1 FETCH (FLAGS (\\Recent $important $Label))", lines)
        # A used registered keyword is not listed twice; a new one follows.
        self.s.ok("SELECT INBOX")
        lines = self.s.ok("SELECT INBOX")
        flags = [l for l in lines if l.startswith("* FLAGS")][0]
        self.assertEqual(flags.lower().count("$important"), 1)
        self.assertTrue(flags.endswith(" $Label)"), flags)
        self.assertEqual(self.s.ok("SEARCH KEYWORD $Important")[0], "* SEARCH 1")
        lines = self.s.ok("EXAMINE INBOX")
        self.assertIn("* OK [PERMANENTFLAGS ()] Read-only mailbox", lines)

    def test_important_special_use(self):
        self.s.ok("CREATE Priority (USE (\\Important))")
        self.assertEqual(self.s.ok('LIST "" "Priority" RETURN (SPECIAL-USE)')[0],
                         '* LIST (\\HasNoChildren \\Important) "/" "Priority"')
        self.assertIn('* LIST (\\HasNoChildren \\Important) "/" "Priority"',
                      self.s.ok('LIST (SPECIAL-USE) "" "*"'))
        self.assertEqual(self.s.ok("GETMETADATA Priority /private/specialuse")[0],
                         '* METADATA "Priority" (/private/specialuse "\\\\Important")')
        self.assertIn("NO [USEATTR]", self.s.do("CREATE Other (USE (\\Unimportant))")[-1])
