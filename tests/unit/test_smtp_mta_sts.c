/* SPDX-License-Identifier: MIT */
/*
 * test_smtp_mta_sts.c: the MTA-STS parsers and MX matching (RFC 8461
 * sections 3.1, 3.2, 4.1): valid and invalid TXT records and policies,
 * first-wins for repeated fields, wildcards covering one label only.
 */
#include "test.h"

#include "lib/util.h"
#include "smtp/smtp_mta_sts.h"

static void
test_txt_records(void)
{
	static const struct {
		const char *txt, *id;
	} rows[] = {
	        {"v=STSv1; id=20160831085700Z;", "20160831085700Z"},
	        {"v=STSv1;id=abc", "abc"},
	        {"v=STSv1; ext=x.y; id=A1 ;", "A1"},
	        {"v=STSv1; id=first; id=second", "first"},
	        {"v=STSv2; id=abc", NULL},
	        {"id=abc; v=STSv1", NULL},
	        {"v=STSv1", NULL},
	        {"v=STSv1; id=", NULL},
	        {"v=STSv1; id=abc-def", NULL},
	        {"v=STSv1; id=123456789012345678901234567890123", NULL}, /* 33 */
	        {"v=STSv1; id=abc; bad", NULL},
	        {"v=STSv1 id=abc", NULL},
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		char id[33] = "";
		int rc = smtp_sts_txt_parse(rows[i].txt, id);
		test_int_eq(i, rc, rows[i].id != NULL ? 0 : -1);
		if (rows[i].id != NULL)
			test_str_eq(i, id, rows[i].id);
	}
}

static void
test_policies(void)
{
	struct smtp_sts_policy p = {.id = "keep", .fetched = 42};
	const char *text = "version: STSv1\r\nmode: enforce\r\nmx: Mail.Example.COM\r\n"
	                   "mx: *.example.net\r\nmax_age: 604800\r\nmode: none\r\nfuture: x y\r\n";

	test_int_eq(-1, smtp_sts_policy_parse(text, strlen(text), &p), 0);
	test_int_eq(-1, p.mode, SMTP_STS_ENFORCE); /* the first mode counts */
	test_int_eq(-1, p.max_age, 604800);
	test_int_eq(-1, p.n_mx, 2);
	test_str_eq(-1, p.mx[0], "mail.example.com");
	test_str_eq(-1, p.id, "keep");
	test_int_eq(-1, p.fetched, 42);

	const char *lf = "version: STSv1\nmode: none\nmax_age: 99999999999\n";
	test_int_eq(-1, smtp_sts_policy_parse(lf, strlen(lf), &p), -1); /* 11 digits */
	const char *none = "version: STSv1\nmode: none\nmax_age: 0\n";
	test_int_eq(-1, smtp_sts_policy_parse(none, strlen(none), &p), 0);
	test_int_eq(-1, p.mode, SMTP_STS_NONE);
	const char *big = "version: STSv1\nmode: testing\nmx: a.example\nmax_age: 9999999999\n";
	test_int_eq(-1, smtp_sts_policy_parse(big, strlen(big), &p), 0);
	test_int_eq(-1, p.max_age, SMTP_STS_MAX_AGE);

	static const char *const bad[] = {
	        "mode: enforce\nmx: a.example\nmax_age: 1\n",                  /* no version */
	        "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n",  /* version */
	        "version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1\n",   /* mode */
	        "version: STSv1\nmode: enforce\nmax_age: 1\n",                 /* no mx */
	        "version: STSv1\nmode: enforce\nmx: a.example\n",              /* no max_age */
	        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n", /* max_age */
	        "version: STSv1\nmode: enforce\nmx: a b\nmax_age: 1\n",        /* mx */
	        "version: STSv1\nmode: enforce\nmx: **.a\nmax_age: 1\n",       /* mx */
	        "version: STSv1\nmode enforce\nmx: a.example\nmax_age: 1\n",   /* no colon */
	        "<html>",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct smtp_sts_policy q = {0};
		test_int_eq(i, smtp_sts_policy_parse(bad[i], strlen(bad[i]), &q), -1);
	}
}

static void
test_mx_matching(void)
{
	struct smtp_sts_policy p = {.n_mx = 2};
	snprintf(p.mx[0], sizeof(p.mx[0]), "mail.example.com");
	snprintf(p.mx[1], sizeof(p.mx[1]), "*.example.net");
	static const struct {
		const char *host;
		bool want;
	} rows[] = {
	        {"mail.example.com", true},     {"MAIL.example.com", true},
	        {"mail.example.com.", true},    {"x.mail.example.com", false},
	        {"mx1.example.net", true},      {"example.net", false},
	        {"a.b.example.net", false},     {".example.net", false},
	        {"mx1.example.network", false},
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++)
		test_int_eq(i, smtp_sts_mx_matches(&p, rows[i].host), rows[i].want);
}

int
main(void)
{
	TEST_RUN(test_txt_records);
	TEST_RUN(test_policies);
	TEST_RUN(test_mx_matching);
	return TEST_DONE("test_smtp_mta_sts");
}
