/* SPDX-License-Identifier: MIT */
/*
 * smtp_queue_item.h: one queued message as the runner sees it: the whole
 * envelope of ID.env (smtp_queue.h) and the delivery state of each
 * recipient, kept in ID.state next to it:
 *
 *   tern-queue-state 1
 *   attempts 2
 *   next 1796160000                   (unix time of the next attempt)
 *   warned 1                          (a delay DSN went out; absent: none)
 *   rcpt 0 delivered 250 2.0.0 Ok: queued as 1234 (mx1.example.com)
 *   rcpt 1 failed 550 5.1.1 no such user (mx1.example.com)
 *   rcpt 2 pending 451 4.3.0 try again later (mx2.example.com)
 *
 * A recipient without a line is pending, never tried. ID.state is
 * replaced atomically (tmp, fsync, rename, fsync dir) after every
 * transaction, so a crash repeats at most the transaction that was running
 * (RFC 5321 section 6.1 accepts that duplicate; nothing is lost).
 *
 * Control files the CLI makes while the server runs, so that the runner
 * alone writes ID.state: ID.hold (held while it exists) and ID.retry
 * (try now; the runner removes it). Deleting removes ID.env first (the
 * commit point), then the others.
 */
#ifndef TERN_SMTP_SMTP_QUEUE_ITEM_H
#define TERN_SMTP_SMTP_QUEUE_ITEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtp/smtp_parse.h"

enum smtp_rcpt_state {
	SMTP_RCPT_PENDING,
	SMTP_RCPT_DELIVERED,
	SMTP_RCPT_FAILED,
};

struct smtp_queue_item_rcpt {
	char *address;
	unsigned notify;
	char *orcpt_type, *orcpt; /* or NULL */
	enum smtp_rcpt_state state;
	char *last; /* "451 4.3.0 text (host)", or NULL: never tried */
};

struct smtp_queue_item {
	char *dir; /* DIR/queue */
	char id[40];
	int64_t created;
	uint64_t size;
	char *sender, *account;
	enum smtp_body body;
	bool smtputf8, requiretls;
	bool is_local;  /* local accounts to store into (smtp_envelope.is_local) */
	bool is_tlsrpt; /* a TLS-RPT report (smtp_envelope.is_tlsrpt) */
	enum smtp_ret ret;
	char *envid; /* or NULL */
	struct smtp_queue_item_rcpt *rcpts;
	size_t n_rcpts;
	unsigned attempts;
	int64_t next;    /* 0: now */
	bool delay_sent; /* the delay warning went out */
};

/* Reads ID.env and ID.state (absent: all pending) from queue_dir. 0, or -1
   (no such message, or unreadable). Free with smtp_queue_item_free. */
int smtp_queue_item_read(const char *queue_dir, const char *id, struct smtp_queue_item **out);
void smtp_queue_item_free(struct smtp_queue_item **ip);
/* Writes ID.state atomically. 0, or -1 (logged). */
int smtp_queue_item_save(const struct smtp_queue_item *it);
/* Removes the message's files, ID.env first. */
void smtp_queue_item_remove(const char *queue_dir, const char *id);
/* Sets a recipient's state and last reply (control bytes made '?'). */
void smtp_queue_item_set(struct smtp_queue_item_rcpt *r, enum smtp_rcpt_state state, int code,
                         const char *text, const char *host);

/* Only the time of the next attempt, cheaply (the runner's scan): from
   ID.state, 0 when there is none. */
int64_t smtp_queue_item_next(const char *queue_dir, const char *id);
/* The attempts made so far and the next one's time (0: now), from ID.state;
   both 0 when there is none yet. */
void smtp_queue_item_schedule(const char *queue_dir, const char *id, unsigned *attempts_out,
                              int64_t *next_out);

/* ---- the CLI's controls (tern queue retry/hold/release/delete) ---- */
enum smtp_queue_control {
	SMTP_QUEUE_RETRY,
	SMTP_QUEUE_HOLD,
	SMTP_QUEUE_RELEASE,
	SMTP_QUEUE_DELETE,
};
/* Applies op to id. 0, or -1 with a heap *error_out (no such message). */
int smtp_queue_control(const char *data_dir, const char *id, enum smtp_queue_control op,
                       char **error_out);
/* Applies op to every queued message (`tern queue retry --all`, the admin
   API's all=yes); *n_out counts them. A message delivered meanwhile is
   skipped. 0, or -1 with a heap *error_out (the queue is unreadable). */
int smtp_queue_control_all(const char *data_dir, enum smtp_queue_control op, size_t *n_out,
                           char **error_out);
/* The name of op: "retry", "hold", "release", "delete". */
const char *smtp_queue_control_name(enum smtp_queue_control op);
/* The op named name, or -1. */
int smtp_queue_control_parse(const char *name);
/* True when ID.hold exists. */
bool smtp_queue_is_held(const char *queue_dir, const char *id);

#endif
