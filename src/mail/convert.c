/* SPDX-License-Identifier: MIT */
/*
 * convert.c: one body part converted for CONVERT (RFC 5259); see convert.h.
 *
 * Steps: the entity's own header is parsed (mail_mime_parse, the parser
 * FETCH uses at delivery) for its type, charset and transfer encoding; the
 * body is transfer-decoded (mail_decode_cte), read from its charset into
 * UTF-8 (mail_charset_to_utf8: a byte invalid in the charset becomes
 * U+FFFD, as the full-text index reads it), turned into the target type
 * (html_text.c for text/html to text/plain; text/plain to text/html is the
 * text escaped in a <pre>), line ends made CRLF, written in the target
 * charset (mail_charset_from_utf8: a character it lacks fails the
 * conversion rather than being dropped), then encoded as asked.
 *
 * Supported pairs: text/<any> to the same text/<any> (charset and encoding
 * only), text/<any> but html to text/plain, text/html to text/plain,
 * text/plain to text/html. A multipart or message part, or a part that is
 * not text, is MAIL_CONVERT_UNSUPPORTED.
 *
 * Memory: the decoded body, its UTF-8 form, the converted text and the
 * encoded result, each a small multiple of the part at most (and the text
 * and result at most max_out, checked as each is made); the caller bounds
 * the part's size (imap_convert.c: a quarter of imap.max_session_memory).
 */
#include "mail/convert.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/charset.h"
#include "mail/cte.h"
#include "mail/html_text.h"
#include "mail/message.h"
#include "mail/mime.h"

static const char *const encodings[] = {"7bit", "8bit", "binary", "base64", "quoted-printable",
                                        NULL};

bool
mail_convert_encoding_is_known(const char *encoding)
{
	for (size_t i = 0; encodings[i] != NULL; i++)
		if (strcasecmp(encoding, encodings[i]) == 0)
			return true;
	return false;
}

bool
mail_convert_is_supported(const char *type, const char *subtype,
                          const struct mail_convert_target *t)
{
	if (strcasecmp(type, "text") != 0 || strcasecmp(t->type, "text") != 0)
		return false;
	if (strcasecmp(subtype, t->subtype) == 0)
		return true;
	if (strcasecmp(t->subtype, "plain") == 0)
		return true; /* html by its text, any other text as it is */
	return strcasecmp(subtype, "plain") == 0 && strcasecmp(t->subtype, "html") == 0;
}

static const struct mail_convert_pair pairs[] = {
        {"text", "plain", "text", "plain"},    {"text", "plain", "text", "html"},
        {"text", "html", "text", "plain"},     {"text", "html", "text", "html"},
        {"text", "enriched", "text", "plain"}, {"text", "enriched", "text", "enriched"},
};

const struct mail_convert_pair *
mail_convert_pairs(size_t *n_out)
{
	*n_out = sizeof(pairs) / sizeof(pairs[0]);
	return pairs;
}

void
mail_convert_source_of(struct arena *a, const unsigned char *entity, size_t len,
                       struct mail_convert_source *out)
{
	struct mail_mime_part *p = mail_mime_parse(a, entity, len);
	bool typed = p->c.type != NULL && p->c.subtype != NULL && !p->is_demoted;

	out->type = arena_strdup(a, typed ? p->c.type : "text");
	out->subtype = arena_strdup(a, typed ? p->c.subtype : "plain");
	for (char *c = (char *)out->type; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	for (char *c = (char *)out->subtype; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	out->is_leaf = p->kind == MAIL_MIME_LEAF;
}

bool
mail_convert_default_target(const struct mail_convert_source *src, const char **type_out,
                            const char **subtype_out)
{
	if (!src->is_leaf || strcmp(src->type, "text") != 0)
		return false;
	*type_out = "text";
	*subtype_out = "plain";
	return true;
}

size_t
mail_convert_targets(struct arena *a, const struct mail_convert_source *src, const char **out,
                     size_t max)
{
	static const char *const subtypes[] = {"plain", "html"};
	size_t n = 0;

	if (!src->is_leaf)
		return 0;
	for (size_t i = 0; i < sizeof(subtypes) / sizeof(subtypes[0]) && n < max; i++) {
		struct mail_convert_target t = {.type = "text", .subtype = subtypes[i]};
		if (mail_convert_is_supported(src->type, src->subtype, &t))
			out[n++] = subtypes[i][0] == 'p' ? "text/plain" : "text/html";
	}
	/* Any other text type converts to itself (charset, encoding). */
	struct mail_convert_target self = {.type = src->type, .subtype = src->subtype};
	if (n < max && strcmp(src->subtype, "plain") != 0 && strcmp(src->subtype, "html") != 0 &&
	    mail_convert_is_supported(src->type, src->subtype, &self)) {
		size_t tn = strlen(src->type), sn = strlen(src->subtype);
		char *s = arena_alloc(a, tn + sn + 2);
		memcpy(s, src->type, tn);
		s[tn] = '/';
		memcpy(s + tn + 1, src->subtype, sn + 1);
		out[n++] = s;
	}
	return n;
}

const char *
mail_convert_error_name(enum mail_convert_error err)
{
	switch (err) {
	case MAIL_CONVERT_OK:
		return "ok";
	case MAIL_CONVERT_UNSUPPORTED:
		return "unsupported";
	case MAIL_CONVERT_BADPARAM:
		return "bad-parameter";
	case MAIL_CONVERT_FAILED:
		return "failed";
	case MAIL_CONVERT_TOOBIG:
		return "too-big";
	}
	return "?";
}

/* Appends s with every bare CR or LF made CRLF. */
static void
put_crlf(struct buf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '\r' && i + 1 < len && s[i + 1] == '\n') {
			buf_append(out, "\r\n", 2);
			i++;
		} else if (c == '\r' || c == '\n') {
			buf_append(out, "\r\n", 2);
		} else {
			buf_putc(out, c);
		}
	}
}

