/* SPDX-License-Identifier: MIT */
/*
 * imap_string.h: the one IMAP string writer (RFC 9051 section 4.3). Every
 * value tern sends as a string goes through here: the cached ENVELOPE and
 * BODYSTRUCTURE built at delivery (src/mail) and everything the IMAP reply
 * writer quotes (mailbox names, tags; src/imap/reply.c). One rule:
 *
 *   - A string of 7-bit bytes other than NUL, CR and LF is quoted, with '"'
 *     and '\' escaped by a '\'.
 *   - 8-bit bytes are quoted too when the caller allows UTF-8
 *     (MAIL_IMAP_STRING_UTF8: IMAP4rev2, UTF8=ACCEPT) and they are valid
 *     UTF-8; otherwise the string is a literal "{n}\r\n" followed by the bytes.
 *   - CR or LF make a literal.
 *   - NUL can never be in a quoted string or a plain literal (RFC 9051
 *     section 4.3, "CHAR8 = %x01-ff"): it goes as a literal8 "~{n}\r\n"
 *     (RFC 3516) where the caller says the grammar allows one
 *     (MAIL_IMAP_STRING_LITERAL8), else the string is refused.
 */
#ifndef TERN_MAIL_IMAP_STRING_H
#define TERN_MAIL_IMAP_STRING_H

#include <stddef.h>

struct arena;
struct buf;

enum mail_imap_string_flags {
	MAIL_IMAP_STRING_UTF8 = 1 << 0,     /* valid 8-bit UTF-8 may be quoted */
	MAIL_IMAP_STRING_LITERAL8 = 1 << 1, /* a NUL may go as literal8 */
};

/*
 * Appends s[0..len) to out in the smallest form the rule above allows
 * (flags: enum mail_imap_string_flags). Returns 0, or -1 with nothing
 * appended when s holds a NUL and MAIL_IMAP_STRING_LITERAL8 is not set.
 */
int mail_imap_string_append(struct buf *out, const char *s, size_t len, unsigned flags);

/* Appends the C string s (which cannot hold a NUL, so this cannot fail) as
   a string, or NIL when s is NULL; 8-bit goes as a literal (the cached
   ENVELOPE and BODYSTRUCTURE must suit IMAP4rev1 clients too). */
void mail_imap_nstring_append(struct buf *out, const char *s);

/* The C string s as an IMAP string, in a. */
const char *mail_imap_string_quote(struct arena *a, const char *s, unsigned flags);

/*
 * Reads back an nstring this writer wrote, at *pp (the cached ENVELOPE,
 * say): a quoted string, a literal or NIL. Returns the value in a (NULL
 * for NIL) and moves *pp past it; on anything else returns NULL and leaves
 * *pp alone. For our own output, not for client input.
 */
const char *mail_imap_nstring_read(struct arena *a, const char **pp);

#endif
