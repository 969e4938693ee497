/* SPDX-License-Identifier: MIT */
/*
 * words.c: see words.h. The tokenizer walks code points with libunistring
 * (u8_mbtouc: an invalid sequence is U+FFFD, which is no letter and so ends
 * a word) and lower-cases each word with u8_tolower: the full-text index
 * folds case the same simple way (FTS5 "case_sensitive 0"), so every
 * vocabulary word is one an index lookup finds ("Straße" is "straße", not
 * "strasse", which the index would not find; the two are a variant apart). The distance is the
 * optimal string alignment variant of Damerau-Levenshtein over code points, computed only in the
 * diagonal band the allowed edits leave (Ukkonen's cut-off), so a long word costs no more than a
 * short one.
 */
#include "mail/words.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <unistr.h>

#include "lib/util.h"

void
mail_word_iter_init(struct mail_word_iter *it, const char *text, size_t len)
{
	it->p = (const unsigned char *)text;
	it->end = it->p + len;
}

static bool
is_word_char(ucs4_t c)
{
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
	return uc_is_alnum(c);
}

bool
mail_word_iter_next(struct mail_word_iter *it, char out[MAIL_WORD_BUF], size_t *len_out)
{
	while (it->p < it->end) {
		const unsigned char *start;
		size_t chars = 0;
		bool has_letter = false, is_ascii = true;
		ucs4_t c;
		int n;

		/* Skip to a word character. */
		for (;;) {
			if (it->p >= it->end)
				return false;
			n = u8_mbtouc(&c, it->p, (size_t)(it->end - it->p));
			if (is_word_char(c))
				break;
			it->p += n;
		}
		start = it->p;
		while (it->p < it->end) {
			n = u8_mbtouc(&c, it->p, (size_t)(it->end - it->p));
			if (!is_word_char(c))
				break;
			chars++;
			has_letter |= c > '9' || c < '0';
			is_ascii &= c < 0x80;
			it->p += n;
		}
		size_t bytes = (size_t)(it->p - start);
		if (chars < MAIL_WORD_MIN || chars > MAIL_WORD_MAX || !has_letter)
			continue;
		if (is_ascii) {
			for (size_t i = 0; i < bytes; i++) {
				char ch = (char)start[i];
				out[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
			}
			out[bytes] = '\0';
			*len_out = bytes;
			return true;
		}
		size_t lower_len = MAIL_WORD_BUF - 1;
		uint8_t *lower = u8_tolower(start, bytes, NULL, NULL, (uint8_t *)out, &lower_len);
		if (lower == NULL)
			continue;
		if (lower != (uint8_t *)out) {
			/* Did not fit (cannot happen for MAIL_WORD_MAX characters,
			   see MAIL_WORD_BUF): drop the word rather than cut it. */
			free(lower);
			continue;
		}
		out[lower_len] = '\0';
		*len_out = lower_len;
		return true;
	}
	return false;
}

/* The code points of a word, at most max; their count. */
static size_t
code_points(const char *s, ucs4_t *out, size_t max)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t n = 0, len = strlen(s);

	while (len > 0 && n < max) {
		ucs4_t c;
		int k = u8_mbtouc(&c, p, len);
		out[n++] = c;
		p += k;
		len -= (size_t)k;
	}
	return n;
}

/* Longest word compared, in code points (a lower-cased MAIL_WORD_MAX word
   can be longer than MAIL_WORD_MAX: "İ" becomes "i" and a dot above). */
#define CMP_MAX (MAIL_WORD_MAX * 3)

/*
 * Optimal string alignment distance of a[0..n) and b[0..m), or max + 1 when
 * it is over max. Three rows of the dynamic programme; cells more than max
 * off the diagonal cannot lead to an answer within max and stay at max + 1.
 */
static unsigned
osa_distance(const ucs4_t *a, size_t n, const ucs4_t *b, size_t m, unsigned max)
{
	unsigned rows[3][CMP_MAX + 1];
	unsigned *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
	const unsigned far = max + 1;

	for (size_t j = 0; j <= m; j++)
		prev[j] = j <= max ? (unsigned)j : far;
	for (size_t i = 1; i <= n; i++) {
		size_t lo = i > max ? i - max : 1, hi = MIN(m, i + max);
		unsigned best = far;

		for (size_t j = 0; j <= m; j++)
			cur[j] = far;
		if (i <= max)
			cur[0] = (unsigned)i;
		for (size_t j = lo; j <= hi; j++) {
			unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
			unsigned v = prev[j - 1] + cost;
			v = MIN(v, prev[j] + 1);
			v = MIN(v, cur[j - 1] + 1);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
				v = MIN(v, prev2[j - 2] + 1);
			cur[j] = MIN(v, far);
			best = MIN(best, cur[j]);
		}
		if (best > max)
			return far;
		unsigned *t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[m];
}

unsigned
mail_word_similarity(const char *needle, const char *word)
{
	ucs4_t a[CMP_MAX], b[CMP_MAX];
	size_t n, m;
	unsigned max, d;

	if (strcmp(needle, word) == 0)
		return 100;
	n = code_points(needle, a, CMP_MAX);
	m = code_points(word, b, CMP_MAX);
	if (n == 0 || m == 0)
		return 0;
	unsigned prefix = 0;
	size_t shorter = MIN(n, m), extra = MAX(n, m) - shorter;
	if (shorter >= 4 && extra <= 4 && memcmp(a, b, shorter * sizeof(a[0])) == 0)
		prefix = 100 - 10 * (unsigned)extra;
	max = n <= 4 ? 1 : n <= 7 ? 2 : 3;
	if ((n > m ? n - m : m - n) > max)
		return prefix;
	d = osa_distance(a, n, b, m, max);
	if (d > max)
		return prefix;
	if (d == 0)
		return 100; /* equal code points, different bytes: cannot happen for valid UTF-8 */
	return MAX(prefix, 100 - (unsigned)(100 * d / MAX(n, m)));
}
