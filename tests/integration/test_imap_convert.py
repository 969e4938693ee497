"""test_imap_convert.py: CONVERT, UID CONVERT and CONVERSIONS (RFC 5259).

Exact wire formats over raw sockets, in the RFC's syntax: one conversion per
command given by its convert-params (a quoted target type or NIL for the
default conversion, then the parameters), then the data items; the CONVERTED
response with its TAG correlator, the UID first and BODYPARTSTRUCTURE before
BINARY; charset conversion from ISO-8859-2, KOI8-R, Shift_JIS and UTF-16
(to UTF-8 and back out to other charsets), text/html to text/plain,
quoted-printable and base64 re-encoding, <partial> of the converted bytes,
BINARY.SIZE equal to the length of BINARY, AVAILABLECONVERSIONS, header
conversion of encoded words with CHARSET, the ERROR phrases (BADPARAMETERS,
MISSINGPARAMETERS, TEMPFAIL) of what cannot be converted, the tagged OK or
NO, the request limits (config keys), and that CONVERT leaves \\Seen alone.
"""
import base64
import quopri
import re

from harness import ServerTestCase
from test_imap_fetch import Conn, connect

LITERAL = re.compile(rb"(~?)\{(\d+)\}\r\n")


def message(parts):
    """A multipart/mixed message of (content-type, cte, body bytes) parts."""
    out = (b"From: a@example.com\r\nTo: b@example.com\r\nSubject: convert\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n")
    for ctype, cte, body in parts:
        out += b"--BB\r\nContent-Type: " + ctype.encode() + b"\r\n"
        if cte:
            out += b"Content-Transfer-Encoding: " + cte.encode() + b"\r\n"
        out += b"\r\n" + body + b"\r\n"
    return out + b"--BB--\r\n"


POLISH = "Zażółć gęślą jaźń"
RUSSIAN = "Съешь же ещё этих мягких французских булок"
JAPANESE = "日本語のテキストです"

HTML = ("<html><head><title>Ignored</title><style>p { color: red }</style>"
        "<script>alert('no');</script></head><body>"
        "<h1>Caf&eacute; &amp; bar</h1><p>First   paragraph\nwith a<br>break.</p>"
        "<p>Price: 5&nbsp;&euro; &lt;cheap&gt;</p>"
        "<ul><li>one</li><li>two</li></ul>"
        "<table><tr><th>Name</th><th>Qty</th></tr><tr><td>Apple</td><td>3</td></tr></table>"
        "<p>See <a href=\"https://example.com/x\">the site</a>.</p>"
        "<pre>  keep\n    spaces</pre></body></html>")
HTML_TEXT = ("Café & bar\r\n\r\nFirst paragraph with a\r\nbreak.\r\n\r\n"
             "Price: 5\u00a0€ <cheap>\r\n\r\n* one\r\n* two\r\n\r\n"
             "Name\tQty\r\nApple\t3\r\n\r\n"
             "See the site <https://example.com/x>.\r\n\r\n  keep\r\n    spaces\r\n")

MSG = message([
    ("text/plain; charset=iso-8859-2", "quoted-printable",
     quopri.encodestring(POLISH.encode("iso-8859-2"))),                      # 1
    ("text/plain; charset=koi8-r", "8bit", RUSSIAN.encode("koi8-r")),         # 2
    ("text/plain; charset=shift_jis", "base64",
     base64.encodebytes(JAPANESE.encode("shift_jis"))),                       # 3
    ("text/plain; charset=utf-16", "base64",
     base64.encodebytes("UTF-16 text ✓".encode("utf-16"))),                   # 4
    ("text/html; charset=windows-1252", "quoted-printable",
     quopri.encodestring(HTML.encode("cp1252"))),                             # 5
    ("image/png", "base64", base64.encodebytes(b"\x89PNG\r\n\x1a\nxx")),      # 6
    ("text/plain; charset=utf-8", None, "plain <text> & more".encode()),      # 7
    ("text/plain; charset=x-unknown-charset", None, b"abc"),                  # 8
    ("text/plain; charset=utf-8", "x-uuencode", b"begin 644 x\r\nend"),      # 9
])


