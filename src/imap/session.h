/* SPDX-License-Identifier: MIT */
/*
 * session.h: one IMAP connection's state and the interface command handlers
 * use: the command being run, the reply writer and completion.
 *
 * Session states (RFC 9051 section 3): NOT_AUTHENTICATED -> AUTHENTICATED
 * (LOGIN, AUTHENTICATE) -> SELECTED (SELECT, EXAMINE) -> LOGOUT. The
 * dispatcher checks a command's allowed states from the command table, so
 * handlers never do.
 *
 * Input modes: COMMAND (the parser), and LINE for a command that reads raw
 * client lines (an AUTHENTICATE response, IDLE's DONE). While a command waits
 * (IMAP_CMD_WAIT) input is paused, so pipelined commands stay unread. The
 * lifecycle, sid, log context and jobs are the session core's
 * (session/session.h); struct session is the first member.
 */
#ifndef TERN_IMAP_SESSION_H
#define TERN_IMAP_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/auth.h"
#include "imap/imap.h"
#include "imap/parser.h"
#include "lib/util.h"
#include "session/session.h"
#include "store/store.h"

struct arena;
struct imap_language;
struct event;
struct net_conn;
struct store;
struct store_account;
struct store_mailbox;
struct imap_context;
struct imap_catenate;
struct imap_notify;
struct imap_shared_handle;

enum imap_state {
	IMAP_STATE_NOT_AUTH = 1 << 0,
	IMAP_STATE_AUTH = 1 << 1,
	IMAP_STATE_SELECTED = 1 << 2,
	IMAP_STATE_LOGOUT = 1 << 3,
};
#define IMAP_STATE_ANY    (IMAP_STATE_NOT_AUTH | IMAP_STATE_AUTH | IMAP_STATE_SELECTED)
#define IMAP_STATE_AUTHED (IMAP_STATE_AUTH | IMAP_STATE_SELECTED)

enum imap_cmd_status {
	IMAP_CMD_DONE, /* tagged reply sent */
	IMAP_CMD_WAIT, /* will call imap_cmd_finish() later */
};

struct imap_session;
struct imap_cmd;

typedef enum imap_cmd_status imap_cmd_fn(struct imap_cmd *cmd);
/* Continues a command that paused for the client to read (see
   imap_cmd_resume_on_drain). */
typedef enum imap_cmd_status imap_resume_fn(struct imap_cmd *cmd);
/* A raw line arrived for a command in LINE mode (no CRLF, NUL-terminated). */
typedef enum imap_cmd_status imap_line_fn(struct imap_cmd *cmd, const char *line, size_t len);

struct imap_server {
	struct session_service service;
	struct store *store;
	struct imap_settings settings;
	struct auth_service *auth;
	struct net_jobs *jobs;       /* auth checks */
	struct net_jobs *store_pool; /* message commits (fsync) */
	struct net_jobs *query_pool; /* IMAP_CMD_OFF_LOOP commands, or NULL */
	bool tls_available;
	void *lock; /* pthread_mutex_t *, guards the settings copies */
};

struct imap_cmd {
	struct imap_session *session;
	const struct imap_command_def *def;
	bool is_uid;         /* UID FETCH, UID STORE, ... */
	struct arena *arena; /* freed when the tagged reply has gone */
	const char *tag;
	const char *name;
	const struct imap_arg *args;
	size_t nargs;
	imap_line_fn *on_line;    /* LINE mode */
	imap_resume_fn *on_drain; /* waiting for the output queue to drain */
	void *data;               /* the handler's own state */
	/* Releases what the handler holds outside arena (fds, heap buffers):
	   called once when the command ends or its session closes. */
	void (*on_free)(struct imap_cmd *cmd);
};

