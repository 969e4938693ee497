/* SPDX-License-Identifier: MIT */
/*
 * binary.c: binary parts to base64 while a literal8 APPEND streams in
 * (binary.h). The structure is followed the way mime.c reads it (RFC 2046
 * section 5.1): a stack of the boundaries of the multiparts we are in, and
 * a body ends at the first line starting "--" plus one of them, innermost
 * first; the line end before that line belongs to the boundary.
 *
 * Modes, and what moves between them:
 *   HEADER  the part's header is gathered (whole, up to
 *           MAIL_BINARY_MAX_HEADER) until its blank line or a boundary
 *           line, then parsed with mail_mime_parse(): a multipart pushes
 *           its boundary and goes to TEXT (the preamble); message/rfc822
 *           (or a digest's default part) goes to HEADER again for the
 *           inner message; a leaf with CTE binary has the field replaced
 *           and goes to BINARY; anything else goes to TEXT.
 *   TEXT    bytes pass through; only the start of each line is held
 *           (HOLD_MAX bytes, the longest a boundary line can be) to see
 *           whether it is a boundary.
 *   BINARY  the same, but the bytes go to the base64 encoder, and each line
 *           end is held until the next line shows it is not a boundary's.
 *   RAW     the rest passes through as it is: a header too long to parse,
 *           or a single-part body or epilogue no boundary can end.
 * A boundary line goes to HEADER (the next part) or, closing, to TEXT (the
 * epilogue). Input is hostile: nothing is held beyond the bounds above.
 */
#include "mail/binary.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "mail/header.h"
#include "mail/message.h"
#include "mail/mime.h"
#include "mail/rfc2231.h"

#define CTE_NAME   "Content-Transfer-Encoding"
#define CTE_BASE64 CTE_NAME ": base64\r\n"
/* The longest line start that can still be a boundary: "--", the boundary, "--". */
#define HOLD_MAX  (2 + MAIL_MIME_MAX_BOUNDARY + 2)
#define ENC_CHUNK 4096 /* bytes per EVP_EncodeUpdate() */

enum mode { M_HEADER, M_TEXT, M_BINARY, M_RAW };

struct level {
	char *boundary;
	size_t len;
	bool is_digest; /* multipart/digest: parts default to message/rfc822 */
};

struct mail_binary {
	mail_binary_write_fn *write;
	void *ctx;
	enum mode mode;
	struct buf hold;      /* HEADER: the header so far; else the current line's start */
	size_t line_start;    /* HEADER: where the last line begins in hold */
	bool in_tail;         /* past HOLD_MAX bytes of this line: not a boundary */
	bool next_is_message; /* the coming header's default type is message/rfc822 */
	/* BINARY */
	EVP_ENCODE_CTX *enc;
	char eol[2]; /* the line end a boundary line may claim */
	size_t eol_len;
	bool tail_cr; /* a CR that ended the tail so far, held back */
	bool ends_nl; /* the encoder's output ended with a line end */
	/* UNSAFE: one entry per enclosing multipart, at most
	   MAIL_MIME_MAX_DEPTH (checked before each push). */
	struct level lv[MAIL_MIME_MAX_DEPTH + 1];
	size_t nlv;
	struct arena *a; /* one header's parse */
};

static void
emit(struct mail_binary *b, const void *p, size_t n)
{
	if (n > 0)
		b->write(b->ctx, p, n);
}

static void
encode(struct mail_binary *b, const void *data, size_t n)
{
	/* UNSAFE: EVP_EncodeUpdate writes 65 bytes per 48 in, plus a line. */
	unsigned char out[ENC_CHUNK / 48 * 65 + 130];
	const unsigned char *p = data;

	while (n > 0) {
		size_t k = MIN(n, ENC_CHUNK);
		int outl = 0;
		if (EVP_EncodeUpdate(b->enc, out, &outl, p, (int)k) != 1)
			abort(); /* only fails for a negative length */
		emit(b, out, (size_t)outl);
		if (outl > 0)
			b->ends_nl = out[outl - 1] == '\n';
		p += k;
		n -= k;
	}
}

/* Ends the base64 body: its last line, with its line end. */
static void
encode_end(struct mail_binary *b)
{
	unsigned char out[130];
	int outl = 0;

	EVP_EncodeFinal(b->enc, out, &outl);
	emit(b, out, (size_t)outl);
	if (outl > 0)
		b->ends_nl = true;
	EVP_EncodeInit(b->enc);
}

