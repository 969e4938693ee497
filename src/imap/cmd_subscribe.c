/* SPDX-License-Identifier: MIT */
/*
 * cmd_subscribe.c: SUBSCRIBE and UNSUBSCRIBE (RFC 9051 sections 6.3.7-8).
 * A subscription is just a name: it may outlive its mailbox (LIST shows it
 * \\NonExistent) and unsubscribing a name never subscribed is not an error.
 */
#include <strings.h>

#include "imap/commands.h"
#include "imap/imap_notify.h"
#include "imap/imap_mailbox.h"

enum imap_cmd_status
imap_cmd_subscribe(struct imap_cmd *cmd)
{
	bool subscribe = strcasecmp(cmd->def->name, "SUBSCRIBE") == 0;
	const char *name;
	enum store_error err;

	if (cmd->nargs != 1) {
		imap_reply_bad(cmd, "Expected: %s <mailbox>", cmd->def->name);
		return IMAP_CMD_DONE;
	}
	if (!imap_mailbox_arg(cmd, 0, &name))
		return IMAP_CMD_DONE;
	if (subscribe && !store_mailbox_name_is_valid(name)) {
		imap_reply_no(cmd, "[CANNOT] Invalid mailbox name");
		return IMAP_CMD_DONE;
	}
	if (store_subscription_set(cmd->session->account, name, subscribe, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	imap_notify_own_list_change(cmd->session); /* not news to this client (RFC 5465 5) */
	imap_reply_ok(cmd, "%s completed", cmd->def->name);
	return IMAP_CMD_DONE;
}
