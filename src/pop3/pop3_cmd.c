/* SPDX-License-Identifier: MIT */
/*
 * pop3_cmd.c: the small commands: STAT, LIST, UIDL, DELE, RSET, NOOP, QUIT
 * (RFC 1939), CAPA (RFC 2449), STLS (RFC 2595), UTF8 and LANG (RFC 6856).
 * LIST and UIDL of the whole maildrop may be long (100,000 lines): they
 * write while the client keeps up and wait for the output to drain
 * otherwise. QUIT in the TRANSACTION state is the UPDATE state: every
 * marked message goes in one transaction on the store pool, and only then
 * does the session say goodbye.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/version.h"
#include "net/net.h"
#include "pop3/pop3_session.h"

bool
pop3_cmd_stat(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (cmd->nargs != 0) {
		pop3_reply_err(s, "Expected: STAT");
		return true;
	}
	pop3_reply_ok(s, "%u %llu", s->md.count - s->md.n_deleted,
	              (unsigned long long)(s->md.total_size - s->md.deleted_size));
	return true;
}

/* ---- LIST and UIDL ---- */

static void
scan_line(struct pop3_session *s, struct buf *b, uint32_t i, bool uidl)
{
	if (uidl) {
		char id[POP3_UIDL_LEN + 1];
		pop3_maildrop_uidl(&s->md, i, id);
		buf_printf(b, "%u %s\r\n", i + 1, id);
	} else {
		buf_printf(b, "%u %llu\r\n", i + 1, (unsigned long long)s->md.sizes[i]);
	}
}

/* Writes scan lines from s->retr_index on until the client is behind. */
static bool
scan_pump(struct pop3_session *s, bool uidl)
{
	struct buf b;

	buf_init(&b);
	while (s->retr_index < s->md.count && !net_conn_output_full(s->base.conn)) {
		for (int k = 0; k < 256 && s->retr_index < s->md.count; k++, s->retr_index++)
			if (!s->md.deleted[s->retr_index])
				scan_line(s, &b, s->retr_index, uidl);
		size_t len = b.len;
		if (len > 0)
			net_conn_write_take(s->base.conn, buf_steal(&b), len);
	}
	buf_deinit(&b);
	if (s->retr_index < s->md.count)
		return false;
	net_conn_write(s->base.conn, ".\r\n", 3);
	return true;
}

static void
list_resume(struct session *base)
{
	struct pop3_session *s = (struct pop3_session *)base;

	if (scan_pump(s, false))
		pop3_command_finish(s);
	else
		session_resume_on_drain(&s->base, list_resume);
}

static void
uidl_resume(struct session *base)
{
	struct pop3_session *s = (struct pop3_session *)base;

	if (scan_pump(s, true))
		pop3_command_finish(s);
	else
		session_resume_on_drain(&s->base, uidl_resume);
}

static bool
scan(struct pop3_session *s, const struct pop3_command *cmd, bool uidl)
{
	uint32_t i;

	if (cmd->nargs > 1) {
		pop3_reply_err(s,
		               uidl ? "Expected: UIDL [<message>]" : "Expected: LIST [<message>]");
		return true;
	}
	if (cmd->nargs == 1) {
		if (!pop3_message_arg(s, cmd->args[0], &i))
			return true;
		struct buf b;
		buf_init(&b);
		scan_line(s, &b, i, uidl);
		b.data[b.len - 2] = '\0'; /* without CRLF */
		pop3_reply_ok(s, "%s", b.data);
		buf_deinit(&b);
		return true;
	}
	if (uidl)
		pop3_reply_ok(s, "Unique-ID listing follows");
	else
		pop3_reply_ok(s, "%u messages (%llu octets)", s->md.count - s->md.n_deleted,
		              (unsigned long long)(s->md.total_size - s->md.deleted_size));
	s->retr_index = 0;
	if (scan_pump(s, uidl))
		return true;
	session_resume_on_drain(&s->base, uidl ? uidl_resume : list_resume);
	return false;
}

bool
pop3_cmd_list(struct pop3_session *s, const struct pop3_command *cmd)
{
	return scan(s, cmd, false);
}

