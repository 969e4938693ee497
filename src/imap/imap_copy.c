/* SPDX-License-Identifier: MIT */
/*
 * imap_copy.c: COPY and MOVE (RFC 9051 6.4.7, 6.4.8; RFC 6851; COPYUID of
 * RFC 4315 section 3). Check, act, reply: arguments and the set are checked
 * before the one store call; a refused command has changed nothing.
 * COPYUID's two sets list the source UIDs and the new UIDs in the same
 * (ascending source) order, each formatted compactly. Between two owners'
 * accounts imap_copy_across.c does the work.
 */
#include "imap/imap_copy.h"

#include "imap/imap_mailbox.h"
#include "imap/imap_namespace.h"
#include "imap/seqset.h"
#include "lib/arena.h"
#include "store/store.h"

enum imap_cmd_status
imap_copy_run(struct imap_cmd *cmd, bool move)
{
	struct imap_session *s = cmd->session;
	struct imap_seqset set;
	const char *dest;
	uint32_t *uids;
	size_t n;
	enum store_error err;

	if (cmd->nargs != 2 || cmd->args[0].type != IMAP_ARG_ATOM ||
	    !imap_seqset_parse(cmd->arena, cmd->args[0].str, &set)) {
		imap_reply_bad(cmd, "Expected: %s <sequence set> <mailbox>", cmd->name);
		return IMAP_CMD_DONE;
	}
	if (!imap_mailbox_arg(cmd, 1, &dest))
		return IMAP_CMD_DONE;
	if (!imap_mailbox_resolve_set(cmd, &set, &uids, &n))
		return IMAP_CMD_DONE;
	if (move && s->is_readonly) {
		imap_reply_no(cmd, "[READ-ONLY] Mailbox is read-only");
		return IMAP_CMD_DONE;
	}
	struct imap_box box;
	if (imap_box_resolve(s, dest, &box, &err) < 0) {
		imap_reply_no(cmd, "[TRYCREATE] Mailbox does not exist");
		return IMAP_CMD_DONE;
	}
	if (n == 0) {
		/* Nothing to copy; still say whether the destination exists. */
		struct store_mailbox_info info;
		if (store_mailbox_status(box.acct, box.name, cmd->arena, &info, &err) < 0) {
			if (err == STORE_ERR_NOTFOUND)
				imap_reply_no(cmd, "[TRYCREATE] Mailbox does not exist");
			else
				imap_reply_store_error(cmd, err);
			return IMAP_CMD_DONE;
		}
		imap_reply_ok(cmd, "%s completed", cmd->name);
		return IMAP_CMD_DONE;
	}

	/* The store copies by reference inside one account; between accounts
	   (a shared mailbox and one's own) the bytes are stored again. */
	if (store_account_id(box.acct) != store_account_id(imap_mailbox_account(s)))
		return imap_copy_across(cmd, uids, n, box.acct, box.name, move);

	uint32_t uidvalidity;
	uint32_t *src = arena_alloc(cmd->arena, n * sizeof(uint32_t));
	uint32_t *dst = arena_alloc(cmd->arena, n * sizeof(uint32_t));
	size_t copied;
	if (store_message_copy(s->mbox, uids, n, box.name, move, &uidvalidity, src, dst, &copied,
	                       &err) < 0) {
		if (err == STORE_ERR_NOTFOUND)
			imap_reply_no(cmd, "[TRYCREATE] Mailbox does not exist");
		else
			imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	if (copied == 0) {
		/* Every message was expunged by another session meanwhile. */
		imap_reply_ok(cmd, "%s completed", cmd->name);
		return IMAP_CMD_DONE;
	}
	const char *code = arena_printf(cmd->arena, "COPYUID %u %s %s", uidvalidity,
	                                imap_seqset_format(cmd->arena, src, copied),
	                                imap_seqset_format(cmd->arena, dst, copied));
	if (move) {
		/* RFC 6851 4.3: before the EXPUNGEs, which the sync in the
		   tagged reply sends. */
		imap_reply_untagged(s, "OK [%s] Moved", code);
		imap_reply_ok(cmd, "%s completed", cmd->name);
	} else {
		imap_reply_ok(cmd, "[%s] %s completed", code, cmd->name);
	}
	return IMAP_CMD_DONE;
}
