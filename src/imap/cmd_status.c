/* SPDX-License-Identifier: MIT */
/*
 * cmd_status.c: STATUS (RFC 9051 section 6.3.11). The store answers from
 * the mailbox row's counters: constant time, whatever the mailbox size.
 */
#include "imap/commands.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_namespace.h"
#include "imap/imap_status.h"

enum imap_cmd_status
imap_cmd_status(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct store_mailbox_info info;
	enum store_error err;
	const char *name;
	unsigned items;

	/* status = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")" */
	if (cmd->nargs != 2) {
		imap_reply_bad(cmd, "Expected: STATUS <mailbox> (<items>)");
		return IMAP_CMD_DONE;
	}
	if (!imap_mailbox_arg(cmd, 0, &name) ||
	    !imap_status_items_parse(cmd, &cmd->args[1], &items))
		return IMAP_CMD_DONE;
	struct imap_box box;
	if (imap_box_resolve(s, name, &box, &err) < 0 ||
	    store_mailbox_status(box.acct, box.name, cmd->arena, &info, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	imap_status_reply(s, name, items, &info);
	imap_reply_ok(cmd, "STATUS completed");
	return IMAP_CMD_DONE;
}
