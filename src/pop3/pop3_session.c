/* SPDX-License-Identifier: MIT */
/*
 * pop3_session.c: the POP3 side of a session: greeting, the input loop, the
 * command table with each command's states, replies, and the endings
 * (QUIT's UPDATE is in pop3_cmd.c; timeout, shutdown and revocation here,
 * which never remove anything). The session core (session/session.h) runs
 * the lifecycle, the log context and jobs.
 */
#include "pop3/pop3_session.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "net/net.h"
#include "pop3/pop3_lock.h"

/* RFC 2449 section 4: command lines of at least 255 octets; SASL responses
   (an OAUTHBEARER token) need more. */
#define MAX_COMMAND_LINE 512
#define MAX_SASL_LINE    (64 * 1024)

static const struct session_ops pop3_session_ops;

struct pop3_server *
pop3_server_new(const struct pop3_settings *settings, struct auth_service *auth,
                struct net_jobs *auth_pool, bool tls_available)
{
	struct pop3_server *srv = xcalloc(1, sizeof(*srv));
	pthread_mutex_t *lock = xmalloc(sizeof(*lock));

	pthread_mutex_init(lock, NULL);
	srv->lock = lock;
	srv->settings = *settings;
	srv->auth = auth;
	srv->auth_pool = auth_pool;
	srv->tls_available = tls_available;
	return srv;
}

void
pop3_server_set_store(struct pop3_server *srv, struct store *store, struct net_jobs *store_pool)
{
	srv->store = store;
	srv->store_pool = store_pool;
}

void
pop3_server_reload(struct pop3_server *srv, const struct pop3_settings *settings,
                   bool tls_available)
{
	pthread_mutex_lock(srv->lock);
	srv->settings = *settings;
	srv->tls_available = tls_available;
	pthread_mutex_unlock(srv->lock);
}

void
pop3_server_free(struct pop3_server **srvp)
{
	struct pop3_server *srv = *srvp;

	if (srv == NULL)
		return;
	*srvp = NULL;
	pop3_lock_cleanup();
	pthread_mutex_destroy(srv->lock);
	free(srv->lock);
	free(srv);
}

/* ---- replies ---- */

static void
reply(struct pop3_session *s, const char *prefix, const char *fmt, va_list ap)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, prefix);
	buf_vprintf(&b, fmt, ap);
	if (log_enabled(LOG_LEVEL_DEBUG))
		log_debug("pop3", "event=send line=%s", log_str(s->arena, b.data, b.len));
	buf_append(&b, "\r\n", 2);
	size_t len = b.len;
	net_conn_write_take(s->base.conn, buf_steal(&b), len);
}

void
pop3_reply_ok(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply(s, "+OK ", fmt, ap);
	va_end(ap);
}

void
pop3_reply_err(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply(s, "-ERR ", fmt, ap);
	va_end(ap);
}

void
pop3_reply_line(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply(s, "", fmt, ap);
	va_end(ap);
}

void
pop3_session_end(struct pop3_session *s, const char *line)
{
	if (s->base.is_closing)
		return;
	net_conn_printf(s->base.conn, "%s\r\n", line);
	session_close(&s->base);
}

/* ---- lifecycle ---- */

