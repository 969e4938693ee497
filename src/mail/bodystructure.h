/* SPDX-License-Identifier: MIT */
/*
 * bodystructure.h: BODY and BODYSTRUCTURE (RFC 9051 section 7.5.2, RFC
 * 3501 section 7.4.2) from a MIME part tree.
 */
#ifndef TERN_MAIL_BODYSTRUCTURE_H
#define TERN_MAIL_BODYSTRUCTURE_H

#include <stdbool.h>

struct arena;
struct buf;
struct mail_mime_part;

/*
 * Appends the "body" production for part, in parentheses, to out; with
 * extended, the extension data BODYSTRUCTURE adds (MD5, disposition,
 * language, location; parameters for multiparts). msg is the message the
 * tree's offsets refer to (inner envelopes are read from it).
 */
void mail_bodystructure_write(struct arena *a, const struct mail_mime_part *part,
                              const unsigned char *msg, bool extended, struct buf *out);

#endif
