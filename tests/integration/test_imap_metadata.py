"""METADATA and METADATA-SERVER (RFC 5464): the RFC's examples, MAXSIZE
and DEPTH, the limits from tern.conf (MAXSIZE, TOOMANY, NOPRIVATE), the
server's /shared/admin, /private/specialuse tied to the special-use
attributes (RFC 6154 section 4), entries moved by RENAME, copied by an
INBOX rename and gone with DELETE, literals and literal8 values, and the
syntax errors (BAD) of section 3.2."""
from harness import ServerTestCase, TernServer
from test_imap_mailbox import Session, new_account


class MetadataTest(ServerTestCase):
    CONFIG = ("[imap]\nmetadata_max_size = 2k\nmetadata_max_entries = 12\n"
              "metadata_admin = mailto:postmaster@example.org\n")

    def setUp(self):
        self.addr, self.pw = new_account(self.server, f"{self._testMethodName[:40]}@localhost")
        self.s = Session(self.server, self.addr, self.pw)

    def tearDown(self):
        self.s.close()

    def test_capabilities(self):
        caps = self.s.ok("CAPABILITY")[0].split()
        self.assertIn("METADATA", caps)
        self.assertIn("METADATA-SERVER", caps)

    def test_rfc_examples(self):
        self.s.ok('SETMETADATA INBOX (/private/comment "My new comment"'
                  ' /shared/comment "This one is for you!")')
        self.assertEqual(self.s.ok('GETMETADATA "INBOX" /private/comment')[0],
                         '* METADATA "INBOX" (/private/comment "My new comment")')
        self.assertEqual(self.s.ok('GETMETADATA "INBOX" (/shared/comment /private/comment)')[0],
                         '* METADATA "INBOX" (/shared/comment "This one is for you!"'
                         ' /private/comment "My new comment")')
        # Several bare entries, as 4.4.1 shows; names are case-insensitive.
        self.assertEqual(self.s.ok('GETMETADATA INBOX /PRIVATE/Comment /shared/comment')[0],
                         '* METADATA "INBOX" (/private/comment "My new comment"'
                         ' /shared/comment "This one is for you!")')
        # A multi-line literal (4.3).
        self.s.send('t90 SETMETADATA INBOX (/private/comment {33}\r\n')
        self.assertTrue(self.s.line().startswith("+ "))
        self.s.send("My new comment across\r\ntwo lines.)\r\n")
        self.assertIn("t90 OK", self.s.until_tagged("t90")[-1])
        lines = self.s.ok('GETMETADATA INBOX /private/comment')
        self.assertEqual(lines[0], '* METADATA "INBOX" (/private/comment {33}')
        self.assertEqual(lines[1:3], ["My new comment across", "two lines.)"])
        # NIL removes; an entry without a value answers NIL.
        self.s.ok("SETMETADATA INBOX (/private/comment NIL)")
        self.assertEqual(self.s.ok('GETMETADATA INBOX /private/comment')[0],
                         '* METADATA "INBOX" (/private/comment NIL)')

    def test_maxsize_and_depth(self):
        big = "x" * 1500
        self.s.ok(f'SETMETADATA INBOX (/shared/comment "{big}" /private/comment "short")')
        lines = self.s.ok('GETMETADATA "INBOX" (MAXSIZE 1024) (/shared/comment /private/comment)')
        self.assertEqual(lines[0], '* METADATA "INBOX" (/private/comment "short")')
        self.assertIn("OK [METADATA LONGENTRIES 1500]", lines[-1])
        # Options before the mailbox, as the ABNF has them.
        lines = self.s.ok('GETMETADATA (MAXSIZE 1024) INBOX /shared/comment')
        self.assertEqual(lines[0], '* METADATA "INBOX" ()')
        self.s.ok('SETMETADATA INBOX (/private/filters/values/small "SMALLER 5000"'
                  ' /private/filters/values/boss "FROM \\"boss@example.com\\""'
                  ' /private/filters/values/boss/deeper "x")')
        lines = self.s.ok('GETMETADATA "INBOX" (DEPTH 1) (/private/filters/values)')
        self.assertEqual(lines[0], '* METADATA "INBOX" (/private/filters/values/boss'
                         ' "FROM \\"boss@example.com\\"" /private/filters/values/small'
                         ' "SMALLER 5000" /private/filters/values NIL)')
        lines = self.s.ok('GETMETADATA INBOX (DEPTH infinity) /private/filters')
        self.assertIn("/private/filters/values/boss/deeper", lines[0])
        self.assertIn("BAD", self.s.do('GETMETADATA INBOX (DEPTH 2) /private/x')[-1])
        self.assertIn("BAD", self.s.do('GETMETADATA INBOX (MAXSIZE -1) /private/x')[-1])

    def test_server_entries(self):
        lines = self.s.ok('GETMETADATA "" /shared/admin')
        self.assertEqual(lines[0], '* METADATA "" (/shared/admin "mailto:postmaster@example.org")')
        self.assertIn("NO [NOPERM]", self.s.do('SETMETADATA "" (/shared/admin "x")')[-1])
        self.assertIn("NO [NOPERM]", self.s.do('SETMETADATA "" (/shared/comment "x")')[-1])
        self.s.ok('SETMETADATA "" (/private/vendor/vendor.example/setting "on")')
        self.assertEqual(self.s.ok('GETMETADATA "" (DEPTH infinity) /private/vendor')[0]
                         if False else
                         self.s.ok('GETMETADATA "" /private/vendor/vendor.example/setting')[0],
                         '* METADATA "" (/private/vendor/vendor.example/setting "on")')
        # Server entries are not any mailbox's.
        self.assertIn("NIL", self.s.ok(
            'GETMETADATA INBOX /private/vendor/vendor.example/setting')[0])

    def test_limits(self):
        lines = self.s.do('SETMETADATA INBOX (/shared/comment "%s")' % ("y" * 2049))
        self.assertIn("NO [METADATA MAXSIZE 2048]", lines[-1])
        pairs = " ".join(f'/private/e{i} "v"' for i in range(12))
        self.s.ok(f"SETMETADATA Drafts ({pairs})")
        lines = self.s.do('SETMETADATA Drafts (/private/one-more "v" /private/e0 "changed")')
        self.assertIn("NO [METADATA TOOMANY]", lines[-1])
        # All or nothing: e0 kept its value.
        self.assertIn('"v"', self.s.ok("GETMETADATA Drafts /private/e0")[0])
        # Replacing and removing still work at the limit.
        self.s.ok('SETMETADATA Drafts (/private/e0 "changed" /private/e1 NIL)')
        self.s.ok('SETMETADATA Drafts (/private/one-more "v")')
        self.assertIn("NO [NONEXISTENT]", self.s.do('SETMETADATA Nope (/private/x "v")')[-1])
        self.assertIn("NO [NONEXISTENT]", self.s.do('GETMETADATA Nope /private/x')[-1])

    def test_bad_entry_names(self):
        for name in ("/private", "private/comment", "/other/comment", "/private//x",
                     "/private/x/", "/private/a*b", "/private/a%b", "/shared/vendor/x",
                     '"/private/\x7f"', '"/private/\x01"'):
            self.assertIn(" BAD ", self.s.do(f'SETMETADATA INBOX ({name} "v")')[-1], name)
            self.assertIn(" BAD ", self.s.do(f'GETMETADATA INBOX {name}')[-1], name)
        for bad in ('SETMETADATA INBOX ()', 'SETMETADATA INBOX (/private/x)',
                    'SETMETADATA INBOX (/private/x FOO)', 'SETMETADATA INBOX /private/x "v"',
                    'GETMETADATA INBOX', 'GETMETADATA INBOX ()', 'GETMETADATA (DEPTH 1) INBOX'):
            self.assertIn(" BAD ", self.s.do(bad)[-1], bad)
        self.s.ok('SETMETADATA INBOX (/shared/vendor/vendor.example/x "v")')

    def test_specialuse_entry(self):
        self.assertEqual(self.s.ok("GETMETADATA Drafts /private/specialuse")[0],
                         '* METADATA "Drafts" (/private/specialuse "\\\\Drafts")')
        self.assertEqual(self.s.ok("GETMETADATA INBOX /private/specialuse")[0],
                         '* METADATA "INBOX" (/private/specialuse NIL)')
        self.s.ok("CREATE SavedDrafts")
        self.s.ok('SETMETADATA SavedDrafts (/private/specialuse "\\\\Drafts \\\\Important")')
        lines = self.s.ok('LIST "" "SavedDrafts" RETURN (SPECIAL-USE)')
        self.assertIn("\\Drafts \\Important", lines[0])
        self.s.ok("SETMETADATA SavedDrafts (/private/specialuse NIL)")
        self.assertNotIn("\\Drafts", self.s.ok('LIST "" "SavedDrafts" RETURN (SPECIAL-USE)')[0])
        self.assertIn("NO [USEATTR]",
                      self.s.do('SETMETADATA INBOX (/private/specialuse "\\\\Bogus")')[-1])
        # DEPTH shows it under /private.
        self.s.ok('SETMETADATA Drafts (/private/comment "c")')
        lines = self.s.ok("GETMETADATA Drafts (DEPTH 1) /private/comment /private/specialuse")
        self.assertEqual(lines[0], '* METADATA "Drafts" (/private/comment "c"'
                         ' /private/specialuse "\\\\Drafts")')

    def test_rename_delete_and_inbox_rename(self):
        self.s.ok("CREATE Box")
        self.s.ok('SETMETADATA Box (/shared/comment "follows")')
        self.s.ok("RENAME Box Moved")
        self.assertIn('"follows"', self.s.ok("GETMETADATA Moved /shared/comment")[0])
        self.s.ok("DELETE Moved")
        self.s.ok("CREATE Moved")
        self.assertIn("NIL", self.s.ok("GETMETADATA Moved /shared/comment")[0])
        self.s.ok('SETMETADATA INBOX (/private/comment "inbox")')
        self.s.ok("RENAME INBOX OldInbox")
        self.assertIn('"inbox"', self.s.ok("GETMETADATA OldInbox /private/comment")[0])
        self.assertIn('"inbox"', self.s.ok("GETMETADATA INBOX /private/comment")[0])

    def test_binary_values(self):
        self.s.send(b"t80 SETMETADATA INBOX (/private/vendor/v.example/bin ~{3+}\r\na\x00b)\r\n")
        self.assertIn("t80 OK", self.s.until_tagged("t80")[-1])
        self.s.send(b"t81 GETMETADATA INBOX /private/vendor/v.example/bin\r\n")
        first = self.s.line()
        self.assertEqual(first, '* METADATA "INBOX" (/private/vendor/v.example/bin ~{3}')
        self.assertEqual(self.s.buf[:5], b"a\x00b)\r")


