"""Many clients at once: sequence numbers never drift and flag changes are
never lost. Several sessions on one mailbox make random appends, flag
changes and expunges; each session keeps its own model of seq -> uid from
the EXISTS and EXPUNGE responses it is sent, exactly as a client does, and
after every step its model must equal what FETCH 1:* (UID) says."""
import random
import re
import threading

from harness import ServerTestCase
from test_imap_mailbox import MSG, Session, new_account


class ModelSession(Session):
    def __init__(self, server, user, password):
        super().__init__(server, user, password)
        self.uids = []
        self.known_max = 0

    def apply(self, lines):
        """Applies untagged EXPUNGE/EXISTS to the model, as a client would."""
        for line in lines:
            m = re.match(r"\* (\d+) EXPUNGE$", line)
            if m:
                del self.uids[int(m.group(1)) - 1]
                continue
            m = re.match(r"\* (\d+) EXISTS$", line)
            if m:
                n = int(m.group(1))
                if n > len(self.uids):
                    # New messages: their UIDs are learnt with a UID FETCH.
                    fetched = self.ok(f"FETCH {len(self.uids) + 1}:{n} (UID)")
                    self.apply(fetched[:-1])
                    for l in fetched:
                        mm = re.match(r"\* (\d+) FETCH \(UID (\d+)\)$", l)
                        if mm and int(mm.group(1)) > len(self.uids):
                            self.uids.append(int(mm.group(2)))
        return lines

    def run(self, text):
        return self.apply(self.ok(text))

    def check(self, testcase):
        self.run("NOOP")
        lines = self.ok("FETCH 1:* (UID)") if self.uids else self.ok("NOOP")
        seen = [int(m.group(2)) for m in
                (re.match(r"\* (\d+) FETCH \(UID (\d+)\)$", l) for l in lines) if m]
        testcase.assertEqual(seen, self.uids)


class ConsistencyTest(ServerTestCase):
    def test_sequence_numbers_never_drift(self):
        addr, pw = new_account(self.server, "consistency@localhost")
        sessions = [ModelSession(self.server, addr, pw) for _ in range(3)]
        for s in sessions:
            s.run("SELECT INBOX")
        rng = random.Random(20261125)
        for step in range(120):
            s = rng.choice(sessions)
            op = rng.random()
            if op < 0.45 or not s.uids:
                s.apply(s.append("INBOX", MSG))
            elif op < 0.8:
                uid = rng.choice(s.uids)
                s.run(f"UID STORE {uid} +FLAGS.SILENT (\\Deleted)")
                s.run(f"UID EXPUNGE {uid}")
            else:
                lo = rng.randint(1, len(s.uids))
                s.run(f"STORE {lo}:{min(len(s.uids), lo + 3)} +FLAGS.SILENT ($k{step % 5})")
            for other in sessions:
                other.check(self)
        for s in sessions:
            s.close()

    def test_concurrent_flag_changes_are_never_lost(self):
        addr, pw = new_account(self.server, "flags@localhost")
        setup = Session(self.server, addr, pw)
        for _ in range(5):
            setup.append("INBOX")
        setup.close()
        errors = []

        system = ["\\Seen", "\\Flagged", "\\Answered", "\\Draft"]

        def worker(n):
            # Each worker adds its own system flag and four keywords, one
            # STORE at a time, interleaved with the others' on the same
            # messages: a lost update would drop someone's flag.
            try:
                s = Session(self.server, addr, pw)
                s.ok("SELECT INBOX")
                for i in range(24):
                    s.ok(f"STORE 1:5 +FLAGS.SILENT (w{n}k{i % 4})")
                    if i % 6 == 0:
                        s.ok(f"STORE 1:5 +FLAGS.SILENT ({system[n]})")
                        s.ok(f"STORE 1:5 -FLAGS.SILENT (w{n}k{(i + 1) % 4})")
                s.close()
            except Exception as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        s = Session(self.server, addr, pw)
        s.ok("SELECT INBOX")
        lines = s.ok("FETCH 1:5 (FLAGS)")
        want = sorted(system + [f"w{n}k{k}" for n in range(4) for k in range(4)])
        for line in lines[:-1]:
            flags = re.search(r"FLAGS \(([^)]*)\)", line).group(1).split()
            self.assertEqual(sorted(f for f in flags if f != "\\Recent"), want, line)
        s.close()

    def test_concurrent_searches_sorts_and_threads_agree(self):
        # Sessions on every worker run SEARCH, SORT and THREAD at once on
        # one mailbox while another appends: each must get the answer a lone
        # session gets. THREAD's sort once kept its tree in a global shared
        # by all workers; `make tsan` runs this against ThreadSanitizer.
        addr, pw = new_account(self.server, "engines@localhost")
        setup = Session(self.server, addr, pw)
        for i in range(30):
            refs = f"References: <m{i // 2}@x>\r\n" if i % 3 else ""
            msg = (f"From: u{i % 4}@example.org\r\nSubject: {'Re: ' * (i % 2)}topic {i % 5}\r\n"
                   f"Message-ID: <m{i}@x>\r\n{refs}"
                   f"Date: {1 + i % 28:02d} Mar 2023 {i % 24:02d}:00:00 -0800\r\n\r\nbody {i}\r\n")
            setup.append("INBOX", msg.encode())
        setup.ok("SELECT INBOX")
        commands = ["UID THREAD REFERENCES UTF-8 ALL", "UID THREAD ORDEREDSUBJECT UTF-8 ALL",
                    "UID SORT (DATE SUBJECT) UTF-8 ALL", "UID SEARCH OR SUBJECT topic FROM u1",
                    "UID SEARCH SENTSINCE 10-Mar-2023 NOT SENTON 20-Mar-2023"]
        want = {c: setup.ok(c + " UID 1:30")[0] for c in commands}
        errors = []

        def reader(n):
            try:
                s = Session(self.server, addr, pw)
                s.ok("EXAMINE INBOX")
                for i in range(15):
                    c = commands[(n + i) % len(commands)]
                    got = s.ok(c + " UID 1:30")[0]
                    if got != want[c]:
                        errors.append((c, got, want[c]))
                s.close()
            except Exception as e:  # reported below
                errors.append(e)

        def writer():
            try:
                s = Session(self.server, addr, pw)
                for i in range(15):
                    s.append("INBOX", f"Subject: later {i}\r\n\r\nx\r\n".encode())
                s.close()
            except Exception as e:
                errors.append(e)

        threads = [threading.Thread(target=reader, args=(n,)) for n in range(4)]
        threads.append(threading.Thread(target=writer))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        setup.close()
        self.assertEqual(errors, [])

