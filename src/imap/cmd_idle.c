/* SPDX-License-Identifier: MIT */
/*
 * cmd_idle.c: IDLE (RFC 2177, RFC 9051 section 6.3.13). While idling, the
 * store's wake-up (another session appended, expunged or changed flags) makes
 * the session send the updates at once (imap_mailbox.c wake_cb); the
 * client ends IDLE with a line "DONE". Anything else is BAD.
 */
#include <strings.h>

#include "imap/commands.h"
#include "imap/imap_mailbox.h"

static enum imap_cmd_status
on_line(struct imap_cmd *cmd, const char *line, size_t len)
{
	struct imap_session *s = cmd->session;

	s->is_idling = false;
	if (strcasecmp(line, "DONE") != 0) {
		imap_reply_bad(cmd, "Expected DONE to end IDLE");
		return IMAP_CMD_DONE;
	}
	imap_reply_ok(cmd, "IDLE terminated");
	return IMAP_CMD_DONE;
}

enum imap_cmd_status
imap_cmd_idle(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;

	if (!imap_args_end(cmd, 0)) {
		imap_reply_bad(cmd, "Expected: IDLE");
		return IMAP_CMD_DONE;
	}
	imap_reply_continue(s, "idling");
	/* What changed before IDLE goes out now. */
	imap_mailbox_sync(s, true);
	s->is_idling = true;
	imap_cmd_read_line(cmd, on_line);
	return IMAP_CMD_WAIT;
}
