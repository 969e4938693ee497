#!/usr/bin/env python3
"""smtp_bench.py: inbound delivery, tern against Postfix + Dovecot LMTP.

Same machine, same run, loopback only, fsync on in both:
  - tern: `tern serve` (build/tern) with N local accounts; SMTP on its MX
    port, LMTP on its LMTP port. A 250 means the message is in the store
    (fsync'd: store.no_fsync is never set).
  - Postfix + Dovecot: Debian's postfix, dovecot-core and dovecot-lmtpd
    (installed if missing) with private configs in a temporary directory:
    Postfix's smtpd on a loopback port, virtual_transport = lmtp to
    Dovecot's LMTP on another, Dovecot with mail_fsync = always (maildir).
    Postfix fsyncs its queue file before 250; the messages are counted as
    delivered when they are in the Dovecot mailboxes.

For each of 10 and 50 parallel senders (processes, one connection each,
one message per transaction) it sends --messages messages (default 10,000,
~3 KB each, spread over the accounts) and reports messages/s (until the
last one is in a mailbox) and the p50/p99 latency of the 250 after the
final dot; then the same over LMTP alone (senders speak LMTP straight to
tern and to Dovecot). Ratios are tern/other for rate (> 1: tern faster)
and other/tern for latency (> 1: tern faster).

    python3 bench/smtp_bench.py [--messages 10000] [--senders 10,50] [--markdown]

Needs root (Postfix's master). Not a timed test: nothing here passes or fails.
"""
import argparse
import glob
import multiprocessing
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOMAIN = "bench.test"
WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike "
         "november oscar papa quebec romeo sierra tango uniform victor whiskey").split()


