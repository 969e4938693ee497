"""mailgen.py: the generated mail every bench gives both servers.

make_message(i, rng) is one message of a realistic mix, the same bytes for a
given (i, seed) on every run:
  - sizes: 60% short plain text (1-4 KB), 25% text + HTML alternatives
    (4-20 KB), 13% mixed with a base64 attachment (20-120 KB), 2% large
    attachments (0.2-0.6 MB); 21 KB on average; with small=True the attachments are capped at
    20 KB (the 1,000,000-message mailbox, whose fill time and disk would
    otherwise be the attachments');
  - MIME structures: text/plain, multipart/alternative, multipart/mixed
    with a nested multipart/alternative and an attachment;
  - threads: about a third of the messages reply to an earlier one
    (In-Reply-To, References, "Re: " subject);
  - SEARCH needles: message i with i % 1000 == 7 holds the word
    "needleword<i // 1000>" in its body, nowhere else.

write_mbox() and write_maildir() put the same messages where ImapTest and
Dovecot read them; the IMAP fills are in imap_client.fill().
"""
import base64
import os
import random

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike "
         "november oscar papa quebec romeo sierra tango uniform victor whiskey xray "
         "yankee zulu meeting report invoice budget travel project release schedule").split()
DOMAIN = "bench.test"


def needle(i):
    """The body word only message i carries, or None."""
    return "needleword%d" % (i // 1000) if i % 1000 == 7 else None


def _text(rng, words, word=None):
    body = [rng.choice(WORDS) for _ in range(words)]
    if word:
        body.insert(len(body) // 2, word)
    return "\r\n".join(" ".join(body[j:j + 12]) for j in range(0, len(body), 12))


def _attachment(rng, size):
    raw = rng.randbytes(size * 3 // 4)
    b64 = base64.b64encode(raw).decode()
    return "\r\n".join(b64[j:j + 76] for j in range(0, len(b64), 76))


def subject_of(i):
    """Message i's own subject (a reply's is "Re: " and its parent's)."""
    r = random.Random(i * 7919)
    return " ".join(r.choice(WORDS) for _ in range(5))


def make_message(i, rng, small=False, to=f"bench@{DOMAIN}"):
    """Message i of the mix, as CRLF bytes; rng (random.Random) decides the
    rest, so a seeded rng gives the same mail on every run."""
    kind = rng.random()
    subject = subject_of(i)
    headers = [f"From: Sender {i % 97} <sender{i % 97}@example.org>", f"To: {to}",
               f"Date: Tue, 24 Nov 2026 {(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}"
               " +0000", f"Message-ID: <{i}.bench@example.org>", "MIME-Version: 1.0"]
    if i > 0 and rng.random() < 0.33:
        parent = rng.randrange(max(0, i - 50), i)
        headers += [f"In-Reply-To: <{parent}.bench@example.org>",
                    f"References: <{parent}.bench@example.org>"]
        subject = "Re: " + subject_of(parent)
    headers.insert(2, f"Subject: {subject}")
    word = needle(i)
    if kind < 0.60:
        headers.append("Content-Type: text/plain; charset=us-ascii")
        body = _text(rng, rng.randint(120, 600), word)
    else:
        text = _text(rng, rng.randint(200, 1200), word)
        html = "<html><body><p>" + text.replace("\r\n", "</p>\r\n<p>") + "</p></body></html>"
        alt = (f"--alt{i}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{text}\r\n"
               f"--alt{i}\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n{html}\r\n"
               f"--alt{i}--\r\n")
        if kind < 0.85:
            headers.append(f'Content-Type: multipart/alternative; boundary="alt{i}"')
            body = alt
        else:
            size = rng.randint(20_000, 120_000) if kind < 0.98 else rng.randint(200_000, 600_000)
            if small:
                size = min(size, 20_000)
            name = rng.choice(("report.pdf", "photo.jpg", "budget.xlsx", "slides.pptx"))
            headers.append(f'Content-Type: multipart/mixed; boundary="mix{i}"')
            body = (f"--mix{i}\r\nContent-Type: multipart/alternative; boundary=\"alt{i}\"\r\n"
                    f"\r\n{alt}--mix{i}\r\nContent-Type: application/octet-stream; "
                    f"name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n"
                    f"Content-Transfer-Encoding: base64\r\n\r\n{_attachment(rng, size)}\r\n"
                    f"--mix{i}--\r\n")
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode()


def make_messages(n, seed=7, small=False, start=0):
    rng = random.Random(seed)
    return [make_message(start + i, rng, small) for i in range(n)]


def write_mbox(path, msgs):
    """An mbox of msgs (LF line ends, "From " lines quoted), for ImapTest."""
    with open(path, "wb") as f:
        for m in msgs:
            m = m.replace(b"\r\n", b"\n").replace(b"\nFrom ", b"\n>From ")
            f.write(b"From user@example.org Mon Jan  1 00:00:00 2024\n" + m + b"\n")


def write_maildir(path, msgs, start=0):
    """msgs as the cur/ files of the Maildir at path, message i named after
    start + i (so files written in several calls keep their order: Dovecot
    gives UIDs in file-name order), each name with its sizes (S= on disk,
    W= with CRLF) so Dovecot need not stat or read a file to answer
    RFC822.SIZE. Dovecot builds its index at the first access: the bench
    measures that first SELECT on its own line."""
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    cur = os.path.join(path, "cur")
    for n, m in enumerate(msgs, start):
        data = m.replace(b"\r\n", b"\n")
        name = f"{1_700_000_000 + n}.M{n}P0.bench,S={len(data)},W={len(m)}:2,"
        with open(os.path.join(cur, name), "wb") as f:
            f.write(data)
