/* SPDX-License-Identifier: MIT */
/*
 * cmd_id.c: ID (RFC 2971). The client's fields are logged (they identify
 * clients in support cases); ours are the name and version only, as section
 * 3.3 advises against revealing more.
 */
#include <string.h>

#include "imap/commands.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/version.h"

enum imap_cmd_status
imap_cmd_id(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;

	/* id = "ID" SP id-params-list ; id-params-list = "(" *(string SP nstring) ")" / nil */
	if (!imap_args_end(cmd, 1) ||
	    (!imap_arg_is_nil(&cmd->args[0]) && cmd->args[0].type != IMAP_ARG_LIST)) {
		imap_reply_bad(cmd, "Expected: ID (field value ...) or ID NIL");
		return IMAP_CMD_DONE;
	}
	const struct imap_arg *list = &cmd->args[0];
	if (list->type == IMAP_ARG_LIST) {
		/* Section 3.3: at most 30 pairs, field names at most 30 bytes,
		   values at most 1024. */
		if (list->count % 2 != 0 || list->count > 60) {
			imap_reply_bad(cmd, "ID takes at most 30 field-value pairs");
			return IMAP_CMD_DONE;
		}
		struct buf b;
		buf_init(&b);
		for (size_t i = 0; i < list->count; i += 2) {
			const struct imap_arg *k = &list->list[i], *v = &list->list[i + 1];
			if (k->type == IMAP_ARG_LIST || v->type == IMAP_ARG_LIST || k->len > 30 ||
			    v->len > 1024) {
				buf_deinit(&b);
				imap_reply_bad(cmd, "Invalid ID field");
				return IMAP_CMD_DONE;
			}
			buf_printf(&b, " id.%s=%s", log_str(cmd->arena, k->str, k->len),
			           imap_arg_is_nil(v) ? "-" : log_str(cmd->arena, v->str, v->len));
		}
		log_info("imap", "event=client-id%s", b.data ? b.data : "");
		buf_deinit(&b);
	}
	imap_reply_untagged(s, "ID (\"name\" \"tern\" \"version\" \"%s\")", TERN_VERSION);
	imap_reply_ok(cmd, "ID completed");
	return IMAP_CMD_DONE;
}
