/* SPDX-License-Identifier: MIT */
/*
 * imap_acl.c: arguments of the ACL commands (imap_acl.h). Identifiers are
 * client input: checked by store_acl_identifier_is_valid() (UTF-8, no
 * controls or spaces, at most 255 bytes) before anything is looked up.
 */
#include "imap/imap_acl.h"

#include <ctype.h>
#include <string.h>

#include "imap/imap_mailbox.h"
#include "lib/arena.h"

bool
imap_acl_mailbox_arg(struct imap_cmd *cmd, size_t i, struct imap_box *box_out,
                     const char **name_out)
{
	enum store_error err;

	if (!imap_mailbox_arg(cmd, i, name_out))
		return false;
	if (imap_box_resolve(cmd->session, *name_out, box_out, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return false;
	}
	return true;
}

bool
imap_acl_identifier_arg(struct imap_cmd *cmd, size_t i, const char **id_out)
{
	const char *raw;

	if (!imap_args_astring(cmd, i, &raw)) {
		imap_reply_bad(cmd, "Expected an identifier");
		return false;
	}
	if (!store_acl_identifier_is_valid(raw)) {
		imap_reply_bad(cmd, "Invalid identifier");
		return false;
	}
	const char *base = raw + (*raw == '-');
	if (*base == '$' || strcmp(base, "anyone") == 0 || strcmp(base, "authenticated") == 0) {
		*id_out = raw;
		return true;
	}
	char *lower = arena_strdup(cmd->arena, raw);
	for (char *p = lower; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	*id_out = lower;
	return true;
}

const char *
imap_acl_owner(struct imap_session *s, const struct imap_box *box)
{
	static const char other[] = IMAP_NS_OTHER "/";

	if (*box->prefix == '\0')
		return s->user.address;
	if (strncmp(box->prefix, other, sizeof(other) - 1) != 0)
		return NULL;
	const char *addr = box->prefix + sizeof(other) - 1;
	return arena_strndup(s->cmd_arena, addr, strlen(addr) - 1);
}
