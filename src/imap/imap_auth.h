/* SPDX-License-Identifier: MIT */
/*
 * imap_auth.h: what LOGIN and AUTHENTICATE share: running an auth check on
 * the job pool and turning its result into the IMAP reply (RFC 5530 codes).
 */
#ifndef TERN_IMAP_AUTH_H
#define TERN_IMAP_AUTH_H

#include "auth/auth.h"
#include "imap/session.h"

struct imap_auth_job {
	struct imap_session *s; /* NULL once the session is gone */
	struct auth_service *svc;
	/* LOGIN */
	char *user, *password;
	/* AUTHENTICATE: one SASL step */
	struct auth_sasl *sasl;
	char *in_b64;
	bool has_input;
	/* results */
	enum auth_status status;
	struct auth_identity id;
	char *out_b64;
	void (*done)(struct imap_auth_job *job); /* on the worker, session alive */
};

/* Runs the job's check on the pool; job->done(job) follows on the worker. */
void imap_auth_submit(struct imap_session *s, struct imap_auth_job *job);
/* Frees the job and what it owns. */
void imap_auth_job_free(struct imap_auth_job *job);
/*
 * Logs in on AUTH_OK or replies the failure. Returns IMAP_CMD_DONE when the
 * tagged reply went out, IMAP_CMD_WAIT when it follows after the failed-login
 * delay (which then finishes the command itself).
 */
enum imap_cmd_status imap_auth_conclude(struct imap_cmd *cmd, enum auth_status st,
					const struct auth_identity *id, const char *mech,
					const char *user);
/* True (after replying NO) if passwords may not be sent on this connection. */
bool imap_auth_refuse_plaintext(struct imap_cmd *cmd);

#endif
