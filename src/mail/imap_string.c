/* SPDX-License-Identifier: MIT */
/*
 * imap_string.c: the smallest safe IMAP form of a value: quoted when it can
 * be, a literal when it holds CR, LF or 8-bit bytes a quoted string may not
 * carry, a literal8 or nothing when it holds a NUL (the rule is in
 * imap_string.h). The values come from hostile headers and clients, so this
 * writer is what keeps a Subject or a mailbox name from breaking the
 * response framing.
 */
#include "mail/imap_string.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "lib/arena.h"
#include "lib/buf.h"

enum form { FORM_QUOTED, FORM_LITERAL, FORM_LITERAL8 };

static enum form
form_of(const char *s, size_t len, unsigned flags)
{
	bool has_8bit = false, has_crlf = false;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\0')
			return FORM_LITERAL8;
		if (c == '\r' || c == '\n')
			has_crlf = true;
		else if (c >= 0x80)
			has_8bit = true;
	}
	if (has_crlf)
		return FORM_LITERAL;
	/* RFC 9051 section 4.3 (and RFC 6855 section 3): a quoted string may
	   hold UTF-8, never arbitrary 8-bit bytes. */
	if (has_8bit &&
	    (!(flags & MAIL_IMAP_STRING_UTF8) || u8_check((const uint8_t *)s, len) != NULL))
		return FORM_LITERAL;
	return FORM_QUOTED;
}

int
mail_imap_string_append(struct buf *out, const char *s, size_t len, unsigned flags)
{
	switch (form_of(s, len, flags)) {
	case FORM_LITERAL8:
		if (!(flags & MAIL_IMAP_STRING_LITERAL8))
			return -1;
		buf_printf(out, "~{%zu}\r\n", len);
		buf_append(out, s, len);
		return 0;
	case FORM_LITERAL:
		buf_printf(out, "{%zu}\r\n", len);
		buf_append(out, s, len);
		return 0;
	case FORM_QUOTED:
		break;
	}
	buf_putc(out, '"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_putc(out, '\\');
		buf_putc(out, s[i]);
	}
	buf_putc(out, '"');
	return 0;
}

void
mail_imap_nstring_append(struct buf *out, const char *s)
{
	if (s == NULL)
		buf_puts(out, "NIL");
	else
		(void)mail_imap_string_append(out, s, strlen(s), 0); /* no NUL: cannot fail */
}

const char *
mail_imap_string_quote(struct arena *a, const char *s, unsigned flags)
{
	struct buf b;
	const char *r;

	buf_init(&b);
	(void)mail_imap_string_append(&b, s, strlen(s), flags); /* no NUL: cannot fail */
	r = arena_strndup(a, b.data, b.len);
	buf_deinit(&b);
	return r;
}

const char *
mail_imap_nstring_read(struct arena *a, const char **pp)
{
	const char *p = *pp;

	if (strncmp(p, "NIL", 3) == 0) {
		*pp = p + 3;
		return NULL;
	}
	if (*p == '"') {
		char *out = arena_alloc(a, strlen(p)), *q = out;
		for (p++; *p != '"'; p++) {
			if (*p == '\\')
				p++;
			if (*p == '\0')
				return NULL;
			*q++ = *p;
		}
		*q = '\0';
		*pp = p + 1;
		return out;
	}
	if (*p == '{') {
		char *end;
		unsigned long long n = strtoull(p + 1, &end, 10);
		if (end == p + 1 || strncmp(end, "}\r\n", 3) != 0 || strnlen(end + 3, n) < n)
			return NULL;
		*pp = end + 3 + n;
		return arena_strndup(a, end + 3, n);
	}
	return NULL;
}
