/* SPDX-License-Identifier: MIT */
/*
 * imap_string.h: writes values as IMAP strings (RFC 9051 section 4.3) for
 * the cached ENVELOPE and BODYSTRUCTURE.
 */
#ifndef TERN_MAIL_IMAP_STRING_H
#define TERN_MAIL_IMAP_STRING_H

#include <stddef.h>

struct buf;

/*
 * Appends s[0..len) as a quoted string ("\" and DQUOTE escaped) when every
 * byte is 7-bit and not CR or LF, else as a literal "{n}\r\n..." (8-bit
 * UTF-8 included, which IMAP4rev1 clients need). NUL bytes, which no IMAP
 * string may hold, are dropped.
 */
void mail_imap_string_append(struct buf *out, const char *s, size_t len);
/* Appends s as a string, or NIL when s is NULL. */
void mail_imap_nstring_append(struct buf *out, const char *s);

#endif
