/* SPDX-License-Identifier: MIT */
/*
 * smtp_cmd_auth.c: AUTH (RFC 4954) on the submission ports, with the auth
 * module's mechanisms (auth/auth.h). Each SASL step runs on the job pool;
 * between steps the session reads one continuation line (AUTH mode):
 * base64, or "*" to cancel (501 5.0.0). Final server data that comes with
 * success (SCRAM's signature) goes out as a last 334 whose answer must be
 * empty (RFC 4954 section 4). Replies follow auth.h's table:
 *
 *   AUTH_OK         235 2.7.0
 *   AUTH_FAILED     535 5.7.8 after the failure delay (throttle.c, shared
 *   AUTH_DISABLED   535 5.7.8  with IMAP: one count per IP and account)
 *   AUTH_AUTHZ      535 5.7.8
 *   AUTH_BLOCKED    454 4.7.0
 *   AUTH_MALFORMED  501 5.5.2 after the delay
 *   AUTH_TEMP       454 4.7.0
 *
 * Where passwords may not travel (auth.plaintext), EHLO lists no AUTH and
 * AUTH answers 538 5.7.11 (RFC 4954 section 6).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "net/net.h"
#include "session/session_auth.h"
#include "smtp/smtp_auth.h"
#include "smtp/smtp_session.h"

void
smtp_auth_conn(struct smtp_session *s, struct auth_conn *conn)
{
	session_auth_conn(&s->base, AUTH_PROTO_SMTP, conn);
}

void
smtp_auth_mechanisms(struct smtp_session *s, struct buf *out)
{
	struct auth_conn conn;

	smtp_auth_conn(s, &conn);
	auth_mechanisms_list(s->srv->auth, &conn, out);
}

static void
job_free(struct session_auth_job *job)
{
	session_auth_job_clear(job);
	free(job);
}

static void step_done(struct session *base, void *arg);

static void
submit_step(struct smtp_session *s, struct auth_sasl *sasl, const char *in)
{
	struct session_auth_job *job = xcalloc(1, sizeof(*job));

	session_auth_job_init(job, &s->base, s->srv->auth, AUTH_PROTO_SMTP);
	job->sasl = sasl;
	job->in_b64 = in != NULL ? xstrdup(in) : NULL;
	session_command_wait(&s->base);
	session_auth_submit(&s->base, s->srv->jobs, job, step_done);
}

static void
log_failure(struct smtp_session *s, const char *user, const char *reason, unsigned failures)
{
	session_count_login(&s->base, false, s->sasl_mech, reason);
	/* The same stable line as IMAP's, for fail2ban (docs/AUTH.md). */
	log_info("smtp", "event=auth-failed ip=%s user=%s mech=%s reason=%s failures=%u",
	         net_conn_peer(s->base.conn),
	         user != NULL && user[0] != '\0' ? smtp_str(s, user) : "-", s->sasl_mech, reason,
	         failures);
}

static void
delayed_reply(struct session *base)
{
	struct smtp_session *s = (struct smtp_session *)base;

	smtp_reply_error(s, 535, "5.7.8", "Authentication credentials invalid");
	smtp_cmd_finish(s);
}

static void
delayed_malformed(struct session *base)
{
	struct smtp_session *s = (struct smtp_session *)base;

	smtp_reply_error(s, 501, "5.5.2", "Invalid authentication data");
	smtp_cmd_finish(s);
}

/* Replies the end of the exchange; false when the reply follows a delay. */
static bool
conclude(struct smtp_session *s, const struct auth_result *r)
{
	const char *reason = r->reason != NULL ? r->reason : "failed";

	s->mode = SMTP_MODE_COMMAND;
	if (r->status == AUTH_OK) {
		s->is_authed = true;
		s->user = r->id;
		session_set_user(&s->base, r->id.address);
		session_count_login(&s->base, true, s->sasl_mech, NULL);
		log_info("smtp", "event=login user=%s ip=%s mech=%s tls=%s", s->base.log.user,
		         s->base.log.ip, s->sasl_mech,
		         net_conn_is_tls(s->base.conn) ? "yes" : "no");
		smtp_reply(s, 235, "2.7.0", "Authentication successful");
		return true;
	}
	log_failure(s, r->user, reason, r->failures);
	switch (r->status) {
	case AUTH_BLOCKED:
		smtp_reply(s, 454, "4.7.0", "Too many failed logins; try again later");
		return true;
	case AUTH_TEMP:
		smtp_reply(s, 454, "4.7.0", "Temporary authentication failure");
		return true;
	case AUTH_DISABLED:
	case AUTH_AUTHZ:
		smtp_reply_error(s, 535, "5.7.8",
		                 r->status == AUTH_AUTHZ ? "Not authorized to act as that user"
		                 : r->denial == AUTH_DENIAL_APP_PASSWORD
		                         ? "This app password is not "
		                           "valid for SMTP"
		                         : "SMTP is disabled for "
		                           "this account");
		return true;
	case AUTH_MALFORMED:
		session_delay(&s->base, r->delay_ms, delayed_malformed);
		return false;
	default:
		/* A failed guess costs time; a right password never waits. */
		session_delay(&s->base, r->delay_ms, delayed_reply);
		return false;
	}
}

