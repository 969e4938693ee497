/* SPDX-License-Identifier: MIT */
/*
 * header.h: RFC 5322 section 2.2 header fields: find where a header block
 * ends, iterate its fields, unfold a value. Pure functions over a byte range;
 * nothing is copied except by mail_header_unfold().
 */
#ifndef TERN_MAIL_HEADER_H
#define TERN_MAIL_HEADER_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

/* One field: name without the colon (trailing blanks trimmed), value from
   after the colon and its leading blanks to before the final line end, still
   folded. Both point into the header block. */
struct mail_header_field {
	const unsigned char *name;
	size_t name_len;
	const unsigned char *value;
	size_t value_len;
};

struct mail_header_iter {
	const unsigned char *p, *end;
};

/* Iterates the fields of hdr[0..len). A line without a colon (an mbox
   "From " line, garbage) is skipped; the blank line ends the iteration. */
void mail_header_iter_init(struct mail_header_iter *it, const unsigned char *hdr, size_t len);
/* Returns true with the next field in *out, false at the end. */
bool mail_header_iter_next(struct mail_header_iter *it, struct mail_header_field *out);

/* Returns whether field's name is name (ASCII case-insensitive). */
bool mail_header_field_is(const struct mail_header_field *f, const char *name);

/*
 * Returns value with every CR and LF removed (folding undone, RFC 5322
 * section 2.2.3) and NUL bytes dropped, NUL-terminated in the arena.
 */
char *mail_header_unfold(struct arena *a, const unsigned char *value, size_t len);

/* Returns the length of the line starting at p (through its LF, or to end). */
size_t mail_line_len(const unsigned char *p, const unsigned char *end);
/* Returns whether the line at p..p+len (with its line end) is blank. */
bool mail_line_is_blank(const unsigned char *p, size_t len);

#endif
