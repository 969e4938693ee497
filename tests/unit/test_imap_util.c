/* SPDX-License-Identifier: MIT */
/* test_imap_util.c: tests for src/imap/seqset.c, mutf7.c and imap_flags.c. */
#include "imap/imap_esearch.h"
#include "imap/imap_flags.h"
#include "imap/mutf7.h"
#include "imap/seqset.h"
#include "lib/arena.h"
#include "store/store.h"
#include "test.h"

static const char *
resolve(struct arena *a, const char *set, bool is_uid, const uint32_t *uids, uint32_t count)
{
	struct imap_seqset s;
	uint32_t *out;
	size_t n;

	if (!imap_seqset_parse(a, set, &s))
		return "PARSE";
	if (!imap_seqset_resolve(&s, is_uid, uids, count, a, &out, &n))
		return "RANGE";
	return imap_seqset_format(a, out, n);
}

static void
test_seqset(void)
{
	static const uint32_t uids[] = {3, 4, 5, 9, 10, 20};
	static const struct {
		const char *set;
		bool is_uid;
		const char *want;
	} cases[] = {
	        {"1", false, "3"},
	        {"1:*", false, "3:5,9:10,20"},
	        {"*", false, "20"},
	        {"2,4:3", false, "4:5,9"},
	        {"6:4", false, "9:10,20"},
	        {"7", false, "RANGE"},
	        {"1,1,1", false, "3"},
	        {"1:*", true, "3:5,9:10,20"},
	        {"4:9", true, "4:5,9"},
	        {"6:8", true, ""},
	        {"*", true, "20"},
	        {"100:*", true, "20"}, /* '*' is 20: "20:100" */
	        {"21:25", true, ""},
	        {"0", false, "PARSE"},
	        {"01", false, "PARSE"},
	        {"1:", false, "PARSE"},
	        {"1,,2", false, "PARSE"},
	        {"a", false, "PARSE"},
	        {"4294967296", true, "PARSE"},
	        /* 4294967295 is a number, not '*' (ImapTest search-sets) */
	        {"1:4294967295", true, "3:5,9:10,20"},
	        {"21:4294967295", true, ""},
	        {"4294967295", true, ""},
	        {"4294967295:1", true, "3:5,9:10,20"},
	        {"4294967295", false, "RANGE"},
	};
	struct arena *a = arena_new(1024);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_str_eq(i, resolve(a, cases[i].set, cases[i].is_uid, uids, ARRAY_LEN(uids)),
		            cases[i].want);
	test_str_eq(-1, resolve(a, "1:*", true, uids, 0), "");
	test_str_eq(-1, resolve(a, "*", false, uids, 0), "RANGE");
	arena_free(&a);
}

/* PARTIAL's window (RFC 9394 3.1): positive from the start, negative from
   the end, clamped to the result. */
static void
test_partial_slices(void)
{
	static const struct {
		int32_t lo, hi;
		size_t n, first, len;
	} cases[] = {
	        {1, 1, 5, 0, 1},          {2, 4, 5, 1, 3},     {1, 6, 5, 0, 5},   {6, 6, 5, 0, 0},
	        {-1, -1, 5, 4, 1},        {-100, -1, 5, 0, 5}, {-3, -2, 5, 2, 2}, {-9, -6, 5, 0, 0},
	        {1, 2147483647, 3, 0, 3}, {1, 10, 0, 0, 0},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		size_t first, len;
		imap_esearch_partial(cases[i].lo, cases[i].hi, cases[i].n, &first, &len);
		test_int_eq(i, len, cases[i].len);
		if (len > 0)
			test_int_eq(i, first, cases[i].first);
	}
}

/* Membership for numbers a snapshot need not hold (QRESYNC VANISHED). */
static void
test_seqset_filter(void)
{
	static const struct {
		const char *set;
		const char *want;
	} cases[] = {
	        {"1:*", "2:3,7,40:41"}, /* '*' is 41 */
	        {"3,40:*,1:2", "2:3,40:41"}, {"5:6,8:39", ""}, {"7,7:7,6:8", "7"},
	        {"41:40", "40:41"},          {"*", "41"},      {"1:3,3:7", "2:3,7"},
	};
	struct arena *a = arena_new(1024);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint32_t v[] = {2, 3, 7, 40, 41};
		struct imap_seqset s;
		test_assert(i, imap_seqset_parse(a, cases[i].set, &s));
		size_t n = imap_seqset_filter(&s, 41, a, v, ARRAY_LEN(v));
		test_str_eq(i, imap_seqset_format(a, v, n), cases[i].want);
	}
	struct imap_seqset s;
	test_assert(-1, imap_seqset_parse(a, "1:4,9", &s) && !imap_seqset_has_star(&s));
	test_assert(-1, imap_seqset_parse(a, "1,4:*", &s) && imap_seqset_has_star(&s));
	arena_free(&a);
}

