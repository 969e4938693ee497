/* SPDX-License-Identifier: MIT */
/*
 * cmd_compress.c: COMPRESS (RFC 4978 section 3). The tagged OK goes out
 * uncompressed; every byte after its CRLF, both ways, is raw DEFLATE. The
 * filter lives in net (net_conn_compress: above TLS, flushed per response
 * batch, parked while idle); this file only checks the command. Allowed in
 * the authenticated and selected states (command-auth, section 5).
 */
#include <strings.h>

#include <openssl/ssl.h>

#include "imap/commands.h"
#include "lib/log.h"
#include "net/net.h"

enum imap_cmd_status
imap_cmd_compress(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	const char *algorithm;

	/* compress = "COMPRESS" SP algorithm */
	if (!imap_args_astring(cmd, 0, &algorithm) || !imap_args_end(cmd, 1)) {
		imap_reply_bad(cmd, "Expected: COMPRESS DEFLATE");
		return IMAP_CMD_DONE;
	}
	if (strcasecmp(algorithm, "DEFLATE") != 0) {
		imap_reply_bad(cmd, "Unknown compression algorithm (DEFLATE is the one supported)");
		return IMAP_CMD_DONE;
	}
	/* Section 3: BAD when COMPRESS is already active, NO [COMPRESSIONACTIVE]
	   when another layer compresses (tls.c turns TLS compression off, but a
	   library built otherwise could still negotiate it). */
	if (net_conn_is_compressed(s->base.conn)) {
		imap_reply_bad(cmd, "DEFLATE is already active");
		return IMAP_CMD_DONE;
	}
	SSL *ssl = net_conn_ssl(s->base.conn);
	if (ssl != NULL && SSL_get_current_compression(ssl) != NULL) {
		imap_reply_no(cmd, "[COMPRESSIONACTIVE] DEFLATE active via TLS");
		return IMAP_CMD_DONE;
	}
	imap_reply_ok(cmd, "DEFLATE active");
	if (net_conn_compress(s->base.conn) < 0) {
		log_error("imap", "event=compress-failed");
		imap_session_bye(s, "Compression could not start");
		return IMAP_CMD_DONE;
	}
	log_info("imap", "event=compress algorithm=deflate");
	return IMAP_CMD_DONE;
}
