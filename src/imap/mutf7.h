/* SPDX-License-Identifier: MIT */
/*
 * mutf7.h: modified UTF-7 mailbox names (RFC 3501 section 5.1.3), the wire
 * form of non-ASCII names for IMAP4rev1 clients that did not enable
 * UTF8=ACCEPT or IMAP4rev2. The store keeps names in UTF-8.
 */
#ifndef TERN_IMAP_MUTF7_H
#define TERN_IMAP_MUTF7_H

#include <stdbool.h>

struct arena;

/* UTF-8 to modified UTF-7, in a. NULL if in is not valid UTF-8. */
const char *imap_mutf7_encode(struct arena *a, const char *in);
/* Modified UTF-7 to UTF-8, in a. NULL if in is not valid modified UTF-7
   (bad base64, a non-canonical form, an encoded ASCII char, bad UTF-16). */
const char *imap_mutf7_decode(struct arena *a, const char *in);
/* True if s is valid UTF-8 without overlongs or surrogates. */
bool imap_utf8_is_valid(const char *s);

#endif
