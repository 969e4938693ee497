/* SPDX-License-Identifier: MIT */
/*
 * cmd_getmetadata.c: GETMETADATA (RFC 5464 section 4.2) with MAXSIZE
 * (4.2.1) and DEPTH (4.2.2). Mailbox "" means the server (METADATA-SERVER).
 * Stored entries come from the account's index.db (store_metadata_get);
 * two are computed: the server's /shared/admin from imap.metadata_admin,
 * and a mailbox's /private/specialuse from its special-use attributes (RFC
 * 6154 section 4). An entry asked for by name that has no value answers
 * NIL; entries below it (DEPTH) only when they exist. One METADATA
 * response holds everything, in the order asked, each subtree sorted.
 */
#include <string.h>

#include "imap/commands.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_metadata.h"
#include "imap/imap_special_use.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/imap_string.h"

struct answer {
	struct buf out;
	bool is_utf8;
	uint64_t longest; /* biggest value left out by MAXSIZE (LONGENTRIES) */
	const struct imap_getmetadata *req;
};

static void
put(struct answer *ans, const char *name, const char *value, size_t len)
{
	if (value != NULL && ans->req->has_maxsize && len > ans->req->maxsize) {
		if (len > ans->longest)
			ans->longest = len;
		return;
	}
	if (ans->out.len > 0)
		buf_putc(&ans->out, ' ');
	imap_metadata_entry_append(&ans->out, name);
	buf_putc(&ans->out, ' ');
	if (value == NULL)
		buf_puts(&ans->out, "NIL");
	else
		mail_imap_string_append(&ans->out, value, len,
		                        MAIL_IMAP_STRING_LITERAL8 |
		                                (ans->is_utf8 ? MAIL_IMAP_STRING_UTF8 : 0));
}

/* The computed entry of this target, if any: name and value (in a). */
static const char *
computed(struct imap_cmd *cmd, const char *mailbox, const struct store_mailbox_info *info,
         const char **value_out)
{
	struct imap_session *s = cmd->session;

	if (mailbox[0] == '\0') {
		*value_out = s->settings.metadata_admin[0] ? s->settings.metadata_admin : NULL;
		return "/shared/admin";
	}
	*value_out = NULL;
	if (info->special_use != 0) {
		struct buf b;
		buf_init(&b);
		imap_special_use_append(&b, info->special_use);
		*value_out = arena_strdup(cmd->arena, b.data + 1); /* no leading space */
		buf_deinit(&b);
	}
	return "/private/specialuse";
}

enum imap_cmd_status
imap_cmd_getmetadata(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct imap_getmetadata req;
	struct store_mailbox_info info = {0};
	enum store_error err;
	const char *mailbox, *error;

	if (!imap_getmetadata_parse(cmd->arena, cmd->args, cmd->nargs, &req, &error)) {
		imap_reply_bad(cmd, "%s", error);
		return IMAP_CMD_DONE;
	}
	if (!imap_mailbox_arg(cmd, req.mailbox, &mailbox))
		return IMAP_CMD_DONE;
	/* Section 3.3: a mailbox's entries only for a mailbox that exists. */
	if (mailbox[0] != '\0' &&
	    store_mailbox_status(s->account, mailbox, cmd->arena, &info, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	const char *virtual_value;
	const char *virtual_name = computed(cmd, mailbox, &info, &virtual_value);
	struct answer ans = {.is_utf8 = s->utf8_names, .req = &req};
	buf_init(&ans.out);
	for (size_t i = 0; i < req.n_entries; i++) {
		const char *want = req.entries[i];
		struct store_metadata_entry *rows;
		size_t n;
		bool is_private = strncmp(want, "/private/", 9) == 0;
		bool found = false;

		if (store_metadata_get(s->account, mailbox, want,
		                       req.depth != IMAP_METADATA_DEPTH_0, cmd->arena, &rows, &n,
		                       &err) < 0) {
			buf_deinit(&ans.out);
			imap_reply_store_error(cmd, err);
			return IMAP_CMD_DONE;
		}
		/* Merge the computed entry into the sorted rows where it falls. */
		bool virtual_here = virtual_value != NULL &&
		                    imap_metadata_in_depth(want, virtual_name, req.depth);
		for (size_t k = 0; k <= n; k++) {
			if (virtual_here && (k == n || strcmp(virtual_name, rows[k].name) < 0)) {
				put(&ans, virtual_name, virtual_value, strlen(virtual_value));
				found |= strcmp(virtual_name, want) == 0;
				virtual_here = false;
			}
			if (k == n)
				break;
			if (!imap_metadata_in_depth(want, rows[k].name, req.depth) ||
			    (is_private && !s->settings.metadata_private))
				continue;
			put(&ans, rows[k].name, (const char *)rows[k].value, rows[k].len);
			found |= strcmp(rows[k].name, want) == 0;
		}
		if (!found)
			put(&ans, want, NULL, 0);
	}
	struct buf line;
	buf_init(&line);
	buf_printf(&line, "METADATA %s (", imap_mailbox_wire(s, mailbox));
	buf_append(&line, ans.out.data != NULL ? ans.out.data : "", ans.out.len);
	buf_putc(&line, ')');
	imap_reply_untagged_data(s, line.data, line.len);
	buf_deinit(&line);
	buf_deinit(&ans.out);
	if (ans.longest > 0)
		imap_reply_ok(cmd, "[METADATA LONGENTRIES %llu] GETMETADATA completed",
		              (unsigned long long)ans.longest);
	else
		imap_reply_ok(cmd, "GETMETADATA completed");
	return IMAP_CMD_DONE;
}
