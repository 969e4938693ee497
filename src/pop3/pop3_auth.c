/* SPDX-License-Identifier: MIT */
/*
 * pop3_auth.c: USER/PASS (RFC 1939 section 7), AUTH (RFC 5034) and what
 * follows a successful login: the maildrop lock (IN-USE, LOGIN-DELAY) and
 * opening the maildrop on the store pool. Password checks and SASL steps
 * run on the auth pool; their results come back to the session by id.
 * Failures get RFC 2449/3206 response codes: [AUTH] for anything about the
 * credentials or the account's rights, [SYS/TEMP] for our side, [IN-USE]
 * and [LOGIN-DELAY] for the maildrop. Each failure is logged in the line
 * fail2ban matches (docs/AUTH.md).
 *
 * APOP (RFC 1939 section 7) needs the password itself on the server: it is
 * offered only with auth.apop = yes (docs/POP3.md), which keeps a plaintext
 * equivalent of each password from its next change or password login.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "net/net.h"
#include "pop3/pop3_lock.h"
#include "pop3/pop3_session.h"
#include "session/session_auth.h"

/* A check on the auth pool (session_auth.h); freed here when it is back. */
static struct session_auth_job *
job_new(struct pop3_session *s)
{
	struct session_auth_job *job = xcalloc(1, sizeof(*job));

	session_auth_job_init(job, &s->base, s->srv->auth, AUTH_PROTO_POP3);
	return job;
}

static void
job_free(struct session_auth_job *job)
{
	session_auth_job_clear(job);
	free(job);
}

static bool
refuse_plaintext(struct pop3_session *s)
{
	if (auth_service_plaintext_allowed(s->srv->auth, net_conn_is_tls(s->base.conn),
	                                   net_conn_is_loopback(s->base.conn)))
		return false;
	if (s->settings.tls_port != 0)
		pop3_reply_err(
		        s,
		        "[AUTH] Plaintext authentication is not allowed here; use STLS or port "
		        "%u first",
		        s->settings.tls_port);
	else
		pop3_reply_err(
		        s, "[AUTH] Plaintext authentication is not allowed here; use STLS first");
	return true;
}

static void
log_failure(struct pop3_session *s, const char *user, const char *mech, const char *reason,
            unsigned failures)
{
	session_count_login(&s->base, false, mech, reason);
	log_info("pop3", "event=auth-failed ip=%s user=%s mech=%s reason=%s failures=%u",
	         s->base.log.ip,
	         user != NULL && user[0] != '\0' ? log_str(s->arena, user, strlen(user)) : "-",
	         mech, reason, failures);
}

static bool
refuse_blocked(struct pop3_session *s, const struct auth_conn *conn, const char *mech)
{
	if (!auth_ip_is_blocked(s->srv->auth, conn))
		return false;
	log_failure(s, s->user, mech, "blocked", 0);
	pop3_reply_err(s, "[SYS/TEMP] Too many failed logins; try again later");
	return true;
}

/* The failed-login answer, after the delay the auth module chose. */
static void
delay_done(struct session *base)
{
	struct pop3_session *s = (struct pop3_session *)base;

	pop3_reply_err(s, "[AUTH] Authentication failed");
	pop3_command_finish(s);
}

/* Replies to a result that is not AUTH_OK. Returns as a command does. */
static bool
conclude_failure(struct pop3_session *s, const struct auth_result *r, const char *mech)
{
	log_failure(s, r->user[0] ? r->user : s->user, mech, r->reason ? r->reason : "failed",
	            r->failures);
	switch (r->status) {
	case AUTH_DISABLED:
		if (r->denial == AUTH_DENIAL_ADMIN)
			pop3_reply_err(s, "[AUTH] Administrator accounts cannot use POP3");
		else if (r->denial == AUTH_DENIAL_APP_PASSWORD)
			pop3_reply_err(s, "[AUTH] This app password is not valid for POP3");
		else
			pop3_reply_err(s, "[AUTH] POP3 access is disabled for this account");
		return true;
	case AUTH_AUTHZ:
		pop3_reply_err(s, "[AUTH] Not authorized to log in as that user");
		return true;
	case AUTH_BLOCKED:
		pop3_reply_err(s, "[SYS/TEMP] Too many failed logins; try again later");
		return true;
	case AUTH_TEMP:
		pop3_reply_err(s, "[SYS/TEMP] Authentication is temporarily unavailable");
		return true;
	default:
		/* A failed guess costs time; a right password never waits. */
		session_delay(&s->base, r->delay_ms, delay_done);
		return false;
	}
}

/* ---- USER / PASS ---- */

bool
pop3_cmd_user(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (cmd->nargs != 1) {
		pop3_reply_err(s, "Expected: USER <name>");
		return true;
	}
	if (refuse_plaintext(s))
		return true;
	if (strlen(cmd->args[0]) >= sizeof(s->user)) {
		pop3_reply_err(s, "[AUTH] User name too long");
		return true;
	}
	snprintf(s->user, sizeof(s->user), "%s", cmd->args[0]);
	/* Says nothing of whether the user exists. */
	pop3_reply_ok(s, "Send your password");
	return true;
}

