/* SPDX-License-Identifier: MIT */
/*
 * smtp_downgrade.h: an 8BITMIME message made 7-bit for a server without
 * the extension (RFC 6152 section 3: a relay must either not relay it or
 * convert it to valid 7-bit MIME). Each leaf part whose body has 8-bit
 * bytes is re-encoded quoted-printable (RFC 2045 section 6.7) with its
 * Content-Transfer-Encoding field replaced; a multipart or message/rfc822
 * part labelled 8bit is relabelled 7bit; a message without MIME-Version
 * gets one and, without Content-Type, "text/plain; charset=unknown-8bit"
 * (RFC 1428). What cannot be converted (8-bit bytes in a header field, in
 * a multipart's preamble or epilogue, or a part labelled binary) makes the
 * conversion fail: the caller bounces (RFC 3463 5.6.3).
 *
 * Pure: the message's bytes (CRLF lines, e.g. the queue file mapped) in,
 * the converted bytes out through put, never the whole of it held. The
 * input is hostile (it is whatever a user submitted).
 */
#ifndef TERN_SMTP_SMTP_DOWNGRADE_H
#define TERN_SMTP_SMTP_DOWNGRADE_H

#include <stdbool.h>
#include <stddef.h>

/* True when msg has a byte >= 0x80 anywhere. */
bool smtp_has_8bit(const unsigned char *msg, size_t len);

/* put returns 0, or -1 to stop (then smtp_downgrade returns -1, *why_out
   "write failed"). */
typedef int smtp_downgrade_put_fn(void *arg, const void *data, size_t len);

/* 0 when the whole converted message went to put; -1 with a static
 *why_out when it cannot be converted (nothing useful was written). */
int smtp_downgrade(const unsigned char *msg, size_t len, smtp_downgrade_put_fn *put, void *arg,
                   const char **why_out);

#endif
