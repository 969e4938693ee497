/* SPDX-License-Identifier: MIT */
/*
 * fuzz_imap_convert.c: libFuzzer harness for the CONVERT data item parser
 * (RFC 5259: imap_convert_parse.c). Input is command lines; each command's
 * last argument goes to imap_convert_request_parse() and every string
 * argument to imap_convert_media_type_parse() (with and without
 * wildcards). A parsed item's canonical name must parse again to itself,
 * with the same part, target and parameters.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_convert_parse.h"
#include "imap/parser.h"
#include "lib/arena.h"

static bool
same(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

static void
check_round_trip(struct arena *a, const struct imap_convert_item *it)
{
	struct imap_convert_item again;
	const char *err;

	if (it->kind == IMAP_CONVERT_UID)
		return;
	if (!imap_convert_item_parse(a, it->name, &again, &err) ||
	    strcmp(again.name, it->name) != 0 || again.kind != it->kind ||
	    again.path_len != it->path_len ||
	    (it->path_len > 0 &&
	     memcmp(again.path, it->path, it->path_len * sizeof(uint32_t)) != 0) ||
	    !same(again.target.type, it->target.type) ||
	    !same(again.target.subtype, it->target.subtype) ||
	    !same(again.target.charset, it->target.charset) ||
	    !same(again.target.encoding, it->target.encoding) ||
	    !same(again.bad_param, it->bad_param) || again.n_params != it->n_params)
		abort();
}

static void
try_command(struct arena *a, const struct imap_command *cmd)
{
	if (cmd->nargs == 0)
		return;
	struct imap_convert_request req;
	const char *err;
	if (imap_convert_request_parse(a, &cmd->args[cmd->nargs - 1], &req, &err)) {
		if (req.n == 0 || req.n_parts == 0)
			abort();
		for (size_t i = 0; i < req.n; i++)
			check_round_trip(a, &req.items[i]);
	}
	for (size_t i = 0; i < cmd->nargs; i++) {
		const char *t, *s;
		if (cmd->args[i].type == IMAP_ARG_LIST)
			continue;
		for (int w = 0; w < 2; w++)
			if (imap_convert_media_type_parse(a, cmd->args[i].str, w, &t, &s) &&
			    (t[0] == '\0' || s[0] == '\0'))
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
		if (used == 0 && st == IMAP_PARSE_MORE)
			break;
	}
	imap_parser_free(&p);
	arena_free(&a);
	return 0;
}