bool
pop3_cmd_uidl(struct pop3_session *s, const struct pop3_command *cmd)
{
	return scan(s, cmd, true);
}

/* ---- marks ---- */

bool
pop3_cmd_dele(struct pop3_session *s, const struct pop3_command *cmd)
{
	uint32_t i;

	if (cmd->nargs != 1) {
		pop3_reply_err(s, "Expected: DELE <message>");
		return true;
	}
	if (!pop3_message_arg(s, cmd->args[0], &i))
		return true;
	s->md.deleted[i] = true;
	s->md.n_deleted++;
	s->md.deleted_size += s->md.sizes[i];
	pop3_reply_ok(s, "Message %u deleted", i + 1);
	return true;
}

bool
pop3_cmd_rset(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (cmd->nargs != 0) {
		pop3_reply_err(s, "Expected: RSET");
		return true;
	}
	memset(s->md.deleted, 0, s->md.count * sizeof(*s->md.deleted));
	s->md.n_deleted = 0;
	s->md.deleted_size = 0;
	pop3_reply_ok(s, "Maildrop has %u messages (%llu octets)", s->md.count,
	              (unsigned long long)s->md.total_size);
	return true;
}

bool
pop3_cmd_noop(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (cmd->nargs != 0) {
		pop3_reply_err(s, "Expected: NOOP");
		return true;
	}
	pop3_reply_ok(s, "Nothing done");
	return true;
}

/* ---- QUIT: the UPDATE state ---- */

struct update_job {
	struct pop3_maildrop *md; /* the session's: it waits, input paused */
	bool set_seen;
	int rc;
	enum store_error err;
	uint32_t removed;
};

static void
update_work(void *arg)
{
	struct update_job *job = arg;
	struct pop3_maildrop *md = job->md;

	if (job->set_seen) {
		/* \Seen for IMAP on what was read and stays (pop3.retr_sets_seen). */
		uint32_t *uids = xmalloc((md->count ? md->count : 1) * sizeof(*uids));
		size_t n = 0;
		for (uint32_t i = 0; i < md->count; i++)
			if (md->retrieved[i] && !md->deleted[i])
				uids[n++] = md->uids[i];
		if (n > 0) {
			struct arena *a = arena_new(4096);
			struct store_flags_change ch = {.op = STORE_FLAGS_ADD,
			                                .flags = STORE_FLAG_SEEN};
			struct store_flags_result res;
			enum store_error err;
			if (store_flags_update(md->mbox, uids, n, &ch, a, &res, &err) < 0)
				log_warn("pop3", "event=seen-failed err=\"%s\"",
				         store_error_str(err));
			arena_free(&a);
		}
		free(uids);
	}
	job->removed = md->n_deleted;
	job->rc = pop3_maildrop_commit(md, &job->err);
}

static void
update_done(struct session *base, void *arg)
{
	struct update_job *job = arg;
	struct pop3_session *s = (struct pop3_session *)base;

	if (s != NULL) {
		/* The maildrop is let go before the reply, not when the
		   connection is freed: a client that reconnects as soon as it
		   reads +OK (fetchmail does) must not find it IN-USE. */
		pop3_session_unlock(s);
		if (job->rc < 0) {
			log_error("pop3", "event=update-failed err=\"%s\"",
			          store_error_str(job->err));
			pop3_session_end(s, "-ERR [SYS/TEMP] Deleted messages were not removed; "
			                    "they will be there next time");
		} else {
			log_info("pop3", "event=update removed=%u", job->removed);
			char line[96];
			snprintf(line, sizeof(line), "+OK Logging out (%u messages removed)",
			         job->removed);
			pop3_session_end(s, line);
		}
		pop3_command_finish(s);
	}
	free(job);
}

bool
pop3_cmd_quit(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (s->state == POP3_AUTHORIZATION) {
		pop3_session_end(s, "+OK Logging out");
		return true;
	}
	s->state = POP3_UPDATE;
	/* EXPIRE 0 (RFC 2449 section 6.7): what was read is not kept. */
	if (s->settings.expire_days == 0)
		for (uint32_t i = 0; i < s->md.count; i++)
			if (s->md.retrieved[i] && !s->md.deleted[i]) {
				s->md.deleted[i] = true;
				s->md.n_deleted++;
			}
	struct update_job *job = xcalloc(1, sizeof(*job));
	job->md = &s->md;
	job->set_seen = s->settings.retr_sets_seen;
	session_job_submit(&s->base, s->srv->store_pool, update_work, update_done, job);
	return false;
}

