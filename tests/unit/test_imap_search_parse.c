/* SPDX-License-Identifier: MIT */
/* test_imap_search_parse.c: tests for src/imap/search_parse.c. Each row is
   a SEARCH argument string, run through the command parser first, and the
   tree dump (or the error) it must give. */
#include <string.h>

#include "imap/parser.h"
#include "imap/search_parse.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "test.h"

static const struct imap_parser_limits limits = {
        .max_line = 8192, .max_literal = 1024, .max_depth = 32};

/* The filters of the FILTER rows (RFC 5466): name -> value. */
static const struct {
	const char *name, *value;
} test_filters[] = {
        {"on-the-road", "OR SMALLER 5000 FROM \"boss@example.com\""},
        {"nested", "FILTER on-the-road SEEN"},
        {"deep3", "FILTER deep2"},
        {"deep2", "FILTER deep1"},
        {"deep1", "FILTER on-the-road"},
        {"loop", "FILTER loop"},
        {"half", "OR SMALLER"},
        {"utf8", "SUBJECT \"\xc3\xa9t\xc3\xa9\""},
};

static bool
resolve(void *ctx, struct arena *a, const char *name, const struct imap_arg **args_out,
        size_t *nargs_out)
{
	(void)ctx;
	for (size_t i = 0; i < sizeof(test_filters) / sizeof(test_filters[0]); i++) {
		if (strcmp(test_filters[i].name, name) != 0)
			continue;
		struct imap_parser *p = imap_parser_new(&limits);
		char *line = arena_printf(a, "f FILTER %s\r\n", test_filters[i].value);
		struct imap_command cmd;
		const char *err;
		bool toobig;
		size_t used;
		bool ok = imap_parser_feed(p, a, line, strlen(line), &used, &cmd, &err, &toobig) ==
		          IMAP_PARSE_DONE;
		imap_parser_free(&p);
		*args_out = cmd.args;
		*nargs_out = cmd.nargs;
		return ok;
	}
	return false;
}

static const struct imap_search_filters filters = {.resolve = resolve};

/* "t SEARCH <args>\r\n" -> "ret=<bits> cs=<charset> <dump>" or "BAD: msg"/"BADCHARSET". */
static char *
run(struct arena *a, const char *args, bool allow_return)
{
	struct imap_parser *p = imap_parser_new(&limits);
	char *line = arena_printf(a, "t SEARCH %s\r\n", args);
	struct imap_command cmd;
	const char *err;
	bool toobig;
	size_t used;
	char *out;

	if (imap_parser_feed(p, a, line, strlen(line), &used, &cmd, &err, &toobig) !=
	    IMAP_PARSE_DONE) {
		imap_parser_free(&p);
		return arena_strdup(a, "PARSER-ERROR");
	}
	imap_parser_free(&p);
	struct imap_search_program prog;
	enum imap_search_status st =
	        imap_search_parse(a, cmd.args, cmd.nargs, allow_return, &filters, &prog, &err);
	if (st == IMAP_SEARCH_BAD)
		return arena_printf(a, "BAD: %s", err);
	if (st == IMAP_SEARCH_UNDEFINED_FILTER)
		return arena_printf(a, "UNDEFINED-FILTER %s", err);
	if (st == IMAP_SEARCH_BADCHARSET)
		return arena_strdup(a, "BADCHARSET");
	struct buf b;
	buf_init(&b);
	if (prog.has_return)
		buf_printf(&b, "ret=%u ", prog.ret);
	if (prog.ret & IMAP_SEARCH_RET_PARTIAL)
		buf_printf(&b, "partial=%d:%d ", prog.partial_lo, prog.partial_hi);
	if (prog.charset != NULL)
		buf_printf(&b, "cs=%s ", prog.charset);
	if (prog.has_modseq)
		buf_puts(&b, "modseq ");
	if (prog.uses_saved)
		buf_puts(&b, "saved ");
	imap_search_dump(&b, prog.root);
	out = arena_strdup(a, b.data);
	buf_deinit(&b);
	return out;
}

/* RFC 5466 3.1: substitution, three passes, loops, incomplete filters,
   and the charset rule. */
