/* SPDX-License-Identifier: MIT */
/*
 * cmd_expunge.c: EXPUNGE (RFC 9051 section 6.4.3) and UID EXPUNGE (RFC 4315,
 * 9051 6.4.9). The store removes the messages; the EXPUNGE (or VANISHED)
 * responses come from the sync before the tagged reply, which also reports
 * what other sessions expunged, all with correct sequence numbers.
 */
#include "imap/commands.h"
#include "imap/imap_mailbox.h"
#include "imap/seqset.h"

enum imap_cmd_status
imap_cmd_expunge(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	const uint32_t *uids = NULL;
	uint32_t *resolved = NULL, *gone;
	size_t n = 0, ngone;
	enum store_error err;

	/* expunge = "EXPUNGE"; uid-expunge = "UID" SP "EXPUNGE" SP sequence-set */
	if (cmd->is_uid) {
		struct imap_seqset set;
		if (cmd->nargs != 1 || cmd->args[0].type != IMAP_ARG_ATOM ||
		    !imap_seqset_parse(cmd->arena, cmd->args[0].str, &set)) {
			imap_reply_bad(cmd, "Expected: UID EXPUNGE <uid set>");
			return IMAP_CMD_DONE;
		}
		if (!imap_mailbox_resolve_set(cmd, &set, &resolved, &n))
			return IMAP_CMD_DONE;
		uids = resolved;
		if (n == 0) {
			imap_reply_ok(cmd, "UID EXPUNGE completed");
			return IMAP_CMD_DONE;
		}
	} else if (!imap_args_end(cmd, 0)) {
		imap_reply_bad(cmd, "Expected: EXPUNGE");
		return IMAP_CMD_DONE;
	}
	if (s->is_readonly) {
		imap_reply_no(cmd, "[READ-ONLY] Mailbox is read-only");
		return IMAP_CMD_DONE;
	}
	if (store_message_expunge(s->mbox, uids, n, cmd->arena, &gone, &ngone, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	/* RFC 7162 3.2.7, 3.2.8: with QRESYNC the OK has the new modseq. */
	if (s->qresync && ngone > 0) {
		struct store_mailbox_info info;
		store_mailbox_info_get(s->mbox, &info);
		imap_reply_ok(cmd, "[HIGHESTMODSEQ %llu] %s completed",
		              (unsigned long long)info.highestmodseq, cmd->name);
		return IMAP_CMD_DONE;
	}
	imap_reply_ok(cmd, "%s completed", cmd->name);
	return IMAP_CMD_DONE;
}
