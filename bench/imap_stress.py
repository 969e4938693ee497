#!/usr/bin/env python3
"""imap_stress.py: ImapTest's stress runs against tern and Dovecot, same
machine, same run: ImapTest's clients each keep a model of the mailbox and
report every reply that contradicts the protocol or the other clients
(every "Error:" line is a finding; docs/IMAP.md explains any we keep).

    python3 bench/imap_stress.py [--seconds 300] [--profiles default10,own_msgs] [--markdown]

Profiles (ImapTest's own mixes):
  default10, default50, default200   the default command mix, 100 accounts,
                                     10/50/200 clients
  own_msgs                           10 clients on one mailbox, each with its
                                     own messages, expunge=5 logout=1
  own_flags                          10 clients on one mailbox, each with its
                                     own flags
  append10                           10 clients of 100 accounts appending
                                     (the rest of the mix off): peak memory
For each: commands per second by type, the error count, and the servers'
memory (proportional set size, Dovecot's processes summed) at its peak.
Both servers get the same 100 accounts with the same yescrypt hashes (tern
makes them; Dovecot reads them as {CRYPT}) and the same mbox of 3,000
generated messages. ImapTest comes from ../shared/imaptest/build.sh.
Not a timed test: nothing here passes or fails.
"""
import argparse
import os
import random
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import imap_bench  # noqa: E402  (the two servers and PSS, shared)

ROOT = os.path.dirname(HERE)
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "imaptest")
PASSWORD = "stress-pw"
USERS = 100
PROFILES = {
    "default10": ["user=u%d@localhost", f"users={USERS}", "clients=10"],
    "default50": ["user=u%d@localhost", f"users={USERS}", "clients=50"],
    "default200": ["user=u%d@localhost", f"users={USERS}", "clients=200"],
    "own_msgs": ["user=u1@localhost", "clients=10", "own_msgs", "expunge=5", "logout=1"],
    "own_flags": ["user=u1@localhost", "clients=10", "own_flags"],
    # Only APPEND (and the login/SELECT/LOGOUT around it): the memory profile.
    "append10": ["user=u%d@localhost", f"users={USERS}", "clients=10", "-", "append=100,95",
                 "msgs=1000000"],
}


def write_mbox(path, n=3000):
    rng = random.Random(7)
    with open(path, "wb") as f:
        for i in range(n):
            msg = imap_bench.make_message(i, rng).replace(b"\r\n", b"\n")
            f.write(b"From user@example.org Mon Jan  1 00:00:00 2024\n" + msg + b"\n")


class TernAccounts(imap_bench.Tern):
    """tern with u1..u100@localhost (yescrypt, tern's default)."""

    def __init__(self, tmp, port_base, binary):
        super().__init__(tmp, port_base, binary)
        for i in range(1, USERS + 1):
            subprocess.run([binary, "-d", self.dir, "user", "add", f"u{i}@localhost",
                            "--password-stdin"], input=PASSWORD + "\n", text=True, check=True,
                           capture_output=True)

    def hashes(self):
        db = sqlite3.connect(os.path.join(self.dir, "accounts.db"))
        rows = db.execute("SELECT address, password FROM accounts WHERE address LIKE 'u%'")
        return dict(rows.fetchall())


class DovecotAccounts(imap_bench.Dovecot):
    """Dovecot with the same accounts and hashes."""

    def __init__(self, tmp, port, hashes):
        super().__init__(tmp, port, "maildir")
        with open(os.path.join(self.dir, "passwd"), "a") as f:
            for user, h in sorted(hashes.items()):
                f.write(f"{user}:{{CRYPT}}{h}::::::\n")


def run_profile(imaptest, server, mbox, profile, seconds):
    """ImapTest's totals per second, its error lines and the peak PSS."""
    args = [imaptest, "host=127.0.0.1", f"port={server.port}", f"pass={PASSWORD}",
            f"mbox={mbox}", f"secs={seconds}"] + PROFILES[profile]
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.wait(1.0):
            peak[0] = max(peak[0], imap_bench.pss_kb(server.pids()))

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    proc = subprocess.run(args, capture_output=True, text=True, errors="replace",
                          timeout=seconds + 300)
    done.set()
    t.join()
    out = proc.stdout + proc.stderr
    errors = [l for l in out.splitlines() if l.startswith("Error:")]
    rates = {}
    m = re.search(r"Totals:\n(.*)\n.*\n.*\n(.*)", out)
    if m:
        names, counts = m.group(1).split(), m.group(2).split()
        rates = {k: int(v) / seconds for k, v in zip(names, counts)}
    return rates, errors, peak[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--seconds", type=int, default=300)
    ap.add_argument("--profiles", default=",".join(PROFILES))
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--errors", type=int, default=5, help="error lines shown per run")
    args = ap.parse_args()

    imaptest = subprocess.run(["bash", os.path.join(SHARED, "build.sh"),
                               os.path.join(ROOT, "build", "imaptest")], check=True,
                              capture_output=True, text=True).stdout.strip().splitlines()[-1]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tmp = tempfile.mkdtemp(prefix="tern-stress-")
    os.chmod(tmp, 0o755)
    mbox = os.path.join(tmp, "stress.mbox")
    write_mbox(mbox)
    base = 45000 + random.randrange(0, 4000, 10)
    results = []
    try:
        tern = TernAccounts(tmp, base, os.path.join(args.build, "tern"))
        hashes = tern.hashes()
        servers = [tern]
        try:
            servers.append(DovecotAccounts(tmp, base + 1143, hashes))
            for profile in args.profiles.split(","):
                for server in servers:
                    print(f"stress: {profile} on {server.name} for {args.seconds}s ...",
                          file=sys.stderr)
                    rates, errors, peak = run_profile(imaptest, server, mbox, profile,
                                                      args.seconds)
                    results.append((profile, server.name, rates, errors, peak))
                    for e in errors[:args.errors]:
                        print(f"  {server.name}: {e}", file=sys.stderr)
        finally:
            for server in servers:
                server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    kinds = ["Logi", "Sele", "Fetc", "Fet2", "Stor", "Expu", "Appe"]
    if args.markdown:
        print("| profile | server | " + " | ".join(f"{k}/s" for k in kinds) +
              " | errors | peak PSS (MiB) |")
        print("|---" * (len(kinds) + 4) + "|")
    for profile, name, rates, errors, peak in results:
        cells = [f"{rates.get(k, 0):,.1f}" for k in kinds]
        if args.markdown:
            print(f"| {profile} | {name} | " + " | ".join(cells) +
                  f" | {len(errors)} | {peak / 1024:,.1f} |")
        else:
            print(f"{profile:10s} {name:8s} " + " ".join(f"{k} {c:>8s}" for k, c in
                                                        zip(kinds, cells)) +
                  f"  errors {len(errors)}  peak {peak / 1024:,.1f} MiB")
    # The one-mailbox profiles side by side: tern's speed over Dovecot's.
    by = {(p, n): r for p, n, r, _, _ in results}
    for p in ("own_msgs", "own_flags"):
        t, d = by.get((p, "tern")), by.get((p, "dovecot"))
        if t and d:
            total = lambda r: sum(r.get(k, 0) for k in ("Fetc", "Fet2", "Stor", "Appe"))
            if total(d):
                print(f"{p}: tern/Dovecot FETCH+STORE+APPEND per second x{total(t) / total(d):.2f}")


if __name__ == "__main__":
    main()
