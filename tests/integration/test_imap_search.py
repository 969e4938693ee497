"""IMAP SEARCH, ESEARCH, SEARCHRES, SORT and THREAD (RFC 9051 6.4.4, RFC 4731,
RFC 5182, RFC 5032, RFC 7162 3.1.5, RFC 8514, RFC 5256, RFC 5957).

A mailbox of 50 messages with varied dates, sizes, flags, keywords,
addresses and bodies (plain, quoted-printable, base64, multipart, Latin-1,
RFC 2047 subjects) is built with APPEND; the expected answer of most keys is
computed from the same description (a small model), the special cases are
written out by hand."""
import base64
import imaplib
import time

from harness import Raw, ServerTestCase, client_ssl_context

N = 50
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DAY = 86400
JAN1 = 1704067200  # 2024-01-01 00:00 UTC
# Zones far from UTC both ways, with local hours that put the UTC time on
# another day: a day computed in the wrong zone shows.
ZONES = [("+0000", 0), ("-0800", -480), ("+0530", 330), ("+1400", 840), ("-1200", -720)]


def zone_hours(off):
    """(Date: hour, APPEND hour) in local time for a zone offset in minutes."""
    return (8, 12) if off == 0 else (23, 22) if off < 0 else (1, 3)


def describe(i):
    """Message i (uid i+1) as a dict the tests query."""
    m = {
        "i": i,
        "subject": f"Report {i}",
        "from": f"User {chr(65 + i % 5)} <user{i % 5}@example.com>",
        "to": [f"team{i % 3}@example.org"],
        "cc": "boss@example.net" if i % 4 == 0 else None,
        "bcc": "secret@example.com" if i % 7 == 0 else None,
        "iday": i % 28 + 1,                  # APPEND date: 2024-01-<iday>, local time
        "sday": i % 28 + 1,                  # Date: 2023-03-<sday>, local time
        "zone": ZONES[i % 5],
        "flags": set(),
        "keywords": set(),
        "extra": [],
        "body": f"Body of message number {i}.\r\n" + "filler line\r\n" * i,
        "cte": None,
    }
    if i % 2 == 0:
        m["flags"].add("\\Seen")
    if i % 5 == 0:
        m["flags"].add("\\Flagged")
    if i % 3 == 0:
        m["flags"].add("\\Answered")
    if i == 7:
        m["flags"].add("\\Draft")
    if i % 10 == 9:
        m["flags"].add("\\Deleted")
    if i % 4 == 1:
        m["keywords"].add("$Label1")
    if i == 13:
        m["keywords"].add("$Junk")
    # special content
    if i == 20:
        m["cte"] = "quoted-printable"
        m["body"] = "Gr=C3=BC=C3=9Fe aus K=C3=B6ln, sch=C3=B6ne Gr=C3=BC=C3=9Fe\r\n"
    if i == 21:
        m["cte"] = "base64"
        m["body"] = base64.encodebytes("Привет мир, я в отпуске\r\n".encode()).decode() \
            .replace("\n", "\r\n")
    if i == 22:
        m["multipart"] = True
    if i == 23:
        m["latin1"] = True
    if i == 30:
        m["body"] = "a short needle aqzb here\r\n"
    if i == 31:
        m["body"] = "UPPER QZ HERE\r\n"
    if i == 40:
        m["extra"].append("X-Custom: alpha-beta")
    if i == 41:
        m["extra"].append("X-Custom: gamma")
    if i == 42:
        m["subject"] = "=?UTF-8?Q?Caf=C3=A9_menu?="
    if i == 43:
        m["to"] = ["first@x.org", "Second Person <second@y.org>"]
    name, off = m["zone"]
    m["shour"], ihour = zone_hours(off)
    m["idate"] = f'"{m["iday"]:02d}-Jan-2024 {ihour:02d}:00:00 {name}"'
    # INTERNALDATE keys compare the UTC day (docs/IMAP.md): day 0 is 31 Dec
    m["itime"] = JAN1 + (m["iday"] - 1) * DAY + ihour * 3600 - off * 60
    m["iday_utc"] = (m["itime"] - JAN1) // DAY + 1
    return m


