/* SPDX-License-Identifier: MIT */
/*
 * cmd_unauthenticate.c: UNAUTHENTICATE (RFC 8437 section 3). The session
 * goes back to NOT AUTHENTICATED with nothing of the account left: the
 * selected mailbox closes without EXPUNGEs, NOTIFY, UPDATE contexts, $ and
 * every ENABLE are gone, the account's store handle is released
 * (imap_session_unauthenticate), and a new LOGIN or AUTHENTICATE may follow.
 * TLS stays; COMPRESS ends after this OK (section 4.1). The RFC allows no NO.
 */
#include "imap/commands.h"
#include "lib/log.h"
#include "net/net.h"

enum imap_cmd_status
imap_cmd_unauthenticate(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;

	if (!imap_args_end(cmd, 0)) {
		imap_reply_bad(cmd, "Expected: UNAUTHENTICATE");
		return IMAP_CMD_DONE;
	}
	log_info("imap", "event=unauthenticate");
	/* Released before the reply, so the tagged OK carries no update of the
	   mailbox that was selected. */
	imap_session_unauthenticate(s);
	imap_reply_ok(cmd, "UNAUTHENTICATE completed, now not authenticated");
	net_conn_uncompress(s->base.conn);
	return IMAP_CMD_DONE;
}
