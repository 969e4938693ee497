"""IMAP mailbox commands on the store: LIST (LIST-EXTENDED, LIST-STATUS,
SPECIAL-USE), CREATE, DELETE, RENAME, SUBSCRIBE, LSUB, NAMESPACE, STATUS,
APPEND (MULTIAPPEND, APPENDUID), SELECT/EXAMINE, ENABLE, CLOSE, UNSELECT,
EXPUNGE, and what concurrent sessions see (EXISTS, EXPUNGE, \\Recent, IDLE)."""
import imaplib
import time

from harness import TERN, Raw, ServerTestCase, TernServer, tern

# "At once" under a sanitizer, on a shared 2-core machine: TSan runs the
# code many times slower. The old matcher took minutes, so either tells.
AT_ONCE = 2.0 if "asan" in TERN or "tsan" in TERN else 0.5
MSG = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: hello\r\n\r\nbody\r\n"


class Session(Raw):
    """A logged-in raw session on implicit TLS."""

    def __init__(self, server, user=None, password=None):
        super().__init__(server.imaps_port, tls=True)
        self.line()
        self.n = 0
        lines = self.cmd(self.tag(), f"LOGIN {user or server.user} {password or server.password}")
        assert " OK " in lines[-1], lines

    def tag(self):
        self.n += 1
        return f"t{self.n}"

    def do(self, text):
        return self.cmd(self.tag(), text)

    def ok(self, text):
        lines = self.do(text)
        assert lines[-1].split(" ", 2)[1] == "OK", (text, lines)
        return lines

    def append(self, mailbox, msg=MSG, flags="", date=""):
        tag = self.tag()
        extra = (f" ({flags})" if flags else "") + (f' "{date}"' if date else "")
        self.send(f"{tag} APPEND {mailbox}{extra} {{{len(msg)}+}}\r\n".encode() + msg + b"\r\n")
        return self.until_tagged(tag)


def new_account(server, address):
    tern("user", "add", address, "--password-stdin", data_dir=server.dir, input="pw-" + address + "\n")
    return address, "pw-" + address


