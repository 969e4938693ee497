/* SPDX-License-Identifier: MIT */
/*
 * text.h: the text of a message for the full-text index.
 */
#ifndef TERN_MAIL_TEXT_H
#define TERN_MAIL_TEXT_H

#include <stddef.h>

struct arena;
struct mail_mime_part;

/*
 * Sets *header_out to the decoded values of the top header's fields, one a
 * line, and *body_out to the text of every text part (transfer-decoded, in
 * UTF-8) and the decoded header values of every attached message, each at
 * most max_text bytes (cut at a character boundary). In the arena.
 */
void mail_text_extract(struct arena *a, const unsigned char *msg, const struct mail_mime_part *root,
                       size_t max_text, const char **header_out, const char **body_out);

#endif
