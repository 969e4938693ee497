/* SPDX-License-Identifier: MIT */
/*
 * imap_auth.c: the auth job's trip to the pool and back. The job names its
 * session by pointer, but the session clears that pointer when it closes
 * (imap_session_forget_job), and both happen on the same worker thread, so
 * the done callback never sees a freed session. The pool thread touches only
 * the job's own copies of the inputs.
 */
#include "imap/imap_auth.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "net/jobs.h"
#include "net/net.h"

static void
job_work(void *arg)
{
	struct imap_auth_job *job = arg;

	if (job->sasl != NULL)
		job->status = auth_sasl_step(job->sasl, job->has_input ? job->in_b64 : NULL,
					     &job->out_b64, &job->id);
	else
		job->status = auth_check_password(job->svc, AUTH_PROTO_IMAP, job->user,
						  job->password, &job->id);
}

static void
job_done(void *arg)
{
	struct imap_auth_job *job = arg;

	if (job->s == NULL) {
		imap_auth_job_free(job);
		return;
	}
	job->s->job = NULL;
	job->done(job);
}

void
imap_auth_submit(struct imap_session *s, struct imap_auth_job *job)
{
	job->s = s;
	job->svc = s->srv->auth;
	s->job = job;
	net_jobs_submit(s->srv->jobs, net_conn_base(s->conn), job_work, job_done, job);
}

void
imap_session_forget_job(struct imap_session *s)
{
	struct imap_auth_job *job = s->job;

	job->s = NULL;
	s->job = NULL;
}

static void
free_secret(char *p)
{
	if (p != NULL) {
		explicit_bzero(p, strlen(p));
		free(p);
	}
}

void
imap_auth_job_free(struct imap_auth_job *job)
{
	free_secret(job->user);
	free_secret(job->password);
	free_secret(job->in_b64);
	free_secret(job->out_b64);
	auth_sasl_free(&job->sasl);
	explicit_bzero(&job->id, sizeof(job->id));
	free(job);
}

enum imap_cmd_status
imap_auth_conclude(struct imap_cmd *cmd, enum auth_status st, const struct auth_identity *id,
		   const char *mech, const char *user)
{
	struct imap_session *s = cmd->session;
	const char *reason = "";
	const char *who = user != NULL ? log_str(cmd->arena, user, strlen(user)) : "-";

	switch (st) {
	case AUTH_OK:
		if (imap_session_login(s, id, mech) < 0) {
			imap_reply_no(cmd, "[UNAVAILABLE] Mailbox store unavailable (sid %s)", s->sid);
			return IMAP_CMD_DONE;
		}
		imap_reply_ok(cmd, "[CAPABILITY %s] Logged in", imap_capability(s));
		return IMAP_CMD_DONE;
	case AUTH_CONTINUE: /* not a conclusion; callers handle it */
	case AUTH_FAILED:
		reason = "bad-credentials";
		break;
	case AUTH_DISABLED:
		reason = "protocol-disabled";
		break;
	case AUTH_MALFORMED:
		reason = "malformed";
		break;
	case AUTH_TEMP:
		reason = "temporary";
		break;
	}
	/* One stable line per failure, for fail2ban (docs/AUTH.md). */
	log_info("imap", "sid=%s event=auth-failed ip=%s user=%s mech=%s reason=%s", s->sid,
		 net_conn_peer(s->conn), who, mech, reason);
	switch (st) {
	case AUTH_DISABLED:
		imap_reply_no(cmd, "[CONTACTADMIN] IMAP access is disabled for this account");
		return IMAP_CMD_DONE;
	case AUTH_MALFORMED:
		imap_reply_bad(cmd, "Invalid authentication data");
		return IMAP_CMD_DONE;
	case AUTH_TEMP:
		imap_reply_no(cmd, "[UNAVAILABLE] Authentication is temporarily unavailable");
		return IMAP_CMD_DONE;
	default:
		/* A failed guess costs time; a right password never waits. */
		imap_cmd_finish_delayed(cmd, s->auth_settings.fail_delay_ms, "NO",
					"[AUTHENTICATIONFAILED] Authentication failed");
		return IMAP_CMD_WAIT;
	}
}

bool
imap_auth_refuse_plaintext(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;

	if (auth_plaintext_allowed(&s->auth_settings, net_conn_is_tls(s->conn),
				   net_conn_is_loopback(s->conn)))
		return false;
	/* RFC 9051 section 6.2.3 with the RFC 5530 code. */
	imap_reply_no(cmd, "[PRIVACYREQUIRED] Use STARTTLS or port 993 before logging in");
	return true;
}
