/* SPDX-License-Identifier: MIT */
/*
 * smtp_deliver.c: from the first message byte to the final reply.
 *
 * Begin (on the event loop): a store spool for the local recipients and/or
 * a queue file for the remote ones (submission), and the trace fields
 * written into them before any message byte: Return-Path, Delivered-To
 * (only when the message goes to exactly one account, so that N
 * recipients still share one spool and one stored blob) and Received (with
 * the TLS cipher, RFC 8314 section 4.3). The queue copy gets only
 * Received: the final MTA adds the other two.
 *
 * Write: bytes go to the spool (CRLF-normalised, hashed, size-limited by
 * the store) and the queue file as they arrive; on submission the header
 * block is also kept (up to SMTP_HEADER_MAX) for the From: check.
 *
 * End: one job on the store pool (store.writers threads) checks From: on
 * submission, opens each recipient account, runs store_deliver() (one
 * parse, one blob for all, group commit per account), retries a missing
 * sub-address folder into INBOX, and commits the queue file. Back on the
 * worker the replies go out: one for SMTP, one per recipient for LMTP
 * (RFC 2033 section 4.2). 250 is only ever sent for what store_deliver or
 * the queue said is on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/util.h"
#include "net/net.h"
#include "net/tls.h"
#include "smtp/smtp_accounts.h"
#include "smtp/smtp_queue.h"
#include "smtp/smtp_session.h"
#include "smtp/smtp_trace.h"
#include "store/store.h"

/* Held message bytes buffered before a write(2). */
#define HOLD_BUF (64 * 1024)

/* The distinct accounts of a transaction's local recipients. */
static size_t
count_accounts(const struct smtp_tx *tx, const struct auth_recipient **only_out)
{
	size_t n = 0;

	*only_out = NULL;
	for (size_t i = 0; i < tx->n_rcpts; i++) {
		const struct smtp_rcpt *r = &tx->rcpts[i];
		for (size_t j = 0; j < r->n_accts; j++) {
			bool seen = false;
			for (size_t k = 0; k < i && !seen; k++)
				for (size_t m = 0; m < tx->rcpts[k].n_accts && !seen; m++)
					seen = tx->rcpts[k].accts[m].account_id ==
					       r->accts[j].account_id;
			for (size_t m = 0; m < j && !seen; m++)
				seen = r->accts[m].account_id == r->accts[j].account_id;
			if (!seen) {
				n++;
				*only_out = &r->accts[j];
			}
		}
	}
	return n;
}

static void
trace_received(struct smtp_session *s, struct buf *b)
{
	const char *version = NULL, *cipher = NULL;
	void *ssl = net_conn_ssl(s->base.conn);

	if (ssl != NULL)
		net_tls_describe(ssl, &version, &cipher);
	struct smtp_trace t = {
	        .helo = s->helo,
	        .ip = net_conn_peer(s->base.conn),
	        .hostname = s->cfg->s.hostname,
	        .protocol = smtp_trace_protocol(s->role == SMTP_ROLE_LMTP, s->is_esmtp, ssl != NULL,
	                                        s->is_authed, s->tx.mail.smtputf8),
	        .id = arena_printf(s->cmd_arena, "%s.%llu", s->base.log.sid,
	                           (unsigned long long)s->messages + 1),
	        .tls_cipher = cipher != NULL && cipher[0] != '\0' ? cipher : NULL,
	        .tls_version = version,
	        .for_rcpt = s->tx.n_rcpts == 1 ? s->tx.rcpts[0].path : NULL,
	        .time = (int64_t)time(NULL),
	};
	smtp_trace_received(b, &t);
}

/* With one reply for several destinations (accounts, or an account and
   the remote recipients' queue file), a copy for the queue (smtp_session.h
   redo). Cheap: a file in queue/tmp written as the spool is. */
static bool
wants_redo(const struct smtp_session *s)
{
	const struct auth_recipient *only;

	return s->role != SMTP_ROLE_LMTP && s->srv->queue != NULL &&
	       count_accounts(&s->tx, &only) + (s->tx.n_remote > 0) >= 2;
}

/* A copy that cannot be made or written is dropped: a partial failure
   then gets 451 (delivery_done). */
static void
redo_begin(struct smtp_session *s)
{
	if (wants_redo(s))
		(void)smtp_queue_msg_new(s->srv->queue, &s->redo);
}

static void
redo_write(struct smtp_session *s, const char *data, size_t len)
{
	if (s->redo != NULL && smtp_queue_msg_write(s->redo, data, len) < 0)
		smtp_queue_msg_free(&s->redo);
}