def render(m):
    h = [f"From: {m['from']}", "To: " + ", ".join(m["to"])]
    if m["cc"]:
        h.append(f"Cc: {m['cc']}")
    if m["bcc"]:
        h.append(f"Bcc: {m['bcc']}")
    h.append(f"Subject: {m['subject']}")
    h.append(f"Date: {m['sday']:02d} Mar 2023 {m['shour']:02d}:00:00 {m['zone'][0]}")
    h.append(f"Message-ID: <msg{m['i']}@example.com>")
    h += m["extra"]
    h.append("MIME-Version: 1.0")
    if m.get("multipart"):
        h.append('Content-Type: multipart/mixed; boundary="BB"')
        body = ("--BB\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                "the zebra part\r\n"
                "--BB\r\nContent-Type: application/octet-stream\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n"
                + base64.b64encode(b"giraffe binary").decode() + "\r\n--BB--\r\n")
        return ("\r\n".join(h) + "\r\n\r\n" + body).encode()
    if m.get("latin1"):
        h.append("Content-Type: text/plain; charset=iso-8859-1")
        h.append("Content-Transfer-Encoding: 8bit")
        return ("\r\n".join(h) + "\r\n\r\n").encode() + "un caf\xe9 noir\r\n".encode("latin-1")
    h.append("Content-Type: text/plain; charset=utf-8")
    if m["cte"]:
        h.append(f"Content-Transfer-Encoding: {m['cte']}")
    return ("\r\n".join(h) + "\r\n\r\n" + m["body"]).encode()


MSGS = [describe(i) for i in range(N)]
RAW = [render(m) for m in MSGS]


def uids(pred):
    return [m["i"] + 1 for m in MSGS if pred(m)]


class SearchTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        m = cls.imap()
        m.create("S")
        for msg, raw in zip(MSGS, RAW):
            flags = " ".join(sorted(msg["flags"] | msg["keywords"]))
            typ, _ = m.append("S", f"({flags})", msg["idate"], raw)
            assert typ == "OK"
        m.logout()

    @classmethod
    def imap(cls):
        m = imaplib.IMAP4_SSL("127.0.0.1", cls.server.imaps_port,
                              ssl_context=client_ssl_context())
        m.login(cls.server.user, cls.server.password)
        return m

    def conn(self, mailbox="S", rev2=False, examine=True):
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        r.cmd("l", f"LOGIN {self.server.user} {self.server.password}")
        if rev2:
            r.cmd("e", "ENABLE IMAP4rev2")
        r.cmd("s", f"{'EXAMINE' if examine else 'SELECT'} {mailbox}")
        self.addCleanup(r.close)
        return r

    def search(self, r, args, cmd="SEARCH"):
        lines = r.cmd("t", f"{cmd} {args}")
        self.assertTrue(lines[-1].startswith("t OK "), (args, lines))
        found = [l for l in lines if l.startswith("* SEARCH")]
        self.assertEqual(len(found), 1, lines)
        return [int(x) for x in found[0].split()[2:]]

    def check(self, r, args, want):
        self.assertEqual(self.search(r, args), want, args)

    # ---- keys ----

    def test_flag_keys(self):
        r = self.conn()
        cases = {
            "ALL": uids(lambda m: True),
            "SEEN": uids(lambda m: "\\Seen" in m["flags"]),
            "UNSEEN": uids(lambda m: "\\Seen" not in m["flags"]),
            "FLAGGED": uids(lambda m: "\\Flagged" in m["flags"]),
            "UNFLAGGED": uids(lambda m: "\\Flagged" not in m["flags"]),
            "ANSWERED": uids(lambda m: "\\Answered" in m["flags"]),
            "UNANSWERED": uids(lambda m: "\\Answered" not in m["flags"]),
            "DRAFT": [8],
            "UNDRAFT": uids(lambda m: m["i"] != 7),
            "DELETED": uids(lambda m: m["i"] % 10 == 9),
            "UNDELETED": uids(lambda m: m["i"] % 10 != 9),
            "KEYWORD $Label1": uids(lambda m: "$Label1" in m["keywords"]),
            "UNKEYWORD $Label1": uids(lambda m: "$Label1" not in m["keywords"]),
            "KEYWORD $Junk": [14],
            "KEYWORD $NeverUsed": [],
            "UNKEYWORD $NeverUsed": uids(lambda m: True),
            "SAVEDATESUPPORTED": uids(lambda m: True),
        }
        for args, want in cases.items():
            self.check(r, args, want)

    def test_sequence_and_uid_sets(self):
        r = self.conn()
        self.check(r, "1:3,7", [1, 2, 3, 7])
        self.check(r, "48:*", [48, 49, 50])
        self.check(r, "UID 10:12", [10, 11, 12])
        self.check(r, "UID 49:100", [49, 50])
        self.check(r, "*", [50])
        self.check(r, "45:60", [45, 46, 47, 48, 49, 50])  # beyond the end: no match, no error

    def test_date_keys(self):
        r = self.conn()
        cases = {
            "BEFORE 3-Jan-2024": uids(lambda m: m["iday_utc"] < 3),
            "ON 3-Jan-2024": uids(lambda m: m["iday_utc"] == 3),
            "ON 1-Jan-2024": uids(lambda m: m["iday_utc"] == 1),
            "ON 31-Dec-2023": uids(lambda m: m["iday_utc"] == 0),
            'SINCE "27-Jan-2024"': uids(lambda m: m["iday_utc"] >= 27),
            "SINCE 29-Jan-2024": uids(lambda m: m["iday_utc"] >= 29),
            # SENT* read the Date: field's own day, whatever its zone
            "SENTBEFORE 2-Mar-2023": uids(lambda m: m["sday"] < 2),
            "SENTON 5-Mar-2023": uids(lambda m: m["sday"] == 5),
            "SENTON 4-Mar-2023": uids(lambda m: m["sday"] == 4),
            "SENTSINCE 28-Mar-2023": uids(lambda m: m["sday"] >= 28),
            "SENTSINCE 3-Mar-2023 SENTBEFORE 5-Mar-2023": uids(lambda m: 3 <= m["sday"] < 5),
            "BEFORE 1-Jan-2000": [],
        }
        for args, want in cases.items():
            self.check(r, args, want)
        # Save date is now: today matches everything, yesterday nothing.
        today = time.gmtime()
        day = f"{today.tm_mday}-{MONTHS[today.tm_mon - 1]}-{today.tm_year}"
        self.check(r, f"SAVEDON {day}", uids(lambda m: True))
        self.check(r, f"SAVEDSINCE {day}", uids(lambda m: True))
        self.check(r, f"SAVEDBEFORE {day}", [])

    def test_within_older_younger(self):
        r = self.conn()
        self.check(r, "OLDER 1", uids(lambda m: True))  # all of 2024-01
        self.check(r, "YOUNGER 60", [])
        t = MSGS[10]["itime"]
        age = int(time.time()) - t
        self.check(r, f"YOUNGER {age - 100}", uids(lambda m: m["itime"] > t))
        self.check(r, f"OLDER {age + 100}", uids(lambda m: m["itime"] < t))

    def test_size_keys(self):
        r = self.conn()
        sizes = [len(x) for x in RAW]
        pivot = sorted(sizes)[25]
        self.check(r, f"LARGER {pivot}", [i + 1 for i, s in enumerate(sizes) if s > pivot])
        self.check(r, f"SMALLER {pivot}", [i + 1 for i, s in enumerate(sizes) if s < pivot])
        self.check(r, "SMALLER 0", [])

    def test_address_keys(self):
        r = self.conn()
        self.check(r, "FROM user3@example.com", uids(lambda m: m["i"] % 5 == 3))
        self.check(r, 'FROM "User B"', uids(lambda m: m["i"] % 5 == 1))
        self.check(r, "TO team2", uids(lambda m: any("team2" in t for t in m["to"])))
        # The second address of To: counts too.
        self.check(r, "TO second@y.org", [44])
        self.check(r, 'TO "Second Person"', [44])
        self.check(r, "CC boss", uids(lambda m: m["cc"] is not None))
        self.check(r, "BCC secret", uids(lambda m: m["bcc"] is not None))
        self.check(r, "BCC nobody", [])

    def test_subject_and_header_keys(self):
        r = self.conn()
        self.check(r, "SUBJECT report", uids(lambda m: m["subject"].startswith("Report")))
        self.check(r, 'SUBJECT "Report 4"', [5, 41, 42, 44, 45, 46, 47, 48, 49, 50])
        self.check(r, 'SUBJECT "café"', [43])  # RFC 2047 decoded
        self.check(r, "HEADER X-Custom alpha", [41])
        self.check(r, "HEADER x-custom GAMMA", [42])
        self.check(r, 'HEADER X-Custom ""', [41, 42])  # presence
        self.check(r, "HEADER Message-ID <msg17@example.com>", [18])
        self.check(r, 'HEADER X-Missing ""', [])

    def test_body_and_text_keys(self):
        r = self.conn()
        self.check(r, "BODY filler", uids(lambda m: "filler" in m["body"] and m["i"] not in
                                          (20, 21, 22, 23, 30, 31)))
        self.check(r, "BODY ZEBRA", [23])         # multipart text part, any case
        self.check(r, "BODY giraffe", [])         # not a text part
        self.check(r, 'BODY "grüße"', [21])         # quoted-printable UTF-8
        self.check(r, 'BODY "köln"', [21])
        self.check(r, 'BODY "отпуске"', [22])       # base64 UTF-8
        self.check(r, 'BODY "café"', [24])          # Latin-1 converted
        self.check(r, "BODY qz", [31, 32])        # 2 characters: a scan, still exact
        self.check(r, "BODY Report", [])          # headers are not body
        self.check(r, "TEXT report", uids(lambda m: m["subject"].startswith("Report")))
        self.check(r, "TEXT msg17@", [18])

    def test_charset_literal_and_badcharset(self):
        r = self.conn()
        needle = "отпуске".encode()
        r.send(f"t1 SEARCH CHARSET UTF-8 BODY {{{len(needle)}}}\r\n".encode())
        self.assertTrue(r.line().startswith("+ "))
        r.send(needle + b"\r\n")
        lines = r.until_tagged("t1")
        self.assertEqual(lines, ["* SEARCH 22", "t1 OK SEARCH completed"])
        # ISO-8859-1 is converted with iconv
        latin = "café".encode("latin-1")
        r.send(f"t2 SEARCH CHARSET ISO-8859-1 BODY {{{len(latin)}+}}\r\n".encode() + latin
               + b"\r\n")
        self.assertEqual(r.until_tagged("t2"), ["* SEARCH 24", "t2 OK SEARCH completed"])
        lines = r.cmd("t3", "SEARCH CHARSET X-NO-SUCH-CHARSET BODY x")
        self.assertEqual(lines, ["t3 NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset"])
        lines = r.cmd("t4", "SEARCH CHARSET US-ASCII SUBJECT report NOT 1:40")
        self.assertEqual(lines[0], "* SEARCH " + " ".join(str(u) for u in range(41, 51)
                                                          if u != 43))

    def test_or_not_parentheses(self):
        r = self.conn()
        self.check(r, "OR DRAFT KEYWORD $Junk", [8, 14])
        self.check(r, "NOT SEEN", uids(lambda m: "\\Seen" not in m["flags"]))
        self.check(r, "(FLAGGED SEEN) NOT 1", uids(lambda m: m["i"] % 10 == 0 and m["i"] > 0))
        self.check(r, "OR (DRAFT SEEN) (UID 1:3 NOT SEEN)", [2])
        self.check(r, "NOT (OR SEEN FLAGGED)",
                   uids(lambda m: m["i"] % 2 == 1 and m["i"] % 5 != 0))
        self.check(r, "OR OR DRAFT 1 KEYWORD $Junk", [1, 8, 14])
        self.check(r, "NOT NOT NOT ALL", [])
        self.check(r, "SEEN FLAGGED ANSWERED BODY needle", [31])
        self.check(r, "SEEN FLAGGED ANSWERED BODY filler", [])  # i=30: body replaced
        self.check(r, "SEEN FLAGGED ANSWERED", [1, 31])

    def test_bad_programs(self):
        r = self.conn()
        for args in ["", "FOO", "BEFORE 32-Jan-2024", "LARGER x", "OR SEEN", "NOT",
                     "UID", "KEYWORD", "HEADER", "()", "RETURN (BOGUS) ALL",
                     "RETURN ALL ALL", "SEEN)", "OLDER 0", "CHARSET", "EMAILID a.b"]:
            lines = r.cmd("b", f"SEARCH {args}")
            self.assertTrue(lines[-1].startswith("b BAD "), (args, lines))
        r.cmd("b", "SEARCH " + "NOT " * 300 + "ALL")
        self.assertTrue(r.cmd("c", "NOOP")[-1].startswith("c OK"))

    def test_modseq_search(self):
        r = self.conn()
        lines = r.cmd("t", "SEARCH MODSEQ 1 1:2")
        # The first CONDSTORE enabling command names the mailbox's modseq.
        self.assertRegex(lines.pop(0), r"^\* OK \[HIGHESTMODSEQ \d+\]")
        self.assertRegex(lines[0], r"^\* SEARCH 1 2 \(MODSEQ \d+\)$")
        lines = r.cmd("t", 'SEARCH MODSEQ "/flags/\\\\draft" all 1 UID 8')
        self.assertRegex(lines[0], r"^\* SEARCH 8 \(MODSEQ \d+\)$")
        lines = r.cmd("t", "SEARCH MODSEQ 999999999")
        self.assertEqual(lines[0], "* SEARCH")
        lines = r.cmd("t", "SEARCH RETURN (COUNT) MODSEQ 1 1:3")
        self.assertRegex(lines[0], r'^\* ESEARCH \(TAG "t"\) COUNT 3 MODSEQ \d+$')

    def test_emailid_threadid(self):
        r = self.conn()
        # Without FETCH in this branch the ids cannot be read back: check
        # that well-formed ids that exist nowhere match nothing.
        self.check(r, "EMAILID Mnone", [])
        self.check(r, "THREADID Tnone", [])

    # ---- ESEARCH ----

    def test_esearch_return_options(self):
        r = self.conn()
        self.assertEqual(r.cmd("A1", "SEARCH RETURN (MIN MAX COUNT) FLAGGED"),
                         ['* ESEARCH (TAG "A1") MIN 1 MAX 46 COUNT 10',
                          "A1 OK SEARCH completed"])
        self.assertEqual(r.cmd("A2", "SEARCH RETURN () DRAFT")[0],
                         '* ESEARCH (TAG "A2") ALL 8')
        self.assertEqual(r.cmd("A3", "SEARCH RETURN (ALL) UID 1:5,7,9:10")[0],
                         '* ESEARCH (TAG "A3") ALL 1:5,7,9:10')
        self.assertEqual(r.cmd("A4", "UID SEARCH RETURN (MIN MAX) 1:5000"),
                         ['* ESEARCH (TAG "A4") UID MIN 1 MAX 50',
                          "A4 OK UID SEARCH completed"])
        # Nothing found: no MIN/MAX/ALL, COUNT 0 still given.
        self.assertEqual(r.cmd("A5", "SEARCH RETURN (MIN MAX ALL COUNT) BODY nowhere-xyz")[0],
                         '* ESEARCH (TAG "A5") COUNT 0')
        self.assertEqual(r.cmd("A6", "SEARCH RETURN (MIN) BODY nowhere-xyz")[0],
                         '* ESEARCH (TAG "A6")')

    def test_rev2_gets_esearch(self):
        r = self.conn(rev2=True)
        self.assertEqual(r.cmd("B1", "SEARCH DRAFT"),
                         ['* ESEARCH (TAG "B1") ALL 8', "B1 OK SEARCH completed"])
        self.assertEqual(r.cmd("B2", "UID SEARCH KEYWORD $Junk"),
                         ['* ESEARCH (TAG "B2") UID ALL 14', "B2 OK UID SEARCH completed"])
        self.assertEqual(r.cmd("B3", "SEARCH BODY nowhere-xyz"),
                         ['* ESEARCH (TAG "B3")', "B3 OK SEARCH completed"])

    # ---- SEARCHRES ----

    def test_searchres_save_and_dollar(self):
        r = self.conn()
        self.assertEqual(r.cmd("C1", "SEARCH RETURN (SAVE) KEYWORD $Label1"),
                         ["C1 OK SEARCH completed"])
        label = uids(lambda m: "$Label1" in m["keywords"])
        self.check(r, "$", label)
        self.check(r, "UID $", label)
        self.check(r, "$ SEEN", [])  # $Label1 is on odd i: unseen
        self.assertEqual(self.search(r, "$", cmd="UID SEARCH"), label)
        self.check(r, "OR $ 1", [1] + label)
        # SAVE with MIN only saves MIN; with COUNT everything.
        r.cmd("C2", "SEARCH RETURN (SAVE MIN) KEYWORD $Label1")
        self.check(r, "$", [2])
        self.assertEqual(r.cmd("C3", "SEARCH RETURN (SAVE MIN MAX) KEYWORD $Label1")[0],
                         '* ESEARCH (TAG "C3") MIN 2 MAX 50')
        self.check(r, "$", [2, 50])
        r.cmd("C4", "SEARCH RETURN (SAVE COUNT MIN) DRAFT")
        self.check(r, "$", [8])
        # A BAD SEARCH leaves $ alone; a failed SAVE empties it.
        r.cmd("C5", "SEARCH RETURN (SAVE) BOGUS")
        self.check(r, "$", [8])
        r.cmd("C6", "SEARCH RETURN (SAVE) CHARSET X-NOPE BODY x")
        self.check(r, "$", [])

    def test_expunge_renumbers_search_not_uid_search(self):
        m = self.imap()
        self.addCleanup(m.logout)
        m.create("E")
        for i, raw in enumerate(RAW[:6]):
            m.append("E", "(\\Deleted)" if i == 2 else None, None, raw)
        r = self.conn("E", examine=False)
        self.assertEqual(r.cmd("x", "SEARCH RETURN (SAVE) 2,5"), ["x OK SEARCH completed"])
        m.select("E")
        m.expunge()                                   # another session removes uid 3
        # SEARCH by number: no EXPUNGE, the client's numbering holds.
        self.assertEqual(r.cmd("a", "SEARCH ALL"), ["* SEARCH 1 2 3 4 5 6",
                                                    "a OK SEARCH completed"])
        # UID SEARCH may carry the EXPUNGE, after its own answer.
        self.assertEqual(r.cmd("b", "UID SEARCH ALL"), ["* SEARCH 1 2 3 4 5 6",
                                                        "* 3 EXPUNGE",
                                                        "b OK UID SEARCH completed"])
        self.check(r, "ALL", [1, 2, 3, 4, 5])
        self.assertEqual(self.search(r, "ALL", cmd="UID SEARCH"), [1, 2, 4, 5, 6])
        self.check(r, "UID 4", [3])
        self.check(r, "$", [2, 4])                     # saved uids 2 and 5, renumbered
        self.assertEqual(self.search(r, "$", cmd="UID SEARCH"), [2, 5])

    def test_recent_new_old(self):
        m = self.imap()
        self.addCleanup(m.logout)
        m.create("R")
        m.append("R", "(\\Seen)", None, RAW[0])
        m.append("R", None, None, RAW[1])
        r = self.conn("R", examine=False)   # claims \Recent for both
        self.check(r, "RECENT", [1, 2])
        self.check(r, "NEW", [2])
        self.check(r, "OLD", [])
        r2 = self.conn("R", examine=False)
        self.check(r2, "RECENT", [])
        self.check(r2, "OLD", [1, 2])

    # ---- SORT ----

    def test_sort_keys(self):
        m = self.imap()
        self.addCleanup(m.logout)
        m.create("O")
        spec = [  # from, to, cc, subject, date, internal, body size
            ("Zed <zed@a.org>", "Mia <mia@b.org>", "cat@c.org", "Re: beta", "03 Mar 2023",
             "05-Jan-2024", 10),
            ("Anna <ann@a.org>", "bob@b.org", None, "alpha", "01 Mar 2023", "04-Jan-2024", 300),
            ("\"Bert\" <bert@a.org>", "Yan <ada@b.org>", "ant@c.org", "gamma", "02 Mar 2023",
             "06-Jan-2024", 50),
            ("carl@a.org", "Xu <carl@b.org>", "bee@c.org", "Fwd: alpha", "05 Mar 2023",
             "01-Jan-2024", 200),
        ]
        for frm, to, cc, subj, date, idate, size in spec:
            h = f"From: {frm}\r\nTo: {to}\r\n" + (f"Cc: {cc}\r\n" if cc else "")
            h += f"Subject: {subj}\r\nDate: {date} 10:00:00 +0000\r\n\r\n" + "x" * size + "\r\n"
            m.append("O", None, f'"{idate} 10:00:00 +0000"', h.encode())
        r = self.conn("O")

        def sort(args):
            lines = r.cmd("s", f"SORT {args}")
            self.assertEqual(lines[-1], "s OK SORT completed", lines)
            return [int(x) for x in lines[0].split()[2:]]
        self.assertEqual(sort("(ARRIVAL) UTF-8 ALL"), [4, 2, 1, 3])
        self.assertEqual(sort("(DATE) UTF-8 ALL"), [2, 3, 1, 4])
        self.assertEqual(sort("(REVERSE DATE) UTF-8 ALL"), [4, 1, 3, 2])
        self.assertEqual(sort("(SIZE) UTF-8 ALL"), [1, 3, 4, 2])
        self.assertEqual(sort("(SUBJECT) UTF-8 ALL"), [2, 4, 1, 3])  # alpha, alpha, beta, gamma
        self.assertEqual(sort("(SUBJECT REVERSE DATE) UTF-8 ALL"), [4, 2, 1, 3])
        self.assertEqual(sort("(FROM) UTF-8 ALL"), [2, 3, 4, 1])      # ann bert carl zed
        self.assertEqual(sort("(TO) UTF-8 ALL"), [3, 2, 4, 1])        # ada bob carl mia
        self.assertEqual(sort("(CC) UTF-8 ALL"), [2, 3, 4, 1])        # "" ant bee cat
        self.assertEqual(sort("(DISPLAYFROM) UTF-8 ALL"), [2, 3, 4, 1])  # Anna Bert carl@ Zed
        self.assertEqual(sort("(DISPLAYTO) UTF-8 ALL"), [2, 1, 4, 3])    # bob@ Mia Xu Yan
        self.assertEqual(sort("(SIZE) UTF-8 NOT 3"), [1, 4, 2])
        lines = r.cmd("u", "UID SORT (REVERSE SIZE) US-ASCII SUBJECT alpha")
        self.assertEqual(lines, ["* SORT 2 4", "u OK UID SORT completed"])
        self.assertTrue(r.cmd("b", "SORT (BOGUS) UTF-8 ALL")[-1].startswith("b BAD"))
        self.assertTrue(r.cmd("b", "SORT (DATE) ALL")[-1].startswith("b BAD"))
        self.assertTrue(r.cmd("b", "SORT (REVERSE) UTF-8 ALL")[-1].startswith("b BAD"))
        self.assertEqual(r.cmd("b", "SORT (DATE) X-NOPE ALL")[-1],
                         "b NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset")

    # ---- THREAD ----

    def test_thread(self):
        m = self.imap()
        self.addCleanup(m.logout)
        m.create("T")
        spec = [  # message-id, references, subject, date-day
            ("<a@x>", "", "Topic", 1),
            ("<b@x>", "<a@x>", "Re: Topic", 2),
            ("<c@x>", "<a@x> <missing@x>", "Re: Topic", 4),
            ("<d@x>", "<b@x>", "Re: Topic", 3),
            ("<e@x>", "", "Other", 5),
            ("<f@x>", "", "Re: Other", 6),
            ("<g@x>", "<nothere@x>", "Lonely", 7),
            ("<h@x>", "<nothere@x>", "Lonely too", 8),
        ]
        for mid, refs, subj, day in spec:
            h = f"From: a@b.c\r\nSubject: {subj}\r\nMessage-ID: {mid}\r\n"
            if refs:
                h += f"References: {refs}\r\n"
            h += f"Date: {day:02d} Mar 2023 10:00:00 +0000\r\n\r\nbody\r\n"
            m.append("T", None, None, h.encode())
        r = self.conn("T")
        # REFERENCES: a has children b (-> d) and c (via a pruned dummy);
        # f joins e by subject as a reply; g and h share a dummy parent.
        self.assertEqual(r.cmd("t", "THREAD REFERENCES UTF-8 ALL"),
                         ["* THREAD (1 (2 4)(3))(5 6)((7)(8))", "t OK THREAD completed"])
        self.assertEqual(r.cmd("t", "THREAD ORDEREDSUBJECT UTF-8 ALL"),
                         ["* THREAD (1 (2)(4)(3))(5 6)(7)(8)", "t OK THREAD completed"])
        self.assertEqual(r.cmd("t", "UID THREAD ORDEREDSUBJECT UTF-8 1:2")[0],
                         "* THREAD (1 2)")
        self.assertEqual(r.cmd("t", "THREAD REFERENCES UTF-8 BODY nothing-here")[0],
                         "* THREAD")
        self.assertTrue(r.cmd("b", "THREAD BOGUS UTF-8 ALL")[-1].startswith("b BAD"))

    def test_capabilities(self):
        r = Raw(self.server.imaps_port, tls=True)
        self.addCleanup(r.close)
        r.line()
        lines = r.cmd("l", f"LOGIN {self.server.user} {self.server.password}")
        for cap in ["ESEARCH", "SEARCHRES", "WITHIN", "SORT", "SORT=DISPLAY",
                    "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES"]:
            self.assertIn(" " + cap + " ", lines[-1] + " ")
