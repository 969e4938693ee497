/* SPDX-License-Identifier: MIT */
/* test_imap_annotate_parse.c: tests for src/imap/imap_annotate_parse.c (RFC
   5257 section 7 and the FETCH ANNOTATION writer), fed through the real
   IMAP parser. */
#include <string.h>

#include "imap/imap_annotate.h"
#include "imap/parser.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "store/store.h"
#include "test.h"

static bool
parse(struct arena *a, const char *args, struct imap_command *cmd)
{
	struct imap_parser_limits lim = {.max_line = 4096, .max_literal = 4096, .max_depth = 8};
	struct imap_parser *p = imap_parser_new(&lim);
	char *line = arena_printf(a, "t CMD %s\r\n", args);
	const char *error;
	size_t used;
	bool toobig;
	bool ok = imap_parser_feed(p, a, line, strlen(line), &used, cmd, &error, &toobig) ==
	          IMAP_PARSE_DONE;
	imap_parser_free(&p);
	return ok;
}

static void
test_entry_names(void)
{
	static const struct {
		const char *in;
		bool is_match;
		const char *want; /* NULL: refused */
	} cases[] = {
	        {"/comment", false, "/comment"},
	        {"/AltSubject", false, "/altsubject"},
	        {"/1.2/comment", false, "/1.2/comment"},
	        {"/vendor/example.org/x", false, "/vendor/example.org/x"},
	        {"/with space", false, "/with space"},
	        {"/", false, "/"},
	        {"", false, NULL},
	        {"comment", false, NULL},
	        {"/comment/", false, NULL},
	        {"/a//b", false, NULL},
	        {"/a*", false, NULL},
	        {"/a%", false, NULL},
	        {"/\x19", false, NULL},
	        {"/\x7f", false, NULL},
	        {"/\xc3\xa9", false, NULL},
	        {"*", true, "*"},
	        {"%", true, "%"},
	        {"/%/comment", true, "/%/comment"},
	        {"/vendor/*", true, "/vendor/*"},
	        {"/*/", true, "/*/"},
	        {"comment*", true, NULL},
	        {"/a//*", true, NULL},
	};
	struct arena *a = arena_new(4096);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = imap_annotate_entry_check(a, cases[i].in, strlen(cases[i].in),
		                                            cases[i].is_match);
		test_str_eq(i, got ? got : "(null)", cases[i].want ? cases[i].want : "(null)");
	}
	char *long_name = arena_alloc(a, IMAP_ANNOTATE_ENTRY_MAX + 2);
	memset(long_name, 'x', IMAP_ANNOTATE_ENTRY_MAX + 1);
	long_name[0] = '/';
	long_name[IMAP_ANNOTATE_ENTRY_MAX + 1] = '\0';
	test_assert(-1, imap_annotate_entry_check(a, long_name, IMAP_ANNOTATE_ENTRY_MAX + 1,
	                                          false) == NULL);
	test_assert(-1, imap_annotate_entry_check(a, long_name, IMAP_ANNOTATE_ENTRY_MAX, false) !=
	                        NULL);
	arena_free(&a);
}

