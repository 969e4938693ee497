/* SPDX-License-Identifier: MIT */
/*
 * cmd_getquotaroot.c: GETQUOTAROOT (RFC 9208 section 4.1.2). One quota
 * root per account, so one QUOTAROOT and one QUOTA line. The store updates
 * usage in the same transaction as the messages: one indexed row read,
 * whatever the size of the mailboxes.
 */
#include "imap/commands.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_quota.h"

enum imap_cmd_status
imap_cmd_getquotaroot(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct store_quota q;
	enum store_error err;
	const char *mailbox;

	/* getquotaroot = "GETQUOTAROOT" SP mailbox */
	if (cmd->nargs != 1) {
		imap_reply_bad(cmd, "Expected: GETQUOTAROOT <mailbox>");
		return IMAP_CMD_DONE;
	}
	if (!imap_mailbox_arg(cmd, 0, &mailbox))
		return IMAP_CMD_DONE;
	/* The mailbox need not exist: clients ask before CREATE which root a
	   new mailbox would fall under (section 4.1.2). Check the name's
	   syntax, not its presence. */
	if (!store_mailbox_name_is_valid(mailbox)) {
		imap_reply_no(cmd, "[CANNOT] Invalid mailbox name");
		return IMAP_CMD_DONE;
	}
	if (store_quota_get(s->account, &q, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	imap_reply_untagged(s, "QUOTAROOT %s %s", imap_mailbox_wire(s, mailbox),
	                    imap_quote(s->cmd_arena, IMAP_QUOTA_ROOT));
	imap_quota_reply(s, &q);
	imap_reply_ok(cmd, "GETQUOTAROOT completed");
	return IMAP_CMD_DONE;
}
