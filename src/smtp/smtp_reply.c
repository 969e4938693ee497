/* SPDX-License-Identifier: MIT */
/*
 * smtp_reply.c: the reply writer (RFC 5321 section 4.2) and the one mapping
 * of store errors to SMTP replies (RFC 3463 enhanced codes):
 *
 *   STORE_ERR_QUOTA     452 4.2.2 (smtp.quota_temporary) or 552 5.2.2
 *   STORE_ERR_TOOBIG    552 5.3.4
 *   STORE_ERR_NOTFOUND  550 5.1.1 (the account is gone)
 *   anything else       451 4.3.0 with the sid, logged where it happened
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "net/net.h"
#include "smtp/smtp_session.h"
#include "store/store.h"

static void
vreply(struct smtp_session *s, int code, const char *enhanced, const char *fmt, va_list ap)
{
	struct buf text, out;

	buf_init(&text);
	buf_init(&out);
	buf_vprintf(&text, fmt, ap);
	const char *p = text.data != NULL ? text.data : "";
	for (;;) {
		size_t n = strcspn(p, "\n");
		bool last = p[n] == '\0';
		buf_printf(&out, "%03d%c", code, last ? ' ' : '-');
		if (s->is_esmtp && enhanced != NULL)
			buf_printf(&out, "%s ", enhanced);
		buf_append(&out, p, n);
		buf_puts(&out, "\r\n");
		if (last)
			break;
		p += n + 1;
	}
	net_conn_write(s->base.conn, out.data, out.len);
	buf_deinit(&text);
	buf_deinit(&out);
}

void
smtp_reply(struct smtp_session *s, int code, const char *enhanced, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreply(s, code, enhanced, fmt, ap);
	va_end(ap);
}

void
smtp_reply_error(struct smtp_session *s, int code, const char *enhanced, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreply(s, code, enhanced, fmt, ap);
	va_end(ap);
	if (++s->errors >= s->cfg->s.max_errors && !s->base.is_closing) {
		log_info("smtp", "event=too-many-errors errors=%llu",
		         (unsigned long long)s->errors);
		smtp_session_close(s, "4.7.0", "Too many errors");
	}
}

void
smtp_reply_store_error(struct smtp_session *s, int store_err, const char *who)
{
	const char *w = who != NULL ? who : "";
	const char *sep = who != NULL ? ": " : "";

	switch ((enum store_error)store_err) {
	case STORE_ERR_QUOTA:
		if (s->cfg->s.quota_temporary)
			smtp_reply(s, 452, "4.2.2", "%s%sMailbox full, try again later", w, sep);
		else
			smtp_reply(s, 552, "5.2.2", "%s%sMailbox full", w, sep);
		return;
	case STORE_ERR_TOOBIG:
		smtp_reply(s, 552, "5.3.4", "%s%sMessage too big (limit %llu bytes)", w, sep,
		           (unsigned long long)s->cfg->s.max_message_size);
		return;
	case STORE_ERR_NOTFOUND:
		smtp_reply(s, 550, "5.1.1", "%s%sNo such user here", w, sep);
		return;
	default:
		smtp_reply(s, 451, "4.3.0", "%s%sTemporary failure, try again later (sid %s)", w,
		           sep, s->base.log.sid);
		return;
	}
}

void
smtp_session_close(struct smtp_session *s, const char *enhanced, const char *text)
{
	if (s->base.is_closing)
		return;
	smtp_reply(s, 421, enhanced, "%s %s", s->cfg->s.hostname, text);
	session_close(&s->base);
}
