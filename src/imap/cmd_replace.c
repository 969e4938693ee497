/* SPDX-License-Identifier: MIT */
/*
 * cmd_replace.c: REPLACE and UID REPLACE (RFC 8508). The message is stored
 * in the named mailbox exactly as APPEND would (spooled as it arrives, flags,
 * date, literal8, CATENATE; committed on the store pool: imap_append_start),
 * then the replaced message is removed from the selected mailbox, whatever
 * its flags. Wire order: * OK [APPENDUID ...], then the EXPUNGE and (when the
 * target is the selected mailbox) EXISTS from the sync before the tagged OK;
 * section 3.2's example sends EXISTS first, which numbers the same.
 *
 * replace = "REPLACE" SP seq-number SP mailbox append-message
 *
 * Check first: the message must exist and the mailbox be read-write, so a
 * refused REPLACE stores nothing. Not one transaction: the new message is
 * durable before the old one goes, so a failure between leaves both (NO
 * says so), never neither. Quota counts the new message before the old one
 * leaves (section 3.4 asks for the net figure).
 */
#include <string.h>

#include "imap/commands.h"
#include "imap/imap_append.h"
#include "imap/imap_mailbox.h"
#include "imap/seqset.h"

enum imap_cmd_status
imap_cmd_replace(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct imap_seqset set;
	uint32_t *uids;
	size_t n;

	/* seq-number = nz-number / "*": one message, not a set. */
	if (cmd->nargs < 3 || cmd->args[0].type != IMAP_ARG_ATOM ||
	    strpbrk(cmd->args[0].str, ":,") != NULL ||
	    !imap_seqset_parse(cmd->arena, cmd->args[0].str, &set) || set.is_saved) {
		imap_reply_bad(cmd,
		               "Expected: %s <%s> <mailbox> [(<flags>)] [<date-time>] <literal>",
		               cmd->name, cmd->is_uid ? "uid" : "message number");
		return IMAP_CMD_DONE;
	}
	if (!imap_mailbox_resolve_set(cmd, &set, &uids, &n))
		return IMAP_CMD_DONE;
	if (n == 0) {
		imap_reply_no(cmd, "[NONEXISTENT] No such message");
		return IMAP_CMD_DONE;
	}
	if (s->is_readonly) {
		imap_reply_no(cmd, "[READ-ONLY] Mailbox is read-only");
		return IMAP_CMD_DONE;
	}
	return imap_append_start(cmd, 1, uids[0]);
}