struct imap_session {
	struct session base; /* sid, log context, command lifecycle, conn */
	struct imap_server *srv;
	struct imap_parser *parser;
	struct imap_literal_sink literal_sink;
	uint64_t literal_bytes;          /* in-memory literals of the command being read */
	struct imap_catenate *catenates; /* its CATENATE messages (imap_catenate.c) */
	struct arena *cmd_arena;
	struct imap_settings settings;
	enum imap_state state;
	struct auth_identity user;
	struct imap_cmd cmd; /* the command being run */
	bool is_holding;     /* it runs off the loop: output gathers in held */
	struct buf held;
	bool is_line_mode; /* cmd reads raw lines (on_line) */
	/* LANGUAGE (RFC 5255 3): the replies' language; NULL is i-default
	   (English), and STARTTLS returns to it (section 7). */
	const struct imap_language *language;
	uint64_t bad_in_a_row;
	uint64_t commands;
	struct auth_sasl *sasl;   /* AUTHENTICATE between steps */
	bool sasl_awaiting_final; /* sent final server data, waiting for "" */
	const char *sasl_mech;    /* static */

	/* authenticated */
	struct store_account *account;
	/* Who the session is to other accounts' ACLs (imap_namespace.c):
	   name is user.address, groups read at login (heap). */
	struct store_identity identity;
	char **groups;
	size_t n_groups;
	struct imap_shared_handle *shared; /* handles on other accounts, opened on use */
	/* LOGIN "user/mailbox" (imap.shared_login_separator): before login
	   the mailbox asked for, after it the full name that INBOX stands for
	   (imap_namespace_enter); heap, NULL for a normal login. */
	char *login_box;
	bool utf8_names;            /* ENABLE IMAP4rev2 or UTF8=ACCEPT: names travel as UTF-8 */
	bool utf8_accept;           /* ENABLE UTF8=ACCEPT: SEARCH takes no CHARSET (RFC 6855 3) */
	bool is_rev2;               /* ENABLE IMAP4rev2 */
	bool condstore;             /* CONDSTORE enabled (RFC 7162) */
	bool qresync;               /* QRESYNC enabled: VANISHED instead of EXPUNGE */
	/* COMPARATOR (RFC 5255 4.7): how SEARCH, SORT and THREAD compare
	   strings; COLLATION_DEFAULT (0) until the client picks another. */
	enum collation comparator;
	struct imap_notify *notify; /* NOTIFY SET (imap_notify.h), or NULL */

	/* selected */
	struct store_mailbox *mbox;
	struct store_account *mbox_account; /* its owner's handle (s->account or shared) */
	unsigned mbox_rights;               /* the user's rights on it (RFC 4314) */
	const char *mbox_name;              /* heap */
	bool is_readonly;
	uint64_t kw_announced;         /* keywords the client was given in FLAGS */
	struct imap_context *contexts; /* SEARCH/SORT RETURN (UPDATE), imap_context.h */
	struct session_event *wake;    /* another session changed the mailbox */
	bool is_idling;
	uint32_t *saved_uids; /* SEARCHRES "$" (heap) */
	size_t n_saved;
	const char *delayed_status; /* for a delayed tagged reply */
	const char *delayed_text;
};

/* Every byte for the client goes through here: to the connection, or, while
   the command runs off the loop, into s->held, sent when it is back. */
void imap_session_write(struct imap_session *s, const void *data, size_t len);
/* Reply writer: adds "* ", the tag and CRLF. Texts of tagged replies and
   of untagged OK/NO/BAD/BYE are formats looked up in s->language (the
   English source text is the key, reply.c). */
void imap_reply_untagged(struct imap_session *s, const char *fmt, ...) PRINTF_LIKE(2, 3);
void imap_reply_tagged(struct imap_cmd *cmd, const char *status, const char *fmt, ...)
        PRINTF_LIKE(3, 4);
#define imap_reply_ok(cmd, ...)  imap_reply_tagged(cmd, "OK", __VA_ARGS__)
#define imap_reply_no(cmd, ...)  imap_reply_tagged(cmd, "NO", __VA_ARGS__)
#define imap_reply_bad(cmd, ...) imap_reply_tagged(cmd, "BAD", __VA_ARGS__)
/* An untagged response built by the caller, bytes that may hold literals
   (and literal8 NULs): "* " data CRLF. */
