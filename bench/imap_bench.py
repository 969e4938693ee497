#!/usr/bin/env python3
"""imap_bench.py: tern and Dovecot side by side, same machine, same run.

Starts a tern server (build/tern) and a Dovecot (Debian's dovecot-imapd,
installed if missing) on loopback ports in a temporary directory, gives each
the same account and the same messages, then measures the same IMAP
operations on both and prints each figure with the ratio Dovecot/tern
(> 1 means tern is faster or smaller).

    python3 bench/imap_bench.py [--messages 20000] [--idle 1000] [--markdown]

Figures: APPEND rate (one message per command, fsync'd by both), SELECT and
STATUS of the big mailbox, FETCH of all flags, FETCH of message bodies,
SEARCH BODY, and memory per idle IMAP connection (logged in, INBOX selected,
in IDLE), as proportional set size (PSS) so Dovecot's shared pages count once.
Not a timed test: nothing here passes or fails.
"""
import argparse
import glob
import os
import random
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
USER, PASSWORD = "bench@localhost", "bench-password"
WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike "
         "november oscar papa quebec romeo sierra tango uniform victor whiskey xray "
         "yankee zulu meeting report invoice budget travel project release schedule").split()


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

    def login(self):
        self.cmd(f"LOGIN {USER} {PASSWORD}")
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


