/* SPDX-License-Identifier: MIT */
/*
 * cmd_genurlauth.c: GENURLAUTH (RFC 4467 section 6.1): authorizes URLs to
 * this user's messages (imap_urlauth.h).
 *
 * genurlauth = "GENURLAUTH" 1*(SP url-rump SP uauth-mechanism)
 * genurlauth-data = "*" SP "GENURLAUTH" 1*(SP url-full)
 *
 * A rump is an absolute URL of the current user's, ending in ";URLAUTH=
 * <access>"; the message it names need not exist yet (its mailbox must).
 * Its mailbox may be one shared with the user ("Other Users/...",
 * "Shared/..."), keyed in the owner's store and only with 'r' there.
 * All are checked before any answer.
 */
#include <string.h>
#include <strings.h>

#include "imap/commands.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_namespace.h"
#include "imap/imap_url.h"
#include "imap/imap_urlauth.h"
#include "lib/arena.h"
#include "lib/buf.h"

enum imap_cmd_status
imap_cmd_genurlauth(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct buf out;
	const char *rump, *mech, *error;
	enum store_error err;

	if (cmd->nargs == 0 || cmd->nargs % 2 != 0) {
		imap_reply_bad(cmd, "Expected: GENURLAUTH <url> INTERNAL ...");
		return IMAP_CMD_DONE;
	}
	buf_init(&out);
	buf_puts(&out, "GENURLAUTH");
	for (size_t i = 0; i < cmd->nargs; i += 2) {
		struct imap_url u;
		unsigned char key[32];
		char token[65];
		if (!imap_args_astring(cmd, i, &rump) || !imap_args_astring(cmd, i + 1, &mech)) {
			imap_reply_bad(cmd, "Expected: GENURLAUTH <url> INTERNAL ...");
			goto out;
		}
		if (!imap_url_parse(cmd->arena, rump, &u, &error) || u.access == NULL ||
		    u.mechanism != NULL || !u.is_absolute) {
			imap_reply_bad(cmd, "Expected an IMAP URL ending in ;URLAUTH=<access>");
			goto out;
		}
		if (strcasecmp(mech, IMAP_URLAUTH_MECH) != 0) {
			imap_reply_no(cmd, "Unknown URLAUTH mechanism; use INTERNAL");
			goto out;
		}
		/* RFC 4467 6.1: only the user's own messages. */
		const char *owner = imap_urlauth_owner(cmd->arena, &u);
		if (strcasecmp(owner, s->user.address) != 0) {
			imap_reply_no(cmd, "[BADURL %s] Not a URL of this user",
			              imap_quote(cmd->arena, rump));
			goto out;
		}
		/* A mailbox shared with the user ("Other Users/", "Shared/")
		   is keyed in its owner's store, and only with 'r' there. */
		struct imap_box box;
		unsigned rights = STORE_RIGHT_READ;
		if (imap_box_resolve(s, u.mailbox, &box, &err) < 0 ||
		    (box.acct != s->account &&
		     store_mailbox_rights(box.acct, box.name, &rights, &err) < 0) ||
		    !(rights & STORE_RIGHT_READ)) {
			imap_reply_no(cmd, "[BADURL %s] No such mailbox",
			              imap_quote(cmd->arena, rump));
			goto out;
		}
		if (store_mailbox_access_key(box.acct, box.name, false, key, &err) < 0) {
			if (err == STORE_ERR_NOTFOUND)
				imap_reply_no(cmd, "[BADURL %s] No such mailbox",
				              imap_quote(cmd->arena, rump));
			else
				imap_reply_store_error(cmd, err);
			goto out;
		}
		imap_urlauth_token(key, rump, strlen(rump), token);
		explicit_bzero(key, sizeof(key));
		buf_printf(&out, " %s",
		           imap_quote(cmd->arena,
		                      arena_printf(cmd->arena, "%s:" IMAP_URLAUTH_MECH ":%s", rump,
		                                   token)));
	}
	imap_reply_untagged(s, "%s", out.data);
	imap_reply_ok(cmd, "GENURLAUTH completed");
out:
	buf_deinit(&out);
	return IMAP_CMD_DONE;
}
