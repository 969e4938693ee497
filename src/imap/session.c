/* SPDX-License-Identifier: MIT */
/*
 * session.c: the IMAP side of a session. The session core
 * (session/session.h) calls imap_session_ops; input is fed to the parser (or,
 * in LINE mode, read as raw lines) and each complete command is dispatched
 * through the command table. One command runs at a time; a waiting command
 * pauses input, and imap_cmd_finish() resumes it and runs what the client
 * pipelined.
 */
#include "imap/session.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "imap/imap_append.h"
#include "imap/imap_catenate.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_namespace.h"
#include "imap/imap_notify.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "net/net.h"
#include "store/store.h"

#define CMD_ARENA_BLOCK 4096

static void session_run(struct imap_session *s);
static void cmd_release(struct imap_cmd *cmd);
static void resume_drained(struct session *base);
static struct session *imap_open(struct net_conn *conn, void *arg);

/*
 * Where a literal's bytes go, decided when it is announced (parser.h).
 * APPEND's messages stream to a spool file (imap_append.c); every other
 * literal is kept in memory, within a budget per command: a few KiB before
 * login (LOGIN needs no more), max_command_literals after. The budget is on
 * announced sizes, so nothing over it is ever read into memory.
 */
/* "CATENATE (... TEXT {n}": a TEXT part of a CATENATE message (RFC 4469). */
static bool
is_catenate_text(const struct imap_literal_where *w)
{
	return w->depth == 1 && w->n_outer >= 2 && w->index >= 1 &&
	       w->outer[w->n_outer - 1].type == IMAP_ARG_ATOM &&
	       strcasecmp(w->outer[w->n_outer - 1].str, "CATENATE") == 0 &&
	       w->siblings[w->index - 1].type == IMAP_ARG_ATOM &&
	       strcasecmp(w->siblings[w->index - 1].str, "TEXT") == 0;
}

/* "UTF8 (~{n}": a message with UTF-8 header fields (RFC 6855 section 4). */
static bool
is_utf8_literal(const struct imap_literal_where *w)
{
	return w->depth == 1 && w->index == 0 && w->n_outer >= 2 &&
	       w->outer[w->n_outer - 1].type == IMAP_ARG_ATOM &&
	       strcasecmp(w->outer[w->n_outer - 1].str, "UTF8") == 0;
}

static enum imap_literal_route
literal_begin(void *ctx, struct arena *a, const struct imap_literal_where *w, size_t len,
              bool is_literal8, void **handle_out)
{
	struct imap_session *s = ctx;
	uint64_t budget = s->settings.max_command_literals;
	bool is_append = w->name != NULL && strcasecmp(w->name, "APPEND") == 0;
	size_t first = 1; /* where the message literals may start */

	/* REPLACE n mailbox ... and UID REPLACE n mailbox ... (RFC 8508) carry
	   APPEND's message: it streams to a spool the same way. */
	if (w->name != NULL && strcasecmp(w->name, "REPLACE") == 0) {
		is_append = true;
		first = 2;
	} else if (w->name != NULL && strcasecmp(w->name, "UID") == 0 && w->depth <= 1) {
		/* The sub-command is the first argument of the top level. */
		const struct imap_arg *top = w->depth == 0 ? w->siblings : w->outer;
		size_t n_top = w->depth == 0 ? w->index : w->n_outer;
		if (n_top >= 1 && top[0].type == IMAP_ARG_ATOM &&
		    strcasecmp(top[0].str, "REPLACE") == 0) {
			is_append = true;
			first = 3;
		}
	}
	if (s->state == IMAP_STATE_NOT_AUTH)
		budget = s->settings.max_literal_before_login;
	else if (is_append && w->depth == 0 && w->index >= first)
		return imap_append_literal_begin(s, a, len, is_literal8, handle_out);
	else if (is_append && is_utf8_literal(w))
		return imap_append_literal_begin(s, a, len, is_literal8, handle_out);
	else if (is_append && is_catenate_text(w))
		return imap_catenate_literal_begin(s, a, w, handle_out);
	s->literal_bytes += len;
	return s->literal_bytes > budget ? IMAP_LITERAL_REFUSE : IMAP_LITERAL_KEEP;
}

