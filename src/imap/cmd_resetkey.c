/* SPDX-License-Identifier: MIT */
/*
 * cmd_resetkey.c: RESETKEY (RFC 4467 section 6.2): new access keys for one
 * mailbox or, without arguments, for every mailbox of the user; each URL
 * authorized with an old key stops working at once.
 *
 * resetkey = "RESETKEY" [SP mailbox *(SP uauth-mechanism)]
 */
#include <string.h>
#include <strings.h>

#include "imap/commands.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_urlauth.h"

enum imap_cmd_status
imap_cmd_resetkey(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	unsigned char key[32];
	const char *name;
	enum store_error err;

	if (cmd->nargs == 0) {
		if (store_access_keys_reset(s->account, &err) < 0) {
			imap_reply_store_error(cmd, err);
			return IMAP_CMD_DONE;
		}
		imap_reply_ok(cmd, "RESETKEY completed");
		return IMAP_CMD_DONE;
	}
	if (!imap_mailbox_arg(cmd, 0, &name))
		return IMAP_CMD_DONE;
	for (size_t i = 1; i < cmd->nargs; i++) {
		if (cmd->args[i].type != IMAP_ARG_ATOM ||
		    strcasecmp(cmd->args[i].str, IMAP_URLAUTH_MECH) != 0) {
			imap_reply_bad(cmd, "Unknown URLAUTH mechanism; use INTERNAL");
			return IMAP_CMD_DONE;
		}
	}
	if (store_mailbox_access_key(s->account, name, true, key, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	explicit_bzero(key, sizeof(key));
	imap_reply_ok(cmd, "RESETKEY completed");
	return IMAP_CMD_DONE;
}
