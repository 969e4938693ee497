/* SPDX-License-Identifier: MIT */
/*
 * cmd_urlfetch.c: URLFETCH (RFC 4467 section 6.3) with the BINARY and
 * BODYPARTSTRUCTURE options of URLAUTH=BINARY (RFC 5524): the content an
 * authorized URL names, for whoever the URL's access allows (another user,
 * "authuser", the submission server).
 *
 * urlfetch = "URLFETCH" 1*(SP url-full / SP "(" url-full *(SP fetch-opt) ")")
 * fetch-opt = "BODYPARTSTRUCTURE" / "BINARY" / "BODY"
 * urlfetch-data = "*" SP "URLFETCH" 1*(SP url-full SP (nstring /
 *                 "(" ["BODYPARTSTRUCTURE" SP body] [SP ("BINARY" / "BODY") SP literal] ")"))
 *
 * A URL that does not verify, has expired, or names nothing gives NIL, as
 * the RFC wants: the client learns nothing about why. A URL of the
 * session's own user may name a mailbox shared with them ("Other Users/",
 * "Shared/"): it is read through their rights there ('r', RFC 4314). The content is
 * built in memory, one URL at a time (a known limit: BURL will stream).
 */
#include <string.h>
#include <strings.h>

#include "imap/commands.h"
#include "imap/imap_url.h"
#include "imap/imap_urlauth.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/imap_string.h"
#include "net/net.h"

enum { OPT_STRUCTURE = 1 << 0, OPT_BINARY = 1 << 1, OPT_BODY = 1 << 2 };

static void
collect(void *ctx, const void *data, size_t len)
{
	buf_append(ctx, data, len);
}

/* One URL's answer appended to out: " url-full SP (nstring / (...))". */
static void
answer(struct imap_cmd *cmd, const char *url, unsigned opts, bool extended, struct buf *out)
{
	struct imap_session *s = cmd->session;
	struct store_account *acct;
	struct imap_url u;
	const char *error, *structure = NULL;
	bool opened;
	struct buf content;

	buf_printf(out, " %s ", imap_quote(cmd->arena, url));
	buf_init(&content);
	bool want_content = !extended || (opts & (OPT_BINARY | OPT_BODY));
	const char *mailbox;
	bool ok = imap_url_parse(cmd->arena, url, &u, &error) &&
	          imap_urlauth_check(s, cmd->arena, url, &u, &acct, &mailbox, &opened) == 0;
	if (ok) {
		u.mailbox = mailbox; /* in the account that holds it */
		/* Without content, BODYPARTSTRUCTURE alone still checks the
		   URL names something: the fetch goes to a buffer, dropped. */
		ok = imap_url_fetch(acct, &u, (opts & OPT_BINARY) != 0, collect, &content,
		                    cmd->arena, (opts & OPT_STRUCTURE) ? &structure : NULL,
		                    &error) == 0;
		if (opened)
			store_account_close(&acct);
	}
	if (!ok) {
		buf_puts(out, "NIL");
	} else if (!extended) {
		buf_printf(out, "{%zu}\r\n", content.len);
		buf_append(out, content.data, content.len);
	} else {
		buf_putc(out, '(');
		if (structure != NULL)
			buf_printf(out, "BODYPARTSTRUCTURE %s", structure);
		if (want_content) {
			bool nul =
			        memchr(content.data != NULL ? content.data : "", '\0', content.len);
			buf_printf(out, "%s%s %s{%zu}\r\n", structure != NULL ? " " : "",
			           (opts & OPT_BINARY) ? "BINARY" : "BODY",
			           nul && (opts & OPT_BINARY) ? "~" : "", content.len);
			buf_append(out, content.data, content.len);
		}
		buf_putc(out, ')');
	}
	buf_deinit(&content);
}

enum imap_cmd_status
imap_cmd_urlfetch(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct buf out;

	if (cmd->nargs == 0) {
		imap_reply_bad(cmd, "Expected: URLFETCH <url> ...");
		return IMAP_CMD_DONE;
	}
	/* Every argument's syntax first. */
	for (size_t i = 0; i < cmd->nargs; i++) {
		const struct imap_arg *a = &cmd->args[i];
		if (a->type != IMAP_ARG_LIST)
			continue;
		bool bad = a->count == 0 || a->list[0].type == IMAP_ARG_LIST;
		for (size_t k = 1; k < a->count && !bad; k++)
			bad = a->list[k].type != IMAP_ARG_ATOM ||
			      (strcasecmp(a->list[k].str, "BODYPARTSTRUCTURE") != 0 &&
			       strcasecmp(a->list[k].str, "BINARY") != 0 &&
			       strcasecmp(a->list[k].str, "BODY") != 0);
		if (bad) {
			imap_reply_bad(cmd, "Expected: URLFETCH (<url> [BODYPARTSTRUCTURE] "
			                    "[BINARY | BODY])");
			return IMAP_CMD_DONE;
		}
	}
	buf_init(&out);
	buf_puts(&out, "* URLFETCH");
	for (size_t i = 0; i < cmd->nargs; i++) {
		const struct imap_arg *a = &cmd->args[i];
		unsigned opts = 0;
		if (a->type == IMAP_ARG_LIST) {
			for (size_t k = 1; k < a->count; k++)
				opts |= strcasecmp(a->list[k].str, "BINARY") == 0 ? OPT_BINARY
				        : strcasecmp(a->list[k].str, "BODY") == 0 ? OPT_BODY
				                                                  : OPT_STRUCTURE;
			answer(cmd, a->list[0].str, opts, true, &out);
		} else {
			answer(cmd, a->str, 0, false, &out);
		}
	}
	buf_puts(&out, "\r\n");
	net_conn_write(s->base.conn, out.data, out.len);
	buf_deinit(&out);
	imap_reply_ok(cmd, "URLFETCH completed");
	return IMAP_CMD_DONE;
}
