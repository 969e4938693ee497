/* SPDX-License-Identifier: MIT */
/*
 * cmd_setacl.c: SETACL (RFC 4314 section 3.1): replaces, adds ("+") or
 * removes ("-") identifier's rights on a mailbox; needs 'a'. An unknown or
 * upper-case right is BAD (section 3.1: never silently ignored). The
 * owner's rights are implicit and cannot be changed.
 */
#include <string.h>
#include <strings.h>

#include "imap/commands.h"
#include "imap/imap_acl.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_notify.h"

enum imap_cmd_status
imap_cmd_setacl(struct imap_cmd *cmd)
{
	struct imap_box box;
	enum store_rights_mod mod;
	enum store_error err;
	const char *name, *id, *mod_rights, *owner;
	unsigned rights;
	char bad;

	/* setacl = "SETACL" SP mailbox SP identifier SP mod-rights */
	if (cmd->nargs != 3 || !imap_args_astring(cmd, 2, &mod_rights)) {
		imap_reply_bad(cmd, "Expected: SETACL <mailbox> <identifier> <rights>");
		return IMAP_CMD_DONE;
	}
	if (!imap_acl_identifier_arg(cmd, 1, &id))
		return IMAP_CMD_DONE;
	if (store_rights_parse(mod_rights, true, &rights, &mod, &bad) < 0) {
		if (bad >= 'A' && bad <= 'Z')
			imap_reply_bad(cmd, "Uppercase rights are not allowed");
		else
			imap_reply_bad(cmd, "The %c right is not supported",
			               bad > ' ' && bad < 0x7f ? bad : '?');
		return IMAP_CMD_DONE;
	}
	if (!imap_acl_mailbox_arg(cmd, 0, &box, &name))
		return IMAP_CMD_DONE;
	owner = imap_acl_owner(cmd->session, &box);
	if (owner != NULL && strcasecmp(id + (*id == '-'), owner) == 0) {
		imap_reply_no(cmd, "[CANNOT] The owner always has every right");
		return IMAP_CMD_DONE;
	}
	if (store_acl_set(box.acct, box.name, id, mod, rights, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	imap_reply_ok(cmd, "SETACL completed");
	return IMAP_CMD_DONE;
}
