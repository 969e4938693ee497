/* SPDX-License-Identifier: MIT */
/*
 * cmd_delete.c: DELETE (RFC 9051 section 6.3.5). INBOX cannot be deleted; a
 * mailbox with children is refused with [HASCHILDREN] (our hierarchy has no
 * \\Noselect placeholders). Deleting the selected mailbox is allowed; that
 * session is told at its next sync.
 */
#include "imap/commands.h"
#include "imap/imap_notify.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_namespace.h"

enum imap_cmd_status
imap_cmd_delete(struct imap_cmd *cmd)
{
	const char *name;
	enum store_error err;

	/* delete = "DELETE" SP mailbox */
	if (cmd->nargs != 1) {
		imap_reply_bad(cmd, "Expected: DELETE <mailbox>");
		return IMAP_CMD_DONE;
	}
	if (!imap_mailbox_arg(cmd, 0, &name))
		return IMAP_CMD_DONE;
	struct imap_box box;
	if (imap_box_resolve(cmd->session, name, &box, &err) < 0 ||
	    store_mailbox_delete(box.acct, box.name, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	imap_notify_own_list_change(cmd->session); /* not news to this client (RFC 5465 5) */
	imap_reply_ok(cmd, "DELETE completed");
	return IMAP_CMD_DONE;
}
