/* SPDX-License-Identifier: MIT */
/* test_smtp_parse.c: tests for src/smtp/smtp_parse.c, smtp_address.c and
   smtp_trace.c: commands, paths, ESMTP parameters, xtext, BDAT, DATA's dot
   decoder at every split, the relay rules and the Received field. */
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "smtp/smtp_address.h"
#include "smtp/smtp_parse.h"
#include "smtp/smtp_trace.h"
#include "test.h"

static void
test_command_verbs(void)
{
	static const struct {
		const char *line;
		enum smtp_verb verb;
		const char *arg;
	} cases[] = {
	        {"EHLO client.example", SMTP_VERB_EHLO, "client.example"},
	        {"ehlo x", SMTP_VERB_EHLO, "x"},
	        {"MAIL FROM:<a@b>", SMTP_VERB_MAIL, "FROM:<a@b>"},
	        {"DATA", SMTP_VERB_DATA, ""},
	        {"StartTLS", SMTP_VERB_STARTTLS, ""},
	        {"LHLO l", SMTP_VERB_LHLO, "l"},
	        {"BDAT 10 LAST", SMTP_VERB_BDAT, "10 LAST"},
	        {"MAILX", SMTP_VERB_UNKNOWN, ""},
	        {"", SMTP_VERB_UNKNOWN, ""},
	        {"FOO bar", SMTP_VERB_UNKNOWN, "bar"},
	};
	struct smtp_command c;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		smtp_command_parse(cases[i].line, &c);
		test_int_eq(i, c.verb, cases[i].verb);
		test_str_eq(i, c.arg, cases[i].arg);
	}
}

static void
test_mail_paths_and_params(void)
{
	static const struct {
		const char *arg;
		enum smtp_parse_error want;
		const char *address;
	} cases[] = {
	        {"FROM:<alice@example.org>", SMTP_PARSE_OK, "alice@example.org"},
	        {"from:<alice@example.org>", SMTP_PARSE_OK, "alice@example.org"},
	        {"FROM: <alice@example.org>", SMTP_PARSE_OK, "alice@example.org"},
	        {"FROM:<>", SMTP_PARSE_OK, ""},
	        {"FROM:<\"a b\"@example.org>", SMTP_PARSE_OK, "\"a b\"@example.org"},
	        {"FROM:<\"a>b\"@example.org>", SMTP_PARSE_OK, "\"a>b\"@example.org"},
	        {"FROM:<u@[192.0.2.1]>", SMTP_PARSE_OK, "u@[192.0.2.1]"},
	        {"FROM:<@relay.example:u@example.org>", SMTP_PARSE_OK, "u@example.org"},
	        {"FROM:<j\xc3\xb6rg@example.org> SMTPUTF8", SMTP_PARSE_OK,
	         "j\xc3\xb6rg@example.org"},
	        {"FROM:alice@example.org", SMTP_PARSE_SYNTAX, NULL},
	        {"TO:<alice@example.org>", SMTP_PARSE_SYNTAX, NULL},
	        {"FROM:<alice@example.org", SMTP_PARSE_ADDRESS, NULL},
	        {"FROM:<alice@example.org.>", SMTP_PARSE_ADDRESS, NULL},
	        {"FROM:<alice@@example.org>", SMTP_PARSE_ADDRESS, NULL},
	        {"FROM:<alice..x@example.org>", SMTP_PARSE_ADDRESS, NULL},
	        {"FROM:<.alice@example.org>", SMTP_PARSE_ADDRESS, NULL},
	        {"FROM:<alice@-example.org>", SMTP_PARSE_ADDRESS, NULL},
	        {"FROM:<alice>", SMTP_PARSE_ADDRESS, NULL},
	        {"FROM:<a\xff@example.org>", SMTP_PARSE_ADDRESS, NULL},
	        {"FROM:<a\xc0\xaf@example.org>", SMTP_PARSE_ADDRESS, NULL}, /* over-long */
	        {"FROM:<a@b.c>x", SMTP_PARSE_SYNTAX, NULL},
	        {"FROM:<a@b.c> SIZE=100", SMTP_PARSE_OK, "a@b.c"},
	        {"FROM:<a@b.c> SIZE=abc", SMTP_PARSE_PARAM_VALUE, NULL},
	        {"FROM:<a@b.c> SIZE=1 SIZE=2", SMTP_PARSE_PARAM_VALUE, NULL},
	        {"FROM:<a@b.c> BODY=9BIT", SMTP_PARSE_PARAM_VALUE, NULL},
	        {"FROM:<a@b.c> FROB=1", SMTP_PARSE_PARAM_UNKNOWN, NULL},
	        {"FROM:<a@b.c> SMTPUTF8=yes", SMTP_PARSE_PARAM_VALUE, NULL},
	        {"FROM:<a@b.c> ENVID=a+2", SMTP_PARSE_PARAM_VALUE, NULL},
	        {"FROM:<a@b.c> RET=ALL", SMTP_PARSE_PARAM_VALUE, NULL},
	};
	struct arena *a = arena_new(4096);
	struct smtp_path p;
	struct smtp_mail_params mp;
	const char *detail;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		enum smtp_parse_error e = smtp_mail_parse(a, cases[i].arg, &p, &mp, &detail);
		test_int_eq(i, e, cases[i].want);
		if (e == SMTP_PARSE_OK)
			test_str_eq(i, p.address, cases[i].address);
	}
	test_int_eq(-1,
	            smtp_mail_parse(a,
	                            "FROM:<a@b.c> SIZE=12345 BODY=BINARYMIME SMTPUTF8 REQUIRETLS "
	                            "RET=HDRS ENVID=QQ+2B1 AUTH=<>",
	                            &p, &mp, &detail),
	            SMTP_PARSE_OK);
	test_assert(-1, mp.has_size && mp.size == 12345);
	test_int_eq(-1, mp.body, SMTP_BODY_BINARYMIME);
	test_assert(-1, mp.smtputf8 && mp.requiretls);
	test_int_eq(-1, mp.ret, SMTP_RET_HDRS);
	test_str_eq(-1, mp.envid, "QQ+1");
	test_str_eq(-1, mp.auth, "<>");
	test_int_eq(-1, smtp_mail_parse(a, "FROM:<@x.y,@z.w:u@b.c>", &p, &mp, &detail),
	            SMTP_PARSE_OK);
	test_assert(-1, p.has_route);
	test_int_eq(-1, smtp_mail_parse(a, "FROM:<\xc3\xa9@b.c>", &p, &mp, &detail), SMTP_PARSE_OK);
	test_assert(-1, p.is_utf8);
	arena_free(&a);
}

