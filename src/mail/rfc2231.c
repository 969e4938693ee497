/* SPDX-License-Identifier: MIT */
/*
 * rfc2231.c: MIME parameter lists, "; name=value" after a Content-Type or
 * Content-Disposition token, with RFC 2231 sections 3 (continuations) and
 * 4 (charset'language'%XX values). Written for the mail that exists: values
 * may be unquoted yet hold "=" or "/" (boundaries do), a ";" may be missing
 * between parameters, quotes may be unbalanced, and continuation indexes may
 * come in any order. Output keeps the order of the input except that merged
 * RFC 2231 parameters come last, sorted, which is what Dovecot sends, so
 * clients see the same BODYSTRUCTURE.
 */
#include "mail/rfc2231.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "mail/charset.h"

#define PARAMS_MAX 256 /* a header has a few; more is an attack */

struct raw_param {
	char *key; /* base name for RFC 2231 sections */
	char *value;
	unsigned int idx;
	bool is_section, is_extended;
	size_t order;
};

struct scanner {
	const char *p;
};

static void
skip_cfws(struct scanner *s)
{
	for (;;) {
		while (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n')
			s->p++;
		if (*s->p != '(')
			return;
		int depth = 0;
		while (*s->p != '\0') {
			if (*s->p == '\\' && s->p[1] != '\0') {
				s->p += 2;
				continue;
			}
			if (*s->p == '(')
				depth++;
			else if (*s->p == ')' && --depth == 0) {
				s->p++;
				break;
			}
			s->p++;
		}
	}
}

static bool
is_token_char(char c)
{
	/* RFC 2045 token, but "=" "/" "?" ":" "@" etc. allowed, as mailers do. */
	return (unsigned char)c > ' ' && c != ';' && c != '"' && c != '(' && c != ')' && c != 0x7f;
}

static bool
is_name_char(char c)
{
	return is_token_char(c) && c != '=' && c != ',';
}

static char *
read_quoted(struct arena *a, struct scanner *s)
{
	struct buf b;

	buf_init(&b);
	s->p++; /* opening quote */
	while (*s->p != '\0' && *s->p != '"') {
		if (*s->p == '\\' && s->p[1] != '\0')
			s->p++;
		if (*s->p != '\r' && *s->p != '\n')
			buf_putc(&b, *s->p);
		s->p++;
	}
	if (*s->p == '"')
		s->p++;
	char *v = arena_strndup(a, b.data != NULL ? b.data : "", b.len);
	buf_deinit(&b);
	return v;
}

static int
raw_cmp(const void *x, const void *y)
{
	const struct raw_param *a = x, *b = y;
	int r = strcasecmp(a->key, b->key);

	if (r != 0)
		return r;
	if (a->idx != b->idx)
		return a->idx < b->idx ? -1 : 1;
	return a->order < b->order ? -1 : (a->order > b->order);
}

static void
escape_percent(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '%')
			buf_puts(b, "%25");
		else
			buf_putc(b, *s);
	}
}

/* Splits "name*3*" into base name, index and flags; false for a plain name. */
static bool
section_split(struct arena *a, const char *key, struct raw_param *rp)
{
	const char *star = strchr(key, '*');

	if (star == NULL)
		return false;
	const char *p = star + 1;
	unsigned int idx = 0;
	bool has_idx = false;
	while (*p >= '0' && *p <= '9' && idx < 100000) {
		idx = idx * 10 + (unsigned int)(*p - '0');
		has_idx = true;
		p++;
	}
	if (has_idx && *p == '*') {
		rp->is_extended = true;
		p++;
	} else if (!has_idx) {
		rp->is_extended = true; /* "name*" */
	} else {
		rp->is_extended = false;
	}
	if (*p != '\0')
		return false;
	rp->key = arena_strndup(a, key, (size_t)(star - key));
	rp->idx = idx;
	rp->is_section = true;
	return true;
}

void
mail_params_parse(struct arena *a, const char *value, const char **token_out,
                  struct mail_param **params_out, size_t *count_out)
{
	struct scanner s = {value};
	struct raw_param *raw = NULL;
	size_t nraw = 0, cap = 0;

	skip_cfws(&s);
	const char *t = s.p;
	while (*s.p != '\0' && *s.p != ';' && *s.p != ' ' && *s.p != '\t' && *s.p != '(' &&
	       *s.p != '\r' && *s.p != '\n')
		s.p++;
	*token_out = s.p > t ? arena_strndup(a, t, (size_t)(s.p - t)) : NULL;

