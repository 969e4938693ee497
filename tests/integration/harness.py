"""harness.py: start a real `tern serve` in a temporary data directory.

TernServer picks a free port base, runs `tern init`, applies extra config,
starts the server and waits until it accepts connections. stop() sends
SIGTERM and checks the exit status, so a leak or sanitizer report in the
server fails the test that started it.
"""
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

TERN = os.environ.get("TERN_BIN") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "build", "tern")

SAN_ENV = dict(os.environ,
               ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",  # reports to stderr: serve.log
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")

OFFSETS = (143, 993, 110, 995, 25, 587, 465, 24, 80, 443)


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_port_base():
    for _ in range(200):
        base = random.randrange(20000, 50000, 1000) + random.randrange(0, 1000, 10)
        if base + 993 < 65000 and all(port_free(base + o) for o in OFFSETS):
            return base
    raise RuntimeError("no free port base")


def tern(*args, data_dir=None, input=None, check=True):
    cmd = [TERN] + (["-d", data_dir] if data_dir else []) + list(args)
    proc = subprocess.run(cmd, input=input, capture_output=True, text=True, env=SAN_ENV,
                          timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} failed ({proc.returncode}): {proc.stderr}")
    return proc


def client_ssl_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class TernServer:
    def __init__(self, config=None, init_args=()):
        self.tmp = tempfile.mkdtemp(prefix="tern-test-")
        self.dir = os.path.join(self.tmp, "var")
        self.base = free_port_base()
        out = tern("init", self.dir, "--port-base", str(self.base), *init_args).stdout
        self.user = re.search(r"user:\s+(\S+)", out).group(1)
        self.password = re.search(r"password:\s+(\S+)", out).group(1)
        self.imap_port = self.base + 143
        self.imaps_port = self.base + 993
        self.log_path = os.path.join(self.tmp, "serve.log")
        self.proc = None
        if config:
            self.add_config(config)

    def add_config(self, text):
        with open(os.path.join(self.dir, "tern.conf"), "a") as f:
            f.write("\n" + text + "\n")

    def start(self, wait=True):
        for attempt in range(3):
            self.log = open(self.log_path, "ab")
            self.proc = subprocess.Popen([TERN, "-d", self.dir, "serve"], stdout=self.log,
                                         stderr=subprocess.STDOUT, env=SAN_ENV)
            if not wait:
                return self
            try:
                self.wait_ready()
                return self
            except AssertionError:
                # free_port_base() checks ports it cannot hold: with several
                # test runs on one machine another server may take one in
                # between. Move to a fresh base and try again.
                if attempt == 2 or "Address already in use" not in self.read_log():
                    raise
                self.proc.wait()
                self.log.close()
                self.rebase(free_port_base())
        return self

    def rebase(self, base):
        conf = os.path.join(self.dir, "tern.conf")
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(re.sub(r"(?m)^port_base = \d+$", f"port_base = {base}", text, count=1))
        self.base = base
        self.imap_port = base + 143
        self.imaps_port = base + 993

    def wait_ready(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"tern serve exited {self.proc.returncode}:\n{self.read_log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.imap_port), timeout=1) as s:
                    s.recv(1)
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("tern serve did not start:\n" + self.read_log())

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=30):
        """SIGTERM; returns the exit status (0 expected) and the log."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.log.close()
        self.proc = None
        return rc

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


class ServerTestCase(unittest.TestCase):
    """One server per test class; config in CONFIG. The server must stop
    cleanly (exit 0: no sanitizer or leak report) for the class to pass."""
    CONFIG = "[auth]\nfail_delay = 200ms\n"

    @classmethod
    def setUpClass(cls):
        cls.server = TernServer(cls.CONFIG).start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        log = cls.server.read_log()
        cls.server.cleanup()
        if rc != 0:
            raise AssertionError(f"tern serve exited {rc}:\n{log[-6000:]}")


class Raw:
    """A raw IMAP connection for exact wire-format checks."""

    def __init__(self, port, tls=False, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls:
            self.sock = client_ssl_context().wrap_socket(self.sock)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; have %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode(errors="replace")

    def until_tagged(self, tag):
        """Lines up to and including the tagged reply for tag."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if line.startswith(tag + " "):
                return lines

    def cmd(self, tag, text):
        self.send(f"{tag} {text}\r\n")
        return self.until_tagged(tag)

    def starttls(self):
        self.sock = client_ssl_context().wrap_socket(self.sock)

    def is_closed(self, timeout=5):
        self.sock.settimeout(timeout)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
                self.buf += data
        except (ConnectionResetError, ssl.SSLError):
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
