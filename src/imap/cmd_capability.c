/* SPDX-License-Identifier: MIT */
/*
 * cmd_capability.c: CAPABILITY (RFC 9051 section 6.1.1) and the capability
 * list itself, which the greeting and LOGIN/AUTHENTICATE replies repeat.
 * Before login the list says how to log in: STARTTLS while TLS is available
 * and not active; LOGINDISABLED and no AUTH= while passwords may not be sent
 * on this connection (section 6.2.3, RFC 8314).
 */
#include <string.h>

#include "imap/commands.h"
#include "imap/imap_auth.h"
#include "imap/imap_quota.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "net/net.h"

/* What every state offers; keep in step with docs/IMAP.md. %s is LITERAL+,
   or LITERAL- with imap.literal_minus: RFC 7888 section 5 forbids advertising
   both. */
#define CAPS_BASE                                                                                  \
	"IMAP4rev1 IMAP4rev2 SASL-IR %s ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS CHILDREN"   \
	" LOGIN-REFERRALS"                                                                         \
	" LANGUAGE"

/* After login: the mailbox extensions. */
#define CAPS_AUTHED                                                                                \
	" LIST-EXTENDED LIST-STATUS SPECIAL-USE CREATE-SPECIAL-USE STATUS=SIZE MULTIAPPEND "       \
	"UTF8=ACCEPT OBJECTID MOVE BINARY SAVEDATE SEARCH=FUZZY"                                   \
	" ESEARCH SEARCHRES WITHIN SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES"      \
	" CONDSTORE QRESYNC ESORT CONTEXT=SEARCH CONTEXT=SORT PARTIAL CATENATE"                    \
	" URLAUTH URLAUTH=BINARY NOTIFY COMPRESS=DEFLATE UNAUTHENTICATE REPLACE"                   \
	" QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE QUOTA=RES-MAILBOX METADATA METADATA-SERVER FILTERS"      \
	" ACL RIGHTS=texkn LIST-MYRIGHTS ANNOTATE-EXPERIMENT-1 PREVIEW MULTISEARCH"                \
	" I18NLEVEL=2 CONVERT"

const char *
imap_capability(struct imap_session *s)
{
	const char *literal = s->settings.literal_minus ? "LITERAL-" : "LITERAL+";

	if (s->state != IMAP_STATE_NOT_AUTH)
		return arena_printf(s->cmd_arena, CAPS_BASE CAPS_AUTHED "%s APPENDLIMIT=%llu", literal,
		                    imap_quota_may_set(s) ? " QUOTASET" : "",
		                    (unsigned long long)s->settings.max_literal);

	bool is_tls = net_conn_is_tls(s->base.conn);
	bool plain_ok = auth_service_plaintext_allowed(s->srv->auth, is_tls,
	                                               net_conn_is_loopback(s->base.conn));
	struct buf b;

	buf_init(&b);
	buf_printf(&b, CAPS_BASE, literal);
	if (!is_tls && s->srv->tls_available)
		buf_puts(&b, " STARTTLS");
	if (!plain_ok) {
		buf_puts(&b, " LOGINDISABLED");
	} else {
		struct auth_conn conn;
		struct buf mechs;
		session_auth_conn(&s->base, AUTH_PROTO_IMAP, &conn);
		buf_init(&mechs);
		auth_mechanisms_list(s->srv->auth, &conn, &mechs);
		for (const char *m = mechs.data; m != NULL && *m != '\0';) {
			size_t n = strcspn(m, " ");
			buf_printf(&b, " AUTH=%.*s", (int)n, m);
			m += n;
			while (*m == ' ')
				m++;
		}
		buf_deinit(&mechs);
	}
	const char *out = arena_strdup(s->cmd_arena, b.data);
	buf_deinit(&b);
	return out;
}

enum imap_cmd_status
imap_cmd_capability(struct imap_cmd *cmd)
{
	/* capability = "CAPABILITY" */
	if (!imap_args_end(cmd, 0)) {
		imap_reply_bad(cmd, "Expected: CAPABILITY");
		return IMAP_CMD_DONE;
	}
	imap_reply_untagged(cmd->session, "CAPABILITY %s", imap_capability(cmd->session));
	imap_reply_ok(cmd, "CAPABILITY completed");
	return IMAP_CMD_DONE;
}
