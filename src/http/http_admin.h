/* SPDX-License-Identifier: MIT */
/*
 * http_admin.h: what the admin API's files share (http_admin.c signs
 * callers in and runs jobs; http_admin_mail.c holds the aliases, app
 * passwords and queue operations). Not for use outside src/http.
 *
 * A request becomes one struct admin_job: admin_call() checks who calls,
 * copies the form (the query of a GET, the body of a POST), then the job
 * runs on auth's job pool, where blocking on SQLite and the queue
 * directory is fine, and fills status and out (or error); the worker sends
 * it. An operation reads its parameters with admin_form_*() and writes
 * JSON with admin_json_str() and buf_printf().
 */
#ifndef TERN_HTTP_ADMIN_H
#define TERN_HTTP_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/accounts.h"
#include "auth/auth.h"
#include "lib/buf.h"

struct http_server;

enum admin_op {
	OP_LOGIN,
	OP_ACCOUNTS,
	OP_ACCESS,
	OP_QUOTA_GET,
	OP_QUOTA_SET,
	OP_ACCOUNT_ADD,
	OP_ACCOUNT_DELETE,
	OP_ACCOUNT_PASSWORD,
	OP_STATUS,
	OP_SESSIONS,
	OP_KICK,
	OP_ALIASES,
	OP_ALIAS_ADD,
	OP_ALIAS_DELETE,
	OP_APP_PASSWORDS,
	OP_APP_PASSWORD_ADD,
	OP_APP_PASSWORD_DELETE,
	OP_QUEUE,
	OP_QUEUE_SHOW,
	OP_QUEUE_CONTROL,
};

struct admin_job {
	struct http_server *srv;
	enum admin_op op;
	int control; /* OP_QUEUE_CONTROL: enum smtp_queue_control */
	struct auth_conn conn;
	char *user, *password; /* a password to check first, or NULL */
	char admin[256];       /* who: from the token, or after the check */
	char *form;            /* the query (GET) or body (POST), a copy */
	size_t form_len;
	/* results */
	int status;
	const char *error; /* static */
	uint64_t delay_ms;
	struct buf out; /* the JSON body */
};

/* The form value of name: heap (free it), or NULL when absent. */
char *admin_form_get(const struct admin_job *job, const char *name);
/* True when name is absent (*out untouched) or a number up to max. */
bool admin_form_u64(const struct admin_job *job, const char *name, uint64_t max, uint64_t *out);
/* Splits list in place at commas, whitespace and newlines; heap array of
   pointers into list (free() it). */
char **admin_split_list(char *list, size_t *n_out);
/* s as a JSON string, escaped (also safe inside HTML). */
void admin_json_str(struct buf *b, const char *s);
/* The HTTP status for an auth error: 404, 409, 400 or 500. */
int admin_auth_error_status(enum auth_error err);

/* The operations of http_admin_mail.c, run on the job pool. */
void admin_op_aliases(struct admin_job *job, struct auth_db *db);
void admin_op_app_passwords(struct admin_job *job, struct auth_db *db);
void admin_op_queue(struct admin_job *job);

#endif
