#!/usr/bin/env python3
"""expunge_bench.py: a big IMAP EXPUNGE, tern and Dovecot side by side.

Starts tern (BUILD/tern) and Dovecot (Debian's dovecot-imapd, installed if
missing; Maildir) on loopback in a temporary directory, fills INBOX with the
same messages over IMAP, then marks every message \\Deleted and EXPUNGEs them
in one command, as a client emptying a folder does. A second client APPENDs
one message at a time from just before the EXPUNGE until tern's indexer
thread has collected what the expunge left (blob rows, texts, FTS5 entries,
files: src/store/expunge.c), and the slowest and the median of those appends
are reported: how long a delivery waits behind a big expunge. For tern it
also reports when the collection was done (the account's index.db has no
zero-reference blob left), counted from the EXPUNGE reply.

    python3 bench/expunge_bench.py [--messages 10000] [--build build] [--markdown]

Not a timed test: nothing here passes or fails.
"""
import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imap_client import USER, Client, fill  # noqa: E402
from mailgen import make_message, make_messages  # noqa: E402
from servers import ROOT, Dovecot, Tern, ensure_packages, free_port_base  # noqa: E402


def appender(port, rng, base, stop, lat):
    """Appends one message at a time until stop is set; each latency in lat."""
    w = Client(port).login()
    i = 0
    while not stop.is_set():
        m = make_message(base + i, rng)
        t = time.perf_counter()
        w.append("INBOX", [m])
        lat.append((time.perf_counter() - t) * 1000)
        i += 1
    w.close()


def measure(server, msgs, rng):
    res = {}
    fill(server.port, "INBOX", msgs)
    if server.name == "tern":
        server.wait_indexed()
    c = Client(server.port).login()
    c.cmd("SELECT INBOX")
    t = time.perf_counter()
    c.cmd("STORE 1:* +FLAGS.SILENT (\\Deleted)")
    res["STORE 1:* +FLAGS.SILENT (\\Deleted) (ms)"] = (time.perf_counter() - t) * 1000
    # A second client delivers one message at a time meanwhile: how long
    # does a writer wait while the expunge and then tern's background
    # collection hold the account?
    stop, lat = threading.Event(), []
    th = threading.Thread(target=appender, args=(server.port, rng, len(msgs), stop, lat))
    th.start()
    time.sleep(0.2)
    before = len(lat)
    t = time.perf_counter()
    c.cmd("EXPUNGE")
    done = time.perf_counter()
    res[f"EXPUNGE of {len(msgs)} messages (ms)"] = (done - t) * 1000
    while server.name == "tern" and server.count(
            "SELECT count(*) FROM blobs WHERE refs = 0") > 0:
        time.sleep(0.01)
    res["collection done, after the EXPUNGE reply (ms)"] = (time.perf_counter() - done) * 1000
    time.sleep(0.2)
    stop.set()
    th.join()
    during = lat[before:]
    res["APPEND meanwhile, slowest (ms)"] = max(during)
    res["APPEND meanwhile, median (ms)"] = statistics.median(during)
    c.close()
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    ensure_packages(["dovecot-imapd"])
    msgs = make_messages(args.messages)
    tmp = tempfile.mkdtemp(prefix="tern-expunge-bench-")
    os.chmod(tmp, 0o755)  # Dovecot's auth process (its own user) reads the passwd file
    base = free_port_base()
    results = {}
    try:
        tern = Tern(tmp, os.path.join(args.build, "tern"), base, [USER])
        for make in (lambda: tern.start(),
                     lambda: Dovecot(tmp, base + 1000, tern.hashes()).start()):
            server = make()
            try:
                results[server.name] = measure(server, msgs, random.Random(8))
            finally:
                server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{args.messages} messages ({sum(map(len, msgs)) / 1e6:.1f} MB), "
          "Dovecot Maildir; ratio > 1: tern faster")
    for key in results["tern"]:
        t, d = results["tern"][key], results["dovecot"][key]
        r = d / t if t and d else float("nan")
        if args.markdown:
            print(f"| {key} | {t:,.1f} | {d:,.1f} | x{r:.2f} |")
        else:
            print(f"{key:50s} tern {t:10,.1f}  dovecot {d:10,.1f}  x{r:.2f}")


if __name__ == "__main__":
    main()
