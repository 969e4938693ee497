/* SPDX-License-Identifier: MIT */
/*
 * rfc2047.h: decoding of RFC 2047 encoded words in header text.
 */
#ifndef TERN_MAIL_RFC2047_H
#define TERN_MAIL_RFC2047_H

#include <stddef.h>

struct arena;
struct buf;

/*
 * Appends in[0..len) to out decoded to UTF-8: encoded words (B and Q, the
 * charset's RFC 2231 "*lang" suffix ignored) are decoded and converted,
 * blanks between adjacent encoded words dropped (RFC 2047 section 6.2), an
 * encoded word in a charset iconv does not know left as it was, and other
 * text kept (raw 8-bit bytes read as UTF-8, else ISO-8859-1). CR and LF
 * are removed, so a folded value comes out unfolded. No NUL bytes.
 */
void mail_rfc2047_decode_buf(const unsigned char *in, size_t len, struct buf *out);

/* The same, returning a NUL-terminated string in the arena. */
char *mail_rfc2047_decode(struct arena *a, const unsigned char *in, size_t len);

#endif
