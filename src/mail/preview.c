/* SPDX-License-Identifier: MIT */
/*
 * preview.c: the PREVIEW text of RFC 8970, made at delivery (mail_parse())
 * and cached with the message, or on first FETCH for a message stored before
 * previews were kept. Section 3.1 leaves the algorithm to the server and asks
 * for at most 256 characters of UTF-8 meant to be read as text/plain; this is
 * what the common clients show in a message list:
 *
 *   - The part: the first text/plain or text/html leaf in document order,
 *     skipping attachments (Content-Disposition: attachment) and attached
 *     messages; inside multipart/alternative the text/plain alternative wins
 *     over the HTML one wherever it is. multipart/encrypted and S/MIME
 *     enveloped data end the search with "": the server cannot read them,
 *     and must not guess from what is beside them.
 *   - The text: transfer-decoded and converted to UTF-8 with the same code
 *     as the full-text index (text.c). HTML goes through libxml2's HTML
 *     SAX parser (error-tolerant, entities resolved, no tree built, stopped
 *     once the preview is full); text of <head>, <script>,
 *     <style>, <template> and <blockquote> (quoted replies) is left out and
 *     block elements separate words. In plain text, lines quoting an
 *     earlier message ("> ...") are left out.
 *   - The form: every run of white space, control characters, no-break
 *     spaces and byte order marks becomes one space; the ends are trimmed;
 *     the result is cut before the 257th character (code point), so it is
 *     never cut inside a UTF-8 sequence.
 *
 * Input is hostile and may be huge: only a bounded prefix of the part is
 * read (PLAIN_IN, HTML_IN bytes), so a 50 MB body costs no more than a
 * small one, and it is decoded and parsed a piece at a time until the
 * preview is full, so a long one costs about what its first lines do.
 */
#include "mail/preview.h"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <stdint.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/charset.h"
#include "mail/message.h"
#include "mail/mime.h"

/* Encoded bytes of a part read at most. Plain text may open with a long
   quote that is skipped; HTML mail often opens with kilobytes of <style>. */
#define PLAIN_IN (32 * 1024)
#define HTML_IN  (128 * 1024)
/* ... decoded this much (to the next line end) at a time, as long as the
   preview is not full. */
#define PIECE (8 * 1024)

struct sink {
	struct buf b;
	size_t chars;
	bool pending_space, is_full;
};

/* Appends s[0..len) (UTF-8), collapsing white space; stops when full. */
static void
sink_put(struct sink *s, const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len && !s->is_full; i++) {
		unsigned char c = p[i];

		if (c < 0x20 || c == ' ' || c == 0x7f) {
			s->pending_space = s->chars > 0;
			continue;
		}
		if (c == 0xc2 && i + 1 < len && p[i + 1] == 0xa0) { /* U+00A0 */
			s->pending_space = s->chars > 0;
			i++;
			continue;
		}
		if (c == 0xef && i + 2 < len && p[i + 1] == 0xbb && p[i + 2] == 0xbf) { /* U+FEFF */
			i += 2;
			continue;
		}
		if ((c & 0xc0) != 0x80) { /* a character starts */
			if (s->chars + s->pending_space >= MAIL_PREVIEW_MAX_CHARS) {
				s->is_full = true;
				break;
			}
			if (s->pending_space) {
				buf_putc(&s->b, ' ');
				s->chars++;
				s->pending_space = false;
			}
			s->chars++;
		}
		buf_putc(&s->b, (char)c);
	}
}

static void
sink_space(struct sink *s)
{
	s->pending_space = s->chars > 0;
}

/* Plain text, without the lines that quote another message. */
static void
plain_put(struct sink *s, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while (p < end && !s->is_full) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl != NULL ? nl : end;
		const char *q = p;

		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if (q == eol || *q != '>')
			sink_put(s, (const unsigned char *)p, (size_t)(eol - p));
		sink_space(s);
		p = nl != NULL ? nl + 1 : end;
	}
}

/* Elements whose text a reader does not see in the message body. */
static const char *const hidden_elements[] = {"head",     "script",     "style", "template",
                                              "noframes", "blockquote", NULL};
/* Elements that end a line (or a cell): their text is not run together. */
static const char *const block_elements[] = {
        "address", "article", "aside", "br", "dd",     "div", "dl", "dt",     "footer", "h1", "h2",
        "h3",      "h4",      "h5",    "h6", "header", "hr",  "li", "main",   "nav",    "ol", "p",
        "pre",     "section", "table", "td", "th",     "tr",  "ul", "center", NULL};

/* The SAX state of one HTML text: no tree is built, and the parse stops
   as soon as the preview is full (a newsletter's first lines). */
struct html_walk {
	struct sink *s;
	htmlParserCtxtPtr ctxt;
	unsigned hidden; /* depth inside a hidden element */
};

