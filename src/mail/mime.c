/* SPDX-License-Identifier: MIT */
/*
 * mime.c: builds the MIME part tree (RFC 2046 section 5) in one pass over
 * the message. A cursor walks line by line and never goes back; it keeps a
 * stack of the boundaries of the multiparts it is inside. Each part's body
 * ends at the first line that starts "--" plus any of those boundaries
 * (innermost first): its own starts a sibling, an outer one also ends the
 * enclosing multiparts, which is how a missing close delimiter is
 * tolerated. The CRLF before a boundary line belongs to the boundary
 * (section 5.1.1). Lines are counted as the cursor moves, so every part's
 * line count is free, and the work is linear in the message size times the
 * boundary stack depth, which MAIL_MIME_MAX_DEPTH bounds.
 *
 * Tolerated breakage, each the way Dovecot reads it so clients see the
 * same structure: no Content-Type (text/plain; in multipart/digest,
 * message/rfc822), an invalid one (ignored), a multipart without a boundary
 * or nested too deep (a text/plain leaf), a boundary that never appears (a
 * multipart with one empty part), a missing close delimiter (parts end at
 * the end of the enclosing body). Input is hostile; nothing here trusts a
 * length it has not measured.
 */
#include "mail/mime.h"

#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "mail/header.h"

struct cursor {
	struct arena *a;
	const unsigned char *msg;
	size_t len;
	size_t pos;  /* start of the current line */
	size_t line; /* LFs before pos */
	/* UNSAFE: one entry per enclosing multipart, and multiparts nest at
	   most MAIL_MIME_MAX_DEPTH deep (checked before each push). */
	const char *bnd[MAIL_MIME_MAX_DEPTH + 1];
	size_t bnd_len[MAIL_MIME_MAX_DEPTH + 1];
	size_t nbnd;
	size_t nparts;
};

static void
advance(struct cursor *c)
{
	size_t l = mail_line_len(c->msg + c->pos, c->msg + c->len);

	if (l > 0 && c->msg[c->pos + l - 1] == '\n')
		c->line++;
	c->pos += l;
}

/* Returns the stack index of the boundary the line at pos starts, or -1. */
static int
boundary_match(const struct cursor *c, bool *is_close)
{
	const unsigned char *p = c->msg + c->pos;
	size_t left = c->len - c->pos;

	if (c->nbnd == 0 || left < 2 || p[0] != '-' || p[1] != '-')
		return -1;
	for (size_t k = c->nbnd; k-- > 0;) {
		size_t bl = c->bnd_len[k];
		if (left >= 2 + bl && memcmp(p + 2, c->bnd[k], bl) == 0) {
			*is_close = left >= 4 + bl && p[2 + bl] == '-' && p[3 + bl] == '-';
			return (int)k;
		}
	}
	return -1;
}

/* Moves to the next boundary line (returning its stack index) or to the
   end (returning -1). */
static int
skip_to_boundary(struct cursor *c, bool *is_close)
{
	if (c->nbnd == 0) {
		/* Nothing can end this body early: count and jump. */
		const unsigned char *p = c->msg + c->pos, *end = c->msg + c->len;
		while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			c->line++;
			p++;
		}
		c->pos = c->len;
		return -1;
	}
	while (c->pos < c->len) {
		int m = boundary_match(c, is_close);
		if (m >= 0)
			return m;
		advance(c);
	}
	return -1;
}

/* The header ends after its blank line, or before a boundary line. */
static void
scan_header(struct cursor *c)
{
	bool is_close;

	while (c->pos < c->len) {
		if (boundary_match(c, &is_close) >= 0)
			return;
		size_t l = mail_line_len(c->msg + c->pos, c->msg + c->len);
		bool blank = mail_line_is_blank(c->msg + c->pos, l);
		advance(c);
		if (blank)
			return;
	}
}

/* RFC 2045 section 5.1 token characters. */
static bool
is_token_char(unsigned char ch)
{
	return ch > ' ' && ch < 127 && strchr("()<>@,;:\\\"/[]?=", ch) == NULL;
}

static bool
is_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!is_token_char((unsigned char)*s))
			return false;
	}
	return true;
}

static void
skip_cfws(const char **pp)
{
	const char *p = *pp;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '(')
			break;
		int depth = 0;
		for (; *p != '\0'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
		}
	}
	*pp = p;
}

/* The first token of a value ("base64 (comment)" gives "base64"). */
static const char *
first_token(struct arena *a, const char *v)
{
	skip_cfws(&v);
	const char *s = v;
	while (is_token_char((unsigned char)*v))
		v++;
	return v > s ? arena_strndup(a, s, (size_t)(v - s)) : NULL;
}

