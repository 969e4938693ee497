"""test_imap_language.py: LANGUAGE (RFC 5255 section 3) and its catalogues.

CatalogueTest needs no server: it reads every human-readable reply text in
src/imap/*.c (the formats of tagged replies, of untagged OK/NO/BAD/BYE, of
BYE reasons, continuation texts, parser errors that reach a BAD, texts built
with imap_reply_text()) and requires a row for each in every catalogue
(src/imap/lang_*.c), and no row for a text the source no longer has. So a
new text without a translation fails here. The C unit test
test_imap_language.c checks each row's conversions and response code.

LanguageTest drives a server: LANGUAGE's list, choosing Polish and Russian,
replies in each (tagged OK/NO/BAD, untagged OK of SELECT, BYE), RFC 4647
Lookup fallback ("pl-PL", "fr-CA en-CA"), NO for a language we lack, BAD for
what is not a language range, NAMESPACE TRANSLATION, and STARTTLS-free
reset rules (the language is the session's, kept across UNAUTHENTICATE).
"""
import glob
import os
import re
import unittest

import base64

from harness import Raw, ServerTestCase

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
LIT = r'"(?:[^"\\\n]|\\.)*"'
LITS = r'(?:' + LIT + r'\s*)+'
TARGET = r'\(\s*[\w>.&\[\]-]+\s*,\s*'


def c_string(text):
    """The value of adjacent C string literals."""
    out = b""
    for lit in re.findall(LIT, text):
        body = lit[1:-1]
        i = 0
        while i < len(body):
            ch = body[i]
            if ch == "\\":
                nxt = body[i + 1]
                if nxt == "x":
                    m = re.match(r"[0-9a-fA-F]{1,2}", body[i + 2:])
                    out += bytes([int(m.group(0), 16)])
                    i += 2 + len(m.group(0))
                    continue
                out += {"n": b"\n", "r": b"\r", "t": b"\t", "\\": b"\\", '"': b'"',
                        "'": b"'", "0": b"\0"}[nxt]
                i += 2
                continue
            out += ch.encode()
            i += 1
    return out.decode()


def call_args(src, start):
    """The text of a call's arguments from start (just inside the paren)
    to its closing parenthesis."""
    depth, i = 1, start
    while depth > 0:
        ch = src[i]
        if ch == '"':
            i = re.match(LIT, src[i:]).end() + i
            continue
        depth += ch == "("
        depth -= ch == ")"
        i += 1
    return src[start:i - 1]


def reply_texts():
    """{text: file} for every human-readable reply text in src/imap."""
    texts = {}
    calls = re.compile(r'\b(imap_reply_ok|imap_reply_no|imap_reply_bad|imap_reply_untagged'
                       r'|imap_session_bye|imap_reply_continue|imap_reply_text'
                       r'|imap_cmd_finish_delayed)\(')
    errors = re.compile(r'(?:\berror|\berror_out|\bwhy_out|->error|\bfail_text)\s*=\s*'
                        r'((?:[^;"]|' + LIT + r')*' + LIT + r'(?:[^;"]|' + LIT + r')*);'
                        r'|\bfail\(\s*[\w>.&-]+,\s*(' + LITS + r')\)')
    for path in sorted(glob.glob(os.path.join(ROOT, "src", "imap", "*.c"))):
        if os.path.basename(path).startswith("lang_"):
            continue
        with open(path, encoding="utf-8") as f:
            src = re.sub(r"/\*.*?\*/", lambda m: " " * len(m.group(0)), f.read(), flags=re.S)
        name = os.path.relpath(path, ROOT)
        # String macros (cmd_notify.c's BADEVENT) stand for their text.
        for macro, value in re.findall(r"^#define[ \t]+(\w+)(?:[ \t]|\\\n)*((?:" + LIT +
                                       r"(?:[ \t]|\\\n)*)+)$", src, flags=re.M):
            src = re.sub(r"\b" + macro + r"\b(?=\s*\")", re.sub(r"\\\n", " ", value), src)
        for m in calls.finditer(src):
            args = call_args(src, m.end())
            fn = m.group(1)
            parts = re.match(r"\s*[^,]+,\s*(.*)", args, re.S)
            if parts is None:
                continue
            rest = parts.group(1)
            if fn == "imap_cmd_finish_delayed":  # (cmd, delay, status, text)
                rest = rest.split(",", 2)[-1]
            lit = re.match(r"(" + LITS + r")", rest)
            if fn == "imap_session_bye" or (lit is None and fn != "imap_reply_untagged"):
                found = [c_string(x) for x in re.findall(LITS, rest)]
            elif lit is None:
                continue
            else:
                fmt = c_string(lit.group(1))
                if fn == "imap_reply_untagged":
                    st = re.match(r"(OK|NO|BAD|BYE) (.*)", fmt, re.S)
                    if st is None:
                        continue
                    fmt = st.group(2)
                if fmt == "%s":  # the argument is the text
                    found = [c_string(x) for x in re.findall(LITS, rest[lit.end():])]
                else:
                    found = [fmt]
            for t in found:
                if t and t != "%s":
                    texts.setdefault(t, name)
        for m in errors.finditer(src):
            rhs = re.sub(r"\bstr\w*cmp\([^)]*\)", "", m.group(1) or m.group(2))
            for lit in re.findall(LITS, rhs):
                texts.setdefault(c_string(lit), name)
    return texts


