/* SPDX-License-Identifier: MIT */
/*
 * smtp_dsn.h: delivery status notifications (RFC 3464, RFC 3461 section
 * 6): a multipart/report with a human part, the message/delivery-status
 * part (Reporting-MTA, Original-Envelope-Id, one block per recipient with
 * Original-Recipient, Final-Recipient, Action, Status, Remote-MTA,
 * Diagnostic-Code) and the original message, whole or (RET=HDRS) its
 * header only (text/rfc822-headers). Pure apart from reading the original
 * from its file: the bytes go to a callback (the store spool, a test's
 * buffer), so the original is never held in memory.
 *
 * smtp_dsn_wanted says whether a recipient's NOTIFY asks for a report:
 * without NOTIFY, failures are reported (RFC 3461 section 4.1), NEVER
 * reports nothing, and nothing goes to the null sender (RFC 5321 section
 * 6.1: no bounce loops).
 */
#ifndef TERN_SMTP_SMTP_DSN_H
#define TERN_SMTP_SMTP_DSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum smtp_dsn_action {
	SMTP_DSN_FAILED,
	SMTP_DSN_RELAYED, /* delivered to a server without DSN (NOTIFY=SUCCESS) */
	SMTP_DSN_DELAYED,
};

struct smtp_dsn_rcpt {
	const char *address;
	const char *orcpt_type, *orcpt; /* or NULL */
	enum smtp_dsn_action action;
	const char *last; /* the runner's "550 5.1.1 text (host)" */
};

struct smtp_dsn {
	const char *reporting_mta; /* our hostname */
	const char *to;            /* the envelope sender */
	const char *queue_id;
	const char *envid; /* or NULL */
	int64_t arrival, now;
	bool headers_only; /* RET=HDRS */
	int fd;            /* the original message (CRLF), read from offset 0 */
	const struct smtp_dsn_rcpt *rcpts;
	size_t n_rcpts;
};

typedef int smtp_dsn_put_fn(void *arg, const void *data, size_t len);

/* Writes the report through put; 0, or -1 when put or reading failed. */
int smtp_dsn_write(const struct smtp_dsn *d, smtp_dsn_put_fn *put, void *arg);

/* Whether NOTIFY (enum smtp_notify bits, 0 = not given) asks for action,
   for a message from sender ("" = null). */
bool smtp_dsn_wanted(unsigned notify, enum smtp_dsn_action action, const char *sender);

#endif
