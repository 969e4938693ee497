/* SPDX-License-Identifier: MIT */
/*
 * imap_mailbox.h: what the mailbox commands share: mailbox names on the wire
 * (modified UTF-7 or UTF-8), store errors as IMAP replies, the selected
 * mailbox's lifecycle, and sending other sessions' changes (EXISTS,
 * EXPUNGE/VANISHED, FETCH FLAGS) at the points the RFC allows.
 */
#ifndef TERN_IMAP_MAILBOX_H
#define TERN_IMAP_MAILBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "imap/session.h"
#include "store/store.h"

/*
 * Reads argument i as a mailbox name and gives its UTF-8 form ("INBOX" for
 * any case of inbox). On failure replies BAD or NO and returns false.
 */
bool imap_mailbox_arg(struct imap_cmd *cmd, size_t i, const char **name_out);
/* A UTF-8 name as the client must see it, quoted or literal, in the arena. */
const char *imap_mailbox_wire(struct imap_session *s, const char *name);
/* The wire form without quoting (for pattern matching), in the arena. */
const char *imap_mailbox_encode(struct imap_session *s, const char *name);

struct imap_seqset;
/*
 * Resolves a parsed message set against the session's snapshot ("$" is the
 * saved search result, RFC 5182) into ascending UIDs in the arena; by UID
 * when cmd->is_uid. Replies BAD and returns false for a sequence number
 * beyond the mailbox.
 */
bool imap_mailbox_resolve_set(struct imap_cmd *cmd, const struct imap_seqset *set,
                              uint32_t **uids_out, size_t *n_out);

/* Replies NO with the RFC 5530 code for err; logs TEMP/CORRUPT as errors. */
void imap_reply_store_error(struct imap_cmd *cmd, enum store_error err);

/* "\\Seen \\Flagged $Junk" for flags, keywords and (rev1) \\Recent, in the arena. */
const char *imap_flags_format(struct imap_session *s, uint32_t flags, uint64_t keywords,
                              bool recent);

/* The same flags appended to b (no parentheses); keyword names from a. For
   writers that run long (FETCH) and must not grow the command arena. */
struct buf;
struct arena;
void imap_flags_append(struct imap_session *s, struct arena *a, struct buf *b, uint32_t flags,
                       uint64_t keywords, bool recent);

/*
 * The FLAGS response and the PERMANENTFLAGS code (RFC 9051 7.3.5, 7.1): the
 * system flags and every keyword of the account, appended to out as two
 * untagged lines (one, FLAGS, when again_readonly: a read-only mailbox said
 * "PERMANENTFLAGS ()" at EXAMINE and that stays true). The keywords are
 * then announced: s->kw_announced.
 */
void imap_mailbox_flags_lines(struct imap_session *s, struct buf *out, bool again_readonly);
/*
 * A keyword must be in a FLAGS response before any FETCH FLAGS carries it
 * (RFC 9051 7.3.5): when keywords holds one not yet announced, appends the
 * FLAGS (and PERMANENTFLAGS) lines to out, or writes them to the client
 * when out is NULL. Returns whether it did. Cheap when nothing is new.
 */
bool imap_mailbox_announce_keywords(struct imap_session *s, uint64_t keywords, struct buf *out);

/* Closes the selected mailbox (if any) and returns to AUTHENTICATED. */
void imap_mailbox_deselect(struct imap_session *s);
/* Makes mbox, opened through owner's handle, the selected mailbox
   (SELECT/EXAMINE did the replies). */
void imap_mailbox_selected(struct imap_session *s, struct store_mailbox *mbox,
                           struct store_account *owner, const char *name, bool readonly);
/* The handle of the selected mailbox's account (its keywords, COPY's
   destinations), the session's own when nothing is selected. */
struct store_account *imap_mailbox_account(struct imap_session *s);

/*
 * Sends what other sessions changed since the last sync: EXPUNGE (or
 * VANISHED with QRESYNC) unless allow_expunge is false (then nothing is
 * sent: sequence numbers must not move), EXISTS, RECENT (rev1) and FETCH
 * FLAGS. If the mailbox was deleted under us, says BYE-less NO by closing it.
 */
void imap_mailbox_sync(struct imap_session *s, bool allow_expunge);

/* Messages with \\Recent for this session (rev1 RECENT), O(messages); for
   a read-only one those nobody has claimed yet (stored counter). */
uint32_t imap_mailbox_recent_count(struct imap_session *s);

/* Tells the session about the store's wake-ups (IDLE pushes; otherwise
   the next command picks them up). */
void imap_mailbox_watch(struct imap_session *s);

#endif
