/* SPDX-License-Identifier: MIT */
/* test_lib_collation.c: tests for src/lib/collation.c: the keys of
   i;unicode-casemap (RFC 5051 section 2), i;ascii-casemap and i;octet, the
   substring and ordering operations, and COMPARATOR's collation-order
   matching (RFC 5255 4.7, RFC 4790 3.1-3.2). Wanted keys are worked out
   from UnicodeData.txt by hand, byte by byte. */
#include "lib/buf.h"
#include "lib/collation.h"
#include "lib/util.h"
#include "test.h"

#define U  COLLATION_UNICODE_CASEMAP
#define A  COLLATION_ASCII_CASEMAP
#define O  COLLATION_OCTET
#define NO "\x01" /* no key: the input is not valid for the collation */

static void
test_keys_follow_rfc5051(void)
{
	static const struct {
		enum collation c;
		const char *in, *want;
	} cases[] = {
	        {U, "", ""},
	        {U, "Hello [x]_", "HELLO [X]_"},       /* ASCII: upper case, marks kept */
	        {U, "émile", "E\xcc\x81MILE"},         /* é: titlecase É, NFKD E + U+0301 */
	        {U, "Émile", "E\xcc\x81MILE"},         /* the same key */
	        {U, "E\xcc\x81mile", "E\xcc\x81MILE"}, /* already decomposed */
	        {U, "Straße",
	         "STRA\xc3\x9f"
	         "E"},                 /* ß has no simple titlecase */
	        {U, "ı", "I"},         /* dotless i titlecases to I */
	        {U, "İ", "I\xcc\x87"}, /* dotted I: I + U+0307 */
	        {U, "привет", "\xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2"}, /* ПРИВЕТ */
	        {U, "ǆ", "Dz\xcc\x8c"},       /* titlecase ǅ, then <compat> D ž */
	        {U, "ｍ²", "M2"},             /* fullwidth and superscript: NFKD */
	        {U, "ς", "\xce\xa3"},         /* final sigma: Σ */
	        {U, "\xff", NO},              /* invalid UTF-8 */
	        {U, "\xc0\xaf", NO},          /* overlong "/" */
	        {U, "\xed\xa0\x80", NO},      /* a surrogate */
	        {A, "émile", "\xc3\xa9MILE"}, /* only a-z change */
	        {A, "\xff", "\xff"},          /* any octets */
	        {O, "émile", "émile"},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct buf b;
		buf_init(&b);
		bool ok = collation_key(cases[i].c, cases[i].in, strlen(cases[i].in), &b);
		buf_putc(&b, '\0');
		test_str_eq(i, ok ? b.data : NO, cases[i].want);
		buf_deinit(&b);
	}
}

static void
test_substring_under_each_comparator(void)
{
	static const struct {
		const char *hay, *needle;
		bool u, a, o; /* i;unicode-casemap, i;ascii-casemap, i;octet */
	} cases[] = {
	        {"Émile Zola", "émile", true, false, false},
	        {"Émile Zola", "Émile", true, true, true},
	        {"Émile Zola", "MILE", true, true, false},
	        {"Émile Zola", "emile", false, false, false}, /* the accent counts */
	        {"Straße", "STRASSE", false, false, false},   /* no full case folding */
	        {"Straße", "STRAßE", true, true, false},
	        {"izmir", "IZMIR", true, true, false},
	        {"ızmir", "izmir", true, false, false}, /* ı ~ I ~ i */
	        {"İzmir", "izmir", false, false, false},
	        {"İzmir", "zmir", true, true, true},
	        {"Привет, мир", "ПРИВЕТ", true, false, false},
	        {"Привет, мир", "Привет", true, true, true},
	        {"anything", "", true, true, true},
	        /* invalid UTF-8 on either side: i;octet on the originals (RFC
	           5255 4.6 (c)) */
	        {"caf\xe9 noir", "CAF\xe9", false, true, false},
	        {"caf\xe9 noir", "caf\xe9", true, true, true},
	        {"Émile", "\xff", false, false, false},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const char *h = cases[i].hay, *n = cases[i].needle;
		test_int_eq(i, collation_contains(U, h, strlen(h), n, strlen(n)), cases[i].u);
		test_int_eq(i, collation_contains(A, h, strlen(h), n, strlen(n)), cases[i].a);
		test_int_eq(i, collation_contains(O, h, strlen(h), n, strlen(n)), cases[i].o);
	}
}

static int
cmp_keys(enum collation c, const char *x, const char *y)
{
	struct buf kx, ky;
	int r;

	buf_init(&kx);
	buf_init(&ky);
	collation_sort_key(c, x, strlen(x), &kx);
	collation_sort_key(c, y, strlen(y), &ky);
	r = memcmp(kx.data ? kx.data : "", ky.data ? ky.data : "", MIN(kx.len, ky.len));
	if (r == 0)
		r = kx.len < ky.len ? -1 : kx.len > ky.len;
	buf_deinit(&kx);
	buf_deinit(&ky);
	return r < 0 ? -1 : r > 0;
}

