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
Both servers get the same 100 accounts with the same yescrypt hash (tern
makes it; Dovecot reads it as {CRYPT}) and the same mbox of 3,000
generated messages (bench/mailgen.py). ImapTest comes from
../shared/imaptest/build.sh (or IMAPTEST=path). bench/run runs the default
mixes and own_msgs as part of its table; this runs any profile for longer.
Not a timed test: nothing here passes or fails.
"""
import argparse
import os
import resource
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import imaptest_runs  # noqa: E402
import mailgen  # noqa: E402
import servers  # noqa: E402

ROOT = servers.ROOT
USERS = 100
U = f"u%d@{mailgen.DOMAIN}"
U1 = f"u1@{mailgen.DOMAIN}"
PROFILES = {
    "default10": [f"user={U}", f"users={USERS}", "clients=10"],
    "default50": [f"user={U}", f"users={USERS}", "clients=50"],
    "default200": [f"user={U}", f"users={USERS}", "clients=200"],
    "own_msgs": [f"user={U1}", "clients=10", "own_msgs", "expunge=5", "logout=1"],
    "own_flags": [f"user={U1}", "clients=10", "own_flags"],
    # Only APPEND (and the login/SELECT/LOGOUT around it): the memory profile.
    "append10": [f"user={U}", f"users={USERS}", "clients=10", "-", "append=100,95",
                 "msgs=1000000"],
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--seconds", type=int, default=300)
    ap.add_argument("--profiles", default=",".join(PROFILES))
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--errors", type=int, default=5, help="error lines shown per run")
    args = ap.parse_args()

    servers.ensure_packages(["dovecot-imapd"])
    imaptest = imaptest_runs.imaptest_binary()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tmp = tempfile.mkdtemp(prefix="tern-stress-")
    os.chmod(tmp, 0o755)
    mbox = os.path.join(tmp, "stress.mbox")
    mailgen.write_mbox(mbox, mailgen.make_messages(3000))
    base = servers.free_port_base()
    results = []
    try:
        tern = servers.Tern(tmp, os.path.join(args.build, "tern"), base,
                            servers.bench_accounts(USERS))
        running = [tern.start()]
        try:
            running.append(servers.Dovecot(tmp, base + 1000, tern.hashes()).start())
            for profile in args.profiles.split(","):
                for server in running:
                    print(f"stress: {profile} on {server.name} for {args.seconds}s ...",
                          file=sys.stderr)
                    rates, errors, peak = imaptest_runs.run_mix(imaptest, server, mbox,
                                                                PROFILES[profile], args.seconds)
                    results.append((profile, server.name, rates, errors, peak))
                    for e in errors[:args.errors]:
                        print(f"  {server.name}: {e}", file=sys.stderr)
        finally:
            for server in running:
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