/* The MX with mailauth.enabled: the message goes to an unnamed file while
   DKIM hashes it; the trace fields wait beside it. false when there is no
   room for the file. */
static bool
hold_begin(struct smtp_session *s)
{
	const struct auth_recipient *only;
	struct buf b;

	s->hold_fd = open(s->cfg->s.hold_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (s->hold_fd < 0) {
		log_error(s->base.ops->proto, "event=hold-failed dir=%s err=\"%s\"",
		          s->cfg->s.hold_dir, strerror(errno));
		return false;
	}
	s->mailauth = smtp_mailauth_new(net_conn_peer(s->base.conn), s->helo, s->tx.sender);
	buf_init(&b);
	buf_printf(&b, "Return-Path: <%s>\r\n", s->tx.sender);
	if (count_accounts(&s->tx, &only) == 1)
		buf_printf(&b, "Delivered-To: %s\r\n", only->address);
	s->trace_top = buf_steal(&b);
	trace_received(s, &b);
	s->trace_received = buf_steal(&b);
	buf_deinit(&b);
	return true;
}

void
smtp_message_hold_free(struct smtp_session *s)
{
	smtp_mailauth_free(&s->mailauth);
	if (s->hold_fd >= 0)
		close(s->hold_fd);
	s->hold_fd = -1;
	buf_reset(&s->hold_buf);
	free(s->trace_top);
	free(s->trace_received);
	s->trace_top = s->trace_received = NULL;
}

/* Writes the held bytes out; -1 on a write error. */
static int
hold_flush(struct smtp_session *s)
{
	if (s->hold_buf.len > 0 && fd_write_all(s->hold_fd, s->hold_buf.data, s->hold_buf.len) < 0)
		return -1;
	buf_reset(&s->hold_buf);
	return 0;
}

bool
smtp_message_begin(struct smtp_session *s)
{
	struct smtp_tx *tx = &s->tx;
	enum store_error err;
	struct buf b;
	const struct auth_recipient *only;
	bool ok = true;

	buf_init(&b);
	buf_reset(&s->header);
	s->has_header = false;
	s->data_error = SMTP_DATA_OK;
	s->data_size = 0;
	if (s->role == SMTP_ROLE_MX && s->cfg->s.mailauth && tx->n_rcpts > 0) {
		ok = hold_begin(s);
	} else if (tx->n_rcpts > tx->n_remote) {
		redo_begin(s);
		if (store_spool_new(s->srv->store, &s->spool, &err) < 0) {
			log_error(s->base.ops->proto, "event=spool-failed err=\"%s\"",
			          store_error_str(err));
			ok = false;
		} else {
			buf_printf(&b, "Return-Path: <%s>\r\n", tx->sender);
			if (count_accounts(tx, &only) == 1)
				buf_printf(&b, "Delivered-To: %s\r\n", only->address);
			trace_received(s, &b);
			if (store_spool_write(s->spool, b.data, b.len, &err) < 0)
				ok = false;
			redo_write(s, b.data, b.len);
		}
	}
	if (ok && tx->n_remote > 0) {
		if (s->srv->queue == NULL || smtp_queue_msg_new(s->srv->queue, &s->qmsg) < 0) {
			ok = false;
		} else {
			buf_reset(&b);
			trace_received(s, &b);
			if (smtp_queue_msg_write(s->qmsg, b.data, b.len) < 0)
				ok = false;
		}
	}
	buf_deinit(&b);
	if (!ok) {
		store_spool_free(&s->spool);
		smtp_queue_msg_free(&s->qmsg);
		smtp_message_hold_free(s);
		smtp_reply(s, 451, "4.3.0", "Temporary failure, try again later (sid %s)",
		           s->base.log.sid);
		return false;
	}
	return true;
}

/* Keeps the header block for the From: check: up to the first empty line. */
static void
keep_header(struct smtp_session *s, const char *data, size_t len)
{
	size_t room = SMTP_HEADER_MAX - s->header.len;
	size_t from = s->header.len > 3 ? s->header.len - 3 : 0;

	buf_append(&s->header, data, MIN(len, room));
	for (size_t i = from; i + 1 < s->header.len; i++) {
		const char *h = s->header.data;
		if ((h[i] == '\n' && h[i + 1] == '\n') ||
		    (h[i] == '\n' && h[i + 1] == '\r' && i + 2 < s->header.len &&
		     h[i + 2] == '\n') ||
		    (i == 0 && (h[0] == '\n' || (h[0] == '\r' && h[1] == '\n')))) {
			s->header.len = i + 1;
			s->has_header = true;
			return;
		}
	}
	if (s->header.len >= SMTP_HEADER_MAX)
		s->has_header = true;
}

void
smtp_message_write(struct smtp_session *s, const char *data, size_t len)
{
	enum store_error err;

	if (s->data_error != SMTP_DATA_OK)
		return; /* the rest is read and dropped */
	s->data_size += len;
	if (s->data_size > s->cfg->s.max_message_size) {
		s->data_error = SMTP_DATA_TOOBIG;
		store_spool_free(&s->spool);
		smtp_queue_msg_free(&s->qmsg);
		smtp_message_hold_free(s);
		return;
	}
	/* Submission checks From: against the account, the MX's DMARC
	   evaluates its domain. */
	if ((s->role == SMTP_ROLE_SUBMISSION || s->mailauth != NULL) && !s->has_header)
		keep_header(s, data, len);
	if (s->mailauth != NULL) {
		smtp_mailauth_write(s->mailauth, data, len);
		buf_append(&s->hold_buf, data, len);
		if (s->hold_buf.len >= HOLD_BUF && hold_flush(s) < 0) {
			log_error(s->base.ops->proto, "event=hold-failed err=\"%s\"",
			          strerror(errno));
			s->data_error = SMTP_DATA_TEMP;
			smtp_message_hold_free(s);
		}
		return;
	}
	if (s->spool != NULL && store_spool_write(s->spool, data, len, &err) < 0)
		s->data_error = err == STORE_ERR_TOOBIG ? SMTP_DATA_TOOBIG : SMTP_DATA_TEMP;
	if (s->spool != NULL)
		redo_write(s, data, len);
	if (s->qmsg != NULL && s->data_error == SMTP_DATA_OK) {
		if (smtp_queue_msg_write(s->qmsg, data, len) < 0)
			s->data_error = SMTP_DATA_TEMP;
	}
	if (s->data_error != SMTP_DATA_OK) {
		store_spool_free(&s->spool);
		smtp_queue_msg_free(&s->qmsg);
	}
}

/* ---- the delivery job ---- */

struct target {
	uint64_t account_id;
	const char *address;        /* the account's */
	const char *folder;         /* "" for INBOX */
	bool is_requeued;           /* refused, and queued for local redelivery */
	struct store_account *acct; /* from the thread's cache, unless is_owned */
	bool is_owned;
	enum store_error err;
};

struct delivery {
	/* in */
	struct store *store;
	struct auth_service *auth;
	struct store_spool *spool;
	struct smtp_queue_msg *qmsg;
	struct smtp_envelope env;
	struct target *targets;
	size_t n_targets;
	const char **from; /* submission: the From: addresses to check, or NULL */
	size_t n_from;
	bool check_from;
	bool to_junk; /* every local copy into Junk (mailauth's verdict) */
	uint64_t account_id;
	const char *separator;
	struct arena *arena;
	struct smtp_queue_msg *redo; /* smtp_session.h */
	const char *redo_sender, *redo_account;
	struct smtp_mail_params redo_mail;
	/* out */
	char redo_id[40];         /* the local redelivery queued, or "" */
	const char *from_refused; /* an address not the sender's own */
	bool from_temp;
	int queue_rc;
	char queue_id[40];
};

static struct target *
target_get(struct delivery *d, uint64_t id, const char *address, const char *folder, size_t *cap)
{
	for (size_t i = 0; i < d->n_targets; i++)
		if (d->targets[i].account_id == id && strcmp(d->targets[i].folder, folder) == 0)
			return &d->targets[i];
	if (d->n_targets == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		struct target *v = arena_zalloc(d->arena, *cap * sizeof(*v));
		if (d->n_targets > 0)
			memcpy(v, d->targets, d->n_targets * sizeof(*v));
		d->targets = v;
	}
	struct target *t = &d->targets[d->n_targets++];
	t->account_id = id;
	t->address = arena_strdup(d->arena, address);
	t->folder = arena_strdup(d->arena, folder);
	return t;
}

static bool
check_from(struct delivery *d)
{
	enum auth_error aerr;

	if (d->n_from == 0) {
		d->from_refused = "";
		return false;
	}
	for (size_t i = 0; i < d->n_from; i++) {
		bool owned;
		if (auth_service_address_owned(d->auth, d->account_id, d->from[i], d->separator,
		                               &owned, &aerr) < 0) {
			d->from_temp = true;
			return false;
		}
		if (!owned) {
			d->from_refused = d->from[i];
			return false;
		}
	}
	return true;
}

/* store_deliver for targets [from] with err == want; mailbox by folder. */
static void
deliver_some(struct delivery *d, bool retry_inbox)
{
	struct store_delivery_target *v = arena_zalloc(d->arena, d->n_targets * sizeof(*v));
	size_t *idx = arena_alloc(d->arena, d->n_targets * sizeof(*idx));
	size_t n = 0;

	for (size_t i = 0; i < d->n_targets; i++) {
		struct target *t = &d->targets[i];
		if (t->acct == NULL)
			continue;
		if (retry_inbox && !(t->err == STORE_ERR_NOTFOUND && t->folder[0] != '\0'))
			continue;
		v[n].acct = t->acct;
		v[n].mailbox = retry_inbox || t->folder[0] == '\0' ? "INBOX" : t->folder;
		idx[n++] = i;
	}
	if (n == 0)
		return;
	store_deliver(d->spool, v, n);
	for (size_t i = 0; i < n; i++)
		d->targets[idx[i]].err = v[i].err;
}

/*
 * Some accounts (or the remote recipients' queue file) took the message
 * and some refused it (quota, a store error): SMTP has one reply for all, and 250 is owed to those
 * that have it, so the others are queued for local redelivery (the runner stores them later,
 * retrying until queue.max_age, then bounces: smtp_outbound.c). Without the copy (it failed to
 * write) the reply must be 451 instead: a duplicate for some rather than a loss for others.
 */
static void
requeue_refused(struct delivery *d, bool remote_queued)
{
	size_t stored = remote_queued, refused = 0;

	for (size_t i = 0; i < d->n_targets; i++) {
		if (d->targets[i].err == STORE_ERR_NONE)
			stored++;
		else
			refused++;
	}
	if (stored == 0 || refused == 0 || d->redo == NULL)
		return;
	struct smtp_queue_rcpt *qr = arena_zalloc(d->arena, refused * sizeof(*qr));
	size_t n = 0;
	for (size_t i = 0; i < d->n_targets; i++) {
		const struct target *t = &d->targets[i];
		bool dup = false;
		for (size_t k = 0; k < n && !dup; k++)
			dup = strcmp(qr[k].address, t->address) == 0;
		if (t->err != STORE_ERR_NONE && !dup)
			qr[n++].address = t->address;
	}
	struct smtp_envelope env = {
	        .sender = d->redo_sender,
	        .account = d->redo_account,
	        .mail = &d->redo_mail,
	        .rcpts = qr,
	        .n_rcpts = n,
	        .is_local = true,
	};
	if (smtp_queue_msg_commit(d->redo, &env, d->redo_id) < 0) {
		d->redo_id[0] = '\0';
		return;
	}
	for (size_t i = 0; i < d->n_targets; i++)
		if (d->targets[i].err != STORE_ERR_NONE)
			d->targets[i].is_requeued = true;
}

static void
delivery_work(void *arg)
{
	struct delivery *d = arg;
	enum store_error err;

	if (d->check_from && !check_from(d))
		return;
	if (d->spool != NULL && d->n_targets > 0) {
		/* The thread's cache holds SMTP_ACCOUNTS_PER_THREAD at once:
		   targets past that get handles of their own. */
		for (size_t i = 0; i < d->n_targets; i++) {
			struct target *t = &d->targets[i];
			t->is_owned = i >= SMTP_ACCOUNTS_PER_THREAD;
			if (t->is_owned
			            ? store_account_open(d->store, t->account_id, &t->acct, &err) <
			                      0
			            : (t->acct = smtp_account_get(d->store, t->account_id, &err)) ==
			                      NULL)
				t->err = err;
		}
		deliver_some(d, false);
		deliver_some(d, true); /* a sub-address folder deleted since RCPT */
		for (size_t i = 0; i < d->n_targets; i++)
			if (d->targets[i].is_owned)
				store_account_close(&d->targets[i].acct);
	}
	store_spool_free(&d->spool);
	if (d->qmsg != NULL)
		d->queue_rc = smtp_queue_msg_commit(d->qmsg, &d->env, d->queue_id);
	requeue_refused(d, d->qmsg != NULL && d->queue_rc == 0);
	smtp_queue_msg_free(&d->qmsg);
}

static void
delivery_free(struct delivery *d)
{
	store_spool_free(&d->spool);
	smtp_queue_msg_free(&d->qmsg);
	smtp_queue_msg_free(&d->redo);
	arena_free(&d->arena);
	free(d);
}

/* The error of rcpt r (STORE_ERR_NONE when every account took it). */
static enum store_error
rcpt_result(const struct delivery *d, const struct smtp_rcpt *r)
{
	if (r->is_remote)
		return d->queue_rc == 0 ? STORE_ERR_NONE : STORE_ERR_TEMP;
	for (size_t j = 0; j < r->n_accts; j++)
		for (size_t i = 0; i < d->n_targets; i++)
			if (d->targets[i].account_id == r->accts[j].account_id &&
			    strcmp(d->targets[i].folder,
			           d->to_junk ? "Junk" : r->accts[j].folder) == 0 &&
			    d->targets[i].err != STORE_ERR_NONE && !d->targets[i].is_requeued)
				return d->targets[i].err;
	return STORE_ERR_NONE;
}

static void
delivery_done(struct session *base, void *arg)
{
	struct delivery *d = arg;

	if (base == NULL) {
		delivery_free(d);
		return;
	}
	struct smtp_session *s = (struct smtp_session *)base;
	struct smtp_tx *tx = &s->tx;
	const char *id = arena_printf(s->cmd_arena, "%s.%llu", s->base.log.sid,
	                              (unsigned long long)s->messages + 1);
	size_t ok = 0;
	enum store_error first = STORE_ERR_NONE;

	if (d->from_temp) {
		smtp_reply(s, 451, "4.3.0", "Temporary failure, try again later (sid %s)",
		           s->base.log.sid);
	} else if (d->from_refused != NULL) {
		log_info("smtp", "event=from-refused from=%s", smtp_str(s, d->from_refused));
		if (d->from_refused[0] == '\0')
			smtp_reply(s, 550, "5.6.0", "The message has no From: header");
		else
			smtp_reply(s, 550, "5.7.1", "From: <%s> is not an address of %s",
			           d->from_refused, s->user.address);
	} else {
		for (size_t i = 0; i < tx->n_rcpts; i++) {
			enum store_error e = rcpt_result(d, &tx->rcpts[i]);
			if (e == STORE_ERR_NONE)
				ok++;
			else if (first == STORE_ERR_NONE)
				first = e;
			if (s->role == SMTP_ROLE_LMTP) {
				const char *who =
				        arena_printf(s->cmd_arena, "<%s>", tx->rcpts[i].path);
				if (e == STORE_ERR_NONE)
					smtp_reply(s, 250, "2.0.0", "%s Ok: delivered as %s", who,
					           id);
				else
					smtp_reply_store_error(s, e, who);
			}
			if (e != STORE_ERR_NONE)
				log_info(s->base.ops->proto, "event=rcpt-failed rcpt=%s err=\"%s\"",
				         smtp_str(s, tx->rcpts[i].address), store_error_str(e));
		}
		for (size_t i = 0; d->redo_id[0] != '\0' && i < d->n_targets; i++)
			if (d->targets[i].is_requeued)
				log_info(s->base.ops->proto,
				         "event=rcpt-requeued account=%s err=\"%s\" queue=%s",
				         d->targets[i].address, store_error_str(d->targets[i].err),
				         d->redo_id);
		if (s->role != SMTP_ROLE_LMTP) {
			/* One reply for all: 250 once every recipient has it (or,
			   refused by the store while others took it, is queued for
			   local redelivery: requeue_refused). A refusal that could
			   not be queued gets 451 for all: the client's retry
			   duplicates the message for some (RFC 5321 section 6.1
			   tolerates that), where 250 would lose it for the others. */
			if (ok == tx->n_rcpts)
				smtp_reply(s, 250, "2.0.0", "Ok: %s as %s",
				           tx->n_remote > 0 ? "queued" : "delivered", id);
			else if (ok > 0)
				smtp_reply(
				        s, 451, "4.3.0",
				        "Not stored for every recipient, try again later (sid %s)",
				        s->base.log.sid);
			else
				smtp_reply_store_error(s, first, NULL);
		}
		/* Per recipient: stored here, queued for elsewhere, or refused. */
		size_t queued = ok > 0 ? MIN(tx->n_remote, ok) : 0;
		const char *proto = s->base.ops->proto;
		if (ok > queued)
			metrics_add(METRICS_DELIVERIES_TOTAL, proto, "delivered", NULL,
			            (int64_t)(ok - queued));
		if (queued > 0)
			metrics_add(METRICS_DELIVERIES_TOTAL, proto, "queued", NULL,
			            (int64_t)queued);
		if (tx->n_rcpts > ok)
			metrics_add(METRICS_DELIVERIES_TOTAL, proto, "failed", NULL,
			            (int64_t)(tx->n_rcpts - ok));
		if (ok > 0) {
			s->messages++;
			log_info(
			        s->base.ops->proto,
			        "event=delivered id=%s from=%s rcpts=%zu failed=%zu remote=%zu%s%s",
			        id, smtp_str(s, tx->sender[0] ? tx->sender : "<>"), tx->n_rcpts,
			        tx->n_rcpts - ok, tx->n_remote, d->queue_id[0] ? " queue=" : "",
			        d->queue_id);
		}
	}
	delivery_free(d);
	smtp_tx_reset(s);
	smtp_cmd_finish(s);
}

/* ---- the checks of a held message (MX, mailauth.enabled) ---- */

static void delivery_start(struct smtp_session *s, bool to_junk);

struct mailauth_job {
	/* in */
	struct smtp_mailauth *m;
	int hold_fd;
	char *trace_top, *trace_received;
	char *nameservers, *authserv_id, *from_domain;
	unsigned actions; /* 1 << enum smtp_mailauth_action, over the recipient domains */
	struct store *store;
	struct smtp_queue *queue; /* for the redo copy, or NULL when none is wanted */
	struct smtp_queue_msg *redo;
	/* out */
	size_t n_dropped; /* Authentication-Results fields claiming to be ours */
	struct smtp_mailauth_result res;
	enum smtp_mailauth_action action; /* DELIVER, JUNK or REJECT */
	struct store_spool *spool;
	enum store_error err;
};

static void
mailauth_job_free(struct mailauth_job *j)
{
	smtp_mailauth_free(&j->m);
	if (j->hold_fd >= 0)
		close(j->hold_fd);
	store_spool_free(&j->spool);
	smtp_queue_msg_free(&j->redo);
	free(j->trace_top);
	free(j->trace_received);
	free(j->nameservers);
	free(j->authserv_id);
	free(j->from_domain);
	free(j->res.header);
	free(j);
}

/* How strict an action is: with recipients in several domains the
   strictest wins, since SMTP has one reply for all of them. */
static int
action_rank(enum smtp_mailauth_action a)
{
	return a == SMTP_MAILAUTH_REJECT ? 2 : a == SMTP_MAILAUTH_JUNK ? 1 : 0;
}

/* The spool: trace fields, Authentication-Results (above Received, so a
   reader finds this server's verdict first: RFC 8601 section 5), then the
   held message. */
static int
spool_put2(struct mailauth_job *j, const char *data, size_t len)
{
	if (j->redo != NULL && smtp_queue_msg_write(j->redo, data, len) < 0)
		smtp_queue_msg_free(&j->redo);
	return store_spool_write(j->spool, data, len, &j->err);
}

static int
mailauth_spool(struct mailauth_job *j)
{
	char *chunk = xmalloc(HOLD_BUF), *line = NULL;
	size_t line_cap = 0;
	struct buf field = {0};
	FILE *f = NULL;
	int rc = -1;

	if (store_spool_new(j->store, &j->spool, &j->err) < 0)
		goto out;
	if (j->queue != NULL)
		(void)smtp_queue_msg_new(j->queue, &j->redo);
	if (spool_put2(j, j->trace_top, strlen(j->trace_top)) < 0 ||
	    spool_put2(j, j->res.header, strlen(j->res.header)) < 0 ||
	    spool_put2(j, j->trace_received, strlen(j->trace_received)) < 0)
		goto out;
	if (lseek(j->hold_fd, 0, SEEK_SET) < 0 || (f = fdopen(dup(j->hold_fd), "r")) == NULL) {
		j->err = STORE_ERR_TEMP;
		goto out;
	}
	/* The header field by field: Authentication-Results fields claiming
	   our authserv-id came from elsewhere (a forgery, or a stale one of
	   ours) and are dropped (RFC 8601 section 5). A field is bounded by
	   smtp.max_message_size. */
	ssize_t n;
	buf_init(&field);
	while ((n = getline(&line, &line_cap, f)) > 0) {
		bool is_blank = (n == 1 && line[0] == '\n') ||
		                (n == 2 && line[0] == '\r' && line[1] == '\n');
		if (field.len > 0 && line[0] != ' ' && line[0] != '\t') {
			if (smtp_mailauth_is_our_results(field.data, field.len, j->authserv_id))
				j->n_dropped++;
			else if (spool_put2(j, field.data, field.len) < 0)
				goto out;
			buf_reset(&field);
		}
		if (is_blank) {
			if (spool_put2(j, line, (size_t)n) < 0)
				goto out;
			break;
		}
		buf_append(&field, line, (size_t)n);
	}
	if (field.len > 0 && spool_put2(j, field.data, field.len) < 0)
		goto out; /* a message that is all header */
	/* The body as it is. */
	size_t got;
	while ((got = fread(chunk, 1, HOLD_BUF, f)) > 0)
		if (spool_put2(j, chunk, got) < 0)
			goto out;
	if (ferror(f)) {
		log_error("smtp", "event=hold-failed err=\"%s\"", strerror(errno));
		j->err = STORE_ERR_TEMP;
		goto out;
	}
	rc = 0;
out:
	buf_deinit(&field);
	free(line);
	if (f != NULL)
		fclose(f);
	if (rc < 0) {
		store_spool_free(&j->spool);
		smtp_queue_msg_free(&j->redo);
	}
	free(chunk);
	return rc;
}

static void
mailauth_work(void *arg)
{
	struct mailauth_job *j = arg;

	smtp_mailauth_finish(j->m, j->nameservers, j->authserv_id, j->from_domain, &j->res);
	j->action = SMTP_MAILAUTH_DELIVER;
	if (j->res.dmarc == SMTP_DMARC_FAIL) {
		for (unsigned a = 0; a <= SMTP_MAILAUTH_REJECT; a++) {
			if (!(j->actions & (1u << a)))
				continue;
			enum smtp_mailauth_action e = (enum smtp_mailauth_action)a;
			if (e == SMTP_MAILAUTH_DMARC) /* RFC 7489 section 6.3 p= */
				e = j->res.dmarc_policy == 'r'   ? SMTP_MAILAUTH_REJECT
				    : j->res.dmarc_policy == 'q' ? SMTP_MAILAUTH_JUNK
				                                 : SMTP_MAILAUTH_DELIVER;
			if (action_rank(e) > action_rank(j->action))
				j->action = e;
		}
	}
	if (j->action != SMTP_MAILAUTH_REJECT)
		(void)mailauth_spool(j);
}

static void
mailauth_done(struct session *base, void *arg)
{
	struct mailauth_job *j = arg;
	static const char *const words[] = {"dmarc", "deliver", "junk", "reject"};

	if (base == NULL) {
		mailauth_job_free(j);
		return;
	}
	struct smtp_session *s = (struct smtp_session *)base;
	log_info(s->base.ops->proto, "event=mailauth %s from-domain=%s action=%s dropped=%zu",
	         j->res.summary, j->res.from_domain[0] ? j->res.from_domain : "-", words[j->action],
	         j->n_dropped);
	if (j->action == SMTP_MAILAUTH_REJECT) {
		/* RFC 7372 section 3.2: 5.7.26, several authentication checks
		   failed; RFC 7489 section 6.3 p=reject at the end of data. */
		smtp_reply(s, 550, "5.7.26",
		           "Message rejected: it fails the DMARC policy of %s (sid %s)",
		           j->res.from_domain, s->base.log.sid);
		metrics_add(METRICS_DELIVERIES_TOTAL, s->base.ops->proto, "failed", NULL,
		            (int64_t)s->tx.n_rcpts);
	} else if (j->spool == NULL) {
		smtp_reply_store_error(s, j->err, NULL);
	} else {
		s->spool = j->spool;
		s->redo = j->redo;
		j->spool = NULL;
		j->redo = NULL;
		delivery_start(s, j->action == SMTP_MAILAUTH_JUNK);
		mailauth_job_free(j);
		return;
	}
	mailauth_job_free(j);
	smtp_tx_reset(s);
	smtp_cmd_finish(s);
}

/* Hands the held message and its checks to the lookup pool. */
static void
mailauth_start(struct smtp_session *s)
{
	struct smtp_tx *tx = &s->tx;

	if (hold_flush(s) < 0) {
		log_error(s->base.ops->proto, "event=hold-failed err=\"%s\"", strerror(errno));
		smtp_reply_store_error(s, STORE_ERR_TEMP, NULL);
		smtp_tx_reset(s);
		smtp_cmd_done(s);
		return;
	}
	struct mailauth_job *j = xcalloc(1, sizeof(*j));
	j->m = s->mailauth;
	j->hold_fd = s->hold_fd;
	j->trace_top = s->trace_top;
	j->trace_received = s->trace_received;
	s->mailauth = NULL;
	s->hold_fd = -1;
	s->trace_top = s->trace_received = NULL;
	j->nameservers = xstrdup(s->cfg->s.nameservers);
	j->authserv_id = xstrdup(s->cfg->s.hostname);
	j->store = s->srv->store;
	j->queue = wants_redo(s) ? s->srv->queue : NULL;
	/* RFC 7489 section 6.6.1: the domain of the one author. */
	size_t n_from = 0;
	const char **from = smtp_header_from(s->cmd_arena, (const unsigned char *)s->header.data,
	                                     s->header.len, &n_from);
	if (n_from >= 1 && strrchr(from[0], '@') != NULL)
		j->from_domain = xstrdup(strrchr(from[0], '@') + 1);
	for (size_t i = 0; i < tx->n_rcpts; i++) {
		const char *at = strrchr(tx->rcpts[i].address, '@');
		j->actions |= 1u << smtp_mailauth_policy_get(&s->cfg->mailauth_policy,
		                                             at != NULL ? at + 1 : "");
	}
	session_command_wait(&s->base);
	session_job_submit(&s->base, s->srv->jobs, mailauth_work, mailauth_done, j);
}

void
smtp_message_end(struct smtp_session *s)
{
	struct smtp_tx *tx = &s->tx;

	if (s->data_error != SMTP_DATA_OK) {
		for (size_t i = 0; i < (s->role == SMTP_ROLE_LMTP ? tx->n_rcpts : 1); i++) {
			const char *who =
			        s->role == SMTP_ROLE_LMTP
			                ? arena_printf(s->cmd_arena, "<%s>", tx->rcpts[i].path)
			                : NULL;
			smtp_reply_store_error(s,
			                       s->data_error == SMTP_DATA_TOOBIG ? STORE_ERR_TOOBIG
			                                                         : STORE_ERR_TEMP,
			                       who);
		}
		smtp_tx_reset(s);
		smtp_cmd_done(s);
		return;
	}
	if (s->mailauth != NULL) {
		mailauth_start(s);
		return;
	}
	delivery_start(s, false);
}

/* The delivery job for the spool and/or queue file; to_junk puts every
   local copy into Junk (INBOX where there is none). */
static void
delivery_start(struct smtp_session *s, bool to_junk)
{
	struct smtp_tx *tx = &s->tx;
	struct delivery *d = xcalloc(1, sizeof(*d));
	size_t cap = 0;
	d->arena = arena_new(4096);
	d->store = s->srv->store;
	d->auth = s->srv->auth;
	d->spool = s->spool;
	d->qmsg = s->qmsg;
	d->to_junk = to_junk;
	d->redo = s->redo;
	s->spool = NULL;
	s->qmsg = NULL;
	s->redo = NULL;
	if (d->redo != NULL) {
		d->redo_sender = arena_strdup(d->arena, tx->sender);
		/* A bounce of submitted mail goes to the account's INBOX. */
		d->redo_account = arena_strdup(
		        d->arena, s->role == SMTP_ROLE_SUBMISSION ? s->user.address : "");
		d->redo_mail = (struct smtp_mail_params){
		        .body = tx->mail.body,
		        .smtputf8 = tx->mail.smtputf8,
		        .ret = tx->mail.ret,
		        .envid = tx->mail.envid ? arena_strdup(d->arena, tx->mail.envid) : NULL,
		};
	}
	for (size_t i = 0; i < tx->n_rcpts; i++)
		for (size_t j = 0; j < tx->rcpts[i].n_accts; j++)
			target_get(d, tx->rcpts[i].accts[j].account_id,
			           tx->rcpts[i].accts[j].address,
			           to_junk ? "Junk" : tx->rcpts[i].accts[j].folder, &cap);
	if (s->role == SMTP_ROLE_SUBMISSION) {
		d->check_from = true;
		d->account_id = s->user.account_id;
		d->separator = arena_strdup(d->arena, s->cfg->s.subaddress_separator);
		d->from = smtp_header_from(d->arena, (const unsigned char *)s->header.data,
		                           s->header.len, &d->n_from);
	}
	if (d->qmsg != NULL) {
		struct smtp_queue_rcpt *qr = arena_zalloc(d->arena, tx->n_remote * sizeof(*qr));
		size_t n = 0;
		for (size_t i = 0; i < tx->n_rcpts; i++) {
			const struct smtp_rcpt *r = &tx->rcpts[i];
			if (!r->is_remote)
				continue;
			qr[n].address = arena_strdup(d->arena, r->address);
			qr[n].notify = r->params.notify;
			qr[n].orcpt_type = r->params.orcpt_type
			                           ? arena_strdup(d->arena, r->params.orcpt_type)
			                           : NULL;
			qr[n].orcpt =
			        r->params.orcpt ? arena_strdup(d->arena, r->params.orcpt) : NULL;
			n++;
		}
		struct smtp_mail_params *mp = arena_memdup(d->arena, &tx->mail, sizeof(tx->mail));
		mp->envid = tx->mail.envid ? arena_strdup(d->arena, tx->mail.envid) : NULL;
		mp->auth = NULL;
		d->env = (struct smtp_envelope){
		        .sender = arena_strdup(d->arena, tx->sender),
		        .account = arena_strdup(d->arena, s->user.address),
		        .mail = mp,
		        .rcpts = qr,
		        .n_rcpts = n,
		};
	}
	session_command_wait(&s->base);
	session_job_submit(&s->base, s->srv->store_pool, delivery_work, delivery_done, d);
}
