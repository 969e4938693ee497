/* SPDX-License-Identifier: MIT */
/*
 * cmd_setmetadata.c: SETMETADATA (RFC 5464 section 4.3). Every entry is
 * checked before anything is written, and the stored ones are written in
 * one transaction, so a NO changes nothing. Refusals:
 *   value over imap.metadata_max_size        NO [METADATA MAXSIZE n]
 *   more than imap.metadata_max_entries      NO [METADATA TOOMANY]
 *   /private with imap.metadata_private off  NO [METADATA NOPRIVATE]
 *   the server's /shared entries             NO [NOPERM] (section 3.3: the
 *     server may restrict them) unless an administrator acting as the user
 *     (master login by a role=admin account) sets them, for that account:
 *     shared filters (RFC 5466) are provisioned so; /shared/admin always
 *     comes from tern.conf)
 *   a mailbox that does not exist            NO [NONEXISTENT]
 * IMAP_METADATA_REFERRAL (a mailbox moved elsewhere: SELECT answers NO
 * [REFERRAL url]) may be set by an administrator only, to a valid URL.
 * /private/specialuse on a mailbox sets its special-use attributes (RFC
 * 6154 section 4), checked as CREATE (USE ...) checks them: NO [USEATTR]
 * for an attribute we do not have.
 */
#include <string.h>

#include "auth/accounts.h"
#include "imap/commands.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_metadata.h"
#include "imap/imap_special_use.h"
#include "lib/arena.h"

enum imap_cmd_status
imap_cmd_setmetadata(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct imap_metadata_value *v;
	size_t n;
	enum store_error err;
	const char *mailbox, *error;
	bool set_special = false;
	unsigned special = 0;

	/* setmetadata = "SETMETADATA" SP mailbox SP entry-values */
	if (cmd->nargs != 2 || cmd->args[0].type == IMAP_ARG_LIST) {
		imap_reply_bad(cmd, "Expected: SETMETADATA <mailbox> (<entry> <value> ...)");
		return IMAP_CMD_DONE;
	}
	if (!imap_setmetadata_parse(cmd->arena, &cmd->args[1], &v, &n, &error)) {
		imap_reply_bad(cmd, "%s", error);
		return IMAP_CMD_DONE;
	}
	if (!imap_mailbox_arg(cmd, 0, &mailbox))
		return IMAP_CMD_DONE;
	bool is_server = mailbox[0] == '\0';
	struct store_metadata_entry *entries = arena_alloc(cmd->arena, n * sizeof(*entries));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		bool is_private = strncmp(v[i].name, "/private/", 9) == 0;
		if (v[i].value != NULL && v[i].len > s->settings.metadata_max_size) {
			imap_reply_no(cmd, "[METADATA MAXSIZE %llu] Value too large",
			              (unsigned long long)s->settings.metadata_max_size);
			return IMAP_CMD_DONE;
		}
		if (is_server && !is_private &&
		    (!s->user.master_is_admin || strcmp(v[i].name, "/shared/admin") == 0)) {
			imap_reply_no(cmd, "[NOPERM] The server's shared entries are set by its "
			                   "administrator");
			return IMAP_CMD_DONE;
		}
		if (strcmp(v[i].name, IMAP_METADATA_REFERRAL) == 0 &&
		    (!s->user.master_is_admin ||
		     (v[i].value != NULL &&
		      (strlen(v[i].value) != v[i].len || !auth_referral_is_valid(v[i].value))))) {
			imap_reply_no(cmd,
			              s->user.master_is_admin
			                      ? "[CANNOT] A referral is an imap:// URL"
			                      : "[NOPERM] Only an administrator moves mailboxes");
			return IMAP_CMD_DONE;
		}
		if (!is_server && strcmp(v[i].name, "/private/specialuse") == 0) {
			if (v[i].value != NULL &&
			    (memchr(v[i].value, '\0', v[i].len) != NULL ||
			     !imap_special_use_parse_list(v[i].value, v[i].len, &special))) {
				imap_reply_no(cmd, "[USEATTR] Unsupported special-use attribute");
				return IMAP_CMD_DONE;
			}
			if (v[i].value == NULL)
				special = 0;
			set_special = true;
			continue;
		}
		if (is_private && !s->settings.metadata_private) {
			imap_reply_no(cmd,
			              "[METADATA NOPRIVATE] Private entries are not kept here");
			return IMAP_CMD_DONE;
		}
		entries[k].name = v[i].name;
		entries[k].value = (const unsigned char *)v[i].value;
		entries[k].len = v[i].len;
		k++;
	}
	if (store_metadata_set(s->account, mailbox, entries, k,
	                       (size_t)s->settings.metadata_max_entries, &err) < 0) {
		if (err == STORE_ERR_LIMIT)
			imap_reply_no(cmd, "[METADATA TOOMANY] Too many entries");
		else
			imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	if (set_special && store_mailbox_special_use_set(s->account, mailbox, special, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	imap_reply_ok(cmd, "SETMETADATA completed");
	return IMAP_CMD_DONE;
}