def parse_value(buf, i):
    """One value of a response at buf[i:]: a list (Python list), a quoted
    string (str), a literal (bytes), NIL (None) or an atom (str, numbers
    too). Returns (value, next index)."""
    c = buf[i:i + 1]
    if c == b"(":
        out, i = [], i + 1
        while buf[i:i + 1] != b")":
            if buf[i:i + 1] == b" ":
                i += 1
                continue
            v, i = parse_value(buf, i)
            out.append(v)
        return out, i + 1
    if c == b'"':
        j, s = i + 1, b""
        while buf[j:j + 1] != b'"':
            if buf[j:j + 1] == b"\\":
                j += 1
            s += buf[j:j + 1]
            j += 1
        return s.decode(), j + 1
    lit = LITERAL.match(buf, i)
    if lit:
        n = int(lit.group(2))
        return Literal(buf[lit.end():lit.end() + n], bool(lit.group(1))), lit.end() + n
    j = i
    while j < len(buf) and buf[j:j + 1] not in (b" ", b")"):
        j += 1
    atom = buf[i:j].decode()
    return (None if atom == "NIL" else atom), j


class Literal(bytes):
    """A literal's bytes; .literal8 when it was sent as ~{n}."""
    def __new__(cls, data, literal8):
        b = super().__new__(cls, data)
        b.literal8 = literal8
        return b


def items(resp):
    """(seq, tag, {name: value}, [names in order]) of one CONVERTED response."""
    m = re.match(rb'^\* (\d+) CONVERTED \(TAG "([^"]*)"\) ', resp)
    assert m, resp
    lst, end = parse_value(resp, m.end())
    assert end == len(resp), resp
    names = lst[0::2]
    return int(m.group(1)), m.group(2).decode(), dict(zip(names, lst[1::2])), names


ENCODED_HEADER = (
    "From: =?iso-8859-2?q?Pawe=B3?= <p@example.com>\r\n"
    "To: b@example.com\r\n"
    "Subject: =?koi8-r?B?" + base64.b64encode(RUSSIAN.encode("koi8-r")).decode() + "?=\r\n"
    "X-Kept: =?x-no-such-charset?q?abc?= and =?utf-8?q?caf=C3=A9?=\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n"
    "--BB\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Content-Description: =?iso-8859-2?q?=BF=F3=B3w?=\r\n\r\nbody\r\n--BB--\r\n").encode()


def words(value):
    """The text of a header value's encoded words, decoded, and their
    charsets."""
    import email.header
    parts = email.header.decode_header(value)
    text = "".join(p.decode(cs or "ascii") if isinstance(p, bytes) else p for p, cs in parts)
    return text, {cs for _, cs in parts if cs}


