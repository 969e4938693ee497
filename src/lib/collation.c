/* SPDX-License-Identifier: MIT */
/*
 * collation.c: i;unicode-casemap (RFC 5051), i;ascii-casemap and i;octet
 * (RFC 4790 sections 9.2 and 9.3) as keys compared with memcmp(), and the
 * collation-order matching of the COMPARATOR command (RFC 4790 3.1-3.2,
 * RFC 5255 4.7).
 *
 * i;unicode-casemap prepares a string (RFC 5051 section 2) by reading each
 * code point of valid UTF-8 (an invalid sequence, an overlong form or a
 * surrogate ends the preparation: the string is then not valid input),
 * replacing it by its simple titlecase mapping (UnicodeData.txt field 14,
 * libunistring's uc_totitle()) and decomposing the result fully, canonical
 * and compatibility mappings alike (NFKD, u8_normalize()). So "émile",
 * "Émile" and "E\u0301MILE" are one key, "ǆ" and "ǅ" and "Ǆ" too (all
 * titlecase to "ǅ", which decomposes to "D" + "ž" decomposed); "ß" stays
 * itself (its titlecase "Ss" is a special, not a simple, mapping) and so
 * differs from "SS"; Turkish dotless "ı" titlecases to "I" while dotted
 * "İ" decomposes to "I" + U+0307, so "ı" matches "i" but "İ" does not.
 * Accented letters sort right after their base letter (the combining mark
 * follows it), which is what RFC 5051 means by collating "characters with
 * diacriticals with the non-diacritical character forms".
 *
 * Input is client or message text: any octets, any length. Keys are built
 * in the caller's buffer; libunistring's own results are freed here.
 */
#include "lib/collation.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unicase.h>
#include <uninorm.h>
#include <unistr.h>

#include "lib/buf.h"
#include "lib/util.h"

static const char *const names[COLLATION_COUNT] = {
        [COLLATION_UNICODE_CASEMAP] = "i;unicode-casemap",
        [COLLATION_ASCII_CASEMAP] = "i;ascii-casemap",
        [COLLATION_OCTET] = "i;octet",
};

const char *
collation_name(enum collation c)
{
	return names[c];
}

static char
upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
}

static bool
is_collation_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == ';' || c == '=' || c == '.';
}

bool
collation_order_is_valid(const char *order)
{
	if (order[0] == '\0')
		return false;
	for (const char *p = order; *p != '\0'; p++)
		if (!is_collation_char(*p) && *p != '*')
			return false;
	return true;
}

/* Glob match with "*" only: the classic single-restart walk, which never
   revisits more than one "*", so O(|pattern| * |name|) at worst. */
static bool
wildcard_matches(const char *pat, const char *name)
{
	const char *star = NULL, *resume = NULL;

	while (*name != '\0') {
		if (*pat == '*') {
			star = pat++;
			resume = name;
		} else if (*pat != '\0' && upper(*pat) == upper(*name)) {
			pat++;
			name++;
		} else if (star != NULL) {
			pat = star + 1;
			name = ++resume;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

bool
collation_order_matches(const char *order, enum collation c)
{
	if (strcasecmp(order, "default") == 0)
		return c == COLLATION_DEFAULT;
	return wildcard_matches(order, names[c]);
}

int
collation_select(const char *const *orders, size_t n, enum collation *active_out,
                 unsigned *matched_out, size_t *bad_out)
{
	bool chosen = false;

	*matched_out = 0;
	for (size_t i = 0; i < n; i++) {
		if (!collation_order_is_valid(orders[i])) {
			*bad_out = i;
			return -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		for (int c = 0; c < COLLATION_COUNT; c++) {
			if (!collation_order_matches(orders[i], (enum collation)c))
				continue;
			if (!chosen)
				*active_out = (enum collation)c;
			chosen = true;
			*matched_out |= 1u << c;
		}
	}
	return chosen ? 1 : 0;
}

static bool
is_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

static void
append_upper_ascii(const char *s, size_t n, struct buf *out)
{
	char *w = buf_reserve(out, n);

	for (size_t i = 0; i < n; i++)
		w[i] = upper(s[i]);
	buf_advance(out, n);
}

/* RFC 5051 section 2 on valid UTF-8: titlecase per code point, then NFKD. */
static bool
append_unicode_casemap(const char *s, size_t n, struct buf *out)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + n;
	struct buf title;
	size_t len = 0;

	if (u8_check(p, n) != NULL)
		return false;
	/* ASCII titlecases to its upper case and has no decomposition. */
	if (is_ascii(s, n)) {
		append_upper_ascii(s, n, out);
		return true;
	}
	buf_init(&title);
	while (p < end) {
		ucs4_t uc;
		int k = u8_mbtouc(&uc, p, (size_t)(end - p));
		/* UNSAFE: a code point takes at most 4 bytes of UTF-8. */
		uint8_t *w = (uint8_t *)buf_reserve(&title, 4);
		buf_advance(&title, (size_t)u8_uctomb(w, uc_totitle(uc), 4));
		p += k;
	}
	uint8_t *nfkd =
	        u8_normalize(UNINORM_NFKD, (const uint8_t *)title.data, title.len, NULL, &len);
	buf_deinit(&title);
	if (nfkd == NULL)
		abort(); /* only ENOMEM: the input was checked */
	buf_append(out, nfkd, len);
	free(nfkd);
	return true;
}

bool
collation_key(enum collation c, const char *s, size_t n, struct buf *out)
{
	switch (c) {
	case COLLATION_UNICODE_CASEMAP:
		return append_unicode_casemap(s, n, out);
	case COLLATION_ASCII_CASEMAP:
		append_upper_ascii(s, n, out);
		return true;
	default:
		buf_append(out, s, n);
		return true;
	}
}

void
collation_sort_key(enum collation c, const char *s, size_t n, struct buf *out)
{
	/* 0xFF never occurs in UTF-8 nor in a valid key. */
	if (!collation_key(c, s, n, out)) {
		buf_putc(out, (char)0xFF);
		buf_append(out, s, n);
	}
}

static bool
ascii_casemap_contains(const char *hay, size_t hn, const char *needle, size_t nn)
{
	for (size_t i = 0; i + nn <= hn; i++) {
		size_t k = 0;

		while (k < nn && upper(hay[i + k]) == upper(needle[k]))
			k++;
		if (k == nn)
			return true;
	}
	return false;
}

bool
collation_contains(enum collation c, const char *hay, size_t hn, const char *needle, size_t nn)
{
	struct buf h, k;
	bool found;

	if (nn == 0)
		return true;
	if (c == COLLATION_OCTET)
		return memmem(hay, hn, needle, nn) != NULL;
	if (c == COLLATION_ASCII_CASEMAP ||
	    (c == COLLATION_UNICODE_CASEMAP && is_ascii(hay, hn) && is_ascii(needle, nn)))
		return ascii_casemap_contains(hay, hn, needle, nn);
	buf_init(&h);
	buf_init(&k);
	if (collation_key(c, hay, hn, &h) && collation_key(c, needle, nn, &k))
		found = h.len >= k.len && memmem(h.data, h.len, k.data, k.len) != NULL;
	else
		found = memmem(hay, hn, needle, nn) != NULL;
	buf_deinit(&h);
	buf_deinit(&k);
	return found;
}
