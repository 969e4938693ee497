"""workloads.py: the workloads bench/run measures, each against tern and its
anchor in the same run. Every function takes the run's context (ctx: the
servers, the sizes, the tools) and returns rows

    (workload, figure, tern value, anchor value, better)

where better is "higher", "lower" or "zero" (an error count: both must be
0, no ratio). A wrong answer raises (WorkloadError): a fast wrong answer is
not a figure. Account use, so the workloads do not see each other's mail:
u1..u100 ImapTest's mixes, u101 resync, u102 webmail, u103 big mailbox,
u111.. POP3, u151..u170 delivery, u1001.. the idle fleet (one message
delivered to each), u<provider_first>.. a provider's day (the last account
its LMTP probe's).
"""
import os
import random
import smtplib
import statistics
import subprocess
import sys
import threading
import time

import imaptest_runs
import mailgen
import servers
from imap_client import Client, fill

D = mailgen.DOMAIN
RESYNC_USER, WEBMAIL_USER, BIG_USER = f"u101@{D}", f"u102@{D}", f"u103@{D}"
POP3_FIRST, DELIVERY_FIRST, DELIVERY_ACCOUNTS, IDLE_FIRST = 111, 151, 20, 1001


class WorkloadError(Exception):
    pass


def log(text):
    print(f"bench/run:   {text}", file=sys.stderr, flush=True)


def login(server, user):
    return Client(server.port).login(user, servers.PASSWORD)


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * (len(v) - 1) + 0.5))] if v else 0.0


def both(ctx, fn, *args):
    """fn(server, *args) for tern, then for Dovecot: (tern's, Dovecot's)."""
    return fn(ctx.tern, *args), fn(ctx.dovecot, *args)


# ---- mixed client load, one busy mailbox (ImapTest) ----

def mixed(ctx):
    rows = []
    for clients in ctx.size.mixed_clients:
        args = [f"user=u%d@{D}", "users=100", f"clients={clients}"]
        t, d = both(ctx, lambda s: imaptest_runs.run_mix(ctx.imaptest, s, ctx.mbox, args,
                                                       ctx.size.imaptest_secs))
        name = f"mixed load, {clients} clients"
        rows.append((name, "commands/s, all types", sum(t[0].values()), sum(d[0].values()),
                     "higher"))
        for kind in imaptest_runs.KINDS:
            if t[0].get(kind) or d[0].get(kind):
                rows.append((name, f"{kind} /s", t[0].get(kind, 0), d[0].get(kind, 0), "higher"))
        rows.append((name, "ImapTest errors", len(t[1]), len(d[1]), "zero"))
        rows.append((name, "peak memory (MiB PSS)", t[2] / 1024, d[2] / 1024, "lower"))
        ctx.errors += [f"{name} tern: {e}" for e in t[1][:3]] + \
            [f"{name} dovecot: {e}" for e in d[1][:3]]
    return rows


def busy_mailbox(ctx):
    args = [f"user=u1@{D}", "clients=10", "own_msgs", "expunge=5", "logout=1"]
    t, d = both(ctx, lambda s: imaptest_runs.run_mix(ctx.imaptest, s, ctx.mbox, args,
                                                   ctx.size.imaptest_secs))
    name = "one busy mailbox (own_msgs, 10 clients)"
    ctx.errors += [f"{name} tern: {e}" for e in t[1][:3]] + \
        [f"{name} dovecot: {e}" for e in d[1][:3]]
    return [(name, "commands/s, all types", sum(t[0].values()), sum(d[0].values()), "higher"),
            (name, "ImapTest errors", len(t[1]), len(d[1]), "zero")]


# ---- caching client resync (CONDSTORE/QRESYNC, RFC 7162) ----

def _select_state(lines):
    state = {}
    for line in lines:
        for key in (b"UIDVALIDITY", b"HIGHESTMODSEQ"):
            tok = b"[" + key + b" "
            if tok in line:
                state[key.decode()] = int(line.split(tok)[1].split(b"]")[0])
    return state


