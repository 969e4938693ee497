/* SPDX-License-Identifier: MIT */
/*
 * imap_multisearch.h: running an ESEARCH (RFC 7377 MULTISEARCH) over the
 * mailboxes its source options name, one "* ESEARCH (TAG .. MAILBOX ..
 * UIDVALIDITY ..) UID ..." response per mailbox with matches.
 */
#ifndef TERN_IMAP_MULTISEARCH_H
#define TERN_IMAP_MULTISEARCH_H

#include "imap/imap_esearch_source.h"
#include "imap/search_parse.h"
#include "imap/session.h"

/*
 * Searches the mailboxes src names with prog (both in the command arena,
 * checked by the caller: states, SAVE, UPDATE), off the event loop, a few
 * mailboxes per trip to the query pool, each trip's responses sent as soon
 * as it is back. Returns IMAP_CMD_WAIT (the tagged reply follows), or
 * IMAP_CMD_DONE when it could run only on the loop and is done.
 */
enum imap_cmd_status imap_multisearch_run(struct imap_cmd *cmd,
                                          const struct imap_esearch_source *src,
                                          const struct imap_search_program *prog);

#endif
