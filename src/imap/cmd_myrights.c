/* SPDX-License-Identifier: MIT */
/*
 * cmd_myrights.c: MYRIGHTS (RFC 4314 section 3.5). Any of 'l', 'r', 'i',
 * 'k', 'x', 'a' lets a user ask (section 4); with none the mailbox looks
 * absent (section 6).
 */
#include "imap/commands.h"
#include "imap/imap_acl.h"
#include "imap/imap_mailbox.h"

enum imap_cmd_status
imap_cmd_myrights(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct imap_box box;
	enum store_error err;
	const char *name;
	unsigned rights;
	char letters[16];

	/* myrights = "MYRIGHTS" SP mailbox */
	if (cmd->nargs != 1) {
		imap_reply_bad(cmd, "Expected: MYRIGHTS <mailbox>");
		return IMAP_CMD_DONE;
	}
	if (!imap_acl_mailbox_arg(cmd, 0, &box, &name))
		return IMAP_CMD_DONE;
	if (store_mailbox_rights(box.acct, box.name, &rights, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	if (!(rights & (STORE_RIGHT_LOOKUP | STORE_RIGHT_READ | STORE_RIGHT_INSERT |
	                STORE_RIGHT_CREATE | STORE_RIGHT_DELETE | STORE_RIGHT_ADMIN))) {
		imap_reply_store_error(cmd, STORE_ERR_NOTFOUND);
		return IMAP_CMD_DONE;
	}
	imap_reply_untagged(s, "MYRIGHTS %s %s", imap_mailbox_wire(s, name),
	                    store_rights_format(rights, letters));
	imap_reply_ok(cmd, "MYRIGHTS completed");
	return IMAP_CMD_DONE;
}
