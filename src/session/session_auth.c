/* SPDX-License-Identifier: MIT */
/*
 * session_auth.c: the auth pool's side of a login check (session_auth.h).
 */
#include "session/session_auth.h"

#include <stdlib.h>
#include <string.h>

void
session_auth_job_init(struct session_auth_job *job, struct session *s, struct auth_service *svc,
                      enum auth_protocol proto)
{
	job->svc = svc;
	session_auth_conn(s, proto, &job->conn);
}

static void
work(void *arg)
{
	struct session_auth_job *job = arg;

	if (job->sasl != NULL)
		auth_sasl_step(job->sasl, job->in_b64, &job->result);
	else if (job->apop_digest != NULL)
		auth_apop(job->svc, &job->conn, job->user, job->apop_timestamp, job->apop_digest,
		          &job->result);
	else
		auth_login(job->svc, &job->conn, job->user, job->password, &job->result);
}

void
session_auth_submit(struct session *s, struct net_jobs *pool, struct session_auth_job *job,
                    session_job_done_fn *done)
{
	session_job_submit(s, pool, work, done, job);
}

static void
free_secret(char **p)
{
	if (*p != NULL) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

void
session_auth_job_clear(struct session_auth_job *job)
{
	free_secret(&job->user);
	free_secret(&job->password);
	free_secret(&job->in_b64);
	free_secret(&job->apop_timestamp);
	free_secret(&job->apop_digest);
	auth_result_clear(&job->result);
	auth_sasl_free(&job->sasl);
	explicit_bzero(&job->conn, sizeof(job->conn));
}
