/* SPDX-License-Identifier: MIT */
/*
 * cmd_listrights.c: LISTRIGHTS (RFC 4314 section 3.4); needs 'a'. No right
 * is tied to another here, so each may be granted alone, the virtual 'c'
 * and 'd' too (section 2.1.1); the owner is always granted all of them.
 * The identifier is echoed as the client sent it (section 3.4).
 */
#include <string.h>
#include <strings.h>

#include "imap/commands.h"
#include "imap/imap_acl.h"
#include "imap/imap_mailbox.h"
#include "lib/arena.h"

enum imap_cmd_status
imap_cmd_listrights(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct imap_box box;
	enum store_error err;
	const char *name, *id, *raw, *owner;
	unsigned rights;

	/* listrights = "LISTRIGHTS" SP mailbox SP identifier */
	if (cmd->nargs != 2 || !imap_args_astring(cmd, 1, &raw)) {
		imap_reply_bad(cmd, "Expected: LISTRIGHTS <mailbox> <identifier>");
		return IMAP_CMD_DONE;
	}
	if (!imap_acl_identifier_arg(cmd, 1, &id) || !imap_acl_mailbox_arg(cmd, 0, &box, &name))
		return IMAP_CMD_DONE;
	if (store_mailbox_rights(box.acct, box.name, &rights, &err) < 0 ||
	    (!(rights & STORE_RIGHT_ADMIN) &&
	     (err = rights & (STORE_RIGHT_LOOKUP | STORE_RIGHT_READ) ? STORE_ERR_NORIGHTS
	                                                             : STORE_ERR_NOTFOUND))) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	owner = imap_acl_owner(s, &box);
	if (owner != NULL && strcasecmp(id, owner) == 0)
		imap_reply_untagged(s, "LISTRIGHTS %s %s " STORE_RIGHTS_LETTERS "cd",
		                    imap_mailbox_wire(s, name), imap_quote(cmd->arena, raw));
	else
		imap_reply_untagged(s, "LISTRIGHTS %s %s \"\" l r s w i p k x t e a n c d",
		                    imap_mailbox_wire(s, name), imap_quote(cmd->arena, raw));
	imap_reply_ok(cmd, "LISTRIGHTS completed");
	return IMAP_CMD_DONE;
}
