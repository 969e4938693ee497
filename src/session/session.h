/* SPDX-License-Identifier: MIT */
/*
 * session.h: the protocol-neutral session core. Every protocol module (IMAP,
 * POP3, SMTP/LMTP, HTTP) embeds a struct session in its own session struct
 * and gets from here what they all need, so each module holds only its
 * parser, state machine and commands:
 *
 *   - a session id (sid) and a log context that stamps sid, protocol, IP and
 *     user on every line logged while working for the session, on its worker
 *     and on pool threads (lib/log.h);
 *   - reading: whole lines with a length limit (an over-long line is
 *     discarded as it streams, never buffered), and raw byte runs for
 *     literals, BDAT chunks and DATA handed to a sink as they arrive;
 *   - the command lifecycle: one command at a time; a command that waits
 *     (for a job, a timer, the client draining output) pauses input, so
 *     pipelined commands stay unread until it ends;
 *   - the failure-delay timer, resume-on-drain for big outputs;
 *   - a deadline for logging in, counted from connect, that bytes trickled
 *     one at a time cannot extend (the read timeout restarts with each);
 *   - jobs on a pool (net/jobs.h) that name their session by id: the done
 *     callback gets the session looked up again in its worker's table, or
 *     NULL when it is gone;
 *   - commands off the loop: a command whose cost grows with the mailbox
 *     runs whole on a pool thread (session_command_offload) while its worker
 *     serves the other sessions; meanwhile the core hands the protocol
 *     nothing (events, timeouts and stops wait, the session's free waits
 *     for the command), and a stop or a closed connection cancels it;
 *   - stopping: server shutdown and access revocation are delivered when the
 *     session is between commands or in a command waiting for the client
 *     (IDLE, a SASL step), never in the middle of one;
 *   - a watchdog: every callback from net, timers and jobs is timed, and one
 *     over server.slow_callback (100 ms) is logged with the session's sid,
 *     user and last command, since it stalled every session of its worker.
 *
 * Flow: net -> session core (session_net_protocol) -> ops of the protocol.
 * Everything runs on the connection's worker thread except a job's work.
 */
#ifndef TERN_SESSION_SESSION_H
#define TERN_SESSION_SESSION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "lib/buf.h"
#include "lib/log.h"

struct evbuffer;
struct net_conn;
struct net_jobs;
struct net_protocol;
struct session;
struct session_event;

enum session_stop {
	SESSION_STOP_SHUTDOWN, /* the server is stopping */
	SESSION_STOP_REVOKED,  /* the account lost access to this protocol */
	SESSION_STOP_KICKED,   /* an administrator disconnected the account */
};

/* What a protocol gives the core. Each callback runs with the session's log
   context set. */
struct session_ops {
	const char *proto; /* "imap": the log module and context */
	/* Bytes are waiting (session_input()); consume what can be. Also called
	   after session_command_finish() for what the client pipelined. */
	void (*input)(struct session *s);
	/* The read timeout expired. */
	void (*timeout)(struct session *s);
	/* Say goodbye (why says what to say) and session_close(). Called only
	   between commands or while the command waits for the client. */
	void (*stop)(struct session *s, enum session_stop why);
	/* A broadcast message (net_server_broadcast); may call session_stop(). */
	void (*notify)(struct session *s, void *msg);
	/* The connection is gone: release the protocol's state (first what
	   other threads may still signal, such as store watches), then
	   session_deinit(), then the struct holding the struct session.
	   Jobs no longer find the session. Do not use net_conn here: it is
	   already gone when the connection closed during an offloaded command
	   (session_command_offload). */
	void (*free)(struct session *s);
};

/* A session named by value, for work that outlives a pointer's safety. */
struct session_ref {
	uint32_t slot, id;
};

typedef void session_fn(struct session *s);
/* A job's completion: s is NULL when the session went away meanwhile (free
   what arg owns and return). */
typedef void session_job_done_fn(struct session *s, void *arg);
typedef void session_job_work_fn(void *arg);
/* Receives a run of raw input bytes (session_read_bytes). */
typedef void session_sink_fn(void *arg, const char *data, size_t len);