class ConvertTest(ServerTestCase):
    def setUp(self):
        self.c, _ = connect(self.server, messages=[MSG])

    def tearDown(self):
        self.c.close()

    def convert(self, tag, params, data, seq="1", uid=False):
        lines = self.c.run(tag, f"{'UID ' if uid else ''}CONVERT {seq} {params} {data}")
        return lines[:-1], lines[-1].decode()

    def one(self, params, data):
        lines, tagged = self.convert("c", params, data)
        self.assertEqual(len(lines), 1, lines)
        return items(lines[0])[2], tagged

    def test_capability_advertises_convert_and_binary(self):
        caps = self.c.run("k", "CAPABILITY")[0].decode().split()
        self.assertIn("CONVERT", caps)
        self.assertIn("BINARY", caps)  # RFC 5259 3.1: CONVERT needs BINARY

    def test_charsets_to_utf8(self):
        for part, want in ((1, POLISH), (2, RUSSIAN), (3, JAPANESE), (4, "UTF-16 text ✓")):
            got, tagged = self.one('("text/plain" ("charset" "utf-8"))', f"BINARY[{part}]")
            self.assertEqual(tagged, "c OK CONVERT completed")
            self.assertEqual(got[f"BINARY[{part}]"].decode("utf-8"), want, part)

    def test_default_charset_is_utf8_and_names_are_case_insensitive(self):
        got, _ = self.one('("TEXT/Plain")', "binary[2]")
        self.assertEqual(got["BINARY[2]"].decode(), RUSSIAN)
        # RFC 5259 section 7: parameter names are case-insensitive.
        got, _ = self.one('("text/plain" (CharSet "KOI8-R"))', "BINARY[2]")
        self.assertEqual(got["BINARY[2]"], RUSSIAN.encode("koi8-r"))

    def test_items_may_come_before_the_params(self):
        lines, tagged = self.convert("o", "BINARY[7]", '("text/plain")')
        self.assertEqual(items(lines[0])[2]["BINARY[7]"], b"plain <text> & more")
        self.assertEqual(tagged, "o OK CONVERT completed")

    def test_response_correlator_and_sequence(self):
        lines, tagged = self.convert("A0042", '("text/plain")', "(BINARY[7])")
        seq, tag, got, _ = items(lines[0])
        self.assertEqual((seq, tag), (1, "A0042"))
        self.assertEqual(lines[0][:37], b'* 1 CONVERTED (TAG "A0042") (BINARY[7')
        self.assertEqual(tagged, "A0042 OK CONVERT completed")

    def test_uid_convert_carries_uid_first(self):
        lines, tagged = self.convert("u", '("text/plain")', "(BINARY[7] BINARY.SIZE[7])",
                                     seq="1", uid=True)
        _, _, got, names = items(lines[0])
        self.assertEqual(names[0], "UID")
        self.assertEqual(got["UID"], "1")
        self.assertTrue(lines[0].decode(errors="replace").startswith(
            '* 1 CONVERTED (TAG "u") (UID 1 BINARY[7] {19}'), lines[0])
        self.assertEqual(tagged, "u OK UID CONVERT completed")
        # UID asked for by CONVERT: also first.
        lines, _ = self.convert("w", '("text/plain")', "(BINARY.SIZE[7] UID)")
        self.assertEqual(items(lines[0])[3], ["UID", "BINARY.SIZE[7]"])
        # A UID that is not there is ignored, as UID FETCH does.
        lines, tagged = self.convert("v", '("text/plain")', "BINARY[7]", seq="99", uid=True)
        self.assertEqual(lines, [])
        self.assertEqual(tagged, "v OK UID CONVERT completed")

    def test_to_other_charsets(self):
        cases = ((1, "iso-8859-2", POLISH), (2, "koi8-r", RUSSIAN), (3, "shift_jis", JAPANESE),
                 (2, "utf-16be", RUSSIAN), (3, "euc-jp", JAPANESE))
        for part, cs, text in cases:
            got, tagged = self.one(f'("text/plain" ("charset" "{cs}"))', f"BINARY[{part}]")
            self.assertEqual(tagged, "c OK CONVERT completed", cs)
            self.assertEqual(got[f"BINARY[{part}]"], text.encode(cs), cs)
        # UTF-16 has NULs: a literal8 (RFC 3516 4.3).
        got, _ = self.one('("text/plain" ("charset" "utf-16be"))', "BINARY[2]")
        self.assertTrue(got["BINARY[2]"].literal8)

    def test_html_to_text(self):
        got, tagged = self.one('("text/plain" ("charset" "utf-8"))', "BINARY[5]")
        self.assertEqual(tagged, "c OK CONVERT completed")
        text = got["BINARY[5]"].decode()
        self.assertEqual(text, HTML_TEXT)
        self.assertNotIn("alert", text)
        self.assertNotIn("color", text)
        self.assertNotIn("Ignored", text)

    def test_html_stays_html_in_another_charset(self):
        got, _ = self.one('("text/html" ("charset" "utf-8"))', "BINARY[5]")
        self.assertEqual(got["BINARY[5]"].decode(), HTML.replace("\n", "\r\n"))

    def test_plain_to_html(self):
        got, _ = self.one('("text/html")', "BINARY[7]")
        self.assertIn(b"<pre>plain &lt;text&gt; &amp; more</pre>", got["BINARY[7]"])

    def test_default_conversion(self):
        # NIL: the server picks text/plain for any text part (html by its
        # text); BODYPARTSTRUCTURE says what it picked.
        got, tagged = self.one("(NIL)", "(BINARY[5] BODYPARTSTRUCTURE[5])")
        self.assertEqual(tagged, "c OK CONVERT completed")
        self.assertEqual(got["BINARY[5]"].decode(), HTML_TEXT)
        self.assertEqual(got["BODYPARTSTRUCTURE[5]"][:3], ["text", "plain", ["charset", "utf-8"]])
        got, _ = self.one('(NIL ("charset" "koi8-r"))', "BINARY[2]")
        self.assertEqual(got["BINARY[2]"], RUSSIAN.encode("koi8-r"))

    def test_reencoding_base64_and_quoted_printable(self):
        got, tagged = self.one(
            '("text/plain" ("charset" "utf-8" "content-transfer-encoding" "base64"))',
            "(BINARY[1] BODYPARTSTRUCTURE[1])")
        self.assertEqual(tagged, "c OK CONVERT completed")
        self.assertEqual(base64.b64decode(got["BINARY[1]"]).decode(), POLISH)
        self.assertEqual(got["BODYPARTSTRUCTURE[1]"][5], "base64")
        got, _ = self.one(
            '("text/plain" ("charset" "utf-8" "content-transfer-encoding" "quoted-printable"))',
            "BINARY[1]")
        qp = got["BINARY[1]"]
        self.assertEqual(quopri.decodestring(qp).decode(), POLISH)
        self.assertTrue(all(b < 0x80 for b in qp))
        self.assertIn(b"=C5=BC", qp)  # ż

    def test_bodypartstructure_comes_first_and_matches_binary(self):
        lines, _ = self.convert("s", '("text/plain" ("charset" "utf-8"))',
                                "(BINARY[5] BINARY.SIZE[5] BODYPARTSTRUCTURE[5])", uid=True)
        _, _, got, names = items(lines[0])
        self.assertEqual(names, ["UID", "BODYPARTSTRUCTURE[5]", "BINARY[5]", "BINARY.SIZE[5]"])
        body = got["BINARY[5]"]
        self.assertEqual(got["BODYPARTSTRUCTURE[5]"],
                         ["text", "plain", ["charset", "utf-8"], None, None, "8bit",
                          str(len(body)), str(body.count(b"\n"))])
        got, _ = self.one('("text/plain" ("charset" "us-ascii"))', "BODYPARTSTRUCTURE[7]")
        self.assertEqual(got["BODYPARTSTRUCTURE[7]"],
                         ["text", "plain", ["charset", "us-ascii"], None, None, "7bit", "19", "0"])
        got, _ = self.one('("text/plain" ("charset" "utf-16le"))', "BODYPARTSTRUCTURE[2]")
        self.assertEqual(got["BODYPARTSTRUCTURE[2]"][5], "binary")

    def test_size_equals_length_and_partial(self):
        got, _ = self.one('("text/plain")', "(BINARY[5] BINARY.SIZE[5])")
        self.assertEqual(int(got["BINARY.SIZE[5]"]), len(got["BINARY[5]"]))
        self.assertEqual(int(got["BINARY.SIZE[5]"]), len(HTML_TEXT.encode()))
        for charset in ("koi8-r", "utf-16le"):
            got, _ = self.one(f'("text/plain" ("charset" "{charset}"))',
                              "(BINARY[2] BINARY.SIZE[2])")
            self.assertEqual(int(got["BINARY.SIZE[2]"]), len(got["BINARY[2]"]), charset)
        # <offset.length> cuts the converted bytes; the name gives the origin.
        got, _ = self.one('("text/plain")', "(BINARY[5]<6.3> BINARY.SIZE[5])")
        self.assertEqual(got["BINARY[5]<6>"], HTML_TEXT.encode()[6:9])
        self.assertEqual(int(got["BINARY.SIZE[5]"]), len(HTML_TEXT.encode()))
        got, _ = self.one('("text/plain")', "BINARY[5]<100000.10>")
        self.assertEqual(got["BINARY[5]<100000>"], b"")

    def test_available_conversions(self):
        got, tagged = self.one("(NIL)", "(AVAILABLECONVERSIONS[5] AVAILABLECONVERSIONS[6] "
                                        "AVAILABLECONVERSIONS[7] AVAILABLECONVERSIONS[] "
                                        "AVAILABLECONVERSIONS[42])")
        self.assertEqual(tagged, "c OK CONVERT completed")
        self.assertEqual(got["AVAILABLECONVERSIONS[5]"], ["text/plain", "text/html"])
        self.assertEqual(got["AVAILABLECONVERSIONS[7]"], ["text/plain", "text/html"])
        self.assertEqual(got["AVAILABLECONVERSIONS[6]"], [])     # image/png
        self.assertEqual(got["AVAILABLECONVERSIONS[]"], [])      # multipart/mixed
        self.assertEqual(got["AVAILABLECONVERSIONS[42]"],
                         ["ERROR", "No such body part", "BADPARAMETERS", None, "text/plain", []])

    def test_no_such_conversion_is_an_error_phrase(self):
        got, tagged = self.one('("text/plain")', "BINARY[6]")
        self.assertEqual(got["BINARY[6]"], ["ERROR", "No such conversion for this part",
                                            "BADPARAMETERS", "image/png", "text/plain", []])
        # Every conversion failed: NO (RFC 5259 section 9 allows OK or NO).
        self.assertEqual(tagged, "c NO No conversion succeeded")
        for params, data, frm, to in (('("image/png")', "BINARY[7]", "text/plain", "image/png"),
                                      ('("application/pdf")', "BINARY[7]", "text/plain",
                                       "application/pdf"),
                                      ('("text/plain")', "BINARY[]", "multipart/mixed",
                                       "text/plain"),
                                      ("(NIL)", "BINARY[6]", "image/png", "image/png")):
            got, tagged = self.one(params, data)
            self.assertEqual(got[data][2:5], ["BADPARAMETERS", frm, to], (params, data))
            self.assertEqual(tagged, "c NO No conversion succeeded")

    def test_one_success_makes_ok(self):
        got, tagged = self.one('("text/plain")', "(BINARY[6] BINARY[7])")
        self.assertEqual(got["BINARY[6]"][0], "ERROR")
        self.assertEqual(got["BINARY[7]"], b"plain <text> & more")
        self.assertEqual(tagged, "c OK CONVERT completed")

    def test_bad_parameters(self):
        for params, listed in (('("text/plain" ("x-colour" "blue" "charset" "utf-8"))',
                                ["x-colour", "blue"]),
                               ('("text/plain" ("charset" "no-such-charset-x"))',
                                ["charset", "no-such-charset-x"]),
                               ('("text/plain" ("content-transfer-encoding" "x-uue"))',
                                ["content-transfer-encoding", "x-uue"]),
                               ('("text/plain" ("charset" "utf-8" "charset" "koi8-r"))',
                                ["charset", "utf-8", "charset", "koi8-r"])):
            got, tagged = self.one(params, "BINARY[7]")
            self.assertEqual(got["BINARY[7]"][0], "ERROR", params)
            self.assertEqual(got["BINARY[7]"][2:], ["BADPARAMETERS", "text/plain", "text/plain",
                                                    listed], params)
            self.assertEqual(tagged, "c NO No conversion succeeded")

    def test_conversion_failed(self):
        # Characters KOI8-R lacks; an unknown source charset or encoding;
        # 8-bit text asked for as 7bit.
        for params, part in (('("text/plain" ("charset" "koi8-r"))', 1),
                             ('("text/plain")', 8), ('("text/plain")', 9),
                             ('("text/plain" ("content-transfer-encoding" "7bit"))', 2)):
            got, tagged = self.one(params, f"BINARY[{part}]")
            err = got[f"BINARY[{part}]"]
            self.assertEqual(err[:1] + err[2:5], ["ERROR", "BADPARAMETERS", "text/plain",
                                                  "text/plain"], (params, part))
            self.assertEqual(tagged, "c NO No conversion succeeded")

    def test_missing_part_has_nil_source(self):
        got, tagged = self.one('("text/html")', "(BINARY[42] BINARY.SIZE[42])")
        self.assertEqual(got["BINARY[42]"], ["ERROR", "No such body part", "BADPARAMETERS",
                                             None, "text/html", []])
        self.assertEqual(got["BINARY.SIZE[42]"][3], None)

    def test_syntax_errors_are_bad(self):
        for params, data in (("(text/plain)", "BINARY[1]"), ('"text/plain"', "BINARY[1]"),
                             ('("textplain")', "BINARY[1]"), ("()", "BINARY[1]"),
                             ('("text/plain" ("charset"))', "BINARY[1]"),
                             ('("text/plain" "charset" "utf-8")', "BINARY[1]"),
                             ('("text/plain")', "UID"), ('("text/plain")', "FLAGS"),
                             ('("text/plain")', "BINARY[1]<5.0>"),
                             ('("text/plain")', "BINARY.SIZE[1]<0.5>"),
                             ('("text/plain")', "BINARY[0]"), ('("text/plain")', "()"),
                             ('("text/plain")', "BINARY.PEEK[1]"),
                             ('("text/plain")', "BINARY[1.TEXT]"),
                             ('("text/plain")', "BODY[1]"),
                             ('("text/plain")', "BODY[HEADER]"),  # NIL only (section 6)
                             ("(NIL)", "BODY[TEXT]"), ("(NIL)", "BODY[HEADER]<0.10>"),
                             ('("text/plain")', "BINARY[1] BINARY[2]")):
            lines, tagged = self.convert("b", params, data)
            self.assertEqual(lines, [], (params, data))
            self.assertTrue(tagged.startswith("b BAD "), (params, data, tagged))
        lines, tagged = self.convert("b", '("text/plain")', "BINARY[1]", seq="5")
        self.assertTrue(tagged.startswith("b BAD "), tagged)

    def test_limits(self):
        many = " ".join(f"BINARY[{n}]" for n in range(1, 12))
        lines, tagged = self.convert("m", '("text/plain")', f"({many})")
        self.assertEqual(lines, [])
        self.assertEqual(tagged, "m NO [MAXCONVERTPARTS 10] Too many parts to convert at once")
        # BINARY, BINARY.SIZE and BODYPARTSTRUCTURE of one part are one part.
        same = " ".join(f"BINARY[{n}] BINARY.SIZE[{n}] BODYPARTSTRUCTURE[{n}]"
                        for n in range(1, 11))
        lines, tagged = self.convert("n", '("text/plain")', f"({same})")
        self.assertEqual(tagged, "n OK CONVERT completed")

    def test_convert_does_not_set_seen(self):
        self.one('("text/plain")', "BINARY[7]")
        self.one("(NIL)", "BINARY[7]")
        flags = self.c.run("f", "FETCH 1 FLAGS")[0].decode()
        self.assertNotIn("\\Seen", flags)

    def test_needs_a_selected_mailbox(self):
        c = Conn(self.server.imap_port)
        c.line()
        c.cmd("l", f"LOGIN {self.server.user} {self.server.password}")
        lines = c.run("x", 'CONVERT 1 ("text/plain") BINARY[1]')
        self.assertTrue(lines[-1].startswith(b"x BAD "), lines)
        c.close()

    def test_conversions_discovery(self):
        lines = [l.decode() for l in self.c.run("d", 'CONVERSIONS "text/html" "*"')]
        self.assertIn('* CONVERSION "text/html" "text/plain" '
                      '("charset" "content-transfer-encoding")', lines)
        self.assertIn('* CONVERSION "text/html" "text/html" '
                      '("charset" "content-transfer-encoding")', lines)
        self.assertEqual(lines[-1], "d OK CONVERSIONS completed")
        lines = [l.decode() for l in self.c.run("e", 'CONVERSIONS "image/*" "*"')]
        self.assertEqual(lines, ["e OK CONVERSIONS completed"])
        lines = [l.decode() for l in self.c.run("g", 'CONVERSIONS "*" "text/plain"')]
        self.assertEqual(len(lines), 4, lines)
        # A concrete source not in the table: what AVAILABLECONVERSIONS says.
        lines = [l.decode() for l in self.c.run("i", 'CONVERSIONS "Text/CSV" "text/*"')]
        self.assertEqual(lines, ['* CONVERSION "text/csv" "text/plain" '
                                 '("charset" "content-transfer-encoding")',
                                 '* CONVERSION "text/csv" "text/csv" '
                                 '("charset" "content-transfer-encoding")',
                                 "i OK CONVERSIONS completed"])
        lines = [l.decode() for l in self.c.run("j", 'CONVERSIONS "image/png" "*"')]
        self.assertEqual(lines, ["j OK CONVERSIONS completed"])
        lines = [l.decode() for l in self.c.run("h", 'CONVERSIONS "text" "*"')]
        self.assertTrue(lines[-1].startswith("h BAD "), lines)


