"""IMAP not-authenticated state: greeting, CAPABILITY, STARTTLS, LOGIN,
AUTHENTICATE PLAIN/LOGIN with SASL-IR, LOGINDISABLED, bad input."""
import base64
import imaplib
import time

from harness import Raw, ServerTestCase, client_ssl_context


def plain(user, password, authzid=""):
    return base64.b64encode(f"{authzid}\0{user}\0{password}".encode()).decode()


class LoginTest(ServerTestCase):
    def test_greeting_carries_capabilities(self):
        r = Raw(self.server.imap_port)
        greeting = r.line()
        self.assertTrue(greeting.startswith("* OK [CAPABILITY IMAP4rev1 "), greeting)
        self.assertIn(" STARTTLS", greeting)
        r.close()

    def test_capability_over_implicit_tls_has_no_starttls(self):
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        lines = r.cmd("a1", "CAPABILITY")
        self.assertTrue(lines[0].startswith("* CAPABILITY IMAP4rev1"), lines)
        self.assertNotIn("STARTTLS", lines[0])
        self.assertIn("AUTH=PLAIN", lines[0])
        self.assertEqual(lines[-1], "a1 OK CAPABILITY completed")
        r.close()

    def test_login_over_993(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.server.imaps_port,
                              ssl_context=client_ssl_context())
        typ, data = m.login(self.server.user, self.server.password)
        self.assertEqual(typ, "OK")
        self.assertIn(b"[CAPABILITY IMAP4rev1", data[0])
        self.assertEqual(m.logout()[0], "BYE")

    def test_login_after_starttls(self):
        m = imaplib.IMAP4("127.0.0.1", self.server.imap_port)
        m.starttls(ssl_context=client_ssl_context())
        self.assertEqual(m.login(self.server.user, self.server.password)[0], "OK")
        m.logout()

    def test_wrong_password_is_authenticationfailed_after_delay(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.server.imaps_port,
                              ssl_context=client_ssl_context())
        start = time.monotonic()
        with self.assertRaises(imaplib.IMAP4.error) as cm:
            m.login(self.server.user, "not-the-password")
        self.assertIn("[AUTHENTICATIONFAILED]", str(cm.exception))
        self.assertGreaterEqual(time.monotonic() - start, 0.2)
        # The session stays usable: a right password works next.
        self.assertEqual(m.login(self.server.user, self.server.password)[0], "OK")
        m.logout()

    def test_unknown_user_gets_the_same_answer(self):
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        lines = r.cmd("a1", "LOGIN nobody@localhost secret")
        self.assertEqual(lines[-1], "a1 NO [AUTHENTICATIONFAILED] Authentication failed")
        r.close()

    def test_login_is_case_insensitive_on_the_address(self):
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        lines = r.cmd("a1", f"LOGIN {self.server.user.upper()} {self.server.password}")
        self.assertTrue(lines[-1].startswith("a1 OK "), lines)
        r.close()

    def test_login_with_synchronising_literals(self):
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        user, pw = self.server.user, self.server.password
        r.send(f"a1 LOGIN {{{len(user)}}}\r\n")
        self.assertTrue(r.line().startswith("+ "))
        r.send(f"{user} {{{len(pw)}}}\r\n")
        self.assertTrue(r.line().startswith("+ "))
        r.send(f"{pw}\r\n")
        self.assertTrue(r.until_tagged("a1")[-1].startswith("a1 OK [CAPABILITY"))
        r.close()

    def test_login_with_non_synchronising_literals(self):
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        user, pw = self.server.user, self.server.password
        r.send(f"a1 LOGIN {{{len(user)}+}}\r\n{user} {{{len(pw)}+}}\r\n{pw}\r\n")
        self.assertTrue(r.until_tagged("a1")[-1].startswith("a1 OK "))
        r.close()

    def test_login_with_quoted_strings(self):
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        lines = r.cmd("a1", f'LOGIN "{self.server.user}" "{self.server.password}"')
        self.assertTrue(lines[-1].startswith("a1 OK "), lines)
        r.close()

    def test_authenticate_plain_with_initial_response(self):
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        lines = r.cmd("a1", "AUTHENTICATE PLAIN " + plain(self.server.user, self.server.password))
        self.assertTrue(lines[-1].startswith("a1 OK [CAPABILITY"), lines)
        r.close()

    def test_authenticate_plain_without_initial_response(self):
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        r.send("a1 AUTHENTICATE PLAIN\r\n")
        self.assertEqual(r.line(), "+ ")
        r.send(plain(self.server.user, self.server.password) + "\r\n")
        self.assertTrue(r.until_tagged("a1")[-1].startswith("a1 OK "))
        r.close()

    def test_authenticate_plain_wrong_password(self):
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        lines = r.cmd("a1", "AUTHENTICATE PLAIN " + plain(self.server.user, "bad"))
        self.assertEqual(lines[-1], "a1 NO [AUTHENTICATIONFAILED] Authentication failed")
        r.close()

    def test_authenticate_plain_other_authzid_refused(self):
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        ir = plain(self.server.user, self.server.password, authzid="other@localhost")
        lines = r.cmd("a1", "AUTHENTICATE PLAIN " + ir)
        # RFC 5530: the credentials were right, acting as another was not.
        self.assertTrue(lines[-1].startswith("a1 NO [AUTHORIZATIONFAILED]"), lines)
        r.close()

    def test_authenticate_login_mechanism(self):
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        r.send("a1 AUTHENTICATE LOGIN\r\n")
        self.assertTrue(r.line().startswith("+ "))
        r.send(base64.b64encode(self.server.user.encode()).decode() + "\r\n")
        self.assertTrue(r.line().startswith("+ "))
        r.send(base64.b64encode(self.server.password.encode()).decode() + "\r\n")
        self.assertTrue(r.until_tagged("a1")[-1].startswith("a1 OK "))
        r.close()

    def test_authenticate_cancel_is_bad(self):
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        r.send("a1 AUTHENTICATE PLAIN\r\n")
        self.assertEqual(r.line(), "+ ")
        r.send("*\r\n")
        self.assertEqual(r.until_tagged("a1")[-1], "a1 BAD Authentication cancelled")
        self.assertEqual(r.cmd("a2", "NOOP")[-1], "a2 OK NOOP completed")
        r.close()

    def test_authenticate_garbage_base64_is_bad(self):
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        lines = r.cmd("a1", "AUTHENTICATE PLAIN !!!notbase64!!!")
        self.assertTrue(lines[-1].startswith("a1 BAD "), lines)
        r.close()

    def test_authenticate_unknown_mechanism(self):
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        lines = r.cmd("a1", "AUTHENTICATE X-UNKNOWN")
        self.assertEqual(lines[-1], "a1 NO Unsupported authentication mechanism")
        r.close()

    def test_commands_needing_login_are_refused_before(self):
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        self.assertEqual(r.cmd("a1", "LOGIN")[-1], "a1 BAD Expected: LOGIN <user> <password>")
        lines = r.cmd("a2", "FROBNICATE")
        self.assertEqual(lines[-1], "a2 BAD Unknown command FROBNICATE")
        r.close()

    def test_login_twice_is_refused(self):
        r = Raw(self.server.imaps_port, tls=True)
        r.line()
        r.cmd("a1", f"LOGIN {self.server.user} {self.server.password}")
        lines = r.cmd("a2", f"LOGIN {self.server.user} {self.server.password}")
        self.assertEqual(lines[-1], "a2 BAD LOGIN not allowed in this state")
        self.assertEqual(r.cmd("a3", "STARTTLS")[-1], "a3 BAD STARTTLS not allowed in this state")
        r.close()

    def test_noop_and_logout_wire_format(self):
        r = Raw(self.server.imap_port)
        r.line()
        self.assertEqual(r.cmd("x.1", "NOOP"), ["x.1 OK NOOP completed"])
        self.assertEqual(r.cmd("x.2", "logout"), ["* BYE Logging out", "x.2 OK LOGOUT completed"])
        self.assertTrue(r.is_closed())

    def test_id(self):
        r = Raw(self.server.imap_port)
        r.line()
        lines = r.cmd("a1", 'ID ("name" "test-suite" "version" "1")')
        self.assertTrue(lines[0].startswith('* ID ("name" "tern" "version" '), lines)
        self.assertEqual(lines[-1], "a1 OK ID completed")
        self.assertEqual(r.cmd("a2", "ID NIL")[-1], "a2 OK ID completed")
        self.assertTrue(r.cmd("a3", 'ID ("odd")')[-1].startswith("a3 BAD"))
        r.close()


