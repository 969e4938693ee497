/* SPDX-License-Identifier: MIT */
/*
 * header.c: RFC 5322 header field iteration (section 2.2). Lines end in LF
 * with or without a CR before it, since a part's header may hold bare LFs
 * even after normalisation of the file (a lone CR is kept). A field runs from
 * its name to the last of its continuation lines (lines starting with a
 * space or tab). Lines without a colon are skipped rather than failing the
 * message, and everything is linear in the header size so a 1 MB header
 * costs one pass. Input is hostile and any byte value may appear.
 */
#include "mail/header.h"

#include <string.h>

#include "lib/arena.h"

size_t
mail_line_len(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *lf = memchr(p, '\n', (size_t)(end - p));

	return lf != NULL ? (size_t)(lf - p) + 1 : (size_t)(end - p);
}

bool
mail_line_is_blank(const unsigned char *p, size_t len)
{
	return (len == 1 && p[0] == '\n') || (len == 2 && p[0] == '\r' && p[1] == '\n');
}

void
mail_header_iter_init(struct mail_header_iter *it, const unsigned char *hdr, size_t len)
{
	it->p = hdr;
	it->end = hdr + len;
}

static bool
is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

bool
mail_header_iter_next(struct mail_header_iter *it, struct mail_header_field *out)
{
	while (it->p < it->end) {
		const unsigned char *line = it->p;
		size_t len = mail_line_len(line, it->end);

		if (mail_line_is_blank(line, len)) {
			it->p = it->end;
			return false;
		}
		/* The field goes on over continuation lines. */
		const unsigned char *next = line + len;
		while (next < it->end && is_wsp(*next))
			next += mail_line_len(next, it->end);
		it->p = next;

		if (is_wsp(line[0]))
			continue; /* continuation of a skipped line */
		const unsigned char *colon = memchr(line, ':', len);
		if (colon == NULL || colon == line)
			continue;
		size_t name_len = (size_t)(colon - line);
		while (name_len > 0 && is_wsp(line[name_len - 1]))
			name_len--; /* obs-optional: "Subject :" (RFC 5322 4.5.3) */
		bool bad = name_len == 0;
		for (size_t i = 0; i < name_len && !bad; i++)
			bad = line[i] <= ' ' || line[i] >= 127;
		if (bad)
			continue;

		const unsigned char *v = colon + 1, *vend = next;
		/* Leading blanks and folds before the first word are not content. */
		while (v < vend && (is_wsp(*v) || *v == '\r' || *v == '\n'))
			v++;
		if (vend > v && vend[-1] == '\n')
			vend--;
		if (vend > v && vend[-1] == '\r')
			vend--;
		out->name = line;
		out->name_len = name_len;
		out->value = v;
		out->value_len = (size_t)(vend - v);
		return true;
	}
	return false;
}

bool
mail_header_field_is(const struct mail_header_field *f, const char *name)
{
	size_t n = strlen(name);

	if (f->name_len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char a = f->name[i], b = (unsigned char)name[i];
		if (a >= 'A' && a <= 'Z')
			a = (unsigned char)(a + 32);
		if (b >= 'A' && b <= 'Z')
			b = (unsigned char)(b + 32);
		if (a != b)
			return false;
	}
	return true;
}

char *
mail_header_unfold(struct arena *a, const unsigned char *value, size_t len)
{
	char *s = arena_alloc(a, len + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (value[i] != '\r' && value[i] != '\n' && value[i] != '\0')
			s[n++] = (char)value[i];
	}
	s[n] = '\0';
	return s;
}
