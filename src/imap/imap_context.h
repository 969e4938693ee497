/* SPDX-License-Identifier: MIT */
/*
 * imap_context.h: SEARCH and SORT results kept up to date (CONTEXT=SEARCH,
 * CONTEXT=SORT, RFC 5267 section 4.3). A searching command with RETURN
 * (UPDATE) leaves a context behind: its search program (copied, with
 * message numbers and "$" turned into the UIDs they named when it ran,
 * section 4.3), its sort keys and its last result. At every point where
 * the session is told of changes (imap_mailbox_sync) the program runs again
 * if the mailbox changed, and the difference goes out as ESEARCH ADDTO and
 * REMOVEFROM. Contexts end with CANCELUPDATE or when the mailbox is closed.
 */
#ifndef TERN_IMAP_CONTEXT_H
#define TERN_IMAP_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/search_parse.h"
#include "imap/session.h"
#include "store/store.h"

/* Contexts per session: each re-runs its search after every change, so a
   few; RFC 5267 4.3.1 wants at least one (past it: NO [NOUPDATE]). */
#define IMAP_CONTEXTS_MAX 8

struct buf;

/* True when tag already names a context (its UPDATE is BAD, 4.3). */
bool imap_context_tag_in_use(struct imap_session *s, const char *tag);

/*
 * Keeps cmd's search (prog, and for SORT its keys) with its result uids (in
 * the requested order). Returns false, after sending NO [NOUPDATE "tag"],
 * when the session has IMAP_CONTEXTS_MAX already.
 */
bool imap_context_add(struct imap_cmd *cmd, const struct imap_search_program *prog,
                      const struct store_sort *keys, size_t n_keys, const uint32_t *uids, size_t n);

/* CANCELUPDATE of tag: true when there was such a context. */
bool imap_context_cancel(struct imap_session *s, const char *tag);

/* Ends every context (the mailbox is closed). */
void imap_context_free_all(struct imap_session *s);

/* Before the session's snapshot moves (imap_mailbox_sync): notes the
   sequence numbers the results have now, which removals must use. */
void imap_context_before_sync(struct imap_session *s);

/*
 * After it moved: each context whose mailbox changed runs again. The
 * REMOVEFROM lines (numbered as before the sync: they go before the
 * EXPUNGE responses, section 4.3.4) are appended to removes, the ADDTO
 * lines (numbered as now: after EXISTS, 4.3.3) to adds.
 */
void imap_context_after_sync(struct imap_session *s, struct buf *removes, struct buf *adds);

#endif
