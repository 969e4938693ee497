/* SPDX-License-Identifier: MIT */
/*
 * fuzz_imap_convert.c: libFuzzer harness for the CONVERT argument parser
 * (RFC 5259: imap_convert_parse.c). Input is command lines; each command's
 * last two arguments go to imap_convert_request_parse() (convert-params and
 * data items, either order), its last one to imap_convert_item_parse()
 * when an atom, and every string argument to imap_convert_media_type_parse()
 * (with and without wildcards). A parsed request must have an item that
 * converts, no header item without the default conversion, at most as many
 * parts as items; a parsed item's name (with its partial) must parse again
 * to the same item.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_convert_parse.h"
#include "imap/parser.h"
#include "lib/arena.h"

static void
check_round_trip(struct arena *a, const struct imap_convert_item *it)
{
	struct imap_convert_item again;
	const char *err;
	const char *name = it->name;

	if (it->has_partial)
		name = arena_printf(a, "%s<%llu.%llu>", it->name,
		                    (unsigned long long)it->partial_offset,
		                    (unsigned long long)it->partial_length);
	if (!imap_convert_item_parse(a, name, &again, &err) || strcmp(again.name, it->name) != 0 ||
	    again.kind != it->kind || again.path_len != it->path_len ||
	    (it->path_len > 0 &&
	     memcmp(again.path, it->path, it->path_len * sizeof(uint32_t)) != 0) ||
	    again.has_partial != it->has_partial || again.partial_offset != it->partial_offset ||
	    again.partial_length != it->partial_length)
		abort();
}

static void
check_request(struct arena *a, const struct imap_convert_request *req)
{
	bool converts = false;

	if (req->n == 0 || req->n > IMAP_CONVERT_MAX_ITEMS || req->n_parts > req->n ||
	    req->params.n_params > IMAP_CONVERT_MAX_PARAMS ||
	    req->params.is_default != (req->params.target.type == NULL))
		abort();
	for (size_t i = 0; i < req->n; i++) {
		const struct imap_convert_item *it = &req->items[i];
		converts |= it->kind != IMAP_CONVERT_UID;
		if ((it->kind == IMAP_CONVERT_HEADER || it->kind == IMAP_CONVERT_MIME) &&
		    !req->params.is_default)
			abort();
		check_round_trip(a, it);
	}
	if (!converts)
		abort();
}

static void
try_command(struct arena *a, const struct imap_command *cmd)
{
	struct imap_convert_request req;
	struct imap_convert_item item;
	const char *err;

	if (cmd->nargs >= 2 &&
	    imap_convert_request_parse(a, &cmd->args[cmd->nargs - 2], 2, &req, &err))
		check_request(a, &req);
	if (cmd->nargs >= 1 && cmd->args[cmd->nargs - 1].type == IMAP_ARG_ATOM &&
	    imap_convert_item_parse(a, cmd->args[cmd->nargs - 1].str, &item, &err) &&
	    item.kind != IMAP_CONVERT_UID)
		check_round_trip(a, &item);
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