class MailboxTest(ServerTestCase):
    def setUp(self):
        # A fresh account per test: tests do not see each other's mailboxes.
        self.addr, self.pw = new_account(self.server, f"{self._testMethodName[:40]}@localhost")
        self.s = Session(self.server, self.addr, self.pw)

    def tearDown(self):
        self.s.close()

    def test_new_account_has_special_use_folders(self):
        lines = self.s.ok('LIST "" "*"')
        self.assertEqual(lines[:-1], [
            '* LIST (\\HasNoChildren) "/" "INBOX"',
            '* LIST (\\HasNoChildren \\Archive) "/" "Archive"',
            '* LIST (\\HasNoChildren \\Drafts) "/" "Drafts"',
            '* LIST (\\HasNoChildren \\Junk) "/" "Junk"',
            '* LIST (\\HasNoChildren \\Sent) "/" "Sent"',
            '* LIST (\\HasNoChildren \\Trash) "/" "Trash"',
        ])

    def test_list_delimiter_and_patterns(self):
        self.assertEqual(self.s.ok('LIST "" ""')[0], '* LIST (\\Noselect) "/" ""')
        self.s.ok("CREATE a/b/c")
        self.s.ok("CREATE a/x")
        lines = self.s.ok('LIST "" "a/%"')
        self.assertEqual(lines[:-1], ['* LIST (\\HasChildren) "/" "a/b"',
                                      '* LIST (\\HasNoChildren) "/" "a/x"'])
        lines = self.s.ok('LIST "a/" "*"')
        self.assertEqual([l.split('"/" ')[1] for l in lines[:-1]], ['"a/b"', '"a/b/c"', '"a/x"'])
        self.assertEqual(self.s.ok('LIST "" "inbox"')[0], '* LIST (\\HasNoChildren) "/" "INBOX"')
        self.assertEqual(self.s.ok('LIST "" "nothing*"'), [self.s.ok("NOOP")[-1].replace("NOOP", "LIST").replace(f"t{self.s.n}", f"t{self.s.n - 1}")])

    def test_list_extended_selection_and_return(self):
        self.s.ok("CREATE Lists/one")
        self.s.ok("SUBSCRIBE Lists/one")
        self.s.ok("SUBSCRIBE Gone")
        lines = self.s.ok('LIST (SUBSCRIBED) "" "*"')
        self.assertIn('* LIST (\\HasNoChildren \\Subscribed) "/" "Lists/one"', lines)
        self.assertIn('* LIST (\\NonExistent \\Subscribed) "/" "Gone"', lines)
        lines = self.s.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')
        self.assertIn('* LIST (\\HasChildren) "/" "Lists" ("CHILDINFO" ("SUBSCRIBED"))', lines)
        lines = self.s.ok('LIST (SPECIAL-USE) "" "*"')
        self.assertEqual(len(lines) - 1, 5)
        lines = self.s.ok('LIST "" "Sent" RETURN (SUBSCRIBED STATUS (MESSAGES UIDNEXT SIZE))')
        # New accounts are subscribed to their special-use folders.
        self.assertEqual(lines[:-1], ['* LIST (\\HasNoChildren \\Subscribed \\Sent) "/" "Sent"',
                                      '* STATUS "Sent" (MESSAGES 0 UIDNEXT 1 SIZE 0)'])
        self.assertTrue(self.s.do('LIST (RECURSIVEMATCH) "" "*"')[-1].split()[1] == "BAD")
        self.assertTrue(self.s.do('LIST "" "*" RETURN (BOGUS)')[-1].split()[1] == "BAD")

    def test_list_multiple_patterns(self):
        lines = self.s.ok('LIST "" ("Sent" "Trash")')
        self.assertEqual(len(lines), 3)

    def test_list_hostile_patterns_answer_at_once(self):
        # The old matcher backtracked: "*%*%...*%x" pinned a worker for
        # ever, and a million '*' (sent as a literal) overflowed its stack.
        self.s.ok("CREATE Archive/2023/Projects/a-rather-long-folder-name")
        for pattern, want in (("*%" * 2000 + "x", 0), ("*%" * 2000 + "s", 2)):
            start = time.monotonic()
            lines = self.s.ok(f'LIST "" "{pattern}"')
            self.assertLess(time.monotonic() - start, AT_ONCE)
            self.assertEqual(len(lines) - 1, want, lines)  # Drafts, .../Projects
        tag = self.s.tag()
        stars = b"*" * 1000000
        start = time.monotonic()
        self.s.send(f'{tag} LIST "" {{{len(stars)}+}}\r\n'.encode() + stars + b"\r\n")
        lines = self.s.until_tagged(tag)
        self.assertLess(time.monotonic() - start, AT_ONCE)
        self.assertIn(" OK ", lines[-1])
        self.assertEqual(len(lines) - 1, 9)  # six folders, three created

    def test_create_delete_rename(self):
        s = self.s
        s.ok("CREATE Projects/")
        self.assertEqual(s.do("CREATE Projects")[-1].split(" ", 1)[1],
                         "NO [ALREADYEXISTS] Mailbox already exists")
        self.assertIn("[ALREADYEXISTS]", s.do("CREATE inbox")[-1])
        s.ok("CREATE Projects/2026")
        self.assertIn("NO [HASCHILDREN]", s.do("DELETE Projects")[-1])
        s.ok("RENAME Projects Work")
        lines = s.ok('LIST "" "Work*"')
        self.assertEqual([l.split('"/" ')[1] for l in lines[:-1]], ['"Work"', '"Work/2026"'])
        self.assertIn("NO [NONEXISTENT]", s.do("RENAME Projects Other")[-1])
        self.assertIn("NO [ALREADYEXISTS]", s.do("RENAME Work Sent")[-1])
        s.ok("DELETE Work/2026")
        s.ok("DELETE Work")
        self.assertIn("NO [NONEXISTENT]", s.do("DELETE Work")[-1])
        self.assertIn("NO [CANNOT]", s.do("DELETE INBOX")[-1])

    def test_create_special_use(self):
        self.s.ok("CREATE MyArchive (USE (\\Archive))")
        self.assertEqual(self.s.ok('LIST "" MyArchive')[0],
                         '* LIST (\\HasNoChildren \\Archive) "/" "MyArchive"')
        self.assertIn("NO [USEATTR]", self.s.do("CREATE X (USE (\\Bogus))")[-1])

    def test_rename_inbox_moves_its_messages(self):
        self.s.append("INBOX")
        self.s.append("INBOX")
        self.s.ok("RENAME INBOX Old")
        self.assertIn("MESSAGES 2", self.s.ok("STATUS Old (MESSAGES)")[0])
        self.assertIn("MESSAGES 0", self.s.ok("STATUS INBOX (MESSAGES)")[0])

    def test_modified_utf7_names_in_rev1_and_utf8_after_enable(self):
        self.s.ok("CREATE Entw&APw-rfe")
        self.assertIn('"Entw&APw-rfe"', self.s.ok('LIST "" "Entw*"')[0])
        self.assertIn("NO [CANNOT]", self.s.do("CREATE &AGE-")[-1])
        self.assertEqual(self.s.ok("ENABLE UTF8=ACCEPT")[0], "* ENABLED UTF8=ACCEPT")
        lines = self.s.ok('LIST "" "Entw*"')
        self.assertIn("Entwürfe", lines[0])

    def test_status_items(self):
        self.s.append("Drafts", flags="\\Seen")
        self.s.append("Drafts", flags="\\Deleted")
        lines = self.s.ok("STATUS Drafts (MESSAGES UNSEEN DELETED UIDNEXT UIDVALIDITY SIZE RECENT APPENDLIMIT MAILBOXID)")
        st = lines[0]
        for want in ("MESSAGES 2", "UNSEEN 1", "DELETED 1", "UIDNEXT 3", f"SIZE {2 * len(MSG)}",
                     "APPENDLIMIT ", "MAILBOXID ("):
            self.assertIn(want, st)
        self.assertIn("NO [NONEXISTENT]", self.s.do("STATUS Nope (MESSAGES)")[-1])
        self.assertEqual(self.s.do("STATUS Drafts (BOGUS)")[-1].split()[1], "BAD")

    def test_append_appenduid_flags_date_and_trycreate(self):
        lines = self.s.append("INBOX", flags="\\Flagged $Work", date="01-Feb-2026 12:00:00 +0100")
        self.assertRegex(lines[-1], r"OK \[APPENDUID \d+ 1\] APPEND completed")
        lines = self.s.append("NoSuchBox")
        self.assertIn("NO [TRYCREATE]", lines[-1])
        lines = self.s.append("INBOX", flags="\\Recent")
        self.assertEqual(lines[-1].split()[1], "BAD")
        lines = self.s.append("INBOX", date="31-Feb-2026 12:00:00 +0100")
        self.assertEqual(lines[-1].split()[1], "BAD")

    def test_append_date_time_zones_and_internaldate(self):
        # APPEND's date-time in zones far from UTC; INTERNALDATE gives the
        # same instant back in +0000, and SEARCH ON compares that UTC day.
        cases = [
            ("01-Mar-2023 23:30:00 -0800", "02-Mar-2023 07:30:00 +0000"),
            ("02-Mar-2023 09:00:00 +1400", "01-Mar-2023 19:00:00 +0000"),
            ("02-Mar-2023 05:00:00 +0530", "01-Mar-2023 23:30:00 +0000"),
            ("01-Mar-2023 13:00:00 -1200", "02-Mar-2023 01:00:00 +0000"),
            (" 1-Jan-2023 00:00:00 +1400", "31-Dec-2022 10:00:00 +0000"),
        ]
        self.s.ok("CREATE Zones")
        for date, _ in cases:
            self.assertIn(" OK ", self.s.append("Zones", date=date)[-1])
        self.s.ok("EXAMINE Zones")
        lines = self.s.ok("FETCH 1:* (INTERNALDATE)")
        got = [l.split('"')[1] for l in lines[:-1]]
        self.assertEqual(got, [want for _, want in cases])
        self.assertEqual(self.s.ok("SEARCH ON 1-Mar-2023")[0], "* SEARCH 2 3")
        self.assertEqual(self.s.ok("SEARCH ON 2-Mar-2023")[0], "* SEARCH 1 4")
        self.assertEqual(self.s.ok("SEARCH BEFORE 1-Jan-2023")[0], "* SEARCH 5")
        self.assertEqual(self.s.ok("SEARCH SINCE 2-Mar-2023")[0], "* SEARCH 1 4")
        # a sign where the digits belong is not a zone
        for bad in ("01-Mar-2023 00:00:00 +-800", "01-Mar-2023 00:00:00 +800",
                    "01-Mar-2023 00:00:00 +0860"):
            self.assertEqual(self.s.append("Zones", date=bad)[-1].split()[1], "BAD", bad)

    def test_multiappend_is_atomic_and_returns_uid_set(self):
        tag = self.s.tag()
        self.s.send(f"{tag} APPEND INBOX {{{len(MSG)}+}}\r\n".encode() + MSG +
                    f" (\\Seen) {{{len(MSG)}+}}\r\n".encode() + MSG + b"\r\n")
        self.assertRegex(self.s.until_tagged(tag)[-1], r"OK \[APPENDUID \d+ 1:2\]")
        self.assertIn("MESSAGES 2", self.s.ok("STATUS INBOX (MESSAGES)")[0])

    def test_append_literal8_and_nul(self):
        tag = self.s.tag()
        body = b"Subject: bin\r\n\r\nx\x00y\r\n"
        self.s.send(f"{tag} APPEND INBOX ~{{{len(body)}+}}\r\n".encode() + body + b"\r\n")
        self.assertIn("OK [APPENDUID", self.s.until_tagged(tag)[-1])
        tag = self.s.tag()
        self.s.send(f"{tag} APPEND INBOX {{{len(body)}+}}\r\n".encode() + body + b"\r\n")
        self.assertIn("NO ", self.s.until_tagged(tag)[-1])

    def test_select_rev1_wire_format(self):
        self.s.append("INBOX", flags="\\Seen")
        self.s.append("INBOX")
        lines = self.s.ok("SELECT INBOX")
        self.assertEqual(lines[0], "* 2 EXISTS")
        self.assertEqual(lines[1], "* 2 RECENT")
        self.assertTrue(lines[2].startswith("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft"))
        self.assertIn("* OK [UNSEEN 2] First unseen", lines)
        self.assertTrue(any(l.startswith("* OK [UIDVALIDITY ") for l in lines))
        self.assertIn("* OK [UIDNEXT 3] Predicted next UID", lines)
        self.assertTrue(lines[-1].endswith("OK [READ-WRITE] SELECT completed"))
        lines = self.s.ok("EXAMINE INBOX")
        self.assertEqual(lines[0], "* OK [CLOSED] Previous mailbox closed")
        self.assertIn("* 0 RECENT", lines)  # recent went to the first select
        self.assertIn("* OK [PERMANENTFLAGS ()] Read-only mailbox", lines)
        self.assertTrue(lines[-1].endswith("OK [READ-ONLY] EXAMINE completed"))
        self.assertIn("[READ-ONLY]", self.s.do("EXPUNGE")[-1])

    def test_select_rev2(self):
        self.assertEqual(self.s.ok("ENABLE IMAP4rev2")[0], "* ENABLED IMAP4rev2")
        lines = self.s.ok("SELECT inbox")
        self.assertNotIn("RECENT", " ".join(lines))
        self.assertIn('* LIST () "/" "INBOX"', lines)
        self.assertIn("NO [NONEXISTENT]", self.s.do("SELECT Nope")[-1])

    def test_select_failure_leaves_no_mailbox_selected(self):
        self.s.ok("SELECT INBOX")
        self.s.do("SELECT Nope")
        self.assertEqual(self.s.do("CLOSE")[-1].split()[1], "BAD")

    def test_close_expunges_unselect_does_not(self):
        self.s.append("INBOX", flags="\\Deleted")
        self.s.ok("SELECT INBOX")
        self.s.ok("UNSELECT")
        self.assertIn("MESSAGES 1", self.s.ok("STATUS INBOX (MESSAGES)")[0])
        self.s.ok("SELECT INBOX")
        self.assertEqual(self.s.ok("CLOSE"), [f"t{self.s.n} OK CLOSE completed"])
        self.assertIn("MESSAGES 0", self.s.ok("STATUS INBOX (MESSAGES)")[0])

    def test_expunge_and_uid_expunge(self):
        for flags in ("\\Deleted", "", "\\Deleted", "\\Deleted"):
            self.s.append("INBOX", flags=flags)
        self.s.ok("SELECT INBOX")
        lines = self.s.ok("UID EXPUNGE 3:4")
        self.assertEqual(lines[:-1], ["* 4 EXPUNGE", "* 3 EXPUNGE"])
        lines = self.s.ok("EXPUNGE")
        self.assertEqual(lines[:-1], ["* 1 EXPUNGE"])
        self.assertIn("MESSAGES 1", self.s.ok("STATUS INBOX (MESSAGES)")[0])

    def test_namespace_and_capability_after_login(self):
        self.assertEqual(self.s.ok("NAMESPACE")[0], '* NAMESPACE (("" "/")) (("Other Users/" "/")) (("Shared/" "/"))')
        caps = self.s.ok("CAPABILITY")[0]
        for c in ("ENABLE", "IDLE", "LIST-EXTENDED", "SPECIAL-USE", "UIDPLUS", "MULTIAPPEND",
                  "APPENDLIMIT=", "NAMESPACE", "UNSELECT", "LIST-STATUS", "STATUS=SIZE"):
            self.assertIn(c, caps)

    def test_commands_need_the_right_state(self):
        self.assertEqual(self.s.do("EXPUNGE")[-1].split(" ", 1)[1],
                         "BAD EXPUNGE not allowed without a selected mailbox")
        self.assertEqual(self.s.do("UID EXPUNGE 1")[-1].split()[1], "BAD")


