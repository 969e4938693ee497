/* SPDX-License-Identifier: MIT */
/*
 * cmd_getquota.c: GETQUOTA (RFC 9208 section 4.1.1). The only root a
 * session knows is its account's (imap_quota.h); any other name is NO.
 * Usage and limits are one row read.
 */
#include "imap/commands.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_quota.h"

enum imap_cmd_status
imap_cmd_getquota(struct imap_cmd *cmd)
{
	struct store_quota q;
	enum store_error err;
	const char *root;

	/* getquota = "GETQUOTA" SP quota-root-name */
	if (!imap_args_astring(cmd, 0, &root) || !imap_args_end(cmd, 1)) {
		imap_reply_bad(cmd, "Expected: GETQUOTA <quota root>");
		return IMAP_CMD_DONE;
	}
	if (!imap_quota_root_is_known(root)) {
		imap_reply_no(cmd, "[NONEXISTENT] No such quota root");
		return IMAP_CMD_DONE;
	}
	if (store_quota_get(cmd->session->account, &q, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	imap_quota_reply(cmd->session, &q);
	imap_reply_ok(cmd, "GETQUOTA completed");
	return IMAP_CMD_DONE;
}