static void
step_done(struct session *base, void *arg)
{
	struct session_auth_job *job = arg;

	if (base == NULL) {
		job_free(job);
		return;
	}
	struct smtp_session *s = (struct smtp_session *)base;
	struct auth_result *r = &job->result;
	if (r->status == AUTH_CONTINUE || (r->status == AUTH_OK && r->out_b64 != NULL)) {
		smtp_reply(s, 334, NULL, "%s", r->out_b64 != NULL ? r->out_b64 : "");
		if (r->status == AUTH_OK) {
			s->sasl_awaiting_final = true;
			s->user = r->id; /* logged in once the client agrees */
		} else {
			s->sasl = job->sasl;
			job->sasl = NULL;
		}
		job_free(job);
		s->mode = SMTP_MODE_AUTH;
		/* Waiting for the client: a shutdown ends it now. */
		session_command_wait_client(&s->base);
		session_command_finish(&s->base); /* maybe the line is already here */
		return;
	}
	bool now = conclude(s, r);
	job_free(job);
	if (now)
		smtp_cmd_finish(s);
}

bool
smtp_auth_input(struct smtp_session *s)
{
	struct buf *line = &s->base.line;

	switch (session_read_line(&s->base, s->cfg->s.max_line)) {
	case SESSION_LINE_MORE:
		return false;
	case SESSION_LINE_TOOLONG:
		s->mode = SMTP_MODE_COMMAND;
		auth_sasl_free(&s->sasl);
		s->sasl_awaiting_final = false;
		session_command_begin(&s->base, NULL);
		smtp_reply_error(s, 500, "5.5.6", "Authentication exchange line too long");
		smtp_cmd_done(s);
		return true;
	case SESSION_LINE_OK:
		break;
	}
	session_command_begin(&s->base, NULL);
	if (line->len == 1 && line->data[0] == '*') {
		s->mode = SMTP_MODE_COMMAND;
		auth_sasl_free(&s->sasl);
		s->sasl_awaiting_final = false;
		memset(&s->user, 0, sizeof(s->user));
		smtp_reply_error(s, 501, "5.0.0", "Authentication cancelled");
		smtp_cmd_done(s);
		return true;
	}
	if (s->sasl_awaiting_final) {
		struct auth_result r = {.status = line->len == 0 ? AUTH_OK : AUTH_MALFORMED,
		                        .reason = line->len == 0 ? "ok" : "malformed",
		                        .id = s->user};
		s->sasl_awaiting_final = false;
		if (r.status != AUTH_OK)
			memset(&s->user, 0, sizeof(s->user));
		if (conclude(s, &r))
			smtp_cmd_done(s);
		else
			session_command_wait(&s->base);
		return true;
	}
	struct auth_sasl *sasl = s->sasl;
	s->sasl = NULL;
	s->mode = SMTP_MODE_COMMAND;
	submit_step(s, sasl, line->data);
	explicit_bzero(line->data, line->len);
	return true;
}

void
smtp_cmd_auth(struct smtp_session *s, const struct smtp_command *c)
{
	struct auth_conn conn;
	char *args = arena_strdup(s->cmd_arena, c->arg);
	char *ir = strchr(args, ' ');

	/* The line may hold a password (PLAIN's initial response). */
	explicit_bzero(s->base.line.data, s->base.line.len);
	if (ir != NULL)
		*ir++ = '\0';
	if (s->is_authed) {
		smtp_reply_error(s, 503, "5.5.1", "Already authenticated");
		smtp_cmd_done(s);
		return;
	}
	if (args[0] == '\0' || (ir != NULL && (ir[0] == '\0' || strchr(ir, ' ') != NULL))) {
		smtp_reply_error(s, 501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
		smtp_cmd_done(s);
		return;
	}
	if (!auth_service_plaintext_allowed(s->srv->auth, net_conn_is_tls(s->base.conn),
	                                    net_conn_is_loopback(s->base.conn))) {
		smtp_reply_error(s, 538, "5.7.11", "Encryption required: use STARTTLS first");
		smtp_cmd_done(s);
		return;
	}
	smtp_auth_conn(s, &conn);
	struct auth_sasl *sasl = auth_sasl_new(s->srv->auth, &conn, args);
	if (sasl == NULL) {
		smtp_reply_error(s, 504, "5.5.4", "Unrecognized authentication type");
		smtp_cmd_done(s);
		return;
	}
	s->sasl_mech = auth_sasl_mech(sasl);
	if (auth_ip_is_blocked(s->srv->auth, &conn)) {
		log_failure(s, NULL, "blocked", 0);
		auth_sasl_free(&sasl);
		smtp_reply(s, 454, "4.7.0", "Too many failed logins; try again later");
		smtp_cmd_done(s);
		return;
	}
	const char *in = NULL;
	if (ir != NULL)
		in = strcmp(ir, "=") == 0 ? "" : ir;
	submit_step(s, sasl, in);
	explicit_bzero(args, strlen(c->arg));
}