static void
test_settable_entries(void)
{
	static const struct {
		const char *entry;
		bool want;
	} cases[] = {
	        {"/comment", true},
	        {"/altsubject", true},
	        {"/vendor/example.org", true},
	        {"/vendor/example.org/deeper", true},
	        {"/1/comment", true},
	        {"/1.2.3/comment", true},
	        {"/1.2/vendor/x", true},
	        {"/", false},
	        {"/1", false},
	        {"/1.2", false},
	        {"/flags", false},
	        {"/flags/seen", false},
	        {"/1/flags/seen", false},
	        {"/1/altsubject", false},
	        {"/vendor", false},
	        {"/vendor/", false},
	        {"/0/comment", false},
	        {"/1./comment", false},
	        {"/1..2/comment", false},
	        {"/comment/x", false},
	        {"/other", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test_int_eq(i, imap_annotate_entry_is_settable(cases[i].entry), cases[i].want);
}

static void
test_attributes(void)
{
	unsigned bits = 0;

	test_assert(-1, imap_annotate_attr_parse("VALUE", &bits) &&
	                        bits == (IMAP_ANNOTATE_VALUE_PRIV | IMAP_ANNOTATE_VALUE_SHARED));
	test_assert(-1, imap_annotate_attr_parse("value.priv", &bits) &&
	                        bits == IMAP_ANNOTATE_VALUE_PRIV);
	test_assert(-1, imap_annotate_attr_parse("Size.Shared", &bits) &&
	                        bits == IMAP_ANNOTATE_SIZE_SHARED);
	test_assert(-1, imap_annotate_attr_parse("size", &bits) &&
	                        bits == (IMAP_ANNOTATE_SIZE_PRIV | IMAP_ANNOTATE_SIZE_SHARED));
	test_assert(-1, !imap_annotate_attr_parse("value.*", &bits));
	test_assert(-1, !imap_annotate_attr_parse("value.", &bits));
	test_assert(-1, !imap_annotate_attr_parse("", &bits));
}

/* FETCH's ANNOTATION argument written back for one message holding
   /comment (priv "mine", shared "all") and /vendor/x/y (shared "v"). */
static const char *
fetch(struct arena *a, const char *arg)
{
	static const struct store_annotation stored[] = {
	        {1, "/comment", false, (const unsigned char *)"mine", 4},
	        {1, "/comment", true, (const unsigned char *)"all", 3},
	        {1, "/vendor/x/y", true, (const unsigned char *)"v\r\n", 3},
	};
	struct imap_command cmd;
	struct imap_annotate_fetch req;
	const char *error;

	if (!parse(a, arg, &cmd) || cmd.nargs != 1)
		return "SYNTAX";
	if (!imap_annotate_fetch_parse(a, &cmd.args[0], &req, &error))
		return "BAD";
	struct buf b;
	buf_init(&b);
	imap_annotate_fetch_append(a, &b, &req, stored, 3);
	const char *out = arena_strndup(a, b.data, b.len);
	buf_deinit(&b);
	return out;
}

static void
test_fetch(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	        /* RFC 5257 section 4.2's forms */
	        {"(/comment value.priv)", "ANNOTATION (/comment (value.priv \"mine\"))"},
	        {"(/comment value)",
	         "ANNOTATION (/comment (value.priv \"mine\" value.shared \"all\"))"},
	        {"(/comment (value.shared size.shared))",
	         "ANNOTATION (/comment (value.shared \"all\" size.shared \"3\"))"},
	        {"(/Comment size)", "ANNOTATION (/comment (size.priv \"4\" size.shared \"3\"))"},
	        /* Named entries without values: NIL, size "0". */
	        {"(/altsubject (value size.priv))",
	         "ANNOTATION (/altsubject (value.priv NIL value.shared NIL size.priv \"0\"))"},
	        {"((/altsubject /comment /altsubject) value.priv)",
	         "ANNOTATION (/comment (value.priv \"mine\") /altsubject (value.priv NIL))"},
	        /* Wildcards: existing values only; CR/LF makes a literal. */
	        {"(* value.shared)", "ANNOTATION (/comment (value.shared \"all\")"
	                             " /vendor/x/y (value.shared {3}\r\nv\r\n))"},
	        {"(% value)", "ANNOTATION ()"},
	        {"(/% value.priv)", "ANNOTATION (/comment (value.priv \"mine\"))"},
	        {"(/vendor/% value.shared)", "ANNOTATION ()"},
	        {"(/vendor/*/y value.priv)", "ANNOTATION ()"},
	        {"((* /comment) value.priv)", "ANNOTATION (/comment (value.priv \"mine\"))"},
	        /* Errors */
	        {"(/comment)", "BAD"},
	        {"(/comment bogus)", "BAD"},
	        {"(/comment ())", "BAD"},
	        {"(() value)", "BAD"},
	        {"(comment value)", "BAD"},
	        {"(/comment value extra)", "BAD"},
	        {"/comment", "BAD"},
	        {"((/comment (x)) value)", "BAD"},
	};
	struct arena *a = arena_new(4096);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test_str_eq(i, fetch(a, cases[i].in), cases[i].want);
	arena_free(&a);
}

/* STORE's att-annotate as "entry/priv|shared=value;..." or "BAD". */
static const char *
store(struct arena *a, const char *arg)
{
	struct imap_command cmd;
	struct store_annotation *v;
	const char *error;
	size_t n;

	if (!parse(a, arg, &cmd) || cmd.nargs != 1)
		return "SYNTAX";
	if (!imap_annotate_store_parse(a, &cmd.args[0], &v, &n, &error))
		return "BAD";
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s/%s=%s;", v[i].entry, v[i].is_shared ? "shared" : "priv",
		           v[i].value ? (const char *)v[i].value : "NIL");
	const char *out = arena_strndup(a, b.data ? b.data : "", b.len);
	buf_deinit(&b);
	return out;
}

static void
test_store(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	        {"(/comment (value.priv \"My new comment\"))", "/comment/priv=My new comment;"},
	        {"(/comment (value.shared NIL))", "/comment/shared=NIL;"},
	        {"(/comment (value.priv \"a\" value.shared \"b\") /AltSubject (VALUE.SHARED c))",
	         "/comment/priv=a;/comment/shared=b;/altsubject/shared=c;"},
	        {"(/comment (value.priv {3+}\r\nx\ny))", "/comment/priv=x\ny;"},
	        {"(/comment (value.priv \"\"))", "/comment/priv=;"},
	        {"(/comment (size.priv \"1\"))", "BAD"},
	        {"(/comment (value \"1\"))", "BAD"},
	        {"(/comment (value.priv))", "BAD"},
	        {"(/comment (value.priv \"a\" value.priv \"b\"))", "BAD"},
	        {"(/comment (value.priv (a)))", "BAD"},
	        {"(/comment ())", "BAD"},
	        {"(/comment)", "BAD"},
	        {"()", "BAD"},
	        {"(/co*ment (value.priv a))", "BAD"},
	        {"(comment (value.priv a))", "BAD"},
	        {"((/comment) (value.priv a))", "BAD"},
	        {"/comment", "BAD"},
	};
	struct arena *a = arena_new(4096);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test_str_eq(i, store(a, cases[i].in), cases[i].want);
	arena_free(&a);
}

int
main(void)
{
	TEST_RUN(test_entry_names);
	TEST_RUN(test_settable_entries);
	TEST_RUN(test_attributes);
	TEST_RUN(test_fetch);
	TEST_RUN(test_store);
	return TEST_DONE("test_imap_annotate_parse");
}
