/* SPDX-License-Identifier: MIT */
/*
 * cte.c: Content-Transfer-Encoding decoding for BINARY[] (RFC 3516) and for
 * text extraction. Real mail breaks both encodings: base64 with line
 * garbage, missing padding or several padded blocks glued together;
 * quoted-printable with lowercase hex, a lone "=" or blanks after a soft
 * break. None of it makes decoding fail; only an encoding we do not know
 * does, so IMAP can answer UNKNOWN-CTE.
 */
#include "mail/cte.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "mail/message.h"

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static void
b64_flush(unsigned int acc, int n, struct buf *out)
{
	unsigned char b[3];

	/* n sextets collected: 2 give one byte, 3 give two; 1 gives nothing. */
	if (n == 2) {
		b[0] = (unsigned char)(acc >> 4);
		buf_append(out, b, 1);
	} else if (n == 3) {
		b[0] = (unsigned char)(acc >> 10);
		b[1] = (unsigned char)(acc >> 2);
		buf_append(out, b, 2);
	}
}

void
mail_base64_decode(const unsigned char *in, size_t len, struct buf *out)
{
	unsigned int acc = 0;
	int n = 0;

	for (size_t i = 0; i < len; i++) {
		if (in[i] == '=') {
			/* Padding ends the data; what follows on the same line
			   is garbage (a signature, a footer), but a new line may
			   start another base64 block glued on by a mailer. */
			b64_flush(acc, n, out);
			acc = 0;
			n = 0;
			while (i + 1 < len && in[i + 1] != '\n')
				i++;
			continue;
		}
		int v = b64_value(in[i]);
		if (v < 0)
			continue;
		acc = (acc << 6) | (unsigned int)v;
		if (++n == 4) {
			unsigned char b[3] = {(unsigned char)(acc >> 16), (unsigned char)(acc >> 8),
			                      (unsigned char)acc};
			buf_append(out, b, 3);
			acc = 0;
			n = 0;
		}
	}
	b64_flush(acc, n, out);
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void
mail_qp_decode(const unsigned char *in, size_t len, int is_q, struct buf *out)
{
	size_t i = 0;

	while (i < len) {
		/* One line at a time, so trailing blanks can be dropped. */
		const unsigned char *lf = memchr(in + i, '\n', len - i);
		size_t line_end = lf != NULL ? (size_t)(lf - in) : len;
		size_t text_end = line_end;
		bool has_lf = lf != NULL;

		if (text_end > i && in[text_end - 1] == '\r')
			text_end--;
		while (text_end > i && (in[text_end - 1] == ' ' || in[text_end - 1] == '\t'))
			text_end--;
		bool soft = text_end > i && in[text_end - 1] == '=';
		if (soft)
			text_end--;

		for (size_t k = i; k < text_end; k++) {
			unsigned char c = in[k];
			if (c == '=' && k + 2 < text_end) {
				int h = hex_value(in[k + 1]), l = hex_value(in[k + 2]);
				if (h >= 0 && l >= 0) {
					unsigned char b = (unsigned char)(h << 4 | l);
					buf_append(out, &b, 1);
					k += 2;
					continue;
				}
			}
			if (c == '_' && is_q)
				c = ' ';
			buf_append(out, &c, 1);
		}
		if (has_lf && !soft)
			buf_append(out, "\r\n", 2);
		i = line_end + (has_lf ? 1 : 0);
	}
}

bool
mail_cte_is_identity(const char *encoding)
{
	return encoding == NULL || *encoding == '\0' || strcasecmp(encoding, "7bit") == 0 ||
	       strcasecmp(encoding, "8bit") == 0 || strcasecmp(encoding, "binary") == 0;
}

int
mail_decode_cte(const char *encoding, const unsigned char *in, size_t len, struct buf *out)
{
	if (mail_cte_is_identity(encoding)) {
		buf_append(out, in, len);
		return 0;
	}
	if (strcasecmp(encoding, "base64") == 0) {
		mail_base64_decode(in, len, out);
		return 0;
	}
	if (strcasecmp(encoding, "quoted-printable") == 0) {
		mail_qp_decode(in, len, 0, out);
		return 0;
	}
	return -1;
}

void
mail_base64_encode(const unsigned char *in, size_t len, struct buf *out)
{
	static const char alphabet[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	/* 57 input bytes make one line of 76 characters. */
	for (size_t at = 0; at < len; at += 57) {
		size_t n = len - at < 57 ? len - at : 57;
		for (size_t i = 0; i < n; i += 3) {
			const unsigned char *p = in + at + i;
			size_t k = n - i < 3 ? n - i : 3;
			unsigned int v = (unsigned)p[0] << 16 | (k > 1 ? (unsigned)p[1] << 8 : 0) |
			                 (k > 2 ? p[2] : 0);
			char q[4] = {alphabet[v >> 18 & 63], alphabet[v >> 12 & 63],
			             k > 1 ? alphabet[v >> 6 & 63] : '=',
			             k > 2 ? alphabet[v & 63] : '='};
			buf_append(out, q, 4);
		}
		buf_append(out, "\r\n", 2);
	}
}

void
mail_qp_encode(const unsigned char *in, size_t len, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = in[i];
		if (c == '\r' && i + 1 < len && in[i + 1] == '\n') {
			buf_append(out, "\r\n", 2);
			col = 0;
			i++;
			continue;
		}
		bool at_line_end =
		        i + 1 == len || (in[i + 1] == '\r' && i + 2 < len && in[i + 2] == '\n');
		bool literal = (c >= 33 && c <= 126 && c != '=') ||
		               ((c == ' ' || c == '\t') && !at_line_end);
		size_t w = literal ? 1 : 3;
		/* Room for a soft break "=" within 76 (section 6.7 rule 5). */
		if (col + w > 75) {
			buf_append(out, "=\r\n", 3);
			col = 0;
		}
		if (literal) {
			buf_putc(out, (char)c);
		} else {
			char e[3] = {'=', hex[c >> 4], hex[c & 15]};
			buf_append(out, e, 3);
		}
		col += w;
	}
}
