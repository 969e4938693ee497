/* SPDX-License-Identifier: MIT */
/* test_imap_esearch_source.c: tests for src/imap/imap_esearch_source.c. */
#include <string.h>

#include "imap/imap_esearch_source.h"
#include "imap/parser.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "test.h"

/* Parses "x ESEARCH IN <list>" with the real command parser, and dumps
   the filters as "kind:name,name kind ..." or "BAD". */
static const char *
dump(struct arena *a, const char *list, bool utf8)
{
	static const char *const kinds[] = {"selected", "inboxes",     "personal", "subscribed",
	                                    "subtree",  "subtree-one", "mailboxes"};
	struct imap_parser_limits lim = {.max_line = 4096, .max_literal = 4096, .max_depth = 8};
	struct imap_parser *p = imap_parser_new(&lim);
	char *line = arena_printf(a, "x ESEARCH IN %s ALL\r\n", list);
	struct imap_command cmd;
	struct imap_esearch_source src;
	const char *err;
	size_t used;
	bool toobig;
	const char *out = "PARSE";

	if (imap_parser_feed(p, a, line, strlen(line), &used, &cmd, &err, &toobig) ==
	            IMAP_PARSE_DONE &&
	    cmd.nargs >= 2) {
		if (!imap_esearch_source_parse(a, &cmd.args[1], utf8, &src, &err)) {
			out = "BAD";
		} else {
			struct buf b;
			buf_init(&b);
			for (size_t i = 0; i < src.n_filters; i++) {
				buf_printf(&b, "%s%s", i ? " " : "", kinds[src.filters[i].kind]);
				for (size_t k = 0; k < src.filters[i].n_names; k++)
					buf_printf(&b, "%c%s", k ? ',' : ':',
					           src.filters[i].names[k]);
			}
			if (src.has_selected)
				buf_puts(&b, " +sel");
			out = arena_strdup(a, b.data != NULL ? b.data : "");
			buf_deinit(&b);
		}
	}
	imap_parser_free(&p);
	return out;
}

static void
test_source_options(void)
{
	static const struct {
		const char *in, *want;
		bool utf8;
	} cases[] = {
	        {"(personal)", "personal", false},
	        {"(PERSONAL Inboxes subscribed)", "personal inboxes subscribed", false},
	        {"(selected)", "selected +sel", false},
	        {"(mailboxes \"folder1\" subtree-one \"folder2\")",
	         "mailboxes:folder1 subtree-one:folder2", false},
	        {"(subtree (a b/c) mailboxes inbox)", "subtree:a,b/c mailboxes:INBOX", false},
	        {"(mailboxes inbox/Sub)", "mailboxes:INBOX/Sub", false},
	        {"(mailboxes {3+}\r\nabc)", "mailboxes:abc", false},
	        /* Modified UTF-7 unless the session takes UTF-8. */
	        {"(mailboxes Caf&AOk-)", "mailboxes:Caf\xc3\xa9", false},
	        {"(mailboxes Caf&AOk-)", "mailboxes:Caf&AOk-", true},
	        {"(mailboxes \"Caf\xc3\xa9\")", "mailboxes:Caf\xc3\xa9", true},
	        {"(mailboxes Caf&Jjo)", "BAD", false},
	        /* RFC 7377 2.2: no selected-delayed; no scope option is defined. */
	        {"(selected-delayed)", "BAD", false},
	        {"(personal (depth 1))", "BAD", false},
	        {"(personal ())", "BAD", false},
	        {"((x))", "BAD", false},
	        {"()", "BAD", false},
	        {"personal", "BAD", false},
	        {"(everything)", "BAD", false},
	        {"(mailboxes)", "BAD", false},
	        {"(mailboxes ())", "BAD", false},
	        {"(mailboxes (a (b)))", "BAD", false},
	        {"(subtree \"\")", "BAD", false},
	        {"(\"personal\")", "BAD", false},
	};
	struct arena *a = arena_new(4096);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_str_eq(i, dump(a, cases[i].in, cases[i].utf8), cases[i].want);
	arena_free(&a);
}

static void
test_subtree(void)
{
	static const struct {
		const char *name, *top;
		bool only_children, want;
	} cases[] = {
	        {"a", "a", false, true},
	        {"a/b", "a", false, true},
	        {"a/b/c", "a", false, true},
	        {"a/b/c", "a", true, false},
	        {"a/b", "a", true, true},
	        {"ab", "a", false, false},
	        {"b", "a", false, false},
	        {"a/", "a", false, false},
	        {"Other Users/x/INBOX", "Other Users/x", true, true},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_assert(i, imap_esearch_in_subtree(cases[i].name, cases[i].top,
		                                       cases[i].only_children) == cases[i].want);
}

int
main(void)
{
	TEST_RUN(test_source_options);
	TEST_RUN(test_subtree);
	return TEST_DONE("test_imap_esearch_source");
}
