"""kerberos.py: a throwaway MIT Kerberos KDC on 127.0.0.1 and the client
sides of SASL GSSAPI (RFC 4752) and GS2-KRB5 (RFC 5801), for
test_gssapi*.py.

Kdc() makes two realms in a temporary directory (TERN.TEST, and OTHER.TEST
with a cross-realm key to TERN.TEST, so a principal of a realm the server
does not map can still get a ticket for our service), starts krb5kdc on a
free port with KRB5_CONFIG/KRB5_KDC_PROFILE pointing there (never /etc),
and makes principals, keytabs and tickets (kinit into a file ccache per
principal). The SASL clients use python3-gssapi (Debian's, on the system
path) with the ccache given: they share no code with the server, which
runs GNU SASL.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

try:
    import gssapi
except ImportError:  # Debian's module, when python3 is not the system one
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import gssapi
    except ImportError:
        gssapi = None

TOOLS = ("krb5kdc", "kdb5_util", "kadmin.local", "kinit")
REALM = "TERN.TEST"
OTHER = "OTHER.TEST"
HOST = "mail.tern.test"


def missing():
    """Why Kerberos tests cannot run here, or None."""
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    absent = [t for t in TOOLS if shutil.which(t, path=path) is None]
    if absent:
        return "not installed: " + " ".join(absent) + " (scripts/deps.sh: krb5-kdc krb5-admin-server krb5-user)"
    if gssapi is None:
        return "python3-gssapi not installed (scripts/deps.sh)"
    return None


def free_port():
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            try:
                u.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port for the KDC")


class Kdc:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tern-krb5-")
        self.port = free_port()
        self.env = dict(os.environ,
                        KRB5_CONFIG=os.path.join(self.dir, "krb5.conf"),
                        KRB5_KDC_PROFILE=os.path.join(self.dir, "kdc.conf"),
                        PATH=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
        self.env.pop("KRB5CCNAME", None)
        self.proc = None
        with open(self.env["KRB5_CONFIG"], "w") as f:
            f.write(f"""[libdefaults]
 default_realm = {REALM}
 dns_lookup_kdc = false
 dns_lookup_realm = false
 dns_canonicalize_hostname = false
 rdns = false
[realms]
 {REALM} = {{
  kdc = 127.0.0.1:{self.port}
 }}
 {OTHER} = {{
  kdc = 127.0.0.1:{self.port}
 }}
[domain_realm]
 {HOST} = {REALM}
[capaths]
 {OTHER} = {{
  {REALM} = .
 }}
""")
        realms = "".join(f""" {r} = {{
  database_name = {self.dir}/{r}.db
  key_stash_file = {self.dir}/{r}.stash
  acl_file = {self.dir}/kadm5.acl
 }}
""" for r in (REALM, OTHER))
        with open(self.env["KRB5_KDC_PROFILE"], "w") as f:
            f.write(f"""[kdcdefaults]
 kdc_listen = 127.0.0.1:{self.port}
 kdc_tcp_listen = 127.0.0.1:{self.port}
[realms]
{realms}[logging]
 kdc = FILE:{self.dir}/kdc.log
