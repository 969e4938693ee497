/* SPDX-License-Identifier: MIT */
/*
 * cmd_close.c: CLOSE (RFC 9051 section 6.4.1) and UNSELECT (RFC 3691, 9051
 * 6.4.2). CLOSE silently expunges \\Deleted messages of a read-write
 * mailbox (no EXPUNGE responses: the mailbox is no longer selected) when
 * the user has the 'e' right on it.
 */
#include <strings.h>

#include "imap/commands.h"
#include "imap/imap_mailbox.h"

enum imap_cmd_status
imap_cmd_close(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	bool expunge = strcasecmp(cmd->def->name, "CLOSE") == 0;

	if (!imap_args_end(cmd, 0)) {
		imap_reply_bad(cmd, "Expected: %s", cmd->def->name);
		return IMAP_CMD_DONE;
	}
	/* RFC 4314 section 4: without 'e' CLOSE closes, expunging nothing,
	   and still says OK. */
	if (expunge && !s->is_readonly &&
	    (store_mailbox_my_rights(s->mbox) & STORE_RIGHT_EXPUNGE)) {
		uint32_t *gone;
		size_t n;
		enum store_error err;
		if (store_message_expunge(s->mbox, NULL, 0, cmd->arena, &gone, &n, &err) < 0) {
			imap_reply_store_error(cmd, err);
			return IMAP_CMD_DONE;
		}
	}
	imap_mailbox_deselect(s);
	imap_reply_ok(cmd, "%s completed", cmd->def->name);
	return IMAP_CMD_DONE;
}
