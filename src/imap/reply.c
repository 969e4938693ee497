/* SPDX-License-Identifier: MIT */
/*
 * reply.c: the response writer (RFC 9051 section 7). Everything the server
 * sends goes through here, so framing (tag, CRLF) and string quoting are in
 * one place. Client-supplied text is never put in a reply unquoted.
 *
 * Human-readable texts are translated here too (LANGUAGE, RFC 5255 3):
 * the text of a tagged reply, and of an untagged OK, NO, BAD or BYE, is
 * its printf format, looked up in the session's language before it is
 * formatted (imap_language.h); a format of just "%s" has its argument
 * looked up instead (parser errors, BYE reasons). Data responses are
 * never touched. A text without a translation goes out in English.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "imap/imap_language.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_notify.h"
#include "imap/session.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"
#include "mail/imap_string.h"
#include "net/net.h"

const char *
imap_reply_text(const struct imap_session *s, const char *english)
{
	return imap_language_text(s->language, english);
}

/* The status word an untagged reply's format starts with, with its space;
   0 for a data response. */
static size_t
status_len(const char *fmt)
{
	static const char *const words[] = {"OK ", "NO ", "BAD ", "BYE "};

	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (strncmp(fmt, words[i], strlen(words[i])) == 0)
			return strlen(words[i]);
	return 0;
}

static void
put_text(struct buf *b, const struct imap_session *s, const char *fmt, va_list ap)
{
	if (s->language == NULL) {
		buf_vprintf(b, fmt, ap);
	} else if (strcmp(fmt, "%s") == 0) {
		buf_puts(b, imap_reply_text(s, va_arg(ap, const char *)));
	} else {
		buf_vprintf(b, imap_reply_text(s, fmt), ap);
	}
}

static void
write_line(struct imap_session *s, const char *tag, const char *status, const char *fmt, va_list ap)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, tag);
	buf_putc(&b, ' ');
	if (status != NULL) {
		buf_puts(&b, status);
		buf_putc(&b, ' ');
		put_text(&b, s, fmt, ap);
	} else if (status_len(fmt) > 0) {
		buf_append(&b, fmt, status_len(fmt));
		put_text(&b, s, fmt + status_len(fmt), ap);
	} else {
		buf_vprintf(&b, fmt, ap);
	}
	if (log_enabled(LOG_LEVEL_DEBUG))
		log_debug("imap", "event=send line=%s", log_str(s->cmd_arena, b.data, b.len));
	buf_append(&b, "\r\n", 2);
	imap_session_write(s, b.data, b.len);
	buf_deinit(&b);
}

void
imap_session_write(struct imap_session *s, const void *data, size_t len)
{
	if (s->is_holding)
		buf_append(&s->held, data, len);
	else
		net_conn_write(s->base.conn, data, len);
}

void
imap_reply_untagged(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	write_line(s, "*", NULL, fmt, ap);
	va_end(ap);
}

void
imap_reply_untagged_data(struct imap_session *s, const char *data, size_t len)
{
	if (log_enabled(LOG_LEVEL_DEBUG))
		log_debug("imap", "event=send line=%s", log_str(s->cmd_arena, data, len));
	/* Through imap_session_write: off the loop it must gather in held. */
	imap_session_write(s, "* ", 2);
	imap_session_write(s, data, len);
	imap_session_write(s, "\r\n", 2);
}

void
imap_reply_tagged(struct imap_cmd *cmd, const char *status, const char *fmt, ...)
{
	struct imap_session *s = cmd->session;
	va_list ap;

	/* Other sessions' changes go out before the tagged reply, where the
	   command allows them (imap_mailbox.c), and NOTIFY's news of other
	   mailboxes (imap_notify.c). */
	if (s->mbox != NULL && cmd->def != NULL && s->state == IMAP_STATE_SELECTED)
		imap_mailbox_sync(s, cmd->is_uid || !(cmd->def->flags & IMAP_CMD_NO_EXPUNGE));
	if (s->notify != NULL)
		imap_notify_flush(s);
	va_start(ap, fmt);
	write_line(s, cmd->tag != NULL ? cmd->tag : "*", status, fmt, ap);
	va_end(ap);
}

void
imap_reply_continue(struct imap_session *s, const char *text)
{
	net_conn_printf(s->base.conn, "+ %s\r\n", imap_reply_text(s, text));
}

/* Quoting has one rule for the whole server, kept below the protocol
   layer so the cached ENVELOPE and BODYSTRUCTURE follow it too. */
const char *
imap_quote(struct arena *a, const char *s)
{
	return mail_imap_string_quote(a, s, 0);
}

const char *
imap_quote_utf8(struct arena *a, const char *s, bool utf8_ok)
{
	return mail_imap_string_quote(a, s, utf8_ok ? MAIL_IMAP_STRING_UTF8 : 0);
}

bool
imap_args_astring(const struct imap_cmd *cmd, size_t i, const char **out)
{
	if (i >= cmd->nargs || cmd->args[i].type == IMAP_ARG_LIST)
		return false;
	/* A literal with a NUL cannot be a user name or a password. */
	if (strlen(cmd->args[i].str) != cmd->args[i].len)
		return false;
	*out = cmd->args[i].str;
	return true;
}

bool
imap_args_end(const struct imap_cmd *cmd, size_t n)
{
	return cmd->nargs == n;
}
