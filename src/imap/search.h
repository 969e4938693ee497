/* SPDX-License-Identifier: MIT */
/*
 * search.h: evaluates a search program (search_parse.h) against the
 * session's snapshot of the selected mailbox. Shared by SEARCH, SORT and
 * THREAD.
 */
#ifndef TERN_IMAP_SEARCH_H
#define TERN_IMAP_SEARCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/search_parse.h"
#include "store/store.h"

struct arena;

struct imap_search_input {
	struct store_mailbox *mbox;
	struct store_account *acct;
	const char *user;      /* whose value.priv ANNOTATION searches (RFC 5257) */
	const uint32_t *saved; /* SEARCHRES "$": ascending UIDs (may hold expunged ones) */
	size_t n_saved;
	int64_t now; /* OLDER/YOUNGER reference time, seconds */
	/* When set and true, the search gives up (STORE_ERR_TEMP): polled
	   before each key and each message read, so a search the client made
	   long ends soon after its session stops (session_is_cancelled). */
	const atomic_bool *cancel;
	/* Bytes the evaluation may take from its arena (imap.max_session_memory;
	   0: no limit): each key allocates a set as large as its candidates,
	   so "NOT DRAFT" 500 times over 100,000 messages took 300 MB. Over it
	   the search fails with STORE_ERR_LIMIT. */
	size_t max_memory;
	/* Where store_search_text() answers come from when set (MULTISEARCH
	   shares one account-wide query among its mailboxes,
	   imap_multisearch.c): same contract, text_ctx its first argument.
	   NULL: the store, for mbox. */
	int (*text_lookup)(void *text_ctx, const struct imap_search_input *in,
	                   enum store_text_field field, const char *needle, struct arena *a,
	                   uint32_t **uids_out, size_t *n_out, enum store_error *err_out);
	void *text_ctx;
	/* The session's comparator (RFC 5255 4.2): BCC BODY CC FROM SUBJECT
	   TEXT TO HEADER match with its substring operation. */
	enum collation collation;
};

/*
 * The UIDs of the snapshot (store_mailbox_uids) that match root, ascending,
 * in a. Returns 0, or -1 with *err_out from the store.
 */
int imap_search_eval(const struct imap_search_input *in, const struct imap_search_key *root,
                     struct arena *a, uint32_t **uids_out, size_t *n_out,
                     enum store_error *err_out);

/*
 * imap_search_eval, and in *scores_out (when not NULL; in a) each result's
 * relevancy 1..100 (RFC 6203 section 4), in the order of *uids_out: the
 * mean score of the FUZZY keys that matched it, 1 when none did.
 */
int imap_search_eval_scored(const struct imap_search_input *in, const struct imap_search_key *root,
                            struct arena *a, uint32_t **uids_out, uint8_t **scores_out,
                            size_t *n_out, enum store_error *err_out);

/* The highest modseq of uids (0 for none): RFC 7162 3.1.6 "(MODSEQ n)". */
uint64_t imap_search_max_modseq(struct store_mailbox *mbox, const uint32_t *uids, size_t n);

/*
 * Sequence numbers of uids (ascending, all in the snapshot) in a: one
 * merge walk over the snapshot, O(count).
 */
uint32_t *imap_search_uids_to_seqs(struct store_mailbox *mbox, const uint32_t *uids, size_t n,
                                   struct arena *a);

#endif
