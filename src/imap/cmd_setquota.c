/* SPDX-License-Identifier: MIT */
/*
 * cmd_setquota.c: SETQUOTA (RFC 9208 section 4.1.3), advertised as
 * QUOTASET to the sessions that may use it: an administrator acting as the
 * user (a master login by an account with role admin), or every user when
 * imap.user_setquota allows it. The list replaces every limit of the root:
 * a resource not named loses its limit. The answer is the QUOTA as it now
 * stands, read back in the same call.
 *
 * Rounding (allowed by section 3.2): the store says "no limit" with 0, so
 * a limit of 0 ("nothing may be used", 3.1.2) is kept as 1 (one message,
 * one mailbox, 1024 octets), which refuses the next addition all the same
 * once anything is stored; STORAGE is kept in octets, limit * 1024.
 */
#include "imap/commands.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_quota.h"

#include <stdint.h>

#include "lib/log.h"

enum imap_cmd_status
imap_cmd_setquota(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct imap_quota_limits want;
	struct store_quota q = {0};
	enum store_error err;
	const char *root, *error;
	bool rounded = false;

	/* setquota = "SETQUOTA" SP quota-root-name SP setquota-list */
	if (cmd->nargs != 2 || !imap_args_astring(cmd, 0, &root)) {
		imap_reply_bad(cmd, "Expected: SETQUOTA <quota root> (<resource> <limit> ...)");
		return IMAP_CMD_DONE;
	}
	enum imap_quota_parse_result parsed = imap_quota_list_parse(&cmd->args[1], &want, &error);
	if (parsed == IMAP_QUOTA_PARSE_BAD) {
		imap_reply_bad(cmd, "%s", error);
		return IMAP_CMD_DONE;
	}
	if (!imap_quota_may_set(s)) {
		imap_reply_no(cmd, "[NOPERM] Only an administrator may change quotas");
		return IMAP_CMD_DONE;
	}
	if (!imap_quota_root_is_known(root)) {
		imap_reply_no(cmd, "[NONEXISTENT] No such quota root");
		return IMAP_CMD_DONE;
	}
	if (parsed == IMAP_QUOTA_PARSE_UNKNOWN) {
		imap_reply_no(cmd, "%s", error);
		return IMAP_CMD_DONE;
	}
	if (want.which & STORE_QUOTA_STORAGE) {
		uint64_t kib =
		        want.storage_kib < INT64_MAX / 1024 ? want.storage_kib : INT64_MAX / 1024;
		rounded |= kib != want.storage_kib || kib == 0;
		q.storage_limit = (kib ? kib : 1) * 1024;
	}
	if (want.which & STORE_QUOTA_MESSAGES) {
		rounded |= want.messages == 0;
		q.messages_limit = want.messages ? want.messages : 1;
	}
	if (want.which & STORE_QUOTA_MAILBOXES) {
		rounded |= want.mailboxes == 0;
		q.mailboxes_limit = want.mailboxes ? want.mailboxes : 1;
	}
	if (store_quota_limits_set(s->account, STORE_QUOTA_ALL, &q, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	log_info("imap", "event=setquota storage=%llu messages=%llu mailboxes=%llu",
	         (unsigned long long)q.storage_limit, (unsigned long long)q.messages_limit,
	         (unsigned long long)q.mailboxes_limit);
	imap_quota_reply(s, &q);
	imap_reply_ok(cmd, rounded ? "SETQUOTA completed, limits rounded" : "SETQUOTA completed");
	return IMAP_CMD_DONE;
}