/* ---- capabilities and the rest ---- */

bool
pop3_cmd_capa(struct pop3_session *s, const struct pop3_command *cmd)
{
	struct auth_conn conn;
	struct buf mechs;
	bool tls = net_conn_is_tls(s->base.conn);
	bool plaintext = auth_service_plaintext_allowed(s->srv->auth, tls,
	                                                net_conn_is_loopback(s->base.conn));

	pop3_reply_ok(s, "Capability list follows");
	pop3_reply_line(s, "TOP");
	pop3_reply_line(s, "UIDL");
	pop3_reply_line(s, "RESP-CODES");
	pop3_reply_line(s, "AUTH-RESP-CODE");
	pop3_reply_line(s, "PIPELINING");
	if (s->settings.expire_days < 0)
		pop3_reply_line(s, "EXPIRE NEVER");
	else
		pop3_reply_line(s, "EXPIRE %lld", (long long)s->settings.expire_days);
	if (s->settings.login_delay_s > 0)
		pop3_reply_line(s, "LOGIN-DELAY %llu",
		                (unsigned long long)s->settings.login_delay_s);
	pop3_reply_line(s, "IMPLEMENTATION tern");
	pop3_reply_line(s, "UTF8 USER");
	pop3_reply_line(s, "LANG");
	if (s->state == POP3_AUTHORIZATION) {
		/* Where passwords may not travel, neither USER nor SASL is shown. */
		if (plaintext)
			pop3_reply_line(s, "USER");
		session_auth_conn(&s->base, AUTH_PROTO_POP3, &conn);
		buf_init(&mechs);
		auth_mechanisms_list(s->srv->auth, &conn, &mechs);
		if (mechs.len > 0)
			pop3_reply_line(s, "SASL %s", mechs.data);
		buf_deinit(&mechs);
		if (!tls && s->srv->tls_available)
			pop3_reply_line(s, "STLS");
	}
	pop3_reply_line(s, ".");
	return true;
}

bool
pop3_cmd_stls(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (net_conn_is_tls(s->base.conn)) {
		pop3_reply_err(s, "Already using TLS");
		return true;
	}
	pop3_reply_ok(s, "Begin TLS negotiation");
	if (net_conn_starttls(s->base.conn) < 0) {
		log_error("pop3", "event=starttls-failed");
		pop3_session_end(s, "-ERR [SYS/TEMP] TLS could not start");
		return true;
	}
	/* RFC 2595 section 4: forget what the client said before TLS. */
	explicit_bzero(s->user, sizeof(s->user));
	s->utf8 = false;
	return true;
}

bool
pop3_cmd_utf8(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (cmd->nargs != 0) {
		pop3_reply_err(s, "Expected: UTF8");
		return true;
	}
	/* RFC 6856 section 2: names, passwords and messages may be UTF-8 from
	   now on; tern keeps messages as they came, so nothing is converted. */
	s->utf8 = true;
	pop3_reply_ok(s, "UTF8 enabled");
	return true;
}

bool
pop3_cmd_lang(struct pop3_session *s, const struct pop3_command *cmd)
{
	/* RFC 6856 section 3, with the languages tern's replies exist in. */
	if (cmd->nargs == 0) {
		pop3_reply_ok(s, "Language listing follows");
		pop3_reply_line(s, "en English");
		pop3_reply_line(s, ".");
		return true;
	}
	if (cmd->nargs == 1 &&
	    (strcmp(cmd->args[0], "*") == 0 || strcasecmp(cmd->args[0], "en") == 0 ||
	     strncasecmp(cmd->args[0], "en-", 3) == 0)) {
		pop3_reply_ok(s, "en Language is English");
		return true;
	}
	pop3_reply_err(s, "Unsupported language");
	return true;
}