static struct session *
pop3_open(struct net_conn *conn, void *arg)
{
	struct pop3_server *srv = arg;
	struct pop3_session *s = xcalloc(1, sizeof(*s));

	session_init(&s->base, conn, &pop3_session_ops);
	s->srv = srv;
	pthread_mutex_lock(srv->lock);
	s->settings = srv->settings;
	pthread_mutex_unlock(srv->lock);
	s->arena = arena_new(2048);
	s->state = POP3_AUTHORIZATION;
	net_conn_set_timeout(conn, s->settings.login_timeout_ms);
	session_login_deadline(&s->base, s->settings.login_timeout_ms);
	const struct log_ctx *prev = session_log_enter(&s->base);
	log_info("pop3", "event=connect port=%u tls=%s", net_conn_local_port(conn),
	         net_conn_is_tls(conn) ? "yes" : "no");
	if (auth_service_apop_offered(srv->auth)) {
		/* RFC 1939 section 7: the greeting's msg-id is APOP's timestamp;
		   the sid makes it unique. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(s->apop_timestamp, sizeof(s->apop_timestamp), "<%s.%lld.%ld@tern>",
		         s->base.log.sid, (long long)ts.tv_sec, ts.tv_nsec);
		pop3_reply_ok(s, "tern POP3 ready %s", s->apop_timestamp);
	} else {
		pop3_reply_ok(s, "tern POP3 ready");
	}
	session_log_leave(prev);
	return &s->base;
}

const struct session_service *
pop3_server_service(struct pop3_server *srv)
{
	if (srv->service.open == NULL)
		/* RFC 3206 4: SYS/TEMP, a temporary system problem. */
		srv->service = (struct session_service){
		        .open = pop3_open,
		        .arg = srv,
		        .busy_reply =
		                "-ERR [SYS/TEMP] Server short of memory, try again later\r\n"};
	return &srv->service;
}

static void
pop3_timeout(struct session *base)
{
	struct pop3_session *s = (struct pop3_session *)base;

	log_info("pop3", "event=timeout state=%d", s->state);
	pop3_session_end(s, "-ERR Autologout; idle for too long");
}

/* Nothing is removed: UPDATE happens only at QUIT (RFC 1939 section 6). */
static void
pop3_stop(struct session *base, enum session_stop why)
{
	struct pop3_session *s = (struct pop3_session *)base;

	pop3_session_end(s, why == SESSION_STOP_REVOKED
	                            ? "-ERR [AUTH] POP3 access has been disabled for this account"
	                    : why == SESSION_STOP_KICKED
	                            ? "-ERR [SYS/PERM] Disconnected by an administrator"
	                            : "-ERR [SYS/TEMP] Server shutting down");
}

static void
pop3_notify(struct session *base, void *msg)
{
	struct pop3_session *s = (struct pop3_session *)base;

	if (s->state == POP3_AUTHORIZATION || !auth_changes_revokes(msg, &s->id, AUTH_PROTO_POP3))
		return;
	log_info("pop3", "event=access-revoked");
	session_stop(&s->base, SESSION_STOP_REVOKED);
}

void
pop3_session_unlock(struct pop3_session *s)
{
	if (s->holds_lock) {
		pop3_lock_release(s->id.account_id);
		s->holds_lock = false;
	}
}

static void
pop3_free(struct session *base)
{
	struct pop3_session *s = (struct pop3_session *)base;

	log_info("pop3", "event=disconnect cmds=%llu", (unsigned long long)s->commands);
	pop3_session_unlock(s);
	store_reader_free(&s->reader);
	auth_sasl_free(&s->sasl);
	pop3_maildrop_close(&s->md);
	arena_free(&s->arena);
	explicit_bzero(&s->id, sizeof(s->id));
	explicit_bzero(s->user, sizeof(s->user));
	session_deinit(&s->base);
	free(s);
}

/* ---- commands ---- */

enum { AUTHZ = 1 << POP3_AUTHORIZATION, TRANS = 1 << POP3_TRANSACTION };

static const struct {
	const char *keyword;
	pop3_cmd_fn *fn;
	unsigned states;
} commands[] = {
        {"USER", pop3_cmd_user, AUTHZ},         {"PASS", pop3_cmd_pass, AUTHZ},
        {"APOP", pop3_cmd_apop, AUTHZ},         {"AUTH", pop3_cmd_auth, AUTHZ},
        {"STLS", pop3_cmd_stls, AUTHZ},         {"UTF8", pop3_cmd_utf8, AUTHZ},
        {"CAPA", pop3_cmd_capa, AUTHZ | TRANS}, {"LANG", pop3_cmd_lang, AUTHZ | TRANS},
        {"QUIT", pop3_cmd_quit, AUTHZ | TRANS}, {"NOOP", pop3_cmd_noop, TRANS},
        {"STAT", pop3_cmd_stat, TRANS},         {"LIST", pop3_cmd_list, TRANS},
        {"UIDL", pop3_cmd_uidl, TRANS},         {"RETR", pop3_cmd_retr, TRANS},
        {"TOP", pop3_cmd_top, TRANS},           {"DELE", pop3_cmd_dele, TRANS},
        {"RSET", pop3_cmd_rset, TRANS},
};

static void
command_end(struct pop3_session *s)
{
	s->on_line = NULL;
	arena_reset(s->arena);
	session_command_end(&s->base);
}

void
pop3_command_finish(struct pop3_session *s)
{
	command_end(s);
	if (!s->base.is_closing)
		s->base.ops->input(&s->base);
}

void
pop3_read_line(struct pop3_session *s, pop3_line_fn *fn)
{
	s->on_line = fn;
	session_command_wait_client(&s->base);
}

static void
handle_result(struct pop3_session *s, bool done)
{
	if (done)
		command_end(s);
	else if (s->on_line == NULL)
		session_command_wait(&s->base);
	/* else: waiting for the client's next line */
}

static void
bad_command(struct pop3_session *s, const char *why)
{
	pop3_reply_err(s, "%s", why);
	if (++s->bad_in_a_row >= s->settings.max_bad_commands) {
		log_info("pop3", "event=too-many-errors");
		pop3_session_end(s, "-ERR Too many invalid commands");
	}
}

static void
dispatch(struct pop3_session *s, char *line, size_t len)
{
	struct pop3_command cmd;
	const char *error;

	s->commands++;
	if (pop3_command_parse(line, len, &cmd, &error) < 0) {
		bad_command(s, error);
		return;
	}
	for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
		if (strcmp(commands[i].keyword, cmd.keyword) != 0)
			continue;
		if (!(commands[i].states & (1u << s->state))) {
			bad_command(s, s->state == POP3_AUTHORIZATION ? "Not logged in"
			                                              : "Already logged in");
			return;
		}
		s->bad_in_a_row = 0;
		session_command_name(&s->base, commands[i].keyword);
		session_command_begin(&s->base, cmd.keyword);
		handle_result(s, commands[i].fn(s, &cmd));
		return;
	}
	bad_command(s, "Unknown command");
}