class BadInputTest(ServerTestCase):
    CONFIG = "[imap]\nmax_line = 2k\nmax_literal = 4k\nmax_bad_commands = 5\n"

    def setUp(self):
        self.r = Raw(self.server.imap_port)
        self.r.line()

    def tearDown(self):
        self.r.close()

    def test_syntax_errors_get_bad_and_the_session_goes_on(self):
        r = self.r
        cases = [
            ("a1 NOOP (\r\n", "a1 BAD Missing ')'"),
            ('a2 LOGIN "unterminated\r\n', "a2 BAD Unterminated quoted string"),
            ("a3 NOOP  x\r\n", "a3 BAD Extra space"),
            ("a4 LOGIN {abc}\r\n", "a4 BAD Invalid literal"),
        ]
        for i, (line, want) in enumerate(cases):
            r.send(line)
            self.assertEqual(r.line(), want, line)
            if i % 2 == 1:
                self.assertEqual(r.cmd(f"ok{i}", "NOOP"), [f"ok{i} OK NOOP completed"])

    def test_missing_command_and_bad_tag(self):
        self.r.send("lonely\r\n")
        self.assertEqual(self.r.line(), "lonely BAD Missing command")
        self.r.send("+tag NOOP\r\n")
        self.assertEqual(self.r.line(), "* BAD Invalid tag")
        self.assertEqual(self.r.cmd("a1", "NOOP"), ["a1 OK NOOP completed"])

    def test_empty_lines_are_ignored(self):
        self.r.send("\r\n\r\na1 NOOP\r\n")
        self.assertEqual(self.r.line(), "a1 OK NOOP completed")

    def test_bare_lf_ends_a_line(self):
        self.r.send("a1 NOOP\na2 NOOP\n")
        self.assertEqual(self.r.line(), "a1 OK NOOP completed")
        self.assertEqual(self.r.line(), "a2 OK NOOP completed")

    def test_line_too_long(self):
        self.r.send("a1 NOOP " + "x" * 5000 + "\r\n")
        self.assertEqual(self.r.line(), "a1 BAD Line too long")
        self.assertEqual(self.r.cmd("a2", "NOOP"), ["a2 OK NOOP completed"])

    def test_synchronising_literal_too_big(self):
        self.r.send("a1 LOGIN {99999}\r\n")
        self.assertEqual(self.r.line(), "a1 BAD [TOOBIG] Literal too big")
        self.assertEqual(self.r.cmd("a2", "NOOP"), ["a2 OK NOOP completed"])

    def test_non_synchronising_literal_too_big_is_skipped(self):
        self.r.send("a1 LOGIN {5000+}\r\n" + "y" * 5000 + " pass\r\n")
        self.assertEqual(self.r.line(), "a1 BAD [TOOBIG] Literal too big")
        self.assertEqual(self.r.cmd("a2", "NOOP"), ["a2 OK NOOP completed"])

    def test_pipelined_commands_answer_in_order(self):
        self.r.send("p1 NOOP\r\np2 CAPABILITY\r\np3 NOOP\r\n")
        lines = self.r.until_tagged("p3")
        tags = [l.split(" ")[0] for l in lines]
        self.assertEqual(tags, ["p1", "*", "p2", "p3"])

    def test_command_split_across_packets(self):
        for ch in "s1 NOOP\r\n":
            self.r.send(ch)
            time.sleep(0.002)
        self.assertEqual(self.r.line(), "s1 OK NOOP completed")

    def test_too_many_bad_commands_ends_the_session(self):
        for i in range(5):
            self.r.send(f"b{i} BOGUS\r\n")
        lines = [self.r.line() for _ in range(6)]
        self.assertEqual(lines[-1], "* BYE Too many invalid commands")
        self.assertTrue(self.r.is_closed())


