/* SPDX-License-Identifier: MIT */
/*
 * session.c: the session core (session.h). net calls session_net_protocol;
 * each callback enters the session's log context and hands over to the
 * protocol's ops. The per-worker session table is a slot array owned by the
 * worker thread (thread-local): a job or wake-up carries (slot, id) and
 * finds its session again in O(1), or finds the slot reused or empty and
 * knows the session is gone. A table whose last session closed is freed, so
 * a stopped worker leaves nothing behind.
 */
#include "session/session.h"

#include <assert.h>
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "lib/cancel.h"
#include "lib/metrics.h"
#include "lib/util.h"
#include "net/jobs.h"
#include "net/net.h"
#include "net/tls.h"

struct session_event {
	struct event *ev;
	struct session *s;
	session_fn *fn;
	bool is_deferred;                  /* fired during an offloaded command */
	struct session_event *prev, *next; /* the session's events */
};

struct table {
	struct session **slots;
	uint32_t cap, used;
	uint32_t *free_slots;
	uint32_t n_free;
};

static _Thread_local struct table *worker_table;
static _Atomic uint64_t slow_callback_ms = 100;

/* ---- watchdog ---- */

void
session_watchdog_configure(uint64_t ms)
{
	slow_callback_ms = ms;
}

/* After a callback for s that began at start (time_mono_ms()): one that
   held the loop too long is logged in s's context (sid, ip, user). */
static void
watchdog_check(struct session *s, uint64_t start, const char *callback)
{
	uint64_t limit = slow_callback_ms, ms = time_mono_ms() - start;

	if (limit == 0 || ms < limit)
		return;
	log_warn(s->ops->proto, "event=slow-callback callback=%s ms=%llu cmd=%s", callback,
	         (unsigned long long)ms, s->cmd[0] != '\0' ? s->cmd : "-");
}

static uint32_t
table_add(struct session *s)
{
	struct table *t = worker_table;

	if (t == NULL)
		t = worker_table = xcalloc(1, sizeof(*t));
	uint32_t slot;
	if (t->n_free > 0) {
		slot = t->free_slots[--t->n_free];
	} else {
		if (t->cap == UINT32_MAX)
			abort();
		uint32_t cap = t->cap ? t->cap * 2 : 64;
		t->slots = xrealloc(t->slots, cap * sizeof(*t->slots));
		t->free_slots = xrealloc(t->free_slots, cap * sizeof(*t->free_slots));
		for (uint32_t i = cap; i > t->cap; i--)
			t->free_slots[t->n_free++] = i - 1;
		memset(t->slots + t->cap, 0, (cap - t->cap) * sizeof(*t->slots));
		t->cap = cap;
		slot = t->free_slots[--t->n_free];
	}
	t->slots[slot] = s;
	t->used++;
	return slot;
}

static void
table_remove(struct session *s)
{
	struct table *t = worker_table;

	t->slots[s->slot] = NULL;
	t->free_slots[t->n_free++] = s->slot;
	if (--t->used == 0) {
		free(t->slots);
		free(t->free_slots);
		free(t);
		worker_table = NULL;
	}
}

struct session *
session_lookup(struct session_ref ref)
{
	struct table *t = worker_table;

	if (t == NULL || ref.slot >= t->cap || t->slots[ref.slot] == NULL ||
	    t->slots[ref.slot]->id != ref.id)
		return NULL;
	return t->slots[ref.slot];
}

struct session_ref
session_ref_get(const struct session *s)
{
	return (struct session_ref){s->slot, s->id};
}

/* Every live session, oldest first, for `tern sessions` and `tern
   status`: linked in at session_init, out at session_deinit. The lock also
   guards each session's log.user while it changes (session_set_user), so a
   listing on another thread reads whole names. */
static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
static struct session *all_head, *all_tail;

/* Kicks travel as broadcasts (net_server_broadcast) whose message the core
   recognises by address: a live kick is in this list until released, so
   another module's message is never mistaken for one. */
