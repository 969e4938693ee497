/* SPDX-License-Identifier: MIT */
/*
 * cmd_logout.c: LOGOUT (RFC 9051 section 6.1.3): untagged BYE, then the
 * tagged OK, then the server closes the connection.
 */
#include "imap/commands.h"
#include "net/net.h"

enum imap_cmd_status
imap_cmd_logout(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;

	if (!imap_args_end(cmd, 0)) {
		imap_reply_bad(cmd, "Expected: LOGOUT");
		return IMAP_CMD_DONE;
	}
	/* LOGOUT state first: the tagged reply carries no mailbox updates
	   (an EXPUNGE after BYE would name a session that is ending). */
	s->state = IMAP_STATE_LOGOUT;
	imap_reply_untagged(s, "BYE Logging out");
	imap_reply_ok(cmd, "LOGOUT completed");
	session_close(&s->base);
	return IMAP_CMD_DONE;
}