def wait_port(port, proc=None, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_message(i, rng):
    body = "\r\n".join(" ".join(rng.choice(WORDS) for _ in range(12)) for _ in range(40))
    return (f"From: sender{i % 97}@example.com\r\nTo: someone@{DOMAIN}\r\n"
            f"Subject: bench {i} {rng.choice(WORDS)}\r\nMessage-ID: <{i}.bench@example.com>\r\n"
            f"Date: Tue, 01 Dec 2026 12:00:00 +0000\r\n\r\n{body}\r\n").encode()


# ---- the sender: raw SMTP/LMTP, one connection, one transaction a message ----

class Conn:
    def __init__(self, port, lmtp):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.reply()
        self.cmd(("LHLO" if lmtp else "EHLO") + " sender.example")

    def reply(self):
        while True:
            while b"\r\n" not in self.buf:
                data = self.sock.recv(65536)
                if not data:
                    raise EOFError(self.buf)
                self.buf += data
            line, self.buf = self.buf.split(b"\r\n", 1)
            if line[3:4] != b"-":
                return int(line[:3]), line

    def cmd(self, text):
        self.sock.sendall(text.encode() + b"\r\n")
        return self.reply()


def sender(args):
    port, lmtp, jobs, accounts, seed = args
    rng = random.Random(seed)
    c = Conn(port, lmtp)
    lat = []
    for i in jobs:
        msg = make_message(i, rng)
        rcpt = accounts[i % len(accounts)]
        # Pipelined as a client with PIPELINING would: MAIL, RCPT, DATA at once.
        c.sock.sendall(f"MAIL FROM:<sender@example.com>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n"
                       .encode())
        for want in (250, 250, 354):
            code, line = c.reply()
            if code != want:
                raise RuntimeError(f"{want} expected, got {line!r}")
        data = msg.replace(b"\r\n.", b"\r\n..") + b".\r\n"
        t0 = time.perf_counter()
        c.sock.sendall(data)
        code, line = c.reply()
        lat.append(time.perf_counter() - t0)
        if code != 250:
            raise RuntimeError(f"250 expected, got {line!r}")
    c.cmd("QUIT")
    return lat


def run_senders(port, lmtp, n_messages, n_senders, accounts, delivered=None):
    """Returns (messages/s, p50, p99 latency in ms). With delivered (a count
    of messages in the mailboxes) the clock runs until it grew by n; without,
    a 250 is the delivery (tern, Dovecot's LMTP)."""
    before = delivered() if delivered is not None else 0
    parts = [list(range(k, n_messages, n_senders)) for k in range(n_senders)]
    t0 = time.perf_counter()
    with multiprocessing.Pool(n_senders) as pool:
        lats = pool.map(sender, [(port, lmtp, p, accounts, k) for k, p in enumerate(parts)])
    deadline = time.monotonic() + 600
    while delivered is not None and delivered() - before < n_messages:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {delivered() - before} of {n_messages} delivered")
        time.sleep(0.02)
    elapsed = time.perf_counter() - t0
    all_lat = sorted(x for l in lats for x in l)
    return (n_messages / elapsed, all_lat[len(all_lat) // 2] * 1000,
            all_lat[min(len(all_lat) - 1, int(len(all_lat) * 0.99))] * 1000)


# ---- tern ----

class Tern:
    name = "tern"

    def __init__(self, tmp, binary, accounts, extra_conf=""):
        self.dir = os.path.join(tmp, "tern")
        base = 20000 + random.randrange(0, 20000, 100)
        subprocess.run([binary, "init", self.dir, "--port-base", str(base), "--domain", DOMAIN],
                       check=True, capture_output=True)
        for a in accounts:
            subprocess.run([binary, "-d", self.dir, "user", "add", a, "--password-stdin"],
                           input="bench-password\n", text=True, check=True, capture_output=True)
        with open(os.path.join(self.dir, "tern.conf"), "a") as f:
            f.write("\n[limits]\nmax_connections_per_ip = 0\n[smtp]\nmax_junk_commands = 100000\n"
                    + extra_conf.replace("\\n", "\n") + "\n")
        self.smtp_port, self.lmtp_port = base + 25, base + 24
        self.log = open(os.path.join(tmp, "tern.log"), "w")
        self.proc = subprocess.Popen([binary, "-d", self.dir, "serve"], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_port(self.smtp_port, self.proc)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


# ---- Postfix + Dovecot ----

def ensure_packages():
    missing = [p for p, b in (("postfix", "postfix"), ("dovecot-core", "dovecot"),
                              ("dovecot-lmtpd", "/usr/lib/dovecot/lmtp"))
               if shutil.which(b) is None and not os.path.exists(b)]
    if missing:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["debconf-set-selections"], input="postfix postfix/main_mailer_type "
                       "select No configuration\n", text=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing,
                       check=True, env=env, capture_output=True)


class Dovecot:
    def __init__(self, tmp, accounts):
        self.dir = os.path.join(tmp, "dovecot")
        self.home = os.path.join(self.dir, "home")
        os.makedirs(self.home)
        os.makedirs(os.path.join(self.dir, "run"))
        os.chown(self.home, 65534, 65534)
        with open(os.path.join(self.dir, "passwd"), "w") as f:
            for a in accounts:
                f.write(f"{a}:{{PLAIN}}bench-password::::::\n")
        self.port = free_port()
        conf = os.path.join(self.dir, "dovecot.conf")
        with open(conf, "w") as f:
            f.write(f"""
protocols = lmtp
listen = 127.0.0.1
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
ssl = no
mail_location = maildir:~/Maildir
mail_fsync = always
default_client_limit = 10000
default_process_limit = 1000
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.dir}/passwd
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={self.home}/%u
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.port}
  }}
  process_min_avail = 4
}}
""")
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc)

    def delivered(self):
        return len(glob.glob(os.path.join(self.home, "*", "Maildir", "new", "*")))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


class Postfix:
    def __init__(self, tmp, lmtp_port):
        self.dir = os.path.join(tmp, "postfix")
        conf, spool, data = (os.path.join(self.dir, d) for d in ("etc", "spool", "data"))
        for d in (conf, spool, data):
            os.makedirs(d)
        shutil.chown(data, "postfix")
        self.port = free_port()
        with open(os.path.join(conf, "main.cf"), "w") as f:
            f.write(f"""compatibility_level = 3.6
queue_directory = {spool}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = postfix.{DOMAIN}
mydestination =
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = {DOMAIN}
virtual_transport = lmtp:inet:127.0.0.1:{lmtp_port}
lmtp_destination_concurrency_limit = 50
default_process_limit = 200
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_recipient_restrictions = permit_mynetworks, reject
maillog_file_prefixes = {tmp}
maillog_file = {self.dir}/maillog
""")
        with open("/etc/postfix/master.cf") as src, \
                open(os.path.join(conf, "master.cf"), "w") as dst:
            for line in src:
                if line.startswith("smtp ") and " inet " in line:
                    line = f"127.0.0.1:{self.port} inet n - y - - smtpd\n"
                dst.write(line)
        self.conf = conf
        for verb in ("check", "start"):
            p = subprocess.run(["postfix", "-c", conf, verb], capture_output=True, text=True)
            if p.returncode != 0:
                raise RuntimeError(f"postfix {verb}: {p.stderr}")
        wait_port(self.port)

    def stop(self):
        subprocess.run(["postfix", "-c", self.conf, "stop"], capture_output=True)
        time.sleep(1)


# ---- the report ----

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--senders", default="10,50")
    ap.add_argument("--accounts", type=int, default=20)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--tern-conf", default="",
                    help='extra tern.conf lines, e.g. "[store]\\nwriters = 16"')
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("smtp_bench: needs root (Postfix's master runs as root)")
    ensure_packages()
    binary = os.path.join(ROOT, args.build, "tern")
    accounts = [f"user{i}@{DOMAIN}" for i in range(args.accounts)]
    senders = [int(x) for x in args.senders.split(",")]
    tmp = tempfile.mkdtemp(prefix="tern-smtp-bench-")
    os.chmod(tmp, 0o755)  # Postfix's and Dovecot's unprivileged processes look inside
    rows = []
    tern = dovecot = postfix = None
    try:
        tern = Tern(tmp, binary, accounts, args.tern_conf)
        dovecot = Dovecot(tmp, accounts)
        postfix = Postfix(tmp, dovecot.port)
        # Warm up both paths (processes, caches, first account opens).
        run_senders(tern.smtp_port, False, len(accounts), 1, accounts)
        run_senders(postfix.port, False, len(accounts), 1, accounts, dovecot.delivered)
        for proto in ("smtp", "lmtp"):
            for n in senders:
                # A 250 from tern, or from Dovecot's LMTP, means stored;
                # Postfix's means queued: its clock runs to the mailbox.
                t = run_senders(tern.smtp_port if proto == "smtp" else tern.lmtp_port,
                                proto == "lmtp", args.messages, n, accounts)
                o = run_senders(postfix.port if proto == "smtp" else dovecot.port,
                                proto == "lmtp", args.messages, n, accounts,
                                dovecot.delivered if proto == "smtp" else None)
                other = "Postfix+Dovecot" if proto == "smtp" else "Dovecot LMTP"
                rows.append((proto.upper(), n, t, other, o))
                print(f"{proto.upper()} {n:3} senders: tern {t[0]:7.0f} msg/s p99 {t[2]:6.1f} ms"
                      f" | {other} {o[0]:7.0f} msg/s p99 {o[2]:6.1f} ms"
                      f" | rate x{t[0] / o[0]:.2f}, p99 x{o[2] / t[2]:.2f}", flush=True)
    finally:
        for s in (postfix, dovecot, tern):
            if s is not None:
                s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    if args.markdown:
        print(f"\n{args.messages} messages (~3 KB) to {args.accounts} accounts, fsync on, "
              f"loopback, {os.cpu_count()} cores\n")
        print("| path | senders | tern msg/s | tern p50 / p99 ms | other | other msg/s | "
              "other p50 / p99 ms | rate ratio | p99 ratio |")
        print("|---|---|---|---|---|---|---|---|---|")
        for proto, n, t, other, o in rows:
            print(f"| {proto} | {n} | {t[0]:.0f} | {t[1]:.1f} / {t[2]:.1f} | {other} | "
                  f"{o[0]:.0f} | {o[1]:.1f} / {o[2]:.1f} | {t[0] / o[0]:.2f} | "
                  f"{o[2] / t[2]:.2f} |")


if __name__ == "__main__":
    main()