struct session {
	struct net_conn *conn;
	const struct session_ops *ops;
	uint32_t id; /* also the sid, in hex */
	uint32_t slot;
	struct log_ctx log;
	bool is_busy;          /* a command is in progress */
	bool is_waiting;       /* ... and paused input until it ends */
	bool is_interruptible; /* ... but only waits for the client (IDLE) */
	bool is_closing;
	bool has_stop; /* a stop arrived during a command */
	/* session_command_offload: the command runs on a pool thread; the
	   worker touches nothing of the protocol's meanwhile. */
	bool is_offloaded;
	bool is_gone;       /* ... and the connection closed: free when it ends */
	bool has_timeout;   /* ... and the read timeout passed: delivered after */
	atomic_bool cancel; /* ... and should give up (session_is_cancelled) */
	char cmd[16];       /* the last command's name, for the watchdog */
	enum session_stop stop_why;
	/* reading */
	struct buf line;      /* the last line read, without CRLF, NUL-terminated */
	bool is_discarding;   /* dropping the rest of an over-long line */
	session_fn *on_drain; /* resume when output drained */
	struct session_event *delay;
	session_fn *on_delay;
	struct session_event *login_deadline; /* until session_set_user() */
	struct session_event *events;         /* all of the session's, freed at close */
	struct session *all_prev, *all_next;  /* every live session (session_list) */
	uint64_t started_ms;
	/* the running command, for its latency metric */
	const char *cmd_name; /* static: from the protocol's command table */
	uint64_t cmd_start_us;
};

/* The single net_protocol of every session-core service; its protocol_arg
   is a struct session_service. */
extern const struct net_protocol session_net_protocol;

/* One protocol on one listener: how a session is made. */
struct session_service {
	/* Allocates the protocol's session, calls session_init() on its
	   struct session, then may greet. Never NULL. */
	struct session *(*open)(struct net_conn *conn, void *arg);
	void *arg;
	/* Sent instead of the greeting, and the connection closed, while the
	   server is short of memory (limits.max_memory): the protocol's "try
	   again later". NULL: such connections are accepted anyway. */
	const char *busy_reply;
};

/* Sets up s for conn (s zeroed by the caller): a fresh sid, the log context
   (proto, peer IP), an entry in the worker's session table. */
void session_init(struct session *s, struct net_conn *conn, const struct session_ops *ops);
/* Releases the core's parts of s (events, buffers): from ops->free. */
void session_deinit(struct session *s);
/* The session's log context now names user (after login); the login
   deadline is cancelled. */
void session_set_user(struct session *s, const char *user);
/* Ends the session through ops->timeout ms from now unless it logs in
   (session_set_user) first. Unlike the read timeout, input does not restart
   it, so a client sending a byte now and then cannot stay unauthenticated.
   A command in flight when it passes (a login being checked) ends first.
   Until the login the connection also buffers at most
   SESSION_READ_LIMIT_BEFORE_LOGIN bytes of input (net's default is 256 KiB):
   what the client pipelines while its login is checked waits in the kernel. */
void session_login_deadline(struct session *s, uint64_t ms);
#define SESSION_READ_LIMIT_BEFORE_LOGIN (16 * 1024)

/* One live session, as `tern sessions` lists it. */
struct session_info {
	char sid[16];
	char proto[16];
	char ip[64];
	char user[192]; /* "" before login */
	uint64_t age_s;
};
/* The live sessions of this process (at most max, oldest first) into out;
   returns how many there are in all. Any thread. */
size_t session_list(struct session_info *out, size_t max);
/* Ends every session logged in as user (escaped as in the log), on each
   one's worker, as session_stop(SESSION_STOP_KICKED): after a running
   command. Returns at once; from any thread that may use conn's server. */
void session_kick(struct net_conn *conn, const char *user);

struct session_user_count {
	char user[256];
	uint64_t sessions;
};
/* The accounts with the most sessions open now, most first, at most max of
   them, into out; returns how many. Any thread. */
size_t session_users_top(struct session_user_count *out, size_t max);
/* Fills conn (for auth_login, auth_sasl_new) from the session's connection. */
void session_auth_conn(struct session *s, enum auth_protocol proto, struct auth_conn *conn);
/* Makes s's log context current on this thread until session_log_leave(). */
const struct log_ctx *session_log_enter(struct session *s);
void session_log_leave(const struct log_ctx *prev);

/* ---- reading -------------------------------------------------------- */

struct evbuffer *session_input(struct session *s);

enum session_line {
	SESSION_LINE_MORE,    /* no complete line yet */
	SESSION_LINE_OK,      /* s->line holds it (CRLF or bare LF removed) */
	SESSION_LINE_TOOLONG, /* a line longer than max ended; it was dropped */
};
/*
 * Reads one line of at most max bytes (CRLF excluded). Bytes of a longer
 * line are dropped as they arrive; TOOLONG comes once, when its end has
 * arrived, so the protocol answers one error per line and stays in sync.
 */
