"""imap_client.py: a minimal IMAP client for the benches (raw socket,
pipelining-safe, fast enough not to be what a figure measures), and fill(),
how every bench puts messages into a mailbox over IMAP.
"""
import socket

# The one account of the single-account benches (servers.bench_accounts(1)).
USER, PASSWORD = "u1@bench.test", "bench-password"


# ---- a minimal IMAP client (raw socket, pipelining-safe) ----

class Client:
    # The receive buffer is a bytearray with a read position: taking a line
    # or skipping a literal moves the position instead of copying the rest
    # of the buffer (which made each line cost O(buffered bytes), so the
    # client, not the server, set the FETCH figures once a server sent
    # faster than Python could re-copy).
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=300)
        self.buf = bytearray()
        self.pos = 0
        self.n = 0
        self.readline()

    def fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise EOFError(bytes(self.buf[-200:]))
        del self.buf[:self.pos]  # O(1) at the front of a bytearray
        self.pos = 0
        self.buf += data

    def readline(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                return line
            self.fill()

    def read_literal_aware(self, tag):
        """Reads up to the tagged reply, skipping literal contents; returns
        (tagged line, bytes of literal data seen). Finds the two things
        that matter with bytearray.find (a line ending in "{n}", the tagged
        line) instead of taking each untagged line apart in Python, so the
        client keeps up with a server that sends 20,000 lines at once."""
        literal_bytes = 0
        start = tag + b" "
        tagged = b"\r\n" + start
        at_line_start = True
        while True:
            buf = self.buf
            if at_line_start and buf.startswith(start, self.pos):
                return self.readline(), literal_bytes
            lit = buf.find(b"}\r\n", self.pos)
            end = buf.find(tagged, self.pos, lit if lit >= 0 else len(buf))
            if lit < 0 and end < 0:
                # No complete line here ends in "}" or is tagged: skip them.
                last = buf.rfind(b"\r\n", self.pos)
                if last >= 0:
                    self.pos = last + 2
                    at_line_start = True
                self.fill()
                continue
            if end >= 0 and (lit < 0 or end < lit):
                self.pos = end + 2
                at_line_start = True
                continue
            line_start = buf.rfind(b"\r\n", self.pos, lit)
            line_start = self.pos if line_start < 0 else line_start + 2
            brace = buf.rfind(b"{", line_start, lit)
            digits = bytes(buf[brace + 1:lit]).rstrip(b"+") if brace >= 0 else b""
            self.pos = lit + 3
            at_line_start = True
            if digits.isdigit():  # "{n}", "{n+}", "~{n}": n bytes follow
                n = int(digits)
                while len(self.buf) - self.pos < n:
                    self.fill()
                self.pos += n
                literal_bytes += n
                at_line_start = False

    def cmd(self, text):
        self.n += 1
        tag = b"b%d" % self.n
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        line, nbytes = self.read_literal_aware(tag)
        if not line.split(b" ")[1] == b"OK":
            raise RuntimeError(f"{text[:60]}: {line!r}")
        return nbytes

    def cmd_raw(self, text):
        """Sends text and returns the raw answer up to the tagged OK, for
        answers without literals (FETCH FLAGS of a million messages), which
        a line-by-line read in Python would take longer than the server."""
        self.n += 1
        tag = b"b%d" % self.n
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        tagged = b"\r\n" + tag + b" "
        start, seen = self.pos, self.pos
        while True:
            i = self.buf.find(tagged, max(start, seen - len(tagged)))
            if i < 0 and self.buf.startswith(tag + b" ", start):
                i = start - 2
            if i >= 0:
                end = self.buf.find(b"\r\n", i + 2)
                if end >= 0:
                    answer = bytes(self.buf[start:i + 2])
                    line = bytes(self.buf[i + 2:end])
                    self.pos = end + 2
                    if line.split(b" ")[1] != b"OK":
                        raise RuntimeError(f"{text[:60]}: {line!r}")
                    return answer
            seen = len(self.buf)
            data = self.sock.recv(1 << 20)
            if not data:
                raise EOFError(bytes(self.buf[-200:]))
            self.buf += data

    def cmd_lines(self, text):
        """Sends text and returns every untagged line before the tagged OK
        (literals inlined in their line), for a bench that checks answers."""
        self.n += 1
        tag = b"b%d" % self.n
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        lines = []
        while True:
            line = self.readline()
            while line.endswith(b"}") and b"{" in line:
                n = int(line[line.rindex(b"{") + 1:-1].rstrip(b"+"))
                while len(self.buf) - self.pos < n:
                    self.fill()
                line += b"\r\n" + bytes(self.buf[self.pos:self.pos + n])
                self.pos += n
                line += self.readline()
            if line.startswith(tag + b" "):
                if line.split(b" ")[1] != b"OK":
                    raise RuntimeError(f"{text[:60]}: {line!r}")
                return lines
            lines.append(line)

    def login(self, user=None, password=None):
        self.cmd(f"LOGIN {user or USER} {password or PASSWORD}")
        return self

    def append(self, mailbox, msgs):
        """MULTIAPPEND when len(msgs) > 1 (both servers support it)."""
        self.n += 1
        tag = b"b%d" % self.n
        out = [tag + b" APPEND " + mailbox.encode()]
        for m in msgs:
            out.append(b" {%d+}\r\n" % len(m) + m)
        self.sock.sendall(b"".join(out) + b"\r\n")
        line, _ = self.read_literal_aware(tag)
        if b" OK" not in line:
            raise RuntimeError(line)

    def close(self):
        self.sock.close()


def fill(port, mailbox, msgs, user=None, password=None, batch=200, create=False):
    """Appends msgs to mailbox in MULTIAPPEND batches of batch messages (both
    servers support MULTIAPPEND, RFC 3502); each batch's OK means on disk."""
    c = Client(port).login(user, password)
    if create:
        c.cmd(f"CREATE {mailbox}")
    for i in range(0, len(msgs), batch):
        c.append(mailbox, msgs[i:i + batch])
    c.close()
