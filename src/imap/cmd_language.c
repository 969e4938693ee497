/* SPDX-License-Identifier: MIT */
/*
 * cmd_language.c: LANGUAGE (RFC 5255 sections 3.2-3.5), in every state.
 * Without arguments it lists the languages ("* LANGUAGE (i-default en pl
 * ru)", 3.3: several tags mean no change). With language ranges the first
 * that finds a language by RFC 4647 Lookup makes it the session's:
 * "* LANGUAGE (pl)", then, once logged in, the NAMESPACE response with
 * its translations (3.4), then the tagged OK already in the new language.
 * None found: NO, in the language in use; a range that is not one: BAD.
 * The choosing is imap_language_select().
 */
#include "imap/commands.h"
#include "imap/imap_language.h"
#include "imap/imap_namespace.h"
#include "lib/arena.h"
#include "lib/buf.h"

enum imap_cmd_status
imap_cmd_language(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	const char **ranges = arena_alloc(cmd->arena, (cmd->nargs + 1) * sizeof(*ranges));
	const struct imap_language *chosen = NULL;
	size_t bad = 0;

	/* language-cmd = "LANGUAGE" *(SP lang-range-quoted) */
	for (size_t i = 0; i < cmd->nargs; i++) {
		if (!imap_args_astring(cmd, i, &ranges[i])) {
			imap_reply_bad(cmd, "Expected: LANGUAGE [<language range> ...]");
			return IMAP_CMD_DONE;
		}
	}
	if (cmd->nargs == 0) {
		struct buf b;
		buf_init(&b);
		buf_puts(&b, "LANGUAGE (");
		for (size_t i = 0; imap_language_at(i) != NULL; i++)
			buf_printf(&b, "%s%s", i > 0 ? " " : "", imap_language_at(i)->tag);
		buf_putc(&b, ')');
		imap_reply_untagged(s, "%s", b.data);
		buf_deinit(&b);
		imap_reply_ok(cmd, "Supported languages have been enumerated");
		return IMAP_CMD_DONE;
	}
	switch (imap_language_select(ranges, cmd->nargs, &chosen, &bad)) {
	case -1:
		imap_reply_bad(cmd, "Invalid language range %s",
		               imap_quote(cmd->arena, ranges[bad]));
		return IMAP_CMD_DONE;
	case 0:
		imap_reply_no(cmd, "Unsupported language");
		return IMAP_CMD_DONE;
	}
	/* "the change takes effect immediately after the LANGUAGE response" */
	imap_reply_untagged(s, "LANGUAGE (%s)", chosen->tag);
	s->language = chosen == imap_language_default() ? NULL : chosen;
	if (s->state != IMAP_STATE_NOT_AUTH)
		imap_namespace_reply(s);
	imap_reply_ok(cmd, "Language changed");
	return IMAP_CMD_DONE;
}
