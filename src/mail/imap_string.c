/* SPDX-License-Identifier: MIT */
/*
 * imap_string.c: the smallest safe IMAP form of a value: quoted when it can
 * be, a literal when it holds CR, LF or 8-bit bytes. The values come from
 * hostile headers, so the writer is what keeps a Subject from breaking the
 * FETCH response framing.
 */
#include "mail/imap_string.h"

#include <stdbool.h>
#include <string.h>

#include "lib/buf.h"

void
mail_imap_string_append(struct buf *out, const char *s, size_t len)
{
	size_t nuls = 0;
	bool literal = false;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\0')
			nuls++;
		else if (c == '\r' || c == '\n' || c >= 0x80)
			literal = true;
	}
	if (literal) {
		buf_printf(out, "{%zu}\r\n", len - nuls);
		for (size_t i = 0; i < len; i++) {
			if (s[i] != '\0')
				buf_putc(out, s[i]);
		}
		return;
	}
	buf_putc(out, '"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\0')
			continue;
		if (s[i] == '"' || s[i] == '\\')
			buf_putc(out, '\\');
		buf_putc(out, s[i]);
	}
	buf_putc(out, '"');
}

void
mail_imap_nstring_append(struct buf *out, const char *s)
{
	if (s == NULL)
		buf_puts(out, "NIL");
	else
		mail_imap_string_append(out, s, strlen(s));
}
