/* SPDX-License-Identifier: MIT */
/*
 * smtp_tlsrpt_send.h: sending TLS-RPT reports (RFC 8460 section 5): for
 * each policy domain and day counted in tlsrpt.db, the domain's
 * `_smtp._tls` TXT record (section 3) names where the report goes; the
 * JSON (section 4), gzip'd, goes by mail for each mailto: URI (section
 * 5.3: multipart/report; report-type="tlsrpt", an application/tlsrpt+gzip
 * part, the TLS-Report-Domain and TLS-Report-Submitter fields, the
 * section 5.3 Subject), queued in DATA_DIR/queue for the queue runner,
 * which DKIM-signs it with the From: domain's keys, and by HTTPS POST for
 * each https: URI (section 5.3.1, application/tlsrpt+gzip).
 *
 * The sessions of a day are taken out of the database before they are
 * sent: a report is sent at most once. When the TXT lookup fails for the
 * moment they are put back for the next run; a domain without a record
 * gets nothing and its counts are dropped. Blocking (DNS, HTTPS): the
 * runner's report thread or the CLI.
 */
#ifndef TERN_SMTP_SMTP_TLSRPT_SEND_H
#define TERN_SMTP_SMTP_TLSRPT_SEND_H

#include <stddef.h>
#include <stdint.h>

struct smtp_resolver;
struct smtp_tlsrpt_db;
struct smtp_tlsrpt_rows;
struct buf;

struct smtp_tlsrpt_settings {
	const char *data_dir;     /* where the queue is */
	const char *organization; /* organization-name */
	const char *contact;      /* contact-info */
	const char *from;         /* From: and envelope sender of report mail */
	const char *submitter;    /* TLS-Report-Submitter, the report-id's right side */
	const char *ca_file;      /* CAs beside the system's for https URIs; "" none */
	uint64_t timeout_ms;      /* each HTTPS POST */
};

/* The JSON report of one day and domain into out (report_id from
   smtp_tlsrpt_report_id); the date-range ends at the day's end or at now,
   whichever is earlier. */
void smtp_tlsrpt_report_build(const struct smtp_tlsrpt_settings *s,
                              const struct smtp_tlsrpt_rows *rows, const char *report_id,
                              int64_t now, struct buf *out);
/* A unique report-id, "YYYY-MM-DD.RANDOM@submitter" (an RFC 5322 msg-id's
   inside, as the Subject's Report-ID wants), into out. */
void smtp_tlsrpt_report_id(const struct smtp_tlsrpt_settings *s, int64_t day, char *out,
                           size_t cap);

/* Sends the reports of every day before `before` (unix time; the start of
   today for the daily run, of tomorrow to include today so far). Returns
   how many reports went to at least one URI, or -1 when the database
   failed; what went where is logged (event=tlsrpt-sent, tlsrpt-failed,
   tlsrpt-no-record). */
int smtp_tlsrpt_send(struct smtp_tlsrpt_db *db, struct smtp_resolver *r,
                     const struct smtp_tlsrpt_settings *s, int64_t before, int64_t now);

#endif