static void
literal_write(void *ctx, void *handle, const char *data, size_t len)
{
	imap_append_literal_write(handle, data, len);
}

struct imap_server *
imap_server_new(const struct imap_settings *settings, struct auth_service *auth,
                struct net_jobs *jobs, bool tls_available)
{
	struct imap_server *srv = xcalloc(1, sizeof(*srv));
	pthread_mutex_t *lock = xmalloc(sizeof(*lock));

	pthread_mutex_init(lock, NULL);
	srv->lock = lock;
	srv->settings = *settings;
	srv->auth = auth;
	srv->jobs = jobs;
	srv->tls_available = tls_available;
	/* RFC 9051 7.1.5: BYE as a greeting; RFC 5530 3: UNAVAILABLE. */
	srv->service = (struct session_service){
	        .open = imap_open,
	        .arg = srv,
	        .busy_reply = "* BYE [UNAVAILABLE] Server short of memory, try again later\r\n"};
	return srv;
}

const struct session_service *
imap_server_service(struct imap_server *srv)
{
	return &srv->service;
}

void
imap_server_set_store(struct imap_server *srv, struct store *store, struct net_jobs *store_pool)
{
	srv->store = store;
	srv->store_pool = store_pool;
}

void
imap_server_set_query_pool(struct imap_server *srv, struct net_jobs *pool)
{
	srv->query_pool = pool;
}

void
imap_server_reload(struct imap_server *srv, const struct imap_settings *settings,
                   bool tls_available)
{
	pthread_mutex_lock(srv->lock);
	srv->settings = *settings;
	srv->tls_available = tls_available;
	pthread_mutex_unlock(srv->lock);
}

void
imap_server_free(struct imap_server **srvp)
{
	struct imap_server *srv = *srvp;

	if (srv == NULL)
		return;
	*srvp = NULL;
	pthread_mutex_destroy(srv->lock);
	free(srv->lock);
	free(srv);
}

static const struct session_ops imap_session_ops;


/* The parser's limits before and after login. Before, a command is
   LOGIN, AUTHENTICATE, ID or the like: 32 KiB at most (issue 17: the
   per-connection budget before login; ID's 30 fields of 1024 octets, RFC
   2971 section 3.3, are the most). */
static void
parser_limits(const struct imap_session *s, bool logged_in, struct imap_parser_limits *out)
{
	*out = (struct imap_parser_limits){
	        .max_line = logged_in ? s->settings.max_line
	                              : MIN(s->settings.max_line, s->settings.max_line_before_login),
	        .max_literal = s->settings.max_literal,
	        .max_depth = 32,
	        /* RFC 7888 section 5: LITERAL- caps {n+} at 4096 bytes. */
	        .max_nonsync_literal = s->settings.literal_minus ? 4096 : 0,
	};
}

static struct session *
imap_open(struct net_conn *conn, void *arg)
{
	struct imap_server *srv = arg;
	struct imap_session *s = xcalloc(1, sizeof(*s));

	session_init(&s->base, conn, &imap_session_ops);
	s->srv = srv;
	pthread_mutex_lock(srv->lock);
	s->settings = srv->settings;
	pthread_mutex_unlock(srv->lock);
	struct imap_parser_limits limits;
	parser_limits(s, false, &limits);
	s->parser = imap_parser_new(&limits);
	s->literal_sink = (struct imap_literal_sink){literal_begin, literal_write, s};
	imap_parser_set_sink(s->parser, &s->literal_sink);
	s->cmd_arena = arena_new(CMD_ARENA_BLOCK);
	s->state = IMAP_STATE_NOT_AUTH;
	net_conn_set_timeout(conn, s->settings.login_timeout_ms);
	session_login_deadline(&s->base, s->settings.login_timeout_ms);
	const struct log_ctx *prev = session_log_enter(&s->base);
	log_info("imap", "event=connect port=%u tls=%s", net_conn_local_port(conn),
	         net_conn_is_tls(conn) ? "yes" : "no");
	/* RFC 9051 section 7.1: the greeting may carry the capabilities, which
	   saves the client a round trip. */
	imap_reply_untagged(s, "OK [CAPABILITY %s] tern ready", imap_capability(s));
	session_log_leave(prev);
	return &s->base;
}

