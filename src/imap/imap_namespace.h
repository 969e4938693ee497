/* SPDX-License-Identifier: MIT */
/*
 * imap_namespace.h: the three namespaces of RFC 2342 and what a mailbox
 * name the client gives means in the store. Personal: "" (the session's
 * own account). Other users: "Other Users/<address>/<mailbox>", the
 * mailboxes other accounts share with this user (their ACL gives 'l' or
 * more, RFC 4314). Shared: "Shared/<mailbox>", public mailboxes of the
 * server-owned account (STORE_SHARED_ACCOUNT). Handles on other accounts
 * are opened on first use with the session's identity, so the store checks
 * every call against the owner's ACL, and kept until logout.
 */
#ifndef TERN_IMAP_NAMESPACE_H
#define TERN_IMAP_NAMESPACE_H

#include <stdbool.h>

#include "imap/session.h"
#include "store/store.h"

#define IMAP_NS_OTHER  "Other Users"
#define IMAP_NS_SHARED "Shared"

/* Sends "* NAMESPACE", with RFC 5255 3.4's TRANSLATION of the other users'
   and shared prefixes when the session's language has one (NAMESPACE,
   LANGUAGE). */
void imap_namespace_reply(struct imap_session *s);

/* A mailbox name resolved to its owner. */
struct imap_box {
	struct store_account *acct; /* borrowed from the session until logout */
	const char *name;           /* the name in acct's store, in the command arena */
	const char *prefix;         /* "", "Other Users/<address>/" or "Shared/" */
};

/*
 * Resolves a client's (UTF-8) name. Names outside the two shared prefixes
 * are personal. "Other Users/<address>" of an unknown address, of the user
 * itself, or without a mailbox part fails with _NOTFOUND, as does a
 * prefix alone. Returns 0, or -1 with _NOTFOUND, _TEMP.
 */
int imap_box_resolve(struct imap_session *s, const char *name, struct imap_box *out,
                     enum store_error *err_out);

/* The session's handle on owner_id's account (opened on first use). */
int imap_namespace_handle(struct imap_session *s, uint64_t owner_id,
                          struct store_account **acct_out, enum store_error *err_out);

/* One mailbox of any namespace, for LIST and NOTIFY. */
struct imap_ns_mailbox {
	const char *name; /* full name as the client sees it, in the arena */
	struct store_mailbox_info info;
};

/*
 * Every mailbox the user can see: the personal ones, then those shared by
 * each other account (ascending owner address), then the public ones;
 * each group sorted as store_mailbox_list sorts. Owners that cannot be
 * read are left out (logged). Array in the command arena.
 */
int imap_namespace_list(struct imap_session *s, struct imap_ns_mailbox **list_out, size_t *n_out,
                        enum store_error *err_out);

/*
 * LOGIN "user/mailbox" (imap.shared_login_separator): s->login_box holds
 * what followed the separator: an address (its owner's INBOX shared with
 * the user), a full name ("Shared/sales", "Other Users/bob@x/Projects"),
 * or a name in "Shared/". The first the user may read ('r') becomes what
 * INBOX means for the session (full name in s->login_box); nothing else
 * is visible then. 0, or -1 (s->login_box freed) when none is.
 */
int imap_namespace_enter(struct imap_session *s);

/* Reads the user's groups and sets s->identity (at login). */
void imap_namespace_login(struct imap_session *s);
/* Closes the shared handles and frees the groups (logout). */
void imap_namespace_free(struct imap_session *s);

#endif