static void
test_mutf7_round_trip(void)
{
	static const struct {
		const char *utf8, *mutf7;
	} cases[] = {
	        {"INBOX", "INBOX"},
	        {"a&b", "a&-b"},
	        {"Entwürfe", "Entw&APw-rfe"},
	        {"日本語", "&ZeVnLIqe-"},
	        {"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
	        {"\xf0\x9f\x98\x80", "&2D3eAA-"}, /* U+1F600, a surrogate pair */
	        {"\xc2\xa0", "&AKA-"},            /* U+00A0, just past the C1 controls */
	        {"", ""},
	};
	struct arena *a = arena_new(1024);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		test_str_eq(i, imap_mutf7_encode(a, cases[i].utf8), cases[i].mutf7);
		test_str_eq(i, imap_mutf7_decode(a, cases[i].mutf7), cases[i].utf8);
	}
	arena_free(&a);
}

static void
test_mutf7_rejects_non_canonical(void)
{
	static const char *const bad[] = {
	        "&",          /* unterminated */
	        "&AGE-",      /* encodes ASCII 'a' */
	        "&-&AOQ",     /* unterminated shift */
	        "&AOQ-&APw-", /* two adjacent shifts must be one */
	        "&Jjo!-",     /* bad base64 */
	        "&2D0-",      /* lone high surrogate */
	        "\xc3\xa4",   /* 8-bit in a modified UTF-7 name */
	        /* Control characters: a NUL would alias "zz&AAA-x" to "zz". */
	        "zz&AAA-def",
	        "&AAE-",
	        "a&AB8-",
	        "&AH8-",
	        "&AIU-",
	        "&AJ8-",
	        "&AAAAYQ-",
	};
	struct arena *a = arena_new(1024);

	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		test_assert(i, imap_mutf7_decode(a, bad[i]) == NULL);
	test_assert(-1, imap_mutf7_encode(a, "\xff") == NULL);
	arena_free(&a);
}