/* Index in lv of the boundary line[0..len) starts (innermost first), or -1. */
static int
boundary_match(const struct mail_binary *b, const unsigned char *line, size_t len, bool *is_close)
{
	if (b->nlv == 0 || len < 2 || line[0] != '-' || line[1] != '-')
		return -1;
	for (size_t k = b->nlv; k-- > 0;) {
		size_t bl = b->lv[k].len;
		if (len >= 2 + bl && memcmp(line + 2, b->lv[k].boundary, bl) == 0) {
			*is_close = len >= 4 + bl && line[2 + bl] == '-' && line[3 + bl] == '-';
			return (int)k;
		}
	}
	return -1;
}

static void
pop_to(struct mail_binary *b, size_t n)
{
	while (b->nlv > n)
		free(b->lv[--b->nlv].boundary);
}

/* A boundary line ends the current part. */
static void
on_boundary(struct mail_binary *b, int k, bool is_close, const unsigned char *line, size_t len)
{
	if (b->mode == M_BINARY) {
		/* The held line end is the delimiter's (RFC 2046 5.1.1). */
		b->eol_len = 0;
		encode_end(b);
		if (!b->ends_nl)
			emit(b, "\r\n", 2);
	}
	pop_to(b, (size_t)k + 1);
	emit(b, line, len);
	b->in_tail = false;
	if (is_close) {
		pop_to(b, (size_t)k);
		b->mode = b->nlv > 0 ? M_TEXT : M_RAW; /* nothing can end an epilogue */
	} else {
		b->mode = M_HEADER;
		b->line_start = 0;
		b->next_is_message = b->lv[k].is_digest;
	}
}

static bool
is_cte_line(const unsigned char *p, size_t len)
{
	size_t n = sizeof(CTE_NAME) - 1;

	if (len < n || strncasecmp((const char *)p, CTE_NAME, n) != 0)
		return false;
	while (n < len && (p[n] == ' ' || p[n] == '\t'))
		n++;
	return n < len && p[n] == ':';
}

/* The header with its Content-Transfer-Encoding field (continuation lines
   included) replaced by "base64", put last. */
static void
emit_header_base64(struct mail_binary *b, const unsigned char *hdr, size_t len)
{
	const unsigned char *p = hdr, *end = hdr + len;
	bool skipping = false;

	while (p < end) {
		size_t l = mail_line_len(p, end);
		if (mail_line_is_blank(p, l))
			break;
		if (*p != ' ' && *p != '\t')
			skipping = is_cte_line(p, l);
		if (!skipping)
			emit(b, p, l);
		p += l;
	}
	emit(b, CTE_BASE64, sizeof(CTE_BASE64) - 1);
	emit(b, p, (size_t)(end - p)); /* the blank line, if it came */
}

/* A part's header is complete: decide what its body is. */
static void
on_header(struct mail_binary *b, const unsigned char *hdr, size_t len)
{
	arena_reset(b->a);
	const struct mail_mime_part *part = mail_mime_parse(b->a, hdr, len);
	const struct mail_mime_content *mc = &part->c;
	bool default_message = b->next_is_message;

	b->next_is_message = false;
	if (mc->type != NULL && strcasecmp(mc->type, "multipart") == 0) {
		const char *bnd = mail_params_get(b->a, mc->params, mc->nparams, "boundary");
		emit(b, hdr, len);
		b->mode = M_TEXT;
		if (bnd != NULL && *bnd != '\0' && strlen(bnd) <= MAIL_MIME_MAX_BOUNDARY &&
		    b->nlv < MAIL_MIME_MAX_DEPTH) {
			bool digest = mc->subtype != NULL && strcasecmp(mc->subtype, "digest") == 0;
			b->lv[b->nlv++] = (struct level){xstrdup(bnd), strlen(bnd), digest};
		}
		return;
	}
	if (mc->type == NULL ? default_message
	                     : strcasecmp(mc->type, "message") == 0 && mc->subtype != NULL &&
	                               (strcasecmp(mc->subtype, "rfc822") == 0 ||
	                                strcasecmp(mc->subtype, "global") == 0)) {
		emit(b, hdr, len);
		b->mode = M_HEADER; /* the inner message's */
		b->line_start = 0;
		return;
	}
	if (strcmp(mail_mime_encoding(b->a, part), "binary") == 0) {
		emit_header_base64(b, hdr, len);
		b->mode = M_BINARY;
		b->eol_len = 0;
		b->tail_cr = false;
		b->ends_nl = false;
		return;
	}
	emit(b, hdr, len);
	b->mode = b->nlv > 0 ? M_TEXT : M_RAW; /* a single part: no boundary can follow */
}

