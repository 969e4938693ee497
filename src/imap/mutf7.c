/* SPDX-License-Identifier: MIT */
/*
 * mutf7.c: modified UTF-7 codec. Printable ASCII stands for itself except
 * '&', written "&-"; other characters are UTF-16BE in modified base64
 * (',' for '/', no padding) between '&' and '-'. Decoding is strict so a
 * name has exactly one wire form: shift sequences that encode printable
 * ASCII, are empty, or leave stray bits are rejected. So are shifts that
 * encode a control character (U+0000-U+001F, U+007F-U+009F): "&AAA-" is a
 * NUL, which would end the decoded C string and alias "zz&AAA-x" to "zz".
 */
#include "imap/mutf7.h"

#include <stdint.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* Decodes one UTF-8 code point; returns its length, 0 on invalid input. */
static size_t
utf8_decode(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	size_t len;
	uint32_t min;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		*cp = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		*cp = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		*cp = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return len;
}

bool
imap_utf8_is_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;

	while (*p != '\0') {
		size_t n = utf8_decode(p, &cp);
		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

static void
utf8_put(struct buf *b, uint32_t cp)
{
	char c[4];

	if (cp < 0x80) {
		buf_putc(b, (char)cp);
	} else if (cp < 0x800) {
		c[0] = (char)(0xc0 | (cp >> 6));
		c[1] = (char)(0x80 | (cp & 0x3f));
		buf_append(b, c, 2);
	} else if (cp < 0x10000) {
		c[0] = (char)(0xe0 | (cp >> 12));
		c[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		c[2] = (char)(0x80 | (cp & 0x3f));
		buf_append(b, c, 3);
	} else {
		c[0] = (char)(0xf0 | (cp >> 18));
		c[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		c[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		c[3] = (char)(0x80 | (cp & 0x3f));
		buf_append(b, c, 4);
	}
}

static const char *
finish(struct arena *a, struct buf *b, bool ok)
{
	const char *out = ok ? arena_strndup(a, b->data ? b->data : "", b->len) : NULL;

	buf_deinit(b);
	return out;
}

const char *
imap_mutf7_encode(struct arena *a, const char *in)
{
	const unsigned char *p = (const unsigned char *)in;
	struct buf b;

	buf_init(&b);
	while (*p != '\0') {
		if (*p >= 0x20 && *p < 0x7f) {
			if (*p == '&')
				buf_puts(&b, "&-");
			else
				buf_putc(&b, (char)*p);
			p++;
			continue;
		}
		/* A run of non-printable-ASCII characters becomes one shift. */
		uint32_t bits = 0;
		int nbits = 0;
		buf_putc(&b, '&');
		while (*p != '\0' && !(*p >= 0x20 && *p < 0x7f)) {
			uint32_t cp;
			size_t n = utf8_decode(p, &cp);
			if (n == 0)
				return finish(a, &b, false);
			p += n;
			uint16_t units[2];
			int nu = 1;
			if (cp >= 0x10000) {
				cp -= 0x10000;
				units[0] = (uint16_t)(0xd800 | (cp >> 10));
				units[1] = (uint16_t)(0xdc00 | (cp & 0x3ff));
				nu = 2;
			} else {
				units[0] = (uint16_t)cp;
			}
			for (int u = 0; u < nu; u++) {
				bits = (bits << 16) | units[u];
				nbits += 16;
				while (nbits >= 6) {
					nbits -= 6;
					buf_putc(&b, b64[(bits >> nbits) & 0x3f]);
				}
			}
		}
		if (nbits > 0)
			buf_putc(&b, b64[(bits << (6 - nbits)) & 0x3f]);
		buf_putc(&b, '-');
	}
	return finish(a, &b, true);
}

static int
b64_value(char c)
{
	const char *p = c != '\0' ? strchr(b64, c) : NULL;
	return p != NULL ? (int)(p - b64) : -1;
}

const char *
imap_mutf7_decode(struct arena *a, const char *in)
{
	const char *p = in;
	struct buf b;

	buf_init(&b);
	while (*p != '\0') {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c >= 0x7f)
			return finish(a, &b, false);
		if (c != '&') {
			buf_putc(&b, (char)c);
			p++;
			continue;
		}
		p++;
		if (*p == '-') {
			buf_putc(&b, '&');
			p++;
			continue;
		}
		uint32_t bits = 0, high = 0;
		int nbits = 0;
		bool any = false;
		for (; *p != '-'; p++) {
			int v = b64_value(*p);
			if (v < 0)
				return finish(a, &b, false);
			bits = (bits << 6) | (uint32_t)v;
			nbits += 6;
			if (nbits < 16)
				continue;
			nbits -= 16;
			uint32_t unit = (bits >> nbits) & 0xffff;
			any = true;
			if (high != 0) {
				if (unit < 0xdc00 || unit > 0xdfff)
					return finish(a, &b, false);
				utf8_put(&b, 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00));
				high = 0;
			} else if (unit >= 0xd800 && unit <= 0xdbff) {
				high = unit;
			} else if ((unit >= 0xdc00 && unit <= 0xdfff) || unit < 0xa0) {
				/* a lone low surrogate; printable ASCII must not be
				   encoded, and no name holds a control character */
				return finish(a, &b, false);
			} else {
				utf8_put(&b, unit);
			}
		}
		/* Leftover bits must be zero padding of under 6 bits... of a unit. */
		if (!any || high != 0 || nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0)
			return finish(a, &b, false);
		p++; /* '-' */
		/* "&...-&...-" must have been one shift sequence */
		if (*p == '&' && p[1] != '-')
			return finish(a, &b, false);
	}
	return finish(a, &b, true);
}
