/* SPDX-License-Identifier: MIT */
/*
 * imap_auth.h: what LOGIN and AUTHENTICATE share: describing the connection
 * to auth (TLS, channel bindings, client certificate), running an auth check
 * on the job pool and turning its result into the IMAP reply (RFC 5530
 * codes; the table is in auth/auth.h).
 */
#ifndef TERN_IMAP_AUTH_H
#define TERN_IMAP_AUTH_H

#include "auth/auth.h"
#include "imap/session.h"
#include "session/session_auth.h"

struct imap_auth_job {
	struct session_auth_job a;               /* first: the check and its result */
	struct imap_session *s;                  /* set for done(), on the worker */
	void (*done)(struct imap_auth_job *job); /* on the worker, session alive */
};

/* A job for s (its inputs still to set). */
struct imap_auth_job *imap_auth_job_new(struct imap_session *s);
/* Runs the job's check on the pool; job->done(job) follows on the worker. */
void imap_auth_submit(struct imap_session *s, struct imap_auth_job *job);
/* Frees the job and what it owns. */
void imap_auth_job_free(struct imap_auth_job *job);
/*
 * Logs in on AUTH_OK or replies the failure (after r->delay_ms for a failed
 * guess). Returns IMAP_CMD_DONE when the tagged reply went out, IMAP_CMD_WAIT
 * when it follows after the delay (which then finishes the command itself).
 */
enum imap_cmd_status imap_auth_conclude(struct imap_cmd *cmd, const struct auth_result *r,
                                        const char *mech);
/* True (after replying NO) if passwords may not be sent on this connection. */
bool imap_auth_refuse_plaintext(struct imap_cmd *cmd);
/* True (after replying NO [UNAVAILABLE]) if the client's IP is blocked. */
bool imap_auth_refuse_blocked(struct imap_cmd *cmd, const struct auth_conn *conn, const char *mech);

#endif
