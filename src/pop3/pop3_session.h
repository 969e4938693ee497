/* SPDX-License-Identifier: MIT */
/*
 * pop3_session.h: one POP3 connection and what the command files share.
 *
 * States (RFC 1939 section 3): AUTHORIZATION (USER/PASS, APOP, AUTH, CAPA,
 * STLS, UTF8, LANG, QUIT) -> TRANSACTION once the maildrop is open (STAT,
 * LIST, RETR, DELE, NOOP, RSET, TOP, UIDL, CAPA, LANG, QUIT) -> UPDATE at
 * QUIT: the marked messages are removed, atomically, then the connection
 * closes. A connection that just drops never reaches UPDATE: nothing is
 * removed. One command at a time; the session core pauses pipelined input
 * (RFC 2449 PIPELINING) while a command waits for a job or the client.
 */
#ifndef TERN_POP3_SESSION_H
#define TERN_POP3_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/auth.h"
#include "lib/util.h"
#include "pop3/pop3.h"
#include "pop3/pop3_maildrop.h"
#include "pop3/pop3_parse.h"
#include "session/session.h"

struct arena;

enum pop3_state { POP3_AUTHORIZATION, POP3_TRANSACTION, POP3_UPDATE };

struct pop3_server {
	struct session_service service;
	struct pop3_settings settings;
	struct auth_service *auth;
	struct net_jobs *auth_pool, *store_pool;
	struct store *store;
	bool tls_available;
	void *lock; /* pthread_mutex_t *, guards the settings copies */
};

struct pop3_session;
/* A raw client line for a command that asked for one (an AUTH response);
   returns as a pop3_cmd_fn does. */
typedef bool pop3_line_fn(struct pop3_session *s, const char *line, size_t len);

struct pop3_session {
	struct session base; /* first: sid, log context, lifecycle, conn */
	struct pop3_server *srv;
	struct pop3_settings settings;
	enum pop3_state state;
	struct arena *arena; /* per command */
	uint64_t bad_in_a_row;
	uint64_t commands;
	bool utf8;                /* UTF8 was given (RFC 6856) */
	char user[256];           /* USER's argument, "" before */
	char apop_timestamp[64];  /* the greeting's msg-id when APOP is offered */
	struct auth_sasl *sasl;   /* AUTH between steps */
	pop3_line_fn *on_line;    /* reading raw lines for the command */
	bool sasl_awaiting_final; /* sent final server data, waiting for "" */
	const char *sasl_mech;    /* static */
	struct auth_identity id;  /* TRANSACTION: who */
	bool holds_lock;          /* pop3_lock is ours */
	struct pop3_maildrop md;
	/* RETR/TOP in progress */
	struct store_reader *reader; /* made at the first RETR/TOP, kept */
	uint32_t retr_index;         /* also LIST/UIDL's cursor */
	uint64_t retr_offset;
	struct pop3_stuffer stuffer;
};

/* Replies ("+OK text" / "-ERR text", CRLF added). */
void pop3_reply_ok(struct pop3_session *s, const char *fmt, ...) PRINTF_LIKE(2, 3);
void pop3_reply_err(struct pop3_session *s, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* A line of a multi-line response, CRLF added. */
void pop3_reply_line(struct pop3_session *s, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* Ends a command that waited (job, timer, drain): runs what was pipelined. */
void pop3_command_finish(struct pop3_session *s);
/* The next client line goes to fn (input keeps flowing; a stop ends it). */
void pop3_read_line(struct pop3_session *s, pop3_line_fn *fn);
/* Says text ("+OK ..." or "-ERR ...", complete) and closes. */
void pop3_session_end(struct pop3_session *s, const char *line);

/* Command handlers: true when the reply was sent (the command is over),
   false when the command waits (it calls pop3_command_finish). */
typedef bool pop3_cmd_fn(struct pop3_session *s, const struct pop3_command *cmd);
pop3_cmd_fn pop3_cmd_user, pop3_cmd_pass, pop3_cmd_apop, pop3_cmd_auth;
pop3_cmd_fn pop3_cmd_stat, pop3_cmd_list, pop3_cmd_uidl, pop3_cmd_dele, pop3_cmd_rset,
        pop3_cmd_noop, pop3_cmd_retr, pop3_cmd_top, pop3_cmd_quit;
pop3_cmd_fn pop3_cmd_capa, pop3_cmd_stls, pop3_cmd_utf8, pop3_cmd_lang;

/* The message argument of RETR, DELE, LIST, UIDL, TOP: 1-based number of a
   message not marked deleted. Replies -ERR and returns false otherwise. */
bool pop3_message_arg(struct pop3_session *s, const char *arg, uint32_t *index_out);

/* Lets go of the maildrop lock if the session holds it: at QUIT's UPDATE,
   before its reply, and when the session is freed. */
void pop3_session_unlock(struct pop3_session *s);

/* After a successful authentication: claims the maildrop (IN-USE,
   LOGIN-DELAY), opens it on the store pool, and replies. Always waits. */
void pop3_login(struct pop3_session *s, const struct auth_identity *id, const char *mech);

#endif
