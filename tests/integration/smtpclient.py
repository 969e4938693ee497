"""smtpclient.py: what the SMTP/LMTP tests share: a raw SMTP connection for
exact replies and pipelining, the ports of a TernServer, and reading a
mailbox back over IMAP byte for byte."""
import imaplib
import socket

from harness import client_ssl_context, tern


def ports(srv):
    return {"smtp": srv.base + 25, "submission": srv.base + 587,
            "submissions": srv.base + 465, "lmtp": srv.base + 24}


class RawSMTP:
    """Reads whole replies: [(code, text), ...] per reply line."""

    def __init__(self, port, tls=False, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls:
            self.sock = client_ssl_context().wrap_socket(self.sock)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; have %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode(errors="replace")

    def reply(self):
        """One reply: its lines joined; returns (code, text of the last line, all lines)."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), line[4:], lines

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.reply()

    def starttls(self):
        self.sock = client_ssl_context().wrap_socket(self.sock)
        self.buf = b""

    def closed(self, timeout=5):
        self.sock.settimeout(timeout)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
                self.buf += data
        except (ConnectionResetError, OSError):
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def add_user(srv, address, password="secret-pass-1"):
    tern("user", "add", address, "--password-stdin", data_dir=srv.dir, input=password + "\n")
    return password


def mailbox(srv, user, password, name="INBOX"):
    """Every message of a mailbox, in UID order, as raw bytes."""
    m = imaplib.IMAP4("127.0.0.1", srv.imap_port)
    if not user.isascii():
        m._encoding = "utf-8"  # a UTF-8 login name, as a quoted string
        user = '"%s"' % user
    m.login(user, password)
    typ, data = m.select(f'"{name}"', readonly=True)
    if typ != "OK":
        m.logout()
        return None
    if int(data[0]) == 0:
        m.logout()
        return []
    typ, data = m.fetch("1:*", "(BODY.PEEK[])")
    m.logout()
    return [item[1] for item in data if isinstance(item, tuple)]


def split_trace(raw):
    """(trace header names in order, the message after them) of a delivered
    message: Return-Path, Delivered-To, Authentication-Results (mail that
    came in at the MX) and Received come first."""
    names = []
    rest = raw
    while True:
        for name in (b"Return-Path:", b"Delivered-To:", b"Authentication-Results:",
                     b"Received:"):
            if rest.startswith(name):
                end = rest.index(b"\r\n")
                while rest[end + 2:end + 3] in (b"\t", b" "):
                    end = rest.index(b"\r\n", end + 2)
                names.append(name[:-1].decode())
                rest = rest[end + 2:]
                break
        else:
            return names, rest
