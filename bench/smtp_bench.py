#!/usr/bin/env python3
"""smtp_bench.py: inbound delivery, tern against Postfix + Dovecot LMTP.

Same machine, same run, loopback only, fsync on in both:
  - tern: `tern serve` (build/tern) with N local accounts; SMTP on its MX
    port, LMTP on its LMTP port. A 250 means the message is in the store
    (fsync'd: store.no_fsync is never set).
  - Postfix + Dovecot: Debian's postfix, dovecot-core and dovecot-lmtpd
    (installed if missing) with private configs in a temporary directory
    (bench/servers.py): Postfix's smtpd on a loopback port,
    virtual_transport = lmtp to Dovecot's LMTP on another, Dovecot with
    mail_fsync = always for LMTP (maildir).
    Postfix fsyncs its queue file before 250; the messages are counted as
    delivered when they are in the Dovecot mailboxes.

For each of 10 and 50 parallel senders (processes, one connection each,
one message per transaction) it sends --messages messages (default 10,000,
bench/mailgen.py's mix, spread over the accounts) and reports messages/s (until the
last one is in a mailbox) and the p50/p99 latency of the 250 after the
final dot; then the same over LMTP alone (senders speak LMTP straight to
tern and to Dovecot). Ratios are tern/other for rate (> 1: tern faster)
and other/tern for latency (> 1: tern faster).

    python3 bench/smtp_bench.py [--messages 10000] [--senders 10,50] [--markdown]

The senders here are Python processes that time each 250 (p50/p99);
bench/run's delivery workload drives the same paths with Postfix's
smtp-source. relay_bench.py reuses Conn.

Needs root (Postfix's master). Not a timed test: nothing here passes or fails.
"""
import argparse
import multiprocessing
import os
import random
import shutil
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailgen import DOMAIN, make_message  # noqa: E402
from servers import ROOT, Dovecot, Postfix, Tern, ensure_packages, free_port_base  # noqa: E402


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
    ensure_packages(["dovecot-lmtpd", "postfix"])
    binary = os.path.join(ROOT, args.build, "tern")
    accounts = [f"u{i}@{DOMAIN}" for i in range(1, args.accounts + 1)]
    senders = [int(x) for x in args.senders.split(",")]
    tmp = tempfile.mkdtemp(prefix="tern-smtp-bench-")
    os.chmod(tmp, 0o755)  # Postfix's and Dovecot's unprivileged processes look inside
    rows = []
    tern = dovecot = postfix = None
    try:
        base = free_port_base()
        tern = Tern(tmp, binary, base, accounts, args.tern_conf.replace("\\n", "\n")).start()
        dovecot = Dovecot(tmp, base + 1000, tern.hashes()).start()
        postfix = Postfix(tmp, base + 1025, dovecot.lmtp_port).start()
        # Warm up both paths (processes, caches, first account opens).
        run_senders(tern.smtp_port, False, len(accounts), 1, accounts)
        run_senders(postfix.port, False, len(accounts), 1, accounts, dovecot.delivered)
        for proto in ("smtp", "lmtp"):
            for n in senders:
                # A 250 from tern, or from Dovecot's LMTP, means stored;
                # Postfix's means queued: its clock runs to the mailbox.
                t = run_senders(tern.smtp_port if proto == "smtp" else tern.lmtp_port,
                                proto == "lmtp", args.messages, n, accounts)
                o = run_senders(postfix.port if proto == "smtp" else dovecot.lmtp_port,
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
        print(f"\n{args.messages} messages (bench/mailgen.py's mix) to {args.accounts} accounts, fsync on, "
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
