/* SPDX-License-Identifier: MIT */
/* test_imap_quota_parse.c: tests for src/imap/imap_quota_parse.c (RFC 9208
   setquota-list), fed through the real IMAP parser. */
#include <string.h>

#include "imap/imap_quota.h"
#include "imap/parser.h"
#include "lib/arena.h"
#include "test.h"

/* Parses "t SETQUOTA root LIST" and returns the list's result as
   "which:storage:messages:mailboxes", "BAD" or "UNKNOWN". */
static const char *
run(struct arena *a, const char *list)
{
	struct imap_parser_limits lim = {.max_line = 4096, .max_literal = 4096, .max_depth = 8};
	struct imap_parser *p = imap_parser_new(&lim);
	char *line = arena_printf(a, "t SETQUOTA \"\" %s\r\n", list);
	struct imap_command cmd;
	const char *error = NULL, *out = "NOPARSE";
	struct imap_quota_limits q;
	size_t used;
	bool toobig;

	if (imap_parser_feed(p, a, line, strlen(line), &used, &cmd, &error, &toobig) ==
	            IMAP_PARSE_DONE &&
	    cmd.nargs == 2) {
		switch (imap_quota_list_parse(&cmd.args[1], &q, &error)) {
		case IMAP_QUOTA_PARSE_OK:
			out = arena_printf(
			        a, "%u:%llu:%llu:%llu", q.which, (unsigned long long)q.storage_kib,
			        (unsigned long long)q.messages, (unsigned long long)q.mailboxes);
			break;
		case IMAP_QUOTA_PARSE_BAD:
			out = "BAD";
			break;
		case IMAP_QUOTA_PARSE_UNKNOWN:
			out = "UNKNOWN";
			break;
		}
	}
	imap_parser_free(&p);
	return out;
}

static void
test_lists(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	        {"()", "0:0:0:0"},
	        {"(STORAGE 512)", "1:512:0:0"},
	        {"(storage 1 Message 2 MAILBOX 3)", "7:1:2:3"},
	        {"(MESSAGE 0)", "2:0:0:0"},
	        {"(STORAGE 9223372036854775807)", "1:9223372036854775807:0:0"},
	        {"(STORAGE 9223372036854775808)", "BAD"}, /* over number64 */
	        {"(STORAGE)", "BAD"},
	        {"(STORAGE -1)", "BAD"},
	        {"(STORAGE 1x)", "BAD"},
	        {"(STORAGE \"1\")", "BAD"},
	        {"(STORAGE 1 STORAGE 2)", "BAD"},
	        {"((STORAGE) 1)", "BAD"},
	        {"STORAGE", "BAD"},
	        {"(X-FOO 1)", "UNKNOWN"},
	        {"(ANNOTATION-STORAGE 5 STORAGE 1)", "UNKNOWN"},
	        {"(X-FOO 1 STORAGE)", "BAD"}, /* syntax wins over unknown */
	};
	struct arena *a = arena_new(4096);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test_str_eq(i, run(a, cases[i].in), cases[i].want);
	arena_free(&a);
}

int
main(void)
{
	TEST_RUN(test_lists);
	return TEST_DONE("test_imap_quota_parse");
}
