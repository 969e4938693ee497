/* SPDX-License-Identifier: MIT */
/*
 * cmd_create.c: CREATE (RFC 9051 section 6.3.4) with CREATE-SPECIAL-USE
 * (RFC 6154 section 3): "CREATE name (USE (\\Sent))". A trailing delimiter
 * means the client intends children; the name is created without it.
 * Missing parents are created too.
 */
#include <string.h>
#include <strings.h>

#include "imap/commands.h"
#include "imap/imap_notify.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_special_use.h"
#include "imap/imap_namespace.h"
#include "lib/arena.h"

/* Parses "(USE (\\Sent ...))"; false with a BAD/NO already sent. */
static bool
parse_create_params(struct imap_cmd *cmd, const struct imap_arg *arg, unsigned *use_out)
{
	if (arg->type != IMAP_ARG_LIST || arg->count % 2 != 0) {
		imap_reply_bad(cmd, "Expected: CREATE <mailbox> [(USE (<special-use> ...))]");
		return false;
	}
	for (size_t i = 0; i < arg->count; i += 2) {
		const struct imap_arg *k = &arg->list[i], *v = &arg->list[i + 1];
		if (k->type != IMAP_ARG_ATOM || strcasecmp(k->str, "USE") != 0 ||
		    v->type != IMAP_ARG_LIST) {
			imap_reply_bad(cmd, "Unknown CREATE parameter");
			return false;
		}
		for (size_t j = 0; j < v->count; j++) {
			unsigned bit =
			        v->list[j].type == IMAP_ARG_ATOM
			                ? imap_special_use_bit(v->list[j].str, v->list[j].len)
			                : 0;
			if (bit == 0) {
				imap_reply_no(cmd, "[USEATTR] Unsupported special-use attribute");
				return false;
			}
			*use_out |= bit;
		}
	}
	return true;
}

enum imap_cmd_status
imap_cmd_create(struct imap_cmd *cmd)
{
	const char *name;
	unsigned use = 0;
	enum store_error err;

	/* create = "CREATE" SP mailbox [create-params] */
	if (cmd->nargs < 1 || cmd->nargs > 2) {
		imap_reply_bad(cmd, "Expected: CREATE <mailbox>");
		return IMAP_CMD_DONE;
	}
	if (!imap_mailbox_arg(cmd, 0, &name))
		return IMAP_CMD_DONE;
	if (cmd->nargs == 2 && !parse_create_params(cmd, &cmd->args[1], &use))
		return IMAP_CMD_DONE;
	size_t len = strlen(name);
	if (len > 1 && name[len - 1] == '/')
		name = arena_strndup(cmd->arena, name, len - 1);
	if (strcmp(name, "INBOX") == 0) {
		imap_reply_no(cmd, "[ALREADYEXISTS] INBOX always exists");
		return IMAP_CMD_DONE;
	}
	struct imap_box box;
	if (imap_box_resolve(cmd->session, name, &box, &err) < 0 ||
	    store_mailbox_create(box.acct, box.name, use, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	imap_notify_own_list_change(cmd->session); /* not news to this client (RFC 5465 5) */
	imap_reply_ok(cmd, "CREATE completed");
	return IMAP_CMD_DONE;
}
