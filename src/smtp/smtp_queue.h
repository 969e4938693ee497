/* SPDX-License-Identifier: MIT */
/*
 * smtp_queue.h: the durable outbound queue, DIR/queue/, for the remote
 * recipients of submitted mail. Delivering them to their MX is a later
 * issue; until then the queue keeps them, and `tern queue list/show` shows
 * them. One message is two files named by its id:
 *
 *   ID.msg  the message as received (Received header first), CRLF lines
 *   ID.env  the envelope, a text file of "key value" lines (format in
 *           smtp_queue.c): sender, recipients with DSN's NOTIFY and ORCPT,
 *           ENVID, RET, BODY, SMTPUTF8, REQUIRETLS, the account that sent it
 *
 * Commit order (the same rule as the store's): ID.msg written under
 * queue/tmp/ and fsync'd, ID.env likewise, ID.msg renamed into queue/, then
 * ID.env (its presence is the commit), then the directory fsync'd. Only
 * then may 250 be sent. A crash leaves at most files in tmp/ or an .msg
 * without .env, which list ignores and the runner removes an hour later.
 */
#ifndef TERN_SMTP_SMTP_QUEUE_H
#define TERN_SMTP_SMTP_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "smtp/smtp_parse.h"

struct smtp_queue;
struct smtp_queue_msg;

/* Opens (creating) DIR/queue. 0, or -1 with a heap *error_out. */
int smtp_queue_open(const char *data_dir, struct smtp_queue **q_out, char **error_out);
void smtp_queue_close(struct smtp_queue **qp);

/* Starts a message file in queue/tmp (cheap: callable on an event loop).
   0, or -1 (logged). */
int smtp_queue_msg_new(struct smtp_queue *q, struct smtp_queue_msg **m_out);
/* Appends message bytes (bare LF becomes CRLF), buffered; -1 on I/O error. */
int smtp_queue_msg_write(struct smtp_queue_msg *m, const void *data, size_t len);

struct smtp_queue_rcpt {
	const char *address;
	unsigned notify;        /* enum smtp_notify bits, 0 = not given */
	const char *orcpt_type; /* or NULL */
	const char *orcpt;
};

struct smtp_envelope {
	const char *sender;  /* "" for <> */
	const char *account; /* who submitted it */
	const struct smtp_mail_params *mail;
	const struct smtp_queue_rcpt *rcpts;
	size_t n_rcpts;
	/* The recipients are local accounts (their addresses): what the store
	   refused for the moment while others of the transaction took it, to
	   be stored by the runner later ("local yes" in ID.env). */
	bool is_local;
	/* A TLS-RPT report (smtp_tlsrpt_send.h): delivered whatever the TLS
	   policies of its destination say, and not counted in the next
	   report (RFC 8460 section 5.3). "tlsrpt yes" in ID.env. */
	bool is_tlsrpt;
};

/* Makes the message durable with its envelope (blocking: a pool thread).
   id_out gets the id. 0, or -1 (logged; nothing committed). */
int smtp_queue_msg_commit(struct smtp_queue_msg *m, const struct smtp_envelope *env,
                          char id_out[40]);
/* Frees m; its files go unless committed. */
void smtp_queue_msg_free(struct smtp_queue_msg **mp);

/* True for an id the queue could have made (hex, bounded): never a path. */
bool smtp_queue_id_is_valid(const char *id);

/* ---- reading (tern queue) ---- */

/* Where a message stands: waiting for its first attempt or due now
   (queued), waiting for a retry after a temporary failure (deferred), or
   held by an administrator (held). */
enum smtp_queue_state {
	SMTP_QUEUE_STATE_QUEUED,
	SMTP_QUEUE_STATE_DEFERRED,
	SMTP_QUEUE_STATE_HELD,
	SMTP_QUEUE_STATE_COUNT,
};

/* "queued", "deferred", "held". */
const char *smtp_queue_state_name(enum smtp_queue_state state);

struct smtp_queue_entry {
	char id[40];
	enum smtp_queue_state state;
	unsigned attempts;
	int64_t next; /* unix time of the next attempt; 0: now */
	int64_t created;
	uint64_t size;
	char *sender, *account;
	char **rcpts; /* addresses */
	size_t n_rcpts;
};

/* Every committed message, oldest first. Heap; free with
   smtp_queue_entries_free. 0, or -1 with a heap *error_out. */
int smtp_queue_list(const char *data_dir, struct smtp_queue_entry **out, size_t *n_out,
                    char **error_out);
void smtp_queue_entries_free(struct smtp_queue_entry **vp, size_t n);
/* Prints the envelope of id decoded, then (with_message) the message.
   0, or -1 with a heap *error_out (no such id). */
int smtp_queue_show(const char *data_dir, const char *id, bool with_message, FILE *out,
                    char **error_out);

#endif
