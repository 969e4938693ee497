/* SPDX-License-Identifier: MIT */
/*
 * test_smtp_mailauth.c: the pure parts of inbound authentication: the
 * per-domain policy (mailauth.domains), TXT character-strings joined and
 * wire-format names read from DNS answers (hostile input), and a DKIM
 * check without DNS: a message with no signature is dkim=none, and its
 * Authentication-Results field carries only hostname bytes whatever the
 * envelope says.
 */
#include "test.h"

#include "lib/util.h"
#include "smtp/smtp_mailauth.h"
#include "smtp/smtp_mx.h"

static void
test_policy_parse_and_lookup(void)
{
	struct smtp_mailauth_policy p = {.fallback = SMTP_MAILAUTH_DMARC};
	char *err = NULL;

	test_int_eq(-1,
	            smtp_mailauth_policy_parse(
	                    "A.example:Reject, b.example:junk\tc.example:deliver", &p, &err),
	            0);
	test_int_eq(-1, p.n_domains, 3);
	test_int_eq(-1, smtp_mailauth_policy_get(&p, "a.example"), SMTP_MAILAUTH_REJECT);
	test_int_eq(-1, smtp_mailauth_policy_get(&p, "b.example"), SMTP_MAILAUTH_JUNK);
	test_int_eq(-1, smtp_mailauth_policy_get(&p, "c.example"), SMTP_MAILAUTH_DELIVER);
	test_int_eq(-1, smtp_mailauth_policy_get(&p, "other.example"), SMTP_MAILAUTH_DMARC);
	smtp_mailauth_policy_deinit(&p);
	test_int_eq(-1, p.n_domains, 0);

	static const char *const bad[] = {"a.example", "a.example:bounce", ":reject", "a.example:"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct smtp_mailauth_policy q = {0};
		err = NULL;
		test_int_eq(i, smtp_mailauth_policy_parse(bad[i], &q, &err), -1);
		test_assert(i, err != NULL && strstr(err, "mailauth.domains") != NULL);
		test_int_eq(i, q.n_domains, 0);
		free(err);
	}
	struct smtp_mailauth_policy e = {0};
	test_int_eq(-1, smtp_mailauth_policy_parse("", &e, &err), 0);
	test_int_eq(-1, e.n_domains, 0);
}

static void
test_txt_join(void)
{
	char out[16];

	test_int_eq(0, smtp_dns_txt_join((const unsigned char *)"\3v=s\4pf1 ", 9, out, sizeof(out)),
	            0);
	test_str_eq(0, out, "v=spf1 ");
	test_int_eq(1, smtp_dns_txt_join((const unsigned char *)"", 0, out, sizeof(out)), 0);
	test_str_eq(1, out, "");
	/* a length past the end, a NUL inside, too long for out */
	test_int_eq(2, smtp_dns_txt_join((const unsigned char *)"\5abc", 4, out, sizeof(out)), -1);
	test_int_eq(3, smtp_dns_txt_join((const unsigned char *)"\3a\0b", 4, out, sizeof(out)), -1);
	test_int_eq(4,
	            smtp_dns_txt_join((const unsigned char *)"\20aaaaaaaaaaaaaaaa", 17, out,
	                              sizeof(out)),
	            -1);
}

static void
test_wire_name(void)
{
	char out[64];

	test_int_eq(
	        0,
	        smtp_dns_wire_name((const unsigned char *)"\2mx\7example\0", 12, out, sizeof(out)),
	        0);
	test_str_eq(0, out, "mx.example");
	test_int_eq(1, smtp_dns_wire_name((const unsigned char *)"\0", 1, out, sizeof(out)), 0);
	test_str_eq(1, out, "");
	/* no final root label, a label past the end, a byte no hostname has */
	test_int_eq(2, smtp_dns_wire_name((const unsigned char *)"\2mx", 3, out, sizeof(out)), -1);
	test_int_eq(3, smtp_dns_wire_name((const unsigned char *)"\011mx\0", 4, out, sizeof(out)),
	            -1);
	test_int_eq(4, smtp_dns_wire_name((const unsigned char *)"\2m;\0", 4, out, sizeof(out)),
	            -1);
}

static void
test_unsigned_message_and_hostile_envelope(void)
{
	char *err = NULL;
	struct smtp_mailauth_result r;

	test_int_eq(-1, smtp_mailauth_init("", &err), 0);
	/* No DNS server answers on port 1: SPF and DMARC fail temporarily,
	   and a message without a signature needs no lookup for dkim=none. */
	struct smtp_mailauth *m =
	        smtp_mailauth_new("192.0.2.7", "evil\r\nX-Injected: 1", "a;b@bad domain");
	const char *msg = "From: <x@example.org>\r\nSubject: hi\r\n\r\nbody\r\n";
	smtp_mailauth_write(m, msg, strlen(msg));
	smtp_mailauth_finish(m, "127.0.0.1:1", "mx.example", "exa\r\nmple.org", &r);
	const char *top = "Authentication-Results: mx.example;\r\n";
	test_assert(-1, strncmp(r.header, top, strlen(top)) == 0);
	test_assert(-1, strstr(r.header, "dkim=none") != NULL);
	test_assert(-1, strstr(r.header, "X-Injected") == NULL);
	test_assert(-1, strstr(r.header, "bad domain") == NULL);
	test_int_eq(-1, r.dmarc, SMTP_DMARC_NONE); /* no usable From: domain */
	/* every line but the last is folded with a tab */
	for (const char *p = strstr(r.header, "\r\n"); p != NULL && p[2] != '\0';
	     p = strstr(p + 2, "\r\n"))
		test_assert(-1, p[2] == '\t');
	free(r.header);
	smtp_mailauth_free(&m);
	smtp_mailauth_deinit();
}

static void
test_our_results(void)
{
	static const struct {
		const char *field;
		bool want;
	} rows[] = {
	        {"Authentication-Results: mx.example; spf=pass\r\n", true},
	        {"authentication-results:MX.Example;spf=pass", true},
	        {"Authentication-Results : (note (nested)) mx.example ; none", true},
	        {"Authentication-Results:\r\n\tmx.example;\r\n\tdkim=pass", true},
	        {"Authentication-Results: mx.example.evil; spf=pass", false},
	        {"Authentication-Results: other.example; spf=pass", false},
	        {"Authentication-Results: mx.exampl", false},
	        {"Authentication-Results-Foo: mx.example;", false},
	        {"X-Authentication-Results: mx.example;", false},
	        {"Authentication-Results: (unclosed mx.example;", false},
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++)
		test_int_eq(i,
		            smtp_mailauth_is_our_results(rows[i].field, strlen(rows[i].field),
		                                         "mx.example"),
		            rows[i].want);
}

int
main(void)
{
	TEST_RUN(test_our_results);
	TEST_RUN(test_policy_parse_and_lookup);
	TEST_RUN(test_txt_join);
	TEST_RUN(test_wire_name);
	TEST_RUN(test_unsigned_message_and_hostile_envelope);
	return TEST_DONE("test_smtp_mailauth");
}
