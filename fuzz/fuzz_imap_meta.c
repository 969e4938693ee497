/* SPDX-License-Identifier: MIT */
/*
 * fuzz_imap_meta.c: libFuzzer harness for the argument parsers of QUOTA
 * and METADATA (RFC 9208 setquota-list: imap_quota_parse.c; RFC 5464
 * entry names, GETMETADATA options and entries, SETMETADATA entry-values:
 * imap_metadata_parse.c) and SEARCH's FILTER key (RFC 5466: search_parse.c
 * with a resolver). Input is command lines; each parsed command goes to the
 * parser its name calls for, and every string argument to the entry-name
 * check, whose answer must itself pass the check unchanged. "FILTER name"
 * resolves to the arguments of the input's earlier DEFINE commands (the
 * first argument names the filter, the rest are its keys), so filters that
 * use filters, loops and broken ones all come from the fuzzer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap_metadata.h"
#include "imap/imap_quota.h"
#include "imap/parser.h"
#include "imap/search_parse.h"
#include "lib/arena.h"
#include "lib/buf.h"

/* DEFINE name key...: the filters of this input, in the run's arena. */
#define MAX_DEFINED 8
static struct {
	const char *name;
	const struct imap_arg *args;
	size_t nargs;
} defined[MAX_DEFINED];
static size_t n_defined;

static bool
resolve(void *ctx, struct arena *a, const char *name, const struct imap_arg **args_out,
        size_t *nargs_out)
{
	(void)ctx;
	(void)a;
	for (size_t i = 0; i < n_defined; i++)
		if (strcmp(defined[i].name, name) == 0) {
			*args_out = defined[i].args;
			*nargs_out = defined[i].nargs;
			return true;
		}
	return false;
}

static void
check_names(struct arena *a, const struct imap_arg *args, size_t n, int depth)
{
	for (size_t i = 0; i < n; i++) {
		if (args[i].type == IMAP_ARG_LIST) {
			if (depth < 4)
				check_names(a, args[i].list, args[i].count, depth + 1);
			continue;
		}
		const char *name = imap_metadata_entry_check(a, args[i].str, args[i].len);
		if (name == NULL)
			continue;
		/* Lowercased, checked names are a fixed point, and the writer
		   keeps them one token. */
		const char *again = imap_metadata_entry_check(a, name, strlen(name));
		if (again == NULL || strcmp(again, name) != 0)
			abort();
		struct buf b;
		buf_init(&b);
		imap_metadata_entry_append(&b, name);
		if (b.len < strlen(name))
			abort();
		buf_deinit(&b);
	}
}

static void
try_command(struct arena *a, const struct imap_command *cmd)
{
	const char *error;

	check_names(a, cmd->args, cmd->nargs, 0);
	if (strcasecmp(cmd->name, "DEFINE") == 0 && cmd->nargs >= 1 &&
	    cmd->args[0].type != IMAP_ARG_LIST && n_defined < MAX_DEFINED) {
		defined[n_defined].name = cmd->args[0].str;
		defined[n_defined].args = cmd->args + 1;
		defined[n_defined].nargs = cmd->nargs - 1;
		n_defined++;
	} else if (strcasecmp(cmd->name, "SEARCH") == 0) {
		static const struct imap_search_filters filters = {.resolve = resolve};
		struct imap_search_program prog;
		enum imap_search_status st =
		        imap_search_parse(a, cmd->args, cmd->nargs, true, &filters, &prog, &error);
		if (st == IMAP_SEARCH_OK && prog.root == NULL)
			abort();
		if (st == IMAP_SEARCH_UNDEFINED_FILTER && (error == NULL || error[0] == '\0'))
			abort();
	} else if (strcasecmp(cmd->name, "SETQUOTA") == 0 && cmd->nargs == 2) {
		struct imap_quota_limits q;
		if (imap_quota_list_parse(&cmd->args[1], &q, &error) == IMAP_QUOTA_PARSE_OK &&
		    (q.which & ~7u) != 0)
			abort();
	} else if (strcasecmp(cmd->name, "GETMETADATA") == 0) {
		struct imap_getmetadata req;
		if (imap_getmetadata_parse(a, cmd->args, cmd->nargs, &req, &error)) {
			if (req.mailbox >= cmd->nargs || req.n_entries == 0)
				abort();
			for (size_t i = 0; i < req.n_entries; i++)
				if (!imap_metadata_in_depth(req.entries[i], req.entries[i],
				                            req.depth))
					abort();
		}
	} else if (strcasecmp(cmd->name, "SETMETADATA") == 0 && cmd->nargs == 2) {
		struct imap_metadata_value *v;
		size_t n;
		if (imap_setmetadata_parse(a, &cmd->args[1], &v, &n, &error) &&
		    (n == 0 || n * 2 != cmd->args[1].count))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parser_limits lim = {.max_line = 8192, .max_literal = 8192, .max_depth = 8};
	struct imap_parser *p = imap_parser_new(&lim);
	struct arena *a = arena_new(4096);
	size_t off = 0;

	n_defined = 0;

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
		/* The arena keeps every command: DEFINEs are used by later ones
		   (inputs are short; libFuzzer bounds their length). */
		if (used == 0 && st == IMAP_PARSE_MORE)
			break;
	}
	imap_parser_free(&p);
	arena_free(&a);
	return 0;
}
