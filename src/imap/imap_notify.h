/* SPDX-License-Identifier: MIT */
/*
 * imap_notify.h: NOTIFY (RFC 5465): the events a client wants to hear of,
 * at any time, not only while a command runs.
 *
 *   selected mailbox   MessageNew (with optional FETCH attributes for the
 *                      new messages), MessageExpunge, FlagChange: the usual
 *                      EXISTS/EXPUNGE/VANISHED/FETCH, pushed as soon as
 *                      they happen (SELECTED) or at the next command
 *                      (SELECTED-DELAYED, which RFC 5465 6.1.2 allows for
 *                      every event);
 *   other mailboxes    the same events as STATUS responses (5.1-5.3),
 *                      from a store handle watching each: INBOXES (here:
 *                      INBOX, where mail is delivered), PERSONAL (every
 *                      mailbox), SUBSCRIBED, SUBTREE, MAILBOXES;
 *   the mailbox list   MailboxName (LIST, \NonExistent for a deleted one,
 *                      OLDNAME for a rename) and SubscriptionChange (LIST
 *                      with or without \Subscribed), from the account's
 *                      list watch (store_account_watch);
 *   metadata           MailboxMetadataChange for the mailboxes a group
 *                      names, ServerMetadataChange in any group: "* METADATA
 *                      mailbox entry..." without values (5.6, 5.7), from
 *                      the store's change feed (store_metadata_changes).
 *
 * Events caused by this session are not reported (5: SHOULD). There are no
 * message annotations (ANNOTATE): AnnotationChange is NO [BADEVENT ...].
 * Updates are
 * written only where output may go: between commands, during IDLE, or just
 * before a command's tagged reply.
 */
#ifndef TERN_IMAP_NOTIFY_H
#define TERN_IMAP_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct imap_cmd;
struct imap_session;

/* Watched mailboxes at most: each holds a store handle (its mailbox's view). */
#define IMAP_NOTIFY_MAX_MAILBOXES 256

enum imap_notify_event {
	IMAP_NOTIFY_NEW = 1 << 0, /* MessageNew */
	IMAP_NOTIFY_EXPUNGE = 1 << 1,
	IMAP_NOTIFY_FLAGS = 1 << 2, /* FlagChange */
	IMAP_NOTIFY_MAILBOXNAME = 1 << 3,
	IMAP_NOTIFY_SUBSCRIPTION = 1 << 4,
	IMAP_NOTIFY_MAILBOX_METADATA = 1 << 5, /* MailboxMetadataChange (5.6) */
	IMAP_NOTIFY_SERVER_METADATA = 1 << 6,  /* ServerMetadataChange (5.7) */
};
#define IMAP_NOTIFY_MESSAGE_EVENTS (IMAP_NOTIFY_NEW | IMAP_NOTIFY_EXPUNGE | IMAP_NOTIFY_FLAGS)

enum imap_notify_filter {
	IMAP_NOTIFY_INBOXES,
	IMAP_NOTIFY_PERSONAL,
	IMAP_NOTIFY_SUBSCRIBED,
	IMAP_NOTIFY_SUBTREE,   /* names and everything below them */
	IMAP_NOTIFY_MAILBOXES, /* names exactly, no wildcards */
};

/* One event group of NOTIFY SET for mailboxes other than the selected. */
struct imap_notify_group {
	enum imap_notify_filter filter;
	const char **names; /* SUBTREE, MAILBOXES: UTF-8 */
	size_t n_names;
	unsigned events; /* enum imap_notify_event bits */
};

/* A parsed NOTIFY SET (cmd_notify.c), all in the command's arena. */
struct imap_notify_spec {
	bool status; /* the STATUS indicator: initial STATUS responses */
	bool has_selected, selected_delayed;
	unsigned selected_events;
	const char **new_atts; /* MessageNew's fetch-atts for the selected mailbox */
	size_t n_new_atts;
	struct imap_notify_group *groups;
	size_t n_groups;
};

/*
 * Replaces the session's notifications with spec (copied), or with none
 * when spec is NULL (NOTIFY NONE); with spec->status sends the STATUS
 * responses 3.1 asks for. Returns 0, or -1 when more than
 * IMAP_NOTIFY_MAX_MAILBOXES would be watched (the caller says NO
 * [NOTIFICATIONOVERFLOW]; nothing changed) or the store failed (*err_out).
 */
struct imap_notify;
int imap_notify_set(struct imap_cmd *cmd, const struct imap_notify_spec *spec, bool *overflow_out);
void imap_notify_free(struct imap_session *s);

/* Whether the selected mailbox's changes go out as soon as they happen. */
bool imap_notify_pushes_selected(const struct imap_session *s);

/* The selected mailbox changed (SELECT, EXAMINE, CLOSE): it is watched
   like the others no longer, or again. */
void imap_notify_selected_changed(struct imap_session *s);

/* This session changed the mailbox list or a subscription: take the new
   list as known, without telling the client about its own change. */
void imap_notify_own_list_change(struct imap_session *s);

/* Appends the FETCH responses NOTIFY's MessageNew asked for, for the new
   messages uids (ascending, in the snapshot), to out. */
void imap_notify_new_messages(struct imap_session *s, const uint32_t *uids, size_t n,
                              struct buf *out);

/* Writes what happened in other mailboxes and to the mailbox list. */
void imap_notify_flush(struct imap_session *s);

#endif
