/* SPDX-License-Identifier: MIT */
/*
 * fuzz_mail_parse.c: libFuzzer harness for src/mail. Normalises the input
 * to CRLF as delivery does, parses it, then looks up a few sections in the
 * part table and transfer-decodes each, checking that every offset it got
 * lies inside the message. A second parse of the raw (unnormalised) bytes
 * covers bare LF and lone CR handling.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const unsigned char *msg, size_t len)
{
	static const uint32_t paths[][4] = {
	        {0}, {1}, {2}, {1, 1}, {1, 2}, {2, 1}, {3, 1}, {1, 1, 1}, {2, 2, 1}, {1, 1, 1, 1},
	};
	static const size_t path_lens[] = {0, 1, 1, 2, 2, 2, 2, 3, 3, 4};
	struct arena *a = arena_new(4096);
	struct mail_parsed p;

	mail_parse(a, msg, len, 4096, &p);
	assert(p.header_size + p.body_size == len);
	assert(strlen(p.header_text) <= 4096 && strlen(p.body_text) <= 4096);
	for (size_t i = 0; i < sizeof(path_lens) / sizeof(path_lens[0]); i++) {
		struct mail_section s;
		if (mail_section_lookup(p.parts, p.parts_len, paths[i], path_lens[i], &s) < 0)
			continue;
		assert(s.header_off <= len && s.header_len <= len - s.header_off);
		assert(s.body_off <= len && s.body_len <= len - s.body_off);
		if (s.is_message) {
			assert(s.inner_header_off <= len &&
			       s.inner_header_len <= len - s.inner_header_off);
			assert(s.inner_body_off <= len &&
			       s.inner_body_len <= len - s.inner_body_off);
		}
		struct buf b;
		buf_init(&b);
		(void)mail_decode_cte(s.encoding, msg + s.body_off, s.body_len, &b);
		buf_deinit(&b);
	}
	/* A truncated part table must be refused, never read past. */
	if (p.parts_len > 0) {
		struct mail_section s;
		uint32_t one = 1;
		(void)mail_section_lookup(p.parts, p.parts_len - 1, &one, 1, &s);
	}
	arena_free(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mail_crlf c;
	struct buf norm;

	buf_init(&norm);
	mail_crlf_init(&c);
	mail_crlf_feed(&c, data, size, &norm);
	check((const unsigned char *)(norm.data != NULL ? norm.data : ""), norm.len);
	buf_deinit(&norm);
	check(data, size);
	return 0;
}