static const unsigned char *
header_step(struct mail_binary *b, const unsigned char *p, const unsigned char *end)
{
	const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n = nl != NULL ? (size_t)(nl + 1 - p) : (size_t)(end - p);

	if (b->hold.len + n > MAIL_BINARY_MAX_HEADER) {
		emit(b, b->hold.data, b->hold.len);
		buf_reset(&b->hold);
		b->mode = M_RAW;
		return p;
	}
	buf_append(&b->hold, p, n);
	if (nl == NULL)
		return end;
	const unsigned char *hold = (const unsigned char *)b->hold.data;
	const unsigned char *line = hold + b->line_start;
	size_t ll = b->hold.len - b->line_start;
	bool is_close;
	int k = boundary_match(b, line, ll, &is_close);
	if (k >= 0) {
		/* A header cut short by a boundary: the part has no body. */
		on_header(b, hold, b->line_start);
		on_boundary(b, k, is_close, line, ll);
		buf_reset(&b->hold);
	} else if (mail_line_is_blank(line, ll)) {
		on_header(b, hold, b->hold.len);
		buf_reset(&b->hold);
		b->line_start = 0;
	} else {
		b->line_start = b->hold.len;
	}
	return nl + 1;
}

/* BINARY: a line's content is encoded, its line end held back. */
static void
binary_line(struct mail_binary *b, const unsigned char *p, size_t n, bool has_nl)
{
	if (b->tail_cr) {
		b->tail_cr = false;
		if (n > 0 && p[0] == '\n') {
			/* the held CR began this line end */
			memcpy(b->eol, "\r\n", 2);
			b->eol_len = 2;
			return;
		}
		encode(b, "\r", 1);
	}
	encode(b, b->eol, b->eol_len);
	b->eol_len = 0;
	if (has_nl) {
		size_t content = n - 1;
		if (content > 0 && p[content - 1] == '\r')
			content--;
		encode(b, p, content);
		b->eol_len = n - content;
		memcpy(b->eol, p + content, b->eol_len);
	} else if (n > 0 && p[n - 1] == '\r') {
		encode(b, p, n - 1);
		b->tail_cr = true;
	} else {
		encode(b, p, n);
	}
}

static const unsigned char *
body_step(struct mail_binary *b, const unsigned char *p, const unsigned char *end)
{
	if (b->in_tail) {
		const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
		const unsigned char *stop = nl != NULL ? nl + 1 : end;
		if (b->mode == M_TEXT)
			emit(b, p, (size_t)(stop - p));
		else
			binary_line(b, p, (size_t)(stop - p), nl != NULL);
		b->in_tail = nl == NULL;
		return stop;
	}
	size_t room = HOLD_MAX - b->hold.len;
	size_t avail = MIN((size_t)(end - p), room);
	const unsigned char *nl = memchr(p, '\n', avail);
	size_t n = nl != NULL ? (size_t)(nl + 1 - p) : avail;

	buf_append(&b->hold, p, n);
	const unsigned char *line = (const unsigned char *)b->hold.data;
	size_t ll = b->hold.len;
	bool is_close;
	int k;
	if (nl != NULL && (k = boundary_match(b, line, ll, &is_close)) >= 0) {
		on_boundary(b, k, is_close, line, ll);
		buf_reset(&b->hold);
	} else if (nl != NULL || ll == HOLD_MAX) {
		/* Not a boundary: a whole line, or a start too long for one. */
		if (b->mode == M_TEXT)
			emit(b, line, ll);
		else
			binary_line(b, line, ll, nl != NULL);
		b->in_tail = nl == NULL;
		buf_reset(&b->hold);
	}
	return p + n;
}

