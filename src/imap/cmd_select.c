/* SPDX-License-Identifier: MIT */
/*
 * cmd_select.c: SELECT and EXAMINE (RFC 9051 sections 6.3.2, 6.3.3; RFC 3501
 * 6.3.1 for rev1). Opening the mailbox reuses the account's shared view, so
 * a reselect of a big mailbox costs no index scan. A previously selected
 * mailbox is closed first and, as RFC 9051 and RFC 7162 3.2.11 say,
 * "* OK [CLOSED]" marks where its updates end.
 *
 * Rev1 clients also get RECENT (this session claims the messages nobody was
 * shown yet) and [UNSEEN n]; rev2 clients get a LIST reply for the name.
 */
#include <string.h>
#include <strings.h>

#include "imap/commands.h"
#include "imap/imap_mailbox.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "net/net.h"

static uint32_t
first_unseen(struct store_mailbox *mbox)
{
	uint32_t count;
	const uint32_t *uids = store_mailbox_uids(mbox, &count);
	enum store_error err;

	for (uint32_t i = 0; i < count; i++) {
		uint32_t flags;
		uint64_t kw, modseq;
		if (store_mailbox_flags_get(mbox, uids[i], &flags, &kw, &modseq, &err) == 0 &&
		    !(flags & STORE_FLAG_SEEN))
			return i + 1;
	}
	return 0;
}

enum imap_cmd_status
imap_cmd_select(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	bool readonly = strcasecmp(cmd->def->name, "EXAMINE") == 0;
	const char *name;
	struct store_mailbox *mbox;
	struct store_mailbox_info info;
	enum store_error err;

	/* select = "SELECT" SP mailbox [select-params] */
	if (cmd->nargs < 1 || cmd->nargs > 2) {
		imap_reply_bad(cmd, "Expected: %s <mailbox>", cmd->def->name);
		return IMAP_CMD_DONE;
	}
	if (!imap_mailbox_arg(cmd, 0, &name))
		return IMAP_CMD_DONE;
	if (cmd->nargs == 2 && (cmd->args[1].type != IMAP_ARG_LIST || cmd->args[1].count > 0)) {
		imap_reply_bad(cmd, "Unsupported SELECT parameters");
		return IMAP_CMD_DONE;
	}
	if (s->mbox != NULL) {
		imap_mailbox_deselect(s);
		imap_reply_untagged(s, "OK [CLOSED] Previous mailbox closed");
	}
	if (store_mailbox_open(s->account, name, readonly ? STORE_OPEN_READONLY : 0, &mbox, &err) <
	    0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	store_mailbox_info_get(mbox, &info);
	/* EXAMINE reports the messages nobody was shown yet without claiming
	   them, so a later SELECT (this session's or another's) still gets
	   them as \Recent (RFC 3501 6.3.2). */
	uint32_t recent = info.recent;
	if (!readonly && !s->is_rev2)
		(void)store_mailbox_claim_recent(mbox, &recent, &err);

	imap_reply_untagged(s, "%u EXISTS", store_mailbox_count(mbox));
	if (!s->is_rev2)
		imap_reply_untagged(s, "%u RECENT", recent);
	/* The keywords known now are announced; later ones are announced
	   before their first FETCH FLAGS (imap_mailbox_announce_keywords). */
	struct buf b;
	buf_init(&b);
	s->is_readonly = readonly;
	imap_mailbox_flags_lines(s, &b, false);
	net_conn_write(s->base.conn, b.data, b.len);
	buf_deinit(&b);
	if (!s->is_rev2) {
		uint32_t unseen = first_unseen(mbox);
		if (unseen > 0)
			imap_reply_untagged(s, "OK [UNSEEN %u] First unseen", unseen);
	}
	imap_reply_untagged(s, "OK [UIDVALIDITY %u] UIDs valid", info.uidvalidity);
	imap_reply_untagged(s, "OK [UIDNEXT %u] Predicted next UID", info.uidnext);
	imap_reply_untagged(s, "OK [HIGHESTMODSEQ %llu] Highest",
	                    (unsigned long long)info.highestmodseq);
	imap_reply_untagged(s, "OK [MAILBOXID (%s)] Ok", info.objectid);
	if (s->is_rev2)
		imap_reply_untagged(s, "LIST () \"/\" %s", imap_mailbox_wire(s, name));
	imap_mailbox_selected(s, mbox, name, readonly);
	imap_reply_ok(cmd, "[%s] %s completed", readonly ? "READ-ONLY" : "READ-WRITE",
	              cmd->def->name);
	return IMAP_CMD_DONE;
}
