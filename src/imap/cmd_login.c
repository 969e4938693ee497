/* SPDX-License-Identifier: MIT */
/*
 * cmd_login.c: LOGIN (RFC 9051 section 6.2.3). Refused with PRIVACYREQUIRED
 * where passwords may not travel in plaintext, and at once while the
 * client's IP is blocked. The check itself (a database lookup and a
 * deliberately slow hash) runs on the job pool; "user*master" logins and app
 * passwords are handled there (auth_login). "user/mailbox" (the separator
 * is imap.shared_login_separator) logs in to a mailbox shared with user
 * (imap_namespace_enter).
 */
#include <stdlib.h>
#include <string.h>

#include "imap/commands.h"
#include "imap/imap_auth.h"
#include "lib/arena.h"

static void
login_done(struct imap_auth_job *job)
{
	struct imap_cmd *cmd = &job->s->cmd;

	if (imap_auth_conclude(cmd, &job->a.result, "LOGIN") == IMAP_CMD_DONE)
		imap_cmd_finish(cmd);
	imap_auth_job_free(job);
}

enum imap_cmd_status
imap_cmd_login(struct imap_cmd *cmd)
{
	const char *user, *password;

	/* login = "LOGIN" SP userid SP password */
	if (!imap_args_astring(cmd, 0, &user) || !imap_args_astring(cmd, 1, &password) ||
	    !imap_args_end(cmd, 2)) {
		imap_reply_bad(cmd, "Expected: LOGIN <user> <password>");
		return IMAP_CMD_DONE;
	}
	if (imap_auth_refuse_plaintext(cmd))
		return IMAP_CMD_DONE;
	struct imap_auth_job *job = imap_auth_job_new(cmd->session);
	if (imap_auth_refuse_blocked(cmd, &job->a.conn, "LOGIN")) {
		imap_auth_job_free(job);
		return IMAP_CMD_DONE;
	}
	/* "you@example.org/shared-box": the mailbox part is kept for
	   imap_session_login; the password is checked for the address. */
	const char *sep = cmd->session->settings.shared_login_separator;
	const char *at = *sep != '\0' ? strstr(user, sep) : NULL;
	free(cmd->session->login_box);
	cmd->session->login_box = NULL;
	if (at != NULL && at[strlen(sep)] != '\0') {
		cmd->session->login_box = xstrdup(at + strlen(sep));
		user = arena_strndup(cmd->arena, user, (size_t)(at - user));
	}
	job->a.user = xstrdup(user);
	job->a.password = xstrdup(password);
	job->done = login_done;
	imap_auth_submit(cmd->session, job);
	return IMAP_CMD_WAIT;
}
