"""NOTIFY (RFC 5465): events pushed while no command runs: the selected
mailbox's (with MessageNew's FETCH attributes), STATUS for other
mailboxes, LIST for mailbox names and subscriptions; SELECTED-DELAYED,
NOTIFY NONE, BADEVENT and the syntax rules."""
import re
import socket
import time

from harness import ServerTestCase
from test_imap_mailbox import MSG, Session, new_account


class NotifyTest(ServerTestCase):
    def setUp(self):
        self.addr, self.pw = new_account(self.server, f"{self._testMethodName[:40]}@localhost")
        self.s = Session(self.server, self.addr, self.pw)
        self.o = Session(self.server, self.addr, self.pw)

    def tearDown(self):
        self.s.close()
        self.o.close()

    def pushed(self, n, timeout=3):
        """The next n lines the server sends with no command running."""
        self.s.sock.settimeout(timeout)
        lines = [self.s.line() for _ in range(n)]
        self.s.sock.settimeout(10)
        return lines

    def nothing_pushed(self, wait=0.3):
        self.s.sock.settimeout(wait)
        try:
            self.assertEqual(self.s.line(), None)
        except (socket.timeout, TimeoutError):
            pass
        finally:
            self.s.sock.settimeout(10)

    def test_status_of_other_mailboxes(self):
        self.s.ok("CREATE Lists")
        self.o.append("Lists")
        lines = self.s.ok("NOTIFY SET STATUS (mailboxes Lists (MessageNew MessageExpunge))")
        self.assertRegex(lines[0], r'^\* STATUS "Lists" \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+\)$')
        self.o.append("Lists")
        self.assertEqual(self.pushed(1), ['* STATUS "Lists" (MESSAGES 2 UIDNEXT 3)'])
        self.o.ok("SELECT Lists")
        self.o.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.o.ok("EXPUNGE")
        self.assertEqual(self.pushed(1), ['* STATUS "Lists" (MESSAGES 1 UIDNEXT 3)'])
        # FlagChange with CONDSTORE: HIGHESTMODSEQ and UIDVALIDITY.
        self.s.ok("ENABLE CONDSTORE")
        self.s.ok("NOTIFY SET (personal (MessageNew MessageExpunge FlagChange))")
        self.o.ok("STORE 1 +FLAGS.SILENT (\\Flagged)")
        self.assertRegex(self.pushed(1)[0],
                         r'^\* STATUS "Lists" \(UIDVALIDITY \d+ HIGHESTMODSEQ \d+\)$')
        self.s.ok("NOTIFY NONE")
        self.o.append("Lists")
        self.nothing_pushed()

    def test_selected_mailbox_is_pushed(self):
        self.s.ok("SELECT INBOX")
        self.s.ok("NOTIFY SET (selected (MessageNew (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)]) "
                  "MessageExpunge FlagChange))")
        self.o.append("INBOX")
        lines = self.pushed(6)
        self.assertEqual(lines[0], "* 1 EXISTS")
        fetch = next(l for l in lines if " FETCH " in l)
        self.assertEqual(fetch, "* 1 FETCH (UID 1 BODY[HEADER.FIELDS (SUBJECT)] {18}")
        self.assertIn("Subject: hello", lines)
        self.o.ok("SELECT INBOX")
        self.o.ok("STORE 1 +FLAGS (\\Seen)")
        self.assertEqual(self.pushed(1), ["* 1 FETCH (FLAGS (\\Seen \\Recent))"])
        self.o.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.pushed(1)
        self.o.ok("EXPUNGE")
        self.assertEqual(self.pushed(1), ["* 1 EXPUNGE"])

    def test_selected_delayed_waits_for_a_command(self):
        self.s.ok("SELECT INBOX")
        self.s.ok("NOTIFY SET (selected-delayed (MessageNew MessageExpunge))")
        self.o.append("INBOX")
        self.nothing_pushed()
        self.assertIn("* 1 EXISTS", self.s.ok("NOOP"))

    def test_mailbox_names_and_subscriptions(self):
        self.s.ok("NOTIFY SET (personal (MailboxName SubscriptionChange))")
        self.o.ok("CREATE Fresh")
        self.assertEqual(self.pushed(1), ['* LIST (\\HasNoChildren) "/" "Fresh"'])
        self.o.ok("SUBSCRIBE Fresh")
        self.assertEqual(self.pushed(1), ['* LIST (\\HasNoChildren \\Subscribed) "/" "Fresh"'])
        self.o.ok("RENAME Fresh Renamed")
        self.assertEqual(self.pushed(1),
                         ['* LIST (\\HasNoChildren \\Subscribed) "/" "Renamed" ("OLDNAME" ("Fresh"))'])
        self.o.ok("DELETE Renamed")
        self.assertEqual(self.pushed(1), ['* LIST (\\NonExistent) "/" "Renamed"'])
        # This session's own changes are not news to it.
        self.assertEqual(self.s.ok("CREATE Mine")[:-1], [])
        self.nothing_pushed()

    def test_syntax_and_unsupported_events(self):
        self.assertIn("NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName "
                      "SubscriptionChange MailboxMetadataChange ServerMetadataChange)]",
                      self.s.do("NOTIFY SET (personal (AnnotationChange))")[-1])
        for bad in ("NOTIFY", "NOTIFY SET", "NOTIFY SET (selected (MailboxName))",
                    "NOTIFY SET (selected (MessageNew)) (selected-delayed (MessageNew))",
                    "NOTIFY SET (personal (MessageNew (UID)))", "NOTIFY SET (bogus (MessageNew))",
                    "NOTIFY SET (mailboxes (MessageNew))", "NOTIFY SET (selected (MessageNew (FOO)))"):
            self.assertIn("BAD", self.s.do(bad)[-1], bad)
        self.assertIn("NOTIFY", self.s.ok("CAPABILITY")[0])
