#!/usr/bin/env python3
"""pop3_bench.py: POP3 download and delete, tern and Dovecot side by side.

Starts tern (build/tern) and Dovecot (Debian's dovecot-imapd and
dovecot-pop3d, installed if missing; Maildir) on loopback in a temporary
directory, fills each INBOX with the same messages over IMAP, then, one
session at a time with Python's poplib (bench/run's POP3 workload drives
many sessions with bench/loadgen), does what
a collector such as fetchmail does, against both in the same run: log in,
UIDL, RETR every message, DELE every message, QUIT (the UPDATE state removes
them). Prints each figure and the ratio (> 1: tern is faster).

    python3 bench/pop3_bench.py [--messages 10000] [--build build] [--markdown]

Not a timed test: nothing here passes or fails.
"""
import argparse
import os
import poplib
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imap_client import PASSWORD, USER, fill  # noqa: E402
from mailgen import make_messages  # noqa: E402
from servers import ROOT, Dovecot, Tern, ensure_packages, free_port_base  # noqa: E402


def measure(server, n):
    res = {}
    t = time.perf_counter()
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=300)
    p.user(USER)
    p.pass_(PASSWORD)
    res["login and open the maildrop (ms)"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    count, size = p.stat()
    _, uidls, _ = p.uidl()
    res["STAT + UIDL (ms)"] = (time.perf_counter() - t) * 1000
    assert count == n and len(uidls) == n, (count, len(uidls))
    t = time.perf_counter()
    got = 0
    for i in range(1, n + 1):
        got += p.retr(i)[2]
    elapsed = time.perf_counter() - t
    res["RETR every message (msg/s)"] = n / elapsed
    res["RETR throughput (MB/s)"] = got / elapsed / 1e6
    t = time.perf_counter()
    for i in range(1, n + 1):
        p.dele(i)
    p.quit()
    res["DELE every message + QUIT (ms)"] = (time.perf_counter() - t) * 1000
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=300)
    p.user(USER)
    p.pass_(PASSWORD)
    assert p.stat()[0] == 0
    p.quit()
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    ensure_packages(["dovecot-imapd", "dovecot-pop3d"])
    msgs = make_messages(args.messages)
    tmp = tempfile.mkdtemp(prefix="tern-pop3-bench-")
    os.chmod(tmp, 0o755)  # Dovecot's auth process (its own user) reads the passwd file
    base = free_port_base()
    results = {}
    try:
        tern = Tern(tmp, os.path.join(args.build, "tern"), base, [USER])
        for make in (lambda: tern.start(),
                     lambda: Dovecot(tmp, base + 1000, tern.hashes()).start()):
            server = make()
            try:
                fill(server.port, "INBOX", msgs)
                if server.name == "tern":
                    server.wait_indexed()
                results[server.name] = measure(server, args.messages)
            finally:
                server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{args.messages} messages ({sum(map(len, msgs)) / 1e6:.1f} MB), "
          "Dovecot Maildir; ratio > 1: tern faster")
    for key in results["tern"]:
        t, d = results["tern"][key], results["dovecot"][key]
        r = (t / d) if "/s" in key else (d / t if t else float("inf"))
        if args.markdown:
            print(f"| {key} | {t:,.1f} | {d:,.1f} | x{r:.2f} |")
        else:
            print(f"{key:40s} tern {t:12,.1f}  dovecot {d:12,.1f}  x{r:.2f}")


if __name__ == "__main__":
    main()