struct kick {
	char user[192];
	struct kick *next;
};
static pthread_mutex_t kicks_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kick *kicks;

static bool
is_kick(void *msg)
{
	bool found = false;

	pthread_mutex_lock(&kicks_lock);
	for (struct kick *k = kicks; k != NULL && !found; k = k->next)
		found = k == msg;
	pthread_mutex_unlock(&kicks_lock);
	return found;
}

void
session_init(struct session *s, struct net_conn *conn, const struct session_ops *ops)
{
	s->conn = conn;
	s->ops = ops;
	/* Random, so sids do not reveal connection counts. Lookups go by
	   (slot, id), so two live sessions with one id (1 in 2^32) would
	   only share a log prefix, never each other's jobs. */
	if (RAND_bytes((unsigned char *)&s->id, sizeof(s->id)) != 1)
		s->id = (uint32_t)(uintptr_t)s;
	s->slot = table_add(s);
	snprintf(s->log.sid, sizeof(s->log.sid), "%08x", s->id);
	snprintf(s->log.proto, sizeof(s->log.proto), "%s", ops->proto);
	snprintf(s->log.ip, sizeof(s->log.ip), "%s", net_conn_peer(conn));
	buf_init(&s->line);
	s->started_ms = time_mono_ms();
	pthread_mutex_lock(&all_lock);
	s->all_prev = all_tail;
	if (all_tail != NULL)
		all_tail->all_next = s;
	else
		all_head = s;
	all_tail = s;
	pthread_mutex_unlock(&all_lock);
	metrics_add(METRICS_SESSIONS_TOTAL, ops->proto, NULL, NULL, 1);
	metrics_add(METRICS_SESSIONS_ACTIVE, ops->proto, NULL, NULL, 1);
}

static int
user_count_cmp(const void *a, const void *b)
{
	const struct session_user_count *x = a, *y = b;

	if (x->sessions != y->sessions)
		return x->sessions > y->sessions ? -1 : 1;
	return strcmp(x->user, y->user);
}

/* O(sessions), only when asked: nothing is counted at login. */
size_t
session_users_top(struct session_user_count *out, size_t max)
{
	size_t n = 0, cap = 64, k = 0;
	struct session_user_count *all = xmalloc(cap * sizeof(*all));

	pthread_mutex_lock(&all_lock);
	for (struct session *s = all_head; s != NULL; s = s->all_next) {
		if (s->log.user[0] == '\0')
			continue;
		if (n == cap)
			all = xrealloc(all, (cap *= 2) * sizeof(*all));
		snprintf(all[n].user, sizeof(all[n].user), "%s", s->log.user);
		all[n++].sessions = 1;
	}
	pthread_mutex_unlock(&all_lock);
	qsort(all, n, sizeof(*all), user_count_cmp); /* by name: equal names adjacent */
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && strcmp(all[k - 1].user, all[i].user) == 0)
			all[k - 1].sessions++;
		else
			all[k++] = all[i];
	}
	qsort(all, k, sizeof(*all), user_count_cmp);
	k = MIN(k, max);
	memcpy(out, all, k * sizeof(*out));
	free(all);
	return k;
}

void
session_set_user(struct session *s, const char *user)
{
	pthread_mutex_lock(&all_lock);
	log_ctx_set_user(&s->log, user, strlen(user));
	pthread_mutex_unlock(&all_lock);
	if (s->login_deadline != NULL)
		net_conn_set_read_limit(s->conn, 0);
	session_event_free(&s->login_deadline);
}

static void
login_deadline_passed(struct session *s)
{
	if (s->is_closing)
		return;
	if (s->is_busy && !s->is_interruptible) {
		/* A login may be in flight: if it succeeds the deadline goes. */
		session_event_add(s->login_deadline, 100);
		return;
	}
	log_info(s->ops->proto, "event=login-deadline");
	s->ops->timeout(s);
}