void
imap_session_bye(struct imap_session *s, const char *text)
{
	if (s->base.is_closing)
		return;
	imap_reply_untagged(s, "BYE %s", text);
	session_close(&s->base);
}

static void
imap_timeout(struct session *base)
{
	struct imap_session *s = (struct imap_session *)base;

	log_info("imap", "event=timeout state=%d", s->state);
	imap_session_bye(s, "Autologout; idle for too long");
}

/* The core calls this between commands, or while the command only waits
   for the client (IDLE, an AUTHENTICATE step): those get the BYE at once. */
static void
imap_stop(struct session *base, enum session_stop why)
{
	struct imap_session *s = (struct imap_session *)base;

	imap_session_bye(s, why == SESSION_STOP_REVOKED
	                            ? "IMAP access has been disabled for this account"
	                    : why == SESSION_STOP_KICKED ? "Disconnected by an administrator"
	                                                 : "Server shutting down");
}

/* The only broadcast today: accounts whose access changed (cmd_serve.c). A
   session whose account lost IMAP ends at once, or after its command. */
static void
imap_notify(struct session *base, void *msg)
{
	struct imap_session *s = (struct imap_session *)base;
	const struct auth_changes *changes = msg;

	if (s->state == IMAP_STATE_NOT_AUTH ||
	    !auth_changes_revokes(changes, &s->user, AUTH_PROTO_IMAP))
		return;
	log_info("imap", "event=access-revoked");
	session_stop(&s->base, SESSION_STOP_REVOKED);
}

static void
imap_free(struct session *base)
{
	struct imap_session *s = (struct imap_session *)base;

	log_info("imap", "event=disconnect cmds=%llu", (unsigned long long)s->commands);
	auth_sasl_free(&s->sasl);
	cmd_release(&s->cmd); /* a command waiting for a job or a drain */
	imap_notify_free(s);
	imap_mailbox_deselect(s);
	imap_namespace_free(s);
	store_account_close(&s->account);
	free(s->login_box);
	imap_parser_free(&s->parser);
	arena_free(&s->cmd_arena);
	buf_deinit(&s->held);
	explicit_bzero(&s->user, sizeof(s->user));
	session_deinit(&s->base);
	free(s);
}

static void
imap_input(struct session *base)
{
	session_run((struct imap_session *)base);
}

void
imap_cmd_resume_on_drain(struct imap_cmd *cmd, imap_resume_fn *fn)
{
	cmd->on_drain = fn;
	session_resume_on_drain(&cmd->session->base, resume_drained);
}

static void
resume_drained(struct session *base)
{
	struct imap_session *s = (struct imap_session *)base;
	imap_resume_fn *fn = s->cmd.on_drain;

	if (fn == NULL || !s->base.is_busy)
		return;
	s->cmd.on_drain = NULL;
	if (fn(&s->cmd) == IMAP_CMD_DONE)
		imap_cmd_finish(&s->cmd);
}

static const struct session_ops imap_session_ops = {
        .proto = "imap",
        .input = imap_input,
        .timeout = imap_timeout,
        .stop = imap_stop,
        .notify = imap_notify,
        .free = imap_free,
};

/* ---- commands ---- */

static void
cmd_release(struct imap_cmd *cmd)
{
	void (*fn)(struct imap_cmd *) = cmd->on_free;

	cmd->on_free = NULL;
	if (fn != NULL)
		fn(cmd);
}