""")

    def run(self, *cmd, input=None):
        proc = subprocess.run(cmd, input=input, capture_output=True, text=True, env=self.env,
                              timeout=60)
        if proc.returncode != 0:
            raise AssertionError(f"{cmd} failed: {proc.stdout}{proc.stderr}")
        return proc.stdout

    def kadmin(self, realm, query):
        return self.run("kadmin.local", "-r", realm, "-q", query)

    def start(self):
        for realm in (REALM, OTHER):
            self.run("kdb5_util", "create", "-r", realm, "-s", "-P", "master-" + realm)
            # The same cross-realm key in both databases: OTHER.TEST's
            # users may get tickets for TERN.TEST's services.
            self.kadmin(realm, f"addprinc -pw cross-realm-key krbtgt/{REALM}@{OTHER}")
        self.proc = subprocess.Popen(["krb5kdc", "-n", "-r", REALM, "-r", OTHER], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("krb5kdc did not start: " + self.log())
                time.sleep(0.05)

    def log(self):
        try:
            with open(os.path.join(self.dir, "kdc.log")) as f:
                return f.read()
        except OSError:
            return ""

    def add_user(self, name, realm=REALM):
        password = "pw-" + name.replace("/", "-")
        self.kadmin(realm, f"addprinc -pw {password} {name}@{realm}")
        return password

    def add_services(self, keytab, *services, host=HOST):
        for service in services:
            self.kadmin(REALM, f"addprinc -randkey {service}/{host}@{REALM}")
        self.kadmin(REALM, f"ktadd -k {keytab} " +
                    " ".join(f"{s}/{host}@{REALM}" for s in services))

    def kinit(self, name, realm=REALM):
        """A file ccache holding name@realm's ticket-granting ticket."""
        ccache = os.path.join(self.dir, f"cc-{name.replace('/', '-')}-{realm}")
        self.run("kinit", "-c", ccache, f"{name}@{realm}", input=self.password_of(name) + "\n")
        return ccache

    def password_of(self, name):
        return "pw-" + name.replace("/", "-")

    def empty_ccache(self):
        return os.path.join(self.dir, "cc-nobody")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def _context(service, ccache, flags, channel_bindings=None, host=HOST):
    creds = gssapi.Credentials(usage="initiate", store={"ccache": "FILE:" + ccache})
    name = gssapi.Name(f"{service}@{host}", gssapi.NameType.hostbased_service)
    return gssapi.SecurityContext(name=name, creds=creds, usage="initiate",
                                  mech=gssapi.MechType.kerberos, flags=flags,
                                  channel_bindings=channel_bindings)


class GssapiClient:
    """RFC 4752 section 3.1, the client: the context tokens, then the
    server's 4-octet offer (layers, max size) unwrapped and answered with
    "no security layer" and the authorization identity."""

    def __init__(self, service, ccache, authzid="", host=HOST, mutual=True):
        flags = [gssapi.RequirementFlag.integrity]
        if mutual:  # the server's AP-REP comes first, then the offer
            flags.append(gssapi.RequirementFlag.mutual_authentication)
        self.ctx = _context(service, ccache, flags, host=host)
        self.authzid = authzid.encode()
        self.offer = None

    def first(self):
        return self.ctx.step()

    def respond(self, challenge):
        if not self.ctx.complete:
            return self.ctx.step(challenge) or b""
        plain = self.ctx.unwrap(challenge).message
        assert len(plain) == 4, plain
        self.offer = plain
        assert plain[0] & 1, "server offers no 'no security layer'"
        return self.ctx.wrap(b"\x01\x00\x00\x00" + self.authzid, False).message


def strip_token_header(token):
    """RFC 5801 section 3.1: GS2 sends the initial context token without
    the RFC 2743 section 3.1 framing (0x60, DER length, mechanism OID)."""
    assert token[0] == 0x60, token[:4]
    i = 1
    if token[i] & 0x80:
        i += 1 + (token[i] & 0x7F)
    else:
        i += 1
    assert token[i] == 0x06
    return token[i + 2 + token[i + 1]:]


class Gs2Client:
    """RFC 5801 section 4 with the Kerberos mechanism (GS2-KRB5): gs2-header
    "n,[a=authzid]," before the unframed initial token, the header as the
    channel bindings' application data (section 5.1), mutual authentication
    required; the server's last token comes as success data."""

    def __init__(self, service, ccache, authzid="", host=HOST):
        self.header = ("n," + (f"a={authzid}" if authzid else "") + ",").encode()
        cb = gssapi.raw.ChannelBindings(application_data=self.header)
        flags = [gssapi.RequirementFlag.mutual_authentication]
        self.ctx = _context(service, ccache, flags, channel_bindings=cb, host=host)

    def first(self):
        return self.header + strip_token_header(self.ctx.step())

    def respond(self, challenge):
        return self.ctx.step(challenge) or b""
