# SPDX-License-Identifier: MIT
"""PREVIEW (RFC 8970): FETCH PREVIEW and PREVIEW (LAZY) over raw sockets for
messages stored by APPEND and by `tern deliver`: the part chosen
(multipart/alternative, HTML only), transfer encodings and charsets, empty
and encrypted bodies (an empty string, never NIL without LAZY: section
3.2), the 256-character limit, the syntax errors, and messages stored
before previews were kept (an index.db of schema 7): LAZY answers NIL
until the indexer thread has made theirs, a FETCH without LAZY makes it at
once."""
import imaplib
import itertools
import os
import re
import sqlite3
import subprocess
import time
import unittest

import harness
from harness import ServerTestCase
from test_imap_fetch import Conn

_names = itertools.count(1)

HDR = b"From: a@example.com\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
ALTERNATIVE = (HDR + b"Content-Type: multipart/alternative; boundary=b\r\n\r\n"
               b"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>the <b>html</b></p>\r\n"
               b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nthe  plain\r\n  text\r\n"
               b"--b--\r\n")
HTML_ONLY = (HDR + b"Content-Type: text/html; charset=iso-8859-1\r\n"
             b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
             b"<html><head><style>p {}</style></head><body><p>Caf=E9 &amp; "
             b"cr=E8me</p><script>x()</script></body></html>\r\n")
BASE64_KOI8 = (HDR + b"Content-Type: text/plain; charset=koi8-r\r\n"
               b"Content-Transfer-Encoding: base64\r\n\r\n8NLJ18XUINPXxdQ=\r\n")
EMPTY = b"From: a@example.com\r\nSubject: empty\r\n\r\n"
ENCRYPTED = (HDR + b"Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";"
             b" boundary=e\r\n\r\n--e\r\nContent-Type: application/pgp-encrypted\r\n\r\n"
             b"Version: 1\r\n--e\r\nContent-Type: application/octet-stream\r\n\r\n"
             b"-----BEGIN PGP MESSAGE-----\r\nhQEMA\r\n-----END PGP MESSAGE-----\r\n--e--\r\n")
QUOTES = b"Subject: q\r\n\r\nA \"quoted\" back\\slash\r\n"
LONG = b"Subject: long\r\n\r\n" + ("\u00e9t\u00e9-" * 200).encode() + b"\r\n"


def literal_or_quoted(data):
    """The nstring after "PREVIEW " in a response, decoded."""
    m = re.search(rb"PREVIEW (NIL|\"((?:[^\"\\]|\\.)*)\"|\{(\d+)\}\r\n)", data, re.S)
    assert m, data
    if m.group(1) == b"NIL":
        return None
    if m.group(3) is not None:
        start = m.end()
        return data[start:start + int(m.group(3))].decode()
    return re.sub(rb"\\(.)", rb"\1", m.group(2)).decode()


