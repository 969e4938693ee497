#!/usr/bin/env python3
"""wire_fuzz.py: a structure-aware fuzzer for a live server (issue 17).

Where the libFuzzer harnesses (fuzz/fuzz_*.c) feed one parser bytes, this
drives a whole `tern serve` (the ASan+UBSan build by default) over sockets
with random but well-formed command sequences, generated from the grammars
of IMAP (RFC 9051 section 9: sequence sets, fetch attributes and sections,
search programs, flags, mailbox names in modified UTF-7, literals of every
kind), POP3 (RFC 1939, 2449) and SMTP/submission (RFC 5321, 3030, 4954),
from several sessions at once on the same accounts, so commands meet each
other's changes (EXPUNGE under FETCH, MOVE under SEARCH, DELE under IMAP).
A few inputs per session are made hostile on purpose: a mutated byte, a cut
line, a dropped connection.

It does not check replies (the integration tests do); it fails when the
server dies (a connection refused while it should run), stops answering (a
reply timeout), exits non-zero at SIGTERM, or its log holds a sanitizer
report: AddressSanitizer, LeakSanitizer, UBSan "runtime error",
ThreadSanitizer. The seed is printed, so a failure can be replayed:

  fuzz/wire_fuzz.py --seconds 600 [--seed N] [--tern build/asan/tern]
"""
import argparse
import os
import random
import re
import socket
import sys
import threading
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

SANITIZER = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|"
                       r"WARNING: ThreadSanitizer|SUMMARY: \w+Sanitizer")
REPLY_TIMEOUT = 60  # a reply slower than this under ASan means a stuck server


class Stuck(Exception):
    pass


# ---- the grammar ---------------------------------------------------------

MAILBOXES = ["INBOX", "Archive", "Archive/2026", "Sent", "Trash", "Drafts", "junk",
             "caf&AOk-", "&ZeVnLIqe-", "a b", "Spam", "new"]
FLAGS = ["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "$Forwarded",
         "$Junk", "kw1", "$label2"]
HEADERS = ["Subject", "From", "To", "Cc", "Message-ID", "References", "In-Reply-To",
           "X-Mailer", "Content-Type", "Date"]
WORDS = ["hello", "meeting", "invoice", "a", "ab", "zz", "Grüße", "日本", "re:", "test",
         "x" * 40, ""]


