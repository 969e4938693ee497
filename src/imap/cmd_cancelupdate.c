/* SPDX-License-Identifier: MIT */
/*
 * cmd_cancelupdate.c: CANCELUPDATE (RFC 5267 section 4.3.5): no more ADDTO
 * and REMOVEFROM for the contexts the tags name (imap_context.c).
 *
 * command-select =/ "CANCELUPDATE" 1*(SP quoted)
 */
#include "imap/commands.h"
#include "imap/imap_context.h"

enum imap_cmd_status
imap_cmd_cancelupdate(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	const char *tag;

	if (cmd->nargs == 0) {
		imap_reply_bad(cmd, "Expected: CANCELUPDATE <tag> ...");
		return IMAP_CMD_DONE;
	}
	/* Check them all before cancelling any. */
	for (size_t i = 0; i < cmd->nargs; i++) {
		if (!imap_args_astring(cmd, i, &tag)) {
			imap_reply_bad(cmd, "Expected search tags");
			return IMAP_CMD_DONE;
		}
		if (!imap_context_tag_in_use(s, tag)) {
			imap_reply_bad(cmd, "No search context has that tag");
			return IMAP_CMD_DONE;
		}
	}
	for (size_t i = 0; i < cmd->nargs; i++)
		imap_context_cancel(s, cmd->args[i].str);
	imap_reply_ok(cmd, "CANCELUPDATE completed");
	return IMAP_CMD_DONE;
}
