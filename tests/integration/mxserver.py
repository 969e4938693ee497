"""mxserver.py: a loopback internet for the outbound tests: dnsmasq on
127.0.0.1 with a test zone (MX, A, null MX, TXT), and small SMTP servers on
other loopback addresses (127.0.0.2, .3, ...) that record what they receive
and answer as each test tells them: EHLO extensions, a reply per recipient,
a delay before the final reply, AUTH."""
import base64
import os
import shutil
import socket
import socketserver
import ssl
import subprocess
import threading
import time


def free_port(ips):
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        ok = True
        for ip in ips:
            with socket.socket() as t:
                t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    t.bind((ip, port))
                except OSError:
                    ok = False
        if ok:
            return port
    raise RuntimeError("no free port")


class DNS:
    """dnsmasq answering only for the zones given: mx = {domain: [(pref, host)]},
    a = {host: ip}, txt = {name: text} (split into 255-byte strings)."""

    def __init__(self, tmp, mx, a, txt=None):
        self.port = free_port(["127.0.0.1"])
        args = [shutil.which("dnsmasq") or "/usr/sbin/dnsmasq", "--keep-in-foreground",
                "--conf-file=/dev/null", f"--port={self.port}", "--listen-address=127.0.0.1",
                "--bind-interfaces", "--no-resolv", "--no-hosts", "--log-facility=-",
                f"--pid-file={os.path.join(tmp, 'dnsmasq.pid')}", "--local=/example/"]
        for domain, hosts in mx.items():
            for pref, host in hosts:
                args.append(f"--mx-host={domain},{host},{pref}")
        for host, ip in a.items():
            args.append(f"--host-record={host},{ip}")
        for name, text in (txt or {}).items():
            parts = [text[i:i + 255] for i in range(0, len(text), 255)] or [""]
            # dnsmasq takes the argument as it is (no quotes); a comma
            # starts the next character-string.
            assert "," not in text
            args.append(f"--txt-record={name}," + ",".join(parts))
        self.log = open(os.path.join(tmp, "dnsmasq.log"), "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        time.sleep(0.3)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


class Behaviour:
    def __init__(self):
        self.extensions = ["PIPELINING", "8BITMIME", "SIZE 10000000", "DSN", "SMTPUTF8",
                           "CHUNKING", "STARTTLS"]
        self.rcpt_replies = {}   # address -> list of replies, one used per RCPT
        self.data_delay = 0.0    # seconds before the reply to the data
        self.auth = None         # (user, password) required, or None
        self.break_tls = False   # answer STARTTLS's handshake with garbage


class Handler(socketserver.StreamRequestHandler):
    def send(self, text):
        self.wfile.write((text + "\r\n").encode())
        self.wfile.flush()

    def handle(self):
        srv = self.server
        self.tracked = self.request
        srv.conns.add(self.tracked)
        b = srv.behaviour
        self.tls = False
        self.authed = b.auth is None
        self.send(f"220 {srv.name} ESMTP test")
        mail = None
        rcpts = []
        params = {}
        while True:
            line = self.rfile.readline(8192)
            if not line:
                return
            line = line.decode(errors="replace").rstrip("\r\n")
            srv.commands.append(line)
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                exts = [e for e in b.extensions if not (self.tls and e == "STARTTLS")]
                if b.auth:
                    exts.append("AUTH PLAIN LOGIN")
                lines = [srv.name] + exts
                for x in lines[:-1]:
                    self.send("250-" + x)
                self.send("250 " + lines[-1])
            elif verb == "STARTTLS" and b.break_tls:
                self.send("220 go ahead")
                self.send("this is not TLS")
                return
            elif verb == "STARTTLS":
                self.send("220 go ahead")
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(srv.cert, srv.key)
                self.connection = ctx.wrap_socket(self.connection, server_side=True)
                # wrap_socket detached the plain socket: track the TLS one.
                srv.conns.discard(self.tracked)
                self.tracked = self.connection
                srv.conns.add(self.tracked)
                self.rfile = self.connection.makefile("rb")
                self.wfile = self.connection.makefile("wb")
                self.tls = True
                srv.tls_used = True
            elif verb == "AUTH":
                parts = line.split(" ")
                if parts[1].upper() == "PLAIN":
                    raw = base64.b64decode(parts[2]).split(b"\0")
                    user, pw = raw[1].decode(), raw[2].decode()
                    if (user, pw) == b.auth:
                        self.authed = True
                        self.send("235 2.7.0 ok")
                    else:
                        self.send("535 5.7.8 bad")
                else:
                    self.send("504 5.5.4 only PLAIN here")
            elif verb == "MAIL":
                if not self.authed:
                    self.send("530 5.7.0 auth first")
                    continue
                mail = line[10:]
                rcpts = []
                with srv.lock:
                    srv.active += 1
                    srv.max_active = max(srv.max_active, srv.active)
                self.in_tx = True
                self.send("250 2.1.0 ok")
            elif verb == "RCPT":
                arg = line[8:]
                addr = arg[1:arg.index(">")]
                replies = b.rcpt_replies.get(addr)
                reply = replies.pop(0) if replies else "250 2.1.5 ok"
                if reply.startswith("250"):
                    rcpts.append(arg)
                self.send(reply)
            elif verb == "DATA":
                self.send("354 go")
                data = b""
                while True:
                    l = self.rfile.readline()
                    if l in (b".\r\n", b""):
                        break
                    data += l[1:] if l.startswith(b".") else l
                self.finish_message(mail, rcpts, data, "DATA")
            elif verb == "BDAT":
                n = int(line.split(" ")[1])
                data = self.rfile.read(n)
                self.finish_message(mail, rcpts, data, "BDAT")
            elif verb == "RSET":
                self.end_tx()
                self.send("250 ok")
            elif verb == "QUIT":
                self.send("221 bye")
                return
            else:
                self.send("502 5.5.1 no")

    def finish(self):
        self.end_tx()
        self.server.conns.discard(self.tracked)
        super().finish()
        self.connection.close()  # the TLS socket STARTTLS made

    def finish_message(self, mail, rcpts, data, how):
        srv = self.server
        time.sleep(srv.behaviour.data_delay)
        srv.received.append({"mail": mail, "rcpts": rcpts, "data": data, "how": how,
                             "tls": self.tls})
        self.end_tx()
        self.send("250 2.0.0 queued")

    def end_tx(self):
        if getattr(self, "in_tx", False):
            with self.server.lock:
                self.server.active -= 1
            self.in_tx = False


class MX(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, ip, port, name, cert, key):
        self.name = name
        self.cert, self.key = cert, key
        self.behaviour = Behaviour()
        self.received = []
        self.commands = []
        self.tls_used = False
        self.conns = set()
        self.lock = threading.Lock()
        self.active = self.max_active = 0  # transactions open at once
        super().__init__((ip, port), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def drop_connections(self):
        """Closes every open session (the client's kept connections go stale)."""
        for c in list(self.conns):
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        self.shutdown()
        self.server_close()
