"""Real IMAP clients from Debian against a real server: isync's mbsync
(first full sync of several folders, then incremental sync with changes on
both sides, compared byte for byte), offlineimap3 (sync to a Maildir and a
deletion back) and curl (imap:// and imaps://)."""
import email.utils
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import Raw, ServerTestCase, client_ssl_context
import imaplib


def message(i, folder):
    return (f"From: Sender {i} <s{i}@example.org>\r\n"
            f"To: test@localhost\r\n"
            f"Subject: {folder} message {i}\r\n"
            f"Message-ID: <{folder}.{i}@example.org>\r\n"
            f"Date: {email.utils.formatdate(1790000000 + i * 60)}\r\n\r\n"
            + "".join(f"line {j} of message {i} in {folder}\r\n" for j in range(i % 7 + 1))
            ).encode()


def imap(server):
    m = imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=client_ssl_context())
    m.login(server.user, server.password)
    return m


def strip_tuid(body):
    """mbsync adds an X-TUID header to messages it propagates (its own
    bookkeeping, not content); compare without it."""
    return re.sub(rb"(?m)^X-TUID: [^\r\n]*\r?\n", b"", body, count=1)


def server_messages(server, folder):
    """{Message-ID: (bytes, flags)} of a folder, read with FETCH."""
    m = imap(server)
    m.select(folder, readonly=True)
    typ, data = m.fetch("1:*", "(FLAGS BODY.PEEK[])")
    out = {}
    for item in data:
        if isinstance(item, tuple):
            body = strip_tuid(item[1])
            flags = re.search(rb"FLAGS \(([^)]*)\)", item[0]).group(1).decode().split()
            mid = re.search(rb"Message-ID: (<[^>]+>)", body).group(1).decode()
            out[mid] = (body, sorted(flags))
    m.logout()
    return out


def maildir_messages(path):
    """{Message-ID: (bytes, path below the folder)}, without X-TUID."""
    out = {}
    for sub in ("cur", "new"):
        d = os.path.join(path, sub)
        for name in os.listdir(d) if os.path.isdir(d) else []:
            with open(os.path.join(d, name), "rb") as f:
                body = strip_tuid(f.read())
            mid = re.search(rb"Message-ID: (<[^>]+>)", body).group(1).decode()
            out[mid] = (body, os.path.join(sub, name))
    return out