def catalogue(lang):
    path = os.path.join(ROOT, "src", "imap", f"lang_{lang}.c")
    with open(path, encoding="utf-8") as f:
        src = f.read()
    rows = re.findall(r"\{\s*(" + LITS + r"),\s*(" + LITS + r")\s*\}", src)
    return {c_string(k): c_string(v) for k, v in rows}


class CatalogueTest(unittest.TestCase):
    def test_every_reply_text_has_a_translation(self):
        texts = reply_texts()
        self.assertGreater(len(texts), 250)  # the extractor still sees them
        for lang in ("pl", "ru"):
            cat = catalogue(lang)
            missing = sorted(t for t in texts if t not in cat)
            self.assertEqual(missing, [], f"lang_{lang}.c lacks rows for these texts")
            stale = sorted(k for k in cat if k not in texts)
            self.assertEqual(stale, [], f"lang_{lang}.c has rows for texts no longer used")
            for k, v in cat.items():
                if re.sub(r"\[[^\]]*\]|%\w+|\s", "", k):  # has words, not just codes
                    self.assertNotEqual(k, v, f"lang_{lang}.c: untranslated {k!r}")


def mutf7(s):
    """RFC 3501 5.1.3 modified UTF-7, for the NAMESPACE TRANSLATION check."""
    out, run = "", ""
    for ch in s + "\0":
        if ch != "\0" and not (0x20 <= ord(ch) < 0x7f):
            run += ch
            continue
        if run:
            b64 = base64.b64encode(run.encode("utf-16-be")).decode().rstrip("=")
            out += "&" + b64.replace("/", ",") + "-"
            run = ""
        if ch != "\0":
            out += "&-" if ch == "&" else ch
    return out


