/* SPDX-License-Identifier: MIT */
/*
 * cmd_rename.c: RENAME (RFC 9051 section 6.3.6). Children move with their
 * parent; renaming INBOX moves its messages into a new mailbox and leaves
 * INBOX empty (the store implements both).
 */
#include "imap/commands.h"
#include "imap/imap_notify.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_namespace.h"

enum imap_cmd_status
imap_cmd_rename(struct imap_cmd *cmd)
{
	const char *from, *to;
	enum store_error err;

	/* rename = "RENAME" SP mailbox SP mailbox */
	if (cmd->nargs != 2) {
		imap_reply_bad(cmd, "Expected: RENAME <old> <new>");
		return IMAP_CMD_DONE;
	}
	if (!imap_mailbox_arg(cmd, 0, &from) || !imap_mailbox_arg(cmd, 1, &to))
		return IMAP_CMD_DONE;
	struct imap_box a, b;
	if (imap_box_resolve(cmd->session, from, &a, &err) < 0 ||
	    imap_box_resolve(cmd->session, to, &b, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	if (a.acct != b.acct) {
		imap_reply_no(cmd, "[CANNOT] A mailbox cannot move to another owner's namespace");
		return IMAP_CMD_DONE;
	}
	if (store_mailbox_rename(a.acct, a.name, b.name, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	imap_notify_own_list_change(cmd->session); /* not news to this client (RFC 5465 5) */
	imap_reply_ok(cmd, "RENAME completed");
	return IMAP_CMD_DONE;
}
