/* SPDX-License-Identifier: MIT */
/*
 * cmd_thread.c: THREAD and UID THREAD (RFC 5256 BASE.6.4.THREAD).
 *
 * thread = ["UID" SP] "THREAD" SP thread-alg SP search-charset 1*(SP search-key)
 *
 * The search program picks the messages; their thread keys come from the
 * store's cache in one lookup, so nothing is parsed here; thread.c builds
 * the threads.
 */
#include <string.h>
#include <strings.h>

#include "imap/commands.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_search_cmd.h"
#include "imap/search.h"
#include "imap/search_parse.h"
#include "imap/thread.h"
#include "lib/arena.h"
#include "lib/buf.h"

enum imap_cmd_status
imap_cmd_thread(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct imap_search_program prog = {0};
	enum imap_thread_algorithm alg;
	enum store_error err;
	uint32_t *uids;
	size_t n;

	if (cmd->nargs < 3 || cmd->args[0].type != IMAP_ARG_ATOM ||
	    (cmd->args[1].type != IMAP_ARG_ATOM && cmd->args[1].type != IMAP_ARG_QUOTED)) {
		imap_reply_bad(cmd, "Expected: THREAD <algorithm> <charset> <search keys>");
		return IMAP_CMD_DONE;
	}
	if (strcasecmp(cmd->args[0].str, "REFERENCES") == 0) {
		alg = IMAP_THREAD_REFERENCES;
	} else if (strcasecmp(cmd->args[0].str, "ORDEREDSUBJECT") == 0) {
		alg = IMAP_THREAD_ORDEREDSUBJECT;
	} else {
		imap_reply_bad(cmd, "Unknown threading algorithm");
		return IMAP_CMD_DONE;
	}
	if (!imap_search_keys_arg(cmd, 1, &prog))
		return IMAP_CMD_DONE;
	struct imap_search_input in;
	imap_search_input_init(&in, s);
	if (imap_search_eval(&in, prog.root, cmd->arena, &uids, &n, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	struct store_message_info *info = arena_alloc(cmd->arena, (n + 1) * sizeof(*info));
	if (n > 0 &&
	    store_message_lookup(s->mbox, uids, n, STORE_FETCH_SORT, cmd->arena, info, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	uint32_t *seqs = imap_search_uids_to_seqs(s->mbox, uids, n, cmd->arena);
	struct imap_thread_msg *msgs = arena_alloc(cmd->arena, (n + 1) * sizeof(*msgs));
	size_t nm = 0;
	for (size_t i = 0; i < n; i++) {
		/* expunged since the search (uid 0): left out */
		if (info[i].uid == 0)
			continue;
		msgs[nm++] = (struct imap_thread_msg){
		        .num = cmd->is_uid ? uids[i] : seqs[i],
		        .seq = seqs[i],
		        .date = info[i].sent_date != 0 ? info[i].sent_date : info[i].internal_date,
		        .subject = info[i].subject,
		        .base_subject = info[i].base_subject,
		        .message_id = info[i].message_id,
		        .in_reply_to = info[i].in_reply_to,
		        .references = info[i].references,
		};
	}

	struct buf b;
	buf_init(&b);
	buf_puts(&b, "THREAD");
	if (nm > 0)
		buf_putc(&b, ' ');
	imap_thread_format(cmd->arena, alg, s->comparator, msgs, nm, &b);
	imap_reply_untagged(s, "%s", b.data);
	buf_deinit(&b);
	imap_reply_ok(cmd, "%s completed", cmd->name);
	return IMAP_CMD_DONE;
}
