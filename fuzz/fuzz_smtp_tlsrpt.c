/* SPDX-License-Identifier: MIT */
/*
 * fuzz_smtp_tlsrpt.c: libFuzzer harness for TLS-RPT (RFC 8460,
 * src/smtp/smtp_tlsrpt.c): the _smtp._tls TXT record parser and the
 * mailto address of each URI it yields (first byte even), and the JSON
 * report built from rows whose strings come from the input (first byte
 * odd: policy strings and MX names are the network's). Contracts checked:
 * URIs bounded and of the two schemes, addresses of printable ASCII
 * with an '@', and JSON with no raw control or non-ASCII byte and
 * balanced quotes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "smtp/smtp_tlsrpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_json(const struct buf *b)
{
	bool in_string = false;

	for (size_t i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];
		if (c < 0x20 || c >= 0x7f)
			abort();
		if (in_string && c == '\\') {
			i++;
			continue;
		}
		if (c == '"')
			in_string = !in_string;
	}
	if (in_string)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';

	if (data[0] % 2 == 0) {
		struct smtp_tlsrpt_rua rua;
		if (smtp_tlsrpt_txt_parse(text, &rua) == 0) {
			if (rua.n > SMTP_TLSRPT_MAX_RUA)
				abort();
			for (size_t i = 0; i < rua.n; i++) {
				char addr[300];
				if (strlen(rua.uri[i]) >= SMTP_TLSRPT_MAX_URI ||
				    (strncasecmp(rua.uri[i], "mailto:", 7) != 0 &&
				     strncasecmp(rua.uri[i], "https://", 8) != 0))
					abort();
				if (smtp_tlsrpt_mailto(rua.uri[i], addr, sizeof(addr)) == 0 &&
				    (strchr(addr, '@') == NULL || strchr(addr, ' ') != NULL))
					abort();
			}
		}
	} else {
		/* Up to eight '\0'-separated strings become the row fields. */
		const char *f[8];
		const char *p = text;
		for (int i = 0; i < 8; i++) {
			f[i] = p;
			p += strlen(p);
			if (p < text + size - 1)
				p++; /* past the NUL; at the end, the final "" */
		}
		struct smtp_tlsrpt_row rows[2] = {
		        {f[0], f[1], f[2], "", "", "", "", "", 3},
		        {f[0], f[1], f[2], f[3], f[7], f[4], f[5], f[6], 1},
		};
		struct smtp_tlsrpt_report r = {
		        .organization = f[7],
		        .contact = f[6],
		        .report_id = f[5],
		        .domain = f[4],
		        .start = (int64_t)data[0] * 86400,
		        .end = (int64_t)data[0] * 86400 + 86399,
		        .rows = rows,
		        .n_rows = 2,
		};
		struct buf b;
		buf_init(&b);
		smtp_tlsrpt_json(&r, &b);
		check_json(&b);
		buf_deinit(&b);
	}
	free(text);
	return 0;
}