void
session_login_deadline(struct session *s, uint64_t ms)
{
	if (s->login_deadline == NULL)
		s->login_deadline = session_event_new(s, login_deadline_passed);
	session_event_add(s->login_deadline, ms);
	net_conn_set_read_limit(s->conn, SESSION_READ_LIMIT_BEFORE_LOGIN);
}

const struct log_ctx *
session_log_enter(struct session *s)
{
	return log_ctx_swap(&s->log);
}

void
session_log_leave(const struct log_ctx *prev)
{
	log_ctx_swap(prev);
}

/* What auth needs to know of the connection (TLS, channel bindings,
   a verified client certificate). */
void
session_auth_conn(struct session *s, enum auth_protocol proto, struct auth_conn *conn)
{
	void *ssl = net_conn_ssl(s->conn);

	memset(conn, 0, sizeof(*conn));
	conn->proto = proto;
	snprintf(conn->ip, sizeof(conn->ip), "%s", net_conn_peer(s->conn));
	conn->is_tls = net_conn_is_tls(s->conn);
	conn->is_loopback = net_conn_is_loopback(s->conn);
	if (ssl == NULL)
		return;
	conn->has_cb_exporter = net_tls_cb_exporter(ssl, conn->cb_exporter) == 0;
	conn->cb_endpoint_len = sizeof(conn->cb_endpoint);
	if (net_tls_cb_endpoint(ssl, conn->cb_endpoint, &conn->cb_endpoint_len) < 0)
		conn->cb_endpoint_len = 0;
	if (net_tls_peer_email(ssl, conn->cert_identity, sizeof(conn->cert_identity)) < 0)
		conn->cert_identity[0] = '\0';
}

/* ---- net callbacks ---- */

/* A connection refused while the server is short of memory: told to come
   back later, then closed, never handed to its protocol. */
static void refused_free(struct session *s);
static const struct session_ops refused_ops = {.proto = "refused", .free = refused_free};

static void
refused_free(struct session *s)
{
	session_deinit(s);
	free(s);
}

static struct session *
refuse(struct net_conn *conn, const struct session_service *svc)
{
	struct session *s = xcalloc(1, sizeof(*s));

	session_init(s, conn, &refused_ops);
	const struct log_ctx *prev = session_log_enter(s);
	log_warn("net", "event=refused reason=memory port=%u", net_conn_local_port(conn));
	session_log_leave(prev);
	net_conn_write(conn, svc->busy_reply, strlen(svc->busy_reply));
	session_close(s);
	return s;
}

static void *
net_accept(struct net_conn *conn, void *arg)
{
	const struct session_service *svc = arg;
	const struct log_ctx *prev = log_ctx_swap(NULL);
	struct session *s;

	if (svc->busy_reply != NULL && net_server_is_memory_short(net_conn_server(conn)))
		s = refuse(conn, svc);
	else
		s = svc->open(conn, svc->arg);
	log_ctx_swap(prev);
	return s;
}

static void
net_input(void *arg)
{
	struct session *s = arg;
	const struct log_ctx *prev = session_log_enter(s);
	uint64_t start = time_mono_ms();

	if (!s->is_closing && !s->is_offloaded)
		s->ops->input(s);
	watchdog_check(s, start, "input");
	session_log_leave(prev);
}

static void
net_drained(void *arg)
{
	struct session *s = arg;
	session_fn *fn = s->on_drain;

	if (fn == NULL || s->is_closing || s->is_offloaded)
		return;
	const struct log_ctx *prev = session_log_enter(s);
	uint64_t start = time_mono_ms();
	s->on_drain = NULL;
	fn(s);
	watchdog_check(s, start, "drained");
	session_log_leave(prev);
}

static void
net_timeout(void *arg)
{
	struct session *s = arg;
	const struct log_ctx *prev = session_log_enter(s);
	uint64_t start = time_mono_ms();

	if (s->is_offloaded)
		s->has_timeout = true; /* delivered when the command is back */
	else if (!s->is_closing)
		s->ops->timeout(s);
	watchdog_check(s, start, "timeout");
	session_log_leave(prev);
}