class MetadataNotifyTest(ServerTestCase):
    """NOTIFY's MailboxMetadataChange and ServerMetadataChange (RFC 5465
    5.6, 5.7): names only, pushed while no command runs."""

    def pushed(self, s, n, timeout=3):
        s.sock.settimeout(timeout)
        lines = [s.line() for _ in range(n)]
        s.sock.settimeout(10)
        return lines

    def test_metadata_events(self):
        addr, pw = new_account(self.server, "notified@localhost")
        s = Session(self.server, addr, pw)
        o = Session(self.server, addr, pw)
        s.ok("NOTIFY SET (mailboxes Drafts (MailboxMetadataChange))"
             " (personal (MessageNew ServerMetadataChange))")
        o.ok('SETMETADATA INBOX (/private/comment "not asked for")')
        o.ok('SETMETADATA Drafts (/private/comment "x" /shared/comment NIL)')
        self.assertEqual(self.pushed(s, 2), ['* METADATA "Drafts" /private/comment',
                                             '* METADATA "Drafts" /shared/comment'])
        o.ok('SETMETADATA "" (/private/vendor/v.example/x "1")')
        self.assertEqual(self.pushed(s, 1), ['* METADATA "" /private/vendor/v.example/x'])
        # Its own changes are not news to the session (5).
        lines = s.ok('SETMETADATA Drafts (/private/comment "mine")')
        self.assertEqual(len(lines), 1, lines)
        self.assertEqual(len(s.ok("NOOP")), 1)
        self.assertIn("NO [BADEVENT", s.do("NOTIFY SET (personal (AnnotationChange))")[-1])
        s.close()
        o.close()


class NoPrivateTest(ServerTestCase):
    CONFIG = "[imap]\nmetadata_private = no\n"

    def test_noprivate(self):
        s = Session(self.server)
        self.assertIn("NO [METADATA NOPRIVATE]",
                      s.do('SETMETADATA INBOX (/private/comment "x")')[-1])
        s.ok('SETMETADATA INBOX (/shared/comment "x")')
        # /private/specialuse is the mailbox's own attribute: still there.
        self.assertIn("\\\\Sent", s.ok("GETMETADATA Sent /private/specialuse")[0])
        s.close()
