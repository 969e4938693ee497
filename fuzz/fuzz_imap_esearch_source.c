/* SPDX-License-Identifier: MIT */
/*
 * fuzz_imap_esearch_source.c: libFuzzer harness for ESEARCH's source
 * options (RFC 7377 section 2.2: imap_esearch_source.c). Input is command
 * lines; each parsed command's arguments are tried as the list after "IN",
 * once with modified UTF-7 names and once with UTF-8 ones, and every name a
 * parse gives must be valid UTF-8 and a subtree of itself.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_esearch_source.h"
#include "imap/mutf7.h"
#include "imap/parser.h"
#include "lib/arena.h"

static void
check(const struct imap_esearch_source *src)
{
	bool has_selected = false;

	for (size_t i = 0; i < src->n_filters; i++) {
		const struct imap_esearch_filter *f = &src->filters[i];
		bool takes_names = f->kind == IMAP_ESEARCH_SUBTREE ||
		                   f->kind == IMAP_ESEARCH_SUBTREE_ONE ||
		                   f->kind == IMAP_ESEARCH_MAILBOXES;
		has_selected |= f->kind == IMAP_ESEARCH_SELECTED;
		if (takes_names != (f->n_names > 0))
			abort();
		for (size_t k = 0; k < f->n_names; k++) {
			const char *n = f->names[k];
			if (n == NULL || !imap_utf8_is_valid(n) ||
			    !imap_esearch_in_subtree(n, n, true))
				abort();
		}
	}
	if (has_selected != src->has_selected || src->n_filters == 0)
		abort();
}

static void
try_args(struct arena *a, const struct imap_arg *args, size_t nargs)
{
	for (size_t i = 0; i < nargs; i++) {
		struct imap_esearch_source src;
		const char *error;
		for (int utf8 = 0; utf8 < 2; utf8++) {
			if (imap_esearch_source_parse(a, &args[i], utf8, &src, &error))
				check(&src);
			else if (error == NULL || error[0] == '\0')
				abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parser_limits lim = {.max_line = 8192, .max_literal = 8192, .max_depth = 8};
	struct imap_parser *p = imap_parser_new(&lim);
	struct arena *a = arena_new(4096);
	size_t off = 0;

	while (off < size) {
		size_t used = 0;
		struct imap_command cmd;
		const char *err;
		bool toobig;
		enum imap_parse_status st = imap_parser_feed(
		        p, a, (const char *)data + off, size - off, &used, &cmd, &err, &toobig);
		off += used;
		if (st == IMAP_PARSE_DONE)
			try_args(a, cmd.args, cmd.nargs);
		if (used == 0 && st == IMAP_PARSE_MORE)
			break;
	}
	imap_parser_free(&p);
	arena_free(&a);
	return 0;
}