/* text/plain in a <pre>, with the characters HTML gives meaning escaped. */
static void
plain_to_html(const char *s, size_t len, struct buf *out)
{
	buf_puts(out, "<!DOCTYPE html>\r\n<html><head><meta charset=\"utf-8\"></head><body><pre>");
	for (size_t i = 0; i < len; i++) {
		switch (s[i]) {
		case '<':
			buf_puts(out, "&lt;");
			break;
		case '>':
			buf_puts(out, "&gt;");
			break;
		case '&':
			buf_puts(out, "&amp;");
			break;
		default:
			buf_putc(out, s[i]);
		}
	}
	buf_puts(out, "</pre></body></html>\r\n");
}

static bool
is_8bit(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80 || s[i] == '\0')
			return true;
	return false;
}

static int
fail(enum mail_convert_error *err_out, enum mail_convert_error err)
{
	*err_out = err;
	return -1;
}

int
mail_convert_entity(struct arena *a, const unsigned char *entity, size_t len,
                    const struct mail_convert_target *t, size_t max_out, struct buf *out,
                    enum mail_convert_error *err_out)
{
	const char *charset = t->charset != NULL ? t->charset : "utf-8";
	struct buf decoded, utf8, text, coded;
	int rc = -1;

	*err_out = MAIL_CONVERT_OK;
	if (t->encoding != NULL && !mail_convert_encoding_is_known(t->encoding))
		return fail(err_out, MAIL_CONVERT_BADPARAM);

	/* Only the header is wanted from the parse: the body is this one
	   part's (a composite one is refused before its children matter). */
	struct mail_mime_part *p = mail_mime_parse(a, entity, len);
	const char *type = p->c.type != NULL && !p->is_demoted ? p->c.type : "text";
	const char *subtype = p->c.subtype != NULL && !p->is_demoted ? p->c.subtype : "plain";
	if (p->kind != MAIL_MIME_LEAF || !mail_convert_is_supported(type, subtype, t))
		return fail(err_out, MAIL_CONVERT_UNSUPPORTED);

	buf_init(&decoded);
	buf_init(&utf8);
	buf_init(&text);
	buf_init(&coded);
	const unsigned char *body = entity + p->body_off;
	if (mail_decode_cte(mail_mime_encoding(a, p), body, p->body_len, &decoded) < 0) {
		*err_out = MAIL_CONVERT_FAILED; /* NO [UNKNOWN-CTE] for BINARY[] */
		goto out;
	}
	/* RFC 2046 section 4.1.2: no charset parameter means US-ASCII, whose
	   8-bit bytes mail_charset_to_utf8 reads as UTF-8 or Latin-1. */
	const char *from = p->charset != NULL ? p->charset : "us-ascii";
	const unsigned char *d = (const unsigned char *)(decoded.data != NULL ? decoded.data : "");
	if (mail_charset_to_utf8(from, d, decoded.len, &utf8) < 0) {
		*err_out = MAIL_CONVERT_FAILED;
		goto out;
	}
	const char *u = utf8.data != NULL ? utf8.data : "";
	bool from_html = strcasecmp(subtype, "html") == 0;
	bool to_html = strcasecmp(t->subtype, "html") == 0;
	if (from_html && !to_html) {
		if (mail_html_to_text((const unsigned char *)u, utf8.len, max_out, &text) < 0) {
			*err_out = MAIL_CONVERT_TOOBIG;
			goto out;
		}
	} else if (!from_html && to_html) {
		struct buf lines;
		buf_init(&lines);
		put_crlf(&lines, u, utf8.len);
		plain_to_html(lines.data != NULL ? lines.data : "", lines.len, &text);
		buf_deinit(&lines);
	} else {
		put_crlf(&text, u, utf8.len);
	}

	struct buf *result = &text;
	struct buf charset_out;
	buf_init(&charset_out);
	bool unencodable;
	const unsigned char *tx = (const unsigned char *)(text.data != NULL ? text.data : "");
	if (mail_charset_from_utf8(charset, tx, text.len, &charset_out, &unencodable) < 0) {
		buf_deinit(&charset_out);
		*err_out = unencodable ? MAIL_CONVERT_FAILED : MAIL_CONVERT_BADPARAM;
		goto out;
	}
	buf_deinit(&text);
	text = charset_out;
	result = &text;
	if (text.len > max_out) {
		*err_out = MAIL_CONVERT_TOOBIG; /* encoding only adds */
		goto out;
	}

	const char *enc = t->encoding;
	const unsigned char *r = (const unsigned char *)(result->data != NULL ? result->data : "");
	if (enc != NULL && strcasecmp(enc, "base64") == 0) {
		mail_base64_encode(r, result->len, &coded);
		result = &coded;
	} else if (enc != NULL && strcasecmp(enc, "quoted-printable") == 0) {
		mail_qp_encode(r, result->len, &coded);
		result = &coded;
	} else if (enc != NULL && strcasecmp(enc, "7bit") == 0 &&
	           is_8bit(result->data, result->len)) {
		*err_out = MAIL_CONVERT_FAILED; /* RFC 2045 section 2.7: ASCII only */
		goto out;
	}
	if (result->len > max_out) {
		*err_out = MAIL_CONVERT_TOOBIG;
		goto out;
	}
	if (result->len > 0)
		buf_append(out, result->data, result->len);
	rc = 0;
out:
	buf_deinit(&coded);
	buf_deinit(&text);
	buf_deinit(&utf8);
	buf_deinit(&decoded);
	return rc;
}
