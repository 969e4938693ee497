/* SPDX-License-Identifier: MIT */
/*
 * text.c: header_text and body_text for the FTS5 index (DESIGN.md, "Full-
 * text search"). Header values are RFC 2047 decoded; text parts are
 * transfer-decoded (base64, quoted-printable) and converted to UTF-8 from
 * their charset (a missing or unknown one: UTF-8 if the bytes are, else
 * Latin-1). Other parts are skipped: an index of base64 images helps no one.
 * The limit is applied while extracting, and input is only decoded as far
 * as the remaining room can use, so a 50 MB attachment costs no more than
 * the limit.
 */
#include "mail/text.h"

#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/charset.h"
#include "mail/header.h"
#include "mail/message.h"
#include "mail/mime.h"
#include "mail/rfc2047.h"

/* The most input bytes one output byte can come from: quoted-printable
   (3) of UTF-32 (4), with slack. Decoding more than room * this is waste. */
#define INPUT_PER_OUTPUT 16
/* ... and the most decoded bytes one output byte can come from (UTF-32). */
#define DECODED_PER_OUTPUT 4

struct sink {
	struct buf b;
	size_t max;
};

static bool
full(const struct sink *s)
{
	return s->b.len >= s->max;
}

static void
header_values(struct sink *s, const unsigned char *hdr, size_t len)
{
	struct mail_header_iter it;
	struct mail_header_field f;

	mail_header_iter_init(&it, hdr, len);
	while (!full(s) && mail_header_iter_next(&it, &f)) {
		size_t room = s->max - s->b.len;
		size_t vlen = MIN(f.value_len, room * INPUT_PER_OUTPUT + 64);
		mail_rfc2047_decode_buf(f.value, vlen, &s->b);
		buf_putc(&s->b, '\n');
	}
}

static void
part_text(struct sink *s, const unsigned char *msg, const struct mail_mime_part *part)
{
	struct buf decoded;
	struct arena *tmp = arena_new(256);
	size_t room = s->max - s->b.len;
	size_t in_len = MIN(part->body_len, room * INPUT_PER_OUTPUT + 64);
	const unsigned char *d = msg + part->body_off;
	size_t d_len;

	/* 7bit, 8bit and binary bodies are used in place: copying 16 x the
	   room first made a 50 MB text part cost 30 MB at delivery. */
	buf_init(&decoded);
	const char *encoding = mail_mime_encoding(tmp, part);
	if (mail_cte_is_identity(encoding) || mail_decode_cte(encoding, d, in_len, &decoded) < 0) {
		d_len = in_len;
	} else {
		d = (const unsigned char *)decoded.data;
		d_len = decoded.len;
	}
	d_len = MIN(d_len, room * DECODED_PER_OUTPUT + 64);
	if (part->charset == NULL || mail_charset_to_utf8(part->charset, d, d_len, &s->b) < 0)
		mail_utf8_append_guess(&s->b, d, d_len);
	buf_putc(&s->b, '\n');
	buf_deinit(&decoded);
	arena_free(&tmp);
}

static void
walk(struct sink *s, const unsigned char *msg, const struct mail_mime_part *part)
{
	if (full(s))
		return;
	if (part->kind == MAIL_MIME_MULTIPART) {
		for (const struct mail_mime_part *ch = part->children; ch != NULL; ch = ch->next)
			walk(s, msg, ch);
	} else if (part->kind == MAIL_MIME_MESSAGE) {
		const struct mail_mime_part *inner = part->children;
		header_values(s, msg + inner->header_off, inner->header_len);
		walk(s, msg, inner);
	} else if (part->is_text && !part->is_synthetic && part->body_len > 0) {
		part_text(s, msg, part);
	}
}

static const char *
finish(struct arena *a, struct sink *s)
{
	size_t n = s->b.len;

	if (n > s->max) {
		n = s->max;
		/* Back to the start of a UTF-8 sequence. */
		while (n > 0 && ((unsigned char)s->b.data[n] & 0xc0) == 0x80)
			n--;
	}
	const char *r = arena_strndup(a, s->b.data != NULL ? s->b.data : "", n);
	buf_deinit(&s->b);
	return r;
}

void
mail_text_extract(struct arena *a, const unsigned char *msg, const struct mail_mime_part *root,
                  size_t max_text, const char **header_out, const char **body_out)
{
	struct sink s;

	buf_init(&s.b);
	s.max = max_text;
	header_values(&s, msg + root->header_off, root->header_len);
	*header_out = finish(a, &s);

	buf_init(&s.b);
	s.max = max_text;
	walk(&s, msg, root);
	*body_out = finish(a, &s);
}
