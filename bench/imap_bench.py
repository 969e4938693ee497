#!/usr/bin/env python3
"""imap_bench.py: tern and Dovecot side by side, same machine, same run.

Starts a tern server (build/tern) and a Dovecot (Debian's dovecot-imapd,
installed if missing) on loopback ports in a temporary directory, gives each
the same account (the same yescrypt hash) and the same messages
(bench/mailgen.py), then measures the same IMAP operations on both and
prints each figure with the ratio Dovecot/tern (> 1 means tern is faster or
smaller). bench/run measures the same and more in one table; this stays for
its finer single-client figures.

    python3 bench/imap_bench.py [--messages 20000] [--idle 1000] [--markdown]

Figures: APPEND rate (one message per command, fsync'd by both), SELECT and
STATUS of the big mailbox, FETCH of all flags, FETCH of message bodies,
SEARCH BODY, and memory per idle IMAP connection (logged in, INBOX selected,
in IDLE), as proportional set size (PSS) so Dovecot's shared pages count once.
Not a timed test: nothing here passes or fails.
"""
import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imap_client import USER, Client  # noqa: E402
from mailgen import make_messages  # noqa: E402
from servers import ROOT, Dovecot, Tern, ensure_packages, free_port_base, pss_kb  # noqa: E402


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
    small = make_messages(n_append, seed=1)
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
        nbytes[0] = c.cmd(f"FETCH 1:{min(2000, len(msgs))} BODY.PEEK[]")

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
    ensure_packages(["dovecot-imapd"])
    msgs = make_messages(args.messages)
    tmp = tempfile.mkdtemp(prefix="tern-bench-")
    os.chmod(tmp, 0o755)
    results = {}
    base = free_port_base()
    try:
        tern = Tern(tmp, os.path.join(args.build, "tern"), base, [USER])
        for make in (lambda: tern.start(),
                     lambda: Dovecot(tmp, base + 1000, tern.hashes(), args.dovecot_format).start()):
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
