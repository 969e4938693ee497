/* SPDX-License-Identifier: MIT */
/*
 * smtp_session.h: one SMTP, submission or LMTP connection, and what the
 * command files (smtp_cmd_*.c) share. The session core (session/session.h)
 * gives the sid, log context, command lifecycle and jobs; struct session is
 * the first member.
 *
 * States (RFC 5321 section 4.1.4), each entered by one function:
 *
 *   GREETED --EHLO/HELO/LHLO--> READY --MAIL--> MAIL --RCPT--> RCPT
 *      ^                          ^                              |
 *      +------ STARTTLS ----------+<-- RSET, end of DATA/BDAT ---+
 *
 *   smtp_cmd_hello()  -> READY (and resets any transaction)
 *   smtp_cmd_mail()   -> MAIL
 *   smtp_rcpt_added() -> RCPT (the first accepted recipient)
 *   smtp_tx_reset()   -> READY (RSET, after a message, a failed DATA)
 *   STARTTLS          -> GREETED (RFC 3207 section 4.2: forget everything)
 *
 * Input modes: COMMAND lines; DATA bytes through the dot decoder up to
 * CRLF.CRLF; BDAT chunks of a known size; AUTH continuation lines. While a
 * command waits for a job (recipient lookup, delivery, a SASL step) input
 * is paused, so pipelined commands (RFC 2920) stay queued in order.
 */
#ifndef TERN_SMTP_SMTP_SESSION_H
#define TERN_SMTP_SMTP_SESSION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/aliases.h"
#include "auth/auth.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "session/session.h"
#include "smtp/smtp.h"
#include "smtp/smtp_address.h"
#include "smtp/smtp_mailauth.h"
#include "smtp/smtp_parse.h"

struct arena;
struct smtp_queue_msg;
struct store_spool;

/* An immutable snapshot of the settings, shared by sessions (refcounted). */
struct smtp_config {
	atomic_int refs;
	struct smtp_settings s; /* strings owned */
	struct smtp_domains domains;
	struct smtp_mailauth_policy mailauth_policy;
	bool tls_available;
};

struct smtp_server {
	struct session_service services[SMTP_ROLE_COUNT];
	struct smtp_listener {
		struct smtp_server *srv;
		enum smtp_role role;
	} listeners[SMTP_ROLE_COUNT];
	struct store *store;
	struct smtp_queue *queue;
	struct auth_service *auth;
	struct net_jobs *jobs;
	struct net_jobs *store_pool;
	struct net_jobs *lookup_pool; /* MAIL's and RCPT's lookups */
	void *lock;                   /* pthread_mutex_t *, guards config */
	struct smtp_config *config;
};

enum smtp_state {
	SMTP_STATE_GREETED,
	SMTP_STATE_READY,
	SMTP_STATE_MAIL,
	SMTP_STATE_RCPT,
};

enum smtp_mode {
	SMTP_MODE_COMMAND,
	SMTP_MODE_DATA,
	SMTP_MODE_BDAT,
	SMTP_MODE_AUTH,
};

/* One accepted recipient. */
struct smtp_rcpt {
	const char *path;    /* as written between <>, for replies and Received */
	const char *address; /* normalised: local lowercased, remote domain lowercased */
	struct smtp_rcpt_params params;
	bool is_remote;               /* submission: queued */
	struct auth_recipient *accts; /* local: who receives it (tx arena) */
	size_t n_accts;
};

/* The mail transaction (MAIL to end of data). Strings in the tx arena. */
struct smtp_tx {
	const char *sender; /* reverse-path, "" for <> */
	struct smtp_mail_params mail;
	struct smtp_rcpt *rcpts;
	size_t n_rcpts, cap_rcpts;
	size_t n_remote;
	bool is_bdat; /* the message is arriving in BDAT chunks */
};

struct smtp_session {
	struct session base; /* sid, log context, lifecycle, conn */
	struct smtp_server *srv;
	enum smtp_role role;
	struct smtp_config *cfg;
	struct arena *cmd_arena; /* reset after every command */
	struct arena *tx_arena;  /* reset with the transaction */
	enum smtp_state state;
	enum smtp_mode mode;
	bool is_esmtp;   /* EHLO/LHLO: extended replies (RFC 2034) */
	char helo[256];  /* the client's HELO/EHLO name, sanitised */
	uint64_t errors; /* bad commands so far */
	uint64_t junk;   /* commands since the last MAIL that did nothing */
	uint64_t messages;
	struct smtp_tx tx;

	/* authenticated (submission) */
	bool is_authed;
	struct auth_identity user;
	struct auth_sasl *sasl;
	const char *sasl_mech; /* static */
	bool sasl_awaiting_final;

