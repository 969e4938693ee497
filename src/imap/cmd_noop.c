/* SPDX-License-Identifier: MIT */
/*
 * cmd_noop.c: NOOP (RFC 9051 section 6.1.2). Does nothing itself; pending
 * mailbox updates are sent by the session after every command.
 */
#include "imap/commands.h"

enum imap_cmd_status
imap_cmd_noop(struct imap_cmd *cmd)
{
	if (!imap_args_end(cmd, 0)) {
		imap_reply_bad(cmd, "Expected: NOOP");
		return IMAP_CMD_DONE;
	}
	imap_reply_ok(cmd, "NOOP completed");
	return IMAP_CMD_DONE;
}
