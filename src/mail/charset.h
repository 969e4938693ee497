/* SPDX-License-Identifier: MIT */
/*
 * charset.h: conversion of text to UTF-8 for headers and body text, with
 * glibc iconv. Output never holds NUL bytes and is always valid UTF-8.
 */
#ifndef TERN_MAIL_CHARSET_H
#define TERN_MAIL_CHARSET_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

/* Returns whether s[0..len) is valid UTF-8 (no overlongs, no surrogates). */
bool mail_utf8_is_valid(const unsigned char *s, size_t len);

/*
 * Appends in[0..len) to out as UTF-8: kept as is when it already is valid
 * UTF-8, else read as ISO-8859-1 (the usual meaning of raw 8-bit header
 * bytes). NUL bytes are dropped.
 */
void mail_utf8_append_guess(struct buf *out, const unsigned char *in, size_t len);

/*
 * Converts in[0..len) from charset to UTF-8, appending to out. Bytes that are
 * invalid in the charset become U+FFFD. Returns 0, or -1 (nothing appended)
 * when iconv does not know the charset or its name is not a plausible one.
 */
int mail_charset_to_utf8(const char *charset, const unsigned char *in, size_t len, struct buf *out);

/*
 * The other way, for CONVERT (RFC 5259): converts UTF-8 in[0..len) to
 * charset, appending to out (which may then hold NULs: UTF-16). Returns 0;
 * -1 with *unencodable_out false when iconv does not know the charset (or
 * its name is not a plausible one), true when in has a character charset
 * cannot represent (nothing is substituted: the conversion failed).
 */
int mail_charset_from_utf8(const char *charset, const unsigned char *in, size_t len,
                           struct buf *out, bool *unencodable_out);

#endif
