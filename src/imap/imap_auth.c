/* SPDX-License-Identifier: MIT */
/*
 * imap_auth.c: the auth job's trip to the pool and back. The job names its
 * session by id (session_job_submit): its done callback gets the session
 * looked up again, or drops the result when the client left. The pool
 * thread touches only the job's own copies of the inputs.
 *
 * Every failed login is logged here in one stable line that fail2ban can
 * match (docs/AUTH.md):
 *   ... info imap sid=… event=auth-failed ip=198.51.100.7 user=… mech=PLAIN reason=…
 */
#include "imap/imap_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "net/jobs.h"
#include "net/net.h"
#include "net/tls.h"

struct imap_auth_job *
imap_auth_job_new(struct imap_session *s)
{
	struct imap_auth_job *job = xcalloc(1, sizeof(*job));

	session_auth_job_init(&job->a, &s->base, s->srv->auth, AUTH_PROTO_IMAP);
	return job;
}

/* The session is looked up again by id: NULL when it closed meanwhile. */
static void
job_done(struct session *base, void *arg)
{
	struct imap_auth_job *job = arg;

	if (base == NULL) {
		imap_auth_job_free(job);
		return;
	}
	job->s = (struct imap_session *)base;
	job->done(job);
}

void
imap_auth_submit(struct imap_session *s, struct imap_auth_job *job)
{
	session_auth_submit(&s->base, s->srv->jobs, &job->a, job_done);
}

void
imap_auth_job_free(struct imap_auth_job *job)
{
	session_auth_job_clear(&job->a);
	free(job);
}

static void
log_failure(struct imap_session *s, const char *user, const char *mech, const char *reason,
            unsigned failures)
{
	struct arena *a = s->cmd_arena;

	session_count_login(&s->base, false, mech, reason);
	/* One stable line per failure, for fail2ban (docs/AUTH.md). */
	log_info("imap", "event=auth-failed ip=%s user=%s mech=%s reason=%s failures=%u",
	         net_conn_peer(s->base.conn),
	         user != NULL && user[0] != '\0' ? log_str(a, user, strlen(user)) : "-", mech,
	         reason, failures);
}

enum imap_cmd_status
imap_auth_conclude(struct imap_cmd *cmd, const struct auth_result *r, const char *mech)
{
	struct imap_session *s = cmd->session;
	const char *reason = r->reason != NULL ? r->reason : "failed";

	/* RFC 2221 section 4.1: the credentials are proven, but the account
	   lives elsewhere. An administrator acting as the user (a master
	   login) still gets in, to the copy here, to move or check it. */
	if (r->status == AUTH_OK && r->id.referral[0] != '\0' && r->id.master[0] == '\0') {
		session_count_login(&s->base, false, mech, "referral");
		log_info("imap", "event=login-referral user=%s referral=%s",
		         log_str(s->cmd_arena, r->id.address, strlen(r->id.address)),
		         log_str(s->cmd_arena, r->id.referral, strlen(r->id.referral)));
		imap_reply_no(cmd, "[REFERRAL %s] This account is served by another server",
		              r->id.referral);
		return IMAP_CMD_DONE;
	}
	if (r->status == AUTH_OK) {
		int rc = imap_session_login(s, &r->id, mech);
		if (rc == -2) {
			session_count_login(&s->base, false, mech, "shared-mailbox");
			imap_reply_no(cmd, "[AUTHORIZATIONFAILED] No such mailbox shared with you");
			return IMAP_CMD_DONE;
		}
		if (rc < 0) {
			imap_reply_no(cmd, "[UNAVAILABLE] Mailbox store unavailable (sid %s)",
			              s->base.log.sid);
			return IMAP_CMD_DONE;
		}
		imap_reply_ok(cmd, "[CAPABILITY %s] Logged in", imap_capability(s));
		return IMAP_CMD_DONE;
	}
	free(s->login_box); /* a failed "user/mailbox" LOGIN leaves nothing behind */
	s->login_box = NULL;
	log_failure(s, r->user, mech, reason, r->failures);
	switch (r->status) {
	case AUTH_DISABLED:
		if (r->denial == AUTH_DENIAL_ADMIN)
			imap_reply_no(cmd, "[CONTACTADMIN] Administrator accounts cannot use IMAP");
		else if (r->denial == AUTH_DENIAL_APP_PASSWORD)
			imap_reply_no(
			        cmd,
			        "[AUTHORIZATIONFAILED] This app password is not valid for IMAP");
		else
			imap_reply_no(cmd,
			              "[CONTACTADMIN] IMAP access is disabled for this account");
		return IMAP_CMD_DONE;
	case AUTH_AUTHZ:
		imap_reply_no(cmd, "[AUTHORIZATIONFAILED] Not authorized to log in as that user");
		return IMAP_CMD_DONE;
	case AUTH_BLOCKED:
		imap_reply_no(cmd, "[UNAVAILABLE] Too many failed logins; try again later");
		return IMAP_CMD_DONE;
	case AUTH_TEMP:
		imap_reply_no(cmd, "[UNAVAILABLE] Authentication is temporarily unavailable");
		return IMAP_CMD_DONE;
	case AUTH_MALFORMED:
		imap_cmd_finish_delayed(cmd, r->delay_ms, "BAD", "Invalid authentication data");
		return IMAP_CMD_WAIT;
	default:
		/* A failed guess costs time; a right password never waits. */
		imap_cmd_finish_delayed(cmd, r->delay_ms, "NO",
		                        "[AUTHENTICATIONFAILED] Authentication failed");
		return IMAP_CMD_WAIT;
	}
}

bool
imap_auth_refuse_plaintext(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;

	if (auth_service_plaintext_allowed(s->srv->auth, net_conn_is_tls(s->base.conn),
	                                   net_conn_is_loopback(s->base.conn)))
		return false;
	/* RFC 9051 section 6.2.3 with the RFC 5530 code. */
	if (s->settings.tls_port != 0)
		imap_reply_no(cmd, "[PRIVACYREQUIRED] Use STARTTLS or port %u before logging in",
		              s->settings.tls_port);
	else
		imap_reply_no(cmd, "[PRIVACYREQUIRED] Use STARTTLS before logging in");
	return true;
}

bool
imap_auth_refuse_blocked(struct imap_cmd *cmd, const struct auth_conn *conn, const char *mech)
{
	struct imap_session *s = cmd->session;

	if (!auth_ip_is_blocked(s->srv->auth, conn))
		return false;
	log_failure(s, NULL, mech, "blocked", 0);
	imap_reply_no(cmd, "[UNAVAILABLE] Too many failed logins; try again later");
	return true;
}
