"""SEARCH=FUZZY (RFC 6203): the FUZZY search key, RETURN (RELEVANCY) in
ESEARCH, the RELEVANCY sort key and return option of SORT, with the RFC's
examples, its error cases, typo and inflection recall, the relevancy
order, and messages the background indexer has not reached yet.

The mailbox is small and written out by hand: each message is there for
the cases that name it."""
import imaplib
import re
import time

from harness import Raw, ServerTestCase, client_ssl_context

# (subject, from, body); uid = position + 1
MESSAGES = [
    ("Meeting agenda for Monday", "alice@example.com",
     "Please receive the minutes of the meeting before Monday."),            # 1
    ("Quarterly budget review", "bob@example.com",
     "The budget meetings are scheduled weekly."),                            # 2
    ("IMAP is broken again", "carol@example.com",
     "The IMAP server seems broken since yesterday."),                        # 3
    ("Lunch plans", "user@example.com",
     "Hello team, lunch at noon? Extra work today."),                         # 4
    ("Invoice 2024", "billing@example.com",
     "Your invoice is attached. We did not recieve your payment."),           # 5
    ("Helping hands", "dave@example.com",
     "Can you help with the move on Saturday?"),                              # 6
    ("Unrelated", "erin@example.com",
     "Completely different content about gardening and tomatoes."),           # 7
    ("IMAP break", "user@example.com",
     "Time for an IMAP break, then back to work."),                           # 8
    ("Overtime work", "user@example.com",
     "The project needs more work this week."),                               # 9
]


def render(i, subject, sender, body):
    return (f"From: {sender}\r\nTo: team@example.org\r\nSubject: {subject}\r\n"
            f"Date: Mon, 1 Jan 2024 10:{i:02d}:00 +0000\r\n"
            f"Message-ID: <fuzzy{i}@example.com>\r\n\r\n{body}\r\n").encode()


def esearch(lines, tag):
    """The ESEARCH line's return data as a dict of name -> raw value."""
    found = [l for l in lines if l.startswith("* ESEARCH")]
    assert len(found) == 1, lines
    data = {}
    rest = found[0][len(f'* ESEARCH (TAG "{tag}")'):].strip()
    if rest.startswith("UID"):
        rest = rest[3:].strip()
    for m in re.finditer(r"(\w+) (\([^)]*\)|\S+)", rest):
        data[m.group(1)] = m.group(2)
    return data


def seqset(s):
    out = []
    for part in s.split(","):
        lo, _, hi = part.partition(":")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


class FuzzySearchTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        m = cls.imap()
        m.create("F")
        for i, (subject, sender, body) in enumerate(MESSAGES):
            flags = "(\\Flagged)" if i == 6 else "()"
            # one INTERNALDATE for all: ARRIVAL ties every message
            typ, _ = m.append("F", flags, '"01-Jan-2024 12:00:00 +0000"',
                              render(i, subject, sender, body))
            assert typ == "OK"
        m.logout()
        # The texts wait a second in fts_pending, then the indexer moves
        # them (and their words) into the index: most tests run on the
        # index, test_pending_texts_are_found on texts not moved yet.
        time.sleep(2.5)

    @classmethod
    def imap(cls):
        m = imaplib.IMAP4_SSL("127.0.0.1", cls.server.imaps_port,
                              ssl_context=client_ssl_context())
        m.login(cls.server.user, cls.server.password)
        return m

    def conn(self, mailbox="F"):
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        r.cmd("l", f"LOGIN {self.server.user} {self.server.password}")
        r.cmd("s", f"EXAMINE {mailbox}")
        self.addCleanup(r.close)
        return r

    def search(self, r, args, cmd="SEARCH"):
        lines = r.cmd("t", f"{cmd} {args}")
        self.assertTrue(lines[-1].startswith("t OK "), (args, lines))
        found = [l for l in lines if l.startswith("* SEARCH") or l.startswith("* SORT")]
        self.assertEqual(len(found), 1, lines)
        return [int(x) for x in found[0].split()[2:]]

    def scored(self, r, args):
        """{seq: relevancy} of SEARCH RETURN (ALL RELEVANCY) args."""
        lines = r.cmd("t", f"SEARCH RETURN (ALL RELEVANCY) {args}")
        self.assertTrue(lines[-1].startswith("t OK "), lines)
        data = esearch(lines, "t")
        if "ALL" not in data:
            self.assertEqual(data.get("RELEVANCY"), "()", lines)
            return {}
        seqs = seqset(data["ALL"])
        scores = [int(x) for x in data["RELEVANCY"].strip("()").split()]
        self.assertEqual(len(seqs), len(scores), lines)
        for s in scores:
            self.assertTrue(1 <= s <= 100, lines)
        return dict(zip(seqs, scores))

    def test_capability(self):
        r = Raw(self.server.imaps_port, tls=True)
        self.addCleanup(r.close)
        r.line()
        r.cmd("l", f"LOGIN {self.server.user} {self.server.password}")
        caps = r.cmd("c", "CAPABILITY")[0].split()
        self.assertIn("SEARCH=FUZZY", caps)
        self.assertIn("ESEARCH", caps)
        self.assertIn("ESORT", caps)

    # ---- recall ----

    def test_typo_is_found(self):
        r = self.conn()
        # "recieve" is in message 5 as typed and "receive" in message 1.
        self.assertEqual(self.search(r, 'BODY "recieve"'), [5])
        self.assertEqual(self.search(r, 'FUZZY BODY "recieve"'), [1, 5])
        self.assertEqual(self.search(r, 'FUZZY BODY "receve"'), [1, 5])
        self.assertEqual(self.search(r, 'FUZZY BODY "gardnening"'), [7])
        self.assertEqual(self.search(r, 'FUZZY SUBJECT "quartrely"'), [2])
        self.assertEqual(self.search(r, 'FUZZY BODY "xylophone"'), [])

    def test_inflection_is_found(self):
        r = self.conn()
        self.assertEqual(self.search(r, 'SUBJECT "meetings"'), [])
        self.assertEqual(self.search(r, 'FUZZY SUBJECT "meetings"'), [1])
        # "meetings" (message 2) is "meeting" and a letter
        self.assertEqual(self.search(r, 'FUZZY BODY "meeting"'), [1, 2])
        self.assertEqual(self.search(r, 'FUZZY BODY "meet"'), [1, 2])
        self.assertEqual(self.search(r, 'BODY "meet"'), [1, 2])
        self.assertEqual(self.search(r, 'FUZZY BODY "tomato"'), [7])

    def test_fuzzy_finds_what_exact_finds_for_words(self):
        # FUZZY matches words (and words like them), not substrings: a
        # needle of whole words finds at least the exact matches
        r = self.conn()
        for args in ['BODY "budget"', 'TEXT "IMAP"', 'SUBJECT "Lunch"', 'BODY "the"',
                     'TEXT "work"', 'BODY "a"', 'FROM "user@example.com"']:
            exact = set(self.search(r, args))
            fuzzy = set(self.search(r, "FUZZY " + args))
            self.assertTrue(exact <= fuzzy, (args, exact, fuzzy))

    def test_case_and_unicode_folding(self):
        r = self.conn()
        self.assertEqual(self.search(r, 'FUZZY BODY "RECIEVE"'), [1, 5])
        self.assertEqual(self.search(r, 'FUZZY SUBJECT "IMAP"'), [3, 8])

    # ---- RFC 6203 examples ----

    def test_rfc_example_a1_subject(self):
        # section 3: "IMAP break" may also match "IMAP is broken"
        r = self.conn()
        found = self.search(r, 'FUZZY (SUBJECT "IMAP break")')
        self.assertIn(8, found)
        self.assertIn(3, found)
        self.assertNotIn(7, found)
        scores = self.scored(r, 'FUZZY (SUBJECT "IMAP break")')
        self.assertEqual(scores[8], 100)
        self.assertLess(scores[3], scores[8])

    def test_rfc_example_a2_fuzzy_and_exact_key(self):
        # section 3: a fuzzy SUBJECT search, a non-fuzzy FROM search
        r = self.conn()
        self.assertEqual(self.search(r, "FUZZY SUBJECT work FROM user@example.com"), [8, 9][1:])
        self.assertEqual(self.search(r, "FUZZY SUBJECT wrok FROM user@example.com"), [9])
        # FROM is exact: carol is not "user"
        self.assertEqual(self.search(r, "FUZZY SUBJECT brokn FROM user@example.com"), [])
        self.assertEqual(self.search(r, "FUZZY SUBJECT brokn"), [3])

    def test_rfc_example_b1_relevancy(self):
        # section 4: SEARCH RETURN (RELEVANCY ALL) FUZZY TEXT "Helo"
        r = self.conn()
        lines = r.cmd("B1", 'SEARCH RETURN (RELEVANCY ALL) FUZZY TEXT "Helo"')
        self.assertEqual(lines[-1], "B1 OK SEARCH completed")
        data = esearch(lines, "B1")
        seqs = seqset(data["ALL"])
        scores = [int(x) for x in data["RELEVANCY"].strip("()").split()]
        self.assertIn(4, seqs)  # "Hello"
        self.assertIn(6, seqs)  # "help", "Helping"
        self.assertNotIn(7, seqs)
        self.assertEqual(len(seqs), len(scores))
        self.assertRegex(lines[0], r'^\* ESEARCH \(TAG "B1"\) ALL \S+ RELEVANCY \([\d ]+\)$')

    def test_rfc_example_c1_sort_relevancy(self):
        # section 6: SORT (RELEVANCY): the highest score first
        r = self.conn()
        self.assertEqual(self.search(r, '(RELEVANCY) UTF-8 FUZZY BODY "recieve"', "SORT"),
                         [5, 1])
        self.assertEqual(self.search(r, '(REVERSE RELEVANCY) UTF-8 FUZZY BODY "recieve"',
                                     "SORT"), [1, 5])
        # equal scores: the next key decides
        self.assertEqual(self.search(r, '(RELEVANCY REVERSE DATE) UTF-8 FUZZY TEXT "IMAP"',
                                     "SORT"), [8, 3])
        self.assertEqual(self.search(r, '(RELEVANCY) UTF-8 FUZZY TEXT "IMAP"', "SORT"), [3, 8])
        # RELEVANCY after another key: within that key's ties only
        self.assertEqual(self.search(r, '(ARRIVAL RELEVANCY) UTF-8 FUZZY BODY "recieve"',
                                     "SORT"), [5, 1])
        self.assertEqual(self.search(r, '(ARRIVAL REVERSE RELEVANCY) UTF-8 FUZZY BODY '
                                        '"recieve"', "SORT"), [1, 5])
        self.assertEqual(self.search(r, '(DATE RELEVANCY) UTF-8 FUZZY BODY "recieve"', "SORT"),
                         [1, 5])
        self.assertEqual(self.search(r, '(REVERSE DATE RELEVANCY) UTF-8 FUZZY BODY "recieve"',
                                     "SORT"), [5, 1])
        # and keys after it break its ties
        self.assertEqual(self.search(r, '(ARRIVAL RELEVANCY REVERSE DATE) UTF-8 FUZZY TEXT '
                                        '"IMAP"', "SORT"), [8, 3])

    def test_rfc_example_c2_esort_relevancy(self):
        r = self.conn()
        lines = r.cmd("C2", 'SORT RETURN (RELEVANCY ALL) (RELEVANCY) UTF-8 FUZZY BODY '
                            '"recieve"')
        self.assertEqual(lines[-1], "C2 OK SORT completed")
        m = re.match(r'^\* ESEARCH \(TAG "C2"\) ALL 5,1 RELEVANCY \((\d+) (\d+)\)$', lines[0])
        self.assertIsNotNone(m, lines)
        self.assertEqual(int(m.group(1)), 100)
        self.assertLess(int(m.group(2)), 100)

    def test_rfc_example_c3_partial(self):
        r = self.conn()
        lines = r.cmd("C3", 'SORT RETURN (PARTIAL 1:1) (RELEVANCY) UTF-8 FUZZY BODY "recieve"')
        self.assertEqual(lines, ['* ESEARCH (TAG "C3") PARTIAL (1:1 5)', "C3 OK SORT completed"])
        lines = r.cmd("C4", 'SORT RETURN (PARTIAL 2:5 RELEVANCY) (RELEVANCY) UTF-8 '
                            'FUZZY BODY "recieve"')
        self.assertRegex(lines[0], r'^\* ESEARCH \(TAG "C4"\) PARTIAL \(2:5 1\) '
                                   r'RELEVANCY \(\d+\)$')

    # ---- relevancy ----

    def test_relevancy_orders_exact_before_typo(self):
        r = self.conn()
        scores = self.scored(r, 'FUZZY BODY "recieve"')
        self.assertEqual(scores[5], 100)
        self.assertLess(scores[1], 100)
        # two words: both present beats one
        scores = self.scored(r, 'FUZZY TEXT "budget meetings"')
        self.assertEqual(scores[2], 100)
        self.assertLess(scores.get(1, 0), scores[2])
        # an inflection scores below the word as typed
        scores = self.scored(r, 'FUZZY BODY "meeting"')
        self.assertEqual(scores[1], 100)
        self.assertLess(scores[2], 100)
        # the full range: a match on half the words is near the bottom
        scores = self.scored(r, 'FUZZY TEXT "imap gardening"')
        self.assertEqual(set(scores), {3, 7, 8})
        self.assertTrue(all(s <= 10 for s in scores.values()), scores)

    def test_relevancy_with_not_and_or(self):
        r = self.conn()
        all_msgs = list(range(1, len(MESSAGES) + 1))
        self.assertEqual(self.search(r, 'NOT FUZZY BODY "recieve"'),
                         [m for m in all_msgs if m not in (1, 5)])
        # NOT keeps no score: each result is 1
        scores = self.scored(r, 'NOT FUZZY BODY "recieve"')
        self.assertEqual(set(scores.values()), {1})
        # OR: the flagged message 7 matches the exact side only
        scores = self.scored(r, 'OR FUZZY BODY "recieve" FLAGGED')
        self.assertEqual(sorted(scores), [1, 5, 7])
        self.assertEqual(scores[7], 1)
        self.assertEqual(scores[5], 100)
        # FUZZY around a non-text key: exact (section 5 allows it)
        self.assertEqual(self.search(r, "FUZZY FLAGGED"), [7])
        self.assertEqual(self.search(r, "FUZZY (FLAGGED BODY tomatos)"), [7])
        self.assertEqual(self.search(r, "FUZZY UID 2:3"), [2, 3])

    def test_uid_search_and_relevancy_alone(self):
        r = self.conn()
        lines = r.cmd("u", 'UID SEARCH RETURN (RELEVANCY) FUZZY BODY "recieve"')
        self.assertRegex(lines[0], r'^\* ESEARCH \(TAG "u"\) UID RELEVANCY \(\d+ 100\)$')
        lines = r.cmd("v", 'SEARCH RETURN (COUNT RELEVANCY) FUZZY BODY "nothinglikeit"')
        self.assertEqual(lines[0], '* ESEARCH (TAG "v") COUNT 0 RELEVANCY ()')

    # ---- errors ----

    def test_errors(self):
        r = self.conn()
        # section 4: RELEVANCY "MUST NOT be used unless a FUZZY search key
        # is also given"; section 6 the same for the sort key
        for tag, cmd in [("e1", 'SEARCH RETURN (RELEVANCY) BODY "x"'),
                         ("e2", "SORT (RELEVANCY) UTF-8 ALL"),
                         ("e3", "SORT RETURN (RELEVANCY) (DATE) UTF-8 ALL"),
                         ("e4", "SEARCH FUZZY"),
                         ("e5", "SEARCH FUZZY ()"),
                         ("e6", "SEARCH FUZZY BOGUS x"),
                         ("e7", "SEARCH RETURN (RELEVANCY RELEVANCY) FUZZY ALL"),
                         ("e8", "SORT (REVERSE) UTF-8 FUZZY ALL")]:
            lines = r.cmd(tag, cmd)
            self.assertTrue(lines[-1].startswith(f"{tag} BAD "), (cmd, lines))
        # a needle of no word at all is the exact search
        self.assertEqual(self.search(r, 'FUZZY BODY "?"'), [4, 6])
        self.assertEqual(self.search(r, 'FUZZY BODY ""'), list(range(1, len(MESSAGES) + 1)))
        # long needles are bounded, not refused
        long = " ".join(["recieve"] * 50) + " " + "x" * 5000
        self.assertEqual(self.search(r, f'FUZZY BODY "{long}"'), [1, 5])

    def test_pending_texts_are_found(self):
        # Appended and searched at once: the indexer waits a second before
        # it moves a text (and its words) into the index.
        m = self.imap()
        m.create("P")
        m.append("P", None, None, render(0, "Forecast", "zed@example.com",
                                         "The quarterly forecast for the warehouse."))
        m.logout()
        r = self.conn("P")
        self.assertEqual(self.search(r, 'FUZZY BODY "forcast"'), [1])
        self.assertEqual(self.search(r, 'FUZZY BODY "wharehouse"'), [1])
        time.sleep(2.5)
        self.assertEqual(self.search(r, 'FUZZY BODY "forcast"'), [1])
        self.assertEqual(self.search(r, 'FUZZY BODY "wharehouse"'), [1])

    def test_thread_and_update_take_fuzzy(self):
        r = self.conn()
        lines = r.cmd("t", 'THREAD ORDEREDSUBJECT UTF-8 FUZZY BODY "recieve"')
        self.assertEqual(lines, ["* THREAD (1)(5)", "t OK THREAD completed"])
        # a SORT context by relevancy (RFC 5267): kept, and cancelled
        lines = r.cmd("u", 'SORT RETURN (UPDATE ALL) (RELEVANCY) UTF-8 FUZZY BODY "recieve"')
        self.assertEqual(lines, ['* ESEARCH (TAG "u") ALL 5,1', "u OK SORT completed"])
        self.assertEqual(r.cmd("c", 'CANCELUPDATE "u"'), ["c OK CANCELUPDATE completed"])