class ConvertHeaderTest(ServerTestCase):
    """BODY[HEADER], BODY[n.MIME]: encoded words in another charset (RFC 5259
    section 6), with the default conversion and CHARSET only."""

    def setUp(self):
        self.c, _ = connect(self.server, messages=[ENCODED_HEADER])

    def tearDown(self):
        self.c.close()

    def header(self, params, data):
        lines = self.c.run("h", f"CONVERT 1 {params} {data}")
        self.assertEqual(len(lines), 2, lines)
        return items(lines[0])[2], lines[-1].decode()

    def fields(self, raw):
        import email.parser
        return email.parser.BytesHeaderParser().parsebytes(raw)

    def test_header_to_utf8(self):
        got, tagged = self.header('(NIL ("charset" "utf-8"))', "BODY[HEADER]")
        self.assertEqual(tagged, "h OK CONVERT completed")
        raw = got["BODY[HEADER]"]
        self.assertTrue(raw.endswith(b"\r\n\r\n"))
        h = self.fields(raw)
        self.assertEqual(words(h["Subject"]), (RUSSIAN, {"utf-8"}))
        self.assertEqual(words(h["From"])[0], "Paweł <p@example.com>")
        # An unknown charset's word is kept; one already UTF-8 too.
        self.assertEqual(h["X-Kept"], "=?x-no-such-charset?q?abc?= and =?utf-8?q?caf=C3=A9?=")
        self.assertEqual(h["To"], "b@example.com")
        # RFC 2047 section 2: no encoded word over 75 characters.
        for word in re.findall(rb"=\?[^?]+\?[BbQq]\?[^?]*\?=", raw):
            self.assertLessEqual(len(word), 75, word)
        # Section 2: a line with encoded words at most 76 (folded before one).
        for line in raw.split(b"\r\n"):
            self.assertLessEqual(len(line), 76, line)
        self.assertIn(b"Subject:\r\n =?utf-8?B?", raw)

    def test_header_to_another_charset(self):
        got, _ = self.header('(NIL ("CHARSET" "iso-8859-2"))', "BODY[1.MIME]")
        h = self.fields(got["BODY[1.MIME]"])
        self.assertEqual(words(h["Content-Description"]), ("żółw", {"iso-8859-2"}))
        # Characters ISO-8859-2 lacks: the word is kept as it was.
        got, _ = self.header('(NIL ("charset" "iso-8859-2"))', "BODY[HEADER]")
        h = self.fields(got["BODY[HEADER]"])
        self.assertEqual(words(h["Subject"]), (RUSSIAN, {"koi8-r"}))
        self.assertEqual(words(h["From"]), ("Paweł <p@example.com>", {"iso-8859-2"}))

    def test_charset_is_required(self):
        got, tagged = self.header("(NIL)", "(BODY[HEADER] BODY[1.MIME])")
        self.assertEqual(got["BODY[HEADER]"],
                         ["ERROR", "A header conversion needs CHARSET", "MISSINGPARAMETERS",
                          "message/rfc822", "message/rfc822", ["charset"]])
        self.assertEqual(got["BODY[1.MIME]"][2:], ["MISSINGPARAMETERS", "text/plain",
                                                   "text/plain", ["charset"]])
        self.assertEqual(tagged, "h NO No conversion succeeded")
        got, _ = self.header('(NIL ("charset" "no-such-charset-x"))', "BODY[HEADER]")
        self.assertEqual(got["BODY[HEADER]"][2:], ["BADPARAMETERS", "message/rfc822",
                                                   "message/rfc822",
                                                   ["charset", "no-such-charset-x"]])
        got, _ = self.header('(NIL ("charset" "utf-8"))', "BODY[7.MIME]")
        self.assertEqual(got["BODY[7.MIME]"][2:4], ["BADPARAMETERS", None])


