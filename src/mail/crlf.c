/* SPDX-License-Identifier: MIT */
/*
 * crlf.c: bare LF to CRLF while a message streams in (SMTP DATA, LMTP,
 * APPEND, import), so everything stored, sized and parsed has CRLF line
 * ends as IMAP requires (RFC 9051 section 2.3.4 sizes count CRLF). The only
 * state is whether the last byte of the previous chunk was CR, which makes
 * the output independent of how the input is split. A lone CR is kept.
 */
#include "lib/buf.h"
#include "mail/message.h"

void
mail_crlf_init(struct mail_crlf *c)
{
	c->last_was_cr = false;
}

void
mail_crlf_feed(struct mail_crlf *c, const unsigned char *in, size_t len, struct buf *out)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\n') {
			bool has_cr = i > 0 ? in[i - 1] == '\r' : c->last_was_cr;
			if (!has_cr) {
				buf_append(out, in + start, i - start);
				buf_append(out, "\r\n", 2);
				start = i + 1;
			}
		}
	}
	buf_append(out, in + start, len - start);
	if (len > 0)
		c->last_was_cr = in[len - 1] == '\r';
}