static void
parse_content_type(struct arena *a, struct mail_mime_content *mc, const char *v)
{
	const char *token;
	struct mail_param *params;
	size_t n;

	mail_params_parse(a, v, &token, &params, &n);
	if (token == NULL)
		return;
	const char *slash = strchr(token, '/');
	if (slash == NULL)
		return;
	char *type = arena_strndup(a, token, (size_t)(slash - token));
	const char *subtype = slash + 1;
	if (!is_token(type) || !is_token(subtype))
		return;
	mc->type = type;
	mc->subtype = subtype;
	mc->params = params;
	mc->nparams = n;
}

static void
parse_disposition(struct arena *a, struct mail_mime_content *mc, const char *v)
{
	const char *token;
	struct mail_param *params;
	size_t n;

	mail_params_parse(a, v, &token, &params, &n);
	if (token == NULL || !is_token(token))
		return;
	mc->disposition = token;
	mc->dparams = params;
	mc->ndparams = n;
}

/* Content-Language: 1#Language-tag (RFC 3282). */
static void
parse_language(struct arena *a, struct mail_mime_content *mc, const char *v)
{
	size_t cap = 1;

	for (const char *p = v; *p != '\0'; p++)
		cap += *p == ',';
	const char **langs = arena_alloc(a, sizeof(*langs) * cap);
	size_t n = 0;
	for (;;) {
		skip_cfws(&v);
		const char *s = v;
		while (is_token_char((unsigned char)*v))
			v++;
		if (v > s && n < cap)
			langs[n++] = arena_strndup(a, s, (size_t)(v - s));
		skip_cfws(&v);
		while (*v != '\0' && *v != ',')
			v++; /* garbage after a tag */
		if (*v != ',')
			break;
		v++;
	}
	if (n > 0) {
		mc->languages = langs;
		mc->nlanguages = n;
	}
}

static void
parse_content(struct cursor *c, struct mail_mime_part *part)
{
	struct mail_header_iter it;
	struct mail_header_field f;
	struct mail_mime_content *mc = &part->c;
	bool seen_type = false, seen_cte = false, seen_dsp = false, seen_lang = false;

	mail_header_iter_init(&it, c->msg + part->header_off, part->header_len);
	while (mail_header_iter_next(&it, &f)) {
		if (f.name_len < 8 || strncasecmp((const char *)f.name, "Content-", 8) != 0)
			continue;
		/* The first of each field counts, as in Dovecot. */
		char *v = mail_header_unfold(c->a, f.value, f.value_len);
		if (mail_header_field_is(&f, "Content-Type") && !seen_type) {
			seen_type = true;
			parse_content_type(c->a, mc, v);
		} else if (mail_header_field_is(&f, "Content-Transfer-Encoding") && !seen_cte) {
			seen_cte = true;
			mc->encoding = first_token(c->a, v);
		} else if (mail_header_field_is(&f, "Content-ID") && mc->id == NULL) {
			mc->id = v;
		} else if (mail_header_field_is(&f, "Content-Description") &&
		           mc->description == NULL) {
			mc->description = v;
		} else if (mail_header_field_is(&f, "Content-MD5") && mc->md5 == NULL) {
			mc->md5 = v;
		} else if (mail_header_field_is(&f, "Content-Location") && mc->location == NULL) {
			mc->location = v;
		} else if (mail_header_field_is(&f, "Content-Disposition") && !seen_dsp) {
			seen_dsp = true;
			parse_disposition(c->a, mc, v);
		} else if (mail_header_field_is(&f, "Content-Language") && !seen_lang) {
			seen_lang = true;
			parse_language(c->a, mc, v);
		}
	}
}

static void
child_append(struct mail_mime_part *parent, struct mail_mime_part *child)
{
	struct mail_mime_part **pp = &parent->children;

	/* Only for a message's one part and the synthetic empty part, so
	   the walk is over at most one child. */
	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = child;
	parent->nchildren++;
}

static struct mail_mime_part *parse_entity(struct cursor *c, struct mail_mime_part *parent,
                                           bool default_message, size_t depth);