class ConvertLimitsTest(ServerTestCase):
    """imap.convert_max_messages and imap.convert_max_parts."""
    CONFIG = "[imap]\nconvert_max_messages = 2\nconvert_max_parts = 1\n"

    def test_configured_limits(self):
        c, _ = connect(self.server, messages=[MSG, MSG, MSG])
        lines = c.run("a", 'CONVERT 1:3 ("text/plain") BINARY.SIZE[7]')
        self.assertEqual(lines, [b"a NO [MAXCONVERTMESSAGES 2] Too many messages to convert "
                                 b"at once"])
        lines = c.run("b", 'CONVERT 1:2 ("text/plain") BINARY.SIZE[7]')
        self.assertEqual(len(lines), 3)
        self.assertEqual(lines[-1], b"b OK CONVERT completed")
        lines = c.run("c", 'CONVERT 1 ("text/plain") (BINARY[7] BINARY[1])')
        self.assertEqual(lines, [b"c NO [MAXCONVERTPARTS 1] Too many parts to convert at once"])
        # AVAILABLECONVERSIONS converts nothing.
        lines = c.run("d", "CONVERT 1 (NIL) (BINARY[7] AVAILABLECONVERSIONS[1])")
        self.assertEqual(lines[-1], b"d OK CONVERT completed")
        c.close()


