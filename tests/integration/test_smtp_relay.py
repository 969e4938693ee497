"""No open relay, in any spelling: every form of address that could make
the MX pass mail on to another host is refused at RCPT, and nothing is
stored or queued."""
import os
import unittest

from harness import ServerTestCase
from smtpclient import RawSMTP, mailbox, ports

SPELLINGS = [
    "victim@elsewhere.example",                 # plainly another domain
    "victim@ELSEWHERE.example",
    "victim%elsewhere.example@localhost",       # the %-hack
    "victim%elsewhere.example@LOCALHOST",
    "elsewhere.example!victim@localhost",       # a bang path
    "@localhost:victim@elsewhere.example",      # a source route out
    "@elsewhere.example:test@localhost",        # a source route in
    "@localhost,@elsewhere.example:victim@elsewhere.example",
    '"victim@elsewhere.example"@localhost',     # a quoted local part
    '"victim%elsewhere.example"@localhost',
    '"test"@localhost',
    "victim@[192.0.2.1]",                       # address literals
    "victim@[127.0.0.1]",
    "victim@[IPv6:::1]",
    "test@localhost.",                          # a trailing dot
    "victim@elsewhere.example.",
    "victim@localhost.elsewhere.example",       # a local domain as a prefix
    "victim@elsewhere.example@localhost",       # two @
    "test@localhost@elsewhere.example",
]


class RelayTest(ServerTestCase):
    CONFIG = "[auth]\nfail_delay = 200ms\n[smtp]\nmax_errors = 1000\n"

    def test_every_relay_spelling_refused(self):
        r = RawSMTP(ports(self.server)["smtp"])
        self.addCleanup(r.close)
        r.reply()
        r.cmd("EHLO relay.test")
        for spelling in SPELLINGS:
            self.assertEqual(r.cmd("MAIL FROM:<spammer@example.com>")[0], 250)
            code, text, _ = r.cmd(f"RCPT TO:<{spelling}>")
            self.assertTrue(500 <= code < 600, f"{spelling}: {code} {text}")
            self.assertTrue(text.startswith(("5.7.1", "5.1.3")), f"{spelling}: {text}")
            self.assertEqual(r.cmd("DATA")[0], 554, spelling)
            r.cmd("RSET")
        self.assertEqual(mailbox(self.server, self.server.user, self.server.password), [])
        queue = os.path.join(self.server.dir, "queue")
        self.assertEqual([f for f in os.listdir(queue) if f != "tmp"], [])

    def test_local_address_still_accepted(self):
        r = RawSMTP(ports(self.server)["smtp"])
        self.addCleanup(r.close)
        r.reply()
        r.cmd("EHLO relay.test")
        r.cmd("MAIL FROM:<a@example.com>")
        self.assertEqual(r.cmd("RCPT TO:<TEST@LocalHost>")[0], 250)


if __name__ == "__main__":
    unittest.main()