@unittest.skipUnless(shutil.which("mbsync"), "isync (mbsync) not installed")
class MbsyncTest(ServerTestCase):
    FOLDERS = {"INBOX": 120, "Work": 80, "Work/Reports": 60, "Lists": 100}

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tern-mbsync-")
        self.local = os.path.join(self.tmp, "mail")
        os.makedirs(self.local)
        self.conf = os.path.join(self.tmp, "mbsyncrc")
        with open(self.conf, "w") as f:
            f.write(f"""IMAPAccount tern
Host 127.0.0.1
Port {self.server.imaps_port}
User {self.server.user}
Pass {self.server.password}
SSLType IMAPS
CertificateFile {self.server.dir}/tls/cert.pem

IMAPStore remote
Account tern

MaildirStore local
Path {self.local}/
Inbox {self.local}/INBOX
SubFolders Verbatim

Channel all
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
""")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def mbsync(self):
        proc = subprocess.run(["mbsync", "-c", self.conf, "all"], capture_output=True, text=True,
                              timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def local_path(self, folder):
        return os.path.join(self.local, folder)

    def test_full_then_incremental_sync(self):
        m = imap(self.server)
        for folder, n in self.FOLDERS.items():
            if folder != "INBOX":
                m.create(folder)
            for i in range(n):
                m.append(folder, "(\\Seen)" if i % 3 == 0 else None, None, message(i, folder))
        m.logout()

        # First full sync: every message byte for byte (Maildir uses LF).
        self.mbsync()
        for folder, n in self.FOLDERS.items():
            local = maildir_messages(self.local_path(folder))
            remote = server_messages(self.server, folder)
            self.assertEqual(len(local), n, folder)
            self.assertEqual(set(local), set(remote), folder)
            for mid, (body, name) in local.items():
                self.assertEqual(body, remote[mid][0].replace(b"\r\n", b"\n"), mid)
                self.assertEqual("S" in name.split(":2,")[-1], "\\Seen" in remote[mid][1], mid)

        # Changes on both sides.
        m = imap(self.server)
        m.append("Work", None, None, message(1000, "Work"))
        m.select("Lists")
        m.store("1", "+FLAGS", "\\Flagged")
        m.store("2", "+FLAGS", "\\Deleted")
        m.expunge()
        m.logout()
        inbox = maildir_messages(self.local_path("INBOX"))
        new_local = message(2000, "INBOX").replace(b"\r\n", b"\n")
        with open(os.path.join(self.local_path("INBOX"), "new", "1790000000.local.test"), "wb") as f:
            f.write(new_local)
        gone_mid, (_, gone_name) = sorted(inbox.items())[5]
        os.unlink(os.path.join(self.local_path("INBOX"), gone_name))
        seen_mid, (_, seen_name) = next(
            (k, v) for k, v in sorted(inbox.items())
            if k != gone_mid and "S" not in v[1].partition(":2,")[2])
        base, _, flags = os.path.basename(seen_name).partition(":2,")
        os.rename(os.path.join(self.local_path("INBOX"), seen_name),
                  os.path.join(self.local_path("INBOX"), "cur",
                               base + ":2," + "".join(sorted(flags + "S"))))

        self.mbsync()
        remote = server_messages(self.server, "INBOX")
        self.assertIn("<INBOX.2000@example.org>", remote)
        self.assertEqual(remote["<INBOX.2000@example.org>"][0].replace(b"\r\n", b"\n"), new_local)
        self.assertNotIn(gone_mid, remote)
        self.assertIn("\\Seen", remote[seen_mid][1])
        local_work = maildir_messages(self.local_path("Work"))
        self.assertIn("<Work.1000@example.org>", local_work)
        local_lists = maildir_messages(self.local_path("Lists"))
        remote_lists = server_messages(self.server, "Lists")
        self.assertEqual(set(local_lists), set(remote_lists))
        self.assertEqual(len(local_lists), self.FOLDERS["Lists"] - 1)
        flagged = [mid for mid, (_, fl) in remote_lists.items() if "\\Flagged" in fl]
        self.assertEqual(len(flagged), 1)
        self.assertIn("F", local_lists[flagged[0]][1].split(":2,")[1])

        # A third run changes nothing.
        self.mbsync()
        self.assertEqual(set(maildir_messages(self.local_path("INBOX"))),
                         set(server_messages(self.server, "INBOX")))


@unittest.skipUnless(shutil.which("curl"), "curl not installed")
class CurlTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        m = imap(cls.server)
        m.create("Curl")
        for i in range(3):
            m.append("Curl", None, None, message(i, "Curl"))
        m.logout()

    def curl(self, url, *extra):
        proc = subprocess.run(["curl", "-sS", "--insecure", "--user",
                               f"{self.server.user}:{self.server.password}", url, *extra],
                              capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout

    def test_imaps_list(self):
        out = self.curl(f"imaps://127.0.0.1:{self.server.imaps_port}/").decode()
        self.assertIn('* LIST (\\HasNoChildren) "/" "Curl"', out)
        self.assertIn("INBOX", out)

    def test_imap_starttls_fetch_by_uid(self):
        out = self.curl(f"imap://127.0.0.1:{self.server.imap_port}/Curl;UID=2", "--ssl-reqd")
        self.assertEqual(out, message(1, "Curl"))

    def test_imaps_examine_and_search(self):
        out = self.curl(f"imaps://127.0.0.1:{self.server.imaps_port}/Curl", "-X", "EXAMINE Curl")
        self.assertIn(b"* 3 EXISTS", out)


@unittest.skipUnless(shutil.which("offlineimap"), "offlineimap3 not installed")
class OfflineimapTest(ServerTestCase):
    def test_sync_to_maildir_and_back(self):
        m = imap(self.server)
        m.create("Archive/2026")
        for i in range(40):
            m.append("INBOX", "(\\Seen)" if i % 2 else None, None, message(i, "INBOX"))
        for i in range(10):
            m.append("Archive/2026", None, None, message(i, "Archive"))
        m.logout()
        tmp = tempfile.mkdtemp(prefix="tern-offlineimap-")
        try:
            conf = os.path.join(tmp, "offlineimaprc")
            with open(conf, "w") as f:
                f.write(f"""[general]
accounts = tern
metadata = {tmp}/meta

[Account tern]
localrepository = local
remoterepository = remote

[Repository local]
type = Maildir
localfolders = {tmp}/mail

[Repository remote]
type = IMAP
remotehost = localhost
remoteport = {self.server.imaps_port}
ssl = yes
sslcacertfile = {self.server.dir}/tls/cert.pem
remoteuser = {self.server.user}
remotepass = {self.server.password}
""")

            def run():
                proc = subprocess.run(["offlineimap", "-c", conf, "-o", "-u", "quiet"],
                                      capture_output=True, text=True, timeout=300)
                self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

            run()
            local = maildir_messages(os.path.join(tmp, "mail", "INBOX"))
            remote = server_messages(self.server, "INBOX")
            self.assertEqual(set(local), set(remote))
            for mid, (body, _) in local.items():
                self.assertEqual(body.replace(b"\r\n", b"\n"),
                                 remote[mid][0].replace(b"\r\n", b"\n"), mid)
            self.assertEqual(len(maildir_messages(os.path.join(tmp, "mail", "Archive.2026"))
                                 if os.path.isdir(os.path.join(tmp, "mail", "Archive.2026"))
                                 else maildir_messages(os.path.join(tmp, "mail", "Archive", "2026"))),
                             10)
            # A local deletion goes back to the server.
            gone, (_, path) = sorted(local.items())[0]
            os.unlink(os.path.join(tmp, "mail", "INBOX", path))
            run()
            self.assertNotIn(gone, server_messages(self.server, "INBOX"))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