class ConcurrentSessionsTest(ServerTestCase):
    def setUp(self):
        self.addr, self.pw = new_account(self.server, f"{self._testMethodName[:40]}@localhost")
        self.a = Session(self.server, self.addr, self.pw)
        self.b = Session(self.server, self.addr, self.pw)

    def tearDown(self):
        self.a.close()
        self.b.close()

    def test_noop_reports_other_sessions_appends_and_recent_once(self):
        self.a.ok("SELECT INBOX")
        self.b.ok("SELECT INBOX")
        # B's own APPEND reply is the first to report the message: B gets \Recent.
        lines = self.b.append("INBOX")
        self.assertEqual(lines[:-1], ["* 1 EXISTS", "* 1 RECENT"])
        lines = self.a.ok("NOOP")
        self.assertEqual(lines[:-1], ["* 1 EXISTS", "* 0 RECENT"])
        self.assertEqual(self.a.ok("NOOP")[:-1], [])

    def test_expunge_by_another_session(self):
        for _ in range(3):
            self.a.append("INBOX", flags="\\Deleted")
        self.a.ok("SELECT INBOX")
        self.b.ok("SELECT INBOX")
        self.b.ok("UID EXPUNGE 2")
        self.assertEqual(self.a.ok("NOOP")[:-1], ["* 2 EXPUNGE"])
        self.assertIn("MESSAGES 2", self.a.ok("STATUS INBOX (MESSAGES)")[0])

    def test_idle_is_told_of_a_new_message_within_100ms(self):
        self.a.ok("SELECT INBOX")
        tag = self.a.tag()
        self.a.send(f"{tag} IDLE\r\n")
        self.assertEqual(self.a.line(), "+ idling")
        start = time.monotonic()
        self.b.append("INBOX")
        self.assertEqual(self.a.line(), "* 1 EXISTS")
        self.assertLess(time.monotonic() - start, 0.5)  # includes the append's fsync
        self.assertEqual(self.a.line(), "* 1 RECENT")
        self.a.send("DONE\r\n")
        self.assertEqual(self.a.line(), f"{tag} OK IDLE terminated")

    def test_idle_push_latency(self):
        # Measured from the APPEND's OK to the IDLE push: the notification itself.
        self.a.ok("SELECT INBOX")
        tag = self.a.tag()
        self.a.send(f"{tag} IDLE\r\n")
        self.a.line()
        self.b.append("INBOX")
        done = time.monotonic()
        self.a.sock.settimeout(5)
        self.assertEqual(self.a.line(), "* 1 EXISTS")
        self.assertLess(time.monotonic() - done, 0.1)
        self.a.send("DONE\r\n")
        self.a.until_tagged(tag)

    def test_idle_expects_done(self):
        self.a.ok("SELECT INBOX")
        tag = self.a.tag()
        self.a.send(f"{tag} IDLE\r\n")
        self.a.line()
        self.a.send("NOPE\r\n")
        self.assertEqual(self.a.line(), f"{tag} BAD Expected DONE to end IDLE")

    def test_deleting_the_selected_mailbox_of_another_session(self):
        self.a.ok("CREATE Doomed")
        self.b.ok("SELECT Doomed")
        self.a.ok("DELETE Doomed")
        self.assertEqual(self.b.do("NOOP")[0], "* BYE Selected mailbox was deleted")


class ImaplibFlowTest(ServerTestCase):
    def test_client_shaped_flow(self):
        m = imaplib.IMAP4("127.0.0.1", self.server.imap_port)
        m.login(self.server.user, self.server.password)
        self.assertEqual(m.create("Reports")[0], "OK")
        typ, data = m.append("Reports", "(\\Seen)", imaplib.Time2Internaldate(time.time()), MSG)
        self.assertEqual(typ, "OK")
        typ, data = m.select("Reports")
        self.assertEqual(data, [b"1"])
        typ, data = m.status("Reports", "(MESSAGES UNSEEN)")
        self.assertEqual(data, [b'"Reports" (MESSAGES 1 UNSEEN 0)'])
        self.assertEqual(m.close()[0], "OK")
        self.assertEqual(m.delete("Reports")[0], "OK")
        m.logout()
