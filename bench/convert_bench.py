#!/usr/bin/env python3
"""convert_bench.py: what CONVERT (RFC 5259) costs on tern.

    python3 bench/convert_bench.py [--build build]

Times, best of three, from sending the command to its tagged OK over
loopback: a 5 MB text/html part (120,000 table rows) to text/plain and to
BINARY.SIZE only; a 2.8 MB KOI8-R part (base64) to UTF-8, to UTF-8 in base64,
and to UTF-16 in quoted-printable; and the round trip of a small HTML part
to text against FETCH BINARY.PEEK[1] of the same part. Release build.
"""
import argparse
import base64
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    args = ap.parse_args()
    os.environ["TERN_BIN"] = os.path.join(args.build, "tern")
    import harness  # noqa: E402  (reads TERN_BIN)
    from test_imap_convert import RUSSIAN, message  # noqa: E402
    from test_imap_fetch import connect  # noqa: E402

    html = ("<table>" + "<tr><td>cell &amp; more</td><td>x</td></tr>" * 120000
            + "</table>").encode()
    koi = ((RUSSIAN + "\n") * 65000).encode("koi8-r")
    small = (b"<html><body><p>Hello <b>world</b> &amp; friends.</p>"
             b"<ul><li>a<li>b</ul></body></html>")
    srv = harness.TernServer().start()
    try:
        c, _ = connect(srv, messages=[
            message([("text/html; charset=utf-8", None, html)]),
            message([("text/plain; charset=koi8-r", "base64", base64.encodebytes(koi))]),
            message([("text/html; charset=utf-8", None, small)])])

        def best(cmd, n=3):
            t = 1e9
            for _ in range(n):
                start = time.monotonic()
                lines = c.run("x", cmd)
                t = min(t, time.monotonic() - start)
                assert lines[-1].startswith(b"x OK"), lines[-1]
            return t, len(lines[0])

        rows = [
            ("5.2 MB HTML to text/plain", 'CONVERT 1 ("text/plain") BINARY[1]'),
            ("5.2 MB HTML, BINARY.SIZE only", 'CONVERT 1 ("text/plain") BINARY.SIZE[1]'),
            ("2.8 MB KOI8-R (base64) to UTF-8",
             'CONVERT 2 ("text/plain" ("charset" "utf-8")) BINARY[1]'),
            ("... to UTF-8, base64",
             'CONVERT 2 ("text/plain" ("charset" "utf-8" '
             '"content-transfer-encoding" "base64")) BINARY[1]'),
            ("... to UTF-16, quoted-printable",
             'CONVERT 2 ("text/plain" ("charset" "utf-16" '
             '"content-transfer-encoding" "quoted-printable")) BINARY[1]'),
        ]
        print("| conversion | ms | response bytes |\n|---|---|---|")
        for name, cmd in rows:
            t, size = best(cmd)
            print(f"| {name} | {t * 1000:.0f} | {size} |")
        for name, cmd in (("small HTML part to text, per command",
                           'CONVERT 3 ("text/plain") BINARY[1]'),
                          ("FETCH BINARY.PEEK[1] of it, per command", "FETCH 3 BINARY.PEEK[1]")):
            start = time.monotonic()
            for _ in range(500):
                c.run("y", cmd)
            print(f"| {name} | {(time.monotonic() - start) / 500 * 1000:.3f} | |")
        c.close()
    finally:
        srv.stop()
        srv.cleanup()


if __name__ == "__main__":
    main()