class PreviewTest(ServerTestCase):
    def connect(self, messages, utf8=False):
        name = f"preview{next(_names)}"
        m = imaplib.IMAP4("127.0.0.1", self.server.imap_port)
        m.login(self.server.user, self.server.password)
        m.create(name)
        for msg in messages:
            self.assertEqual(m.append(name, None, None, msg)[0], "OK")
        m.logout()
        c = Conn(self.server.imap_port)
        c.line()
        self.assertTrue(c.cmd("l", f"LOGIN {self.server.user} {self.server.password}")[-1]
                        .startswith("l OK"))
        if utf8:
            self.assertTrue(c.cmd("e", "ENABLE UTF8=ACCEPT")[-1].startswith("e OK"))
        self.assertTrue(c.cmd("s", f"SELECT {name}")[-1].startswith("s OK"))
        return c, name

    def preview(self, c, seq, lazy=False):
        lines = c.run("p", f"FETCH {seq} (PREVIEW{' (LAZY)' if lazy else ''})")
        self.assertEqual(lines[-1], b"p OK FETCH completed", lines)
        self.assertEqual(len(lines), 2, lines)
        return literal_or_quoted(lines[0])

    def test_capability(self):
        c, _ = self.connect([])
        caps = c.cmd("c", "CAPABILITY")[0].split()
        self.assertIn("PREVIEW", caps)
        c.close()

    def test_parts_encodings_and_charsets(self):
        c, _ = self.connect([ALTERNATIVE, HTML_ONLY, BASE64_KOI8, EMPTY, ENCRYPTED], utf8=True)
        self.assertEqual(self.preview(c, 1), "the plain text")
        self.assertEqual(self.preview(c, 2), "Caf\u00e9 & cr\u00e8me")
        self.assertEqual(self.preview(c, 3), "\u041f\u0440\u0438\u0432\u0435\u0442 "
                         "\u0441\u0432\u0435\u0442")
        # Section 3.2: never NIL without LAZY; nothing to show is "".
        self.assertEqual(self.preview(c, 4), "")
        self.assertEqual(self.preview(c, 5), "")
        # Made at APPEND: LAZY has it too.
        self.assertEqual(self.preview(c, 1, lazy=True), "the plain text")
        self.assertEqual(self.preview(c, 5, lazy=True), "")
        c.close()

    def test_wire_forms(self):
        c, _ = self.connect([QUOTES, HTML_ONLY])
        lines = c.run("a", "FETCH 1 (UID PREVIEW FLAGS)")
        self.assertEqual(lines[0], b'* 1 FETCH (UID 1 PREVIEW "A \\"quoted\\" back\\\\slash" '
                         b'FLAGS (\\Recent))')
        # Without UTF8=ACCEPT 8-bit text goes as a literal.
        lines = c.run("b", "FETCH 2 PREVIEW")
        self.assertEqual(lines[0], b"* 2 FETCH (PREVIEW {14}\r\nCaf\xc3\xa9 & cr\xc3\xa8me)")
        # The lone attribute with its modifier, unparenthesised, and in a list.
        self.assertEqual(c.run("c", "FETCH 1 PREVIEW (LAZY)")[0],
                         b'* 1 FETCH (PREVIEW "A \\"quoted\\" back\\\\slash")')
        lines = c.run("d", "UID FETCH 1:* (PREVIEW (lazy) RFC822.SIZE)")
        self.assertEqual(len(lines), 3, lines)
        self.assertTrue(lines[0].startswith(b"* 1 FETCH (UID 1 PREVIEW "), lines)
        c.close()

    def test_syntax_errors(self):
        c, _ = self.connect([QUOTES])
        for tag, args in (("a", "(PREVIEW (FOO))"), ("b", "(PREVIEW ())"),
                          ("c", "(PREVIEW (LAZY FOO))"), ("d", "(FLAGS (LAZY))"),
                          ("e", "PREVIEW (CHANGEDSINCE)")):
            lines = c.run(tag, f"FETCH 1 {args}")
            self.assertEqual(len(lines), 1, (args, lines))
            self.assertTrue(lines[0].startswith(tag.encode() + b" BAD "), (args, lines))
        # CHANGEDSINCE after the lone PREVIEW still is a modifier.
        lines = c.run("f", "FETCH 1 PREVIEW (CHANGEDSINCE 1)")
        self.assertEqual(lines[-1], b"f OK FETCH completed", lines)
        self.assertRegex(lines[-2].decode(), r"^\* 1 FETCH \(PREVIEW \".*\" MODSEQ \(\d+\)\)$")
        c.close()

    def test_256_characters(self):
        c, _ = self.connect([LONG], utf8=True)
        p = self.preview(c, 1)
        self.assertEqual(len(p), 256)
        self.assertTrue(("\u00e9t\u00e9-" * 200).startswith(p), p)
        c.close()

    def test_delivered_message_has_its_preview(self):
        msg = (b"From: x@example.net\nTo: " + self.server.user.encode() + b"\nSubject: d\n"
               b"Content-Type: text/plain; charset=utf-8\n\nDelivered body, "
               b"\xc5\xbc\xc3\xb3\xc5\x82w\n")
        proc = subprocess.run([harness.TERN, "-d", self.server.dir, "deliver", "--mailbox",
                               "Archive", self.server.user], input=msg, capture_output=True,
                              env=harness.SAN_ENV, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        c = Conn(self.server.imap_port)
        c.line()
        c.cmd("l", f"LOGIN {self.server.user} {self.server.password}")
        c.cmd("e", "ENABLE UTF8=ACCEPT")
        self.assertTrue(c.cmd("s", "SELECT Archive")[-1].startswith("s OK"))
        self.assertEqual(self.preview(c, "*", lazy=True), "Delivered body, \u017c\u00f3\u0142w")
        c.close()


class PreviewUpgradeTest(unittest.TestCase):
    """An index.db of schema 7 (no previews) opened by this version."""

    def test_messages_stored_before_previews(self):
        srv = harness.TernServer("[auth]\nfail_delay = 0\n").start()
        try:
            m = imaplib.IMAP4("127.0.0.1", srv.imap_port)
            m.login(srv.user, srv.password)
            for body in (b"Subject: old\r\n\r\nStored before schema 8\r\n", ALTERNATIVE,
                         HTML_ONLY):
                self.assertEqual(m.append("INBOX", None, None, body)[0], "OK")
            # More than one FETCH turn makes (imap_fetch.c MADE_PER_TURN).
            for i in range(40):
                body = b"Subject: n\r\n\r\nnumber %d\r\n" % i
                self.assertEqual(m.append("Archive", None, None, body)[0], "OK")
            m.logout()
            self.assertEqual(srv.stop(), 0)
            shown = harness.tern("user", "show", srv.user, data_dir=srv.dir).stdout
            account = re.search(r"^id:\s+(\d+)", shown, re.M).group(1)
            path = os.path.join(srv.dir, "accounts", account, "index.db")
            db = sqlite3.connect(path, isolation_level=None, timeout=30)
            db.execute("DROP INDEX blobs_no_preview")
            db.execute("ALTER TABLE blobs DROP COLUMN preview")
            for table in ("fuzzy_vocab", "fuzzy_words", "fuzzy_index", "fuzzy_backlog"):
                db.execute(f"DROP TABLE {table}")  # schema 10's, after 7
            db.execute("UPDATE account SET schema_version = 7")
            db.close()
            srv.start()
            c = Conn(srv.imap_port)
            c.line()
            c.cmd("l", f"LOGIN {srv.user} {srv.password}")
            c.cmd("e", "ENABLE UTF8=ACCEPT")
            c.cmd("s", "SELECT Archive")
            lines = c.run("n", "FETCH 1:* PREVIEW")
            self.assertEqual(lines[-1], b"n OK FETCH completed")
            self.assertEqual([literal_or_quoted(r) for r in lines[:-1]],
                             [f"number {i}" for i in range(40)])
            c.cmd("s", "SELECT INBOX")
            # LAZY: NIL until made (section 3.2), never something else.
            lines = c.run("a", "FETCH 2 (PREVIEW (LAZY))")
            self.assertIn(literal_or_quoted(lines[0]), (None, "the plain text"))
            # Without LAZY it is made now.
            lines = c.run("b", "FETCH 1 PREVIEW")
            self.assertEqual(literal_or_quoted(lines[0]), "Stored before schema 8")
            # The indexer thread makes the others in the background.
            deadline = time.monotonic() + 30
            while True:
                got = [literal_or_quoted(r) for r in c.run("c", "FETCH 1:3 (PREVIEW (LAZY))")[:3]]
                if None not in got or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            self.assertEqual(got, ["Stored before schema 8", "the plain text",
                                   "Caf\u00e9 & cr\u00e8me"])
            c.close()
            db = sqlite3.connect(path, isolation_level=None, timeout=30)
            self.assertEqual(db.execute("SELECT count(*) FROM blobs WHERE preview IS NULL")
                             .fetchone()[0], 0)
            self.assertEqual(db.execute("SELECT schema_version FROM account").fetchone()[0], 10)
            db.close()
        finally:
            rc = srv.stop()
            log = srv.read_log()
            srv.cleanup()
        self.assertEqual(rc, 0, log[-4000:])


if __name__ == "__main__":
    unittest.main()