	while (*s.p != '\0' && nraw < PARAMS_MAX) {
		skip_cfws(&s);
		if (*s.p == ';') {
			s.p++;
			continue;
		}
		if (*s.p == '\0')
			break;
		const char *k = s.p;
		while (is_name_char(*s.p))
			s.p++;
		if (s.p == k) {
			s.p++; /* garbage: skip one character and resynchronise */
			continue;
		}
		char *key = arena_strndup(a, k, (size_t)(s.p - k));
		skip_cfws(&s);
		if (*s.p != '=')
			continue; /* a name without a value is dropped */
		s.p++;
		skip_cfws(&s);
		char *val;
		if (*s.p == '"') {
			val = read_quoted(a, &s);
		} else {
			const char *v = s.p;
			while (is_token_char(*s.p))
				s.p++;
			val = arena_strndup(a, v, (size_t)(s.p - v));
		}
		if (nraw == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			raw = xrealloc(raw, sizeof(*raw) * cap);
		}
		struct raw_param *rp = &raw[nraw];
		memset(rp, 0, sizeof(*rp));
		rp->order = nraw;
		rp->value = val;
		if (!section_split(a, key, rp)) {
			rp->key = key;
			rp->is_section = false;
		}
		nraw++;
	}

	struct mail_param *out = arena_alloc(a, sizeof(*out) * (nraw + 1));
	size_t n = 0;
	for (size_t i = 0; i < nraw; i++) {
		if (!raw[i].is_section) {
			out[n].name = raw[i].key;
			out[n].value = raw[i].value;
			n++;
		}
	}
	/* Sections: sort by name and index, then merge runs 0..k-1. */
	struct raw_param *sec = arena_alloc(a, sizeof(*sec) * (nraw + 1));
	size_t nsec = 0;
	for (size_t i = 0; i < nraw; i++) {
		if (raw[i].is_section)
			sec[nsec++] = raw[i];
	}
	qsort(sec, nsec, sizeof(*sec), raw_cmp);
	for (size_t i = 0, next; i < nsec; i = next) {
		bool complete = true, extended = false;
		unsigned int want = 0;
		for (next = i; next < nsec && strcasecmp(sec[next].key, sec[i].key) == 0; next++) {
			if (sec[next].idx != want++)
				complete = false;
			if (sec[next].is_extended)
				extended = true;
		}
		if (!complete) {
			for (size_t j = i; j < next; j++) {
				out[n].name =
				        arena_printf(a, sec[j].is_extended ? "%s*%u*" : "%s*%u",
				                     sec[j].key, sec[j].idx);
				out[n].value = sec[j].value;
				n++;
			}
			continue;
		}
		struct buf b;
		buf_init(&b);
		if (extended && !sec[i].is_extended)
			buf_puts(&b, "''");
		for (size_t j = i; j < next; j++) {
			if (extended && !sec[j].is_extended)
				escape_percent(&b, sec[j].value);
			else
				buf_puts(&b, sec[j].value);
		}
		out[n].name = extended ? arena_printf(a, "%s*", sec[i].key) : sec[i].key;
		out[n].value = arena_strndup(a, b.data != NULL ? b.data : "", b.len);
		buf_deinit(&b);
		n++;
	}
	free(raw);
	*params_out = out;
	*count_out = n;
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "charset'lang'%XX..." to UTF-8. */
static const char *
extended_decode(struct arena *a, const char *v)
{
	const char *q1 = strchr(v, '\''), *q2 = q1 != NULL ? strchr(q1 + 1, '\'') : NULL;
	const char *text = q2 != NULL ? q2 + 1 : v;
	char *charset = q2 != NULL ? arena_strndup(a, v, (size_t)(q1 - v)) : arena_strdup(a, "");
	struct buf raw, out;

	buf_init(&raw);
	for (const char *p = text; *p != '\0'; p++) {
		int h, l;
		if (*p == '%' && (h = hex_digit(p[1])) >= 0 && (l = hex_digit(p[2])) >= 0) {
			buf_putc(&raw, (char)(h << 4 | l));
			p += 2;
		} else {
			buf_putc(&raw, *p);
		}
	}
	buf_init(&out);
	if (*charset == '\0' ||
	    mail_charset_to_utf8(charset, (const unsigned char *)raw.data, raw.len, &out) < 0)
		mail_utf8_append_guess(&out, (const unsigned char *)raw.data, raw.len);
	const char *s = arena_strndup(a, out.data != NULL ? out.data : "", out.len);
	buf_deinit(&raw);
	buf_deinit(&out);
	return s;
}

const char *
mail_params_get(struct arena *a, const struct mail_param *params, size_t count, const char *name)
{
	size_t n = strlen(name);

	/* RFC 2231 section 4: the extended form wins over a plain fallback. */
	for (size_t i = 0; i < count; i++) {
		const char *pn = params[i].name;
		if (strncasecmp(pn, name, n) == 0 && pn[n] == '*' && pn[n + 1] == '\0')
			return extended_decode(a, params[i].value);
	}
	for (size_t i = 0; i < count; i++) {
		if (strcasecmp(params[i].name, name) == 0)
			return params[i].value;
	}
	return NULL;
}
