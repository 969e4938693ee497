#!/usr/bin/env python3
"""append_bench.py: IMAP APPEND rate with 1 and 8 concurrent writers to one
account, and server memory during one large APPEND, for one or more tern
binaries side by side (e.g. before and after a change).

    python3 bench/append_bench.py [--binary build/tern ...] [--messages 400]

Each writer is its own connection sending one message per APPEND and
waiting for its OK (every OK means fsync'd: store.no_fsync is never set).
Memory: RssAnon growth of the server while a 50 MB APPEND streams in, and
at its peak including the commit. Not a timed test: nothing passes or fails.
"""
import argparse
import os
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imap_client import USER, Client  # noqa: E402
from servers import ROOT, Tern, free_port_base  # noqa: E402


def rss_anon_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def append_rate(server, writers, per_writer, size):
    msg = (b"From: a@example.org\r\nTo: bench@localhost\r\nSubject: append\r\n\r\n" +
           b"x" * 76 + b"\r\n") * max(1, size // 80)
    clients = [Client(server.port).login() for _ in range(writers)]
    barrier = threading.Barrier(writers + 1)

    def run(c):
        barrier.wait()
        for _ in range(per_writer):
            c.append("INBOX", [msg])

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    for c in clients:
        c.close()
    return writers * per_writer / elapsed


def big_append_memory(server, size=50 << 20):
    c = Client(server.port).login()
    body = b"Subject: big\r\n\r\n" + (b"y" * 78 + b"\r\n") * (size // 80)
    pid = server.proc.pid
    before = rss_anon_kib(pid)
    peak = [before]
    done = [False]

    def sample():
        while not done[0]:
            peak[0] = max(peak[0], rss_anon_kib(pid))
            time.sleep(0.005)

    t = threading.Thread(target=sample)
    t.start()
    c.n += 1
    tag = b"b%d" % c.n
    c.sock.sendall(tag + b" APPEND INBOX {%d+}\r\n" % len(body))
    for i in range(0, len(body), 1 << 20):
        c.sock.sendall(body[i:i + (1 << 20)])
    streamed = max(peak[0], rss_anon_kib(pid)) - before
    c.sock.sendall(b"\r\n")
    c.read_literal_aware(tag)
    done[0] = True
    t.join()
    c.close()
    return streamed, peak[0] - before


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", action="append")
    ap.add_argument("--messages", type=int, default=400, help="per writer count x writers")
    args = ap.parse_args()
    binaries = args.binary or [os.path.join(ROOT, "build", "tern")]
    rows = []
    for i, binary in enumerate(binaries):
        tmp = tempfile.mkdtemp(prefix="tern-append-bench-")
        try:
            server = Tern(tmp, binary, free_port_base(), [USER]).start()
            try:
                r1 = append_rate(server, 1, args.messages, 2000)
                r8 = append_rate(server, 8, args.messages // 8, 2000)
                r8big = append_rate(server, 8, max(1, args.messages // 32), 128 * 1024)
                streamed, peak = big_append_memory(server)
            finally:
                server.stop()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        rows.append((binary, r1, r8, r8big, streamed, peak))
    print(f"{'binary':30s} {'1 writer':>10s} {'8 writers':>10s} {'8 x 128K':>10s} "
          f"{'50MB: streaming':>16s} {'peak':>10s}")
    for b, r1, r8, r8big, streamed, peak in rows:
        print(f"{b[-30:]:30s} {r1:8.0f}/s {r8:8.0f}/s {r8big:8.1f}/s {streamed:13d} KiB "
              f"{peak:7d} KiB")


if __name__ == "__main__":
    main()