static void
test_filter_keys(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	        {"UID 300:900 FILTER on-the-road SINCE \"3-Dec-2002\"",
	         "(AND (UID 300:900) (OR (SMALLER 5000) (FROM \"boss@example.com\"))"
	         " (SINCE 2002-12-03))"},
	        {"filter NESTED", "UNDEFINED-FILTER NESTED"}, /* names are exact here */
	        {"FILTER nested", "(AND (OR (SMALLER 5000) (FROM \"boss@example.com\")) SEEN)"},
	        {"FILTER deep1", "(OR (SMALLER 5000) (FROM \"boss@example.com\"))"},
	        {"FILTER deep2", "(OR (SMALLER 5000) (FROM \"boss@example.com\"))"},
	        {"FILTER deep3", "UNDEFINED-FILTER deep3"}, /* a fourth pass */
	        {"FILTER loop", "UNDEFINED-FILTER loop"},
	        {"FILTER half", "UNDEFINED-FILTER half"},
	        {"FILTER nosuch", "UNDEFINED-FILTER nosuch"},
	        {"NOT FILTER on-the-road", "(NOT (OR (SMALLER 5000) (FROM \"boss@example.com\")))"},
	        {"SUBJECT FILTER", "(SUBJECT \"FILTER\")"}, /* a string, not a key */
	        {"FILTER", "BAD: Search key needs an atom"},
	        {"FILTER a/b", "BAD: FILTER needs a filter name"},
	        {"CHARSET UTF-8 FILTER utf8", "cs=UTF-8 (SUBJECT \"\xc3\xa9t\xc3\xa9\")"},
	        {"CHARSET ISO-8859-1 FILTER utf8",
	         "BAD: [BADCHARSET (UTF-8 US-ASCII)] FILTER implies CHARSET UTF-8"},
	};
	struct arena *a = arena_new(4096);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test_str_eq(i, run(a, cases[i].in, true), cases[i].want);
	arena_free(&a);
}

static void
test_keys(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	        {"ALL", "ALL"},
	        {"all", "ALL"},
	        {"SEEN UNSEEN", "(AND SEEN UNSEEN)"},
	        {"ANSWERED DELETED DRAFT FLAGGED", "(AND ANSWERED DELETED DRAFT FLAGGED)"},
	        {"UNANSWERED UNDELETED UNDRAFT UNFLAGGED",
	         "(AND UNANSWERED UNDELETED UNDRAFT UNFLAGGED)"},
	        {"1:3,5", "(SEQ 1:3,5)"},
	        {"*", "(SEQ *)"},
	        {"4:*", "(SEQ 4:*)"},
	        {"UID 10:20", "(UID 10:20)"},
	        {"$", "saved (SEQ $)"},
	        {"UID $", "saved (UID $)"},
	        {"KEYWORD $Junk", "(KEYWORD $Junk)"},
	        {"UNKEYWORD foo", "(UNKEYWORD foo)"},
	        {"RECENT", "RECENT"},
	        {"NEW", "(AND RECENT UNSEEN)"},
	        {"OLD", "(NOT RECENT)"},
	        {"BODY hello", "(BODY \"hello\")"},
	        {"TEXT \"two words\"", "(TEXT \"two words\")"},
	        {"SUBJECT {3+}\r\nabc", "(SUBJECT \"abc\")"},
	        {"FROM a TO b CC c", "(AND (FROM \"a\") (TO \"b\") (CC \"c\"))"},
	        {"BCC x", "(HEADER \"Bcc\" \"x\")"},
	        {"HEADER X-Spam \"\"", "(HEADER \"X-Spam\" \"\")"},
	        {"HEADER Message-ID <a@b>", "(HEADER \"Message-ID\" \"<a@b>\")"},
	        {"BEFORE 1-Feb-1994", "(BEFORE 1994-02-01)"},
	        {"ON \"01-Feb-1994\"", "(ON 1994-02-01)"},
	        {"SINCE 29-Feb-2024", "(SINCE 2024-02-29)"},
	        {"SENTBEFORE 1-Jan-2000 SENTON 2-Jan-2000 SENTSINCE 3-Jan-2000",
	         "(AND (SENTBEFORE 2000-01-01) (SENTON 2000-01-02) (SENTSINCE 2000-01-03))"},
	        {"SAVEDBEFORE 1-Jan-2000 SAVEDON 2-Jan-2000 SAVEDSINCE 3-Jan-2000",
	         "(AND (SAVEDBEFORE 2000-01-01) (SAVEDON 2000-01-02) (SAVEDSINCE 2000-01-03))"},
	        {"SAVEDATESUPPORTED", "SAVEDATESUPPORTED"},
	        {"LARGER 100 SMALLER 9000000000", "(AND (LARGER 100) (SMALLER 9000000000))"},
	        {"OLDER 60 YOUNGER 3600", "(AND (OLDER 60) (YOUNGER 3600))"},
	        {"MODSEQ 5", "modseq (MODSEQ 5)"},
	        {"MODSEQ \"/flags/\\\\draft\" all 620162338",
	         "modseq (MODSEQ \"/flags/\\\\draft\" all 620162338)"},
	        {"EMAILID M1_2 THREADID T1_3", "(AND (EMAILID M1_2) (THREADID T1_3))"},
	        {"NOT SEEN", "(NOT SEEN)"},
	        {"OR SEEN FLAGGED", "(OR SEEN FLAGGED)"},
	        {"OR (SEEN DRAFT) NOT 1", "(OR (AND SEEN DRAFT) (NOT (SEQ 1)))"},
	        {"(SEEN)", "SEEN"},
	        {"OR OR 1 2 3", "(OR (OR (SEQ 1) (SEQ 2)) (SEQ 3))"},
	        {"((FLAGGED))", "FLAGGED"},
	        /* RFC 6203 section 3 */
	        {"FUZZY (SUBJECT \"IMAP break\")", "(FUZZY (SUBJECT \"IMAP break\"))"},
	        {"FUZZY SUBJECT work FROM user@example.com",
	         "(AND (FUZZY (SUBJECT \"work\")) (FROM \"user@example.com\"))"},
	        {"fuzzy NOT FUZZY SEEN", "(FUZZY (NOT (FUZZY SEEN)))"},
	        {"OR FUZZY BODY x FLAGGED", "(OR (FUZZY (BODY \"x\")) FLAGGED)"},
	};
	struct arena *a = arena_new(4096);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_str_eq(i, run(a, cases[i].in, true), cases[i].want);
	arena_free(&a);
}

