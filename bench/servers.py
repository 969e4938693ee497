"""servers.py: the servers a bench compares, each started on loopback with a
private configuration in a temporary directory (never the system services).

  Tern      build/tern: IMAP, POP3, SMTP (MX), LMTP on one port base
  Dovecot   Debian's dovecot (imapd, pop3d, lmtpd): Maildir, passwd-file
  Postfix   Debian's postfix: smtpd relaying to an LMTP server (Dovecot's)

Accounts: bench_accounts(n) names them u1..un@bench.test; Tern makes them
with one yescrypt hash (tern's own, with its SCRAM/CRAM keys, so no first
login has to upgrade credentials) and hashes() hands the same hash to
Dovecot as {CRYPT}, which libxcrypt verifies there too. ensure_packages()
installs what is missing without starting Debian's services. pss_kb() sums
a process tree's proportional set size, so Dovecot's shared pages count once.
"""
import glob
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time

from mailgen import DOMAIN

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "bench-password"
NOBODY = 65534
PACKAGES = ["dovecot-imapd", "dovecot-pop3d", "dovecot-lmtpd", "postfix"]


def bench_accounts(n):
    return [f"u{i}@{DOMAIN}" for i in range(1, n + 1)]


# ---- processes and ports ----

def wait_port(port, proc=None, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_port_base(offsets=(24, 25, 80, 110, 143, 443, 465, 587, 993, 995)):
    """A base where base + each of tern's offsets is free (and base + 1000
    plus them, for the anchors)."""
    for _ in range(200):
        base = random.randrange(20000, 60000, 100)
        if all(port_free(b + o) for b in (base, base + 1000) for o in offsets):
            return base
    raise RuntimeError("no free port base")


def descendants(pid):
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def pss_kb(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def installed(pkg):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True,
                         text=True).stdout
    return "ok installed" in out


def ensure_packages(packages=PACKAGES):
    """apt-get installs what is missing. A policy-rc.d answering 101 keeps
    the packages' scripts from starting Debian's dovecot and postfix (the
    bench starts its own, privately); an existing policy-rc.d is left as is.
    Returns the packages still missing (none unless apt-get failed)."""
    missing = [p for p in packages if not installed(p)]
    if not missing:
        return []
    if os.geteuid() != 0:
        return missing
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    policy = "/usr/sbin/policy-rc.d"
    ours = not os.path.exists(policy)
    if ours:
        with open(policy, "w") as f:
            f.write("#!/bin/sh\n# bench/run: no service starts while it installs\nexit 101\n")
        os.chmod(policy, 0o755)
    try:
        subprocess.run(["debconf-set-selections"], input="postfix postfix/main_mailer_type "
                       "select No configuration\n", text=True, env=env)
        cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing
        if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
            subprocess.run(cmd, env=env, capture_output=True)
    finally:
        if ours:
            os.unlink(policy)
    # Where an init system started them anyway, stop them: the bench's own
    # instances must be the only ones.
    for svc in ("dovecot", "postfix"):
        subprocess.run(["service", svc, "stop"], capture_output=True)
    return [p for p in packages if not installed(p)]


# ---- tern ----

class Tern:
    name = "tern"

    def __init__(self, tmp, binary, port_base, accounts=(), extra_conf="", subdir="tern"):
        self.binary = binary
        self.dir = os.path.join(tmp, subdir)
        self.tmp = tmp
        subprocess.run([binary, "init", self.dir, "--port-base", str(port_base),
                        "--domain", DOMAIN], check=True, capture_output=True)
        self.add_accounts(accounts)
        with open(os.path.join(self.dir, "tern.conf"), "a") as f:
            f.write("\n[limits]\nmax_connections_per_ip = 0\nmax_connections = 200000\n"
                    "[auth]\nplaintext = always\n[smtp]\nmax_junk_commands = 100000\n"
                    + extra_conf + "\n")
        self.port = port_base + 143
        self.pop3_port = port_base + 110
        self.smtp_port = port_base + 25
        self.lmtp_port = port_base + 24
        self.submission_port = port_base + 587
        self.log_path = os.path.join(tmp, subdir + ".log")
        self.proc = None

    def add_accounts(self, accounts):
        """Makes accounts, all with one password and one hash: the first is
        made by tern (yescrypt and the SCRAM/CRAM keys a login would
        otherwise compute on first use), the rest get copies of its
        credentials, which takes a second for 10,000 instead of minutes."""
        accounts = list(accounts)
        if not accounts:
            return
        tern = [self.binary, "-d", self.dir]
        subprocess.run(tern + ["user", "add", accounts[0], "--password-stdin"],
                       input=PASSWORD + "\n", text=True, check=True, capture_output=True)
        db = os.path.join(self.dir, "accounts.db")
        con = sqlite3.connect(db, timeout=30)
        hashed = con.execute("SELECT password FROM accounts WHERE address = ?",
                             (accounts[0],)).fetchone()[0]
        con.close()
        if len(accounts) > 1:
            with tempfile.NamedTemporaryFile("w", dir=self.tmp, suffix=".passwd") as f:
                f.writelines(f"{a}:{{CRYPT}}{hashed}\n" for a in accounts[1:])
                f.flush()
                subprocess.run(tern + ["user", "import-passwd", f.name], check=True,
                               capture_output=True)
            con = sqlite3.connect(db, timeout=30)
            cols = ("scram_sha1", "scram_sha256", "cram_md5", "digest_md5", "apop")
            src = con.execute(f"SELECT {', '.join(cols)} FROM accounts WHERE address = ?",
                              (accounts[0],)).fetchone()
            con.execute(f"UPDATE accounts SET {', '.join(c + ' = ?' for c in cols)} "
                        "WHERE password = ?", (*src, hashed))
            con.commit()
            con.close()

    def hashes(self):
        con = sqlite3.connect(os.path.join(self.dir, "accounts.db"), timeout=30)
        rows = dict(con.execute("SELECT address, password FROM accounts"))
        con.close()
        return rows

    def start(self):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([self.binary, "-d", self.dir, "serve"], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc)
        wait_port(self.lmtp_port, self.proc)
        return self

    def pids(self):
        return [self.proc.pid]

    def count(self, sql):
        """The sum of sql's one value over tern's account indexes: how a
        bench waits for tern's background threads (indexing, collection)."""
        total = 0
        for path in glob.glob(os.path.join(self.dir, "accounts", "*", "index.db")):
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
            total += db.execute(sql).fetchone()[0]
            db.close()
        return total

    def wait_indexed(self, timeout=600):
        """Waits until the indexer has no text pending, so a figure taken
        next is not of a server still indexing what a fill appended."""
        deadline = time.monotonic() + timeout
        while self.count("SELECT count(*) FROM fts_pending") > 0:
            if time.monotonic() > deadline:
                raise RuntimeError("tern: indexing did not finish")
            time.sleep(0.1)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=120)
        self.proc = None


