/* SPDX-License-Identifier: MIT */
/*
 * fuzz_imap_parser.c: libFuzzer harness for src/imap/parser.c. The first
 * byte picks how the input is split into feeds (1..16 bytes, or whole), so
 * the fuzzer explores the incremental paths too; every command parsed is
 * walked to touch all of its memory.
 */
#include <stddef.h>
#include <stdint.h>

#include "imap/parser.h"
#include "lib/arena.h"

static size_t
walk(const struct imap_arg *args, size_t n)
{
	size_t sum = 0;

	for (size_t i = 0; i < n; i++) {
		if (args[i].type == IMAP_ARG_LIST)
			sum += walk(args[i].list, args[i].count);
		else
			for (size_t j = 0; j <= args[i].len; j++)
				sum += (unsigned char)args[i].str[j];
	}
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct imap_parser_limits limits = {
	        .max_line = 1024, .max_literal = 4096, .max_depth = 8};
	volatile size_t sink = 0;

	if (size < 1)
		return 0;
	size_t step = data[0] % 17;
	data++;
	size--;
	struct imap_parser *p = imap_parser_new(&limits);
	struct arena *a = arena_new(4096);
	size_t off = 0;
	while (off < size) {
		size_t n = step ? MIN(step, size - off) : size - off, used;
		struct imap_command cmd;
		const char *err;
		bool toobig;
		enum imap_parse_status st = imap_parser_feed(p, a, (const char *)data + off, n,
		                                             &used, &cmd, &err, &toobig);
		if (used == 0 && st == IMAP_PARSE_MORE)
			__builtin_trap(); /* no progress on non-empty input */
		off += used;
		if (st == IMAP_PARSE_DONE) {
			sink += walk(cmd.args, cmd.nargs) + (cmd.tag ? cmd.tag[0] : 0);
			arena_reset(a);
		} else if (st == IMAP_PARSE_ERROR) {
			sink += err[0];
			arena_reset(a);
		}
	}
	(void)sink;
	imap_parser_free(&p);
	arena_free(&a);
	return 0;
}