enum session_line session_read_line(struct session *s, size_t max);
/* Hands up to max bytes of buffered input to sink and drains them;
   returns how many. For literals, BDAT chunks and the like. */
size_t session_read_bytes(struct session *s, size_t max, session_sink_fn *sink, void *arg);

/* ---- commands ------------------------------------------------------- */

/* A command starts: stops and revocations wait until it ends. name is its
   name for the watchdog's log line (copied up to the first character that
   is not a letter, digit, '-' or '_'), or NULL when the command already
   running continues (a SASL step, DATA). */
void session_command_begin(struct session *s, const char *name);
/* Counts a login attempt in the metrics (by protocol, result and mechanism;
   reason "blocked" also counts as throttled; a TLS login counts its TLS
   version). mech may be a client's string: only known names are kept. */
void session_count_login(struct session *s, bool ok, const char *mech, const char *reason);
/* Names the command for its latency histogram (metrics.h), timed from
   now until session_command_end(); name must be static. A second call
   before the end keeps the first name and start. */
void session_command_name(struct session *s, const char *name);
/* The command continues later (job, timer, drain): input is paused. */
void session_command_wait(struct session *s);
/* The command now waits only for the client (IDLE, a SASL challenge):
   input flows again, and a stop is delivered at once. */
void session_command_wait_client(struct session *s);
/* The command ended (its reply is queued): delivers a deferred stop. Call
   from within the protocol's input loop. */
void session_command_end(struct session *s);
/* The command ended outside the input loop (job done, timer, drain):
   session_command_end(), then input for what the client pipelined. */
void session_command_finish(struct session *s);
/*
 * Runs the current command's work(s) on pool while its worker serves other
 * sessions, then done(s) on the worker (input paused throughout, as for
 * session_command_wait). work runs with the session's log context and may
 * use the session and its protocol state, but nothing of net (it must not
 * write to the connection: collect the output and send it in done). Until
 * done the core delivers nothing to the protocol: event callbacks and the
 * read timeout run after done, stops when the command ends; when the
 * connection closes meanwhile, ops->free runs once work has returned,
 * instead of done (net_conn is gone by then). A stop other than shutdown, or
 * the connection closing, sets the cancel flag work should poll in its long
 * loops (session_is_cancelled), so a server stop takes no longer than
 * server.shutdown_grace whatever the client asked. done must end the command
 * (session_command_finish).
 */
void session_command_offload(struct session *s, struct net_jobs *pool, session_fn *work,
                             session_fn *done);
/* Whether the server is over limits.max_memory: big commands should be
   turned away with a temporary error. */
bool session_memory_is_short(struct session *s);
/* Whether an offloaded command should give up (from its pool thread). */
bool session_is_cancelled(const struct session *s);
/* Calls fn once the output queue drained (see net_conn_output_full). */
void session_resume_on_drain(struct session *s, session_fn *fn);
/* Calls fn after ms (the failed-login delay); the command keeps waiting. */
void session_delay(struct session *s, uint64_t ms, session_fn *fn);

/* ---- jobs ------------------------------------------------------------ */

/*
 * Runs work(arg) on the pool with the session's log context, then done(s,
 * arg) on the session's worker, s looked up by id (NULL if it closed).
 * Never fails; arg belongs to the job until done.
 */
void session_job_submit(struct session *s, struct net_jobs *pool, session_job_work_fn *work,
                        session_job_done_fn *done, void *arg);
struct session_ref session_ref_get(const struct session *s);
/* The session ref names, on the calling worker; NULL when it is gone. */
struct session *session_lookup(struct session_ref ref);

/* ---- events ---------------------------------------------------------- */

/* An event on the session's worker whose callback fn(s) runs with the log
   context set: for wake-ups from other threads (session_event_activate is
   thread-safe) and timers. Freed with the session at the latest. */
struct session_event *session_event_new(struct session *s, session_fn *fn);
void session_event_activate(struct session_event *e);
void session_event_add(struct session_event *e, uint64_t ms);
void session_event_free(struct session_event **ep);

/* ---- ending ---------------------------------------------------------- */

/* Asks the session to stop: ops->stop now, or when its command ends. */
void session_stop(struct session *s, enum session_stop why);
/* Closes after queued output is sent; ops->free follows later. */
void session_close(struct session *s);

/* ---- watchdog --------------------------------------------------------- */

/* Callbacks taking at least ms are logged (event=slow-callback); process-wide,
   may be called again (SIGHUP). 0 turns the watchdog off. */
void session_watchdog_configure(uint64_t ms);

#endif