static void
net_shutdown(void *arg)
{
	struct session *s = arg;
	const struct log_ctx *prev = session_log_enter(s);

	session_stop(s, SESSION_STOP_SHUTDOWN);
	session_log_leave(prev);
}

static void
net_notify(void *arg, void *msg)
{
	struct session *s = arg;

	if (s->is_closing)
		return;
	const struct log_ctx *prev = session_log_enter(s);
	uint64_t start = time_mono_ms();
	if (is_kick(msg)) {
		if (s->log.user[0] != '\0' &&
		    strcmp(s->log.user, ((struct kick *)msg)->user) == 0) {
			log_info(s->ops->proto, "event=kicked");
			session_stop(s, SESSION_STOP_KICKED);
		}
	} else if (s->ops->notify != NULL) {
		s->ops->notify(s, msg);
	}
	watchdog_check(s, start, "notify");
	session_log_leave(prev);
}

static void
net_closed(void *arg)
{
	struct session *s = arg;
	/* The context lives in s, which ops->free releases. */
	struct log_ctx ctx = s->log;
	const struct log_ctx *prev = log_ctx_swap(&ctx);

	s->is_closing = true;
	table_remove(s); /* a job finishing from now on finds no session */
	if (s->is_offloaded) {
		/* A pool thread is using s: it goes when the command is back. */
		s->is_gone = true;
		atomic_store(&s->cancel, true);
	} else {
		s->ops->free(s);
	}
	session_log_leave(prev);
}

void
session_deinit(struct session *s)
{
	struct session_event *e = s->events;

	while (e != NULL) {
		struct session_event *next = e->next;
		event_free(e->ev);
		free(e);
		e = next;
	}
	s->events = NULL;
	s->delay = NULL;
	s->login_deadline = NULL;
	buf_deinit(&s->line);
	metrics_add(METRICS_SESSIONS_ACTIVE, s->ops->proto, NULL, NULL, -1);
	pthread_mutex_lock(&all_lock);
	if (s->all_prev != NULL)
		s->all_prev->all_next = s->all_next;
	else
		all_head = s->all_next;
	if (s->all_next != NULL)
		s->all_next->all_prev = s->all_prev;
	else
		all_tail = s->all_prev;
	s->all_prev = s->all_next = NULL;
	pthread_mutex_unlock(&all_lock);
}

size_t
session_list(struct session_info *out, size_t max)
{
	uint64_t now = time_mono_ms();
	size_t n = 0;

	pthread_mutex_lock(&all_lock);
	for (struct session *s = all_head; s != NULL; s = s->all_next, n++) {
		if (n >= max)
			continue;
		struct session_info *i = &out[n];
		snprintf(i->sid, sizeof(i->sid), "%s", s->log.sid);
		snprintf(i->proto, sizeof(i->proto), "%s", s->log.proto);
		snprintf(i->ip, sizeof(i->ip), "%s", s->log.ip);
		snprintf(i->user, sizeof(i->user), "%s", s->log.user);
		i->age_s = (now - s->started_ms) / 1000;
	}
	pthread_mutex_unlock(&all_lock);
	return n;
}

static void
kick_release(void *msg)
{
	pthread_mutex_lock(&kicks_lock);
	for (struct kick **kp = &kicks; *kp != NULL; kp = &(*kp)->next)
		if (*kp == msg) {
			*kp = ((struct kick *)msg)->next;
			break;
		}
	pthread_mutex_unlock(&kicks_lock);
	free(msg);
}

void
session_kick(struct net_conn *conn, const char *user)
{
	struct kick *k = xcalloc(1, sizeof(*k));

	snprintf(k->user, sizeof(k->user), "%s", user);
	pthread_mutex_lock(&kicks_lock);
	k->next = kicks;
	kicks = k;
	pthread_mutex_unlock(&kicks_lock);
	net_server_broadcast(net_conn_server(conn), k, kick_release);
}