class ConvertBudgetTest(ServerTestCase):
    """imap.max_session_memory bounds what one CONVERT converts."""
    CONFIG = "[imap]\nmax_session_memory = 64k"

    def test_part_over_the_budget(self):
        big = ("<p>" + "x" * 100 + "</p>") * 400  # ~42 KB, over a quarter of 64k
        msg = message([("text/html", None, big.encode()), ("text/plain", None, b"small")])
        c, _ = connect(self.server, messages=[msg])
        lines = c.run("b", 'CONVERT 1 ("text/plain") (BINARY[1] BINARY[2])')
        _, _, it, _ = items(lines[0])
        self.assertEqual(it["BINARY[1]"], ["ERROR", "Part too large to convert",
                                           "BADPARAMETERS", "text/html", "text/plain", []])
        self.assertEqual(it["BINARY[2]"], b"small")
        self.assertEqual(lines[-1], b"b OK CONVERT completed")
        # Converted bytes of one command past the budget: TEMPFAIL, ask for
        # fewer at a time.
        mid = ("<p>" + "y" * 100 + "</p>") * 120  # ~13 KB each, ~12 KB of text
        msg = message([("text/html", None, mid.encode())] * 6)
        c2, _ = connect(self.server, messages=[msg])
        lines = c2.run("t", 'CONVERT 1 ("text/plain") (' +
                       " ".join(f"BINARY[{n}]" for n in range(1, 7)) + ")")
        _, _, it, _ = items(lines[0])
        self.assertIsInstance(it["BINARY[1]"], bytes)
        self.assertEqual(it["BINARY[6]"][0::2], ["ERROR", "TEMPFAIL"])
        self.assertEqual(lines[-1], b"t OK CONVERT completed")
        c.close()
        c2.close()