	/* the message being received */
	struct store_spool *spool;   /* local recipients */
	struct smtp_queue_msg *qmsg; /* remote recipients (submission) */
	/* SMTP and submission with several local accounts: the spool's bytes
	   also go here, so that an account refusing the message at DATA while
	   others took it (one reply for all) is queued for local redelivery
	   rather than lost. Freed unless needed. */
	struct smtp_queue_msg *redo;
	/* MX with mailauth.enabled: the message is held (an unnamed file in
	   hold_dir) while DKIM hashes it, and spooled only once the checks
	   have said where it goes, with Authentication-Results on top. */
	struct smtp_mailauth *mailauth;
	int hold_fd;
	struct buf hold_buf;  /* bytes not yet written to hold_fd */
	char *trace_top;      /* Return-Path, Delivered-To (heap) */
	char *trace_received; /* Received (heap) */
	enum smtp_data_error {
		SMTP_DATA_OK,
		SMTP_DATA_TOOBIG,
		SMTP_DATA_TEMP,
	} data_error;
	uint64_t data_size; /* message bytes so far (smtp.max_message_size) */
	struct smtp_dot_decoder dot;
	char *decode_buf;   /* heap, SMTP_DECODE_CHUNK */
	struct buf header;  /* the header block, up to SMTP_HEADER_MAX (From: check) */
	bool has_header;    /* its end was seen */
	uint64_t bdat_left; /* bytes of the current chunk still to read */
	bool bdat_last;
	bool bdat_discard;        /* a refused chunk: read and drop it */
	const char *bdat_refusal; /* its reply */
};

#define SMTP_DECODE_CHUNK (16 * 1024)
/* Headers kept for the From: check; past this only the kept part counts. */
#define SMTP_HEADER_MAX (64 * 1024)

/* ---- replies (smtp_reply.c) ---- */

/*
 * "code x.y.z text" CRLF; the enhanced code (RFC 2034) only after EHLO or
 * LHLO. A text with '\n' becomes a multi-line reply ("250-..." lines).
 */
void smtp_reply(struct smtp_session *s, int code, const char *enhanced, const char *fmt, ...)
        PRINTF_LIKE(4, 5);
/* The reply for a store error at delivery or RCPT time (one place for all:
   quota per smtp.quota_temporary). */
void smtp_reply_store_error(struct smtp_session *s, int store_err, const char *who);
/* A command the client got wrong: replied, counted; over smtp.max_errors
   the session ends with 421. */
void smtp_reply_error(struct smtp_session *s, int code, const char *enhanced, const char *fmt, ...)
        PRINTF_LIKE(4, 5);
/* 421 and close. */
void smtp_session_close(struct smtp_session *s, const char *enhanced, const char *text);

/* ---- session (smtp_session.c) ---- */

/* The command ended with its reply sent: next command. From input. */
void smtp_cmd_done(struct smtp_session *s);
/* The same from a job's done callback or a timer: resumes input. */
void smtp_cmd_finish(struct smtp_session *s);
/* Back to READY: drops the transaction, its spool and queue file. */
void smtp_tx_reset(struct smtp_session *s);
/* Log-escaped client string, in the command arena. */
const char *smtp_str(struct smtp_session *s, const char *str);

/* ---- commands ---- */

void smtp_cmd_hello(struct smtp_session *s, const struct smtp_command *c);
void smtp_cmd_mail(struct smtp_session *s, const struct smtp_command *c);
void smtp_cmd_rcpt(struct smtp_session *s, const struct smtp_command *c);
void smtp_cmd_data(struct smtp_session *s, const struct smtp_command *c);
void smtp_cmd_bdat(struct smtp_session *s, const struct smtp_command *c);
void smtp_cmd_auth(struct smtp_session *s, const struct smtp_command *c);
void smtp_cmd_starttls(struct smtp_session *s, const struct smtp_command *c);
/* RSET, NOOP, QUIT, VRFY, EXPN, HELP. */
void smtp_cmd_simple(struct smtp_session *s, const struct smtp_command *c);

/* Input modes other than COMMAND: false when more input is needed. */
bool smtp_data_input(struct smtp_session *s);
bool smtp_bdat_input(struct smtp_session *s);
bool smtp_auth_input(struct smtp_session *s);

/* ---- delivery (smtp_deliver.c) ---- */

/* Starts receiving the message: spool and/or queue file, trace headers
   first. false after replying 451 when the store is unavailable. */
bool smtp_message_begin(struct smtp_session *s);
/* Message bytes as received (dot-unstuffed or a BDAT chunk). */
void smtp_message_write(struct smtp_session *s, const char *data, size_t len);
/* The message is complete: deliver it on the store pool, then reply (one
   reply, or one per recipient in LMTP) and smtp_cmd_finish(). A held
   message is checked first (smtp_mailauth_finish on the lookup pool). */
void smtp_message_end(struct smtp_session *s);
/* Drops a held message and its checks (with the transaction). */
void smtp_message_hold_free(struct smtp_session *s);

#endif