static void
test_rcpt_params(void)
{
	struct arena *a = arena_new(4096);
	struct smtp_path p;
	struct smtp_rcpt_params rp;
	const char *detail;

	test_int_eq(-1,
	            smtp_rcpt_parse(a, "TO:<b@c.d> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;b+40c.d", &p,
	                            &rp, &detail),
	            SMTP_PARSE_OK);
	test_int_eq(-1, rp.notify, SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_DELAY);
	test_str_eq(-1, rp.orcpt_type, "rfc822");
	test_str_eq(-1, rp.orcpt, "b@c.d");
	test_int_eq(-1, smtp_rcpt_parse(a, "TO:<Postmaster>", &p, &rp, &detail), SMTP_PARSE_OK);
	test_assert(-1, p.is_postmaster);
	static const char *const bad[] = {
	        "TO:<b@c.d> NOTIFY=NEVER,SUCCESS",
	        "TO:<b@c.d> NOTIFY=",
	        "TO:<b@c.d> NOTIFY=SOMETIMES",
	        "TO:<b@c.d> NOTIFY=SUCCESS,",
	        "TO:<b@c.d> ORCPT=rfc822",
	        "TO:<b@c.d> ORCPT=;x",
	        "TO:<>",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		test_assert(i, smtp_rcpt_parse(a, bad[i], &p, &rp, &detail) != SMTP_PARSE_OK);
	arena_free(&a);
}

static void
test_xtext_round_trip(void)
{
	struct arena *a = arena_new(1024);
	const char *s = "a+b=c d\xc3\xa9";
	char *enc = smtp_xtext_encode(a, s);

	test_str_eq(-1, enc, "a+2Bb+3Dc+20d+C3+A9");
	test_str_eq(-1, smtp_xtext_decode(a, enc, strlen(enc)), s);
	test_assert(-1, smtp_xtext_decode(a, "+2", 2) == NULL);
	test_assert(-1, smtp_xtext_decode(a, "+2b", 3) == NULL); /* hex is upper case */
	test_assert(-1, smtp_xtext_decode(a, "+00", 3) == NULL);
	test_assert(-1, smtp_xtext_decode(a, "a=b", 3) == NULL);
	arena_free(&a);
}

static void
test_bdat_args(void)
{
	uint64_t n;
	bool last;

	test_assert(-1, smtp_bdat_parse("100", &n, &last) && n == 100 && !last);
	test_assert(-1, smtp_bdat_parse("0 LAST", &n, &last) && n == 0 && last);
	test_assert(-1, smtp_bdat_parse("7 last", &n, &last) && last);
	test_assert(-1, !smtp_bdat_parse("", &n, &last));
	test_assert(-1, !smtp_bdat_parse("x", &n, &last));
	test_assert(-1, !smtp_bdat_parse("10 FIRST", &n, &last));
	test_assert(-1, !smtp_bdat_parse("10 LAST x", &n, &last));
	test_assert(-1, !smtp_bdat_parse("123456789012345678901", &n, &last));
}

/* Decodes in pieces of step bytes; returns the output, *consumed set. */
static char *
decode_split(struct arena *a, const char *in, size_t len, size_t step, size_t *consumed, bool *done)
{
	struct smtp_dot_decoder d;
	char *out = arena_alloc(a, len + 1), *tmp = arena_alloc(a, len + 1);
	size_t n = 0, i = 0;

	smtp_dot_decoder_init(&d);
	while (i < len && !d.is_done) {
		size_t piece = MIN(step, len - i), out_len;
		size_t used = smtp_dot_decode(&d, in + i, piece, tmp, &out_len);
		memcpy(out + n, tmp, out_len);
		n += out_len;
		i += used;
		if (used < piece && !d.is_done)
			break; /* no progress: a bug */
	}
	out[n] = '\0';
	*consumed = i;
	*done = d.is_done;
	return out;
}

static void
test_dot_decoder_every_split(void)
{
	static const struct {
		const char *in, *out;
		bool done;
		size_t rest; /* bytes left after the end */
	} cases[] = {
	        {"abc\r\n.\r\n", "abc\r\n", true, 0},
	        {".\r\n", "", true, 0},
	        {"a\r\n..b\r\n.\r\nQUIT\r\n", "a\r\n.b\r\n", true, 6},
	        {"a\r\n...\r\n.\r\n", "a\r\n..\r\n", true, 0},
	        /* A bare LF never ends the data (no smuggling). */
	        {"a\n.\nb\r\n.\r\n", "a\n.\nb\r\n", true, 0},
	        {"a\r\n.\nb\r\n.\r\n", "a\r\n\nb\r\n", true, 0},
	        {"a\n.\r\nb\r\n.\r\n", "a\n.\r\nb\r\n", true, 0},
	        {"a\r\n.\rx\r\n.\r\n", "a\r\n\rx\r\n", true, 0},
	        {"a\r\r\n.\r\n", "a\r\r\n", true, 0},
	        {"no end\r\n", "no end\r\n", false, 0},
	        {"x\r\n.", "x\r\n", false, 0},
	};
	struct arena *a = arena_new(4096);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		size_t len = strlen(cases[i].in);
		for (size_t step = 1; step <= len; step++) {
			size_t consumed;
			bool done;
			char *out = decode_split(a, cases[i].in, len, step, &consumed, &done);
			test_str_eq(i * 100 + step, out, cases[i].out);
			test_int_eq(i * 100 + step, done, cases[i].done);
			if (cases[i].done)
				test_int_eq(i * 100 + step, len - consumed, cases[i].rest);
		}
	}
	arena_free(&a);
}