def make_message(i, rng):
    body_words = [rng.choice(WORDS) for _ in range(rng.randint(40, 400))]
    if i % 1000 == 7:
        body_words.insert(len(body_words) // 2, "needleword%d" % (i // 1000))
    lines = [" ".join(body_words[j:j + 12]) for j in range(0, len(body_words), 12)]
    subject = " ".join(rng.choice(WORDS) for _ in range(5))
    return ("From: Sender %d <sender%d@example.org>\r\n"
            "To: bench@localhost\r\n"
            "Subject: %s\r\n"
            "Date: Tue, 24 Nov 2026 10:%02d:%02d +0000\r\n"
            "Message-ID: <%d.bench@example.org>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n%s\r\n"
            % (i % 97, i % 97, subject, (i // 60) % 60, i % 60, i, "\r\n".join(lines))).encode()


# ---- the servers ----

def wait_port(port, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def descendants(pid):
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def pss_kb(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class Tern:
    name = "tern"

    def __init__(self, tmp, port_base, binary):
        self.dir = os.path.join(tmp, "tern")
        subprocess.run([binary, "init", self.dir, "--port-base", str(port_base)], check=True,
                       capture_output=True)
        subprocess.run([binary, "-d", self.dir, "user", "add", USER, "--password-stdin"],
                       input=PASSWORD + "\n", text=True, check=True, capture_output=True)
        with open(os.path.join(self.dir, "tern.conf"), "a") as f:
            f.write("\n[limits]\nmax_connections_per_ip = 0\nmax_connections = 100000\n"
                    "[auth]\nplaintext = always\n")
        self.port = port_base + 143
        self.pop3_port = port_base + 110
        self.log = open(os.path.join(tmp, "tern.log"), "w")
        self.proc = subprocess.Popen([binary, "-d", self.dir, "serve"], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc)

    def pids(self):
        return [self.proc.pid]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


class Dovecot:
    name = "dovecot"

    def __init__(self, tmp, port, mail_format, pop3_port=None):
        need = ["dovecot-imapd"] + (["dovecot-pop3d"] if pop3_port else [])
        missing = [p for p in need if subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", p], capture_output=True,
            text=True).stdout.find("ok installed") < 0]
        if missing:
            subprocess.run(["apt-get", "install", "-y", "-qq"] + missing, check=True,
                           env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"),
                           capture_output=True)
        self.dir = os.path.join(tmp, "dovecot")
        home = os.path.join(self.dir, "home")
        os.makedirs(home)
        os.makedirs(os.path.join(self.dir, "run"))
        os.chown(home, 65534, 65534)
        with open(os.path.join(self.dir, "passwd"), "w") as f:
            f.write(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        conf = os.path.join(self.dir, "dovecot.conf")
        with open(conf, "w") as f:
            f.write(f"""
protocols = imap{" pop3" if pop3_port else ""}
listen = 127.0.0.1
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = {mail_format}:~/mail
mail_max_userip_connections = 100000
default_client_limit = 100000
default_process_limit = 100000
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.dir}/passwd
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={home}/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  service_count = 0
  process_min_avail = 2
}}
service imap {{
  process_limit = 100000
}}
""")
            if pop3_port:
                # fsync as tern does; the uidl format tern uses too.
                f.write(f"""
pop3_uidl_format = %08Xu%08Xv
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3_port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
  service_count = 0
}}
""")
        self.port = port
        self.pop3_port = pop3_port
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc)

    def pids(self):
        return descendants(self.proc.pid)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def tern_count(server, sql):
    """The sum of sql's one value over tern's accounts (0 for Dovecot): how a
    bench waits for tern's background thread (indexing, collection)."""
    if server.name != "tern":
        return 0
    total = 0
    for path in glob.glob(os.path.join(server.dir, "accounts", "*", "index.db")):
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        total += db.execute(sql).fetchone()[0]
        db.close()
    return total


def tern_wait_indexed(server):
    """Waits until tern's indexer has no text pending, so a figure taken
    next is not of a server still indexing what the fill appended."""
    while tern_count(server, "SELECT count(*) FROM fts_pending") > 0:
        time.sleep(0.05)


# ---- measurements ----

def timed(fn, repeat=1):
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def measure(server, msgs, n_append, n_idle):
    res = {}
    c = Client(server.port).login()
    c.cmd("CREATE Big")
    # APPEND one by one: each reply means "on disk" for both servers.
    rng = random.Random(1)
    small = [make_message(i, rng) for i in range(n_append)]
    t = timed(lambda: [c.append("INBOX", [m]) for m in small])
    res["APPEND, 1 message per command (msg/s)"] = n_append / t
    # The big mailbox, in MULTIAPPEND batches.
    t0 = time.perf_counter()
    for i in range(0, len(msgs), 200):
        c.append("Big", msgs[i:i + 200])
    res["MULTIAPPEND fill (msg/s)"] = len(msgs) / (time.perf_counter() - t0)
    c.close()

    def select_fresh():
        s = Client(server.port).login()
        s.cmd("SELECT Big")
        s.close()

    res["login + SELECT of the big mailbox (ms)"] = timed(select_fresh, 5) * 1000
    c = Client(server.port).login()
    res["STATUS (MESSAGES UNSEEN UIDNEXT) (ms)"] = timed(
        lambda: c.cmd("STATUS Big (MESSAGES UNSEEN UIDNEXT)"), 50) * 1000
    c.cmd("SELECT Big")
    res["FETCH 1:* (UID FLAGS) (ms)"] = timed(lambda: c.cmd("FETCH 1:* (UID FLAGS)"), 3) * 1000
    nbytes = [0]

    def fetch_bodies():
        nbytes[0] = c.cmd("FETCH 1:2000 BODY.PEEK[]")

    t = timed(fetch_bodies, 3)
    res["FETCH 2000 bodies (MB/s)"] = nbytes[0] / t / 1e6
    res["SEARCH BODY rare word (ms)"] = timed(lambda: c.cmd("SEARCH BODY needleword3"), 5) * 1000
    res["SEARCH SUBJECT common word (ms)"] = timed(lambda: c.cmd("SEARCH SUBJECT budget"), 5) * 1000
    c.close()

    # Idle connections: logged in, INBOX selected, in IDLE.
    time.sleep(0.5)
    before = pss_kb(server.pids())
    conns = []
    for _ in range(n_idle):
        x = Client(server.port).login()
        x.cmd("SELECT INBOX")
        x.sock.sendall(b"i IDLE\r\n")
        x.readline()
        conns.append(x)
    time.sleep(1.0)
    after = pss_kb(server.pids())
    res[f"memory per idle connection, {n_idle} in IDLE (KiB)"] = (after - before) / n_idle
    for x in conns:
        x.close()
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--append", type=int, default=300)
    ap.add_argument("--idle", type=int, default=1000)
    ap.add_argument("--dovecot-format", default="maildir", help="maildir, sdbox or mdbox")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    rng = random.Random(7)
    msgs = [make_message(i, rng) for i in range(args.messages)]
    tmp = tempfile.mkdtemp(prefix="tern-bench-")
    os.chmod(tmp, 0o755)
    results = {}
    base = 40000 + random.randrange(0, 5000, 10)
    try:
        for make in (lambda: Tern(tmp, base, os.path.join(args.build, "tern")),
                     lambda: Dovecot(tmp, base + 1143, args.dovecot_format)):
            server = make()
            try:
                print(f"bench: {server.name} ...", file=sys.stderr)
                results[server.name] = measure(server, msgs, args.append, args.idle)
            finally:
                server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    lower_is_better = lambda k: "(ms)" in k or "KiB" in k
    rows = []
    for key in results["tern"]:
        t, d = results["tern"][key], results["dovecot"][key]
        ratio = (d / t if lower_is_better(key) else t / d) if t and d else float("nan")
        rows.append((key, t, d, ratio))
    print(f"\n{args.messages} messages in the big mailbox; Dovecot {args.dovecot_format}; "
          f"ratio > 1: tern ahead")
    if args.markdown:
        print("\n| figure | tern | Dovecot | tern advantage |\n|---|---|---|---|")
        for k, t, d, r in rows:
            print(f"| {k} | {t:,.1f} | {d:,.1f} | {r:.2f}x |")
    else:
        for k, t, d, r in rows:
            print(f"{k:55s} tern {t:12,.2f}  dovecot {d:12,.2f}  x{r:.2f}")


if __name__ == "__main__":
    main()