static void
pass_done(struct session *base, void *arg)
{
	struct session_auth_job *job = arg;
	struct pop3_session *s = (struct pop3_session *)base;

	if (s != NULL) {
		if (job->result.status == AUTH_OK)
			pop3_login(s, &job->result.id, "USER");
		else if (conclude_failure(s, &job->result, "USER"))
			pop3_command_finish(s);
	}
	job_free(job);
}

bool
pop3_cmd_pass(struct pop3_session *s, const struct pop3_command *cmd)
{
	/* RFC 1939 section 7: the argument is the rest of the line; a
	   password may hold spaces. */
	if (cmd->rest == NULL || cmd->rest[0] == '\0') {
		pop3_reply_err(s, "Expected: PASS <password>");
		return true;
	}
	if (s->user[0] == '\0') {
		pop3_reply_err(s, "Send USER first");
		return true;
	}
	if (refuse_plaintext(s))
		return true;
	struct session_auth_job *job = job_new(s);
	if (refuse_blocked(s, &job->conn, "USER")) {
		job_free(job);
		return true;
	}
	job->user = xstrdup(s->user);
	job->password = xstrdup(cmd->rest);
	s->sasl_mech = NULL;
	session_auth_submit(&s->base, s->srv->auth_pool, job, pass_done);
	return false;
}

static void
apop_done(struct session *base, void *arg)
{
	struct session_auth_job *job = arg;
	struct pop3_session *s = (struct pop3_session *)base;

	if (s != NULL) {
		if (job->result.status == AUTH_OK)
			pop3_login(s, &job->result.id, "APOP");
		else if (conclude_failure(s, &job->result, "APOP"))
			pop3_command_finish(s);
	}
	job_free(job);
}

bool
pop3_cmd_apop(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (s->apop_timestamp[0] == '\0') { /* not offered when the session began */
		pop3_reply_err(s, "[AUTH] APOP is not offered here; use USER/PASS or AUTH");
		return true;
	}
	if (cmd->nargs != 2) {
		pop3_reply_err(s, "Expected: APOP <name> <digest>");
		return true;
	}
	/* The digest is MD5, crackable offline: the plaintext policy holds. */
	if (refuse_plaintext(s))
		return true;
	struct session_auth_job *job = job_new(s);
	if (refuse_blocked(s, &job->conn, "APOP")) {
		job_free(job);
		return true;
	}
	job->user = xstrdup(cmd->args[0]);
	job->apop_timestamp = xstrdup(s->apop_timestamp);
	job->apop_digest = xstrdup(cmd->args[1]);
	s->sasl_mech = NULL;
	session_auth_submit(&s->base, s->srv->auth_pool, job, apop_done);
	return false;
}

/* ---- AUTH (RFC 5034) ---- */

static bool on_sasl_line(struct pop3_session *s, const char *line, size_t len);

static void
step_done(struct session *base, void *arg)
{
	struct session_auth_job *job = arg;
	struct pop3_session *s = (struct pop3_session *)base;
	struct auth_result *r = &job->result;

	if (s == NULL) {
		job_free(job);
		return;
	}
	if (r->status == AUTH_CONTINUE || (r->status == AUTH_OK && r->out_b64 != NULL)) {
		/* RFC 5034 section 4: "+ " and the challenge; data that comes
		   with success is a last challenge answered by an empty line. */
		net_conn_printf(s->base.conn, "+ %s\r\n", r->out_b64 != NULL ? r->out_b64 : "");
		if (r->status == AUTH_OK) {
			s->sasl_awaiting_final = true;
			s->id = r->id;
		} else {
			s->sasl = job->sasl;
			job->sasl = NULL;
		}
		job_free(job);
		pop3_read_line(s, on_sasl_line);
		return;
	}
	if (r->status == AUTH_OK)
		pop3_login(s, &r->id, s->sasl_mech);
	else if (conclude_failure(s, r, s->sasl_mech))
		pop3_command_finish(s);
	job_free(job);
}

static void
submit_step(struct pop3_session *s, struct auth_sasl *sasl, const char *in)
{
	struct session_auth_job *job = job_new(s);

	job->sasl = sasl;
	job->in_b64 = in != NULL ? xstrdup(in) : NULL;
	session_auth_submit(&s->base, s->srv->auth_pool, job, step_done);
}

static bool
on_sasl_line(struct pop3_session *s, const char *line, size_t len)
{
	if (len == 1 && line[0] == '*') {
		auth_sasl_free(&s->sasl);
		s->sasl_awaiting_final = false;
		memset(&s->id, 0, sizeof(s->id));
		pop3_reply_err(s, "Authentication cancelled");
		return true;
	}
	if (s->sasl_awaiting_final) {
		struct auth_identity id = s->id;
		s->sasl_awaiting_final = false;
		memset(&s->id, 0, sizeof(s->id));
		if (len != 0) {
			struct auth_result r = {.status = AUTH_MALFORMED, .reason = "malformed"};
			return conclude_failure(s, &r, s->sasl_mech);
		}
		pop3_login(s, &id, s->sasl_mech);
		return false;
	}
	struct auth_sasl *sasl = s->sasl;
	s->sasl = NULL;
	submit_step(s, sasl, line);
	return false;
}

