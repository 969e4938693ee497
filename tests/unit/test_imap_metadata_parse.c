/* SPDX-License-Identifier: MIT */
/* test_imap_metadata_parse.c: tests for src/imap/imap_metadata_parse.c (RFC
   5464 section 5), fed through the real IMAP parser. */
#include <string.h>

#include "imap/imap_metadata.h"
#include "imap/parser.h"
#include "lib/arena.h"
#include "lib/buf.h"
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
		const char *in, *want; /* want NULL: refused */
	} cases[] = {
	        {"/private/comment", "/private/comment"},
	        {"/Shared/Comment", "/shared/comment"},
	        {"/private/filters/values/boss", "/private/filters/values/boss"},
	        {"/shared/vendor/vendor.example/x", "/shared/vendor/vendor.example/x"},
	        {"/shared/vendor/vendor.example", NULL},
	        {"/shared/vendor", NULL},
	        {"/private", NULL},
	        {"/shared/", NULL},
	        {"/private//x", NULL},
	        {"/private/x/", NULL},
	        {"private/x", NULL},
	        {"/public/x", NULL},
	        {"/private/a*", NULL},
	        {"/private/a%", NULL},
	        {"/private/\x19", NULL},
	        {"/private/\x7f", NULL},
	        {"/private/\xc3\xa9", NULL},
	        {"/private/with space", "/private/with space"},
	        {"", NULL},
	        {"/", NULL},
	};
	struct arena *a = arena_new(4096);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = imap_metadata_entry_check(a, cases[i].in, strlen(cases[i].in));
		if (cases[i].want == NULL)
			test_assert(i, got == NULL);
		else
			test_str_eq(i, got != NULL ? got : "(null)", cases[i].want);
	}
	arena_free(&a);
}

/* "mailbox-index|maxsize|depth|entries" or "BAD". */
static const char *
get(struct arena *a, const char *args)
{
	struct imap_command cmd;
	struct imap_getmetadata req;
	const char *error;

	if (!parse(a, args, &cmd))
		return "NOPARSE";
	if (!imap_getmetadata_parse(a, cmd.args, cmd.nargs, &req, &error))
		return "BAD";
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "%zu|%lld|%d|", req.mailbox, req.has_maxsize ? (long long)req.maxsize : -1,
	           (int)req.depth);
	for (size_t i = 0; i < req.n_entries; i++)
		buf_printf(&b, "%s%s", i ? "," : "", req.entries[i]);
	const char *out = arena_strdup(a, b.data);
	buf_deinit(&b);
	return out;
}

static void
test_getmetadata(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	        {"\"\" /shared/comment", "0|-1|0|/shared/comment"},
	        {"INBOX (/shared/comment /private/comment)",
	         "0|-1|0|/shared/comment,/private/comment"},
	        {"INBOX /private/comment /shared/comment",
	         "0|-1|0|/private/comment,/shared/comment"},
	        {"(MAXSIZE 1024) INBOX /private/x", "1|1024|0|/private/x"},
	        {"INBOX (MAXSIZE 1024) (/private/x)", "0|1024|0|/private/x"},
	        {"INBOX (DEPTH 1) (/private/filters/values)", "0|-1|1|/private/filters/values"},
	        {"(DEPTH infinity MAXSIZE 5) INBOX /private/x", "1|5|2|/private/x"},
	        {"(DEPTH 2) INBOX /private/x", "BAD"},
	        {"(DEPTH 1 DEPTH 0) INBOX /private/x", "BAD"},
	        {"(MAXSIZE) INBOX /private/x", "BAD"},
	        {"(MAXSIZE 4294967296) INBOX /private/x", "BAD"},
	        {"(FOO 1) INBOX /private/x", "BAD"},
	        {"INBOX", "BAD"},
	        {"INBOX ()", "BAD"},
	        {"(DEPTH 1) INBOX", "BAD"},
	        {"INBOX (/private/x) /private/y", "BAD"},
	        {"INBOX /private", "BAD"},
	        {"(/private/x) INBOX", "BAD"},
	};
	struct arena *a = arena_new(4096);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test_str_eq(i, get(a, cases[i].in), cases[i].want);
	arena_free(&a);
}

/* "name=value,name=NIL" or "BAD". */
static const char *
set(struct arena *a, const char *list)
{
	struct imap_command cmd;
	struct imap_metadata_value *v;
	size_t n;
	const char *error;

	if (!parse(a, list, &cmd) || cmd.nargs != 1)
		return "NOPARSE";
	if (!imap_setmetadata_parse(a, &cmd.args[0], &v, &n, &error))
		return "BAD";
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s=%s", i ? "," : "", v[i].name, v[i].value ? v[i].value : "NIL");
	const char *out = arena_strdup(a, b.data);
	buf_deinit(&b);
	return out;
}

static void
test_setmetadata(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	        {"(/private/comment \"My new comment\")", "/private/comment=My new comment"},
	        {"(/private/comment NIL /SHARED/x \"\")", "/private/comment=NIL,/shared/x="},
	        {"(/private/comment {2+}\r\nab)", "/private/comment=ab"},
	        {"()", "BAD"},
	        {"(/private/comment)", "BAD"},
	        {"(/private/comment FOO)", "BAD"},
	        {"(/private/comment (x))", "BAD"},
	        {"(/bad \"v\")", "BAD"},
	        {"/private/comment", "BAD"},
	};
	struct arena *a = arena_new(4096);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test_str_eq(i, set(a, cases[i].in), cases[i].want);
	arena_free(&a);
}

static void
test_depth(void)
{
	test_assert(-1, imap_metadata_in_depth("/a/b", "/a/b", IMAP_METADATA_DEPTH_0));
	test_assert(-1, !imap_metadata_in_depth("/a/b", "/a/b/c", IMAP_METADATA_DEPTH_0));
	test_assert(-1, imap_metadata_in_depth("/a/b", "/a/b/c", IMAP_METADATA_DEPTH_1));
	test_assert(-1, !imap_metadata_in_depth("/a/b", "/a/b/c/d", IMAP_METADATA_DEPTH_1));
	test_assert(-1, imap_metadata_in_depth("/a/b", "/a/b/c/d", IMAP_METADATA_DEPTH_INFINITY));
	test_assert(-1, !imap_metadata_in_depth("/a/b", "/a/bc", IMAP_METADATA_DEPTH_INFINITY));
	test_assert(-1, !imap_metadata_in_depth("/a/b", "/a", IMAP_METADATA_DEPTH_INFINITY));
}

int
main(void)
{
	TEST_RUN(test_entry_names);
	TEST_RUN(test_getmetadata);
	TEST_RUN(test_setmetadata);
	TEST_RUN(test_depth);
	return TEST_DONE("test_imap_metadata_parse");
}