class LanguageTest(ServerTestCase):
    def connect(self):
        r = Raw(self.server.imap_port)
        self.assertIn(" LANGUAGE", r.line())  # 3.1: in the greeting too
        return r

    def login(self, r, tag="l"):
        lines = r.cmd(tag, f"LOGIN {self.server.user} {self.server.password}")
        self.assertTrue(lines[-1].startswith(tag + " OK"), lines)
        return lines[-1]

    def test_list_and_default(self):
        r = self.connect()
        self.assertEqual(r.cmd("a", "LANGUAGE"),
                         ["* LANGUAGE (i-default en pl ru)",
                          "a OK Supported languages have been enumerated"])
        self.assertEqual(r.cmd("b", "NOOP"), ["b OK NOOP completed"])  # i-default
        ok = self.login(r)
        self.assertIn(" LANGUAGE", ok)
        self.assertTrue(ok.endswith("] Logged in"))

    def test_polish_before_login(self):
        r = self.connect()
        # 3.2: the LANGUAGE response, then the tagged OK already in Polish.
        self.assertEqual(r.cmd("a", "LANGUAGE pl"),
                         ["* LANGUAGE (pl)", "a OK Zmieniono język na polski"])
        self.assertEqual(r.cmd("b", "NOOP"), ["b OK NOOP: wykonano"])
        self.assertEqual(r.cmd("c", "SELECT INBOX"),
                         ["c BAD SELECT niedozwolone przed zalogowaniem"])
        self.assertEqual(r.cmd("d", f"LOGIN {self.server.user} wrong"),
                         ["d NO [AUTHENTICATIONFAILED] Uwierzytelnianie nie powiodło się"])
        self.assertTrue(self.login(r).endswith("] Zalogowano"))
        lines = r.cmd("s", "SELECT INBOX")
        self.assertTrue(any(ln.startswith("* OK [UIDVALIDITY ") and ln.endswith("] UID ważne")
                            for ln in lines), lines)
        self.assertEqual(lines[-1], "s OK [READ-WRITE] SELECT: wykonano")
        self.assertEqual(r.cmd("u", "FROB"), ["u BAD Nieznane polecenie FROB"])
        # a parser's error, passed as "%s", is translated too
        self.assertEqual(r.cmd("e", "SEARCH FROB"), ["e BAD Nieznany klucz wyszukiwania"])
        self.assertEqual(r.cmd("f", "SEARCH CHARSET KOI8-X ALL")[-1],
                         "f NO [BADCHARSET (UTF-8 US-ASCII)] Nieobsługiwane kodowanie znaków")
        self.assertEqual(r.cmd("g", "NAMESPACE"),
                         ['* NAMESPACE (("" "/")) (("Other Users/" "/" "TRANSLATION" ("'
                          + mutf7("Inni użytkownicy/") + '"))) (("Shared/" "/" "TRANSLATION" ("'
                          + mutf7("Wspólne/") + '")))',
                          "g OK NAMESPACE: wykonano"])
        self.assertEqual(r.cmd("z", "LOGOUT"), ["* BYE Wylogowywanie", "z OK LOGOUT: wykonano"])

    def test_russian_after_login_sends_namespace(self):
        r = self.connect()
        self.login(r)
        # 3.4: once logged in, LANGUAGE is followed by the translated NAMESPACE
        self.assertEqual(r.cmd("a", "LANGUAGE ru"),
                         ["* LANGUAGE (ru)",
                          '* NAMESPACE (("" "/")) (("Other Users/" "/" "TRANSLATION" ("'
                          + mutf7("Другие пользователи/") + '"))) (("Shared/" "/" "TRANSLATION" ("'
                          + mutf7("Общие/") + '")))',
                          "a OK Язык изменён на русский"])
        self.assertEqual(r.cmd("b", "SELECT Nowhere"),
                         ["b NO [NONEXISTENT] Нет такого почтового ящика"])
        self.assertEqual(r.cmd("c", "FETCH 1 FLAGS"),
                         ["c BAD FETCH не разрешено без выбранного почтового ящика"])
        self.assertEqual(r.cmd("d", "COMPARATOR i;basic"),
                         ["d NO [BADCOMPARATOR] Нет подходящего компаратора"])
        # with UTF-8 names the translation travels as UTF-8
        r.cmd("e", "ENABLE UTF8=ACCEPT")
        self.assertIn('"TRANSLATION" ("Общие/")', r.cmd("f", "NAMESPACE")[0])
        # English again, and no translation in NAMESPACE
        self.assertEqual(r.cmd("g", "LANGUAGE en")[-1], "g OK Language changed")
        self.assertNotIn("TRANSLATION", r.cmd("h", "NAMESPACE")[0])
        # another session was never Russian
        r2 = self.connect()
        self.login(r2)
        self.assertEqual(r2.cmd("n", "NOOP"), ["n OK NOOP completed"])

    def test_fallback_no_and_bad(self):
        r = self.connect()
        # RFC 4647 Lookup: pl-PL finds pl; fr-CA en-CA finds en (RFC 5255's example)
        self.assertEqual(r.cmd("a", "LANGUAGE pl-PL")[0], "* LANGUAGE (pl)")
        # none found: NO, in the language in use, and it stays
        self.assertEqual(r.cmd("b", "LANGUAGE mul de-DE"), ["b NO Nieobsługiwany język"])
        self.assertEqual(r.cmd("c", "NOOP"), ["c OK NOOP: wykonano"])
        # not a language range at all: BAD
        self.assertEqual(r.cmd("d", 'LANGUAGE "en_US"'),
                         ['d BAD Nieprawidłowy zakres języków "en_US"'])
        self.assertTrue(r.cmd("e", "LANGUAGE (pl)")[-1].startswith("e BAD"))
        self.assertEqual(r.cmd("f", "LANGUAGE fr-CA en-CA"),
                         ["* LANGUAGE (en)", "f OK Language changed"])
        self.assertEqual(r.cmd("g", "LANGUAGE ru default"),
                         ["* LANGUAGE (ru)", "g OK Язык изменён на русский"])
        self.assertEqual(r.cmd("h", "LANGUAGE default"),
                         ["* LANGUAGE (i-default)", "h OK Language changed"])

    def test_bye_is_translated(self):
        r = self.connect()
        r.cmd("a", "LANGUAGE ru")
        # Exactly imap.max_bad_commands (20 by default) in a row: the
        # server closes after the last, and a command sent beyond it
        # could meet the closed socket (EPIPE) before BYE is read.
        for i in range(20):
            r.send(f"x{i} FROB\r\n")
        text = ""
        while not text.startswith("* BYE"):
            text = r.line()
        self.assertEqual(text, "* BYE Слишком много недопустимых команд")


if __name__ == "__main__":
    unittest.main()
