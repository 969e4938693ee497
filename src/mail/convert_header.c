/* SPDX-License-Identifier: MIT */
/*
 * convert_header.c: the header conversion of CONVERT BODY[HEADER] and
 * BODY[n.MIME] (RFC 5259 section 6): encoded words (RFC 2047) moved into
 * the charset the client asked for; see mail_convert_header() in
 * convert.h.
 *
 * A word is found as RFC 2047 section 2 spells it, "=?" charset "?" B or Q
 * "?" encoded-text "?=", with no blank or "?" inside; it is decoded to
 * UTF-8 by mail_rfc2047_decode_buf() (which leaves a word it cannot decode
 * as it was: so is it here), converted to the target charset and written
 * again in B encoding. RFC 2047 section 2 limits a word to 75 characters,
 * so a long one becomes several, split between characters and folded
 * ("CRLF SP": blanks between encoded words are not part of the text,
 * section 6.2); when the first would end its line past 76 characters,
 * the blank before it becomes a fold too. A word already in the target charset, and every byte
 * outside encoded words, is copied as it is. RFC 2231 parameter values are
 * not touched (docs/IMAP.md).
 */
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "mail/charset.h"
#include "mail/convert.h"
#include "mail/cte.h"
#include "mail/rfc2047.h"

#define MAX_WORD 75 /* RFC 2047 section 2 */
#define MAX_LINE 76 /* the same: a line holding encoded words */

/* Length of the encoded word at p (p[0..2) == "=?"), or 0 when it is not
   one; *cs and *cs_len its charset. */
static size_t
word_at(const unsigned char *p, const unsigned char *end, const unsigned char **cs, size_t *cs_len)
{
	const unsigned char *q = p + 2, *c = q;

	while (q < end && *q != '?' && *q > ' ' && *q < 0x7f)
		q++;
	if (q == c || q + 3 > end || *q != '?')
		return 0;
	*cs = c;
	*cs_len = (size_t)(q - c);
	q++;
	if ((*q != 'B' && *q != 'b' && *q != 'Q' && *q != 'q') || q[1] != '?')
		return 0;
	for (q += 2; q + 1 < end; q++) {
		if (q[0] == '?' && q[1] == '=')
			return (size_t)(q + 2 - p);
		if (*q <= ' ' || *q >= 0x7f || *q == '?')
			return 0;
	}
	return 0;
}

/* Length of the UTF-8 character at u (1 for a stray byte). */
static size_t
char_len(const unsigned char *u, size_t left)
{
	size_t n = *u < 0xc0 ? 1 : *u < 0xe0 ? 2 : *u < 0xf0 ? 3 : 4;
	return n <= left ? n : 1;
}

/* Writes the UTF-8 text u[0..len) as encoded words in charset into out
   (empty); false when a character is not in charset. */
static bool
encode_words(const unsigned char *u, size_t len, const char *charset, struct buf *out)
{
	size_t cs_len = strlen(charset), start = 0;
	/* Bytes of charset text one word holds: base64 makes 4 of 3. */
	size_t room = MAX_WORD > cs_len + 7 ? (MAX_WORD - cs_len - 7) / 4 * 3 : 0;
	struct buf chunk, ok;
	bool unencodable, good = true;

	buf_init(&chunk);
	buf_init(&ok);
	while (start < len && good) {
		/* The longest run of characters from start that fits a word. */
		size_t end = start, fit = start;
		buf_reset(&ok);
		while (end < len) {
			end += char_len(u + end, len - end);
			buf_reset(&chunk);
			if (mail_charset_from_utf8(charset, u + start, end - start, &chunk,
			                           &unencodable) < 0) {
				good = false;
				break;
			}
			if (chunk.len > room && fit > start)
				break;
			fit = end;
			buf_reset(&ok);
			buf_append(&ok, chunk.data != NULL ? chunk.data : "", chunk.len);
		}
		if (!good)
			break;
		if (out->len > 0)
			buf_puts(out, "\r\n ");
		buf_printf(out, "=?%s?B?", charset);
		/* mail_base64_encode breaks lines for a body: not in a word. */
		buf_reset(&chunk);
		mail_base64_encode((const unsigned char *)(ok.data != NULL ? ok.data : ""), ok.len,
		                   &chunk);
		for (size_t i = 0; i < chunk.len; i++)
			if (chunk.data[i] != '\r' && chunk.data[i] != '\n')
				buf_putc(out, chunk.data[i]);
		buf_puts(out, "?=");
		start = fit;
	}
	buf_deinit(&ok);
	buf_deinit(&chunk);
	return good;
}

/* When the first of words would end its line past MAX_LINE and out ends
   in a blank, folds there (RFC 5322 section 2.2.3: CRLF before the
   blank), so the word starts a line of its own. */
static void
fold_before(struct buf *out, const struct buf *words)
{
	const char *nl = words->len > 0 ? memchr(words->data, '\r', words->len) : NULL;
	size_t first = nl != NULL ? (size_t)(nl - words->data) : words->len;
	size_t col = 0;

	while (col < out->len && out->data[out->len - 1 - col] != '\n')
		col++;
	if (col + first <= MAX_LINE || col < 2)
		return;
	char blank = out->data[out->len - 1];
	if (blank != ' ' && blank != '\t')
		return;
	out->len--;
	buf_puts(out, "\r\n");
	buf_putc(out, blank);
}

int
mail_convert_header(const unsigned char *hdr, size_t len, const char *charset, struct buf *out)
{
	const unsigned char *p = hdr, *end = hdr + len;
	struct buf probe, utf8, words;
	bool unencodable;

	buf_init(&probe);
	if (mail_charset_from_utf8(charset, (const unsigned char *)"", 0, &probe, &unencodable) <
	    0) {
		buf_deinit(&probe);
		return -1;
	}
	buf_deinit(&probe);
	buf_init(&utf8);
	buf_init(&words);
	while (p < end) {
		const unsigned char *w = p;
		while (w + 1 < end && !(w[0] == '=' && w[1] == '?'))
			w++;
		if (w + 1 >= end) {
			buf_append(out, p, (size_t)(end - p));
			break;
		}
		buf_append(out, p, (size_t)(w - p));
		const unsigned char *cs;
		size_t cs_len, n = word_at(w, end, &cs, &cs_len);
		if (n == 0) {
			buf_append(out, w, 2);
			p = w + 2;
			continue;
		}
		p = w + n;
		/* "utf-8*en": RFC 2231 section 5's language suffix. */
		const unsigned char *star = memchr(cs, '*', cs_len);
		size_t name_len = star != NULL ? (size_t)(star - cs) : cs_len;
		buf_reset(&utf8);
		mail_rfc2047_decode_buf(w, n, &utf8);
		bool decoded = utf8.len != n || memcmp(utf8.data, w, n) != 0;
		buf_reset(&words);
		if ((name_len == strlen(charset) &&
		     strncasecmp((const char *)cs, charset, name_len) == 0) ||
		    !decoded ||
		    !encode_words((const unsigned char *)utf8.data, utf8.len, charset, &words)) {
			buf_append(out, w, n);
			continue;
		}
		fold_before(out, &words);
		if (words.len > 0)
			buf_append(out, words.data, words.len);
	}
	buf_deinit(&words);
	buf_deinit(&utf8);
	return 0;
}
