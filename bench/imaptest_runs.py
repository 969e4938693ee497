"""imaptest_runs.py: running ImapTest (Dovecot's IMAP stress and compliance
tester, ../shared/imaptest) against a server and reading its report.

  imaptest_binary()   builds it once (../shared/imaptest/build.sh into
                      build/imaptest) unless IMAPTEST= names a binary
  run_mix()           a stress run: ImapTest's clients each keep a model of
                      the mailbox and report every reply that contradicts the
                      protocol or the other clients ("Error:" lines); returns
                      commands per second by type, the error lines and the
                      server's peak PSS
  run_profile()       profile mode (profile.conf, pop3-profile.conf in its
                      source): simulated users, LMTP deliveries, IMAP clients
                      that IDLE, read, move and delete, POP3 clients
"""
import os
import re
import subprocess
import tarfile
import threading

import servers

ROOT = servers.ROOT
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "imaptest")
KINDS = ["Logi", "List", "Stat", "Sele", "Fetc", "Fet2", "Stor", "Dele", "Expu", "Appe", "Logo"]


def imaptest_binary():
    env = os.environ.get("IMAPTEST")
    if env:
        return env
    out = subprocess.run(["bash", os.path.join(SHARED, "build.sh"),
                          os.path.join(ROOT, "build", "imaptest")], check=True,
                         capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


class PeakPss:
    """Samples a server's PSS every second while in a with block."""

    def __init__(self, server):
        self.server, self.peak, self.done = server, 0, threading.Event()

    def __enter__(self):
        def sample():
            while not self.done.wait(1.0):
                self.peak = max(self.peak, servers.pss_kb(self.server.pids()))

        self.thread = threading.Thread(target=sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


def parse_totals(out, seconds):
    """ImapTest's "Totals:" block as commands per second by type: the line
    of names, then (past the percentage lines of a stress run) the counts."""
    lines = out.splitlines()
    if "Totals:" not in lines:
        return {}
    at = len(lines) - 1 - lines[::-1].index("Totals:")
    names = lines[at + 1].split()
    for line in lines[at + 2:]:
        counts = line.split()
        if counts and all(c.isdigit() for c in counts):
            return {k: int(v) / seconds for k, v in zip(names, counts)}
    return {}


def parse_latency(out):
    """The last "ms/cmd avg" line of a profile run: milliseconds per command
    by type, as ImapTest averaged them."""
    names, last = None, {}
    for line in out.splitlines():
        if line.split()[:1] == ["Logi"]:
            names = line.split()
        elif line.endswith("ms/cmd avg") and names:
            values = line.split()[:-2]
            last = {k: int(v) for k, v in zip(names, values) if v.isdigit()}
    return last


def run_mix(imaptest, server, mbox, args, seconds, password=servers.PASSWORD):
    """One stress run: (rates by type, error lines, peak PSS in KiB)."""
    cmd = [imaptest, "host=127.0.0.1", f"port={server.port}", f"pass={password}",
           f"mbox={mbox}", f"secs={seconds}"] + list(args)
    with PeakPss(server) as pss:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                              timeout=seconds + 300)
    out = proc.stdout + proc.stderr
    errors = [line for line in out.splitlines() if line.startswith("Error:")]
    rates = parse_totals(out, seconds)
    if not rates:
        errors.append(f"Error: no Totals in ImapTest's output: {out[-300:]!r}")
    return rates, errors, pss.peak


def profile_conf(tmp, name, server, users, first, rampup, pop3=False):
    """ImapTest's own profile.conf (or pop3-profile.conf) from its source,
    pointed at server's LMTP port, with users u<first>..u<first+users-1>."""
    with tarfile.open(os.path.join(SHARED, "imaptest-0de0dbf.tar.gz")) as tar:
        src = "imaptest/pop3-profile.conf" if pop3 else "imaptest/profile.conf"
        text = tar.extractfile(src).read().decode()
    text = re.sub(r"^lmtp_port = .*$", f"lmtp_port = {server.lmtp_port}", text, flags=re.M)
    text = re.sub(r"^total_user_count = .*$", f"total_user_count = {users}", text, flags=re.M)
    text = re.sub(r"^rampup_time = .*$", f"rampup_time = {rampup}s", text, flags=re.M)
    text = re.sub(r"username_format = test%n",
                  f"username_format = u%n@{servers.DOMAIN}\n  username_start_index = {first}",
                  text)
    path = os.path.join(tmp, f"{name}-{server.name}.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def run_profile(imaptest, server, conf, mbox, seconds, password=servers.PASSWORD):
    """A profile run: (rates by type, ms per command by type, error lines,
    peak PSS).
    ImapTest wants a user= even here (the profile's username_format wins)
    and an mbox for the mail its users send."""
    # Its POP3 clients connect to port= too: pop3-profile.conf has only those.
    port = server.pop3_port if "pop3" in os.path.basename(conf) else server.port
    cmd = [imaptest, "host=127.0.0.1", f"port={port}", f"pass={password}",
           f"user=u1@{servers.DOMAIN}", f"mbox={mbox}", f"profile={conf}", f"secs={seconds}"]
    with PeakPss(server) as pss:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                              timeout=seconds + 300)
    out = proc.stdout + proc.stderr
    errors = [line for line in out.splitlines() if line.startswith("Error:")]
    rates = parse_totals(out, seconds)
    if not rates:
        errors.append(f"Error: no Totals in ImapTest's output: {out[-300:]!r}")
    return rates, parse_latency(out), errors, pss.peak
