/* SPDX-License-Identifier: MIT */
/*
 * seqset.h: IMAP sequence sets (RFC 9051 section 9, "sequence-set"):
 * "1,3:5,7:*" and "$" (RFC 5182 SEARCHRES). Parsing is pure; resolving
 * against a mailbox snapshot turns a set into ascending, unique UIDs.
 */
#ifndef TERN_IMAP_SEQSET_H
#define TERN_IMAP_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

/* '*': the largest number in use. 0, not UINT32_MAX: 4294967295 is a valid
   nz-number (a UID set "1:4294967295" means every UID), 0 never is. */
#define IMAP_SEQ_STAR 0u

struct imap_seq_range {
	uint32_t lo, hi; /* lo <= hi after parsing unless one is IMAP_SEQ_STAR */
};

struct imap_seqset {
	struct imap_seq_range *ranges;
	size_t n;
	bool is_saved; /* "$": the saved search result */
};

/* Parses s; false when it is not a sequence-set (or "$"). Ranges in a. */
bool imap_seqset_parse(struct arena *a, const char *s, struct imap_seqset *out);

/*
 * Resolves set against uids[0..count) (ascending: a mailbox snapshot).
 * As sequence numbers (is_uid false): '*' is count; a number above count
 * makes the call return false (the client is told BAD). As UIDs: '*' is
 * the largest UID, and UIDs not present are skipped (RFC 9051 6.4.9).
 * "$" cannot be resolved here (the caller substitutes the saved result).
 * Result ascending, without duplicates, in a.
 */
bool imap_seqset_resolve(const struct imap_seqset *set, bool is_uid, const uint32_t *uids,
                         uint32_t count, struct arena *a, uint32_t **out, size_t *n_out);

/*
 * Keeps the members of v[0..n) (ascending) that set names, '*' standing for
 * star, in place; returns how many are left. For numbers the snapshot may
 * no longer hold (VANISHED: expunged UIDs). O(n + ranges log ranges).
 */
size_t imap_seqset_filter(const struct imap_seqset *set, uint32_t star, struct arena *a,
                          uint32_t *v, size_t n);
/* True when the set names '*' anywhere (QRESYNC's known-uids may not). */
bool imap_seqset_has_star(const struct imap_seqset *set);

/* Formats ascending uids compactly ("1:3,7"), in a; "" for none. */
const char *imap_seqset_format(struct arena *a, const uint32_t *uids, size_t n);

#endif