static void
test_dates(void)
{
	static const struct {
		const char *in;
		int64_t want; /* -1: invalid */
	} cases[] = {
	        {"25-Nov-2026 10:00:00 +0000", 1795600800},
	        {" 5-Nov-2026 10:00:00 +0100", 1793869200},
	        {"05-Nov-2026 10:00:00 -0130", 1793878200},
	        {"29-Feb-2024 00:00:00 +0000", 1709164800},
	        {"29-Feb-2023 00:00:00 +0000", -1},
	        {"25-Nox-2026 10:00:00 +0000", -1},
	        {"25-Nov-2026 24:00:00 +0000", -1},
	        {"25-Nov-2026 10:00:00", -1},
	        {"25-Nov-2026 10:00:00 +0000x", -1},
	        /* zones far from UTC, and days that change in UTC */
	        {"01-Mar-2023 23:30:00 -0800", 1677742200},
	        {"02-Mar-2023 09:00:00 +1400", 1677697200},
	        {"02-Mar-2023 05:00:00 +0530", 1677713400},
	        {"01-Mar-2023 13:00:00 -1200", 1677718800},
	        {"31-Dec-2022 23:59:59 -1200", 1672574399}, /* 2023 in UTC */
	        {" 1-Jan-2023 00:00:00 +1400", 1672480800}, /* still 2022 in UTC */
	        {"01-Mar-2023 00:00:00 +9959", 1677268860},
	        /* date-time is strict (RFC 9051 section 9) */
	        {"01-Mar-2023 00:00:00 +0860", -1},
	        {"01-Mar-2023 00:00:00 +-800", -1},
	        {"01-Mar-2023 00:00:00 -+800", -1},
	        {"01-Mar-2023 00:00:00 + 800", -1},
	        {"01-Mar-2023 00:00:00 +800", -1},
	        {"01-Mar-2023 00:00:00 +08000", -1},
	        {"01-Mar-2023 00:00:00 0800", -1},
	        {"+1-Mar-2023 00:00:00 +0000", -1},
	        {"01-Mar-2023 -1:00:00 +0000", -1},
	        {"01-Mar-2023 1:00:00 +0000", -1},
	        {"01-Mar-2023 00:00:00  +0000", -1},
	        {"1-Mar-2023 00:00:00 +0000", -1}, /* day-fixed: " 1" or "01" */
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		int64_t t = -1;
		bool ok = imap_date_time_parse(cases[i].in, &t);
		test_int_eq(i, ok ? t : -1, cases[i].want);
	}
	int64_t d;
	test_assert(-1, imap_date_parse("1-Feb-1994", &d) && d == 760060800);
	test_assert(-1, !imap_date_parse("1-Feb-94", &d));
	test_assert(-1, imap_date_parse("01-feb-1994", &d) && d == 760060800);
	test_assert(-1, imap_date_parse("28-Feb-1994", &d) && d == 760060800 + 27 * 86400);
	test_assert(-1, !imap_date_parse("+1-Feb-1994", &d));
	test_assert(-1, !imap_date_parse(" 1-Feb-1994", &d));
	test_assert(-1, !imap_date_parse("1-Feb-+994", &d));
	test_assert(-1, !imap_date_parse("1-Feb-1994 ", &d));
	test_assert(-1, !imap_date_parse("001-Feb-1994", &d));
	test_assert(-1, !imap_date_parse("1-Feb", &d));
	test_assert(-1, !imap_date_parse("", &d));
	struct arena *a = arena_new(256);
	test_str_eq(-1, imap_date_time_format(a, 1795600800), "25-Nov-2026 10:00:00 +0000");
	/* every zone above comes back as the same instant in UTC */
	test_str_eq(-1, imap_date_time_format(a, 1677742200), "02-Mar-2023 07:30:00 +0000");
	test_str_eq(-1, imap_date_time_format(a, 1677697200), "01-Mar-2023 19:00:00 +0000");
	test_str_eq(-1, imap_date_time_format(a, 1672480800), "31-Dec-2022 10:00:00 +0000");
	test_str_eq(-1, imap_date_time_format(a, 0), "01-Jan-1970 00:00:00 +0000");
	arena_free(&a);
}

static void
test_flag_lists(void)
{
	struct arena *a = arena_new(1024);
	struct imap_parser_limits lim = {.max_line = 1000, .max_literal = 1000, .max_depth = 8};
	struct imap_parser *p = imap_parser_new(&lim);
	static const struct {
		const char *line, *err;
		uint32_t flags;
		size_t nkw;
	} cases[] = {
	        {"t X (\\Seen \\dRaFt $Label work)\r\n", NULL, STORE_FLAG_SEEN | STORE_FLAG_DRAFT,
	         2},
	        {"t X ()\r\n", NULL, 0, 0},
	        {"t X \\Flagged\r\n", NULL, STORE_FLAG_FLAGGED, 0},
	        {"t X ($a $A)\r\n", NULL, 0, 1},
	        {"t X (\\Recent)\r\n", "\\Recent cannot be set", 0, 0},
	        {"t X (\\Bogus)\r\n", "Unknown system flag", 0, 0},
	        {"t X (\"quoted\")\r\n", "Flags must be atoms", 0, 0},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct imap_command cmd;
		const char *err = NULL;
		bool toobig;
		size_t used;
		test_int_eq(i,
		            imap_parser_feed(p, a, cases[i].line, strlen(cases[i].line), &used,
		                             &cmd, &err, &toobig),
		            IMAP_PARSE_DONE);
		struct imap_flag_list fl;
		bool ok = imap_flag_list_parse(a, &cmd.args[0], &fl, &err);
		test_int_eq(i, ok, cases[i].err == NULL);
		if (ok) {
			test_int_eq(i, fl.flags, cases[i].flags);
			test_int_eq(i, fl.n_keywords, cases[i].nkw);
		} else {
			test_str_eq(i, err, cases[i].err);
		}
	}
	imap_parser_free(&p);
	arena_free(&a);
}

int
main(void)
{
	TEST_RUN(test_seqset);
	TEST_RUN(test_seqset_filter);
	TEST_RUN(test_partial_slices);
	TEST_RUN(test_mutf7_round_trip);
	TEST_RUN(test_mutf7_rejects_non_canonical);
	TEST_RUN(test_dates);
	TEST_RUN(test_flag_lists);
	return TEST_DONE("test_imap_util");
}