class MultiAccessRulesTest(ServerTestCase):
    """What ImapTest's stress runs check between two sessions of one mailbox."""

    def setUp(self):
        self.addr, self.pw = new_account(self.server, f"{self._testMethodName[:40]}@localhost")
        self.a = Session(self.server, self.addr, self.pw)
        self.b = Session(self.server, self.addr, self.pw)

    def tearDown(self):
        self.a.close()
        self.b.close()

    def test_keyword_is_in_flags_before_its_first_fetch(self):
        # RFC 9051 7.3.5: FLAGS (and PERMANENTFLAGS) name a keyword before
        # any FETCH FLAGS carries it, in this session and in the others.
        self.a.append("INBOX")
        self.a.ok("SELECT INBOX")
        self.b.ok("SELECT INBOX")
        lines = self.b.ok("STORE 1 +FLAGS ($Fresh)")
        self.assertRegex(lines[0], r"^\* FLAGS \(.*\$Fresh\)$")
        self.assertRegex(lines[1], r"^\* OK \[PERMANENTFLAGS \(.*\$Fresh \\\*\)\]")
        self.assertIn("$Fresh", lines[2])
        # a learns of it from a FETCH by number (no updates allowed there) ...
        lines = self.a.ok("FETCH 1 (FLAGS)")
        self.assertRegex(lines[0], r"^\* FLAGS \(.*\$Fresh\)$")
        self.assertTrue(lines[2].startswith("* 1 FETCH (FLAGS (") and "$Fresh" in lines[2], lines)
        # ... and is not told again.
        self.b.ok("STORE 1 -FLAGS ($Fresh)")
        self.b.ok("STORE 1 +FLAGS ($Fresh)")
        lines = self.a.ok("NOOP")
        self.assertFalse(any(l.startswith("* FLAGS") for l in lines), lines)
        # A keyword new to a session that only hears of it at a sync.
        self.b.ok("STORE 1 +FLAGS.SILENT ($Other)")
        lines = self.a.ok("NOOP")
        self.assertRegex(lines[0], r"^\* FLAGS \(.*\$Other\)$")
        self.assertIn("$Other", lines[2])

    def test_fetch_of_a_message_another_session_expunged(self):
        # RFC 2180 4.1.1: until a session is told of the EXPUNGE, FETCH
        # answers from the message as it was.
        for i in range(3):
            self.a.append("INBOX", MSG.replace(b"body", b"body %d" % i))
        self.a.ok("SELECT INBOX")
        self.b.ok("SELECT INBOX")
        self.b.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
        self.b.ok("EXPUNGE")
        lines = self.a.ok("FETCH 2 (FLAGS BODY.PEEK[TEXT])")
        self.assertIn("\\Deleted", lines[0])
        self.assertEqual(lines[1], "body 1")
        self.assertTrue(lines[-1].endswith("OK FETCH completed"))
        self.assertIn("* 2 EXPUNGE", self.a.ok("NOOP"))
        self.assertEqual(self.a.ok("FETCH 2 (BODY.PEEK[TEXT])")[1], "body 2")

    def test_logout_carries_no_expunge(self):
        self.a.append("INBOX", flags="\\Deleted")
        self.a.ok("SELECT INBOX")
        self.b.ok("SELECT INBOX")
        self.b.ok("EXPUNGE")
        tag = self.a.tag()
        lines = self.a.cmd(tag, "LOGOUT")
        self.assertEqual(lines, ["* BYE Logging out", f"{tag} OK LOGOUT completed"])
