/* SPDX-License-Identifier: MIT */
/*
 * smtp_outbound.h: the queue runner of `tern serve`: delivers what the
 * outbound queue (DIR/queue, smtp_queue.h) holds to the recipients' MX
 * hosts (smtp_mx.h) or to one smarthost, with the SMTP client
 * (smtp_client.h), and keeps each recipient's state (smtp_queue_item.h).
 *
 * One scheduler thread looks at the queue directory every second (new
 * messages, ID.retry and ID.hold files of the CLI, due retries) and hands
 * due messages to `workers` delivery threads; each delivers one message,
 * domain by domain, at most `per_domain` connections to a domain at once
 * (a domain at its limit is tried again a second later). A temporary
 * failure retries after retry_first, doubling up to retry_max; after
 * max_age the recipient fails. A message leaves the queue when every
 * recipient is delivered or failed. Failures, and successes at a server
 * without DSN, are reported to the sender as NOTIFY asks (smtp_dsn.h):
 * the report goes into the submitting account's INBOX. A message still
 * pending after delay_warning gets one "delayed" report for the
 * recipients whose NOTIFY has DELAY.
 *
 * With tlsrpt on, each session's TLS outcome under its policy (MTA-STS,
 * DANE or none) is counted (smtp_tlsrpt_db.h) and a report thread sends
 * the reports of past days (smtp_tlsrpt_send.h), checking once an hour.
 *
 * Threads of its own, not the event loops: delivery blocks (DNS, the
 * remote server's pace) and touches nothing the sessions share.
 */
#ifndef TERN_SMTP_SMTP_OUTBOUND_H
#define TERN_SMTP_SMTP_OUTBOUND_H

#include <stdbool.h>
#include <stdint.h>

struct smtp_outbound_settings {
	const char *hostname;       /* EHLO name */
	const char *relayhost;      /* "host:port" for all remote mail; "" = MX */
	const char *relay_user;     /* AUTH at the relayhost; "" = none */
	const char *relay_password; /* read from relay.password_file by the caller */
	uint64_t mx_port;           /* 25; tests use another */
	const char *nameservers;    /* "" = resolv.conf */
	uint64_t workers, per_domain;
	uint64_t retry_first_ms, retry_max_ms, max_age_ms, timeout_ms;
	uint64_t delay_warning_ms;     /* one "delayed" DSN after this; 0 = none */
	bool mta_sts;                  /* apply receivers' MTA-STS policies (RFC 8461) */
	uint64_t mta_sts_port;         /* the policy host's HTTPS port: 443; tests use another */
	const char *ca_file;           /* CAs trusted beside the system's; "" = none */
	bool dane;                     /* DANE for MX hosts with validated TLSA (RFC 7672) */
	const char *trust_anchor_file; /* DNSSEC trust anchors; "" = none (nothing validates) */
	/* TLS-RPT (RFC 8460): count every MX session's TLS outcome in
	   DATA_DIR/tlsrpt.db and send each day's reports once it is over. */
	bool tlsrpt;
	const char *tlsrpt_organization; /* organization-name */
	const char *tlsrpt_contact;      /* contact-info */
	const char *tlsrpt_from;         /* sender of the report mail */
};

struct smtp_outbound;

struct store;

/* Starts the threads (strings are copied). Bounces go into the submitting
   account's INBOX in store (borrowed; NULL: no bounces). NULL with a heap
   *error_out. */
struct smtp_outbound *smtp_outbound_start(const char *data_dir, struct store *store,
                                          const struct smtp_outbound_settings *s, char **error_out);
/* Stops: deliveries running finish their transaction (bounded by the
   timeout), queued ones wait for the next start. */
void smtp_outbound_stop(struct smtp_outbound **op);

/* The delay before attempt n+1 after n failed ones (pure, unit-tested). */
uint64_t smtp_outbound_backoff_ms(unsigned attempts, uint64_t first_ms, uint64_t max_ms);

#endif