void imap_reply_untagged_data(struct imap_session *s, const char *data, size_t len);
void imap_reply_continue(struct imap_session *s, const char *text);
/* english in the session's language (english itself when untranslated):
   for a reply text built before it is written, e.g. with arena_printf(). */
const char *imap_reply_text(const struct imap_session *s, const char *english)
        __attribute__((format_arg(2)));
/* Returns s as an IMAP string (quoted, or a literal when it must), from a. */
const char *imap_quote(struct arena *a, const char *s);
/* The same, but 8-bit UTF-8 may be quoted (UTF8=ACCEPT, RFC 6855 section 3). */
const char *imap_quote_utf8(struct arena *a, const char *s, bool utf8_ok);

/* The CAPABILITY list for the session's current state. */
const char *imap_capability(struct imap_session *s);

/* Ends a command that returned IMAP_CMD_WAIT (after its tagged reply). */
void imap_cmd_finish(struct imap_cmd *cmd);
/* Sends the tagged reply after the failed-login delay, then finishes. */
void imap_cmd_finish_delayed(struct imap_cmd *cmd, uint64_t delay_ms, const char *status,
                             const char *text);
/*
 * For commands with big output (FETCH of many bodies): when
 * net_conn_output_full() says the client is behind, the handler calls this
 * and returns IMAP_CMD_WAIT; fn runs when the queue has drained to a
 * quarter, and returns DONE (tagged reply sent) or WAIT (called again, or
 * waiting otherwise). Keeps memory per session bounded by limits.max_output.
 */
void imap_cmd_resume_on_drain(struct imap_cmd *cmd, imap_resume_fn *fn);
/* Switches the command into LINE mode (the next client line goes to fn). */
void imap_cmd_read_line(struct imap_cmd *cmd, imap_line_fn *fn);
/* Opens the account's store and moves to AUTHENTICATED; logs it. Returns
   0, or -1 when the store could not be opened (logged; reply UNAVAILABLE),
   -2 when s->login_box names no mailbox the user may read (the session
   stays unauthenticated; reply AUTHORIZATIONFAILED). */
int imap_session_login(struct imap_session *s, const struct auth_identity *id, const char *mech);
/* Back to NOT AUTHENTICATED (UNAUTHENTICATE, RFC 8437): closes the mailbox
   and the account and forgets the user and every ENABLE. */
void imap_session_unauthenticate(struct imap_session *s);
/* Says BYE and closes after the output drains. */
void imap_session_bye(struct imap_session *s, const char *text);

/* Argument helpers for handlers. */
bool imap_args_astring(const struct imap_cmd *cmd, size_t i, const char **out);
bool imap_args_end(const struct imap_cmd *cmd, size_t n);

/* The command table. */
enum imap_cmd_flags {
	/* RFC 9051 section 7.5.1: no EXPUNGE while answering FETCH, STORE or
	   SEARCH by sequence number; their replies carry no mailbox updates. */
	IMAP_CMD_NO_EXPUNGE = 1 << 0,
	IMAP_CMD_UID_ALLOWED = 1 << 1, /* may follow "UID" */
	/* Its cost grows with the mailbox (a scan, a sort, a big COPY): it
	   runs whole on the query pool while the session waits (issue 17), so
	   the worker's other sessions are not stalled. Such a handler answers
	   before it returns (never IMAP_CMD_WAIT), writes only through the
	   reply writer, touches only its session and store handles, and polls
	   session_is_cancelled() in loops a client can make long. */
	IMAP_CMD_OFF_LOOP = 1 << 2,
};

struct imap_command_def {
	const char *name;
	imap_cmd_fn *fn;
	unsigned states; /* enum imap_state bits where it may run */
	unsigned flags;  /* enum imap_cmd_flags */
};
const struct imap_command_def *imap_command_lookup(const char *name);

#endif