static void
test_relay_rules(void)
{
	static const struct {
		const char *rcpt;
		bool submission;
		enum smtp_addr_class want;
		const char *address;
	} cases[] = {
	        {"TO:<Bob@Example.ORG>", false, SMTP_ADDR_LOCAL, "bob@example.org"},
	        {"TO:<bob@other.example>", false, SMTP_ADDR_REFUSED, NULL},
	        {"TO:<bob@other.example>", true, SMTP_ADDR_REMOTE, "bob@other.example"},
	        {"TO:<Bob@Other.Example>", true, SMTP_ADDR_REMOTE, "Bob@other.example"},
	        {"TO:<bob%other.example@example.org>", false, SMTP_ADDR_REFUSED, NULL},
	        {"TO:<other.example!bob@example.org>", false, SMTP_ADDR_REFUSED, NULL},
	        {"TO:<@example.org:bob@other.example>", false, SMTP_ADDR_REFUSED, NULL},
	        {"TO:<@other.example:bob@example.org>", false, SMTP_ADDR_REFUSED, NULL},
	        {"TO:<\"bob@other.example\"@example.org>", false, SMTP_ADDR_REFUSED, NULL},
	        {"TO:<\"bob\"@example.org>", false, SMTP_ADDR_REFUSED, NULL},
	        {"TO:<bob@[127.0.0.1]>", false, SMTP_ADDR_REFUSED, NULL},
	        {"TO:<bob@[127.0.0.1]>", true, SMTP_ADDR_REFUSED, NULL},
	        {"TO:<postmaster>", false, SMTP_ADDR_LOCAL, "postmaster@example.org"},
	        {"TO:<bob@localhost>", false, SMTP_ADDR_LOCAL, "bob@localhost"},
	        {"TO:<bob@example.org.other.example>", false, SMTP_ADDR_REFUSED, NULL},
	};
	struct arena *a = arena_new(4096);
	struct smtp_domains d;
	struct smtp_path p;
	struct smtp_rcpt_params rp;
	const char *detail, *addr, *why;

	smtp_domains_parse(&d, "Example.org, localhost", "ignored");
	test_str_eq(-1, smtp_domains_primary(&d), "example.org");
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		test_int_eq(i, smtp_rcpt_parse(a, cases[i].rcpt, &p, &rp, &detail), SMTP_PARSE_OK);
		test_int_eq(i, smtp_address_classify(a, &p, &d, cases[i].submission, &addr, &why),
		            cases[i].want);
		if (cases[i].want != SMTP_ADDR_REFUSED)
			test_str_eq(i, addr, cases[i].address);
		else
			test_assert(i, why != NULL);
	}
	/* The trailing dot never gets that far: it is not a Domain. */
	test_int_eq(-1, smtp_rcpt_parse(a, "TO:<bob@example.org.>", &p, &rp, &detail),
	            SMTP_PARSE_ADDRESS);
	smtp_domains_free(&d);
	smtp_domains_parse(&d, "", "fallback.example");
	test_assert(-1, d.n == 1 && smtp_domains_has(&d, "FALLBACK.example"));
	smtp_domains_free(&d);
	arena_free(&a);
}

