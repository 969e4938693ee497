/* SPDX-License-Identifier: MIT */
/*
 * smtp_cmd_hello.c: EHLO, HELO (RFC 5321 section 4.1.1.1) and LMTP's LHLO
 * (RFC 2033 section 4.1), which reset the session to READY and, for EHLO
 * and LHLO, list the extensions in effect. The list depends on the
 * connection: STARTTLS only before TLS, REQUIRETLS only over it (RFC 8689
 * section 4), AUTH only on submission and only where passwords may travel
 * (auth.plaintext), as RFC 4954 section 4 and RFC 8314 ask.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "net/net.h"
#include "smtp/smtp_auth.h"
#include "smtp/smtp_session.h"

/* The client's name goes into Received: keep what a domain or an address
   literal may hold, replace anything else. */
static void
set_helo(struct smtp_session *s, const char *arg)
{
	size_t n = strcspn(arg, " ");

	if (n >= sizeof(s->helo))
		n = sizeof(s->helo) - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)arg[i];
		s->helo[i] = isalnum(c) || strchr(".-_:[]", c) != NULL ? (char)c : '?';
	}
	s->helo[n] = '\0';
}

void
smtp_cmd_hello(struct smtp_session *s, const struct smtp_command *c)
{
	if (c->arg[0] == '\0' || c->arg[0] == ' ') {
		smtp_reply_error(s, 501, "5.5.4", "Syntax: %s hostname", c->name);
		smtp_cmd_done(s);
		return;
	}
	smtp_tx_reset(s);
	set_helo(s, c->arg);
	s->state = SMTP_STATE_READY;
	if (c->verb == SMTP_VERB_HELO) {
		s->is_esmtp = false;
		smtp_reply(s, 250, NULL, "%s", s->cfg->s.hostname);
		smtp_cmd_done(s);
		return;
	}
	s->is_esmtp = true;
	bool tls = net_conn_is_tls(s->base.conn);
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "%s Hello %s [%s]\n", s->cfg->s.hostname, s->helo,
	           net_conn_peer(s->base.conn));
	buf_puts(&b, "PIPELINING\n");
	buf_printf(&b, "SIZE %llu\n", (unsigned long long)s->cfg->s.max_message_size);
	buf_puts(&b, "8BITMIME\nENHANCEDSTATUSCODES\nSMTPUTF8\nCHUNKING\nBINARYMIME\nDSN\n");
	if (!tls && s->cfg->tls_available)
		buf_puts(&b, "STARTTLS\n");
	if (tls)
		buf_puts(&b, "REQUIRETLS\n");
	if (s->role == SMTP_ROLE_SUBMISSION && !s->is_authed) {
		struct buf mechs;
		buf_init(&mechs);
		smtp_auth_mechanisms(s, &mechs);
		if (mechs.len > 0)
			buf_printf(&b, "AUTH %s\n", mechs.data);
		buf_deinit(&mechs);
	}
	buf_puts(&b, "HELP");
	smtp_reply(s, 250, NULL, "%s", b.data);
	buf_deinit(&b);
	smtp_cmd_done(s);
}

void
smtp_cmd_starttls(struct smtp_session *s, const struct smtp_command *c)
{
	if (c->arg[0] != '\0') {
		smtp_reply_error(s, 501, "5.5.4", "Syntax: STARTTLS");
	} else if (net_conn_is_tls(s->base.conn)) {
		smtp_reply_error(s, 503, "5.5.1", "TLS is already active");
	} else if (!s->cfg->tls_available) {
		smtp_reply(s, 454, "4.7.0", "TLS not available");
	} else {
		smtp_reply(s, 220, "2.0.0", "Ready to start TLS");
		/* RFC 3207 section 4.2: everything learnt before is forgotten;
		   net drops whatever the client pipelined in plaintext. */
		smtp_tx_reset(s);
		s->state = SMTP_STATE_GREETED;
		s->is_esmtp = false;
		s->helo[0] = '\0';
		if (net_conn_starttls(s->base.conn) < 0) {
			log_error(s->base.ops->proto, "event=starttls-failed");
			session_close(&s->base);
		}
	}
	smtp_cmd_done(s);
}

void
smtp_cmd_simple(struct smtp_session *s, const struct smtp_command *c)
{
	switch (c->verb) {
	case SMTP_VERB_RSET:
		if (c->arg[0] != '\0') {
			smtp_reply_error(s, 501, "5.5.4", "Syntax: RSET");
			break;
		}
		smtp_tx_reset(s);
		smtp_reply(s, 250, "2.0.0", "Ok");
		break;
	case SMTP_VERB_NOOP:
		smtp_reply(s, 250, "2.0.0", "Ok");
		break;
	case SMTP_VERB_QUIT:
		smtp_reply(s, 221, "2.0.0", "%s Bye", s->cfg->s.hostname);
		session_close(&s->base);
		break;
	case SMTP_VERB_VRFY:
	case SMTP_VERB_EXPN:
		/* RFC 5321 section 3.5.3: 252 says neither yes nor no, so
		   addresses cannot be probed. */
		smtp_reply(s, 252, "2.1.5",
		           "Cannot VRFY user, but will accept message and attempt delivery");
		break;
	default:
		smtp_reply(s, 214, "2.0.0",
		           "Commands: %s MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY%s%s\nSee RFC 5321",
		           s->role == SMTP_ROLE_LMTP ? "LHLO" : "EHLO HELO",
		           s->role == SMTP_ROLE_SUBMISSION ? " AUTH" : "",
		           net_conn_is_tls(s->base.conn) ? "" : " STARTTLS");
		break;
	}
	smtp_cmd_done(s);
}
