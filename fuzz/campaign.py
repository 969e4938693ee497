#!/usr/bin/env python3
"""campaign.py: run every libFuzzer harness in build/fuzz for a while
(`make fuzz-long`: an hour each by default) and report what it did.

Each harness runs alone (one process, -jobs=1 style: the machine is shared)
on its working corpus build/fuzz/corpus-NAME plus the committed seeds
fuzz/corpus/NAME, with fuzz/NAME.dict. New inputs land in the working
corpus; with --merge, those that add coverage are merged into
fuzz/corpus/NAME (libFuzzer -merge=1), ready to commit, so `make check`
replays them. A crash stops that harness: its input is left in
build/fuzz/artifacts/NAME-* and the exit status is 1.

The table printed at the end (harness, seconds, executions, execs/s,
coverage, corpus files added) is the one docs/SECURITY.md keeps.
"""
import argparse
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(binary, name, seconds, merge):
    work = os.path.join(ROOT, "build", "fuzz", f"corpus-{name}")
    seeds = os.path.join(ROOT, "fuzz", "corpus", name)
    artifacts = os.path.join(ROOT, "build", "fuzz", "artifacts")
    os.makedirs(work, exist_ok=True)
    os.makedirs(seeds, exist_ok=True)
    os.makedirs(artifacts, exist_ok=True)
    args = [binary, f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048",
            "-print_final_stats=1", f"-artifact_prefix={artifacts}/{name}-"]
    dict_path = os.path.join(ROOT, "fuzz", f"{name}.dict")
    if os.path.exists(dict_path):
        args.append(f"-dict={dict_path}")
    start = time.monotonic()
    proc = subprocess.run(args + [work, seeds], cwd=ROOT, capture_output=True, text=True,
                          errors="replace")
    took = time.monotonic() - start
    log = proc.stderr
    execs = re.search(r"stat::number_of_executed_units:\s*(\d+)", log)
    cov = re.findall(r"cov: (\d+)", log)
    added = 0
    if merge and proc.returncode == 0:
        before = len(os.listdir(seeds))
        subprocess.run([binary, "-merge=1", seeds, work], cwd=ROOT, capture_output=True)
        added = len(os.listdir(seeds)) - before
    return {
        "name": name, "rc": proc.returncode, "seconds": took,
        "execs": int(execs.group(1)) if execs else 0,
        "cov": int(cov[-1]) if cov else 0, "added": added,
        "tail": "\n".join(log.splitlines()[-30:]),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=3600, help="per harness (3600)")
    ap.add_argument("--merge", action="store_true",
                    help="merge inputs with new coverage into fuzz/corpus/NAME")
    ap.add_argument("--only", default="", help="comma-separated harness names")
    args = ap.parse_args()
    bindir = os.path.join(ROOT, "build", "fuzz")
    names = sorted(n[len("fuzz_"):] for n in os.listdir(bindir)
                   if n.startswith("fuzz_") and os.access(os.path.join(bindir, n), os.X_OK))
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    results, failed = [], False
    for name in names:
        print(f"fuzz: {name} for {args.seconds}s", flush=True)
        r = run(os.path.join(bindir, f"fuzz_{name}"), name, args.seconds, args.merge)
        results.append(r)
        if r["rc"] != 0:
            failed = True
            print(f"fuzz: {name} FAILED (exit {r['rc']}):\n{r['tail']}", flush=True)
    print("\n| harness | seconds | executions | execs/s | coverage | new corpus files |")
    print("|---|---|---|---|---|---|")
    for r in results:
        rate = r["execs"] / r["seconds"] if r["seconds"] else 0
        status = "" if r["rc"] == 0 else " (crash)"
        print(f"| {r['name']}{status} | {r['seconds']:.0f} | {r['execs']:,} | {rate:,.0f} "
              f"| {r['cov']} | {r['added']} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
