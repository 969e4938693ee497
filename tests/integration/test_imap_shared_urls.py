"""URLAUTH (RFC 4467) and NOTIFY (RFC 5465) across namespaces: a URL of the
user's own naming a mailbox another account shares with them ("Other
Users/<owner>/...") or a public one ("Shared/...") is generated and fetched
through the user's rights there, walked as a matrix of single rights and
none: 'r' gives the content, anything less NIL (URLFETCH) or NO [BADURL]
(GENURLAUTH). NOTIFY's SUBTREE, MAILBOXES and SUBSCRIBED name shared
mailboxes, and their message events (STATUS) reach the user only with 'r'
('l' alone lists them, no events)."""
import re
import time

from harness import TERN, ServerTestCase, tern
from test_imap_mailbox import Session, new_account

AT_ONCE = 2.0 if "asan" in TERN or "tsan" in TERN else 0.5
MSG = b"From: a@example.org\r\nSubject: shared url\r\n\r\nthe shared body\r\n"


def status(lines):
    return lines[-1].split(" ", 2)[1]


class SharedBase(ServerTestCase):
    def setUp(self):
        base = self._testMethodName[5:25]
        self.owner, opw = new_account(self.server, f"{base}.own@localhost")
        self.user, self.upw = new_account(self.server, f"{base}.usr@localhost")
        self.o = Session(self.server, self.owner, opw)
        self.sessions = [self.o]
        self.o.ok("CREATE Team")
        self.o.append("Team", MSG)
        self.u = self.login()

    def tearDown(self):
        for s in self.sessions:
            s.close()

    def login(self):
        s = Session(self.server, f'"{self.user}"', self.upw)
        self.sessions.append(s)
        return s


class UrlfetchTest(SharedBase):
    def url(self, box="Other%20Users/{owner}/Team"):
        owner = self.owner.replace("@", "%40")
        user = self.user.replace("@", "%40")
        return (f"imap://{user}@localhost/" + box.format(owner=owner)
                + f"/;UID=1;URLAUTH=user+{self.user}")

    def gen(self, rump):
        return self.u.do(f'GENURLAUTH "{rump}" INTERNAL')

    def fetch(self, url):
        tag = self.u.tag()
        self.u.send(f'{tag} URLFETCH "{url}"\r\n')
        data = b""
        while not re.search(rb"\r\n" + tag.encode() + rb" [^\r\n]*\r\n$", data):
            data += self.u.sock.recv(1 << 16)
        return data

    def test_rights_matrix(self):
        self.o.ok(f"SETACL Team {self.user} lr")
        lines = self.gen(self.url())
        self.assertEqual(status(lines), "OK", lines)
        url = re.match(r'^\* GENURLAUTH "([^"]+)"$', lines[0]).group(1)
        self.assertIn(MSG, self.fetch(url))
        for rights in ("", "l", "r", "lr", "lrs", "lrswite", "lwite", "a"):
            if rights:
                self.o.ok(f"SETACL Team {self.user} {rights}")
            else:
                self.o.ok(f"DELETEACL Team {self.user}")
            data = self.fetch(url)
            gen = self.gen(self.url())
            if "r" in rights:
                self.assertIn(MSG, data, rights)
                self.assertEqual(status(gen), "OK", rights)
            else:
                self.assertIn(f'* URLFETCH "{url}" NIL'.encode(), data, rights)
                self.assertIn("NO [BADURL", gen[-1], rights)

    def test_public_mailbox_and_other_users(self):
        d = self.server.dir
        name = "pub" + self._testMethodName[-6:]
        tern("acl", "create", "--shared", name, data_dir=d)
        tern("acl", "set", "--shared", name, self.owner, "lrswi", data_dir=d)
        self.o.append(f"Shared/{name}", MSG)
        rump = self.url(f"Shared/{name}")
        self.assertIn("NO [BADURL", self.gen(rump)[-1])
        tern("acl", "set", "--shared", name, self.user, "lr", data_dir=d)
        lines = self.gen(rump)
        url = re.match(r'^\* GENURLAUTH "([^"]+)"$', lines[0]).group(1)
        self.assertIn(MSG, self.fetch(url))
        # A URL of the owner's own (their personal name) is theirs to make;
        # the user cannot make one under the owner's name.
        theirs = (f"imap://{self.owner.replace('@', '%40')}@localhost/Team/;UID=1"
                  f";URLAUTH=user+{self.user}")
        self.assertIn("NO [BADURL", self.gen(theirs)[-1])
        lines = self.o.ok(f'GENURLAUTH "{theirs}" INTERNAL')
        url = re.match(r'^\* GENURLAUTH "([^"]+)"$', lines[0]).group(1)
        self.assertIn(MSG, self.fetch(url))


class NotifyTest(SharedBase):
    def events(self, s, seconds):
        s.sock.settimeout(seconds)
        got = []
        try:
            while True:
                got.append(s.line())
        except OSError:
            pass
        s.sock.settimeout(10)
        return got

    def notify_and_append(self, spec):
        u = self.u
        u.ok(f"NOTIFY SET {spec}")
        u.send(b"i1 IDLE\r\n")
        self.assertTrue(u.line().startswith("+ "))
        self.o.append("Team", MSG)
        got = self.events(u, AT_ONCE * 3)
        u.send(b"DONE\r\n")
        self.assertIn("i1 OK", u.until_tagged("i1")[-1])
        return got

    def test_subtree_mailboxes_subscribed_with_and_without_r(self):
        box = f'"Other Users/{self.owner}/Team"'
        specs = (f'(SUBTREE "Other Users/{self.owner}" (MessageNew MessageExpunge))',
                 f"(MAILBOXES {box} (MessageNew MessageExpunge FlagChange))",
                 "(SUBSCRIBED (MessageNew MessageExpunge))")
        self.u.ok(f"SUBSCRIBE {box}")
        # Told: which of the three specs give events with these rights.
        # 'l' alone lists it, no more; 'r' alone reaches a mailbox named
        # outright (MAILBOXES), not what SUBTREE and SUBSCRIBED enumerate.
        for rights, told in (("lr", (1, 1, 1)), ("l", (0, 0, 0)), ("r", (0, 1, 0)),
                             ("lrs", (1, 1, 1)), ("lwi", (0, 0, 0)), ("", (0, 0, 0))):
            if rights:
                self.o.ok(f"SETACL Team {self.user} {rights}")
            else:
                self.o.ok(f"DELETEACL Team {self.user}")
            for spec, want in zip(specs, told):
                got = self.notify_and_append(spec)
                hits = [l for l in got if l.startswith(f"* STATUS {box}")]
                if want:
                    self.assertTrue(hits, (rights, spec, got))
                    self.assertIn("MESSAGES", hits[-1])
                else:
                    self.assertEqual(hits, [], (rights, spec, got))
        # PERSONAL and INBOXES are the user's own namespace only.
        self.o.ok(f"SETACL Team {self.user} lr")
        for spec in ("(PERSONAL (MessageNew MessageExpunge))",
                     "(INBOXES (MessageNew MessageExpunge))"):
            got = self.notify_and_append(spec)
            self.assertEqual([l for l in got if "Other Users" in l], [], spec)
