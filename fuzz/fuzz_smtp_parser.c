/* SPDX-License-Identifier: MIT */
/*
 * fuzz_smtp_parser.c: libFuzzer harness for src/smtp/smtp_parse.c (command
 * lines, MAIL/RCPT paths and parameters, BDAT arguments, xtext, DATA's dot
 * decoder) and the relay rules of src/smtp/smtp_address.c. The first byte
 * picks the parser; the rest is the client's line, as the session would
 * hand it over (NUL-terminated, no CRLF), or for DATA raw bytes fed in
 * pieces whose sizes come from the input too. Every string produced is
 * read to the end so ASan sees any overrun.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "smtp/smtp_address.h"
#include "smtp/smtp_parse.h"

static volatile size_t sink;

static void
touch(const char *s)
{
	if (s != NULL)
		sink += strlen(s);
}

static void
touch_path(const struct smtp_path *p)
{
	touch(p->local);
	touch(p->domain);
	touch(p->address);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct arena *a = arena_new(4096);
	char *line = arena_strndup(a, (const char *)data + 1, size - 1);
	struct smtp_path path;
	const char *detail, *addr, *why;
	struct smtp_domains domains;

	smtp_domains_parse(&domains, "example.org localhost", "localhost");
	switch (data[0] % 7) {
	case 0: {
		struct smtp_command c;
		smtp_command_parse(line, &c);
		touch(c.arg);
		break;
	}
	case 1: {
		struct smtp_mail_params p;
		if (smtp_mail_parse(a, line, &path, &p, &detail) == SMTP_PARSE_OK) {
			touch_path(&path);
			touch(p.envid);
			touch(p.auth);
		}
		touch(detail);
		break;
	}
	case 2: {
		struct smtp_rcpt_params p;
		if (smtp_rcpt_parse(a, line, &path, &p, &detail) == SMTP_PARSE_OK) {
			touch_path(&path);
			touch(p.orcpt);
			touch(p.orcpt_type);
			smtp_address_classify(a, &path, &domains, data[0] & 8, &addr, &why);
			touch(addr);
			touch(why);
		}
		touch(detail);
		break;
	}
	case 3: {
		uint64_t n;
		bool last;
		sink += smtp_bdat_parse(line, &n, &last);
		break;
	}
	case 4: {
		char *d = smtp_xtext_decode(a, line, strlen(line));
		touch(d);
		touch(smtp_xtext_encode(a, line));
		break;
	}
	case 5:
		if (smtp_mailbox_parse(a, line, strlen(line), &path))
			touch_path(&path);
		break;
	default: {
		/* DATA: pieces of 1..16 bytes, as the second byte says. */
		struct smtp_dot_decoder d;
		char *out = arena_alloc(a, size);
		size_t piece = size > 1 ? (size_t)(data[1] % 16) + 1 : 1, out_len;
		smtp_dot_decoder_init(&d);
		for (size_t i = 1; i < size && !d.is_done;) {
			size_t n = MIN(piece, size - i);
			size_t used = smtp_dot_decode(&d, (const char *)data + i, n, out, &out_len);
			if (used == 0 && !d.is_done)
				abort(); /* must always make progress */
			sink += out_len;
			i += used;
		}
		break;
	}
	}
	smtp_domains_free(&domains);
	arena_free(&a);
	return 0;
}
