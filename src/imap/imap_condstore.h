/* SPDX-License-Identifier: MIT */
/*
 * imap_condstore.h: what CONDSTORE and QRESYNC (RFC 7162) add to several
 * commands: parsing a mod-sequence value, and reporting the messages a
 * client's cache still has but the mailbox has lost since a modseq
 * ("* VANISHED (EARLIER)", for SELECT (QRESYNC ...) and UID FETCH
 * (CHANGEDSINCE n VANISHED)).
 */
#ifndef TERN_IMAP_CONDSTORE_H
#define TERN_IMAP_CONDSTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "imap/session.h"

struct imap_seqset;

/*
 * A CONDSTORE enabling command ran (RFC 7162 3.1: FETCH MODSEQ or
 * CHANGEDSINCE, STORE UNCHANGEDSINCE, SEARCH MODSEQ, ENABLE, SELECT
 * (CONDSTORE)): flag updates carry MODSEQ from now on, and the first such
 * command with a mailbox selected sends its "OK [HIGHESTMODSEQ n]".
 */
void imap_condstore_enable(struct imap_session *s);

/* mod-sequence-value = 1*DIGIT, at most 2^63-1; zero_ok for
   mod-sequence-valzer. False when s is not one. */
bool imap_modseq_parse(const char *s, bool zero_ok, uint64_t *out);

/*
 * Sends "* VANISHED (EARLIER) <uids>" for the UIDs named by set (NULL: all,
 * 1:UIDNEXT-1; '*' is UIDNEXT-1) that were expunged with a modseq above
 * since; nothing when there are none. The expunge history is complete, so
 * no message is ever reported twice or missed. Returns false after replying
 * NO when the store failed.
 */
bool imap_condstore_vanished(struct imap_cmd *cmd, uint64_t since, const struct imap_seqset *set);

#endif