bool
pop3_cmd_auth(struct pop3_session *s, const struct pop3_command *cmd)
{
	struct auth_conn conn;

	session_auth_conn(&s->base, AUTH_PROTO_POP3, &conn);
	if (cmd->nargs == 0) {
		/* The mechanism list many clients still ask for this way
		   (RFC 1734's form; RFC 5034 lists them in CAPA). */
		struct buf b;
		buf_init(&b);
		auth_mechanisms_list(s->srv->auth, &conn, &b);
		pop3_reply_ok(s, "Mechanisms follow");
		for (char *p = b.data, *sp; p != NULL && *p != '\0'; p = sp) {
			sp = strchr(p, ' ');
			if (sp != NULL)
				*sp++ = '\0';
			pop3_reply_line(s, "%s", p);
		}
		pop3_reply_line(s, ".");
		buf_deinit(&b);
		return true;
	}
	if (cmd->nargs > 2) {
		pop3_reply_err(s, "Expected: AUTH <mechanism> [<initial response>]");
		return true;
	}
	if (refuse_plaintext(s))
		return true;
	struct auth_sasl *sasl = auth_sasl_new(s->srv->auth, &conn, cmd->args[0]);
	if (sasl == NULL) {
		pop3_reply_err(s, "Unsupported authentication mechanism");
		return true;
	}
	s->sasl_mech = auth_sasl_mech(sasl);
	if (refuse_blocked(s, &conn, s->sasl_mech)) {
		auth_sasl_free(&sasl);
		return true;
	}
	const char *ir = NULL;
	if (cmd->nargs == 2)
		ir = strcmp(cmd->args[1], "=") == 0 ? "" : cmd->args[1];
	submit_step(s, sasl, ir);
	return false;
}

/* ---- after authentication ---- */

struct open_job {
	struct store *store;
	uint64_t account_id;
	struct pop3_maildrop md;
	enum store_error err;
	int rc;
};

static void
open_work(void *arg)
{
	struct open_job *job = arg;

	job->rc = pop3_maildrop_open(job->store, job->account_id, &job->md, &job->err);
}

static void
open_done(struct session *base, void *arg)
{
	struct open_job *job = arg;
	struct pop3_session *s = (struct pop3_session *)base;

	if (s == NULL) {
		/* The session's free released the lock it held. */
		pop3_maildrop_close(&job->md);
		free(job);
		return;
	}
	if (job->rc < 0) {
		log_error("pop3", "event=maildrop-open-failed err=\"%s\"",
		          store_error_str(job->err));
		pop3_lock_release(job->account_id);
		s->holds_lock = false;
		memset(&s->id, 0, sizeof(s->id));
		pop3_reply_err(s, "[SYS/TEMP] Mailbox unavailable; try again later (sid %s)",
		               s->base.log.sid);
	} else {
		s->md = job->md;
		s->state = POP3_TRANSACTION;
		net_conn_set_timeout(s->base.conn, s->settings.idle_timeout_ms);
		pop3_reply_ok(s, "Logged in: %u messages (%llu octets)", s->md.count,
		              (unsigned long long)s->md.total_size);
	}
	free(job);
	pop3_command_finish(s);
}

void
pop3_login(struct pop3_session *s, const struct auth_identity *id, const char *mech)
{
	switch (pop3_lock_acquire(id->account_id, s->settings.login_delay_s)) {
	case POP3_LOCK_IN_USE:
		log_info("pop3", "event=maildrop-in-use user=%s",
		         log_str(s->arena, id->address, strlen(id->address)));
		pop3_reply_err(s, "[IN-USE] Another POP3 session has this mailbox");
		pop3_command_finish(s);
		return;
	case POP3_LOCK_TOO_SOON:
		pop3_reply_err(s, "[LOGIN-DELAY] Logged in too recently; wait %llu seconds",
		               (unsigned long long)s->settings.login_delay_s);
		pop3_command_finish(s);
		return;
	case POP3_LOCK_OK:
		break;
	}
	s->holds_lock = true;
	s->id = *id;
	session_set_user(&s->base, id->address);
	session_count_login(&s->base, true, mech != NULL ? mech : "USER", NULL);
	log_info("pop3", "event=login user=%s ip=%s mech=%s tls=%s%s%s", s->base.log.user,
	         s->base.log.ip, mech != NULL ? mech : "USER",
	         net_conn_is_tls(s->base.conn) ? "yes" : "no", id->master[0] ? " master=" : "",
	         id->master[0] ? log_str(s->arena, id->master, strlen(id->master)) : "");
	struct open_job *job = xcalloc(1, sizeof(*job));
	job->store = s->srv->store;
	job->account_id = id->account_id;
	session_job_submit(&s->base, s->srv->store_pool, open_work, open_done, job);
}
