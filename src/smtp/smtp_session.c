/* SPDX-License-Identifier: MIT */
/*
 * smtp_session.c: the SMTP/LMTP side of a session: the server object, the
 * session ops the core calls, the input loop and the command dispatcher.
 * Which command may run in which state, and on which role, is decided here
 * once (the table below); the command files only check their arguments.
 */
#include "smtp/smtp_session.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "lib/arena.h"
#include "lib/log.h"
#include "net/net.h"
#include "smtp/smtp_queue.h"
#include "store/store.h"

#define CMD_ARENA_BLOCK 4096
#define TX_ARENA_BLOCK  8192

/* ---- configuration snapshots ---- */

static struct smtp_config *
config_new(const struct smtp_settings *s, bool tls_available)
{
	struct smtp_config *c = xcalloc(1, sizeof(*c));

	atomic_init(&c->refs, 1);
	c->s = *s;
	c->s.hostname = xstrdup(s->hostname);
	c->s.domains = xstrdup(s->domains);
	c->s.default_domain = xstrdup(s->default_domain);
	c->s.subaddress_separator = xstrdup(s->subaddress_separator);
	c->s.mailauth_domains = xstrdup(s->mailauth_domains);
	c->s.mailauth_psl = xstrdup(s->mailauth_psl);
	c->s.nameservers = xstrdup(s->nameservers);
	c->s.hold_dir = xstrdup(s->hold_dir);
	smtp_domains_parse(&c->domains, s->domains, s->default_domain);
	/* conf.c has checked the syntax: an error here leaves the default
	   for every domain. */
	char *err = NULL;
	c->mailauth_policy.fallback = (enum smtp_mailauth_action)s->mailauth_failure;
	if (smtp_mailauth_policy_parse(s->mailauth_domains, &c->mailauth_policy, &err) < 0) {
		log_error("smtp", "event=config-error err=\"%s\"", err);
		free(err);
	}
	c->tls_available = tls_available;
	return c;
}

static void
config_unref(struct smtp_config **cp)
{
	struct smtp_config *c = *cp;

	if (c == NULL)
		return;
	*cp = NULL;
	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	free(c->s.hostname);
	free(c->s.domains);
	free(c->s.default_domain);
	free(c->s.subaddress_separator);
	free(c->s.mailauth_domains);
	free(c->s.mailauth_psl);
	free(c->s.nameservers);
	free(c->s.hold_dir);
	smtp_mailauth_policy_deinit(&c->mailauth_policy);
	smtp_domains_free(&c->domains);
	free(c);
}

static struct smtp_config *
config_get(struct smtp_server *srv)
{
	pthread_mutex_lock(srv->lock);
	struct smtp_config *c = srv->config;
	atomic_fetch_add(&c->refs, 1);
	pthread_mutex_unlock(srv->lock);
	return c;
}

/* ---- the server ---- */

static struct session *smtp_open(struct net_conn *conn, void *arg);

struct smtp_server *
smtp_server_new(const struct smtp_settings *settings, struct auth_service *auth,
                struct net_jobs *jobs, bool tls_available)
{
	struct smtp_server *srv = xcalloc(1, sizeof(*srv));
	pthread_mutex_t *lock = xmalloc(sizeof(*lock));

	pthread_mutex_init(lock, NULL);
	srv->lock = lock;
	srv->auth = auth;
	srv->jobs = jobs;
	srv->config = config_new(settings, tls_available);
	/* The libraries' state is read once (the public suffix list): a
	   reload does not change it. Without it the MX still runs, and
	   every message gets temperror results. */
	char *err = NULL;
	if (smtp_mailauth_init(settings->mailauth_psl, &err) < 0) {
		log_error("smtp", "event=mailauth-init-failed err=\"%s\"", err);
		free(err);
	}
	for (int r = 0; r < SMTP_ROLE_COUNT; r++) {
		srv->listeners[r] = (struct smtp_listener){srv, (enum smtp_role)r};
		srv->services[r] =
		        (struct session_service){.open = smtp_open,
		                                 .arg = &srv->listeners[r],
		                                 /* RFC 5321 3.8, RFC 3463 4.3.2 */
		                                 .busy_reply = "421 4.3.2 Server short of memory, "
		                                               "try again later\r\n"};
	}
	return srv;
}

const struct session_service *
smtp_server_service(struct smtp_server *srv, enum smtp_role role)
{
	return &srv->services[role];
}

