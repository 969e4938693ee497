"""test_imap_replace.py: REPLACE and UID REPLACE (RFC 8508).

The RFC's examples (a draft replaced in place and into another mailbox),
the wire order (APPENDUID, then EXPUNGE and EXISTS, then the tagged OK), and the error cases:
each refused REPLACE must leave both mailboxes as they were.
"""
import re

from harness import Raw, ServerTestCase


def draft(n):
    return (f"Date: Thu, 1 Jan 2015 00:0{n}:00 -0500\r\n"
            f"From: Fritz Schmidt <fritz.ze@example.org>\r\n"
            f"Subject: happy new year !! v{n}\r\n"
            f"Message-Id: <B23882238{n}-0100000@example.org>\r\n\r\n"
            f"Just saw the best fireworks show, version {n}.\r\n").encode()


class ReplaceTest(ServerTestCase):
    def setUp(self):
        self.r = Raw(self.server.imap_port)
        self.r.line()
        self.r.cmd("a", f"LOGIN {self.server.user} {self.server.password}")

    def tearDown(self):
        self.r.cmd("z", "LOGOUT")

    def count(self, mailbox):
        line = self.r.cmd("st", f"STATUS {mailbox} (MESSAGES)")[0]
        return int(re.search(r"MESSAGES (\d+)", line).group(1))

    def fresh(self, name):
        self.r.cmd("c", f"CREATE {name}")
        msg = draft(1)
        self.r.send(f"ap APPEND {name} (\\Draft) {{{len(msg)}+}}\r\n".encode() + msg + b"\r\n")
        line = self.r.until_tagged("ap")[-1]
        uid = int(re.search(r"APPENDUID \d+ (\d+)", line).group(1))
        self.assertTrue(self.r.cmd("s", f"SELECT {name}")[-1].startswith("s OK"))
        return uid

    def test_replace_in_place(self):
        old_uid = self.fresh("Drafts1")
        msg = draft(2)
        self.r.send(f"A003 REPLACE 1 Drafts1 (\\Seen \\Draft) {{{len(msg)}}}\r\n")
        self.assertTrue(self.r.line().startswith("+"))
        self.r.send(msg + b"\r\n")
        lines = self.r.until_tagged("A003")
        self.assertRegex(lines[0], r"^\* OK \[APPENDUID \d+ \d+\] ")
        new_uid = int(re.search(r"APPENDUID \d+ (\d+)", lines[0]).group(1))
        self.assertGreater(new_uid, old_uid)
        # The RFC's example has EXISTS before EXPUNGE; the session's sync
        # sends them the other way, which numbers the messages as well.
        self.assertEqual([l for l in lines if "EXISTS" in l or "EXPUNGE" in l],
                         ["* 1 EXPUNGE", "* 1 EXISTS"])
        self.assertEqual(lines[-1], "A003 OK REPLACE completed")
        lines = self.r.cmd("f", "FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(len([l for l in lines if l.startswith("* ") and " FETCH " in l]), 1)
        self.assertIn(f"UID {new_uid}", lines[0])
        self.assertIn("\\Seen", lines[0])
        self.assertTrue(any("v2" in l for l in lines))

    def test_uid_replace_into_another_mailbox(self):
        old_uid = self.fresh("Drafts2")
        self.r.cmd("c", "CREATE Sent2")
        msg = draft(3)
        self.r.send(f"A004 UID REPLACE {old_uid} Sent2 (\\Seen) {{{len(msg)}+}}\r\n".encode()
                    + msg + b"\r\n")
        lines = self.r.until_tagged("A004")
        self.assertRegex(lines[0], r"^\* OK \[APPENDUID \d+ 1\] ")
        self.assertIn("* 1 EXPUNGE", lines)
        self.assertNotIn("EXISTS", " ".join(lines))
        self.assertEqual(lines[-1], "A004 OK UID REPLACE completed")
        self.assertEqual(self.count("Sent2"), 1)
        self.assertEqual(self.count("Drafts2"), 0)

    def test_uid_replace_with_catenate(self):
        old_uid = self.fresh("Drafts3")
        head = b"Subject: joined\r\n\r\n"
        self.r.send(f"c1 UID REPLACE {old_uid} Drafts3 CATENATE (TEXT {{{len(head)}+}}\r\n"
                    .encode() + head + b" TEXT {6+}\r\nworld!)\r\n")
        lines = self.r.until_tagged("c1")
        self.assertEqual(lines[-1], "c1 OK UID REPLACE completed", lines)
        lines = self.r.cmd("f", "FETCH 1 BODY.PEEK[]")
        self.assertIn("Subject: joined", "\n".join(lines))
        self.assertIn("world!", "\n".join(lines))

    def test_refusals_change_nothing(self):
        old_uid = self.fresh("Drafts4")
        msg = draft(4)

        def replace(tag, args):
            self.r.send(f"{tag} {args} {{{len(msg)}+}}\r\n".encode() + msg + b"\r\n")
            return self.r.until_tagged(tag)[-1]

        self.assertTrue(replace("e1", f"UID REPLACE {old_uid + 100} Drafts4")
                        .startswith("e1 NO [NONEXISTENT]"))
        self.assertTrue(replace("e2", "REPLACE 1 NoSuchBox").startswith("e2 NO [TRYCREATE]"))
        self.assertTrue(replace("e3", "REPLACE 1:2 Drafts4").startswith("e3 BAD"))
        self.assertTrue(replace("e4", "REPLACE 5 Drafts4").startswith("e4 BAD"))
        self.assertEqual(self.count("Drafts4"), 1)
        self.r.cmd("x", "EXAMINE Drafts4")
        self.assertTrue(replace("e5", "REPLACE 1 Drafts4").startswith("e5 NO [READ-ONLY]"))
        self.r.cmd("u", "UNSELECT")
        # Section 3.5: selected state only.
        self.assertTrue(replace("e6", "REPLACE 1 Drafts4").startswith("e6 BAD"))
        self.assertEqual(self.count("Drafts4"), 1)
        lines = self.r.cmd("cap", "CAPABILITY")
        self.assertIn(" REPLACE", lines[0])