static void
cmd_reset(struct imap_session *s)
{
	cmd_release(&s->cmd);
	s->is_line_mode = false;
	s->literal_bytes = 0;
	s->catenates = NULL; /* in the arena reset below */
	memset(&s->cmd, 0, sizeof(s->cmd));
	arena_reset(s->cmd_arena);
}

void
imap_cmd_finish(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;

	cmd_reset(s);
	session_command_finish(&s->base); /* runs what the client pipelined */
}

static void
delay_done(struct session *base)
{
	struct imap_session *s = (struct imap_session *)base;

	imap_reply_tagged(&s->cmd, s->delayed_status, "%s", s->delayed_text);
	imap_cmd_finish(&s->cmd);
}

void
imap_cmd_finish_delayed(struct imap_cmd *cmd, uint64_t delay_ms, const char *status,
                        const char *text)
{
	struct imap_session *s = cmd->session;

	s->delayed_status = status;
	s->delayed_text = text; /* static strings only */
	session_delay(&s->base, delay_ms, delay_done);
}

void
imap_cmd_read_line(struct imap_cmd *cmd, imap_line_fn *fn)
{
	struct imap_session *s = cmd->session;

	cmd->on_line = fn;
	s->is_line_mode = true;
	/* Waiting for the client: a shutdown or revocation ends it now. */
	session_command_wait_client(&s->base);
}

int
imap_session_login(struct imap_session *s, const struct auth_identity *id, const char *mech)
{
	enum store_error err;

	if (store_account_open(s->srv->store, id->account_id, &s->account, &err) < 0) {
		log_error("imap", "event=account-open-failed account=%llu err=\"%s\"",
		          (unsigned long long)id->account_id, store_error_str(err));
		return -1;
	}
	s->user = *id;
	imap_namespace_login(s);
	const char *want = s->login_box != NULL
	                           ? log_str(s->cmd_arena, s->login_box, strlen(s->login_box))
	                           : NULL;
	if (s->login_box != NULL && imap_namespace_enter(s) < 0) {
		log_info("imap", "event=shared-login-refused user=%s mailbox=%s",
		         log_str(s->cmd_arena, id->address, strlen(id->address)), want);
		imap_namespace_free(s);
		store_account_close(&s->account);
		explicit_bzero(&s->user, sizeof(s->user));
		return -2;
	}
	s->state = IMAP_STATE_AUTH;
	struct imap_parser_limits limits;
	parser_limits(s, true, &limits);
	imap_parser_set_limits(s->parser, &limits);
	session_set_user(&s->base, id->address);
	net_conn_set_timeout(s->base.conn, s->settings.idle_timeout_ms);
	session_count_login(&s->base, true, mech, NULL);
	/* user and ip spelled out: this line's key order is documented. */
	log_info("imap", "event=login user=%s ip=%s mech=%s tls=%s%s%s%s%s", s->base.log.user,
	         s->base.log.ip, mech, net_conn_is_tls(s->base.conn) ? "yes" : "no",
	         id->master[0] ? " master=" : "",
	         id->master[0] ? log_str(s->cmd_arena, id->master, strlen(id->master)) : "",
	         id->app_password[0] ? " app_password=" : "",
	         id->app_password[0]
	                 ? log_str(s->cmd_arena, id->app_password, strlen(id->app_password))
	                 : "");
	return 0;
}

void
imap_session_unauthenticate(struct imap_session *s)
{
	/* RFC 8437 section 4.1: every extension's state goes, except STARTTLS's
	   and ID's. Watches first, so no other thread signals into what is
	   freed; the selection goes without EXPUNGEs (section 3). */
	imap_notify_free(s);      /* NOTIFY's store handles and watches */
	imap_mailbox_deselect(s); /* view, wake-up, SEARCHRES $, UPDATE contexts */
	imap_namespace_free(s);   /* other accounts' handles, groups */
	store_account_close(&s->account);
	free(s->login_box);
	s->login_box = NULL;
	memset(&s->identity, 0, sizeof(s->identity));
	auth_sasl_free(&s->sasl);
	explicit_bzero(&s->user, sizeof(s->user));
	s->utf8_names = s->utf8_accept = s->is_rev2 = s->condstore = s->qresync =
	        false; /* ENABLE */
	s->comparator = COLLATION_DEFAULT;
	s->state = IMAP_STATE_NOT_AUTH;
	/* Not logged in again: the log context forgets the user, and the
	   login timeout and deadline apply as on a new connection. */
	session_set_user(&s->base, "");
	struct imap_parser_limits limits;
	parser_limits(s, false, &limits);
	imap_parser_set_limits(s->parser, &limits);
	net_conn_set_timeout(s->base.conn, s->settings.login_timeout_ms);
	session_login_deadline(&s->base, s->settings.login_timeout_ms);
}