# ---- Dovecot ----

class Dovecot:
    """Dovecot 2.3 with IMAP, POP3 and LMTP, Maildir under home/<address>/mail,
    the accounts' {CRYPT} hashes in a passwd-file. Settings are Debian's
    defaults except what a many-connection bench needs (process and client
    limits) and mail_fsync = always for LMTP (a tern 250 means fsync'd)."""
    name = "dovecot"

    def __init__(self, tmp, port_base, hashes, mail_format="maildir"):
        self.dir = os.path.join(tmp, "dovecot")
        self.home = os.path.join(self.dir, "home")
        os.makedirs(self.home)
        os.makedirs(os.path.join(self.dir, "run"))
        os.chown(self.home, NOBODY, NOBODY)
        self.passwd = os.path.join(self.dir, "passwd")
        self.add_accounts(hashes)
        self.port, self.pop3_port, self.lmtp_port = port_base + 143, port_base + 110, port_base + 24
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(f"""
protocols = imap pop3 lmtp
listen = 127.0.0.1
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = {mail_format}:~/mail
mail_max_userip_connections = 100000
default_client_limit = 200000
default_process_limit = 100000
default_vsz_limit = 1G
pop3_uidl_format = %08Xu%08Xv
passdb {{
  driver = passwd-file
  args = scheme=CRYPT username_format=%u {self.passwd}
}}
userdb {{
  driver = static
  args = uid={NOBODY} gid={NOBODY} home={self.home}/%u
}}
protocol lmtp {{
  mail_fsync = always
}}
service imap-login {{
  inet_listener imap {{
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  service_count = 0
  process_min_avail = 2
  client_limit = 100000
}}
service imap {{
  process_limit = 100000
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {self.pop3_port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
  service_count = 0
  client_limit = 100000
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.lmtp_port}
  }}
  process_min_avail = 4
}}
""")
        self.proc = None

    def add_accounts(self, hashes):
        with open(self.passwd, "a") as f:
            for user, h in sorted(hashes.items()):
                f.write(f"{user}:{{CRYPT}}{h}::::::\n")

    def start(self):
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc)
        wait_port(self.lmtp_port, self.proc)
        return self

    def pids(self):
        return descendants(self.proc.pid)

    def maildir(self, user, mailbox="INBOX"):
        base = os.path.join(self.home, user, "mail")
        return base if mailbox == "INBOX" else os.path.join(base, "." + mailbox)

    def own(self, user):
        """Hands user's home (written by the bench) to Dovecot's mail user."""
        top = os.path.join(self.home, user)
        for root, dirs, files in os.walk(top):
            os.chown(root, NOBODY, NOBODY)
            for f in files:
                os.chown(os.path.join(root, f), NOBODY, NOBODY)

    def delivered(self, users=None):
        """Messages in the users' INBOX new/ (where LMTP puts them)."""
        pattern = os.path.join(self.home, "*", "mail", "new", "*")
        if users is None:
            return len(glob.glob(pattern))
        return sum(len(os.listdir(os.path.join(self.maildir(u), "new")))
                   for u in users if os.path.isdir(os.path.join(self.maildir(u), "new")))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=120)
        self.proc = None


