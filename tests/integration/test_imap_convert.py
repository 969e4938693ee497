"""test_imap_convert.py: CONVERT, UID CONVERT and CONVERSIONS (RFC 5259).

Exact wire formats over raw sockets: the CONVERTED response with its TAG
correlator, charset conversion from ISO-8859-2, KOI8-R, Shift_JIS and
UTF-16 (to UTF-8 and back out to other charsets), text/html to text/plain
(entities, scripts, styles, tables, lists, line breaks), quoted-printable
and base64 re-encoding, <partial> of the converted bytes, BINARY.SIZE equal
to the length of BINARY, the error codes of what cannot be converted, the
request limits, and that CONVERT leaves \\Seen alone.
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


def items(resp):
    """The data items of one CONVERTED response: {name: bytes or str}."""
    m = re.match(rb'^\* (\d+) CONVERTED \(TAG "([^"]*)"\) \(', resp)
    assert m, resp
    rest, out = resp[m.end():], {}
    while rest and rest != b")":
        rest = rest.lstrip(b" ")
        if rest.startswith(b"UID "):
            num = re.match(rb"UID (\d+)", rest)
            out["UID"] = int(num.group(1))
            rest = rest[num.end():]
            continue
        # A name: BINARY[...] or BINARY.SIZE[...], brackets balanced.
        depth, i = 0, 0
        while True:
            c = rest[i:i + 1]
            if c == b"[":
                depth += 1
            elif c == b"]":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        i += 1
        origin = re.match(rb"<\d+>", rest[i:])
        if origin:
            i += origin.end()
        name, rest = rest[:i].decode(), rest[i + 1:]
        lit = LITERAL.match(rest)
        if lit:
            n = int(lit.group(2))
            out[name] = rest[lit.end():lit.end() + n]
            out[name + "~"] = bool(lit.group(1))
            rest = rest[lit.end() + n:]
        else:
            val = re.match(rb"NIL|\d+", rest)
            out[name] = val.group(0).decode()
            rest = rest[val.end():]
    return int(m.group(1)), m.group(2).decode(), out


class ConvertTest(ServerTestCase):
    def setUp(self):
        self.c, _ = connect(self.server, messages=[MSG])

    def tearDown(self):
        self.c.close()

    def convert(self, tag, spec, seq="1", uid=False):
        lines = self.c.run(tag, f"{'UID ' if uid else ''}CONVERT {seq} {spec}")
        return lines[:-1], lines[-1].decode()

    def one(self, spec):
        lines, tagged = self.convert("c", f"({spec})")
        self.assertEqual(len(lines), 1, lines)
        return items(lines[0])[2], tagged

    def test_capability_advertises_convert_and_binary(self):
        caps = self.c.run("k", "CAPABILITY")[0].decode().split()
        self.assertIn("CONVERT", caps)
        self.assertIn("BINARY", caps)  # RFC 5259 3.1: CONVERT needs BINARY

    def test_charsets_to_utf8(self):
        for part, want in ((1, POLISH), (2, RUSSIAN), (3, JAPANESE), (4, "UTF-16 text ✓")):
            name = f'BINARY[{part} ("text/plain" ("charset" "utf-8"))]'
            got, tagged = self.one(name)
            self.assertEqual(tagged, "c OK CONVERT completed")
            self.assertEqual(got[name].decode("utf-8"), want, part)

    def test_default_charset_is_utf8(self):
        got, tagged = self.one('BINARY[2 ("text/plain")]')
        self.assertEqual(got['BINARY[2 ("text/plain")]'].decode(), RUSSIAN)

    def test_response_correlator_and_sequence(self):
        lines, tagged = self.convert("A0042", '(BINARY[7 ("text/plain")])')
        seq, tag, got = items(lines[0])
        self.assertEqual((seq, tag), (1, "A0042"))
        self.assertEqual(lines[0][:34], b'* 1 CONVERTED (TAG "A0042") (BINAR')
        self.assertEqual(tagged, "A0042 OK CONVERT completed")

    def test_uid_convert_carries_uid(self):
        lines, tagged = self.convert("u", '(BINARY[7 ("text/plain")])', seq="1", uid=True)
        _, _, got = items(lines[0])
        self.assertEqual(got["UID"], 1)
        self.assertTrue(lines[0].decode(errors="replace").startswith(
            '* 1 CONVERTED (TAG "u") (UID 1 BINARY[7'))
        self.assertEqual(tagged, "u OK UID CONVERT completed")
        # A UID that is not there is ignored, as UID FETCH does.
        lines, tagged = self.convert("v", '(BINARY[7 ("text/plain")])', seq="99", uid=True)
        self.assertEqual(lines, [])
        self.assertEqual(tagged, "v OK UID CONVERT completed")

    def test_to_other_charsets(self):
        cases = ((1, "iso-8859-2", POLISH), (2, "koi8-r", RUSSIAN), (3, "shift_jis", JAPANESE),
                 (2, "utf-16be", RUSSIAN), (3, "euc-jp", JAPANESE))
        for part, cs, text in cases:
            name = f'BINARY[{part} ("text/plain" ("charset" "{cs}"))]'
            got, tagged = self.one(name)
            self.assertEqual(tagged, "c OK CONVERT completed", cs)
            self.assertEqual(got[name], text.encode(cs), cs)
        # UTF-16 has NULs: a literal8 (RFC 3516 4.3).
        self.assertTrue(got is not None)
        name = 'BINARY[2 ("text/plain" ("charset" "utf-16be"))]'
        got, _ = self.one(name)
        self.assertTrue(got[name + "~"])

    def test_html_to_text(self):
        name = 'BINARY[5 ("text/plain" ("charset" "utf-8"))]'
        got, tagged = self.one(name)
        self.assertEqual(tagged, "c OK CONVERT completed")
        text = got[name].decode()
        self.assertEqual(text, HTML_TEXT)
        self.assertNotIn("alert", text)
        self.assertNotIn("color", text)
        self.assertNotIn("Ignored", text)

    def test_html_stays_html_in_another_charset(self):
        name = 'BINARY[5 ("text/html" ("charset" "utf-8"))]'
        got, _ = self.one(name)
        self.assertEqual(got[name].decode(), HTML.replace("\n", "\r\n"))

    def test_plain_to_html(self):
        name = 'BINARY[7 ("text/html")]'
        got, _ = self.one(name)
        self.assertIn(b"<pre>plain &lt;text&gt; &amp; more</pre>", got[name])

    def test_reencoding_base64_and_quoted_printable(self):
        b64 = 'BINARY[1 ("text/plain" ("charset" "utf-8" "content-transfer-encoding" "base64"))]'
        qp = ('BINARY[1 ("text/plain" ("charset" "utf-8" '
              '"content-transfer-encoding" "quoted-printable"))]')
        got, tagged = self.one(f"{b64} {qp}")
        self.assertEqual(tagged, "c OK CONVERT completed")
        self.assertEqual(base64.b64decode(got[b64]).decode(), POLISH)
        self.assertEqual(quopri.decodestring(got[qp]).decode(), POLISH)
        self.assertTrue(all(b < 0x80 for b in got[qp]))
        self.assertIn(b"=C5=BC", got[qp])  # ż

    def test_size_equals_length_and_partial(self):
        name = 'BINARY[5 ("text/plain")]'
        size = 'BINARY.SIZE[5 ("text/plain")]'
        got, _ = self.one(f"{name} {size}")
        self.assertEqual(int(got[size]), len(got[name]))
        self.assertEqual(int(got[size]), len(HTML_TEXT.encode()))
        for charset in ("koi8-r", "utf-16le"):
            n = f'BINARY[2 ("text/plain" ("charset" "{charset}"))]'
            s = f'BINARY.SIZE[2 ("text/plain" ("charset" "{charset}"))]'
            got, _ = self.one(f"{n} {s}")
            self.assertEqual(int(got[s]), len(got[n]), charset)
        # <offset.length> cuts the converted bytes; the name gives the origin.
        got, _ = self.one(f'{name}<6.3> {size}')
        self.assertEqual(got[name + "<6>"], HTML_TEXT.encode()[6:9])
        got, _ = self.one(f'{name}<100000.10>')
        self.assertEqual(got[name + "<100000>"], b"")

    def test_unknown_conversion(self):
        name = 'BINARY[6 ("text/plain")]'
        got, tagged = self.one(name)
        self.assertEqual(got[name], "NIL")
        self.assertTrue(tagged.startswith("c NO [UNKNOWN-CVT] "), tagged)
        # Not text to anything else, text to an image, a multipart as a whole.
        for spec in ('BINARY[7 ("image/png")]', 'BINARY[7 ("application/pdf")]',
                     'BINARY[("text/plain")]'):
            got, tagged = self.one(spec)
            self.assertTrue(tagged.startswith("c NO [UNKNOWN-CVT] "), (spec, tagged))

    def test_the_rest_still_converts_when_one_part_fails(self):
        ok = 'BINARY[7 ("text/plain")]'
        bad = 'BINARY[6 ("text/plain")]'
        got, tagged = self.one(f"{bad} {ok}")
        self.assertEqual(got[bad], "NIL")
        self.assertEqual(got[ok], b"plain <text> & more")
        self.assertTrue(tagged.startswith("c NO [UNKNOWN-CVT] "), tagged)

    def test_bad_parameters(self):
        for spec in ('BINARY[7 ("text/plain" ("x-colour" "blue"))]',
                     'BINARY[7 ("text/plain" ("charset" "no-such-charset-x"))]',
                     'BINARY[7 ("text/plain" ("content-transfer-encoding" "x-uue"))]',
                     'BINARY[7 ("text/plain" ("charset" "utf-8" "charset" "koi8-r"))]'):
            got, tagged = self.one(spec)
            self.assertEqual(got[spec], "NIL")
            self.assertTrue(tagged.startswith("c NO [BADPARAMS] "), (spec, tagged))

    def test_conversion_failed(self):
        # Characters KOI8-R lacks; an unknown source charset or encoding;
        # 8-bit text asked for as 7bit.
        for spec in ('BINARY[1 ("text/plain" ("charset" "koi8-r"))]',
                     'BINARY[8 ("text/plain")]', 'BINARY[9 ("text/plain")]',
                     'BINARY[2 ("text/plain" ("content-transfer-encoding" "7bit"))]'):
            got, tagged = self.one(spec)
            self.assertEqual(got[spec], "NIL")
            self.assertTrue(tagged.startswith("c NO [CONVERSION-FAILED] "), (spec, tagged))

    def test_missing_part_is_nil(self):
        name = 'BINARY[42 ("text/plain")]'
        got, tagged = self.one(name)
        self.assertEqual(got[name], "NIL")
        self.assertEqual(tagged, "c OK CONVERT completed")

    def test_syntax_errors_are_bad(self):
        for spec in ("(BINARY[1])", '(BINARY[1 "text/plain"])', '(BINARY[1 ("textplain")])',
                     '(BINARY[1 ("text/plain" ("charset"))])', "(UID)", "(FLAGS)",
                     '(BINARY[1 ("text/plain")]<5.0>)', '(BINARY.SIZE[1 ("text/plain")]<0.5>)',
                     '(BINARY[0 ("text/plain")])', "()"):
            lines, tagged = self.convert("b", spec)
            self.assertEqual(lines, [], spec)
            self.assertTrue(tagged.startswith("b BAD "), (spec, tagged))
        lines, tagged = self.convert("b", '(BINARY[1 ("text/plain")])', seq="5")
        self.assertTrue(tagged.startswith("b BAD "), tagged)

    def test_limits(self):
        many = " ".join(f'BINARY[7 ("text/plain" ("charset" "utf-8"))]' for _ in range(11))
        lines, tagged = self.convert("m", f"({many})")
        self.assertEqual(lines, [])
        self.assertEqual(tagged, "m NO [MAXCONVERTPARTS 10] Too many parts to convert at once")

    def test_convert_does_not_set_seen(self):
        self.one('BINARY[7 ("text/plain")]')
        flags = self.c.run("f", "FETCH 1 FLAGS")[0].decode()
        self.assertNotIn("\\Seen", flags)

    def test_needs_a_selected_mailbox(self):
        c = Conn(self.server.imap_port)
        c.line()
        c.cmd("l", f"LOGIN {self.server.user} {self.server.password}")
        lines = c.run("x", 'CONVERT 1 (BINARY[1 ("text/plain")])')
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
        lines = [l.decode() for l in self.c.run("h", 'CONVERSIONS "text" "*"')]
        self.assertTrue(lines[-1].startswith("h BAD "), lines)


class ConvertBudgetTest(ServerTestCase):
    """imap.max_session_memory bounds what one CONVERT converts."""
    CONFIG = "[imap]\nmax_session_memory = 64k"

    def test_part_over_the_budget_is_limit(self):
        big = ("<p>" + "x" * 100 + "</p>") * 400  # ~42 KB, over a quarter of 64k
        msg = message([("text/html", None, big.encode()), ("text/plain", None, b"small")])
        c, _ = connect(self.server, messages=[msg])
        lines = c.run("b", 'CONVERT 1 (BINARY[1 ("text/plain")] BINARY[2 ("text/plain")])')
        _, _, it = items(lines[0])
        self.assertEqual(it['BINARY[1 ("text/plain")]'], "NIL")
        self.assertEqual(it['BINARY[2 ("text/plain")]'], b"small")
        self.assertTrue(lines[-1].startswith(b"b NO [LIMIT] "), lines[-1])
        c.close()


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
        a.send('c CONVERT 1 (BINARY.SIZE[1 ("text/plain")])\r\n')
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
        for spec in ('BINARY[1 ("text/plain")]', 'BINARY[("text/plain")]'):
            lines = c.run("a", f"CONVERT 1 ({spec})")
            _, _, got = items(lines[0])
            self.assertEqual(got[spec], (RUSSIAN + "\r\n").encode(), spec)
            self.assertEqual(lines[-1], b"a OK CONVERT completed")
        spec = 'BINARY[2.1 ("text/plain" ("charset" "utf-8"))]'
        lines = c.run("b", f"CONVERT 2 ({spec})")
        _, _, got = items(lines[0])
        self.assertEqual(got[spec].decode(), POLISH + "\r\n")
        # The attached message as a whole is not text.
        lines = c.run("d", 'CONVERT 2 (BINARY[2 ("text/plain")])')
        self.assertTrue(lines[-1].startswith(b"d NO [UNKNOWN-CVT] "), lines[-1])
        # Several messages: one CONVERTED each, in order.
        lines = c.run("e", 'CONVERT 1:2 (BINARY.SIZE[1 ("text/plain")])')
        self.assertEqual([items(l)[0] for l in lines[:-1]], [1, 2])
        self.assertEqual(lines[-1], b"e OK CONVERT completed")
        c.close()
