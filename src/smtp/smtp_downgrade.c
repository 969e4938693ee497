/* SPDX-License-Identifier: MIT */
/*
 * smtp_downgrade.c: 8BITMIME to 7-bit MIME (smtp_downgrade.h). The part
 * tree comes from mail_mime_parse() (offsets into the message); the output
 * is the message's bytes with edits at increasing offsets: a part's header
 * block rewritten, a leaf's body re-encoded. Everything copied unchanged is
 * checked to be 7-bit, which is what catches 8-bit preambles, epilogues
 * and parts the parser could not place.
 */
#include "smtp/smtp_downgrade.h"

#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/header.h"
#include "mail/mime.h"

#define QP_LINE  76 /* RFC 2045 section 6.7 rule 5 */
#define OUT_SPAN (16 * 1024)

bool
smtp_has_8bit(const unsigned char *msg, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (msg[i] >= 0x80)
			return true;
	return false;
}

struct out {
	struct buf b;
	smtp_downgrade_put_fn *put;
	void *arg;
	const unsigned char *msg;
	size_t cursor; /* input copied up to here */
	const char *why;
	int rc;
};

static void
flush(struct out *o, bool all)
{
	if (o->rc == 0 && (all || o->b.len >= OUT_SPAN) && o->b.len > 0) {
		if (o->put(o->arg, o->b.data, o->b.len) < 0) {
			o->rc = -1;
			o->why = "write failed";
		}
		buf_reset(&o->b);
	}
}

static void
emit(struct out *o, const void *data, size_t len)
{
	buf_append(&o->b, data, len);
	flush(o, false);
}

/* Copies the input up to off, which must hold no 8-bit byte. */
static void
copy_to(struct out *o, size_t off)
{
	if (o->rc != 0 || off <= o->cursor)
		return;
	if (smtp_has_8bit(o->msg + o->cursor, off - o->cursor)) {
		o->rc = -1;
		o->why = "8-bit text outside any part that could be re-encoded";
		return;
	}
	emit(o, o->msg + o->cursor, off - o->cursor);
	o->cursor = off;
}

static bool
has_field(const unsigned char *hdr, size_t len, const char *name)
{
	struct mail_header_iter it;
	struct mail_header_field f;

	mail_header_iter_init(&it, hdr, len);
	while (mail_header_iter_next(&it, &f))
		if (mail_header_field_is(&f, name))
			return true;
	return false;
}

/* The header block [off, off+len) again without its
   Content-Transfer-Encoding field(s), with add before the blank line. */
static void
rewrite_header(struct out *o, size_t off, size_t len, const char *add)
{
	const unsigned char *p = o->msg + off, *end = p + len;
	bool skipping = false, added = false;

	copy_to(o, off);
	while (p < end && o->rc == 0) {
		size_t l = mail_line_len(p, end);
		bool is_cont = p[0] == ' ' || p[0] == '\t';
		if (mail_line_is_blank(p, l)) {
			emit(o, add, strlen(add));
			added = true;
			emit(o, p, (size_t)(end - p)); /* the blank line */
			break;
		}
		if (!is_cont)
			skipping = l >= 26 &&
			           strncasecmp((const char *)p, "Content-Transfer-Encoding", 25) ==
			                   0 &&
			           (p[25] == ':' || p[25] == ' ' || p[25] == '\t');
		if (!skipping)
			emit(o, p, l);
		p += l;
	}
	if (!added) {
		emit(o, add, strlen(add));
		emit(o, "\r\n", 2);
	}
	o->cursor = off + len;
}

static const char hex[] = "0123456789ABCDEF";

/* RFC 2045 section 6.7: line by line, CRLF kept as hard line breaks,
   soft breaks ("=" CRLF) before 76 characters. */
static void
qp_body(struct out *o, size_t off, size_t len)
{
	const unsigned char *p = o->msg + off, *end = p + len;

	copy_to(o, off);
	while (p < end && o->rc == 0) {
		const unsigned char *eol = p;
		while (eol < end && *eol != '\r' && *eol != '\n')
			eol++;
		size_t col = 0;
		for (const unsigned char *c = p; c < eol; c++) {
			char enc[3];
			size_t n = 1;
			bool is_last = c + 1 == eol;
			if ((*c >= 33 && *c <= 126 && *c != '=') ||
			    ((*c == ' ' || *c == '\t') && !is_last)) {
				enc[0] = (char)*c;
			} else {
				enc[0] = '=';
				enc[1] = hex[*c >> 4];
				enc[2] = hex[*c & 15];
				n = 3;
			}
			/* Room for a final "=" on a line of at most 76. */
			if (col + n > QP_LINE - (is_last ? 0 : 1)) {
				emit(o, "=\r\n", 3);
				col = 0;
			}
			emit(o, enc, n);
			col += n;
		}
		p = eol;
		if (p < end && *p == '\r')
			p++;
		if (p < end && *p == '\n')
			p++;
		if (p > eol)
			emit(o, "\r\n", 2);
	}
	o->cursor = off + len;
}

static void
convert(struct out *o, struct arena *a, const struct mail_mime_part *part)
{
	const unsigned char *hdr = o->msg + part->header_off;
	const char *enc = mail_mime_encoding(a, part);
	bool label_8bit = strcmp(enc, "8bit") == 0 || strcmp(enc, "binary") == 0;

	if (o->rc != 0)
		return;
	if (smtp_has_8bit(hdr, part->header_len)) {
		o->rc = -1;
		o->why = "8-bit bytes in a header field (that needs SMTPUTF8)";
		return;
	}
	if (part->kind != MAIL_MIME_LEAF) {
		if (label_8bit)
			rewrite_header(o, part->header_off, part->header_len,
			               "Content-Transfer-Encoding: 7bit\r\n");
		for (const struct mail_mime_part *c = part->children; c != NULL; c = c->next)
			convert(o, a, c);
		return;
	}
	bool body_8bit = smtp_has_8bit(o->msg + part->body_off, part->body_len);
	if (!body_8bit) {
		if (label_8bit)
			rewrite_header(o, part->header_off, part->header_len,
			               "Content-Transfer-Encoding: 7bit\r\n");
		return;
	}
	if (strcmp(enc, "binary") == 0) {
		o->rc = -1;
		o->why = "a binary part";
		return;
	}
	struct buf add;
	buf_init(&add);
	if (part->is_message_root && part->parent == NULL &&
	    !has_field(hdr, part->header_len, "MIME-Version")) {
		buf_puts(&add, "MIME-Version: 1.0\r\n");
		if (!has_field(hdr, part->header_len, "Content-Type"))
			buf_puts(&add, "Content-Type: text/plain; charset=unknown-8bit\r\n");
	}
	buf_puts(&add, "Content-Transfer-Encoding: quoted-printable\r\n");
	buf_putc(&add, '\0');
	rewrite_header(o, part->header_off, part->header_len, add.data);
	buf_deinit(&add);
	qp_body(o, part->body_off, part->body_len);
}

int
smtp_downgrade(const unsigned char *msg, size_t len, smtp_downgrade_put_fn *put, void *arg,
               const char **why_out)
{
	struct arena *a = arena_new(16384);
	struct out o = {.put = put, .arg = arg, .msg = msg};

	buf_init(&o.b);
	const struct mail_mime_part *root = mail_mime_parse(a, msg, len);
	convert(&o, a, root);
	copy_to(&o, len);
	flush(&o, true);
	buf_deinit(&o.b);
	arena_free(&a);
	*why_out = o.why;
	return o.rc;
}
