/* SPDX-License-Identifier: MIT */
/*
 * cmd_getacl.c: GETACL (RFC 4314 section 3.3). Needs 'a' on the mailbox
 * (section 4); the owner's implicit full rights are listed first, as the
 * RFC's examples show the owner, then the stored entries.
 */
#include "imap/commands.h"
#include "imap/imap_acl.h"
#include "imap/imap_mailbox.h"
#include "lib/arena.h"
#include "lib/buf.h"

enum imap_cmd_status
imap_cmd_getacl(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct store_acl_entry *v;
	struct imap_box box;
	enum store_error err;
	const char *name;
	size_t n;
	char rights[16];

	/* getacl = "GETACL" SP mailbox */
	if (cmd->nargs != 1) {
		imap_reply_bad(cmd, "Expected: GETACL <mailbox>");
		return IMAP_CMD_DONE;
	}
	if (!imap_acl_mailbox_arg(cmd, 0, &box, &name))
		return IMAP_CMD_DONE;
	if (store_acl_get(box.acct, box.name, cmd->arena, &v, &n, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "ACL %s", imap_mailbox_wire(s, name));
	const char *owner = imap_acl_owner(s, &box);
	if (owner != NULL)
		buf_printf(&b, " %s %s", imap_quote(cmd->arena, owner),
		           store_rights_format(STORE_RIGHTS_ALL, rights));
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, " %s %s", imap_quote(cmd->arena, v[i].identifier),
		           store_rights_format(v[i].rights, rights));
	imap_reply_untagged(s, "%s", b.data);
	buf_deinit(&b);
	imap_reply_ok(cmd, "GETACL completed");
	return IMAP_CMD_DONE;
}