class PlaintextNeverTest(ServerTestCase):
    CONFIG = "[auth]\nplaintext = never\nfail_delay = 100ms\n"

    def test_logindisabled_until_starttls(self):
        r = Raw(self.server.imap_port)
        greeting = r.line()
        self.assertIn("LOGINDISABLED", greeting)
        self.assertNotIn("AUTH=", greeting)
        lines = r.cmd("a1", f"LOGIN {self.server.user} {self.server.password}")
        self.assertEqual(lines[-1],
                         f"a1 NO [PRIVACYREQUIRED] Use STARTTLS or port {self.server.imaps_port} "
                         "before logging in")
        lines = r.cmd("a2", "AUTHENTICATE PLAIN " + plain(self.server.user, self.server.password))
        self.assertTrue(lines[-1].startswith("a2 NO [PRIVACYREQUIRED]"), lines)
        self.assertEqual(r.cmd("a3", "STARTTLS"), ["a3 OK Begin TLS negotiation now"])
        r.starttls()
        caps = r.cmd("a4", "CAPABILITY")[0]
        self.assertNotIn("LOGINDISABLED", caps)
        self.assertNotIn("STARTTLS", caps)
        self.assertIn("AUTH=PLAIN", caps)
        lines = r.cmd("a5", f"LOGIN {self.server.user} {self.server.password}")
        self.assertTrue(lines[-1].startswith("a5 OK "), lines)
        r.close()

    def test_starttls_discards_pipelined_plaintext(self):
        r = Raw(self.server.imap_port)
        r.line()
        # An attacker's command injected after STARTTLS must not run.
        r.send("a1 STARTTLS\r\na2 NOOP\r\n")
        self.assertEqual(r.line(), "a1 OK Begin TLS negotiation now")
        r.buf = b""
        r.starttls()
        self.assertEqual(r.cmd("a3", "NOOP"), ["a3 OK NOOP completed"])
        r.close()

    def test_imaplib_starttls_then_login(self):
        m = imaplib.IMAP4("127.0.0.1", self.server.imap_port)
        self.assertIn("LOGINDISABLED", m.capabilities)
        m.starttls(ssl_context=client_ssl_context())
        self.assertEqual(m.login(self.server.user, self.server.password)[0], "OK")
        m.logout()
