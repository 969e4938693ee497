/* SPDX-License-Identifier: MIT */
/*
 * imap_special_use.h: the special-use attribute names (RFC 6154 section 2,
 * RFC 8457 \Important) and the store's bits for them, in one table for
 * LIST, CREATE (USE ...) and METADATA /private/specialuse. Pure.
 */
#ifndef TERN_IMAP_SPECIAL_USE_H
#define TERN_IMAP_SPECIAL_USE_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

/* The store bit (enum store_special_use) of an attribute name such as
   "\\Sent", case-insensitively; 0 when it is none we know. */
unsigned imap_special_use_bit(const char *name, size_t len);
/* Appends the attributes of bits, each preceded by a space. */
void imap_special_use_append(struct buf *out, unsigned bits);
/*
 * Parses a space-separated list of attributes (the /private/specialuse
 * value, RFC 6154 section 4) into *bits_out. False when a word is not a
 * special-use attribute we know (or there are stray spaces).
 */
bool imap_special_use_parse_list(const char *text, size_t len, unsigned *bits_out);

#endif