static void
test_header_from(void)
{
	static const char hdr[] = "Subject: x\r\nFrom: \"Alice A\" <Alice@Example.org>,\r\n"
	                          " bob@example.org\r\nTo: c@d.e\r\n\r\nFrom: body@x.y\r\n";
	struct arena *a = arena_new(4096);
	size_t n;
	const char **v = smtp_header_from(a, (const unsigned char *)hdr, sizeof(hdr) - 1, &n);

	test_int_eq(-1, n, 2);
	test_str_eq(-1, v[0], "alice@example.org");
	test_str_eq(-1, v[1], "bob@example.org");
	v = smtp_header_from(a, (const unsigned char *)"To: x@y.z\r\n\r\n", 13, &n);
	test_int_eq(-1, n, 0);
	arena_free(&a);
}

static void
test_received_field(void)
{
	struct buf b;
	struct smtp_trace t = {
	        .helo = "client.example",
	        .ip = "192.0.2.7",
	        .hostname = "mx.example.org",
	        .protocol = smtp_trace_protocol(false, true, true, true, false),
	        .id = "6c1f09a2.1",
	        .tls_cipher = "TLS_AES_256_GCM_SHA384",
	        .tls_version = "TLSv1.3",
	        .for_rcpt = "bob@example.org",
	        .time = 1796158800,
	};

	buf_init(&b);
	smtp_trace_received(&b, &t);
	test_str_eq(-1, b.data,
	            "Received: from client.example ([192.0.2.7])\r\n"
	            "\tby mx.example.org (tern) with ESMTPSA id 6c1f09a2.1\r\n"
	            "\ttls TLS_AES_256_GCM_SHA384 (TLSv1.3)\r\n"
	            "\tfor <bob@example.org>;\r\n"
	            "\tTue, 01 Dec 2026 21:00:00 +0000\r\n");
	test_str_eq(-1, smtp_trace_protocol(true, true, false, false, false), "LMTP");
	test_str_eq(-1, smtp_trace_protocol(false, false, true, false, false), "SMTP");
	test_str_eq(-1, smtp_trace_protocol(false, true, true, false, true), "UTF8SMTPS");
	buf_deinit(&b);
}

int
main(void)
{
	TEST_RUN(test_command_verbs);
	TEST_RUN(test_mail_paths_and_params);
	TEST_RUN(test_rcpt_params);
	TEST_RUN(test_xtext_round_trip);
	TEST_RUN(test_bdat_args);
	TEST_RUN(test_dot_decoder_every_split);
	TEST_RUN(test_relay_rules);
	TEST_RUN(test_header_from);
	TEST_RUN(test_received_field);
	return TEST_DONE("test_smtp_parse");
}