const struct net_protocol session_net_protocol = {
        .name = "session",
        .accept = net_accept,
        .input = net_input,
        .drained = net_drained,
        .timeout = net_timeout,
        .shutdown = net_shutdown,
        .closed = net_closed,
        .notify = net_notify,
};

/* ---- reading ---- */

struct evbuffer *
session_input(struct session *s)
{
	return net_conn_input(s->conn);
}

enum session_line
session_read_line(struct session *s, size_t max)
{
	struct evbuffer *in = net_conn_input(s->conn);
	size_t eol_len;

	if (s->is_discarding) {
		struct evbuffer_ptr lf = evbuffer_search(in, "\n", 1, NULL);
		if (lf.pos < 0) {
			evbuffer_drain(in, evbuffer_get_length(in));
			return SESSION_LINE_MORE;
		}
		evbuffer_drain(in, (size_t)lf.pos + 1);
		s->is_discarding = false;
		return SESSION_LINE_TOOLONG;
	}
	struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
	if (eol.pos < 0) {
		/* max + 1: a CR may be waiting for its LF. */
		if (evbuffer_get_length(in) > max + 1) {
			evbuffer_drain(in, evbuffer_get_length(in));
			s->is_discarding = true;
		}
		return SESSION_LINE_MORE;
	}
	if ((size_t)eol.pos > max) {
		evbuffer_drain(in, (size_t)eol.pos + eol_len);
		return SESSION_LINE_TOOLONG;
	}
	buf_reset(&s->line);
	char *p = buf_reserve(&s->line, (size_t)eol.pos + 1);
	evbuffer_remove(in, p, (size_t)eol.pos);
	p[eol.pos] = '\0';
	buf_advance(&s->line, (size_t)eol.pos);
	evbuffer_drain(in, eol_len);
	return SESSION_LINE_OK;
}

size_t
session_read_bytes(struct session *s, size_t max, session_sink_fn *sink, void *arg)
{
	struct evbuffer *in = net_conn_input(s->conn);
	size_t done = 0;

	while (done < max) {
		struct evbuffer_iovec vec;
		if (evbuffer_peek(in, -1, NULL, &vec, 1) < 1 || vec.iov_len == 0)
			break;
		size_t n = MIN(vec.iov_len, max - done);
		sink(arg, vec.iov_base, n);
		evbuffer_drain(in, n);
		done += n;
	}
	return done;
}

/* ---- commands ---- */

void
session_command_begin(struct session *s, const char *name)
{
	if (name != NULL) {
		size_t n = 0;
		while (n < sizeof(s->cmd) - 1 &&
		       (isalnum((unsigned char)name[n]) || name[n] == '-' || name[n] == '_')) {
			s->cmd[n] = name[n];
			n++;
		}
		s->cmd[n] = '\0';
	}
	s->is_busy = true;
	s->is_waiting = false;
	s->is_interruptible = false;
}

void
session_command_wait(struct session *s)
{
	s->is_waiting = true;
	s->is_interruptible = false;
	net_conn_pause_input(s->conn, true);
}

void
session_command_wait_client(struct session *s)
{
	s->is_waiting = false;
	s->is_interruptible = true;
	net_conn_pause_input(s->conn, false);
	if (s->has_stop) {
		s->has_stop = false;
		s->ops->stop(s, s->stop_why);
	}
}

void
session_count_login(struct session *s, bool ok, const char *mech, const char *reason)
{
	int m = mech != NULL ? auth_mech_parse(mech) : -1;
	/* Only known names become labels: a client's mechanism string is not. */
	const char *label = "other";

	if (m >= 0)
		label = auth_mech_name((enum auth_mech)m);
	else if (mech != NULL && (strcmp(mech, "USER") == 0 || strcmp(mech, "APOP") == 0))
		label = mech;
	metrics_add(METRICS_LOGINS_TOTAL, s->ops->proto, ok ? "ok" : "failed", label, 1);
	if (!ok && reason != NULL && strcmp(reason, "blocked") == 0)
		metrics_add(METRICS_THROTTLED_TOTAL, s->ops->proto, NULL, NULL, 1);
	if (ok && net_conn_is_tls(s->conn))
		metrics_add(METRICS_TLS_TOTAL, SSL_get_version(net_conn_ssl(s->conn)), NULL, NULL,
		            1);
}