class ConvertOffLoopTest(ServerTestCase):
    """A long conversion runs on the query pool: another session on the same
    (only) worker is answered meanwhile."""
    CONFIG = "[server]\nworkers = 1\n"

    def test_other_session_answered_during_a_big_conversion(self):
        import time
        html = ("<table>" + "<tr><td>cell &amp; more</td><td>x</td></tr>" * 120000
                + "</table>").encode()  # 5 MB of HTML
        msg = message([("text/html; charset=utf-8", None, html)])
        a, box = connect(self.server, messages=[msg])
        b = Conn(self.server.imap_port)
        b.line()
        b.cmd("l", f"LOGIN {self.server.user} {self.server.password}")
        start = time.monotonic()
        a.send('c CONVERT 1 ("text/plain") BINARY.SIZE[1]\r\n')
        time.sleep(0.05)  # the conversion is under way
        self.assertEqual(b.cmd("n", "NOOP")[-1], "n OK NOOP completed")
        noop_at = time.monotonic() - start
        lines = []
        while not lines or not lines[-1].startswith(b"c "):
            lines.append(a.response())
        done_at = time.monotonic() - start
        self.assertEqual(lines[-1], b"c OK CONVERT completed")
        size = int(re.search(rb"\] (\d+)\)$", lines[0]).group(1))
        self.assertEqual(size, len("cell & more\tx\r\n") * 120000)
        # NOOP did not wait for the conversion to end.
        self.assertLess(noop_at, done_at, (noop_at, done_at))
        a.close()
        b.close()