struct mail_binary *
mail_binary_new(mail_binary_write_fn *write, void *ctx)
{
	struct mail_binary *b = xcalloc(1, sizeof(*b));

	b->write = write;
	b->ctx = ctx;
	b->mode = M_HEADER;
	buf_init(&b->hold);
	b->a = arena_new(4096);
	b->enc = EVP_ENCODE_CTX_new();
	if (b->enc == NULL)
		abort(); /* out of memory */
	EVP_EncodeInit(b->enc);
	return b;
}

void
mail_binary_feed(struct mail_binary *b, const void *data, size_t len)
{
	const unsigned char *p = data, *end = p + len;

	while (p < end) {
		switch (b->mode) {
		case M_RAW:
			emit(b, p, (size_t)(end - p));
			return;
		case M_HEADER:
			p = header_step(b, p, end);
			break;
		case M_TEXT:
		case M_BINARY:
			p = body_step(b, p, end);
			break;
		}
	}
}

void
mail_binary_finish(struct mail_binary *b)
{
	if (b->mode == M_BINARY) {
		/* The body runs to the end: every byte held is content. */
		if (b->tail_cr)
			encode(b, "\r", 1);
		encode(b, b->eol, b->eol_len);
		encode(b, b->hold.data, b->hold.len);
		b->tail_cr = false;
		b->eol_len = 0;
		encode_end(b);
	} else {
		emit(b, b->hold.data, b->hold.len);
	}
	buf_reset(&b->hold);
	b->mode = M_RAW;
}

void
mail_binary_free(struct mail_binary **bp)
{
	struct mail_binary *b = *bp;

	if (b == NULL)
		return;
	*bp = NULL;
	pop_to(b, 0);
	buf_deinit(&b->hold);
	arena_free(&b->a);
	EVP_ENCODE_CTX_free(b->enc);
	free(b);
}

/* ---- decoding a composite part (mail_binary_decode_entity) ---- */

/* The header with the value of its Content-Transfer-Encoding field made
   "binary", in place (continuation lines dropped with the old value). */
static void
header_as_binary(struct buf *out, const unsigned char *hdr, size_t len)
{
	const unsigned char *p = hdr, *end = hdr + len;
	bool skipping = false;

	while (p < end) {
		size_t l = mail_line_len(p, end);
		if (*p != ' ' && *p != '\t') {
			skipping = is_cte_line(p, l);
			if (skipping) {
				buf_puts(out, CTE_NAME ": binary\r\n");
				p += l;
				continue;
			}
		}
		if (!skipping)
			buf_append(out, p, l);
		p += l;
	}
}

static int
decode_walk(struct arena *a, const unsigned char *e, size_t len, const struct mail_mime_part *part,
            unsigned flags, size_t *pos, struct buf *out)
{
	for (; part != NULL; part = part->next) {
		if (part->kind != MAIL_MIME_LEAF || part->is_synthetic) {
			if (decode_walk(a, e, len, part->children, flags, pos, out) < 0)
				return -1;
			continue;
		}
		const char *enc = mail_mime_encoding(a, part);
		if (mail_cte_is_identity(enc))
			continue;
		if (part->header_off < *pos || part->body_off > len ||
		    part->body_len > len - part->body_off)
			continue; /* cannot happen: offsets come from the parser */
		buf_append(out, e + *pos, part->header_off - *pos);
		if (flags & MAIL_BINARY_KEEP_CTE)
			buf_append(out, e + part->header_off, part->header_len);
		else
			header_as_binary(out, e + part->header_off, part->header_len);
		if (mail_decode_cte(enc, e + part->body_off, part->body_len, out) < 0)
			return -1;
		*pos = part->body_off + part->body_len;
	}
	return 0;
}

int
mail_binary_decode_entity(struct arena *a, const unsigned char *entity, size_t len, unsigned flags,
                          struct buf *out)
{
	const struct mail_mime_part *root = mail_mime_parse(a, entity, len);
	/* The part's own header is not in BINARY[n]: the walk starts inside
	   it, unless the header is wanted too (then a leaf is decoded). */
	const struct mail_mime_part *first = root->children;
	size_t pos = root->body_off;

	if (flags & MAIL_BINARY_WITH_HEADER) {
		first = root;
		pos = 0;
	}
	if (decode_walk(a, entity, len, first, flags, &pos, out) < 0)
		return -1;
	if (pos < len)
		buf_append(out, entity + pos, len - pos);
	return 0;
}