void
session_command_name(struct session *s, const char *name)
{
	if (s->cmd_name != NULL)
		return; /* a later step of the same command (a SASL response) */
	s->cmd_name = name;
	s->cmd_start_us = metrics_now_us();
}

void
session_command_end(struct session *s)
{
	bool was_waiting = s->is_waiting;

	if (s->cmd_name != NULL) {
		metrics_observe(METRICS_COMMAND_SECONDS, s->ops->proto, s->cmd_name,
		                metrics_now_us() - s->cmd_start_us);
		s->cmd_name = NULL;
	}

	s->is_busy = false;
	s->is_waiting = false;
	s->is_interruptible = false;
	s->on_drain = NULL;
	if (s->has_stop && !s->is_closing) {
		s->has_stop = false;
		s->ops->stop(s, s->stop_why);
		return;
	}
	if (was_waiting && !s->is_closing)
		net_conn_pause_input(s->conn, false);
}

void
session_command_finish(struct session *s)
{
	session_command_end(s);
	if (!s->is_closing)
		s->ops->input(s);
}

void
session_resume_on_drain(struct session *s, session_fn *fn)
{
	s->on_drain = fn;
}

static void
delay_fired(struct session *s)
{
	session_fn *fn = s->on_delay;

	s->on_delay = NULL;
	if (fn != NULL && !s->is_closing)
		fn(s);
}

void
session_delay(struct session *s, uint64_t ms, session_fn *fn)
{
	if (s->delay == NULL)
		s->delay = session_event_new(s, delay_fired);
	s->on_delay = fn;
	session_event_add(s->delay, ms);
}

/* ---- jobs ---- */

struct session_job {
	struct session_ref ref;
	struct log_ctx log;
	session_job_work_fn *work;
	session_job_done_fn *done;
	void *arg;
};

static void
job_work(void *arg)
{
	struct session_job *j = arg;
	const struct log_ctx *prev = log_ctx_swap(&j->log);

	j->work(j->arg);
	log_ctx_swap(prev);
}

static void
job_done(void *arg)
{
	struct session_job *j = arg;
	struct session *s = session_lookup(j->ref);
	const struct log_ctx *prev = log_ctx_swap(s != NULL ? &s->log : &j->log);
	uint64_t start = time_mono_ms();

	j->done(s != NULL && !s->is_closing ? s : NULL, j->arg);
	if (s != NULL)
		watchdog_check(s, start, "job-done");
	log_ctx_swap(prev);
	free(j);
}

void
session_job_submit(struct session *s, struct net_jobs *pool, session_job_work_fn *work,
                   session_job_done_fn *done, void *arg)
{
	struct session_job *j = xmalloc(sizeof(*j));

	j->ref = session_ref_get(s);
	j->log = s->log;
	j->work = work;
	j->done = done;
	j->arg = arg;
	net_jobs_submit(pool, net_conn_base(s->conn), job_work, job_done, j);
}

/* ---- commands off the loop ---- */

struct offload {
	struct session *s; /* pinned: net_closed leaves it to offload_done */
	session_fn *work, *done;
};

static void
offload_work(void *arg)
{
	struct offload *o = arg;
	const struct log_ctx *prev = log_ctx_swap(&o->s->log);

	/* Whatever the command calls polls s->cancel: SQLite statements
	   below are interrupted when it is set (store/db.c). */
	cancel_scope_set(&o->s->cancel);
	o->work(o->s);
	cancel_scope_set(NULL);
	log_ctx_swap(prev);
}