void
smtp_server_set_store(struct smtp_server *srv, struct store *store, struct net_jobs *store_pool,
                      struct net_jobs *lookup_pool, struct smtp_queue *queue)
{
	srv->store = store;
	srv->store_pool = store_pool;
	srv->lookup_pool = lookup_pool;
	srv->queue = queue;
}

void
smtp_server_reload(struct smtp_server *srv, const struct smtp_settings *settings,
                   bool tls_available)
{
	struct smtp_config *c = config_new(settings, tls_available);

	pthread_mutex_lock(srv->lock);
	struct smtp_config *old = srv->config;
	srv->config = c;
	pthread_mutex_unlock(srv->lock);
	config_unref(&old);
}

void
smtp_server_free(struct smtp_server **srvp)
{
	struct smtp_server *srv = *srvp;

	if (srv == NULL)
		return;
	*srvp = NULL;
	config_unref(&srv->config);
	smtp_mailauth_deinit();
	pthread_mutex_destroy(srv->lock);
	free(srv->lock);
	free(srv);
}

/* ---- session ops ---- */

static const struct session_ops smtp_session_ops;
static const struct session_ops lmtp_session_ops;

static struct session *
smtp_open(struct net_conn *conn, void *arg)
{
	const struct smtp_listener *l = arg;
	struct smtp_session *s = xcalloc(1, sizeof(*s));

	session_init(&s->base, conn,
	             l->role == SMTP_ROLE_LMTP ? &lmtp_session_ops : &smtp_session_ops);
	s->srv = l->srv;
	s->role = l->role;
	s->cfg = config_get(l->srv);
	s->cmd_arena = arena_new(CMD_ARENA_BLOCK);
	s->tx_arena = arena_new(TX_ARENA_BLOCK);
	buf_init(&s->header);
	buf_init(&s->hold_buf);
	s->hold_fd = -1;
	net_conn_set_timeout(conn, s->cfg->s.timeout_ms);
	if (s->role == SMTP_ROLE_SUBMISSION)
		session_login_deadline(&s->base, s->cfg->s.login_timeout_ms);
	const struct log_ctx *prev = session_log_enter(&s->base);
	static const char *const role_names[] = {"mx", "submission", "lmtp"};
	log_info(s->base.ops->proto, "event=connect role=%s port=%u tls=%s", role_names[s->role],
	         net_conn_local_port(conn), net_conn_is_tls(conn) ? "yes" : "no");
	/* RFC 5321 section 4.3.1; RFC 2033 section 4.1 (LMTP says so). */
	smtp_reply(s, 220, NULL, "%s %s tern", s->cfg->s.hostname,
	           s->role == SMTP_ROLE_LMTP ? "LMTP" : "ESMTP");
	session_log_leave(prev);
	return &s->base;
}

static void
smtp_timeout(struct session *base)
{
	struct smtp_session *s = (struct smtp_session *)base;

	log_info(base->ops->proto, "event=timeout state=%d", s->state);
	smtp_session_close(s, "4.4.2", "Error: timeout exceeded");
}

/* Between commands, or while a command waits for the client (DATA bytes,
   an AUTH step): a message not yet acknowledged is simply not taken. */
static void
smtp_stop(struct session *base, enum session_stop why)
{
	struct smtp_session *s = (struct smtp_session *)base;

	if (why == SESSION_STOP_REVOKED)
		smtp_session_close(s, "4.7.0",
		                   "Mail submission has been disabled for this account");
	else if (why == SESSION_STOP_KICKED)
		smtp_session_close(s, "4.7.0", "Disconnected by an administrator");
	else
		smtp_session_close(s, "4.3.2", "Server shutting down");
}

static void
smtp_notify(struct session *base, void *msg)
{
	struct smtp_session *s = (struct smtp_session *)base;
	const struct auth_changes *changes = msg;

	if (!s->is_authed || !auth_changes_revokes(changes, &s->user, AUTH_PROTO_SMTP))
		return;
	log_info("smtp", "event=access-revoked");
	session_stop(&s->base, SESSION_STOP_REVOKED);
}

static void
smtp_free(struct session *base)
{
	struct smtp_session *s = (struct smtp_session *)base;

	log_info(base->ops->proto, "event=disconnect messages=%llu errors=%llu",
	         (unsigned long long)s->messages, (unsigned long long)s->errors);
	smtp_tx_reset(s);
	auth_sasl_free(&s->sasl);
	free(s->decode_buf);
	buf_deinit(&s->header);
	buf_deinit(&s->hold_buf);
	arena_free(&s->cmd_arena);
	arena_free(&s->tx_arena);
	config_unref(&s->cfg);
	explicit_bzero(&s->user, sizeof(s->user));
	session_deinit(&s->base);
	free(s);
}