static void
parse_multipart(struct cursor *c, struct mail_mime_part *part, const char *boundary, size_t depth)
{
	bool is_digest = strcasecmp(part->c.subtype, "digest") == 0;
	bool is_close, popped = false;
	size_t own = c->nbnd;
	struct mail_mime_part *last = NULL;

	c->bnd[own] = boundary;
	c->bnd_len[own] = strlen(boundary);
	c->nbnd++;
	for (;;) {
		int m = skip_to_boundary(c, &is_close);
		if (m < 0 || (size_t)m != own)
			break; /* the end, or an enclosing multipart's boundary */
		advance(c);
		if (is_close || c->nparts >= MAIL_MIME_MAX_PARTS) {
			/* The epilogue runs to an enclosing boundary or the end. */
			c->nbnd--;
			popped = true;
			skip_to_boundary(c, &is_close);
			break;
		}
		struct mail_mime_part *child = parse_entity(c, part, is_digest, depth + 1);
		if (last == NULL)
			part->children = child;
		else
			last->next = child;
		last = child;
		part->nchildren++;
	}
	if (!popped)
		c->nbnd--;
	if (part->children == NULL) {
		/* RFC 2046 requires a part; give it an empty one so the
		   BODYSTRUCTURE is valid and part 1 exists. */
		struct mail_mime_part *empty = arena_zalloc(c->a, sizeof(*empty));
		empty->parent = part;
		empty->header_off = empty->body_off = part->body_off;
		empty->is_text = true;
		empty->is_synthetic = true;
		child_append(part, empty);
	}
}

static struct mail_mime_part *
parse_entity(struct cursor *c, struct mail_mime_part *parent, bool default_message, size_t depth)
{
	struct mail_mime_part *part = arena_zalloc(c->a, sizeof(*part));
	const char *boundary = NULL;

	c->nparts++;
	part->parent = parent;
	part->header_off = c->pos;
	scan_header(c);
	part->header_len = c->pos - part->header_off;
	parse_content(c, part);
	part->body_off = c->pos;
	size_t body_line = c->line;

	const struct mail_mime_content *mc = &part->c;
	if (mc->type == NULL) {
		part->kind = default_message ? MAIL_MIME_MESSAGE : MAIL_MIME_LEAF;
		part->is_text = !default_message;
	} else if (strcasecmp(mc->type, "multipart") == 0) {
		boundary = mail_params_get(c->a, mc->params, mc->nparams, "boundary");
		if (boundary != NULL && *boundary != '\0' &&
		    strlen(boundary) <= MAIL_MIME_MAX_BOUNDARY && depth < MAIL_MIME_MAX_DEPTH)
			part->kind = MAIL_MIME_MULTIPART;
		else
			part->is_demoted = true;
	} else if (strcasecmp(mc->type, "message") == 0 &&
	           (strcasecmp(mc->subtype, "rfc822") == 0 ||
	            strcasecmp(mc->subtype, "global") == 0)) {
		if (depth < MAIL_MIME_MAX_DEPTH)
			part->kind = MAIL_MIME_MESSAGE;
		else
			part->is_demoted = true;
	} else {
		part->is_text = strcasecmp(mc->type, "text") == 0;
	}
	if (part->kind == MAIL_MIME_MESSAGE && depth >= MAIL_MIME_MAX_DEPTH) {
		part->kind = MAIL_MIME_LEAF;
		part->is_demoted = true;
	}
	if (part->is_demoted)
		part->is_text = true;
	if (part->is_text && !part->is_demoted)
		part->charset = mail_params_get(c->a, mc->params, mc->nparams, "charset");

	bool is_close;
	if (part->kind == MAIL_MIME_MULTIPART) {
		parse_multipart(c, part, boundary, depth);
	} else if (part->kind == MAIL_MIME_MESSAGE) {
		struct mail_mime_part *inner = parse_entity(c, part, false, depth + 1);
		inner->is_message_root = true;
		child_append(part, inner);
	} else {
		skip_to_boundary(c, &is_close);
	}

	/* Stopped at a boundary line: the CRLF before it is the boundary's. */
	size_t end = c->pos, lines = c->line - body_line;
	if (c->pos < c->len && end > part->body_off && c->msg[end - 1] == '\n') {
		end--;
		lines--;
		if (end > part->body_off && c->msg[end - 1] == '\r')
			end--;
	}
	part->body_len = end - part->body_off;
	part->body_lines = lines;
	return part;
}

struct mail_mime_part *
mail_mime_parse(struct arena *a, const unsigned char *msg, size_t len)
{
	struct cursor c;

	memset(&c, 0, sizeof(c));
	c.a = a;
	c.msg = msg;
	c.len = len;
	struct mail_mime_part *root = parse_entity(&c, NULL, false, 0);
	root->is_message_root = true;
	return root;
}

const char *
mail_mime_encoding(struct arena *a, const struct mail_mime_part *part)
{
	const char *e = part->c.encoding;

	if (e == NULL)
		return "7bit";
	char *l = arena_strdup(a, e);
	for (char *p = l; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	}
	return l;
}
