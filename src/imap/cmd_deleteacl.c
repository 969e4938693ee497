/* SPDX-License-Identifier: MIT */
/*
 * cmd_deleteacl.c: DELETEACL (RFC 4314 section 3.2): removes identifier's
 * entry ("fred" and "-fred" are different entries); needs 'a'.
 */
#include "imap/commands.h"
#include "imap/imap_acl.h"
#include "imap/imap_mailbox.h"

enum imap_cmd_status
imap_cmd_deleteacl(struct imap_cmd *cmd)
{
	struct imap_box box;
	enum store_error err;
	const char *name, *id;

	/* deleteacl = "DELETEACL" SP mailbox SP identifier */
	if (cmd->nargs != 2) {
		imap_reply_bad(cmd, "Expected: DELETEACL <mailbox> <identifier>");
		return IMAP_CMD_DONE;
	}
	if (!imap_acl_identifier_arg(cmd, 1, &id) || !imap_acl_mailbox_arg(cmd, 0, &box, &name))
		return IMAP_CMD_DONE;
	if (store_acl_set(box.acct, box.name, id, STORE_RIGHTS_REPLACE, 0, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	imap_reply_ok(cmd, "DELETEACL completed");
	return IMAP_CMD_DONE;
}
