/* SPDX-License-Identifier: MIT */
/*
 * fuzz_mail_convert.c: libFuzzer harness for the conversions behind CONVERT
 * (RFC 5259): the HTML-to-text path (html_text.c over libxml2) and
 * mail_convert_entity() (convert.c). The input, made valid UTF-8, goes to
 * mail_html_to_text(), whose output must be valid UTF-8 with every LF after
 * a CR; then the raw input is converted as a MIME entity to a target the
 * first byte picks (text/plain or text/html, a charset, an encoding), and a
 * success must stay within max_out and, in UTF-8 without an encoding, be
 * valid UTF-8. Last, the raw input goes through the header conversion
 * (mail_convert_header, convert_header.c) to the charset the first byte
 * picks: it must succeed, and leave input without "=?" as it was.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/charset.h"
#include "mail/convert.h"
#include "mail/html_text.h"

static void
check_text(const struct buf *b)
{
	const unsigned char *s = (const unsigned char *)b->data;
	if (b->len == 0)
		return;
	if (!mail_utf8_is_valid(s, b->len))
		abort();
	for (size_t i = 0; i < b->len; i++)
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const charsets[] = {NULL, "utf-8", "koi8-r", "iso-8859-2", "utf-16"};
	static const char *const encodings[] = {NULL, "base64", "quoted-printable", "7bit"};
	struct buf in, out;

	if (size == 0)
		return 0;
	buf_init(&in);
	buf_init(&out);
	mail_utf8_append_guess(&in, data + 1, size - 1);
	const unsigned char *html = (const unsigned char *)(in.data != NULL ? in.data : "");
	if (mail_html_to_text(html, in.len, 1 << 20, &out) == 0)
		check_text(&out);

	unsigned pick = data[0];
	struct mail_convert_target t = {"text", pick & 1 ? "html" : "plain",
	                                charsets[(pick >> 1) % 5], encodings[(pick >> 4) % 4]};
	size_t max_out = pick & 0x80 ? 64 : 1 << 20;
	struct arena *a = arena_new(1024);
	enum mail_convert_error err;
	buf_reset(&out);
	if (mail_convert_entity(a, data + 1, size - 1, &t, max_out, &out, &err) == 0) {
		if (out.len > max_out)
			abort();
		if (t.charset == NULL && t.encoding == NULL && !(pick & 1))
			check_text(&out);
	} else if (err == MAIL_CONVERT_OK || out.len != 0) {
		abort();
	}
	arena_free(&a);

	const char *hcs = charsets[1 + (pick >> 2) % 4];
	buf_reset(&out);
	if (mail_convert_header(data + 1, size - 1, hcs, &out) < 0)
		abort();
	if (memmem(data + 1, size - 1, "=?", 2) == NULL &&
	    (out.len != size - 1 || (out.len > 0 && memcmp(out.data, data + 1, out.len) != 0)))
		abort();
	buf_deinit(&out);
	buf_deinit(&in);
	return 0;
}
