/* SPDX-License-Identifier: MIT */
/*
 * smtp_trace.c: the Received field (smtp_trace.h). The "from" part carries
 * the HELO name and the IP literal (no reverse DNS: the address is the
 * fact); "for" only names a single recipient, so a message to several
 * gets one shared header (and one stored blob).
 */
#include "smtp/smtp_trace.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"

const char *
smtp_trace_protocol(bool is_lmtp, bool is_esmtp, bool is_tls, bool is_auth, bool is_utf8)
{
	static const char *const smtp[2][2][2] = {
	        {{"ESMTP", "ESMTPA"}, {"ESMTPS", "ESMTPSA"}},
	        {{"UTF8SMTP", "UTF8SMTPA"}, {"UTF8SMTPS", "UTF8SMTPSA"}},
	};
	static const char *const lmtp[2][2][2] = {
	        {{"LMTP", "LMTPA"}, {"LMTPS", "LMTPSA"}},
	        {{"UTF8LMTP", "UTF8LMTPA"}, {"UTF8LMTPS", "UTF8LMTPSA"}},
	};

	if (!is_lmtp && !is_esmtp)
		return "SMTP";
	return (is_lmtp ? lmtp : smtp)[is_utf8][is_tls][is_auth];
}

void
smtp_trace_date(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, len, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

void
smtp_trace_received(struct buf *out, const struct smtp_trace *t)
{
	char date[40];

	smtp_trace_date(t->time, date, sizeof(date));
	buf_printf(out, "Received: from %s ([%s])\r\n\tby %s (tern) with %s id %s",
	           t->helo[0] != '\0' ? t->helo : "unknown", t->ip, t->hostname, t->protocol,
	           t->id);
	if (t->tls_cipher != NULL)
		buf_printf(out, "\r\n\ttls %s (%s)", t->tls_cipher,
		           t->tls_version != NULL ? t->tls_version : "TLS");
	if (t->for_rcpt != NULL)
		buf_printf(out, "\r\n\tfor <%s>", t->for_rcpt);
	buf_printf(out, ";\r\n\t%s\r\n", date);
}