static void
test_return_and_charset(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	        {"RETURN (MIN MAX) ALL", "ret=3 ALL"},
	        {"RETURN () ALL", "ret=4 ALL"},
	        {"RETURN (COUNT SAVE) ALL", "ret=24 ALL"},
	        {"return (all) ALL", "ret=4 ALL"},
	        {"CHARSET UTF-8 BODY x", "cs=UTF-8 (BODY \"x\")"},
	        {"CHARSET \"us-ascii\" SEEN", "cs=us-ascii SEEN"},
	        {"RETURN (MIN) CHARSET UTF-8 SEEN", "ret=1 cs=UTF-8 SEEN"},
	        /* ISO-8859-1 "caf\xe9" as UTF-8 */
	        {"CHARSET ISO-8859-1 BODY {4+}\r\ncaf\xe9", "cs=ISO-8859-1 (BODY \"caf\xc3\xa9\")"},
	        {"CHARSET X-UNKNOWN-CS BODY x", "BADCHARSET"},
	        {"CHARSET X-UNKNOWN-CS SEEN", "BADCHARSET"},
	        {"RETURN (BOGUS) ALL", "BAD: Unknown RETURN option"},
	        {"RETURN ALL", "BAD: RETURN needs a list of options"},
	        {"RETURN (MIN)", "BAD: Missing search key"},
	        {"CHARSET", "BAD: CHARSET needs a name"},
	        /* RFC 5267 and RFC 9394 options */
	        {"RETURN (PARTIAL 1:5) ALL", "ret=32 partial=1:5 ALL"},
	        {"RETURN (partial 10:2 COUNT) ALL", "ret=40 partial=2:10 ALL"},
	        {"RETURN (PARTIAL -1:-100) ALL", "ret=32 partial=-100:-1 ALL"},
	        {"RETURN (UPDATE CONTEXT) ALL", "ret=192 ALL"},
	        {"RETURN (PARTIAL 1) ALL", "BAD: PARTIAL needs a range like 1:100 or -1:-100"},
	        {"RETURN (PARTIAL 1:*) ALL", "BAD: PARTIAL needs a range like 1:100 or -1:-100"},
	        {"RETURN (PARTIAL *:1) ALL", "BAD: PARTIAL needs a range like 1:100 or -1:-100"},
	        {"RETURN (PARTIAL 0:3) ALL", "BAD: PARTIAL needs a range like 1:100 or -1:-100"},
	        {"RETURN (PARTIAL -1:3) ALL", "BAD: PARTIAL needs a range like 1:100 or -1:-100"},
	        {"RETURN (PARTIAL 1:3 ALL) ALL", "BAD: RETURN may not have both PARTIAL and ALL"},
	        {"RETURN (MIN MIN) ALL", "BAD: RETURN option given twice"},
	        /* RFC 6203 section 4 */
	        {"RETURN (RELEVANCY ALL) FUZZY TEXT \"Helo\"", "ret=260 (FUZZY (TEXT \"Helo\"))"},
	        {"RETURN (RELEVANCY) NOT FUZZY SEEN", "ret=256 (NOT (FUZZY SEEN))"},
	        {"RETURN (RELEVANCY) TEXT \"Helo\"", "BAD: RELEVANCY needs a FUZZY search key"},
	        {"RETURN (RELEVANCY RELEVANCY) FUZZY ALL", "BAD: RETURN option given twice"},
	};
	struct arena *a = arena_new(4096);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_str_eq(i, run(a, cases[i].in, true), cases[i].want);
	/* SORT and THREAD have no RETURN: it is an unknown key there. */
	test_str_eq(-1, run(a, "RETURN (MIN) ALL", false), "BAD: Unknown search key");
	arena_free(&a);
}

