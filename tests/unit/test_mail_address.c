/* SPDX-License-Identifier: MIT */
/* test_mail_address.c: tests for src/mail/address.c, in ENVELOPE form. */
#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/address.h"
#include "mail/envelope.h"
#include "test.h"

/* The from member of an envelope holding only From: value. */
static const char *
env_from(struct arena *a, const char *value)
{
	struct mail_envelope env = {0};
	struct buf b;

	env.from = mail_address_parse(a, (const unsigned char *)value, strlen(value));
	buf_init(&b);
	mail_envelope_write(&env, &b);
	/* "(NIL NIL <from> ..." : cut the from member out. */
	const char *s = b.data + strlen("(NIL NIL ");
	const char *end = strstr(s, " NIL NIL NIL NIL NIL)");
	/* sender and reply-to repeat from: take the first third. */
	size_t len = (size_t)(end - s);
	size_t one = (len - 2) / 3;
	const char *r = arena_strndup(a, s, one);
	buf_deinit(&b);
	return r;
}

static void
test_address_lists(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	        {"user@example.com", "((NIL NIL \"user\" \"example.com\"))"},
	        {"John Doe <jdoe@machine.example>",
	         "((\"John Doe\" NIL \"jdoe\" \"machine.example\"))"},
	        {"\"Joe Q. Public\" <john.q.public@example.com>",
	         "((\"Joe Q. Public\" NIL \"john.q.public\" \"example.com\"))"},
	        {"Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
	         "((\"Mary Smith\" NIL \"mary\" \"x.test\")(NIL NIL \"jdoe\" \"example.org\")"
	         "(\"Who?\" NIL \"one\" \"y.test\"))"},
	        {"<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
	         "((NIL NIL \"boss\" \"nil.test\")(\"Giant; \\\"Big\\\" Box\" NIL \"sysservices\" "
	         "\"example.net\"))"},
	        /* RFC 5322 appendix A.1.3: groups */
	        {"A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
	         "((NIL NIL \"A Group\" NIL)(\"Ed Jones\" NIL \"c\" \"a.test\")(NIL NIL \"joe\" "
	         "\"where.test\")(\"John\" NIL \"jdoe\" \"one.test\")(NIL NIL NIL NIL))"},
	        {"Undisclosed recipients:;",
	         "((NIL NIL \"Undisclosed recipients\" NIL)(NIL NIL NIL NIL))"},
	        {"g: a@b",
	         "((NIL NIL \"g\" NIL)(NIL NIL \"a\" \"b\")(NIL NIL NIL NIL))"}, /* no ";" */
	        /* Appendix A.5: comments */
	        {"Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
	         "((\"Pete\" NIL \"pete\" \"silly.test\"))"},
	        {"jdoe@example.org (John Doe)", "((\"John Doe\" NIL \"jdoe\" \"example.org\"))"},
	        /* Appendix A.6.1: obsolete route and obs-phrase */
	        {"Joe Q. Public <@a.example,@b.example:joe@c.example>",
	         "((\"Joe Q. Public\" \"@a.example,@b.example\" \"joe\" \"c.example\"))"},
	        {"\"john doe\"@example.com", "((NIL NIL \"john doe\" \"example.com\"))"},
	        {"user@[192.0.2.1]", "((NIL NIL \"user\" \"[192.0.2.1]\"))"},
	        /* Broken input */
	        {"", "NIL"},
	        {" , ,", "NIL"},
	        {"foo", "((NIL NIL \"foo\" \"MISSING_DOMAIN\"))"},
	        {"<>", "((NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\"))"},
	        {"@example.com", "((NIL NIL \"MISSING_MAILBOX\" \"example.com\"))"},
	        {"Name <user@host", "((\"Name\" NIL \"user\" \"host\"))"},
	        {"Name <user@host, other@x",
	         "((\"Name\" NIL \"user\" \"host\")(NIL NIL \"other\" \"x\"))"},
	        {"John Doe john@example.com", "((\"John Doe\" NIL \"john\" \"example.com\"))"},
	        {"a@b;, c@d", "((NIL NIL \"a\" \"b\")(NIL NIL \"c\" \"d\"))"},
	        {"\"unclosed <a@b>", "((NIL NIL \"unclosed <a@b>\" \"MISSING_DOMAIN\"))"},
	        {"=?utf-8?Q?Ren=C3=A9?= <r@x>", "((\"=?utf-8?Q?Ren=C3=A9?=\" NIL \"r\" \"x\"))"},
	        {"J\xc3\xb6rg <j@x>", "(({5}\r\nJ\xc3\xb6rg NIL \"j\" \"x\"))"},
	        {"a@b\r\n\t, c@d", "((NIL NIL \"a\" \"b\")(NIL NIL \"c\" \"d\"))"},
	};
	struct arena *a = arena_new(1024);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_str_eq(i, env_from(a, cases[i].in), cases[i].want);
	arena_free(&a);
}

int
main(void)
{
	TEST_RUN(test_address_lists);
	return TEST_DONE("test_mail_address");
}