class Gen:
    def __init__(self, rng):
        self.r = rng

    def pick(self, xs):
        return self.r.choice(xs)

    def word(self):
        return self.pick(WORDS)

    def astring(self, s):
        """s as an atom, a quoted string or one of the literal forms."""
        k = self.r.random()
        if k < 0.15:
            return f"{{{len(s.encode())}+}}\r\n{s}"
        if k < 0.2:
            return f"{{{len(s.encode())}}}\r\n{s}"  # synchronising: sender waits for "+"
        if s and re.fullmatch(r"[A-Za-z0-9&/_.-]+", s) and k < 0.6:
            return s
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def number(self):
        return str(self.pick([1, 1, 2, 3, 5, 10, 50, 4294967295, self.r.randint(1, 30)]))

    def seqset(self):
        if self.r.random() < 0.05:
            return "$"  # SEARCHRES: only on its own (RFC 5182 section 3)
        parts = []
        for _ in range(self.r.randint(1, 4)):
            k = self.r.random()
            if k < 0.3:
                parts.append(self.number())
            elif k < 0.6:
                parts.append(f"{self.number()}:{self.pick([self.number(), '*'])}")
            elif k < 0.75:
                parts.append("*")
            else:
                parts.append("1:*")
        return ",".join(parts)

    def section(self):
        part = ".".join(str(self.r.randint(1, 3)) for _ in range(self.r.randint(0, 3)))
        text = self.pick(["", "HEADER", "TEXT", "MIME", "HEADER.FIELDS (Subject From)",
                          "HEADER.FIELDS.NOT (To)"])
        if part and text:
            return f"{part}.{text}"
        return part or text

    def fetch_att(self):
        k = self.r.randint(0, 14)
        if k == 0:
            return "ENVELOPE"
        if k == 1:
            return "BODYSTRUCTURE"
        if k == 2:
            return "FLAGS"
        if k == 3:
            return "INTERNALDATE"
        if k == 4:
            return "RFC822.SIZE"
        if k == 5:
            return "UID"
        if k == 6:
            return f"BODY.PEEK[{self.section()}]"
        if k == 7:
            return f"BODY[{self.section()}]<{self.r.randint(0, 100)}.{self.r.randint(0, 500)}>"
        if k == 8:
            return f"BINARY.PEEK[{self.pick(['', '1', '2', '1.1'])}]"
        if k == 9:
            return f"BINARY.SIZE[{self.pick(['1', '2'])}]"
        if k == 10:
            return "MODSEQ"
        if k == 11:
            return "EMAILID THREADID SAVEDATE"
        if k == 12:
            return "PREVIEW"
        if k == 13:
            return "RFC822.HEADER"
        return "BODY"

    def search_key(self, depth=0):
        k = self.r.randint(0, 19 if depth < 3 else 15)
        if k == 0:
            return self.pick(["ALL", "SEEN", "UNSEEN", "DELETED", "FLAGGED", "ANSWERED",
                              "DRAFT", "NEW", "OLD", "RECENT", "UNDRAFT"])
        if k == 1:
            return f"KEYWORD {self.pick(FLAGS[5:])}"
        if k == 2:
            return f"SUBJECT {self.astring(self.word())}"
        if k == 3:
            return f"BODY {self.astring(self.word())}"
        if k == 4:
            return f"TEXT {self.astring(self.word())}"
        if k == 5:
            return f"FROM {self.astring(self.word())}"
        if k == 6:
            return f"HEADER {self.pick(HEADERS)} {self.astring(self.word())}"
        if k == 7:
            return f"{self.pick(['LARGER', 'SMALLER'])} {self.r.randint(0, 5000)}"
        if k == 8:
            return f"{self.pick(['SINCE', 'BEFORE', 'ON', 'SENTSINCE', 'SENTBEFORE'])} " \
                   f"{self.r.randint(1, 28)}-{self.pick(['Jan', 'Jun', 'Dec'])}-" \
                   f"{self.pick([1970, 2020, 2026, 2038])}"
        if k == 9:
            return f"UID {self.seqset()}"
        if k == 10:
            return self.seqset()
        if k == 11:
            return f"MODSEQ {self.r.randint(0, 1000)}"
        if k == 12:
            return f"{self.pick(['OLDER', 'YOUNGER'])} {self.r.randint(1, 100000)}"
        if k == 13:
            return f"{self.pick(['TO', 'CC', 'BCC'])} {self.astring(self.word())}"
        if k == 14:
            return f"EMAILID M{self.r.randint(1, 99)}"
        if k == 15:
            return "SAVEDATESUPPORTED"
        if k in (16, 17):
            return f"NOT {self.search_key(depth + 1)}"
        if k == 18:
            return f"OR {self.search_key(depth + 1)} {self.search_key(depth + 1)}"
        return "(" + " ".join(self.search_key(depth + 1)
                              for _ in range(self.r.randint(1, 3))) + ")"

    def search_program(self):
        ret = ""
        if self.r.random() < 0.4:
            opts = self.r.sample(["MIN", "MAX", "ALL", "COUNT", "SAVE"], self.r.randint(0, 3))
            if self.r.random() < 0.1:
                opts.append(f"PARTIAL {self.pick(['1:10', '-1:-5'])}")
            ret = f"RETURN ({' '.join(opts)}) "
        charset = "CHARSET UTF-8 " if self.r.random() < 0.2 else ""
        return ret + charset + " ".join(self.search_key() for _ in range(self.r.randint(1, 4)))

    def flags(self):
        return "(" + " ".join(self.r.sample(FLAGS, self.r.randint(0, 3))) + ")"

    def mailbox(self):
        if self.r.random() < 0.05:
            return self.pick(["", "a/" * 30, "&AAA-", "x" * 300, "a/../b", "%", "*"])
        return self.pick(MAILBOXES)

    def message(self):
        subj = " ".join(self.word() for _ in range(self.r.randint(0, 4)))
        hdr = (f"From: {self.word()} <a{self.r.randint(1, 9)}@example.org>\r\n"
               f"To: undisclosed:;, b@example.net\r\nSubject: {subj}\r\n"
               f"Date: Mon, {self.r.randint(1, 28)} Jun 2026 10:00:00 +0200\r\n"
               f"Message-ID: <{self.r.randint(1, 30)}@wire>\r\n")
        if self.r.random() < 0.3:
            hdr += f"References: <{self.r.randint(1, 30)}@wire>\r\n"
        k = self.r.random()
        if k < 0.4:
            return hdr + "\r\n" + f"body {self.word()}\r\n" * self.r.randint(1, 20)
        if k < 0.8:
            b = f"b{self.r.randint(1, 999)}"
            parts = []
            for _ in range(self.r.randint(1, 4)):
                ct = self.pick(["text/plain; charset=utf-8", "text/html",
                                "application/octet-stream", "message/rfc822",
                                f"multipart/alternative; boundary=\"in{b}\""])
                cte = self.pick(["7bit", "base64", "quoted-printable", "8bit"])
                body = self.pick(["aGVsbG8gd29ybGQ=\r\n", "caf=C3=A9 =\r\nsoft\r\n", "plain\r\n",
                                  "Subject: inner\r\n\r\ninner body\r\n",
                                  f"--in{b}\r\n\r\nx\r\n--in{b}--\r\n"])
                parts.append(f"--{b}\r\nContent-Type: {ct}\r\n"
                             f"Content-Transfer-Encoding: {cte}\r\n\r\n{body}")
            return (hdr + f"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{b}\"\r\n\r\n"
                    + "".join(parts) + (f"--{b}--\r\n" if self.r.random() < 0.8 else ""))
        return hdr + "Content-Type: text/plain\r\n\r\n" + "".join(
            self.r.choice("abc .\r\n=?") for _ in range(self.r.randint(0, 2000)))