# ---- Postfix ----

class Postfix:
    """Postfix's smtpd on a loopback port, mail for bench.test handed to an
    LMTP server (virtual_transport = lmtp:inet:...). Its queue files are
    fsync'd before its 250, as Postfix always does."""
    name = "postfix"

    def __init__(self, tmp, port, lmtp_port, subdir="postfix"):
        self.dir = os.path.join(tmp, subdir)
        conf, spool, data = (os.path.join(self.dir, d) for d in ("etc", "spool", "data"))
        for d in (conf, spool, data):
            os.makedirs(d)
        shutil.chown(data, "postfix")
        self.port = port
        with open(os.path.join(conf, "main.cf"), "w") as f:
            f.write(f"""compatibility_level = 3.6
queue_directory = {spool}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = postfix.{DOMAIN}
mydestination =
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = {DOMAIN}
virtual_transport = lmtp:inet:127.0.0.1:{lmtp_port}
lmtp_destination_concurrency_limit = 50
default_process_limit = 200
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_recipient_restrictions = permit_mynetworks, reject
maillog_file_prefixes = {self.dir}
maillog_file = {self.dir}/maillog
""")
        with open("/etc/postfix/master.cf") as src, \
                open(os.path.join(conf, "master.cf"), "w") as dst:
            for line in src:
                if line.startswith("smtp ") and " inet " in line:
                    line = f"127.0.0.1:{self.port} inet n - y - - smtpd\n"
                dst.write(line)
        self.conf = conf
        self.started = False

    def start(self):
        for verb in ("check", "start"):
            p = subprocess.run(["postfix", "-c", self.conf, verb], capture_output=True, text=True)
            if p.returncode != 0:
                raise RuntimeError(f"postfix {verb}: {p.stderr}")
        self.started = True
        wait_port(self.port)
        return self

    def stop(self):
        if self.started:
            subprocess.run(["postfix", "-c", self.conf, "stop"], capture_output=True)
            time.sleep(1)
        self.started = False
