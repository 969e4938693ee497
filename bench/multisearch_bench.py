#!/usr/bin/env python3
"""multisearch_bench.py: what MULTISEARCH (RFC 7377) and PREVIEW (RFC 8970) cost on tern.

    python3 bench/multisearch_bench.py [--build build] [--folders 50] [--per 200]

Fills one account with --folders folders of --per generated messages (a third
HTML), then times, best of three: ESEARCH IN (personal) with keys answered from
the cached columns (FROM, SUBJECT), the full-text index (BODY) and the view
(UNSEEN, ALL), beside the client doing EXAMINE + UID SEARCH folder by folder;
FETCH 1:* (PREVIEW) and (PREVIEW (LAZY)) of one folder from the cache; then,
with every preview cleared as an upgrade from schema 7 leaves them, a FETCH
PREVIEW that makes and stores them, and how long the indexer thread takes to
make the rest in the background. Release build.
"""
import argparse
import os
import random
import re
import sqlite3
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))

WORDS = ("alpha beta gamma delta report meeting invoice budget travel lunch project update "
         "review").split()


def message(rng, i):
    sender = f"user{i % 17}@example.org"
    subject = " ".join(rng.choice(WORDS) for _ in range(4))
    body = "\r\n".join(" ".join(rng.choice(WORDS) for _ in range(12)) for _ in range(20))
    if i % 3 == 0:
        return (f"From: {sender}\r\nSubject: {subject}\r\nContent-Type: text/html; "
                f"charset=utf-8\r\n\r\n<html><head><style>p{{}}</style></head><body><p>"
                f"{body}</p></body></html>\r\n").encode()
    return f"From: {sender}\r\nSubject: {subject}\r\n\r\n{body}\r\n".encode()


def best_of(conn, text, n=3):
    best, lines = 1e9, None
    for _ in range(n):
        t = time.monotonic()
        lines = conn.run("q", text)
        best = min(best, time.monotonic() - t)
    return best * 1000, lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--folders", type=int, default=50)
    ap.add_argument("--per", type=int, default=200)
    args = ap.parse_args()
    os.environ["TERN_BIN"] = os.path.abspath(os.path.join(args.build, "tern"))
    import harness
    from test_imap_fetch import Conn

    rng = random.Random(1)
    srv = harness.TernServer("[auth]\nfail_delay = 0\n").start()
    try:
        c = Conn(srv.imap_port)
        c.line()
        c.cmd("l", f"LOGIN {srv.user} {srv.password}")
        t0 = time.monotonic()
        for f in range(args.folders):
            box = f"F{f:03d}"
            c.cmd("c", f"CREATE {box}")
            for chunk in range(0, args.per, 50):
                msgs = [message(rng, f * args.per + i)
                        for i in range(chunk, min(args.per, chunk + 50))]
                c.send(b"a APPEND " + box.encode() +
                       b"".join(b" {%d+}\r\n" % len(m) + m for m in msgs) + b"\r\n")
                assert " OK " in c.until_tagged("a")[-1]
        print(f"filled {args.folders} x {args.per} in {time.monotonic() - t0:.1f} s")
        time.sleep(3)  # the indexer moves the texts into fts
        for key in ("FROM user3@example.org", "SUBJECT invoice", 'BODY "budget travel"',
                    "UNSEEN", "ALL"):
            ms, lines = best_of(c, f"ESEARCH IN (personal) RETURN (COUNT) {key}")
            print(f"ESEARCH IN (personal) RETURN (COUNT) {key}: {len(lines) - 1} responses, "
                  f"{ms:.1f} ms")
        t = time.monotonic()
        for f in range(args.folders):
            c.run("e", f"EXAMINE F{f:03d}")
            c.run("u", "UID SEARCH RETURN (COUNT) SUBJECT invoice")
        c.run("x", "UNSELECT")
        print(f"EXAMINE + UID SEARCH SUBJECT invoice, folder by folder: "
              f"{(time.monotonic() - t) * 1000:.1f} ms")
        c.run("s", "SELECT F000")
        for att in ("PREVIEW", "PREVIEW (LAZY)", "UID FLAGS"):
            ms, lines = best_of(c, f"FETCH 1:* ({att})")
            print(f"FETCH 1:{args.per} ({att}), cached: {ms:.1f} ms")
        c.close()
        shown = harness.tern("user", "show", srv.user, data_dir=srv.dir).stdout
        account = re.search(r"^id:\s+(\d+)", shown, re.M).group(1)
        path = os.path.join(srv.dir, "accounts", account, "index.db")
        srv.stop()
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("UPDATE blobs SET preview = NULL")
        db.close()
        srv.start()
        c = Conn(srv.imap_port)
        c.line()
        c.cmd("l", f"LOGIN {srv.user} {srv.password}")
        c.run("s", "SELECT F001")
        t = time.monotonic()
        c.run("p", "FETCH 1:* (PREVIEW)")
        print(f"FETCH 1:{args.per} (PREVIEW), none cached (made and stored): "
              f"{(time.monotonic() - t) * 1000:.1f} ms")
        t = time.monotonic()
        while time.monotonic() - t < 300:
            db = sqlite3.connect(path, isolation_level=None)
            left = db.execute("SELECT count(*) FROM blobs WHERE preview IS NULL").fetchone()[0]
            db.close()
            if left == 0:
                break
            time.sleep(0.25)
        print(f"the other {(args.folders - 1) * args.per} made by the indexer thread in "
              f"{time.monotonic() - t:.1f} s ({left} left)")
        c.close()
    finally:
        srv.stop()
        srv.cleanup()


if __name__ == "__main__":
    main()
