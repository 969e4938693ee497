/* SPDX-License-Identifier: MIT */
/*
 * smtp_dsn.c: building RFC 3464 reports (smtp_dsn.h). The recipient's
 * last reply comes from a remote server: only its code is interpreted
 * (the enhanced status when well-formed, else X.0.0 from the class), and
 * its text, already free of control bytes, goes into Diagnostic-Code.
 */
#include "smtp/smtp_dsn.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/util.h"
#include "smtp/smtp_parse.h"

bool
smtp_dsn_wanted(unsigned notify, enum smtp_dsn_action action, const char *sender)
{
	if (sender[0] == '\0' || (notify & SMTP_NOTIFY_NEVER))
		return false;
	switch (action) {
	case SMTP_DSN_FAILED:
		return notify == 0 || (notify & SMTP_NOTIFY_FAILURE);
	case SMTP_DSN_RELAYED:
		return notify & SMTP_NOTIFY_SUCCESS;
	case SMTP_DSN_DELAYED:
		return notify & SMTP_NOTIFY_DELAY;
	}
	return false;
}

/* "550 5.1.1 text (host)": the status "5.1.1" (or "5.0.0"), the
   diagnostic "550 5.1.1 text" and the host, into caller buffers. */
static void
split_last(const char *last, char *status, size_t slen, char *diag, size_t dlen, char *host,
           size_t hlen)
{
	const char *p = last != NULL ? last : "451 4.4.0 not tried";
	size_t n = strlen(p);
	const char *open = NULL;

	host[0] = '\0';
	if (n > 0 && p[n - 1] == ')') {
		open = strrchr(p, '(');
		if (open != NULL && open > p && open[-1] == ' ') {
			snprintf(host, hlen, "%.*s", (int)(p + n - 1 - (open + 1)), open + 1);
			n = (size_t)(open - 1 - p);
		}
	}
	snprintf(diag, dlen, "%.*s", (int)n, p);
	char cls = p[0] == '5' ? '5' : p[0] == '2' ? '2' : '4';
	snprintf(status, slen, "%c.0.0", cls);
	/* An enhanced code right after the reply code (RFC 3463). */
	const char *e = n > 4 ? p + 4 : "";
	unsigned a, b, c;
	int used = 0;
	if (sscanf(e, "%1u.%3u.%3u%n", &a, &b, &c, &used) == 3 &&
	    (e[used] == ' ' || e[used] == '\0') && (char)('0' + a) == cls)
		snprintf(status, slen, "%u.%u.%u", a, b, c);
}

static void
rfc5322_date(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, len, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

static int
put_buf(smtp_dsn_put_fn *put, void *arg, struct buf *b)
{
	int rc = b->len > 0 ? put(arg, b->data, b->len) : 0;

	buf_reset(b);
	return rc;
}

/* The original, or its header (up to the first empty line). */
static int
put_original(const struct smtp_dsn *d, smtp_dsn_put_fn *put, void *arg)
{
	char buf[16384];
	off_t off = 0;
	/* The last bytes seen, to find CRLF CRLF across reads. */
	unsigned tail = 0;

	for (;;) {
		ssize_t n = pread(d->fd, buf, sizeof(buf), off);
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		size_t keep = (size_t)n;
		if (d->headers_only) {
			for (size_t i = 0; i < (size_t)n; i++) {
				tail = (tail << 8) | (unsigned char)buf[i];
				if (tail == 0x0d0a0d0a) {
					keep = i + 1;
					break;
				}
			}
		}
		if (put(arg, buf, keep) < 0)
			return -1;
		if (keep < (size_t)n)
			return 0;
		off += n;
	}
}

int
smtp_dsn_write(const struct smtp_dsn *d, smtp_dsn_put_fn *put, void *arg)
{
	struct buf b;
	char date[64], boundary[80];
	bool failed = false;
	int rc = -1;

	buf_init(&b);
	for (size_t i = 0; i < d->n_rcpts; i++)
		failed |= d->rcpts[i].action == SMTP_DSN_FAILED;
	snprintf(boundary, sizeof(boundary), "=_%s.dsn", d->queue_id);
	rfc5322_date(d->now, date, sizeof(date));
	buf_printf(&b,
	           "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
	           "To: <%s>\r\n"
	           "Subject: %s\r\n"
	           "Date: %s\r\n"
	           "Message-ID: <%s.%lld.dsn@%s>\r\n"
	           "Auto-Submitted: auto-replied\r\n"
	           "MIME-Version: 1.0\r\n"
	           "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	           "\tboundary=\"%s\"\r\n"
	           "\r\n"
	           "This is a delivery status notification (RFC 3464).\r\n"
	           "\r\n--%s\r\n"
	           "Content-Type: text/plain; charset=utf-8\r\n\r\n",
	           d->reporting_mta, d->to,
	           failed ? "Undelivered Mail Returned to Sender" : "Delivery Status Notification",
	           date, d->queue_id, (long long)d->now, d->reporting_mta, boundary, boundary);
	buf_printf(&b, "%s\r\n\r\n",
	           failed ? "Your message could not be delivered to these recipients:"
	                  : "This is a report on your message to these recipients:");
	for (size_t i = 0; i < d->n_rcpts; i++) {
		char status[16], diag[400], host[256];
		split_last(d->rcpts[i].last, status, sizeof(status), diag, sizeof(diag), host,
		           sizeof(host));
		static const char *const what[] = {"failed", "relayed", "delayed"};
		buf_printf(&b, "<%s>: %s: %s\r\n", d->rcpts[i].address, what[d->rcpts[i].action],
		           diag);
	}
	rfc5322_date(d->arrival, date, sizeof(date));
	buf_printf(&b,
	           "\r\n--%s\r\n"
	           "Content-Type: message/delivery-status\r\n\r\n"
	           "Reporting-MTA: dns; %s\r\n",
	           boundary, d->reporting_mta);
	if (d->envid != NULL)
		buf_printf(&b, "Original-Envelope-Id: %s\r\n", d->envid);
	buf_printf(&b, "Arrival-Date: %s\r\n", date);
	rfc5322_date(d->now, date, sizeof(date));
	for (size_t i = 0; i < d->n_rcpts; i++) {
		const struct smtp_dsn_rcpt *r = &d->rcpts[i];
		static const char *const actions[] = {"failed", "relayed", "delayed"};
		char status[16], diag[400], host[256];
		split_last(r->last, status, sizeof(status), diag, sizeof(diag), host, sizeof(host));
		buf_puts(&b, "\r\n");
		if (r->orcpt != NULL)
			buf_printf(&b, "Original-Recipient: %s;%s\r\n",
			           r->orcpt_type != NULL ? r->orcpt_type : "rfc822", r->orcpt);
		buf_printf(&b, "Final-Recipient: rfc822;%s\r\nAction: %s\r\nStatus: %s\r\n",
		           r->address, actions[r->action], status);
		if (host[0] != '\0')
			buf_printf(&b, "Remote-MTA: dns; %s\r\n", host);
		buf_printf(&b, "Diagnostic-Code: smtp; %s\r\nLast-Attempt-Date: %s\r\n", diag,
		           date);
	}
	buf_printf(&b, "\r\n--%s\r\nContent-Type: %s\r\n\r\n", boundary,
	           d->headers_only ? "text/rfc822-headers" : "message/rfc822");
	if (put_buf(put, arg, &b) < 0 || put_original(d, put, arg) < 0)
		goto out;
	buf_printf(&b, "\r\n--%s--\r\n", boundary);
	rc = put_buf(put, arg, &b);
out:
	buf_deinit(&b);
	return rc;
}
