/* SPDX-License-Identifier: MIT */
/*
 * cte.h: the two content transfer encodings of RFC 2045 (sections 6.7, 6.8).
 * The decoders are shared by mail_decode_cte(), RFC 2047 encoded words and
 * body text, and are tolerant: they never fail, whatever the input. The
 * encoders write what CONVERT (RFC 5259) is asked to re-encode into.
 */
#ifndef TERN_MAIL_CTE_H
#define TERN_MAIL_CTE_H

#include <stddef.h>

struct buf;

/* Appends the bytes of base64 text; characters outside the alphabet are
   skipped, "=" ends a group and the rest of its line is ignored, and
   decoding goes on at the next line. */
void mail_base64_decode(const unsigned char *in, size_t len, struct buf *out);
/* Appends the bytes of quoted-printable text: =XX, soft line breaks
   (also with blanks before the line end), trailing blanks of a line dropped,
   and a malformed "=" kept as is. With is_q, "_" means a space (RFC 2047 Q). */
void mail_qp_decode(const unsigned char *in, size_t len, int is_q, struct buf *out);

/* Appends in as base64 in lines of 76 characters, each ending in CRLF
   (RFC 2045 section 6.8). */
void mail_base64_encode(const unsigned char *in, size_t len, struct buf *out);
/* Appends in as quoted-printable (RFC 2045 section 6.7): CRLF stays a hard
   line break, a lone CR or LF, "=", bytes outside printable ASCII and a
   blank before a line end are =XX, and lines are cut with soft breaks to
   at most 76 characters. */
void mail_qp_encode(const unsigned char *in, size_t len, struct buf *out);

#endif
