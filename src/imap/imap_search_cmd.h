/* SPDX-License-Identifier: MIT */
/*
 * imap_search_cmd.h: what SEARCH, SORT and THREAD share around the search
 * engine: the session's search input, SORT/THREAD's "charset keys..."
 * arguments with their BAD and NO [BADCHARSET] replies, a program's
 * result in the requested order (SEARCH and SORT, and their UPDATE
 * contexts), and the saved result "$" (SEARCH and ESEARCH).
 */
#ifndef TERN_IMAP_SEARCH_CMD_H
#define TERN_IMAP_SEARCH_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "imap/search.h"
#include "imap/search_parse.h"
#include "imap/session.h"

/* The selected mailbox's snapshot, the saved result "$" and the clock. */
void imap_search_input_init(struct imap_search_input *in, struct imap_session *s);

/*
 * SORT and THREAD (RFC 5256): args[charset_i] is the charset, the search
 * keys follow. Returns true with *prog; false after replying BAD (syntax) or
 * NO [BADCHARSET] (RFC 9051 7.1).
 */
bool imap_search_keys_arg(struct imap_cmd *cmd, size_t charset_i, struct imap_search_program *prog);

/*
 * The UIDs root matches in the session's snapshot, in the requested order:
 * ascending, or sorted by keys when n_keys > 0 (ties by UID, RFC 5256). In
 * a. Returns 0, or -1 with *err_out.
 */
struct store_sort;
int imap_search_result(struct imap_session *s, const struct imap_search_key *root,
                       const struct store_sort *keys, size_t n_keys, struct arena *a,
                       uint32_t **uids_out, size_t *n_out, enum store_error *err_out);

/* Replaces the saved result "$" (SEARCHRES, RFC 5182) with uids (n,
   ascending; NULL, 0: empty, as a failed SEARCH with SAVE leaves it). */
void imap_search_save(struct imap_session *s, const uint32_t *uids, size_t n);
/* Saves what RETURN (ret) with SAVE keeps of the result uids: with only MIN
   and/or MAX those, with ALL or COUNT everything, with PARTIAL (and no ALL
   or COUNT) the partial range (RFC 5182 2.4, RFC 9394 3.2). */
void imap_search_save_for_options(struct imap_session *s, const struct imap_search_program *prog,
                                  unsigned ret, const uint32_t *uids, size_t n);
/*
 * The same, with each result's relevancy (RFC 6203) in *scores_out when
 * not NULL, in the result's order. A RELEVANCY key orders by score,
 * highest first (REVERSE: lowest), where it stands among the keys: the
 * keys before it decide first, those after it break its ties. Not first,
 * it costs two more sorts of the mailbox (the groups the keys before it
 * leave equal).
 */
int imap_search_result_scored(struct imap_session *s, const struct imap_search_key *root,
                              const struct store_sort *keys, size_t n_keys, struct arena *a,
                              uint32_t **uids_out, uint8_t **scores_out, size_t *n_out,
                              enum store_error *err_out);

#endif