def resync(ctx):
    folders, per = ctx.size.resync_folders, ctx.size.resync_messages
    msgs = mailgen.make_messages(per, seed=11)
    changed = list(range(0, folders, max(1, folders // 5)))[:5]

    def prepare(server):
        c = login(server, RESYNC_USER)
        for f in range(folders):
            c.cmd(f"CREATE R{f}")
            c.append(f"R{f}", msgs)
        c.cmd("ENABLE QRESYNC")
        cache = {}
        for f in range(folders):
            cache[f] = _select_state(c.cmd_lines(f"SELECT R{f} (CONDSTORE)"))
            c.cmd("UID FETCH 1:* (FLAGS MODSEQ)")
        # A few changes, by another client: 3 flag changes, 1 expunge and 1
        # new message in each of the changed folders.
        w = login(server, RESYNC_USER)
        for f in changed:
            w.cmd(f"SELECT R{f}")
            w.cmd("UID STORE 2,4,6 +FLAGS (\\Flagged)")
            w.cmd("UID STORE 3 +FLAGS.SILENT (\\Deleted)")
            w.cmd("UID EXPUNGE 3")
            w.append(f"R{f}", msgs[:1])
        w.close()
        c.close()
        # tern indexes the texts of the fill in the background (Dovecot
        # here keeps no full-text index): measure after, not during it.
        if hasattr(server, "wait_indexed"):
            server.wait_indexed()
        return cache

    def measure(server, cache):
        times = []
        for _ in range(3):
            c = login(server, RESYNC_USER)
            c.cmd("ENABLE QRESYNC")
            t0 = time.perf_counter()
            answers = {f: c.cmd_lines(f"SELECT R{f} (QRESYNC ({cache[f]['UIDVALIDITY']} "
                                      f"{cache[f]['HIGHESTMODSEQ']}))") for f in range(folders)}
            times.append(time.perf_counter() - t0)
            c.close()
            for f, lines in answers.items():
                fetches = sum(1 for x in lines if b" FETCH (" in x)
                vanished = [x for x in lines if x.startswith(b"* VANISHED (EARLIER)")]
                want = (4, 1) if f in changed else (0, 0)
                if (fetches, len(vanished)) != want or (want[1] and b" 3" not in vanished[0]):
                    raise WorkloadError(f"resync {server.name} R{f}: {fetches} FETCH, "
                                        f"{vanished} VANISHED, wanted {want}")
        status = []
        c = login(server, RESYNC_USER)
        for _ in range(3):
            t0 = time.perf_counter()
            for f in range(folders):
                c.cmd(f"STATUS R{f} (HIGHESTMODSEQ MESSAGES UIDNEXT)")
            status.append(time.perf_counter() - t0)
        c.close()
        return statistics.median(times) * 1000, statistics.median(status) * 1000

    t = measure(ctx.tern, prepare(ctx.tern))
    d = measure(ctx.dovecot, prepare(ctx.dovecot))
    name = f"caching client resync ({folders} folders, {len(changed)} changed)"
    return [(name, "SELECT (QRESYNC) of every folder (ms)", t[0], d[0], "lower"),
            (name, "STATUS (HIGHESTMODSEQ) of every folder (ms)", t[1], d[1], "lower")]


# ---- webmail page loads ----

def webmail(ctx):
    n, pages = ctx.size.webmail_messages, ctx.size.webmail_pages
    msgs = mailgen.make_messages(n, seed=12)

    def measure(server):
        fill(server.port, "Webmail", msgs, WEBMAIL_USER, servers.PASSWORD, create=True)
        if server is ctx.tern:
            server.wait_indexed()
        c = login(server, WEBMAIL_USER)
        rng = random.Random(3)
        lat = []
        for p in range(pages):
            key = "REVERSE ARRIVAL" if p % 2 == 0 else "SUBJECT"
            t0 = time.perf_counter()
            c.cmd("SELECT Webmail")
            lines = c.cmd_lines(f"UID SORT ({key}) UTF-8 ALL")
            uids = lines[0].split()[2:] if lines else []
            if len(uids) != n:
                raise WorkloadError(f"webmail {server.name}: SORT gave {len(uids)} of {n}")
            start = rng.randrange(0, max(1, n - 50))
            page = b",".join(uids[start:start + 50]).decode()
            got = c.cmd_lines(f"UID FETCH {page} (UID FLAGS RFC822.SIZE INTERNALDATE "
                              "ENVELOPE BODYSTRUCTURE)")
            lat.append((time.perf_counter() - t0) * 1000)
            if sum(1 for x in got if b" FETCH (" in x) != min(50, n):
                raise WorkloadError(f"webmail {server.name}: FETCH gave {len(got)} lines")
        c.close()
        return pct(lat, 0.5), pct(lat, 0.99)

    t, d = both(ctx, measure)
    name = f"webmail page loads ({n} messages, {pages} pages)"
    return [(name, "SELECT + SORT + FETCH 50 p50 (ms)", t[0], d[0], "lower"),
            (name, "SELECT + SORT + FETCH 50 p99 (ms)", t[1], d[1], "lower")]


# ---- the idle fleet (bench/loadgen) ----

def settled_pss(server, limit_s=20):
    """The server's PSS once it has stopped changing (within 1% over half a
    second): a restarted tern first looks at its accounts, which maps and
    then drops tens of MiB."""
    last = servers.pss_kb(server.pids())
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = servers.pss_kb(server.pids())
        if abs(now - last) <= last / 100:
            return now
        last = now
    return last


def _loadgen(ctx, args, idle_server=None, timeout=900):
    """Runs loadgen; for the idle mode measures idle_server's PSS before the
    fleet and once it is idling. Returns (ready, result, pss before, after)."""
    before = settled_pss(idle_server) if idle_server is not None else 0
    after = 0
    ready, result, errors = {}, {}, []
    p = subprocess.Popen([ctx.loadgen] + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    for line in p.stdout:
        kind, _, rest = line.strip().partition(" ")
        values = dict(kv.split("=", 1) for kv in rest.split() if "=" in kv)
        if kind == "ready":
            ready = values
            # Idle for longer than tern's store.idle_close (30 s) and one
            # sweep (5 s): a provider's IDLE connections live for hours, and
            # what an account keeps only while busy goes by then. Both
            # servers wait the same (the smoke run does not wait).
            time.sleep(ctx.size.idle_settle_s)
            after = settled_pss(idle_server)
            p.stdin.write("deliver\n")
            p.stdin.flush()
        elif kind == "result":
            result = values
        elif kind == "error":
            errors.append(line.strip())
    rc = p.wait(timeout=timeout)
    if rc != 0 or not result:
        raise WorkloadError(f"loadgen {' '.join(args[:1])} failed ({rc}): {errors[:3]}")
    return ready, result, before, after


def idle_fleet(ctx):
    rows = []
    n = ctx.size.idle_conns
    for per_account in (1, 10):
        accounts = max(1, n // per_account)

        def measure(server):
            # A fresh process for each fleet: memory the previous workloads
            # (or fleet) left allocated, cached or free in the allocator
            # would otherwise blur the per-connection figure.
            server.stop()
            server.start()
            ready, result, before, after = _loadgen(
                ctx, ["idle", "-p", str(server.port), "-l", str(server.lmtp_port), "-a",
                      str(accounts), "-f", str(IDLE_FIRST), "-n", str(n), "-w", servers.PASSWORD, "-t", "900"], server)
            return (after / 1024, (after - before) / n, float(result["deliver_to_last_exists_ms"]),
                    float(result["notify_p99_ms"]), float(ready["setup_s"]))

        t, d = both(ctx, measure)
        name = f"idle fleet, {n} in IDLE, {per_account} per account"
        rows += [(name, "server memory, total (MiB PSS)", t[0], d[0], "lower"),
                 (name, "memory per connection (KiB)", t[1], d[1], "lower"),
                 (name, "delivery to the last EXISTS (ms)", t[2], d[2], "lower"),
                 (name, "final dot to EXISTS, p99 (ms)", t[3], d[3], "lower"),
                 (name, "login + SELECT + IDLE of all (s)", t[4], d[4], "lower")]
    return rows


# ---- the big mailbox ----

def big_mailbox(ctx):
    n = ctx.size.big_messages
    k = max(0, (n // 1000) // 2)  # needleword<k> is in message k*1000+7 only
    want_seq = k * 1000 + 8
    if want_seq > n:
        raise WorkloadError("big mailbox: fewer than 1,008 messages")

    def fill_tern(server):
        t0 = time.perf_counter()
        # MULTIAPPEND batches of 500, messages made 20,000 at a time.
        c = login(server, BIG_USER)
        c.cmd("CREATE Big")
        c.close()
        step = 20000
        for a in range(0, n, step):
            fill(server.port, "Big", mailgen.make_messages(min(n, a + step) - a, seed=13,
                                                          small=True, start=a),
                 BIG_USER, servers.PASSWORD, batch=500)
        server.wait_indexed(timeout=3600)
        return time.perf_counter() - t0

    def fill_dovecot(server):
        t0 = time.perf_counter()
        c = login(server, BIG_USER)  # Dovecot makes the home at the first login
        c.close()
        path = server.maildir(BIG_USER, "Big")
        step = 20000
        for a in range(0, n, step):
            mailgen.write_maildir(path, mailgen.make_messages(min(n, a + step) - a, seed=13,
                                                             small=True, start=a), a)
        server.own(BIG_USER)
        return time.perf_counter() - t0

    def measure(server, fill_s):
        c = login(server, BIG_USER)
        t0 = time.perf_counter()
        c.cmd("SELECT Big")
        first = (time.perf_counter() - t0) * 1000
        c.close()
        sel = []
        for _ in range(5):
            s = login(server, BIG_USER)
            t0 = time.perf_counter()
            lines = s.cmd_lines("SELECT Big")
            sel.append((time.perf_counter() - t0) * 1000)
            s.close()
            if not any(x == b"* %d EXISTS" % n for x in lines):
                raise WorkloadError(f"big mailbox {server.name}: SELECT did not say {n} EXISTS")
        c = login(server, BIG_USER)
        st = []
        for _ in range(20):
            t0 = time.perf_counter()
            lines = c.cmd_lines("STATUS Big (MESSAGES UNSEEN UIDNEXT)")
            st.append((time.perf_counter() - t0) * 1000)
        if b"MESSAGES %d " % n not in lines[0]:
            raise WorkloadError(f"big mailbox {server.name}: STATUS said {lines[0]!r}")
        c.cmd("SELECT Big")
        search = []
        for _ in range(ctx.size.big_repeat):
            t0 = time.perf_counter()
            lines = c.cmd_lines(f"SEARCH BODY needleword{k}")
            search.append((time.perf_counter() - t0) * 1000)
            # Dovecot reports a long scan's progress ("* OK Searched 5% of the
            # mailbox, ETA 2:49"): untagged OK may come at any time (RFC 9051 7.1.1).
            lines = [x for x in lines if not x.startswith(b"* OK ")]
            if lines != [b"* SEARCH %d" % want_seq]:
                raise WorkloadError(f"big mailbox {server.name}: SEARCH gave {lines[:2]!r}")
        flags = []
        for _ in range(ctx.size.big_repeat):
            t0 = time.perf_counter()
            raw = c.cmd_raw("FETCH 1:* (FLAGS)")
            flags.append((time.perf_counter() - t0) * 1000)
            if raw.count(b" FETCH (") != n:
                raise WorkloadError(f"big mailbox {server.name}: FETCH 1:* FLAGS gave "
                                    f"{raw.count(b' FETCH (')} of {n}")
        c.close()
        return (fill_s, first, statistics.median(st), statistics.median(sel),
                statistics.median(search), statistics.median(flags))

    t_fill = fill_tern(ctx.tern)
    log(f"tern filled {n:,} messages in {t_fill:.1f} s")
    t = measure(ctx.tern, t_fill)
    d_fill = fill_dovecot(ctx.dovecot)
    log(f"Dovecot's {n:,} files written in {d_fill:.1f} s")
    d = measure(ctx.dovecot, d_fill)
    name = f"big mailbox ({n:,} messages{', --' + ctx.size.name if ctx.size.name != 'full' else ''})"
    return [(name, "fill (s; tern over IMAP + indexing, Dovecot files written)", t[0], d[0],
             "lower"),
            (name, "first SELECT after the fill (ms)", t[1], d[1], "lower"),
            (name, "STATUS (MESSAGES UNSEEN UIDNEXT) (ms)", t[2], d[2], "lower"),
            (name, "SELECT (ms)", t[3], d[3], "lower"),
            (name, "SEARCH BODY rare word (ms)", t[4], d[4], "lower"),
            (name, "FETCH 1:* (FLAGS) (ms)", t[5], d[5], "lower")]


# ---- delivery: SMTP (tern vs Postfix -> Dovecot LMTP) and LMTP alone ----

def _stored_tern(server, users):
    total = 0
    for u in users:
        c = login(server, u)
        line = c.cmd_lines("STATUS INBOX (MESSAGES)")[0]
        total += int(line.rsplit(b"MESSAGES ", 1)[1].rstrip(b")"))
        c.close()
    return total


def _smtp_source(port, lmtp, users, n, senders, msgfile):
    """senders smtp-source processes, one connection each (-d keeps it),
    each to its own account: (seconds, failures)."""
    per = [n // senders + (1 if k < n % senders else 0) for k in range(senders)]
    t0 = time.perf_counter()
    procs = [subprocess.Popen(["smtp-source"] + (["-L"] if lmtp else []) +
                              ["-d", "-s", "1", "-m", str(m), "-f", "sender@example.org",
                               "-t", users[k % len(users)], "-F", msgfile, "-M", "sender.example",
                               f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
             for k, m in enumerate(per) if m]
    fails = [p.stderr.read() for p in procs if p.wait() != 0]
    return time.perf_counter() - t0, fails


def delivery(ctx):
    n = ctx.size.delivery_messages
    users = [f"u{DELIVERY_FIRST + i}@{D}" for i in range(DELIVERY_ACCOUNTS)]
    msgfile = os.path.join(ctx.tmp, "delivery.eml")
    with open(msgfile, "wb") as f:
        f.write(mailgen.make_message(1, random.Random(5)).replace(b"\r\n", b"\n"))
    postfix = servers.Postfix(ctx.tmp, ctx.port_base + 1025, ctx.dovecot.lmtp_port).start()
    rows = []
    try:
        for lmtp in (False, True):
            for senders in ctx.size.delivery_senders:
                before = _stored_tern(ctx.tern, users)
                port = ctx.tern.lmtp_port if lmtp else ctx.tern.smtp_port
                t_s, t_fail = _smtp_source(port, lmtp, users, n, senders, msgfile)
                got = _stored_tern(ctx.tern, users) - before
                if t_fail or got != n:
                    raise WorkloadError(f"delivery tern: {got} of {n} stored; {t_fail[:2]}")
                before = ctx.dovecot.delivered(users)
                port = ctx.dovecot.lmtp_port if lmtp else postfix.port
                t0 = time.perf_counter()
                _, d_fail = _smtp_source(port, lmtp, users, n, senders, msgfile)
                deadline = time.monotonic() + 600
                # Postfix's 250 means queued: its clock runs to the mailbox.
                while ctx.dovecot.delivered(users) - before < n:
                    if time.monotonic() > deadline or d_fail:
                        raise WorkloadError(f"delivery {'LMTP' if lmtp else 'Postfix'}: "
                                            f"{ctx.dovecot.delivered(users) - before} of {n}; "
                                            f"{d_fail[:2]}")
                    time.sleep(0.02)
                d_s = time.perf_counter() - t0
                anchor = "Dovecot LMTP" if lmtp else "Postfix -> Dovecot LMTP"
                name = f"delivery, {'LMTP' if lmtp else 'SMTP'} vs {anchor}"
                rows.append((name, f"{senders} senders, messages/s", n / t_s, n / d_s,
                             "higher"))
    finally:
        postfix.stop()
    return rows


# ---- POP3 download and delete (bench/loadgen) ----

def pop3(ctx):
    accounts, per = ctx.size.pop3_accounts, ctx.size.pop3_messages
    msgs = mailgen.make_messages(per, seed=14)
    users = [f"u{POP3_FIRST + i}@{D}" for i in range(accounts)]

    def measure(server):
        for u in users:
            fill(server.port, "INBOX", msgs, u, servers.PASSWORD)
        if server is ctx.tern:
            server.wait_indexed()
        _, r, _, _ = _loadgen(ctx, ["pop3", "-p", str(server.pop3_port), "-a", str(accounts),
                                    "-m", str(per), "-u", f"u%d@{D}", "-f", str(POP3_FIRST),
                                    "-w", servers.PASSWORD, "-t", "900"])
        return (float(r["msg_per_s"]), float(r["mb_per_s"]), float(r["retr_p99_ms"]),
                float(r["quit_max_ms"]))

    t, d = both(ctx, measure)
    name = f"POP3 download and delete ({accounts * per:,} messages, {accounts} sessions)"
    return [(name, "RETR + DELE, messages/s", t[0], d[0], "higher"),
            (name, "RETR MB/s", t[1], d[1], "higher"),
            (name, "RETR p99 (ms)", t[2], d[2], "lower"),
            (name, "QUIT (expunge of the maildrop), slowest (ms)", t[3], d[3], "lower")]


# ---- a provider's day (ImapTest profile mode) ----

class LmtpProbe:
    """Delivers one message every 0.25 s over LMTP to rcpt, a connection
    each (LHLO, MAIL, RCPT, DATA, QUIT), checking every reply, while something
    else loads the server: the time from connect to the final reply, taken
    by a client that waits for nothing else. ImapTest's own "LMTP latency"
    is measured inside its event loop, which also runs all its simulated
    users' timers, and was 23-26 ms on both servers where this probe saw
    2-4 (docs/PERFORMANCE.md)."""

    def __init__(self, port, rcpt, skip_s):
        self.port, self.rcpt, self.skip_s = port, rcpt, skip_s
        self.msgs = mailgen.make_messages(50, seed=23)
        self.ms, self.error, self.stopping = [], None, threading.Event()

    def _deliver(self, msg):
        """ms from connect to the final reply; smtplib checks each reply (an
        SMTPException, an OSError, on any other than the one due) and
        dot-stuffs the message."""
        t0 = time.monotonic()
        # A local_hostname of its own: smtplib would otherwise ask the
        # resolver for this host's name at every connect.
        with smtplib.LMTP("127.0.0.1", self.port, local_hostname="probe", timeout=60) as s:
            s.sendmail("probe@example.org", [self.rcpt], msg)
            return (time.monotonic() - t0) * 1000

    def _run(self):
        started, i = time.monotonic(), 0
        try:
            while not self.stopping.wait(0.25):
                measured = time.monotonic() - started >= self.skip_s
                ms = self._deliver(self.msgs[i % len(self.msgs)])
                if measured:
                    self.ms.append(ms)
                i += 1
        except OSError as e:
            self.error = e

    def __enter__(self):
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join()
        if exc[0] is None and self.error is not None:
            raise WorkloadError(str(self.error))
        if exc[0] is None and not self.ms:
            raise WorkloadError("LMTP probe: no delivery measured")


def provider_day(ctx):
    rows = []
    users, secs = ctx.size.provider_users, ctx.size.provider_secs
    # The account past both profiles' users (pop3-profile.conf's ten follow
    # profile.conf's), made for this by bench/run.
    probe_rcpt = f"u{ctx.provider_first + users + 10}@{D}"
    for pop3 in (False, True):
        first = ctx.provider_first + (users if pop3 else 0)
        count = 10 if pop3 else users  # pop3-profile.conf's own total_user_count

        def run(server):
            # A fresh process, as for the idle fleet: its peak PSS is the
            # profile's, not what the big mailbox left in caches and arenas.
            server.stop()
            server.start()
            conf = imaptest_runs.profile_conf(ctx.tmp, "pop3-profile" if pop3 else "profile",
                                              server, count, first, ctx.size.provider_rampup,
                                              pop3)
            with LmtpProbe(server.lmtp_port, probe_rcpt, ctx.size.provider_rampup) as probe:
                got = imaptest_runs.run_profile(ctx.imaptest, server, conf, ctx.mbox, secs)
            return got + (probe.ms,)

        t, d = both(ctx, run)
        name = (f"a provider's day ({'pop3-profile.conf' if pop3 else 'profile.conf'}, "
                f"{count} users, {secs} s)")
        rows.append((name, "commands/s, all types", sum(t[0].values()), sum(d[0].values()),
                     "higher"))
        for kind in sorted(set(t[1]) | set(d[1])):
            if t[1].get(kind) or d[1].get(kind):
                rows.append((name, f"{kind} latency (ms/cmd)", t[1].get(kind, 0),
                             d[1].get(kind, 0), "lower"))
        rows.append((name, "LMTP probe, connect to final reply, p50 (ms)",
                     statistics.median(t[4]), statistics.median(d[4]), "lower"))
        rows.append((name, "LMTP probe, connect to final reply, p99 (ms)", pct(t[4], 0.99),
                     pct(d[4], 0.99), "lower"))
        rows.append((name, "ImapTest errors", len(t[2]), len(d[2]), "zero"))
        rows.append((name, "peak memory (MiB PSS)", t[3] / 1024, d[3] / 1024, "lower"))
        ctx.errors += [f"{name} tern: {e}" for e in t[2][:3]] + \
            [f"{name} dovecot: {e}" for e in d[2][:3]]
    return rows


WORKLOADS = [("mixed", mixed), ("busy", busy_mailbox), ("resync", resync),
             ("webmail", webmail), ("idle", idle_fleet), ("big", big_mailbox),
             ("delivery", delivery), ("pop3", pop3), ("provider", provider_day)]