class ConvertSinglePartTest(ServerTestCase):
    """A message that is one text part: part 1 and the whole message both
    name it; a text part inside an attached message converts too."""

    def test_single_part_and_nested_message(self):
        single = ("From: a@example.com\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
                  "Content-Type: text/plain; charset=koi8-r\r\n\r\n").encode() \
            + RUSSIAN.encode("koi8-r") + b"\r\n"
        inner = (b"Subject: inner\r\nContent-Type: text/html; charset=iso-8859-2\r\n\r\n"
                 + ("<p>" + POLISH + "</p>").encode("iso-8859-2"))
        nested = message([("text/plain", None, b"outer"), ("message/rfc822", None, inner)])
        c, _ = connect(self.server, messages=[single, nested])
        for spec in ("BINARY[1]", "BINARY[]"):
            lines = c.run("a", f'CONVERT 1 ("text/plain") {spec}')
            _, _, got, _ = items(lines[0])
            self.assertEqual(got[spec], (RUSSIAN + "\r\n").encode(), spec)
            self.assertEqual(lines[-1], b"a OK CONVERT completed")
        lines = c.run("b", 'CONVERT 2 ("text/plain" ("charset" "utf-8")) BINARY[2.1]')
        _, _, got, _ = items(lines[0])
        self.assertEqual(got["BINARY[2.1]"].decode(), POLISH + "\r\n")
        # The attached message as a whole is not text.
        lines = c.run("d", 'CONVERT 2 ("text/plain") BINARY[2]')
        _, _, got, _ = items(lines[0])
        self.assertEqual(got["BINARY[2]"][2:4], ["BADPARAMETERS", "message/rfc822"])
        self.assertEqual(lines[-1], b"d NO No conversion succeeded")
        # Several messages: one CONVERTED each, in order.
        lines = c.run("e", 'CONVERT 1:2 ("text/plain") BINARY.SIZE[1]')
        self.assertEqual([items(l)[0] for l in lines[:-1]], [1, 2])
        self.assertEqual(lines[-1], b"e OK CONVERT completed")
        c.close()