static void
test_errors(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	        {"FOO", "BAD: Unknown search key"},
	        {"0", "BAD: Unknown search key"},
	        {"1:0x", "BAD: Unknown search key"},
	        {"\"SEEN\"", "BAD: Search key must be an atom"},
	        {"()", "BAD: Empty search key list"},
	        {"NOT", "BAD: NOT needs a search key"},
	        {"OR SEEN", "BAD: OR needs two search keys"},
	        {"UID", "BAD: UID needs a sequence set"},
	        {"UID x", "BAD: UID needs a sequence set"},
	        {"BODY", "BAD: Search key needs a string"},
	        {"BODY (x)", "BAD: Search key needs a string"},
	        {"BODY \"\xff\"", "BAD: Search string is not valid UTF-8"},
	        {"KEYWORD", "BAD: Search key needs a keyword"},
	        {"KEYWORD \\Seen", "BAD: Search key needs a keyword"},
	        {"HEADER", "BAD: HEADER needs a field name"},
	        {"HEADER \"a:b\" x", "BAD: HEADER needs a field name"},
	        {"HEADER Subject", "BAD: Search key needs a string"},
	        {"BEFORE 32-Jan-2024", "BAD: Invalid date (expected e.g. 1-Feb-1994)"},
	        {"BEFORE 1-Foo-2024", "BAD: Invalid date (expected e.g. 1-Feb-1994)"},
	        {"SINCE 29-Feb-2023", "BAD: Invalid date (expected e.g. 1-Feb-1994)"},
	        {"LARGER -1", "BAD: Search key needs a number"},
	        {"LARGER 99999999999999999999", "BAD: Search key needs a number"},
	        {"OLDER 0", "BAD: Search key needs a number"},
	        {"YOUNGER 4294967296", "BAD: Search key needs a number"},
	        {"MODSEQ", "BAD: Search key needs a number"},
	        {"MODSEQ \"/flags/x\" bogus 5",
	         "BAD: MODSEQ entry type must be priv, shared or all"},
	        {"MODSEQ \"x\" all 5", "BAD: MODSEQ entry name must be \"/flags/<flag>\""},
	        {"EMAILID a.b", "BAD: Invalid object id"},
	        {"THREADID", "BAD: Search key needs an atom"},
	        {"FUZZY", "BAD: FUZZY needs a search key"},
	        {"FUZZY ()", "BAD: Empty search key list"},
	        {"FUZZY BOGUS", "BAD: Unknown search key"},
	        {"(FUZZY)", "BAD: FUZZY needs a search key"},
	};
	struct arena *a = arena_new(4096);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_str_eq(i, run(a, cases[i].in, true), cases[i].want);
	arena_free(&a);
}

static void
test_depth_is_bounded(void)
{
	struct arena *a = arena_new(4096);
	struct buf b;

	buf_init(&b);
	for (int i = 0; i < IMAP_SEARCH_MAX_DEPTH; i++)
		buf_puts(&b, "NOT ");
	buf_puts(&b, "ALL");
	test_str_eq(0, run(a, b.data, true), "BAD: Search program nested too deeply");
	buf_reset(&b);
	for (int i = 0; i < IMAP_SEARCH_MAX_DEPTH - 1; i++)
		buf_puts(&b, "NOT ");
	buf_puts(&b, "ALL");
	const char *r = run(a, b.data, true);
	test_assert(1, strncmp(r, "(NOT (NOT", 9) == 0);
	buf_deinit(&b);
	arena_free(&a);
}

int
main(void)
{
	TEST_RUN(test_keys);
	TEST_RUN(test_filter_keys);
	TEST_RUN(test_return_and_charset);
	TEST_RUN(test_errors);
	TEST_RUN(test_depth_is_bounded);
	return TEST_DONE("test_imap_search_parse");
}
