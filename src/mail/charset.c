/* SPDX-License-Identifier: MIT */
/*
 * charset.c: text to UTF-8. UTF-8 and US-ASCII skip iconv; other names go to
 * iconv_open() per call (glibc caches its conversion modules, and a call per
 * header word or text part is cheap next to parsing), so nothing is shared
 * between threads. Charset names come from hostile messages: only names made
 * of the characters IANA names use reach iconv_open(), so "//TRANSLIT"
 * suffixes or paths cannot be smuggled in.
 */
#include "mail/charset.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <stdint.h>
#include <stdlib.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/util.h"

#define CHARSET_NAME_MAX 64 /* the longest IANA name is 45 */

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

bool
mail_utf8_is_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned int cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

static void
append_no_nul(struct buf *out, const unsigned char *in, size_t len)
{
	size_t start = 0;

	if (len == 0)
		return; /* in may be NULL (an empty struct buf) */
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\0') {
			buf_append(out, in + start, i - start);
			start = i + 1;
		}
	}
	buf_append(out, in + start, len - start);
}

void
mail_utf8_append_guess(struct buf *out, const unsigned char *in, size_t len)
{
	if (mail_utf8_is_valid(in, len)) {
		append_no_nul(out, in, len);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = in[i];
		if (c == '\0')
			continue;
		if (c < 0x80) {
			buf_putc(out, (char)c);
		} else {
			char u[2] = {(char)(0xc0 | (c >> 6)), (char)(0x80 | (c & 0x3f))};
			buf_append(out, u, 2);
		}
	}
}

static bool
charset_name_ok(const char *cs)
{
	size_t n = strlen(cs);

	if (n == 0 || n > CHARSET_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = cs[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == ':' || c == '+'))
			return false;
	}
	return true;
}

/* Appends iconv output, keeping the result valid UTF-8 without NULs. */
static void
append_converted(struct buf *out, const char *p, size_t n)
{
	append_no_nul(out, (const unsigned char *)p, n);
}

int
mail_charset_to_utf8(const char *charset, const unsigned char *in, size_t len, struct buf *out)
{
	if (strcasecmp(charset, "utf-8") == 0 || strcasecmp(charset, "utf8") == 0 ||
	    strcasecmp(charset, "us-ascii") == 0 || strcasecmp(charset, "ascii") == 0) {
		mail_utf8_append_guess(out, in, len);
		return 0;
	}
	if (!charset_name_ok(charset))
		return -1;
	iconv_t cd = iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1)
		return -1;

	char tmp[4096];
	char *ip = (char *)(uintptr_t)in;
	size_t ileft = len;
	size_t start_len = out->len;

	while (ileft > 0) {
		char *op = tmp;
		size_t oleft = sizeof(tmp);
		size_t r = iconv(cd, &ip, &ileft, &op, &oleft);
		append_converted(out, tmp, sizeof(tmp) - oleft);
		if (r != (size_t)-1)
			break;
		if (errno == E2BIG)
			continue;
		/* EILSEQ: a bad byte; EINVAL: a sequence cut at the end. */
		buf_puts(out, replacement);
		if (errno == EINVAL) {
			ileft = 0;
			break;
		}
		ip++;
		ileft--;
		iconv(cd, NULL, NULL, NULL, NULL); /* reset the shift state */
	}
	/* Stateful encodings (ISO-2022-JP) may owe a final shift sequence. */
	char *op = tmp;
	size_t oleft = sizeof(tmp);
	if (iconv(cd, NULL, NULL, &op, &oleft) != (size_t)-1)
		append_converted(out, tmp, sizeof(tmp) - oleft);
	iconv_close(cd);

	/* glibc writes valid UTF-8; check anyway, since callers promise it. */
	if (out->len > start_len &&
	    !mail_utf8_is_valid((const unsigned char *)out->data + start_len,
	                        out->len - start_len)) {
		size_t n = out->len - start_len;
		char *copy = memcpy(xmalloc(n), out->data + start_len, n);
		out->len = start_len;
		out->data[out->len] = '\0';
		mail_utf8_append_guess(out, (const unsigned char *)copy, n);
		free(copy);
	}
	return 0;
}

int
mail_charset_from_utf8(const char *charset, const unsigned char *in, size_t len, struct buf *out,
                       bool *unencodable_out)
{
	*unencodable_out = false;
	if (strcasecmp(charset, "utf-8") == 0 || strcasecmp(charset, "utf8") == 0) {
		if (len > 0)
			buf_append(out, in, len);
		return 0;
	}
	if (!charset_name_ok(charset))
		return -1;
	iconv_t cd = iconv_open(charset, "UTF-8");
	if (cd == (iconv_t)-1)
		return -1;

	char tmp[4096];
	char *ip = (char *)(uintptr_t)in;
	size_t ileft = len, start_len = out->len;
	int rc = 0;

	while (ileft > 0) {
		char *op = tmp;
		size_t oleft = sizeof(tmp);
		size_t r = iconv(cd, &ip, &ileft, &op, &oleft);
		buf_append(out, tmp, sizeof(tmp) - oleft);
		if (r != (size_t)-1)
			break;
		if (errno != E2BIG) {
			*unencodable_out = true;
			rc = -1;
			break;
		}
	}
	if (rc == 0) {
		char *op = tmp;
		size_t oleft = sizeof(tmp);
		if (iconv(cd, NULL, NULL, &op, &oleft) != (size_t)-1)
			buf_append(out, tmp, sizeof(tmp) - oleft);
	} else {
		out->len = start_len;
		if (out->data != NULL)
			out->data[out->len] = '\0';
	}
	iconv_close(cd);
	return rc;
}
