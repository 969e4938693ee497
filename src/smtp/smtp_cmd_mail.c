/* SPDX-License-Identifier: MIT */
/*
 * smtp_cmd_mail.c: MAIL FROM (RFC 5321 section 4.1.1.2) with the ESMTP
 * parameters of smtp_parse.h. Everything is checked before the transaction
 * starts, so a refused MAIL changes nothing:
 *
 *   submission without AUTH       530 5.7.0 (RFC 4954 section 6)
 *   SIZE above the limit          552 5.3.4 (RFC 1870 section 6.2)
 *   REQUIRETLS without TLS        530 5.7.10 (RFC 8689 section 4)
 *   UTF-8 sender, no SMTPUTF8     553 5.6.7 (RFC 6531 section 3.5)
 *   submission, someone else's    553 5.7.1 (RFC 6409 section 4.3 leaves
 *   address                                  the policy to the MSA; ours:
 *                                            the account, its sub-addresses
 *                                            and aliases, or <>)
 */
#include <string.h>

#include "lib/arena.h"
#include "lib/log.h"
#include "net/net.h"
#include "smtp/smtp_lookup.h"
#include "smtp/smtp_session.h"

static void
mail_accept(struct smtp_session *s, const struct smtp_path *path,
            const struct smtp_mail_params *params)
{
	smtp_tx_reset(s);
	s->tx.sender = arena_strdup(s->tx_arena, path->address);
	s->tx.mail = *params;
	s->tx.mail.envid = params->envid ? arena_strdup(s->tx_arena, params->envid) : NULL;
	s->tx.mail.auth = params->auth ? arena_strdup(s->tx_arena, params->auth) : NULL;
	s->state = SMTP_STATE_MAIL;
	s->junk = 0;
	smtp_reply(s, 250, "2.1.0", "Ok");
}

/* The command's copy, kept in the lookup until the answer. */
struct pending_mail {
	struct smtp_path path;
	struct smtp_mail_params params;
};

static void
owner_done(struct smtp_session *s, struct smtp_lookup *l)
{
	struct pending_mail *pm = l->arg;

	if (l->rc < 0)
		smtp_reply(s, 451, "4.3.0", "Temporary failure, try again later (sid %s)",
		           s->base.log.sid);
	else if (!l->is_owned)
		smtp_reply_error(s, 553, "5.7.1", "Sender address <%s> not owned by %s",
		                 pm->path.address, s->user.address);
	else
		mail_accept(s, &pm->path, &pm->params);
	smtp_lookup_free(l);
	smtp_cmd_finish(s);
}

void
smtp_cmd_mail(struct smtp_session *s, const struct smtp_command *c)
{
	struct smtp_path path;
	struct smtp_mail_params params;
	const char *detail;

	if (s->role == SMTP_ROLE_SUBMISSION && !s->is_authed) {
		smtp_reply_error(s, 530, "5.7.0", "Authentication required");
		smtp_cmd_done(s);
		return;
	}
	switch (smtp_mail_parse(s->cmd_arena, c->arg, &path, &params, &detail)) {
	case SMTP_PARSE_OK:
		break;
	case SMTP_PARSE_ADDRESS:
		smtp_reply_error(s, 501, "5.1.7", "%s", detail);
		smtp_cmd_done(s);
		return;
	case SMTP_PARSE_PARAM_UNKNOWN:
		smtp_reply_error(s, 555, "5.5.4", "%s", detail);
		smtp_cmd_done(s);
		return;
	case SMTP_PARSE_PARAM_VALUE:
		smtp_reply_error(s, 501, "5.5.4", "%s", detail);
		smtp_cmd_done(s);
		return;
	default:
		smtp_reply_error(s, 501, "5.5.2", "%s", detail);
		smtp_cmd_done(s);
		return;
	}
	if (params.has_size && params.size > s->cfg->s.max_message_size) {
		smtp_reply(s, 552, "5.3.4", "Message too big (limit %llu bytes)",
		           (unsigned long long)s->cfg->s.max_message_size);
	} else if (params.requiretls && !net_conn_is_tls(s->base.conn)) {
		smtp_reply_error(s, 530, "5.7.10", "REQUIRETLS needs a TLS connection");
	} else if (path.is_utf8 && !params.smtputf8) {
		smtp_reply_error(s, 553, "5.6.7", "UTF-8 address without SMTPUTF8");
	} else if (s->role == SMTP_ROLE_SUBMISSION && !path.is_null) {
		struct smtp_lookup *l = smtp_lookup_new(path.address);
		struct pending_mail *pm = arena_zalloc(l->arena, sizeof(*pm));
		pm->path = path;
		pm->path.address = arena_strdup(l->arena, path.address);
		pm->params = params;
		pm->params.envid = params.envid ? arena_strdup(l->arena, params.envid) : NULL;
		pm->params.auth = params.auth ? arena_strdup(l->arena, params.auth) : NULL;
		l->is_owner_check = true;
		l->account_id = s->user.account_id;
		l->done = owner_done;
		l->arg = pm;
		smtp_lookup_submit(s, l);
		return;
	} else {
		mail_accept(s, &path, &params);
	}
	smtp_cmd_done(s);
}
