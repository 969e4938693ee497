/* SPDX-License-Identifier: MIT */
/*
 * smtp_cmd_rcpt.c: RCPT TO (RFC 5321 section 4.1.1.3) with DSN's NOTIFY and
 * ORCPT (RFC 3461 section 4). The address rules (smtp_address.c) decide
 * local, remote or refused; a local address is resolved on the job pool:
 *
 *   a relay spelling, another domain  550 5.7.1 (submission: remote
 *                                      recipients are queued instead)
 *   nobody here by that name           550 5.1.1, at RCPT time
 *   an account over quota              452 4.2.2 or 552 5.2.2
 *   too many recipients                452 4.5.3 (RFC 5321 section 4.5.3.1.10)
 *   UTF-8 without MAIL's SMTPUTF8      553 5.6.7
 */
#include <string.h>

#include "lib/arena.h"
#include "lib/log.h"
#include "smtp/smtp_lookup.h"
#include "smtp/smtp_session.h"

static struct smtp_rcpt *
rcpt_add(struct smtp_session *s, const struct smtp_path *path, const char *address,
         const struct smtp_rcpt_params *params)
{
	struct smtp_tx *tx = &s->tx;

	if (tx->n_rcpts == tx->cap_rcpts) {
		size_t cap = tx->cap_rcpts ? tx->cap_rcpts * 2 : 8;
		struct smtp_rcpt *v = arena_zalloc(s->tx_arena, cap * sizeof(*v));
		if (tx->n_rcpts > 0)
			memcpy(v, tx->rcpts, tx->n_rcpts * sizeof(*v));
		tx->rcpts = v;
		tx->cap_rcpts = cap;
	}
	struct smtp_rcpt *r = &tx->rcpts[tx->n_rcpts++];
	memset(r, 0, sizeof(*r));
	r->path = arena_strdup(s->tx_arena, path->address);
	r->address = arena_strdup(s->tx_arena, address);
	r->params = *params;
	r->params.orcpt_type =
	        params->orcpt_type ? arena_strdup(s->tx_arena, params->orcpt_type) : NULL;
	r->params.orcpt = params->orcpt ? arena_strdup(s->tx_arena, params->orcpt) : NULL;
	s->state = SMTP_STATE_RCPT;
	return r;
}

struct pending_rcpt {
	struct smtp_path path;
	struct smtp_rcpt_params params;
};

static void
resolved(struct smtp_session *s, struct smtp_lookup *l)
{
	struct pending_rcpt *pr = l->arg;

	if (l->rc < 0 && l->err == AUTH_ERR_NOTFOUND) {
		log_info(s->base.ops->proto, "event=rcpt-unknown rcpt=%s", smtp_str(s, l->address));
		smtp_reply_error(s, 550, "5.1.1", "<%s>: No such user here", pr->path.address);
	} else if (l->rc < 0 || l->store_err == STORE_ERR_TEMP) {
		smtp_reply(s, 451, "4.3.0", "Temporary failure, try again later (sid %s)",
		           s->base.log.sid);
	} else if (l->store_err != STORE_ERR_NONE) {
		smtp_reply_store_error(s, l->store_err,
		                       arena_printf(s->cmd_arena, "<%s>", pr->path.address));
	} else {
		struct smtp_rcpt *r = rcpt_add(s, &pr->path, l->address, &pr->params);
		r->accts = arena_memdup(s->tx_arena, l->accts, l->n_accts * sizeof(*l->accts));
		r->n_accts = l->n_accts;
		smtp_reply(s, 250, "2.1.5", "Ok");
	}
	smtp_lookup_free(l);
	smtp_cmd_finish(s);
}

void
smtp_cmd_rcpt(struct smtp_session *s, const struct smtp_command *c)
{
	struct smtp_path path;
	struct smtp_rcpt_params params;
	const char *detail, *address, *why;

	switch (smtp_rcpt_parse(s->cmd_arena, c->arg, &path, &params, &detail)) {
	case SMTP_PARSE_OK:
		break;
	case SMTP_PARSE_ADDRESS:
		smtp_reply_error(s, 501, "5.1.3", "%s", detail);
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
	if (s->tx.n_rcpts >= s->cfg->s.max_recipients) {
		smtp_reply(s, 452, "4.5.3", "Too many recipients");
		smtp_cmd_done(s);
		return;
	}
	if (path.is_utf8 && !s->tx.mail.smtputf8) {
		smtp_reply_error(s, 553, "5.6.7", "UTF-8 address without SMTPUTF8");
		smtp_cmd_done(s);
		return;
	}
	switch (smtp_address_classify(s->cmd_arena, &path, &s->cfg->domains,
	                              s->role == SMTP_ROLE_SUBMISSION, &address, &why)) {
	case SMTP_ADDR_REFUSED:
		log_info(s->base.ops->proto, "event=rcpt-refused rcpt=%s reason=\"%s\"",
		         smtp_str(s, path.address), why);
		smtp_reply_error(s, 550, "5.7.1", "<%s>: %s", path.address, why);
		smtp_cmd_done(s);
		return;
	case SMTP_ADDR_REMOTE: {
		struct smtp_rcpt *r = rcpt_add(s, &path, address, &params);
		r->is_remote = true;
		s->tx.n_remote++;
		smtp_reply(s, 250, "2.1.5", "Ok, will be queued");
		smtp_cmd_done(s);
		return;
	}
	case SMTP_ADDR_LOCAL:
		break;
	}
	struct smtp_lookup *l = smtp_lookup_new(address);
	struct pending_rcpt *pr = arena_zalloc(l->arena, sizeof(*pr));
	pr->path = path;
	pr->path.address = arena_strdup(l->arena, path.address);
	pr->params = params;
	pr->params.orcpt_type =
	        params.orcpt_type ? arena_strdup(l->arena, params.orcpt_type) : NULL;
	pr->params.orcpt = params.orcpt ? arena_strdup(l->arena, params.orcpt) : NULL;
	l->size = s->tx.mail.has_size ? s->tx.mail.size : 0;
	l->done = resolved;
	l->arg = pr;
	smtp_lookup_submit(s, l);
}