/* On the worker (or, after a shutdown stopped the loops, on the thread
   freeing the pool): hands the session back to the protocol, or frees it
   when its connection went meanwhile. */
static void
offload_done(void *arg)
{
	struct offload *o = arg;
	struct session *s = o->s;
	session_fn *done = o->done;

	free(o);
	s->is_offloaded = false;
	if (s->is_gone) {
		struct log_ctx ctx = s->log;
		const struct log_ctx *prev = log_ctx_swap(&ctx);
		s->ops->free(s);
		log_ctx_swap(prev);
		return;
	}
	const struct log_ctx *prev = session_log_enter(s);
	uint64_t start = time_mono_ms();
	done(s);
	/* What fired meanwhile, now that the protocol's state is back. */
	for (struct session_event *e = s->events; e != NULL; e = e->next)
		if (e->is_deferred) {
			e->is_deferred = false;
			event_active(e->ev, EV_READ, 0);
		}
	if (s->has_timeout && !s->is_offloaded && !s->is_closing) {
		s->has_timeout = false;
		s->ops->timeout(s);
	}
	watchdog_check(s, start, "job-done");
	session_log_leave(prev);
}

void
session_command_offload(struct session *s, struct net_jobs *pool, session_fn *work,
                        session_fn *done)
{
	struct offload *o = xmalloc(sizeof(*o));

	assert(s->is_busy && !s->is_offloaded);
	o->s = s;
	o->work = work;
	o->done = done;
	session_command_wait(s);
	s->is_offloaded = true;
	atomic_store(&s->cancel, false);
	net_jobs_submit(pool, net_conn_base(s->conn), offload_work, offload_done, o);
}

bool
session_memory_is_short(struct session *s)
{
	return net_server_is_memory_short(net_conn_server(s->conn));
}

bool
session_is_cancelled(const struct session *s)
{
	return atomic_load(&s->cancel);
}

/* ---- events ---- */

static void
event_fired(evutil_socket_t fd, short what, void *arg)
{
	struct session_event *e = arg;
	struct session *s = e->s; /* fn may free e */

	if (s->is_offloaded) {
		/* The protocol's state is the pool thread's until it is back. */
		e->is_deferred = true;
		return;
	}
	const struct log_ctx *prev = session_log_enter(s);
	uint64_t start = time_mono_ms();

	e->fn(s);
	watchdog_check(s, start, "event");
	session_log_leave(prev);
}

struct session_event *
session_event_new(struct session *s, session_fn *fn)
{
	struct session_event *e = xcalloc(1, sizeof(*e));
	struct session_event **head = &s->events;

	e->ev = event_new(net_conn_base(s->conn), -1, 0, event_fired, e);
	e->s = s;
	e->fn = fn;
	e->next = *head;
	if (*head != NULL)
		(*head)->prev = e;
	*head = e;
	return e;
}

void
session_event_activate(struct session_event *e)
{
	event_active(e->ev, EV_READ, 0);
}

void
session_event_add(struct session_event *e, uint64_t ms)
{
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

	event_add(e->ev, &tv);
}

void
session_event_free(struct session_event **ep)
{
	struct session_event *e = *ep;

	if (e == NULL)
		return;
	*ep = NULL;
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		e->s->events = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	event_free(e->ev);
	free(e);
}

/* ---- ending ---- */

void
session_stop(struct session *s, enum session_stop why)
{
	if (s->is_closing)
		return;
	if (s->is_offloaded && why != SESSION_STOP_SHUTDOWN)
		atomic_store(&s->cancel, true); /* revoked or kicked: at once */
	if (s->is_busy && !s->is_interruptible) {
		/* A command in flight finishes first; session_command_end
		   delivers the stop (the first reason given is kept). */
		if (!s->has_stop) {
			s->has_stop = true;
			s->stop_why = why;
		}
		return;
	}
	s->ops->stop(s, why);
}

void
session_close(struct session *s)
{
	if (s->is_closing)
		return;
	s->is_closing = true;
	net_conn_close(s->conn);
}
