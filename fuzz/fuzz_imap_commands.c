/* SPDX-License-Identifier: MIT */
/*
 * fuzz_imap_commands.c: libFuzzer harness for the pure IMAP argument
 * parsers behind the commands: FETCH attributes (imap_fetch_parse.c), the
 * SEARCH program (search_parse.c), sequence sets (seqset.c), flag lists and
 * dates (imap_flags.c), modified UTF-7 (mutf7.c), LIST patterns
 * (list_pattern.c) and the IMAP string writer and reader (mail/imap_string.c,
 * which must read back what it wrote). Input is command lines; each parsed
 * command's arguments go to the parsers its name calls for, and to the
 * generic ones whatever the name.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap_fetch_parse.h"
#include "imap/imap_flags.h"
#include "imap/list_pattern.h"
#include "imap/mutf7.h"
#include "imap/parser.h"
#include "imap/search_parse.h"
#include "imap/seqset.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/imap_string.h"

/* Writes the argument as an IMAP string and reads it back: the same bytes,
   and nothing left over. A NUL is refused, or sent as literal8. */
static void
string_round_trip(struct arena *a, const struct imap_arg *arg, unsigned flags)
{
	struct buf b;

	buf_init(&b);
	if (mail_imap_string_append(&b, arg->str, arg->len, flags) == 0 &&
	    memchr(arg->str, '\0', arg->len) == NULL) {
		const char *p = b.data;
		const char *back = mail_imap_nstring_read(a, &p);
		if (back == NULL || strlen(back) != arg->len ||
		    memcmp(back, arg->str, arg->len) != 0 || *p != '\0')
			abort();
	}
	buf_deinit(&b);
}

static void
try_command(struct arena *a, const struct imap_command *cmd)
{
	const char *err;
	size_t n = cmd->nargs;
	const struct imap_arg *args = cmd->args;

	if (n > 0 && args[0].type == IMAP_ARG_ATOM && strcasecmp(cmd->name, "UID") == 0) {
		args++;
		n--;
	}
	for (size_t i = 0; i < n; i++) {
		if (args[i].type == IMAP_ARG_LIST) {
			struct imap_flag_list fl;
			(void)imap_flag_list_parse(a, &args[i], &fl, &err);
			continue;
		}
		struct imap_seqset set;
		if (imap_seqset_parse(a, args[i].str, &set)) {
			static const uint32_t uids[] = {1, 2, 5, 9, 10, 4000000000u};
			uint32_t *out;
			size_t nout;
			(void)imap_seqset_resolve(&set, i & 1, uids, 6, a, &out, &nout);
			(void)imap_seqset_format(a, out, nout);
		}
		const char *utf8 = imap_mutf7_decode(a, args[i].str);
		if (utf8 != NULL)
			(void)imap_mutf7_encode(a, utf8);
		int64_t t;
		(void)imap_date_time_parse(args[i].str, &t);
		(void)imap_date_parse(args[i].str, &t);
		struct imap_list_pattern *pat = imap_list_pattern_new(a, args[i].str);
		static const char *const names[] = {"INBOX", "INBOX/a", "Archive/2023/x", "a%b*c",
		                                    ""};
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			(void)imap_list_pattern_matches(pat, names[k]);
		(void)imap_list_pattern_matches(pat, args[i].str);
		string_round_trip(a, &args[i], (unsigned)i & 3);
	}
	if (n >= 2 && strcasecmp(cmd->name, "FETCH") == 0) {
		struct imap_fetch_request req;
		(void)imap_fetch_request_parse(a, &args[1], &req, &err);
	}
	if (n >= 1 && strcasecmp(cmd->name, "SEARCH") == 0) {
		struct imap_search_program prog;
		(void)imap_search_parse(a, args, n, true, NULL, &prog, &err);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct imap_parser_limits limits = {
	        .max_line = 8192, .max_literal = 8192, .max_depth = 16};
	struct imap_parser *p = imap_parser_new(&limits);
	struct arena *a = arena_new(4096);
	size_t off = 0;

	while (off < size) {
		size_t used;
		struct imap_command cmd;
		const char *err;
		bool toobig;
		enum imap_parse_status st = imap_parser_feed(
		        p, a, (const char *)data + off, size - off, &used, &cmd, &err, &toobig);
		off += used;
		if (st == IMAP_PARSE_DONE)
			try_command(a, &cmd);
		if (st == IMAP_PARSE_DONE || st == IMAP_PARSE_ERROR)
			arena_reset(a);
		if (used == 0 && st == IMAP_PARSE_MORE)
			break;
	}
	imap_parser_free(&p);
	arena_free(&a);
	return 0;
}
