"""LOGIN-REFERRALS (RFC 2221): `tern user set --referral` marks an account
as living on another server; LOGIN and AUTHENTICATE answer NO [REFERRAL
url] once the credentials are proven (a wrong password learns nothing);
an administrator's master login still gets in. A mailbox the administrator
marked moved (METADATA /shared/vendor/tern/referral) answers SELECT and
EXAMINE with NO [REFERRAL url]."""
import base64

from harness import Raw, ServerTestCase, tern
from test_imap_mailbox import Session, new_account

URL = "imap://mail2.example.org/"


def raw_login(server, user, password):
    r = Raw(server.imaps_port, tls=True)
    r.line()
    lines = r.cmd("a", f"LOGIN {user} {password}")
    r.close()
    return lines[-1]


class ReferralTest(ServerTestCase):
    CONFIG = "[auth]\nfail_delay = 100ms\nmaster_users = boss@localhost\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        new_account(cls.server, "boss@localhost")
        tern("user", "set", "boss@localhost", "role=admin", data_dir=cls.server.dir)

    def setUp(self):
        self.addr, self.pw = new_account(self.server, f"{self._testMethodName[:40]}@localhost")

    def test_capability_before_login(self):
        r = Raw(self.server.imaps_port, tls=True)
        self.assertIn("LOGIN-REFERRALS", r.line())
        self.assertIn("LOGIN-REFERRALS", r.cmd("a", "CAPABILITY")[0].split())
        r.close()

    def test_login_and_authenticate_are_referred(self):
        d = self.server.dir
        out = tern("user", "set", self.addr, "--referral", URL, data_dir=d).stdout
        self.assertEqual(out, f"Updated {self.addr}: referral={URL}\n")
        self.assertIn(f"referral: {URL}", tern("user", "show", self.addr, data_dir=d).stdout)
        self.assertEqual(raw_login(self.server, self.addr, self.pw),
                         f"a NO [REFERRAL {URL}] This account is served by another server")
        # A wrong password is a wrong password: no hint where the account is.
        self.assertIn("NO [AUTHENTICATIONFAILED]", raw_login(self.server, self.addr, "wrong"))
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        ir = base64.b64encode(f"\0{self.addr}\0{self.pw}".encode()).decode()
        self.assertEqual(r.cmd("b", f"AUTHENTICATE PLAIN {ir}")[-1],
                         f"b NO [REFERRAL {URL}] This account is served by another server")
        r.close()
        # The administrator still reaches the copy here.
        admin = Session(self.server, f"{self.addr}*boss@localhost", "pw-boss@localhost")
        admin.ok("SELECT INBOX")
        admin.close()
        self.assertIn("event=login-referral", self.server.read_log())
        tern("user", "set", self.addr, "--referral", "none", data_dir=d)
        self.assertIn(" OK ", raw_login(self.server, self.addr, self.pw))
        for bad in ("http://x/", "imap://", "imap://a b/", "imap://x]/"):
            proc = tern("user", "set", self.addr, "--referral", bad, data_dir=d, check=False)
            self.assertEqual(proc.returncode, 1, bad)

    def test_bulk_referral(self):
        new_account(self.server, "r1@moving.example")
        new_account(self.server, "r2@moving.example")
        out = tern("user", "set", "--domain", "moving.example", "--referral", URL,
                   data_dir=self.server.dir).stdout
        self.assertEqual(out, "2 accounts updated\n")
        self.assertIn("REFERRAL", raw_login(self.server, "r2@moving.example",
                                            "pw-r2@moving.example"))

    def test_moved_mailbox(self):
        s = Session(self.server, self.addr, self.pw)
        self.assertIn("NO [NOPERM]", s.do(
            f'SETMETADATA Archive (/shared/vendor/tern/referral "{URL}Archive")')[-1])
        admin = Session(self.server, f"{self.addr}*boss@localhost", "pw-boss@localhost")
        self.assertIn("NO [CANNOT]", admin.do(
            'SETMETADATA Archive (/shared/vendor/tern/referral "ftp://x/")')[-1])
        admin.ok(f'SETMETADATA Archive (/shared/vendor/tern/referral "{URL}Archive")')
        admin.ok("SELECT Archive")  # the administrator opens the copy here
        admin.close()
        s.ok("SELECT INBOX")
        lines = s.do("SELECT Archive")
        self.assertEqual(lines[-1], f"{lines[-1].split()[0]} NO [REFERRAL {URL}Archive]"
                                    " Mailbox has moved")
        self.assertIn("[CLOSED]", lines[0])
        self.assertIn("BAD", s.do("FETCH 1 FLAGS")[-1])  # nothing selected now
        self.assertIn("NO [REFERRAL", s.do("EXAMINE Archive")[-1])
        s.ok("SELECT Drafts")
        s.close()
