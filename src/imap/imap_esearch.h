/* SPDX-License-Identifier: MIT */
/*
 * imap_esearch.h: the ESEARCH response (RFC 4731 section 3.1) of SEARCH
 * and, with ESORT (RFC 5267 section 3), of SORT: MIN, MAX, ALL, COUNT, the
 * MODSEQ of RFC 7162 3.1.5, PARTIAL of RFC 9394 and RELEVANCY of RFC 6203
 * section 4 (prog->relevancy). Numbers are sequence numbers, or UIDs for a
 * UID command; a list in sort order is written with ranges only where
 * numbers ascend (RFC 5267 3.2).
 */
#ifndef TERN_IMAP_ESEARCH_H
#define TERN_IMAP_ESEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/search_parse.h"
#include "imap/session.h"

/*
 * Sends "* ESEARCH (TAG t) [UID] ..." for prog's RETURN options over uids
 * (n, in the requested order: ascending for SEARCH, sorted for SORT; all in
 * the session's snapshot).
 */
void imap_esearch_reply(struct imap_cmd *cmd, const struct imap_search_program *prog,
                        const uint32_t *uids, size_t n);

/*
 * Appends the result part of an ESEARCH response, after its correlators,
 * to b: " MIN n MAX n ALL set COUNT n PARTIAL (..) MODSEQ n" as prog's
 * RETURN options ask. nums are what the client sees (UIDs or sequence
 * numbers) for uids of mbox, n of each, in the requested order. Strings
 * from a. Shared by SEARCH/SORT (imap_esearch_reply) and MULTISEARCH.
 */
struct buf;
struct store_mailbox;
void imap_esearch_append_result(struct buf *b, struct arena *a, struct store_mailbox *mbox,
                                const struct imap_search_program *prog, const uint32_t *nums,
                                const uint32_t *uids, size_t n);

/* The numbers the client sees for uids (in their order): UIDs, or sequence
   numbers in the session's snapshot. In the arena. */
const uint32_t *imap_esearch_numbers(struct imap_session *s, bool is_uid, const uint32_t *uids,
                                     size_t n, struct arena *a);

/* The slice of a result of n that PARTIAL lo:hi names (RFC 9394 3.1:
   negative counts from the end): [*first_out, *first_out + *n_out). */
void imap_esearch_partial(int32_t lo, int32_t hi, size_t n, size_t *first_out, size_t *n_out);

#endif