# ---- the sessions ----------------------------------------------------------

class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=REPLY_TIMEOUT)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def line(self):
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise Stuck("no reply within %d s" % REPLY_TIMEOUT)
            if not chunk:
                raise EOFError
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def read_bytes(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Imap:
    def __init__(self, g, port, user, password):
        self.g, self.c, self.n = g, Conn(port), 0
        self.c.line()
        self.user, self.password = user, password

    def response(self, tag):
        """Reads to the tagged reply (literals in the data included); answers
        "+" continuations for synchronising literals as send_cmd planned."""
        while True:
            line = self.c.line()
            m = re.search(rb"\{(\d+)\}$", line)
            if m:
                self.c.read_bytes(int(m.group(1)))
                continue
            if line.startswith(tag.encode() + b" ") or line.startswith(b"* BYE"):
                return line
            if line.startswith(b"+"):
                return line

    def cmd(self, text):
        """Sends text; synchronising literals ({n}\\r\\n) wait for "+"."""
        self.n += 1
        tag = f"w{self.n}"
        pieces = re.split(r"(\{\d+\}\r\n)", f"{tag} {text}\r\n")
        out = ""
        for p in pieces:
            out += p
            if re.fullmatch(r"\{\d+\}\r\n", p):
                self.c.send(out)
                out = ""
                line = self.response(tag)
                if not line.startswith(b"+"):
                    return line  # refused (BAD, TOOBIG)
        self.c.send(out)
        return self.response(tag)

    def step(self):
        g = self.g
        k = g.r.randint(0, 27)
        if k == 0:
            return self.cmd(f"SELECT {g.astring(g.mailbox())}"
                            + (" (CONDSTORE)" if g.r.random() < 0.2 else ""))
        if k == 1:
            return self.cmd(f"EXAMINE {g.astring(g.mailbox())}")
        if k in (2, 3):
            return self.cmd(f"{g.pick(['', 'UID '])}FETCH {g.seqset()} ("
                            + " ".join(g.fetch_att() for _ in range(g.r.randint(1, 4))) + ")"
                            + (" (CHANGEDSINCE 1)" if g.r.random() < 0.1 else ""))
        if k == 4:
            return self.cmd(f"{g.pick(['', 'UID '])}STORE {g.seqset()} "
                            f"{g.pick(['FLAGS', '+FLAGS', '-FLAGS', '+FLAGS.SILENT'])} {g.flags()}")
        if k in (5, 6):
            return self.cmd(f"{g.pick(['', 'UID '])}SEARCH {g.search_program()}")
        if k == 7:
            return self.cmd(f"{g.pick(['', 'UID '])}SORT "
                            f"({' '.join(g.r.sample(['DATE', 'ARRIVAL', 'SUBJECT', 'FROM', 'SIZE', 'REVERSE DATE', 'CC', 'TO'], 2))}) "
                            f"UTF-8 {g.search_key()}")
        if k == 8:
            return self.cmd(f"THREAD {g.pick(['REFERENCES', 'ORDEREDSUBJECT'])} UTF-8 {g.search_key()}")
        if k == 9:
            return self.cmd(f"{g.pick(['', 'UID '])}COPY {g.seqset()} {g.astring(g.mailbox())}")
        if k == 10:
            return self.cmd(f"{g.pick(['', 'UID '])}MOVE {g.seqset()} {g.astring(g.mailbox())}")
        if k == 11:
            return self.cmd(g.pick(["EXPUNGE", f"UID EXPUNGE {g.seqset()}", "CLOSE", "UNSELECT"]))
        if k in (12, 13, 14):
            msg = g.message()
            form = g.r.random()
            n = len(msg.encode())
            lit = f"{{{n}+}}\r\n" if form < 0.6 else (f"~{{{n}+}}\r\n" if form < 0.7 else f"{{{n}}}\r\n")
            extra = f" {g.flags()}" if g.r.random() < 0.5 else ""
            if g.r.random() < 0.1:  # MULTIAPPEND
                return self.cmd(f"APPEND {g.astring(g.mailbox())}{extra} {lit}{msg}{extra} {lit}{msg}")
            return self.cmd(f"APPEND {g.astring(g.mailbox())}{extra} {lit}{msg}")
        if k == 15:
            return self.cmd(f"CREATE {g.astring(g.mailbox())}")
        if k == 16:
            return self.cmd(f"DELETE {g.astring(g.pick(MAILBOXES[1:]))}")
        if k == 17:
            return self.cmd(f"RENAME {g.astring(g.mailbox())} {g.astring(g.mailbox())}")
        if k == 18:
            return self.cmd(f"LIST {g.astring(g.pick(['', 'Archive/']))} "
                            f"{g.astring(g.pick(['*', '%', 'A*', '*/%', '%a%b*']))}"
                            + (" RETURN (STATUS (MESSAGES UNSEEN) SUBSCRIBED SPECIAL-USE)"
                               if g.r.random() < 0.3 else ""))
        if k == 19:
            return self.cmd(f"STATUS {g.astring(g.mailbox())} "
                            "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ SIZE RECENT)")
        if k == 20:
            return self.cmd(g.pick(["NOOP", "CHECK", "CAPABILITY", "NAMESPACE",
                                    'ID ("name" "wire")', "ENABLE CONDSTORE QRESYNC",
                                    "ENABLE UTF8=ACCEPT", "ENABLE IMAP4rev2",
                                    f"{g.pick(['SUBSCRIBE', 'UNSUBSCRIBE'])} {g.astring(g.mailbox())}",
                                    "LSUB \"\" *", "GETQUOTAROOT INBOX"]))
        if k == 21:
            self.n += 1
            tag = f"w{self.n}"
            self.c.send(f"{tag} IDLE\r\n")
            line = self.response(tag)
            if line.startswith(b"+"):
                time.sleep(g.r.random() * 0.3)
                self.c.send("DONE\r\n")
                return self.response(tag)
            return line
        if k == 22:
            return self.cmd(f"SEARCH RETURN (UPDATE) {g.search_key()}")
        if k == 23:
            return self.cmd("NOTIFY SET (SELECTED (MessageNew MessageExpunge FlagChange)) "
                            "(PERSONAL (MailboxName SubscriptionChange))"
                            if g.r.random() < 0.5 else "NOTIFY NONE")
        if k == 24:  # hostile: a random command of random bytes
            junk = bytes(g.r.randint(32, 126) for _ in range(g.r.randint(0, 200)))
            return self.cmd(junk.decode())
        if k == 25:  # a well-formed command with one byte changed
            base = f"FETCH {g.seqset()} ({g.fetch_att()})"
            i = g.r.randrange(len(base))
            return self.cmd(base[:i] + chr(g.r.randint(33, 126)) + base[i + 1:])
        if k == 26:
            return self.cmd(f"GENURLAUTH \"imap://{self.user}@localhost/INBOX/;uid=1;urlauth=user+{self.user}\" INTERNAL")
        return self.cmd(f"UID FETCH {g.seqset()} (FLAGS) (CHANGEDSINCE {g.r.randint(0, 50)} VANISHED)")

    def run(self, steps):
        g = self.g
        r = self.cmd(f"LOGIN {g.astring(self.user)} {g.astring(self.password)}")
        if b" OK" not in r:
            return
        for name in g.r.sample(MAILBOXES[1:], 2):
            self.cmd(f"CREATE {g.astring(name)}")
        selected = False
        for _ in range(steps):
            # Most commands need a selected mailbox: keep one open mostly.
            if not selected and g.r.random() < 0.8:
                selected = b" OK " in self.cmd(f"SELECT {g.pick(['INBOX', 'INBOX', g.mailbox()])}")
            line = self.step()
            if line.startswith(b"* BYE"):
                return
            if re.match(rb"w\d+ OK \[(READ-WRITE|READ-ONLY)\]", line):
                selected = True
            elif re.match(rb"w\d+ (OK (CLOSE|UNSELECT)|NO .*(SELECT|EXAMINE))", line):
                selected = False
        if self.g.r.random() < 0.7:
            self.cmd("LOGOUT")


class Pop3:
    def __init__(self, g, port, user, password):
        self.g, self.c = g, Conn(port)
        self.c.line()
        self.user, self.password = user, password

    def cmd(self, text, multi=False):
        self.c.send(text + "\r\n")
        line = self.c.line()
        if multi and line.startswith(b"+OK"):
            while self.c.line() != b".":
                pass
        return line

    def run(self, steps):
        g = self.g
        self.cmd(f"USER {self.user}")
        if not self.cmd(f"PASS {self.password}").startswith(b"+OK"):
            return  # in use by another POP3 session, or throttled
        for _ in range(steps):
            k = g.r.randint(0, 11)
            n = g.pick(["1", "2", "3", "0", "99", "-1", "4294967296", "x"])
            if k == 0:
                self.cmd("STAT")
            elif k == 1:
                self.cmd(g.pick(["LIST", "UIDL"]), multi=True)
            elif k == 2:
                self.cmd(f"{g.pick(['LIST', 'UIDL'])} {n}")
            elif k in (3, 4):
                self.cmd(f"RETR {n}", multi=True)
            elif k == 5:
                self.cmd(f"TOP {n} {g.pick(['0', '1', '10', '-3'])}", multi=True)
            elif k == 6:
                self.cmd(f"DELE {n}")
            elif k == 7:
                self.cmd("RSET")
            elif k == 8:
                self.cmd("CAPA", multi=True)
            elif k == 9:
                self.cmd(g.pick(["NOOP", "UTF8", "STLS", "LAST", "AUTH"]))
            else:
                self.cmd("".join(chr(g.r.randint(32, 126)) for _ in range(g.r.randint(0, 60))))
        self.cmd("QUIT")


class Smtp:
    def __init__(self, g, port, user, password, submission):
        self.g, self.c = g, Conn(port)
        self.user, self.password, self.submission = user, password, submission
        self.reply()

    def reply(self):
        while True:
            line = self.c.line()
            if len(line) < 4 or line[3:4] != b"-":
                return line

    def cmd(self, text):
        self.c.send(text + "\r\n")
        return self.reply()

    def run(self, steps):
        import base64
        g = self.g
        self.cmd(f"EHLO {g.pick(['client.example', '[192.0.2.1]', 'x'])}")
        if self.submission:
            token = base64.b64encode(f"\0{self.user}\0{self.password}".encode()).decode()
            self.cmd(f"AUTH PLAIN {token}")
        for _ in range(steps):
            k = g.r.randint(0, 9)
            if k in (0, 1, 2):
                self.cmd(f"MAIL FROM:<{g.pick(['a@example.org', '', 'x@localhost'])}>"
                         + g.pick(["", " SIZE=100", " BODY=8BITMIME", " SMTPUTF8", " RET=HDRS ENVID=x"]))
                for _ in range(g.r.randint(1, 3)):
                    self.cmd(f"RCPT TO:<{g.pick([self.user, 'test@localhost', 'nobody@localhost', 'x@elsewhere.example', 'postmaster'])}>"
                             + g.pick(["", " NOTIFY=SUCCESS,FAILURE", " ORCPT=rfc822;x@y"]))
                msg = g.message()
                if g.r.random() < 0.7:
                    if self.cmd("DATA").startswith(b"354"):
                        body = msg.replace("\r\n.", "\r\n..")
                        self.cmd(body + ("\r\n" if not body.endswith("\r\n") else "") + ".")
                else:
                    data = msg.encode()
                    cut = g.r.randint(0, len(data))
                    self.c.send(f"BDAT {cut}\r\n".encode() + data[:cut])
                    self.reply()
                    self.c.send(f"BDAT {len(data) - cut} LAST\r\n".encode() + data[cut:])
                    self.reply()
            elif k == 3:
                self.cmd("RSET")
            elif k == 4:
                self.cmd(g.pick(["NOOP", "HELP", "VRFY test", "EXPN list", "EHLO again"]))
            elif k == 5:
                self.cmd("".join(chr(g.r.randint(32, 126)) for _ in range(g.r.randint(0, 80))))
            else:
                self.cmd(f"RCPT TO:<{self.user}>")  # out of order
        self.cmd("QUIT")


# ---- the run ----------------------------------------------------------------

def session(seed, server, users, deadline, errors, counts, lock):
    rng = random.Random(seed)
    g = Gen(rng)
    while time.monotonic() < deadline and not errors:
        user, password = rng.choice(users)
        kind = rng.choices(["imap", "pop3", "smtp", "submission"], [6, 1, 1, 1])[0]
        try:
            if kind == "imap":
                s = Imap(g, server.imap_port, user, password)
            elif kind == "pop3":
                s = Pop3(g, server.base + 110, user, password)
            else:
                port = server.base + (587 if kind == "submission" else 25)
                s = Smtp(g, port, user, password, kind == "submission")
        except ConnectionRefusedError:
            errors.append(f"{kind}: connection refused: the server is gone")
            return
        try:
            s.run(rng.randint(1, 40))
        except Stuck as e:
            errors.append(f"{kind}: {e}")
        except (EOFError, ConnectionResetError, BrokenPipeError):
            pass  # the server may close (BYE, too many errors, a cut literal)
        except Exception:
            errors.append(f"{kind}: " + traceback.format_exc())
        finally:
            s.c.close()
        with lock:
            counts[kind] = counts.get(kind, 0) + 1


def run(tern, seconds, sessions=6, seed=None, log=print):
    """Returns (ok, report)."""
    os.environ["TERN_BIN"] = tern
    import harness  # reads TERN_BIN at import
    seed = seed if seed is not None else random.randrange(1 << 32)
    log(f"wire_fuzz: seed {seed}, {sessions} sessions, {seconds} s against {tern}")
    server = harness.TernServer("[auth]\nfail_delay = 0\nblock_after_ip = 0\n"
                                "block_after_account = 0\n[limits]\nmax_connections_per_ip = 0\n"
                                "[server]\nshutdown_grace = 5s\n")
    users = [(server.user, server.password)]
    for i in range(2):
        addr = f"wire{i}@localhost"
        harness.tern("user", "add", addr, "--password-stdin", data_dir=server.dir,
                     input=f"pw{i}\n")
        users.append((addr, f"pw{i}"))
    server.start()
    errors, counts, lock = [], {}, threading.Lock()
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=session,
                                args=(seed + i, server, users, deadline, errors, counts, lock))
               for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rc = server.stop(timeout=60)
    text = server.read_log()
    reports = [l for l in text.splitlines() if SANITIZER.search(l)]
    ok = rc == 0 and not errors and not reports
    report = (f"wire_fuzz: seed {seed}: sessions {counts}, server exit {rc}, "
              f"{len(errors)} client errors, {len(reports)} sanitizer lines")
    if not ok:
        report += "\n" + "\n".join(errors[:5]) + "\n" + text[-8000:]
    server.cleanup()
    return ok, report


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--sessions", type=int, default=6)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--tern", default=os.path.join(ROOT, "build", "asan", "tern"))
    args = ap.parse_args()
    ok, report = run(os.path.abspath(args.tern), args.seconds, args.sessions, args.seed)
    print(report)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
