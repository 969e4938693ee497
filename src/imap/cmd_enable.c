/* SPDX-License-Identifier: MIT */
/*
 * cmd_enable.c: ENABLE (RFC 5161). Known extensions switch the session's
 * behaviour and are echoed in "* ENABLED"; unknown ones are ignored, as the
 * RFC requires. IMAP4rev2 (RFC 9051 section 6.3.1) and UTF8=ACCEPT (RFC 6855)
 * both make mailbox names travel as UTF-8. CONDSTORE makes flag updates
 * carry MODSEQ; QRESYNC (RFC 7162 3.2.3) implies CONDSTORE and turns
 * EXPUNGE responses into VANISHED.
 */
#include <strings.h>

#include "imap/commands.h"
#include "imap/imap_condstore.h"
#include "lib/buf.h"

enum imap_cmd_status
imap_cmd_enable(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct buf enabled;

	/* enable = "ENABLE" 1*(SP capability) */
	if (cmd->nargs == 0) {
		imap_reply_bad(cmd, "Expected: ENABLE <capability> ...");
		return IMAP_CMD_DONE;
	}
	for (size_t i = 0; i < cmd->nargs; i++) {
		if (cmd->args[i].type != IMAP_ARG_ATOM) {
			imap_reply_bad(cmd, "Expected capability names");
			return IMAP_CMD_DONE;
		}
	}
	buf_init(&enabled);
	for (size_t i = 0; i < cmd->nargs; i++) {
		const char *c = cmd->args[i].str, *name;
		if (strcasecmp(c, "IMAP4rev2") == 0 && !s->is_rev2) {
			s->is_rev2 = true;
			s->utf8_names = true;
			name = "IMAP4rev2";
		} else if (strcasecmp(c, "UTF8=ACCEPT") == 0) {
			s->utf8_names = true;
			s->utf8_accept = true;
			name = "UTF8=ACCEPT";
		} else if (strcasecmp(c, "CONDSTORE") == 0) {
			imap_condstore_enable(s);
			name = "CONDSTORE";
		} else if (strcasecmp(c, "QRESYNC") == 0) {
			imap_condstore_enable(s);
			s->qresync = true;
			name = "QRESYNC";
		} else {
			continue;
		}
		buf_printf(&enabled, " %s", name);
	}
	imap_reply_untagged(s, "ENABLED%s", enabled.data ? enabled.data : "");
	buf_deinit(&enabled);
	imap_reply_ok(cmd, "ENABLE completed");
	return IMAP_CMD_DONE;
}
