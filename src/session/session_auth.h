/* SPDX-License-Identifier: MIT */
/*
 * session_auth.h: a login check on the auth pool, the same for every
 * protocol: a password (IMAP LOGIN, POP3 USER/PASS), one SASL step
 * (AUTHENTICATE, AUTH) or POP3 APOP runs on a pool thread with the
 * session's log context, and the result comes back to the session's worker
 * by id (session_job_submit). The job holds its own copies of every input,
 * so the pool thread touches nothing of the session's. What the result
 * means on the wire (RFC 5530 codes, -ERR [AUTH], 535 5.7.8) is the
 * protocol's.
 */
#ifndef TERN_SESSION_SESSION_AUTH_H
#define TERN_SESSION_SESSION_AUTH_H

#include "auth/auth.h"
#include "session/session.h"

struct net_jobs;

struct session_auth_job {
	struct auth_service *svc;
	struct auth_conn conn;
	char *user, *password;              /* a password check */
	struct auth_sasl *sasl;             /* or one SASL step: in_b64 is the */
	char *in_b64;                       /* client's response, NULL for none */
	char *apop_timestamp, *apop_digest; /* or POP3 APOP */
	struct auth_result result;
};

/* Fills job->svc and job->conn for s (the inputs are the caller's to set). */
void session_auth_job_init(struct session_auth_job *job, struct session *s,
                           struct auth_service *svc, enum auth_protocol proto);
/* Runs the check on pool; done(s or NULL, job) follows on the worker, and
   the job is then the caller's again (clear and free it there). */
void session_auth_submit(struct session *s, struct net_jobs *pool, struct session_auth_job *job,
                         session_job_done_fn *done);
/* Wipes and frees what the job holds (not the job itself). */
void session_auth_job_clear(struct session_auth_job *job);

#endif