static void
test_ordering_under_each_comparator(void)
{
	static const struct {
		enum collation c;
		const char *x, *y;
		int want; /* sign of x against y */
	} cases[] = {
	        {U, "Emu", "Émile", -1},   /* accented letters right after the base */
	        {U, "Émile", "Zebra", -1}, /* ...so before Z */
	        {A, "Émile", "Zebra", 1},  /* i;ascii-casemap: after all ASCII */
	        {U, "Émile", "émile", 0},
	        {A, "Émile", "émile", -1}, /* C3 89 < C3 A9 */
	        {U, "izmir", "ızmir", 0},
	        {U, "ızmir", "İzmir", -1}, /* IZ < I + U+0307 */
	        {U, "STRASSE", "Straße", -1},
	        {U, "apple", "Zebra", -1}, /* case-insensitive */
	        {O, "apple", "Zebra", 1},  /* octets: "a" > "Z" */
	        {A, "[x]", "a", 1},        /* upper-case mapping: "[" after "A" */
	        {U, "Привет", "привет", 0},
	        {A, "Привет", "привет", -1},
	        /* RFC 5255 4.6's example: strings (4) (2) valid, (3) (1) not;
	           the valid ones first, in i;unicode-casemap order, then the
	           others in i;octet order: (4) (2) (3) (1). */
	        {U, "Алексей", "сЕРГЕЙ", -1},
	        {U, "сЕРГЕЙ", "\xd0\x92\xd0\xb0\xd1\x81\xd0\xb8\xd0\xbb\xd0\xb8\xff\xb9", -1},
	        {U, "\xd0\x92\xd0\xb0\xd1\x81\xd0\xb8\xd0\xbb\xd0\xb8\xff\xb9",
	         "\xd0\xc0\xd0\xbd\xd0\xb4\xd1\x80\xd0\xb5\xd0\xb9", -1},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_int_eq(i, cmp_keys(cases[i].c, cases[i].x, cases[i].y), cases[i].want);
}

static void
test_comparator_selection(void)
{
	static const struct {
		const char *orders[3];
		int rc;
		enum collation active;
		unsigned matched;
		size_t bad;
	} cases[] = {
	        {{"default"}, 1, U, 1u << U, 0},
	        {{"i;octet"}, 1, O, 1u << O, 0},
	        {{"I;ASCII-CASEMAP"}, 1, A, 1u << A, 0}, /* names are case-insensitive */
	        {{"i;*"}, 1, U, 7, 0},                   /* all three: listed */
	        {{"*casemap"}, 1, U, (1u << U) | (1u << A), 0},
	        {{"i;oct*", "i;*"}, 1, O, 7, 0},                 /* the first that matches wins */
	        {{"cz;*", "i;ascii-casemap"}, 1, A, 1u << A, 0}, /* RFC 5255's example */
	        {{"cz;*"}, 0, U, 0, 0},                          /* BADCOMPARATOR */
	        {{"i;basic"}, 0, U, 0, 0},
	        {{"i;octet", "bad name"}, -1, U, 0, 1}, /* space: BAD, even after a match */
	        {{""}, -1, U, 0, 0},
	        {{"i;unicode-casemap*"}, 1, U, 1u << U, 0}, /* "*" may match nothing */
	        {{"**;*t"}, 1, O, 1u << O, 0},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		size_t n = 0, bad = 99;
		enum collation active = U;
		unsigned matched = 99;
		while (n < 3 && cases[i].orders[n] != NULL)
			n++;
		int rc = collation_select(cases[i].orders, n, &active, &matched, &bad);
		test_int_eq(i, rc, cases[i].rc);
		if (rc >= 0) {
			test_int_eq(i, active, cases[i].active);
			test_int_eq(i, matched, cases[i].matched);
		} else {
			test_int_eq(i, bad, cases[i].bad);
		}
	}
}

/* A hostile wildcard over a long name must stay linear-ish: the walk
   restarts at the last "*" only. */
static void
test_wildcard_is_not_exponential(void)
{
	char pat[4001];

	for (size_t i = 0; i < 4000; i++)
		pat[i] = i % 2 ? '*' : 'i';
	pat[4000] = '\0';
	test_int_eq(-1, collation_order_matches(pat, COLLATION_OCTET), 0);
}

int
main(void)
{
	TEST_RUN(test_keys_follow_rfc5051);
	TEST_RUN(test_substring_under_each_comparator);
	TEST_RUN(test_ordering_under_each_comparator);
	TEST_RUN(test_comparator_selection);
	TEST_RUN(test_wildcard_is_not_exponential);
	return TEST_DONE("test_lib_collation");
}
