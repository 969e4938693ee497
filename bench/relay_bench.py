#!/usr/bin/env python3
"""relay_bench.py: relaying, tern against Postfix, same run, loopback only.

A sink tern (build/tern, MX role, domain bench.test) stands for the remote
MX. Each relay takes --messages messages (~3 KB) from --senders parallel
connections and delivers them to the sink as its smarthost:
  - tern: submission with AUTH PLAIN, `delivery.relayhost = 127.0.0.1:SINK`
    (the queue runner, fsync'd queue file before 250);
  - Postfix (Debian's, private config): smtpd with mynetworks relay,
    `relayhost = [127.0.0.1]:SINK` (its queue file is fsync'd too).
Messages/s counts from the first MAIL until the sink has stored the last
one (its log's event=delivered lines), so it measures submission to remote
MX; the sink's own speed is the same for both.

    python3 bench/relay_bench.py [--messages 2000] [--senders 10] [--markdown]

Needs root (Postfix's master). Not a timed test: nothing passes or fails.
"""
import argparse
import base64
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
import smtp_bench  # noqa: E402  (Conn)
from mailgen import DOMAIN, make_message  # noqa: E402

ROOT = servers.ROOT


def sender(args):
    port, auth, jobs, rcpt, seed = args
    rng = random.Random(seed)
    c = smtp_bench.Conn(port, False)
    frm = auth[0] if auth else "sender@example.com"
    if auth:
        token = base64.b64encode(f"\0{auth[0]}\0{auth[1]}".encode()).decode()
        code, line = c.cmd(f"AUTH PLAIN {token}")
        if code != 235:
            raise RuntimeError(f"AUTH: {line!r}")
    for i in jobs:
        msg = make_message(i, rng)
        if auth:  # submission checks that From: is the account's
            msg = re.sub(rb"^From: [^\r]*", f"From: <{frm}>".encode(), msg, count=1, flags=re.M)
        c.sock.sendall(f"MAIL FROM:<{frm}>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n".encode())
        for want in (250, 250, 354):
            code, line = c.reply()
            if code != want:
                raise RuntimeError(f"{want} expected, got {line!r}")
        c.sock.sendall(msg.replace(b"\r\n.", b"\r\n..") + b".\r\n")
        code, line = c.reply()
        if code != 250:
            raise RuntimeError(f"250 expected, got {line!r}")
    c.cmd("QUIT")


def sink_count(path):
    with open(path, errors="replace") as f:
        return sum(1 for line in f if "event=delivered" in line and "role" not in line)


def run(port, auth, n, senders, rcpt, sink_log):
    before = sink_count(sink_log)
    jobs = [(port, auth, list(range(k, n, senders)), rcpt, k) for k in range(senders)]
    t0 = time.perf_counter()
    with multiprocessing.Pool(senders) as pool:
        pool.map(sender, jobs)
    accepted = time.perf_counter() - t0
    deadline = time.monotonic() + 600
    while sink_count(sink_log) - before < n and time.monotonic() < deadline:
        time.sleep(0.05)
    done = time.perf_counter() - t0
    got = sink_count(sink_log) - before
    return n / accepted, got / done, got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--senders", type=int, default=10)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("relay_bench: needs root (Postfix's master runs as root)")
    servers.ensure_packages(["postfix"])
    binary = os.path.join(ROOT, args.build, "tern")
    tmp = tempfile.mkdtemp(prefix="relay-bench-")
    os.chmod(tmp, 0o755)  # Postfix runs as postfix
    rcpt = f"u1@{DOMAIN}"
    sink = servers.Tern(tmp, binary, servers.free_port_base(), [rcpt], subdir="sink").start()
    sink_log = sink.log_path
    results = []
    relay = None
    try:
        relay = servers.Tern(tmp, binary, servers.free_port_base(), [],
                             "[smtp]\ndomains = relay.example\n"
                             f"[delivery]\nrelayhost = 127.0.0.1:{sink.smtp_port}\n"
                             "workers = 8\nper_domain = 8\n", subdir="relay").start()
        subprocess.run([binary, "-d", relay.dir, "user", "add", "relay@relay.example",
                              "--password-stdin"], input="bench-password\n", text=True,
                             check=True, capture_output=True)
        sub_port = relay.submission_port
        results.append(("tern", run(sub_port, ("relay@relay.example", "bench-password"),
                                    args.messages, args.senders, rcpt, sink_log)))
        relay.stop()
        relay = None
        pf = servers.Postfix(tmp, servers.free_port_base() + 25, 0, subdir="postfix-relay")
        try:
            main_cf = os.path.join(pf.conf, "main.cf")
            text = open(main_cf).read()
            text = re.sub(r"^virtual_(mailbox_domains|transport) = .*\n", "", text, flags=re.M)
            text += (f"relayhost = [127.0.0.1]:{sink.smtp_port}\n"
                     "smtp_destination_concurrency_limit = 8\ndefault_destination_concurrency_limit = 8\n"
                     "smtpd_recipient_restrictions = permit_mynetworks, reject\n"
                     "smtpd_relay_restrictions = permit_mynetworks, reject\n")
            open(main_cf, "w").write(text)
            pf.start()
            results.append(("Postfix", run(pf.port, None, args.messages, args.senders, rcpt,
                                           sink_log)))
        finally:
            pf.stop()
    finally:
        if relay is not None:
            relay.stop()
        sink.stop()
    if args.markdown:
        print(f"| relay ({args.messages} msgs, {args.senders} senders) | accepted msg/s | "
              "submission to remote MX msg/s | delivered |\n|---|---|---|---|")
        for name, (acc, rate, got) in results:
            print(f"| {name} | {acc:,.0f} | {rate:,.0f} | {got} |")
    else:
        for name, (acc, rate, got) in results:
            print(f"{name}: accepted {acc:.0f} msg/s, relayed {rate:.0f} msg/s ({got} delivered)")
    if len(results) == 2 and results[1][1][1] > 0:
        print(f"tern/Postfix relay rate: {results[0][1][1] / results[1][1][1]:.2f}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
