/* SPDX-License-Identifier: MIT */
/*
 * cmd_authenticate.c: AUTHENTICATE (RFC 9051 section 6.2.2) with SASL-IR
 * (RFC 4959). Each SASL step runs on the job pool; between steps the command
 * reads one raw client line: base64, or "*" to cancel (answered BAD, as the
 * RFC requires). Final server data that the mechanism returns with success
 * (SCRAM's server signature, RFC 4422 section 5) is sent as a last challenge
 * whose answer must be empty. The mechanisms and what each needs are in
 * auth/sasl.c; the connection's channel bindings and client certificate are
 * taken once, when the command starts.
 */
#include <stdlib.h>
#include <string.h>

#include "imap/commands.h"
#include "imap/imap_auth.h"

static enum imap_cmd_status on_line(struct imap_cmd *cmd, const char *line, size_t len);

static void
step_done(struct imap_auth_job *job)
{
	struct imap_session *s = job->s;
	struct imap_cmd *cmd = &s->cmd;
	struct auth_result *r = &job->a.result;

	if (r->status == AUTH_CONTINUE || (r->status == AUTH_OK && r->out_b64 != NULL)) {
		imap_reply_continue(s, r->out_b64 != NULL ? r->out_b64 : "");
		if (r->status == AUTH_OK) {
			s->sasl_awaiting_final = true;
			s->user = r->id; /* logged in once the client agrees */
		} else {
			s->sasl = job->a.sasl;
			job->a.sasl = NULL;
		}
		imap_auth_job_free(job);
		imap_cmd_read_line(cmd, on_line);
		return;
	}
	if (imap_auth_conclude(cmd, r, s->sasl_mech) == IMAP_CMD_DONE)
		imap_cmd_finish(cmd);
	imap_auth_job_free(job);
}

static void
submit_step(struct imap_session *s, struct auth_sasl *sasl, const char *in)
{
	struct imap_auth_job *job = imap_auth_job_new(s);

	job->a.sasl = sasl;
	job->a.in_b64 = in != NULL ? xstrdup(in) : NULL;
	job->done = step_done;
	imap_auth_submit(s, job);
}

static enum imap_cmd_status
on_line(struct imap_cmd *cmd, const char *line, size_t len)
{
	struct imap_session *s = cmd->session;

	if (len == 1 && line[0] == '*') {
		auth_sasl_free(&s->sasl);
		s->sasl_awaiting_final = false;
		memset(&s->user, 0, sizeof(s->user));
		imap_reply_bad(cmd, "Authentication cancelled");
		return IMAP_CMD_DONE;
	}
	if (s->sasl_awaiting_final) {
		struct auth_result r = {.status = len == 0 ? AUTH_OK : AUTH_MALFORMED,
		                        .reason = len == 0 ? "ok" : "malformed",
		                        .id = s->user};
		s->sasl_awaiting_final = false;
		memset(&s->user, 0, sizeof(s->user));
		return imap_auth_conclude(cmd, &r, s->sasl_mech);
	}
	struct auth_sasl *sasl = s->sasl;
	s->sasl = NULL;
	submit_step(s, sasl, line);
	return IMAP_CMD_WAIT;
}

enum imap_cmd_status
imap_cmd_authenticate(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct auth_conn conn;

	/* The shared-mailbox form is LOGIN's alone (cmd_login.c). */
	free(s->login_box);
	s->login_box = NULL;
	/* authenticate = "AUTHENTICATE" SP auth-type [SP initial-resp] *(CRLF base64)
	   initial-resp = (base64 / "=") */
	if (cmd->nargs < 1 || cmd->nargs > 2 || cmd->args[0].type != IMAP_ARG_ATOM ||
	    (cmd->nargs == 2 && cmd->args[1].type != IMAP_ARG_ATOM)) {
		imap_reply_bad(cmd, "Expected: AUTHENTICATE <mechanism> [<initial response>]");
		return IMAP_CMD_DONE;
	}
	/* Where passwords may not travel, no mechanism is offered at all. */
	if (imap_auth_refuse_plaintext(cmd))
		return IMAP_CMD_DONE;
	session_auth_conn(&s->base, AUTH_PROTO_IMAP, &conn);
	struct auth_sasl *sasl = auth_sasl_new(s->srv->auth, &conn, cmd->args[0].str);
	if (sasl == NULL) {
		imap_reply_no(cmd, "Unsupported authentication mechanism");
		return IMAP_CMD_DONE;
	}
	s->sasl_mech = auth_sasl_mech(sasl);
	if (imap_auth_refuse_blocked(cmd, &conn, s->sasl_mech)) {
		auth_sasl_free(&sasl);
		return IMAP_CMD_DONE;
	}
	const char *ir = NULL;
	if (cmd->nargs == 2)
		ir = strcmp(cmd->args[1].str, "=") == 0 ? "" : cmd->args[1].str;
	submit_step(s, sasl, ir);
	return IMAP_CMD_WAIT;
}