/* ---- transactions ---- */

void
smtp_tx_reset(struct smtp_session *s)
{
	store_spool_free(&s->spool);
	smtp_queue_msg_free(&s->qmsg);
	smtp_queue_msg_free(&s->redo);
	smtp_message_hold_free(s);
	memset(&s->tx, 0, sizeof(s->tx));
	arena_reset(s->tx_arena);
	buf_reset(&s->header);
	s->has_header = false;
	s->data_error = SMTP_DATA_OK;
	if (s->state > SMTP_STATE_READY)
		s->state = SMTP_STATE_READY;
}

const char *
smtp_str(struct smtp_session *s, const char *str)
{
	return log_str(s->cmd_arena, str, strlen(str));
}

/* ---- commands ---- */

enum {
	IN_GREETED = 1 << SMTP_STATE_GREETED,
	IN_READY = 1 << SMTP_STATE_READY,
	IN_MAIL = 1 << SMTP_STATE_MAIL,
	IN_RCPT = 1 << SMTP_STATE_RCPT,
	IN_ANY = IN_GREETED | IN_READY | IN_MAIL | IN_RCPT,
	IN_TX = IN_MAIL | IN_RCPT,
};

enum {
	ON_MX = 1 << SMTP_ROLE_MX,
	ON_SUBMISSION = 1 << SMTP_ROLE_SUBMISSION,
	ON_LMTP = 1 << SMTP_ROLE_LMTP,
	ON_SMTP = ON_MX | ON_SUBMISSION,
	ON_ALL = ON_SMTP | ON_LMTP,
};

static const struct {
	enum smtp_verb verb;
	void (*fn)(struct smtp_session *s, const struct smtp_command *c);
	unsigned states, roles;
	bool is_junk; /* counts toward smtp.max_junk_commands */
} commands[] = {
        {SMTP_VERB_HELO, smtp_cmd_hello, IN_ANY, ON_SMTP, false},
        {SMTP_VERB_EHLO, smtp_cmd_hello, IN_ANY, ON_SMTP, false},
        {SMTP_VERB_LHLO, smtp_cmd_hello, IN_ANY, ON_LMTP, false},
        {SMTP_VERB_MAIL, smtp_cmd_mail, IN_READY, ON_ALL, false},
        {SMTP_VERB_RCPT, smtp_cmd_rcpt, IN_TX, ON_ALL, false},
        {SMTP_VERB_DATA, smtp_cmd_data, IN_TX, ON_ALL, false},
        {SMTP_VERB_BDAT, smtp_cmd_bdat, IN_ANY, ON_ALL, false},
        {SMTP_VERB_RSET, smtp_cmd_simple, IN_ANY, ON_ALL, true},
        {SMTP_VERB_NOOP, smtp_cmd_simple, IN_ANY, ON_ALL, true},
        {SMTP_VERB_QUIT, smtp_cmd_simple, IN_ANY, ON_ALL, false},
        {SMTP_VERB_VRFY, smtp_cmd_simple, IN_ANY, ON_ALL, true},
        {SMTP_VERB_EXPN, smtp_cmd_simple, IN_ANY, ON_ALL, true},
        {SMTP_VERB_HELP, smtp_cmd_simple, IN_ANY, ON_ALL, true},
        {SMTP_VERB_STARTTLS, smtp_cmd_starttls, IN_GREETED | IN_READY, ON_ALL, false},
        {SMTP_VERB_AUTH, smtp_cmd_auth, IN_READY, ON_SUBMISSION, false},
};

void
smtp_cmd_done(struct smtp_session *s)
{
	arena_reset(s->cmd_arena);
	session_command_end(&s->base);
}

void
smtp_cmd_finish(struct smtp_session *s)
{
	arena_reset(s->cmd_arena);
	session_command_finish(&s->base); /* runs what the client pipelined */
}

