/* SPDX-License-Identifier: MIT */
/*
 * cmd_comparator.c: COMPARATOR (RFC 5255 sections 4.7-4.10, I18NLEVEL=2).
 * Without arguments it names the active comparator; with collation-orders
 * ("default", a name, or a "*" wildcard, RFC 4790 3.1-3.2) the first that
 * names one of ours makes it active for SEARCH, SORT and THREAD from the
 * next command on, and the response lists every comparator the arguments
 * named when that is more than one (4.8). None named: NO [BADCOMPARATOR]
 * (4.9), the active one unchanged. The choosing is collation_select().
 */
#include "imap/commands.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/collation.h"

enum imap_cmd_status
imap_cmd_comparator(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	const char **orders = arena_alloc(cmd->arena, (cmd->nargs + 1) * sizeof(*orders));
	enum collation active = s->comparator;
	unsigned matched = 0;
	size_t bad = 0;
	struct buf b;

	/* comparator-cmd = "COMPARATOR" *(SP comp-order-quoted) */
	for (size_t i = 0; i < cmd->nargs; i++) {
		if (!imap_args_astring(cmd, i, &orders[i])) {
			imap_reply_bad(cmd, "Expected: COMPARATOR [<comparator> ...]");
			return IMAP_CMD_DONE;
		}
	}
	if (cmd->nargs == 0) {
		imap_reply_untagged(s, "COMPARATOR %s", collation_name(active));
		imap_reply_ok(cmd, "COMPARATOR completed");
		return IMAP_CMD_DONE;
	}
	switch (collation_select(orders, cmd->nargs, &active, &matched, &bad)) {
	case -1:
		imap_reply_bad(cmd, "Invalid comparator name %s",
		               imap_quote(cmd->arena, orders[bad]));
		return IMAP_CMD_DONE;
	case 0:
		imap_reply_no(cmd, "[BADCOMPARATOR] No matching comparator");
		return IMAP_CMD_DONE;
	}
	s->comparator = active;
	buf_init(&b);
	buf_printf(&b, "COMPARATOR %s", collation_name(active));
	if ((matched & (matched - 1)) != 0) {
		const char *sep = " (";
		for (int c = 0; c < COLLATION_COUNT; c++) {
			if (matched & (1u << c)) {
				buf_printf(&b, "%s%s", sep, collation_name((enum collation)c));
				sep = " ";
			}
		}
		buf_putc(&b, ')');
	}
	imap_reply_untagged(s, "%s", b.data);
	buf_deinit(&b);
	imap_reply_ok(cmd, "COMPARATOR completed");
	return IMAP_CMD_DONE;
}
