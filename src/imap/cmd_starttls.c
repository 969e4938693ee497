/* SPDX-License-Identifier: MIT */
/*
 * cmd_starttls.c: STARTTLS (RFC 9051 section 6.2.1). The OK goes out in
 * plaintext, then the handshake starts; anything the client pipelined after
 * the command is thrown away by net (a man in the middle could have put it
 * there). After TLS the client must ask for capabilities again, which now
 * include the AUTH= mechanisms that plaintext hid.
 */
#include "imap/commands.h"
#include "lib/log.h"
#include "net/net.h"

enum imap_cmd_status
imap_cmd_starttls(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;

	if (!imap_args_end(cmd, 0)) {
		imap_reply_bad(cmd, "Expected: STARTTLS");
		return IMAP_CMD_DONE;
	}
	if (net_conn_is_tls(s->base.conn)) {
		imap_reply_bad(cmd, "TLS is already active");
		return IMAP_CMD_DONE;
	}
	if (!s->srv->tls_available) {
		imap_reply_no(cmd, "TLS is not configured");
		return IMAP_CMD_DONE;
	}
	imap_reply_ok(cmd, "Begin TLS negotiation now");
	/* RFC 5255 section 7: a LANGUAGE sent in the clear may be an
	   attacker's; the client must send it again under TLS. */
	s->language = NULL;
	if (net_conn_starttls(s->base.conn) < 0) {
		log_error("imap", "event=starttls-failed");
		imap_session_bye(s, "TLS could not start");
	}
	return IMAP_CMD_DONE;
}