static void
refuse_state(struct smtp_session *s, const struct smtp_command *c)
{
	switch (c->verb) {
	case SMTP_VERB_MAIL:
		if (s->state == SMTP_STATE_GREETED)
			smtp_reply_error(s, 503, "5.5.1", "Send %s first",
			                 s->role == SMTP_ROLE_LMTP ? "LHLO" : "EHLO/HELO");
		else
			smtp_reply_error(s, 503, "5.5.1", "Nested MAIL command");
		return;
	case SMTP_VERB_RCPT:
	case SMTP_VERB_DATA:
		smtp_reply_error(s, 503, "5.5.1", "Send MAIL first");
		return;
	case SMTP_VERB_AUTH:
		smtp_reply_error(s, 503, "5.5.1",
		                 s->state == SMTP_STATE_GREETED
		                         ? "Send EHLO first"
		                         : "AUTH not allowed during a transaction");
		return;
	case SMTP_VERB_STARTTLS:
		smtp_reply_error(s, 503, "5.5.1", "STARTTLS not allowed during a transaction");
		return;
	default:
		smtp_reply_error(s, 503, "5.5.1", "Bad sequence of commands");
		return;
	}
}

static void
dispatch(struct smtp_session *s, const char *line)
{
	struct smtp_command c;

	smtp_command_parse(line, &c);
	session_command_name(&s->base, c.name != NULL ? c.name : "unknown");
	session_command_begin(&s->base, line); /* the verb: up to the first space */
	for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
		if (commands[i].verb != c.verb)
			continue;
		if (!(commands[i].roles & (1u << s->role))) {
			if (c.verb == SMTP_VERB_AUTH)
				smtp_reply_error(s, 503, "5.5.1",
				                 "AUTH is offered on the submission ports only");
			else
				smtp_reply_error(s, 500, "5.5.1", "Command not recognized: %s",
				                 c.name);
			smtp_cmd_done(s);
			return;
		}
		if (!(commands[i].states & (1u << s->state))) {
			refuse_state(s, &c);
			smtp_cmd_done(s);
			return;
		}
		if (commands[i].is_junk && ++s->junk > s->cfg->s.max_junk_commands) {
			log_info(s->base.ops->proto, "event=too-many-commands");
			smtp_session_close(s, "4.7.0", "Too many commands without a message");
			smtp_cmd_done(s);
			return;
		}
		commands[i].fn(s, &c);
		return;
	}
	/* RFC 5321 section 4.2.4: 500 for an unrecognised command. */
	smtp_reply_error(s, 500, "5.5.2", "Command not recognized");
	smtp_cmd_done(s);
}

static bool
command_input(struct smtp_session *s)
{
	switch (session_read_line(&s->base, s->cfg->s.max_line)) {
	case SESSION_LINE_MORE:
		return false;
	case SESSION_LINE_TOOLONG:
		smtp_reply_error(s, 500, "5.5.2", "Line too long (limit %llu)",
		                 (unsigned long long)s->cfg->s.max_line);
		return true;
	case SESSION_LINE_OK:
		break;
	}
	const char *line = s->base.line.data;
	if (memchr(line, '\0', s->base.line.len) != NULL) {
		smtp_reply_error(s, 500, "5.5.2", "NUL in a command");
		return true;
	}
	if (log_enabled(LOG_LEVEL_DEBUG) && s->mode == SMTP_MODE_COMMAND)
		log_debug(s->base.ops->proto, "event=command line=%s",
		          strncasecmp(line, "AUTH ", 5) == 0 ? "AUTH" : smtp_str(s, line));
	dispatch(s, line);
	return true;
}

static void
smtp_input(struct session *base)
{
	struct smtp_session *s = (struct smtp_session *)base;

	while (!s->base.is_closing && !s->base.is_waiting) {
		bool more;
		switch (s->mode) {
		case SMTP_MODE_DATA:
			more = smtp_data_input(s);
			break;
		case SMTP_MODE_BDAT:
			more = smtp_bdat_input(s);
			break;
		case SMTP_MODE_AUTH:
			more = smtp_auth_input(s);
			break;
		default:
			if (s->base.is_busy)
				return; /* a command's own callback continues */
			more = command_input(s);
			break;
		}
		if (!more)
			return;
	}
}

static const struct session_ops smtp_session_ops = {
        .proto = "smtp",
        .input = smtp_input,
        .timeout = smtp_timeout,
        .stop = smtp_stop,
        .notify = smtp_notify,
        .free = smtp_free,
};

static const struct session_ops lmtp_session_ops = {
        .proto = "lmtp",
        .input = smtp_input,
        .timeout = smtp_timeout,
        .stop = smtp_stop,
        .free = smtp_free,
};