static void
pop3_input(struct session *base)
{
	struct pop3_session *s = (struct pop3_session *)base;
	struct buf *line = &s->base.line;

	while (!s->base.is_closing && !s->base.is_waiting) {
		if (s->base.is_busy && s->on_line == NULL)
			return; /* a command's own callbacks continue it */
		size_t max = s->on_line != NULL ? MAX_SASL_LINE : MAX_COMMAND_LINE;
		enum session_line st = session_read_line(&s->base, max);
		if (st == SESSION_LINE_MORE)
			return;
		if (s->on_line != NULL) {
			pop3_line_fn *fn = s->on_line;
			s->on_line = NULL;
			session_command_begin(&s->base, NULL);
			if (st == SESSION_LINE_TOOLONG) {
				auth_sasl_free(&s->sasl);
				pop3_reply_err(s, "Line too long");
				command_end(s);
				continue;
			}
			bool done = fn(s, line->data, line->len);
			explicit_bzero(line->data, line->len); /* a SASL response */
			handle_result(s, done);
			continue;
		}
		if (st == SESSION_LINE_TOOLONG) {
			s->commands++;
			bad_command(s, "Line too long");
			continue;
		}
		dispatch(s, line->data, line->len);
		explicit_bzero(line->data, line->len); /* PASS */
	}
}

static const struct session_ops pop3_session_ops = {
        .proto = "pop3",
        .input = pop3_input,
        .timeout = pop3_timeout,
        .stop = pop3_stop,
        .notify = pop3_notify,
        .free = pop3_free,
};

bool
pop3_message_arg(struct pop3_session *s, const char *arg, uint32_t *index_out)
{
	uint32_t n;

	if (!pop3_number_parse(arg, UINT32_MAX, &n) || n == 0) {
		pop3_reply_err(s, "Invalid message number");
		return false;
	}
	if (n > s->md.count) {
		pop3_reply_err(s, "No such message");
		return false;
	}
	if (s->md.deleted[n - 1]) {
		pop3_reply_err(s, "Message %u already deleted", n);
		return false;
	}
	*index_out = n - 1;
	return true;
}
