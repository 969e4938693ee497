/* SPDX-License-Identifier: MIT */
/*
 * cmd_append.c: APPEND (RFC 9051 section 6.3.12) with MULTIAPPEND (RFC 3502),
 * literal8 (RFC 3516) and APPENDUID (RFC 4315). Every message of the
 * command is stored, or none: the store commits them in one transaction,
 * after each blob is on disk, and only then is OK sent.
 *
 * append = "APPEND" SP mailbox 1*append-message
 * append-message = [SP flag-list] [SP date-time] SP literal
 */
#include <string.h>

#include "imap/commands.h"
#include "imap/imap_flags.h"
#include "imap/imap_mailbox.h"
#include "imap/seqset.h"
#include "lib/arena.h"

enum imap_cmd_status
imap_cmd_append(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	const char *name, *error;
	enum store_error err;

	if (cmd->nargs < 2) {
		imap_reply_bad(cmd,
		               "Expected: APPEND <mailbox> [(<flags>)] [<date-time>] <literal>");
		return IMAP_CMD_DONE;
	}
	if (!imap_mailbox_arg(cmd, 0, &name))
		return IMAP_CMD_DONE;
	struct store_append *msgs = arena_zalloc(cmd->arena, cmd->nargs * sizeof(*msgs));
	size_t n = 0;
	for (size_t i = 1; i < cmd->nargs;) {
		struct store_append *m = &msgs[n++];
		if (cmd->args[i].type == IMAP_ARG_LIST) {
			struct imap_flag_list fl;
			if (!imap_flag_list_parse(cmd->arena, &cmd->args[i], &fl, &error)) {
				imap_reply_bad(cmd, "%s", error);
				return IMAP_CMD_DONE;
			}
			m->flags = fl.flags;
			m->keywords = fl.keywords;
			m->n_keywords = fl.n_keywords;
			i++;
		}
		if (i < cmd->nargs && cmd->args[i].type == IMAP_ARG_QUOTED) {
			int64_t t;
			if (!imap_date_time_parse(cmd->args[i].str, &t)) {
				imap_reply_bad(cmd, "Invalid date-time");
				return IMAP_CMD_DONE;
			}
			m->internal_date = t;
			i++;
		}
		if (i >= cmd->nargs || cmd->args[i].type != IMAP_ARG_LITERAL) {
			imap_reply_bad(cmd, "Expected the message as a literal");
			return IMAP_CMD_DONE;
		}
		/* RFC 3516 4.4: a literal8 may hold NUL; a plain literal may not. */
		if (!cmd->args[i].is_literal8 && memchr(cmd->args[i].str, '\0', cmd->args[i].len)) {
			imap_reply_no(cmd, "Message contains NUL; use a literal8 (~{n})");
			return IMAP_CMD_DONE;
		}
		if (cmd->args[i].len == 0) {
			imap_reply_no(cmd, "Empty message");
			return IMAP_CMD_DONE;
		}
		m->data = (const unsigned char *)cmd->args[i].str;
		m->len = cmd->args[i].len;
		i++;
	}
	uint32_t uidvalidity, *uids = arena_alloc(cmd->arena, n * sizeof(uint32_t));
	if (store_message_append(s->account, name, msgs, n, &uidvalidity, uids, &err) < 0) {
		if (err == STORE_ERR_NOTFOUND)
			imap_reply_no(cmd, "[TRYCREATE] Mailbox does not exist");
		else
			imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	imap_reply_ok(cmd, "[APPENDUID %u %s] APPEND completed", uidvalidity,
	              imap_seqset_format(cmd->arena, uids, n));
	return IMAP_CMD_DONE;
}
