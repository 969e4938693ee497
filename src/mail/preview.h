/* SPDX-License-Identifier: MIT */
/*
 * preview.h: the PREVIEW text of a message (RFC 8970), made once at
 * delivery and cached by the store.
 */
#ifndef TERN_MAIL_PREVIEW_H
#define TERN_MAIL_PREVIEW_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct mail_mime_part;

/* RFC 8970 section 3.1: a preview holds at most 256 characters. */
#define MAIL_PREVIEW_MAX_CHARS 256

/*
 * The preview of the message msg whose part tree is root (mail_mime_parse):
 * the text of its first text part (text/plain preferred over text/html in a
 * multipart/alternative; markup, scripts and styles removed from HTML),
 * transfer-decoded, converted to UTF-8, quoted lines ("> ...") of plain text
 * left out, every run of white space and control characters made one space,
 * trimmed, and cut to MAIL_PREVIEW_MAX_CHARS characters on a character
 * boundary. "" when there is no such text, or when the content is encrypted
 * (multipart/encrypted, S/MIME enveloped data): a preview must not show what
 * the sender encrypted. Never NULL; valid UTF-8 without NUL, CR or LF; in a.
 * Reads at most a bounded prefix of the part, whatever its size.
 */
const char *mail_preview_make(struct arena *a, const unsigned char *msg,
                              const struct mail_mime_part *root);

/*
 * The same from a text already decoded to UTF-8 (s[0..len)), as text/plain
 * (is_html false) or text/html. For the unit tests and the fuzzer.
 */
const char *mail_preview_from_text(struct arena *a, const char *s, size_t len, bool is_html);

#endif