static void
handle_status(struct imap_session *s, enum imap_cmd_status st)
{
	if (st == IMAP_CMD_WAIT) {
		/* LINE mode: input keeps flowing to on_line. */
		if (!s->is_line_mode)
			session_command_wait(&s->base);
		return;
	}
	cmd_reset(s);
	session_command_end(&s->base);
}

/* ---- commands off the loop (IMAP_CMD_OFF_LOOP) ---- */

/* On a pool thread; the worker leaves s alone until off_loop_done. */
static void
off_loop_run(struct session *base)
{
	struct imap_session *s = (struct imap_session *)base;
	enum imap_cmd_status st = s->cmd.def->fn(&s->cmd);

	assert(st == IMAP_CMD_DONE); /* the flag's contract (session.h) */
	(void)st;
}

/* Back on the worker: the output gathered goes out in one write. */
static void
off_loop_done(struct session *base)
{
	struct imap_session *s = (struct imap_session *)base;
	size_t len = s->held.len;

	s->is_holding = false;
	if (len > 0)
		net_conn_write_take(s->base.conn, buf_steal(&s->held), len);
	imap_cmd_finish(&s->cmd);
}

static void
run_command(struct imap_session *s, const struct imap_command_def *def)
{
	if ((def->flags & IMAP_CMD_OFF_LOOP) && session_memory_is_short(&s->base)) {
		/* limits.max_memory: what could take much more waits for later. */
		imap_reply_no(&s->cmd, "[UNAVAILABLE] Server short of memory, try again later");
		handle_status(s, IMAP_CMD_DONE);
		return;
	}
	if ((def->flags & IMAP_CMD_OFF_LOOP) && s->srv->query_pool != NULL) {
		buf_reset(&s->held);
		s->is_holding = true;
		session_command_offload(&s->base, s->srv->query_pool, off_loop_run, off_loop_done);
		return;
	}
	handle_status(s, def->fn(&s->cmd));
}

static void
dispatch(struct imap_session *s, const struct imap_command *pc)
{
	const struct imap_command_def *def = imap_command_lookup(pc->name);
	struct imap_cmd *cmd = &s->cmd;

	s->commands++;
	cmd->session = s;
	cmd->arena = s->cmd_arena;
	cmd->tag = pc->tag;
	cmd->name = pc->name;
	cmd->args = pc->args;
	cmd->nargs = pc->nargs;
	session_command_begin(&s->base, pc->name);
	/* "UID FETCH ..." runs FETCH with is_uid (RFC 9051 6.4.9). */
	if (def != NULL && def->fn == NULL && pc->nargs > 0 && pc->args[0].type == IMAP_ARG_ATOM) {
		const struct imap_command_def *sub = imap_command_lookup(pc->args[0].str);
		if (sub != NULL && (sub->flags & IMAP_CMD_UID_ALLOWED)) {
			def = sub;
			cmd->is_uid = true;
			cmd->name = arena_printf(s->cmd_arena, "UID %s", sub->name);
			cmd->args = pc->args + 1;
			cmd->nargs = pc->nargs - 1;
		} else {
			def = NULL;
		}
	} else if (def != NULL && def->fn == NULL) {
		def = NULL;
	}
	cmd->def = def;
	session_command_name(&s->base, def != NULL ? def->name : "unknown");
	if (def == NULL) {
		imap_reply_bad(cmd, "Unknown command %s",
		               log_str(s->cmd_arena, pc->name, strlen(pc->name)));
		s->bad_in_a_row++;
	} else if ((def->states & s->state) == 0) {
		/* Whole sentences, so each translates as one (LANGUAGE). */
		if (s->state == IMAP_STATE_NOT_AUTH && (def->states & IMAP_STATE_AUTHED))
			imap_reply_bad(cmd, "%s not allowed before login", def->name);
		else if (s->state == IMAP_STATE_AUTH && def->states == IMAP_STATE_SELECTED)
			imap_reply_bad(cmd, "%s not allowed without a selected mailbox", def->name);
		else
			imap_reply_bad(cmd, "%s not allowed in this state", def->name);
		s->bad_in_a_row++;
	} else {
		s->bad_in_a_row = 0;
		run_command(s, def);
		return;
	}
	handle_status(s, IMAP_CMD_DONE);
}

