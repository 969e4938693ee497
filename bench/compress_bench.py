#!/usr/bin/env python3
"""compress_bench.py: what COMPRESS=DEFLATE costs and saves on tern.

    python3 bench/compress_bench.py [--build build] [--idle 1000] [--messages 500]

Memory: PSS growth of the server per connection that is logged in, has INBOX
selected and sits in IDLE: without COMPRESS, with COMPRESS right after IDLE
started (zlib states live), and with COMPRESS once the filter parked them
(src/net/compress.c, PARK_MS). Ratio: the bytes on the wire for a FETCH of
headers and one of bodies, uncompressed and through tern's deflater, beside
what zlib's defaults (window 15, memLevel 8, level 6) would have sent for the
same responses, so the window/memLevel choice in src/net/zstream.h is a
measured one. Release build only (sanitizers keep freed memory).
"""
import argparse
import os
import random
import shutil
import socket
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from harness import free_port_base  # noqa: E402
from imap_bench import PASSWORD, USER, Tern, make_message, pss_kb  # noqa: E402


class Conn:
    """A raw IMAP connection; compress() switches both directions to DEFLATE."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.buf = b""
        self.zin = self.zout = None
        self.wire = 0
        self.n = 0
        self.line()

    def send(self, data):
        if self.zout is not None:
            data = self.zout.compress(data) + self.zout.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise EOFError(self.buf[-200:])
        self.wire += len(data)
        self.buf += self.zin.decompress(data) if self.zin is not None else data

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def cmd(self, text):
        """Sends text, reads to its tagged reply (literals included); returns
        the plaintext response bytes."""
        self.n += 1
        tag = b"c%d" % self.n
        self.send(tag + b" " + text.encode() + b"\r\n")
        out = []
        while True:
            line = self.line()
            out.append(line + b"\r\n")
            if line.endswith(b"}") and b"{" in line:
                n = int(line[line.rindex(b"{") + 1:-1])
                while len(self.buf) < n:
                    self.fill()
                out.append(self.buf[:n])
                self.buf = self.buf[n:]
                continue
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    raise RuntimeError(line)
                return b"".join(out)

    def compress(self):
        self.cmd("COMPRESS DEFLATE")
        rest, self.buf = self.buf, b""
        self.zin = zlib.decompressobj(-15)
        self.zout = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.buf = self.zin.decompress(rest)


def idle_memory(port, pids, n, compressed, settle, wake=False):
    time.sleep(0.5)
    before = pss_kb(pids)
    conns = []
    for _ in range(n):
        c = Conn(port)
        c.cmd(f"LOGIN {USER} {PASSWORD}")
        if compressed:
            c.compress()
        c.cmd("SELECT INBOX")
        c.send(b"i IDLE\r\n")
        c.line()
        conns.append(c)
    if wake:
        # Logging in hundreds takes longer than PARK_MS: end and restart
        # every IDLE at once, so all zlib states are live when measured.
        for c in conns:
            c.send(b"DONE\r\ni IDLE\r\n")
        for c in conns:
            while not c.line().startswith(b"+"):
                pass
    time.sleep(settle)
    after = pss_kb(pids)
    for c in conns:
        c.sock.close()
    return (after - before) / n


def fill(port, msgs):
    """Appends msgs to INBOX, 100 per MULTIAPPEND; returns the connection."""
    c = Conn(port)
    c.cmd(f"LOGIN {USER} {PASSWORD}")
    for i in range(0, len(msgs), 100):
        batch = msgs[i:i + 100]
        c.send(b"a APPEND INBOX" + b"".join(b" {%d+}\r\n" % len(m) + m for m in batch)
               + b"\r\n")
        while not c.line().startswith(b"a "):
            pass
    return c


def deflated_size(responses, wbits, mem_level, level):
    z = zlib.compressobj(level, zlib.DEFLATED, -wbits, mem_level)
    return sum(len(z.compress(r) + z.flush(zlib.Z_SYNC_FLUSH)) for r in responses)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--idle", type=int, default=1000)
    ap.add_argument("--messages", type=int, default=500)
    args = ap.parse_args()
    binary = os.path.join(args.build, "tern")
    rng = random.Random(1)
    msgs = [make_message(i, rng) for i in range(args.messages)]
    tmp = tempfile.mkdtemp(prefix="tern-compress-bench-")
    server = Tern(tmp, free_port_base(), binary)
    try:
        c = fill(server.port, msgs)
        c.cmd("SELECT INBOX")
        plain = {}
        for name, text in (("headers", "FETCH 1:* (FLAGS ENVELOPE BODY.PEEK[HEADER])"),
                           ("bodies", "FETCH 1:* BODY.PEEK[]")):
            start = c.wire
            plain[name] = (c.cmd(text), c.wire - start)
        c.compress()
        print("tern deflate: window 8 KiB, memLevel 5, level 6 (src/net/zstream.h)")
        print("| response | plain (KiB) | tern COMPRESS (KiB) | zlib 15/8/6 (KiB) | "
              "zlib 13/5/6 (KiB) |")
        print("|---|---|---|---|---|")
        for name, text in (("headers", "FETCH 1:* (FLAGS ENVELOPE BODY.PEEK[HEADER])"),
                           ("bodies", "FETCH 1:* BODY.PEEK[]")):
            start = c.wire
            body = c.cmd(text)
            wire = c.wire - start
            ref = plain[name][0]
            print(f"| FETCH {args.messages} {name} | {len(ref) / 1024:.0f} | {wire / 1024:.0f}"
                  f" | {deflated_size([ref], 15, 8, 6) / 1024:.0f}"
                  f" | {deflated_size([ref], 13, 5, 6) / 1024:.0f} |")
            assert len(body) == len(ref)
        c.sock.close()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(f"| {args.idle} connections in IDLE, a fresh server each | KiB per connection |")
    print("|---|---|")
    for label, compressed, settle, wake in (
            ("without COMPRESS", False, 1.0, False),
            ("COMPRESS, zlib states live (0.3 s after a command)", True, 0.3, True),
            ("COMPRESS, parked (3 s idle)", True, 3.0, False)):
        tmp = tempfile.mkdtemp(prefix="tern-compress-bench-")
        server = Tern(tmp, free_port_base(), binary)
        try:
            fill(server.port, msgs[:100])
            kib = idle_memory(server.port, server.pids(), args.idle, compressed, settle, wake)
            print(f"| {label} | {kib:.1f} |")
        finally:
            server.stop()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