static bool
name_in(const xmlChar *name, const char *const *names)
{
	for (size_t i = 0; names[i] != NULL; i++)
		if (strcasecmp((const char *)name, names[i]) == 0)
			return true;
	return false;
}

static void
html_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
	struct html_walk *w = ctx;

	(void)atts;
	/* Every element inside a hidden one counts, so that its end tag
	   (libxml2 reports implied and void ones too) finds the depth right. */
	if (w->hidden > 0 || name_in(name, hidden_elements))
		w->hidden++;
	else if (name_in(name, block_elements))
		sink_space(w->s);
}

static void
html_end(void *ctx, const xmlChar *name)
{
	struct html_walk *w = ctx;

	if (w->hidden > 0)
		w->hidden--;
	else if (name_in(name, block_elements))
		sink_space(w->s);
}

static void
html_text(void *ctx, const xmlChar *text, int len)
{
	struct html_walk *w = ctx;

	if (w->hidden > 0 || len <= 0)
		return;
	sink_put(w->s, text, (size_t)len);
	if (w->s->is_full)
		xmlStopParser(w->ctxt);
}

/* Parse errors are the norm in mail HTML: nothing to report. */
static void
html_quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static pthread_once_t libxml_once = PTHREAD_ONCE_INIT;

static void
libxml_init(void)
{
	xmlInitParser(); /* once, before threads parse at the same time */
}

/* Starts a parse whose text goes to s; false when libxml2 cannot. */
static bool
html_begin(struct html_walk *w, struct sink *s)
{
	/* The text is UTF-8 already (converted from the part's charset): a
	   <meta charset> inside must not make libxml2 convert it again. */
	const int options = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
	                    HTML_PARSE_NONET | HTML_PARSE_IGNORE_ENC | HTML_PARSE_NODEFDTD;
	htmlSAXHandler sax;

	pthread_once(&libxml_once, libxml_init);
	memset(&sax, 0, sizeof(sax));
	sax.startElement = html_start;
	sax.endElement = html_end;
	sax.characters = html_text;
	sax.cdataBlock = html_text;
	sax.warning = html_quiet;
	sax.error = html_quiet;
	sax.fatalError = html_quiet;
	*w = (struct html_walk){.s = s};
	w->ctxt = htmlCreatePushParserCtxt(&sax, w, NULL, 0, NULL, XML_CHAR_ENCODING_UTF8);
	if (w->ctxt == NULL)
		return false;
	htmlCtxtUseOptions(w->ctxt, options);
	return true;
}

/* The next piece of the text (any cut: the push parser keeps state). */
static void
html_feed(struct html_walk *w, const char *text, size_t len)
{
	if (len > 0 && len <= INT32_MAX && !w->s->is_full)
		htmlParseChunk(w->ctxt, text, (int)len, 0);
}

static void
html_finish(struct html_walk *w)
{
	if (!w->s->is_full)
		htmlParseChunk(w->ctxt, NULL, 0, 1);
	htmlFreeParserCtxt(w->ctxt);
}

static const char *
sink_finish(struct arena *a, struct sink *s)
{
	const char *r = arena_strndup(a, s->b.data != NULL ? s->b.data : "", s->b.len);

	buf_deinit(&s->b);
	return r;
}

const char *
mail_preview_from_text(struct arena *a, const char *text, size_t len, bool is_html)
{
	struct sink s = {.chars = 0};

	buf_init(&s.b);
	if (is_html) {
		struct html_walk w;
		if (html_begin(&w, &s)) {
			html_feed(&w, text, len);
			html_finish(&w);
		}
	} else {
		plain_put(&s, text, len);
	}
	return sink_finish(a, &s);
}

static bool
type_is(const struct mail_mime_part *p, const char *type, const char *subtype)
{
	return p->c.type != NULL && strcasecmp(p->c.type, type) == 0 && p->c.subtype != NULL &&
	       strcasecmp(p->c.subtype, subtype) == 0;
}

enum found {
	FOUND_NONE,
	FOUND_PART,
	FOUND_ENCRYPTED, /* stop: no preview */
};

/* A leaf the preview may come from; *is_html_out says which kind. */
static bool
is_text_leaf(const struct mail_mime_part *p, bool *is_html_out)
{
	if (p->kind != MAIL_MIME_LEAF || !p->is_text || p->is_synthetic)
		return false;
	if (p->c.disposition != NULL && strcasecmp(p->c.disposition, "attachment") == 0)
		return false;
	/* No (or an ignored) Content-Type is text/plain (RFC 2045 5.2). */
	if (p->c.type == NULL || p->is_demoted || type_is(p, "text", "plain")) {
		*is_html_out = false;
		return true;
	}
	if (type_is(p, "text", "html")) {
		*is_html_out = true;
		return true;
	}
	return false;
}