static void
too_many_errors(struct imap_session *s)
{
	log_info("imap", "event=too-many-errors");
	imap_session_bye(s, "Too many invalid commands");
}

/* LINE mode: one raw line for the running command. */
static bool
run_line(struct imap_session *s)
{
	struct buf *line = &s->base.line;

	size_t max = s->state == IMAP_STATE_NOT_AUTH
	                     ? MIN(s->settings.max_line, s->settings.max_line_before_login)
	                     : s->settings.max_line;

	switch (session_read_line(&s->base, max)) {
	case SESSION_LINE_MORE:
		return false;
	case SESSION_LINE_TOOLONG:
		imap_reply_bad(&s->cmd, "Line too long");
		imap_session_bye(s, "Line too long");
		return false;
	case SESSION_LINE_OK:
		break;
	}
	s->is_line_mode = false;
	/* The command runs again: stops wait for it (session_stop). */
	session_command_begin(&s->base, NULL);
	enum imap_cmd_status st = s->cmd.on_line(&s->cmd, line->data, line->len);
	explicit_bzero(line->data, line->len); /* may have been a SASL response */
	handle_status(s, st);
	return true;
}

static void
session_run(struct imap_session *s)
{
	while (!s->base.is_closing && !s->base.is_waiting) {
		if (s->is_line_mode) {
			if (!run_line(s))
				return;
			continue;
		}
		if (s->base.is_busy)
			return; /* a handler's own callbacks will continue */
		/* Asked each time: COMPRESS puts a new input buffer on top. */
		struct evbuffer *in = session_input(&s->base);
		struct evbuffer_iovec vec;
		if (evbuffer_peek(in, -1, NULL, &vec, 1) < 1 || vec.iov_len == 0)
			return;
		struct imap_command pc;
		const char *error;
		bool toobig;
		size_t used;
		enum imap_parse_status st =
		        imap_parser_feed(s->parser, s->cmd_arena, vec.iov_base, vec.iov_len, &used,
		                         &pc, &error, &toobig);
		evbuffer_drain(in, used);
		switch (st) {
		case IMAP_PARSE_MORE:
			break;
		case IMAP_PARSE_LITERAL_WAIT:
			imap_reply_continue(s, "Ready for literal data");
			break;
		case IMAP_PARSE_DONE:
			dispatch(s, &pc);
			break;
		case IMAP_PARSE_ERROR: {
			struct imap_cmd *cmd = &s->cmd;
			cmd->session = s;
			cmd->arena = s->cmd_arena;
			cmd->tag = pc.tag;
			if (toobig)
				imap_reply_bad(cmd, "[TOOBIG] %s", imap_reply_text(s, error));
			else
				imap_reply_bad(cmd, "%s", error);
			s->commands++;
			s->bad_in_a_row++;
			cmd_reset(s);
			break;
		}
		}
		if (s->bad_in_a_row >= s->settings.max_bad_commands && !s->base.is_closing)
			too_many_errors(s);
	}
}
