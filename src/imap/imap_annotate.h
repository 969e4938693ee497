/* SPDX-License-Identifier: MIT */
/*
 * imap_annotate.h: the ANNOTATE extension (RFC 5257, ANNOTATE-EXPERIMENT-1).
 * The argument grammar of its section 7 (entry names, attribute names,
 * FETCH's "ANNOTATION (entries attribs)", STORE's and APPEND's
 * "ANNOTATION (entry-att ...)") and the FETCH response writer are pure
 * (imap_annotate_parse.c: a unit test and fuzz/fuzz_imap_annotate.c drive
 * them); what needs the session and the store (STORE ANNOTATION, the
 * ANNOTATIONS response code of SELECT, SEARCH and SORT values) is in
 * imap_annotate.c.
 */
#ifndef TERN_IMAP_ANNOTATE_H
#define TERN_IMAP_ANNOTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/parser.h"

struct arena;
struct buf;
struct imap_cmd;
struct imap_session;
struct store_annotation;
struct store_append;
struct store_sort;

/* Longest entry name accepted: names are keys, not data. */
#define IMAP_ANNOTATE_ENTRY_MAX 1024

/* The attributes of section 3.2, one bit each. */
enum imap_annotate_attr {
	IMAP_ANNOTATE_VALUE_PRIV = 1 << 0,
	IMAP_ANNOTATE_VALUE_SHARED = 1 << 1,
	IMAP_ANNOTATE_SIZE_PRIV = 1 << 2,
	IMAP_ANNOTATE_SIZE_SHARED = 1 << 3,
};

/* A parsed FETCH ANNOTATION (entries attribs). */
struct imap_annotate_fetch {
	const char **entries; /* lowercased entry-match; in the arena */
	bool *is_pattern;     /* entries[i] holds '*' or '%' */
	size_t n_entries;
	unsigned attrs; /* enum imap_annotate_attr */
};

/*
 * Checks an entry (section 7: a slash-separated path starting with '/',
 * no "//", no trailing '/', printable ASCII and space, as METADATA's
 * names; '*' and '%' only when is_match, for an entry-match, which may
 * also start with them: "*" names every entry). Returns its lowercase copy in a (entry
 * names are matched case-insensitively, as METADATA's are), or NULL: the
 * command is BAD.
 */
const char *imap_annotate_entry_check(struct arena *a, const char *name, size_t len, bool is_match);

/*
 * Whether a checked entry may hold values (section 3.1): "/comment",
 * "/altsubject", "/vendor/<token>..." for the message, and "/comment" or
 * "/vendor/<token>..." below a "/<section-part>" (numbers like FETCH
 * BODY[1.2]). "/flags" is reserved, and "/" and "/<section-part>" are
 * only the tops of their trees.
 */
bool imap_annotate_entry_is_settable(const char *entry);

/*
 * An attribute name (section 3.2), case-insensitively: "value" and "size"
 * name both their .priv and .shared forms. Returns true with the bits, or
 * false for an unknown name.
 */
bool imap_annotate_attr_parse(const char *name, unsigned *bits_out);

/*
 * fetch-att =/ "ANNOTATION" SP "(" entries SP attribs ")": arg is the list
 * after the atom. entries = entry-match / "(" entry-match *(SP entry-match)
 * ")", attribs likewise. Returns true with *out (arrays in a), or false with
 * a static *error_out (BAD).
 */
bool imap_annotate_fetch_parse(struct arena *a, const struct imap_arg *arg,
                               struct imap_annotate_fetch *out, const char **error_out);

/*
 * att-annotate = "ANNOTATION" SP "(" entry-att *(SP entry-att) ")", entry-att
 * = entry SP "(" att-value *(SP att-value) ")", att-value = attrib SP value,
 * value = nstring / literal8: list is the list after the atom. Only
 * value.priv and value.shared may be stored (size.* are computed: BAD); NIL
 * removes. The changes (uid 0) go to *out in a. Returns true, or false with
 * a static *error_out (BAD). Whether each entry is settable is the
 * caller's question (imap_annotate_entry_is_settable).
 */
bool imap_annotate_store_parse(struct arena *a, const struct imap_arg *list,
                               struct store_annotation **out, size_t *n_out,
                               const char **error_out);

/*
 * Appends "ANNOTATION (...)" for one message whose annotations, as
 * store_annotation_get() sorts them, are v[0..n): each entry that req names
 * (an entry named without a wildcard always, with NIL values and size "0"
 * when it has none; an entry-match only where some value exists), in entry
 * order, with the attributes asked for. Values are strings, literals, or
 * literal8 when they hold a NUL (section 7: value = nstring / literal8).
 * Matching is linear in the entry per pattern (list_pattern.h).
 */
void imap_annotate_fetch_append(struct arena *a, struct buf *out,
                                const struct imap_annotate_fetch *req,
                                const struct store_annotation *v, size_t n);

/* ---- imap_annotate.c: with the session and the store ---- */

/*
 * The response code SELECT and EXAMINE send (section 4.1): "ANNOTATIONS
 * NONE" is never the case here; "READ-ONLY" when the mailbox is read-only
 * or the user may write neither value; else the largest value size
 * (imap.annotation_max_size).
 */
void imap_annotate_select_code(struct imap_session *s);

/*
 * STORE's att-annotate (section 4.4): args[0..nargs) after the sequence set
 * and modifiers, uids (n) the resolved set. Answers the command: NO
 * [ANNOTATE TOOBIG] over imap.annotation_max_size, NO [ANNOTATE TOOMANY]
 * over imap.annotation_max_entries per message, NO [NOPERM] without the
 * right of section 5, OK [MODIFIED] with UNCHANGEDSINCE; with CONDSTORE
 * each changed message answers FETCH (MODSEQ) (RFC 7162 3.1.3).
 */
void imap_annotate_store(struct imap_cmd *cmd, const struct imap_arg *args, size_t nargs,
                         const uint32_t *uids, size_t n, bool has_unchanged,
                         uint64_t unchanged_since);

/*
 * APPEND's "ANNOTATION" (section 4.6): list is the list after the atom.
 * Checks it as STORE does (syntax BAD; unsettable entry, TOOBIG, TOOMANY
 * NO) and fills m's annotations, copied into a (the append job's arena,
 * which outlives the command's). Replies and returns false on an error.
 */
bool imap_annotate_append_take(struct imap_cmd *cmd, const struct imap_arg *list, struct arena *a,
                               struct store_append *m);

/*
 * SORT's "ANNOTATION" SP entry SP att-sort (section 4.3; att-sort =
 * "value.priv" / "value.shared"): list->list[*i] is the atom; on success
 * *i is at the last argument used and *out holds the key (the session's
 * user for value.priv). False: BAD.
 */
bool imap_annotate_sort_key_parse(struct imap_cmd *cmd, const struct imap_arg *list, size_t *i,
                                  struct store_sort *out);
/* Whether some key orders by an annotation (which changes in place). */
bool imap_annotate_sort_is_changing(const struct store_sort *keys, size_t n);

#endif
