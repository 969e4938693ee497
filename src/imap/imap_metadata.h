/* SPDX-License-Identifier: MIT */
/*
 * imap_metadata.h: the METADATA extension's argument grammar (RFC 5464
 * section 5) as pure parsers over the IMAP parser's argument tree: entry
 * names, GETMETADATA's options and entries, SETMETADATA's entry-values.
 * No session or store (imap_metadata_parse.c): a unit test and a fuzzer
 * (fuzz/fuzz_imap_meta.c) drive them. The commands are
 * cmd_getmetadata.c and cmd_setmetadata.c.
 */
#ifndef TERN_IMAP_METADATA_H
#define TERN_IMAP_METADATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/parser.h"

struct arena;
struct buf;

/* A mailbox moved to another server (RFC 2221 4.2): the URL SELECT answers
   with, as NO [REFERRAL url]. Set by an administrator only. */
#define IMAP_METADATA_REFERRAL "/shared/vendor/tern/referral"

/* Longest entry name accepted: names are keys, not data. */
#define IMAP_METADATA_NAME_MAX 1024

enum imap_metadata_depth {
	IMAP_METADATA_DEPTH_0,
	IMAP_METADATA_DEPTH_1,
	IMAP_METADATA_DEPTH_INFINITY,
};

/* A parsed GETMETADATA. mailbox is the index of the mailbox argument. */
struct imap_getmetadata {
	size_t mailbox;
	bool has_maxsize;
	uint64_t maxsize;
	enum imap_metadata_depth depth;
	const char **entries; /* lowercased, checked; in the arena */
	size_t n_entries;
};

/* One SETMETADATA pair; value NULL for NIL (remove). */
struct imap_metadata_value {
	const char *name; /* lowercased, checked */
	const char *value;
	size_t len;
};

/*
 * Checks an entry name (RFC 5464 section 3.2): "/private/..." or
 * "/shared/..." with at least two components (four under .../vendor/),
 * no "//", no trailing "/", no '*' or '%', only ASCII above 0x19 (and not
 * DEL). Returns its lowercase copy in a (names are case-insensitive), or
 * NULL: the command is BAD.
 */
const char *imap_metadata_entry_check(struct arena *a, const char *name, size_t len);

/*
 * getmetadata = "GETMETADATA" [SP getmetadata-options] SP mailbox SP entries
 * The options are also taken after the mailbox, where RFC 5464's own
 * examples (4.2.1, 4.2.2) put them; several bare entries are taken as a
 * list (4.4.1's example). Options: MAXSIZE number, DEPTH 0 / 1 / infinity.
 * Returns true with *out filled (arrays in a), or false with a static
 * *error_out (BAD).
 */
bool imap_getmetadata_parse(struct arena *a, const struct imap_arg *args, size_t nargs,
                            struct imap_getmetadata *out, const char **error_out);

/*
 * entry-values = "(" entry-value *(SP entry-value) ")", entry-value = entry
 * SP value, value = nstring / literal8. Returns true with the pairs in a,
 * or false with a static *error_out (BAD).
 */
bool imap_setmetadata_parse(struct arena *a, const struct imap_arg *list,
                            struct imap_metadata_value **out, size_t *n_out,
                            const char **error_out);

/* Whether name (a checked entry) lies within depth below prefix: itself,
   or a child (DEPTH 1), or any descendant (infinity). */
bool imap_metadata_in_depth(const char *prefix, const char *name, enum imap_metadata_depth depth);

/* Appends an entry name as an atom when it can be one, else quoted. */
void imap_metadata_entry_append(struct buf *out, const char *name);

#endif