static bool
is_encrypted(const struct mail_mime_part *p)
{
	/* RFC 1847 section 2.2; RFC 8551 section 3.3 (and the pre-standard
	   x- name clients still send). A signed-only pkcs7-mime is treated the
	   same: its content is inside the opaque blob too. */
	return (p->kind == MAIL_MIME_MULTIPART && type_is(p, "multipart", "encrypted")) ||
	       type_is(p, "application", "pkcs7-mime") || type_is(p, "application", "x-pkcs7-mime");
}

/* The first usable part under p, depth first; in an alternative the plain
   one. Recursion is bounded by MAIL_MIME_MAX_DEPTH (mime.c). */
static enum found
find_part(const struct mail_mime_part *p, const struct mail_mime_part **out, bool *is_html_out)
{
	bool is_html;

	if (is_encrypted(p))
		return FOUND_ENCRYPTED;
	if (is_text_leaf(p, &is_html)) {
		*out = p;
		*is_html_out = is_html;
		return FOUND_PART;
	}
	if (p->kind != MAIL_MIME_MULTIPART)
		return FOUND_NONE; /* other leaves, attached messages */

	bool is_alternative = type_is(p, "multipart", "alternative");
	const struct mail_mime_part *html_part = NULL;
	for (const struct mail_mime_part *ch = p->children; ch != NULL; ch = ch->next) {
		const struct mail_mime_part *found;
		enum found r = find_part(ch, &found, &is_html);

		if (r == FOUND_ENCRYPTED)
			return r;
		if (r != FOUND_PART)
			continue;
		if (!is_alternative || !is_html) {
			*out = found;
			*is_html_out = is_html;
			return FOUND_PART;
		}
		if (html_part == NULL)
			html_part = found;
	}
	if (html_part != NULL) {
		*out = html_part;
		*is_html_out = true;
		return FOUND_PART;
	}
	return FOUND_NONE;
}

/* Drops an incomplete UTF-8 sequence at the end of what a cut left. */
static size_t
utf8_trim_partial(const unsigned char *s, size_t len)
{
	for (size_t back = 1; back <= 4 && back <= len; back++) {
		unsigned char c = s[len - back];
		if ((c & 0xc0) == 0x80)
			continue;
		size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		return need > back ? len - back : len;
	}
	return len;
}

/* Decodes in[0..len) (a piece of the part, whole lines) and converts it to
   UTF-8 into text (emptied first); is_cut: the part goes on past it. */
static void
piece_text(const struct mail_mime_part *part, const char *encoding, const unsigned char *in,
           size_t len, bool is_cut, struct buf *decoded, struct buf *text)
{
	const unsigned char *d = in;
	size_t d_len = len;

	buf_reset(decoded);
	buf_reset(text);
	if (!mail_cte_is_identity(encoding) && mail_decode_cte(encoding, in, len, decoded) == 0) {
		d = (const unsigned char *)(decoded->data != NULL ? decoded->data : "");
		d_len = decoded->len;
	}
	if (is_cut)
		d_len = utf8_trim_partial(d, d_len);
	if (part->charset == NULL || mail_charset_to_utf8(part->charset, d, d_len, text) < 0)
		mail_utf8_append_guess(text, d, d_len);
}

const char *
mail_preview_make(struct arena *a, const unsigned char *msg, const struct mail_mime_part *root)
{
	const struct mail_mime_part *part;
	bool is_html = false;

	if (find_part(root, &part, &is_html) != FOUND_PART || part->body_len == 0)
		return "";

	struct arena *tmp = arena_new(256);
	struct sink s = {.chars = 0};
	struct html_walk w;
	struct buf decoded, text;
	const unsigned char *body = msg + part->body_off;
	size_t max_in = is_html ? HTML_IN : PLAIN_IN;
	size_t in_len = part->body_len < max_in ? part->body_len : max_in;
	const char *encoding = mail_mime_encoding(tmp, part);

	buf_init(&s.b);
	buf_init(&decoded);
	buf_init(&text);
	if (!is_html || html_begin(&w, &s)) {
		/* Piece by piece, whole lines (both transfer encodings and
		   the stateful charsets restart at a line end), until the
		   preview is full: the usual message decodes one piece. */
		for (size_t off = 0; off < in_len && !s.is_full;) {
			size_t n = in_len - off;
			if (n > PIECE) {
				const unsigned char *nl =
				        memchr(body + off + PIECE, '\n', in_len - off - PIECE);
				n = nl != NULL ? (size_t)(nl - (body + off)) + 1 : in_len - off;
			}
			bool is_cut = off + n == in_len && in_len < part->body_len;
			piece_text(part, encoding, body + off, n, is_cut, &decoded, &text);
			if (is_html)
				html_feed(&w, text.data != NULL ? text.data : "", text.len);
			else
				plain_put(&s, text.data != NULL ? text.data : "", text.len);
			off += n;
		}
		if (is_html)
			html_finish(&w);
	}
	buf_deinit(&text);
	buf_deinit(&decoded);
	arena_free(&tmp);
	return sink_finish(a, &s);
}
