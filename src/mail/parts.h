/* SPDX-License-Identifier: MIT */
/*
 * parts.h: the serialised part table behind mail_parsed.parts, written at
 * delivery and read by mail_section_lookup() (declared in message.h).
 */
#ifndef TERN_MAIL_PARTS_H
#define TERN_MAIL_PARTS_H

#include <stddef.h>

struct arena;
struct mail_mime_part;

/* Serialises the tree under root into the arena; *len_out is its size. */
const unsigned char *mail_parts_serialise(struct arena *a, const struct mail_mime_part *root,
                                          size_t *len_out);

#endif
