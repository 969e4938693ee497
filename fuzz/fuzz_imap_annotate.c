/* SPDX-License-Identifier: MIT */
/*
 * fuzz_imap_annotate.c: libFuzzer harness for the ANNOTATE argument
 * parsers (RFC 5257 section 7: imap_annotate_parse.c) and the FETCH
 * ANNOTATION writer, plus FETCH's and SEARCH's parsers where they take
 * ANNOTATION (imap_fetch_parse.c, search_parse.c). Input is command lines:
 * FETCH's argument goes to imap_fetch_request_parse, STORE's and APPEND's
 * list to imap_annotate_store_parse, SEARCH's to imap_search_parse, and
 * every string to the entry check, whose answer must be a fixed point.
 * What STORE parses is then written back by the FETCH writer as if stored,
 * for every entry-match the input's FETCH commands gave, so the writer
 * meets hostile entries and values with hostile patterns.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap_annotate.h"
#include "imap/imap_fetch_parse.h"
#include "imap/parser.h"
#include "imap/search_parse.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "store/store.h"

/* The input's last FETCH ANNOTATION request and STORE changes. */
static struct imap_annotate_fetch last_req;
static bool has_req;
static struct store_annotation *stored;
static size_t n_stored;

static void
check_names(struct arena *a, const struct imap_arg *args, size_t n, int depth)
{
	for (size_t i = 0; i < n; i++) {
		if (args[i].type == IMAP_ARG_LIST) {
			if (depth < 4)
				check_names(a, args[i].list, args[i].count, depth + 1);
			continue;
		}
		for (int is_match = 0; is_match < 2; is_match++) {
			const char *e =
			        imap_annotate_entry_check(a, args[i].str, args[i].len, is_match);
			if (e == NULL)
				continue;
			const char *again = imap_annotate_entry_check(a, e, strlen(e), is_match);
			if (again == NULL || strcmp(again, e) != 0)
				abort();
			if (!is_match)
				(void)imap_annotate_entry_is_settable(e);
		}
	}
}

static int
cmp_entry(const void *x, const void *y)
{
	const struct store_annotation *a = x, *b = y;
	int c = strcmp(a->entry, b->entry);

	return c != 0 ? c : (int)a->is_shared - (int)b->is_shared;
}

static void
write_back(struct arena *a)
{
	if (!has_req)
		return;
	/* As store_annotation_get() gives them: sorted, one value per
	   entry and kind. */
	struct store_annotation *v = arena_alloc(a, (n_stored + 1) * sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < n_stored; i++)
		if (stored[i].value != NULL)
			v[n++] = stored[i];
	qsort(v, n, sizeof(*v), cmp_entry);
	struct buf b;
	buf_init(&b);
	imap_annotate_fetch_append(a, &b, &last_req, v, n);
	if (b.len < strlen("ANNOTATION ()") || memcmp(b.data, "ANNOTATION (", 12) != 0 ||
	    b.data[b.len - 1] != ')')
		abort();
	buf_deinit(&b);
}

static void
try_command(struct arena *a, const struct imap_command *cmd)
{
	const char *error;

	check_names(a, cmd->args, cmd->nargs, 0);
	if (strcasecmp(cmd->name, "FETCH") == 0 && cmd->nargs >= 1) {
		struct imap_fetch_request req;
		if (imap_fetch_request_parse(a, &cmd->args[cmd->nargs - 1], &req, &error)) {
			for (size_t i = 0; i < req.n; i++) {
				if (req.items[i].kind != IMAP_FETCH_ANNOTATION)
					continue;
				if (req.items[i].annotate->n_entries == 0 ||
				    req.items[i].annotate->attrs == 0)
					abort();
				last_req = *req.items[i].annotate;
				has_req = true;
			}
		}
	} else if ((strcasecmp(cmd->name, "STORE") == 0 || strcasecmp(cmd->name, "APPEND") == 0) &&
	           cmd->nargs >= 1) {
		struct store_annotation *v;
		size_t n;
		if (imap_annotate_store_parse(a, &cmd->args[cmd->nargs - 1], &v, &n, &error)) {
			if (n == 0)
				abort();
			for (size_t i = 0; i < n; i++)
				for (size_t j = 0; j < i; j++)
					if (v[i].is_shared == v[j].is_shared &&
					    strcmp(v[i].entry, v[j].entry) == 0)
						abort(); /* one value per entry and kind */
			stored = v;
			n_stored = n;
		}
	} else if (strcasecmp(cmd->name, "SEARCH") == 0) {
		struct imap_search_program prog;
		if (imap_search_parse(a, cmd->args, cmd->nargs, true, NULL, &prog, &error) ==
		            IMAP_SEARCH_OK &&
		    prog.root == NULL)
			abort();
	}
	write_back(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parser_limits lim = {.max_line = 8192, .max_literal = 8192, .max_depth = 8};
	struct imap_parser *p = imap_parser_new(&lim);
	struct arena *a = arena_new(4096);
	size_t off = 0;

	has_req = false;
	stored = NULL;
	n_stored = 0;
	while (off < size) {
		size_t used = 0;
		struct imap_command cmd;
		const char *err;
		bool toobig;
		enum imap_parse_status st = imap_parser_feed(
		        p, a, (const char *)data + off, size - off, &used, &cmd, &err, &toobig);
		off += used;
		if (st == IMAP_PARSE_DONE)
			try_command(a, &cmd);
		/* The arena keeps every command: STORE's changes are written
		   back for later FETCHes (inputs are short). */
		if (used == 0 && st == IMAP_PARSE_MORE)
			break;
	}
	imap_parser_free(&p);
	arena_free(&a);
	return 0;
}
