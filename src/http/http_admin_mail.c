/* SPDX-License-Identifier: MIT */
/*
 * http_admin_mail.c: the admin API's operations on mail routing and
 * delivery: recipient aliases, app passwords and the outbound queue.
 *
 *   GET  /api/v1/aliases               ?alias= -> {"aliases": [{alias, target, created}]}
 *   POST /api/v1/aliases/add           alias, target -> 201 {alias, target, result}
 *   POST /api/v1/aliases/delete        alias, target (optional: all of them)
 *   GET  /api/v1/app-passwords         ?address= -> {address, "app_passwords":
 *                                      [{name, protocols, created}]}
 *   POST /api/v1/app-passwords/add     address, name, protocols (optional,
 *                                      "imap,pop3"; all by default)
 *                                      -> 201 {address, name, protocols, password}
 *   POST /api/v1/app-passwords/delete  address, name
 *   GET  /api/v1/queue                 ?offset=&limit= -> {total, counts: {queued,
 *                                      deferred, held}, messages: [...]}
 *   GET  /api/v1/queue/show            ?id= -> one message with each recipient's state
 *   POST /api/v1/queue/retry|hold|release|delete  ids=ID,ID or all=yes
 *                                      -> {result, done, missing}
 *
 * Each calls the function `tern alias`, `tern user app-password` and
 * `tern queue` call (auth/aliases.h, auth_app_password_create() and the
 * rest of accounts.h, smtp/smtp_queue.h and smtp_queue_item.h), so the CLI
 * and the API cannot disagree. They run on auth's job pool: SQLite and the
 * queue directory block. The queue is only read here and marked with the
 * runner's control files, as the CLI does; the runner alone writes a
 * message's state.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/aliases.h"
#include "http/http_admin.h"
#include "http/http_session.h"
#include "lib/log.h"
#include "smtp/smtp_queue.h"
#include "smtp/smtp_queue_item.h"

#define QUEUE_PAGE_MAX 1000 /* messages per answer, at most */

/* ---- aliases ---- */

static void
aliases_list(struct admin_job *job, struct auth_db *db, const char *alias)
{
	struct auth_alias *v;
	size_t n;
	enum auth_error err;

	if (auth_alias_list(db, alias, &v, &n, &err) < 0) {
		job->status = 500;
		job->error = auth_error_str(err);
		return;
	}
	buf_puts(&job->out, "{\"aliases\":[");
	for (size_t i = 0; i < n; i++) {
		buf_puts(&job->out, i > 0 ? ",\n  {\"alias\":" : "\n  {\"alias\":");
		admin_json_str(&job->out, v[i].address);
		buf_puts(&job->out, ",\"target\":");
		admin_json_str(&job->out, v[i].target);
		buf_printf(&job->out, ",\"created\":%lld}", (long long)v[i].created);
	}
	buf_puts(&job->out, "\n]}\n");
	job->status = 200;
	auth_aliases_free(&v, n);
}

void
admin_op_aliases(struct admin_job *job, struct auth_db *db)
{
	char *alias = admin_form_get(job, "alias"), *target = admin_form_get(job, "target");
	enum auth_error err;
	int rc;

	if (job->op == OP_ALIASES) {
		aliases_list(job, db, alias != NULL && alias[0] != '\0' ? alias : NULL);
		goto out;
	}
	if (alias == NULL || (job->op == OP_ALIAS_ADD && target == NULL)) {
		job->status = 400;
		job->error = "alias (and target) are required";
		goto out;
	}
	if (target != NULL && target[0] == '\0') {
		free(target);
		target = NULL;
	}
	rc = job->op == OP_ALIAS_ADD ? auth_alias_add(db, alias, target, &err)
	                             : auth_alias_delete(db, alias, target, &err);
	if (rc < 0) {
		job->status = admin_auth_error_status(err);
		job->error = err == AUTH_ERR_NOTFOUND  ? "no such alias"
		             : err == AUTH_ERR_EXISTS  ? "the alias has that target already"
		             : err == AUTH_ERR_INVALID ? "not a valid alias or target address"
		                                       : auth_error_str(err);
		goto out;
	}
	const char *result = job->op == OP_ALIAS_ADD ? "added" : "deleted";
	job->status = job->op == OP_ALIAS_ADD ? 201 : 200;
	buf_puts(&job->out, "{\"alias\":");
	admin_json_str(&job->out, alias);
	if (target != NULL) {
		buf_puts(&job->out, ",\"target\":");
		admin_json_str(&job->out, target);
	}
	buf_printf(&job->out, ",\"result\":\"%s\"}\n", result);
	log_info("http", "event=admin-alias admin=%s alias=%s target=%s result=%s", job->admin,
	         alias, target != NULL ? target : "*", result);
out:
	free(alias);
	free(target);
}

/* ---- app passwords ---- */

static void
app_passwords_list(struct admin_job *job, struct auth_db *db, const char *address)
{
	struct auth_account a;
	struct auth_app_password *v = NULL;
	size_t n = 0;
	enum auth_error err;
	char protos[64];

	if (auth_account_lookup(db, address, &a, &err) < 0) {
		job->status = admin_auth_error_status(err);
		job->error = auth_error_str(err);
		return;
	}
	int rc = auth_app_password_list(db, a.id, &v, &n, &err);
	if (rc < 0) {
		job->status = 500;
		job->error = auth_error_str(err);
	} else {
		job->status = 200;
		buf_puts(&job->out, "{\"address\":");
		admin_json_str(&job->out, a.address);
		buf_puts(&job->out, ",\"app_passwords\":[");
		for (size_t i = 0; i < n; i++) {
			auth_protocols_str(v[i].protocols, protos, sizeof(protos));
			buf_puts(&job->out, i > 0 ? ",{\"name\":" : "{\"name\":");
			admin_json_str(&job->out, v[i].name);
			buf_printf(&job->out, ",\"protocols\":\"%s\",\"created\":%lld}", protos,
			           (long long)v[i].created);
		}
		buf_puts(&job->out, "]}\n");
	}
	auth_app_passwords_free(&v, n);
	auth_account_clear(&a);
}

void
admin_op_app_passwords(struct admin_job *job, struct auth_db *db)
{
	char *address = admin_form_get(job, "address"), *name = admin_form_get(job, "name");
	char *protocols = admin_form_get(job, "protocols");
	enum auth_error err;
	unsigned mask = AUTH_PROTO_ALL;
	char protos[64];

	job->status = 400;
	if (address == NULL) {
		job->error = "address is required";
	} else if (job->op == OP_APP_PASSWORDS) {
		app_passwords_list(job, db, address);
	} else if (name == NULL) {
		job->error = "name is required";
	} else if (protocols != NULL && protocols[0] != '\0' &&
	           auth_protocols_parse(protocols, &mask) < 0) {
		job->error = "protocols: a list of imap, pop3, smtp";
	} else if (job->op == OP_APP_PASSWORD_ADD) {
		char *plain;
		if (auth_app_password_create(db, address, name, mask, &plain, &err) < 0) {
			job->status = admin_auth_error_status(err);
			job->error = err == AUTH_ERR_EXISTS ? "an app password of that name exists"
			             : err == AUTH_ERR_INVALID
			                     ? "names are letters, digits, '.', '_', '-'"
			                     : auth_error_str(err);
		} else {
			auth_protocols_str(mask, protos, sizeof(protos));
			job->status = 201;
			buf_puts(&job->out, "{\"address\":");
			admin_json_str(&job->out, address);
			buf_puts(&job->out, ",\"name\":");
			admin_json_str(&job->out, name);
			buf_printf(&job->out, ",\"protocols\":\"%s\",\"password\":", protos);
			admin_json_str(&job->out, plain);
			buf_puts(&job->out, ",\"result\":\"added\"}\n");
			explicit_bzero(plain, strlen(plain));
			free(plain);
			log_info("http",
			         "event=admin-app-password admin=%s account=%s name=%s "
			         "result=added",
			         job->admin, address, name);
		}
	} else if (auth_app_password_delete(db, address, name, &err) < 0) {
		job->status = admin_auth_error_status(err);
		job->error =
		        err == AUTH_ERR_NOTFOUND ? "no such app password" : auth_error_str(err);
	} else {
		job->status = 200;
		buf_puts(&job->out, "{\"address\":");
		admin_json_str(&job->out, address);
		buf_puts(&job->out, ",\"name\":");
		admin_json_str(&job->out, name);
		buf_puts(&job->out, ",\"result\":\"revoked\"}\n");
		log_info("http",
		         "event=admin-app-password admin=%s account=%s name=%s result=revoked",
		         job->admin, address, name);
	}
	free(address);
	free(name);
	free(protocols);
}

/* ---- the outbound queue ---- */

static void
queue_entry_json(struct buf *b, const struct smtp_queue_entry *e)
{
	buf_printf(b,
	           "{\"id\":\"%s\",\"state\":\"%s\",\"created\":%lld,\"size\":%llu,"
	           "\"attempts\":%u,\"next\":%lld,\"sender\":",
	           e->id, smtp_queue_state_name(e->state), (long long)e->created,
	           (unsigned long long)e->size, e->attempts, (long long)e->next);
	admin_json_str(b, e->sender);
	buf_puts(b, ",\"account\":");
	admin_json_str(b, e->account);
	buf_puts(b, ",\"rcpts\":[");
	for (size_t j = 0; j < e->n_rcpts; j++) {
		if (j > 0)
			buf_putc(b, ',');
		admin_json_str(b, e->rcpts[j]);
	}
	buf_puts(b, "]}");
}

static void
queue_list(struct admin_job *job)
{
	struct smtp_queue_entry *v;
	size_t n, counts[SMTP_QUEUE_STATE_COUNT] = {0};
	uint64_t offset = 0, limit = 100;
	char *error = NULL;

	if (!admin_form_u64(job, "offset", UINT32_MAX, &offset) ||
	    !admin_form_u64(job, "limit", QUEUE_PAGE_MAX, &limit) || limit == 0) {
		job->status = 400;
		job->error = "bad offset or limit (1-1000)";
		return;
	}
	if (smtp_queue_list(job->srv->data_dir, &v, &n, &error) < 0) {
		log_error("http", "event=admin-queue-failed err=\"%s\"", error);
		free(error);
		job->status = 500;
		job->error = "the queue cannot be read (see the log)";
		return;
	}
	for (size_t i = 0; i < n; i++)
		counts[v[i].state]++;
	buf_printf(&job->out, "{\"total\":%zu,\"offset\":%llu,\"limit\":%llu,\"counts\":{", n,
	           (unsigned long long)offset, (unsigned long long)limit);
	for (int st = 0; st < SMTP_QUEUE_STATE_COUNT; st++)
		buf_printf(&job->out, "%s\"%s\":%zu", st > 0 ? "," : "",
		           smtp_queue_state_name((enum smtp_queue_state)st), counts[st]);
	buf_puts(&job->out, "},\"messages\":[");
	for (uint64_t i = offset; i < n && i < offset + limit; i++) {
		buf_puts(&job->out, i > offset ? ",\n  " : "\n  ");
		queue_entry_json(&job->out, &v[i]);
	}
	buf_puts(&job->out, "\n]}\n");
	job->status = 200;
	smtp_queue_entries_free(&v, n);
}

static void
queue_show(struct admin_job *job)
{
	static const char *const rcpt_states[] = {"pending", "delivered", "failed"};
	char *id = admin_form_get(job, "id");
	char *dir = xasprintf("%s/queue", job->srv->data_dir);
	struct smtp_queue_item *it = NULL;

	if (id == NULL || !smtp_queue_id_is_valid(id) || smtp_queue_item_read(dir, id, &it) < 0) {
		job->status = id == NULL ? 400 : 404;
		job->error = id == NULL ? "id is required" : "no such queued message";
	} else {
		struct buf *b = &job->out;
		bool held = smtp_queue_is_held(dir, id);
		buf_printf(b,
		           "{\"id\":\"%s\",\"held\":%s,\"created\":%lld,\"size\":%llu,"
		           "\"attempts\":%u,\"next\":%lld,\"sender\":",
		           it->id, held ? "true" : "false", (long long)it->created,
		           (unsigned long long)it->size, it->attempts, (long long)it->next);
		admin_json_str(b, it->sender);
		buf_puts(b, ",\"account\":");
		admin_json_str(b, it->account);
		buf_puts(b, ",\"rcpts\":[");
		for (size_t i = 0; i < it->n_rcpts; i++) {
			const struct smtp_queue_item_rcpt *r = &it->rcpts[i];
			buf_puts(b, i > 0 ? ",{\"address\":" : "{\"address\":");
			admin_json_str(b, r->address);
			buf_printf(b, ",\"state\":\"%s\",\"last\":", rcpt_states[r->state]);
			admin_json_str(b, r->last != NULL ? r->last : "");
			buf_putc(b, '}');
		}
		buf_puts(b, "]}\n");
		job->status = 200;
	}
	smtp_queue_item_free(&it);
	free(dir);
	free(id);
}

/* ids=ID,ID or all=yes: each gets the control file the runner reads. */
static void
queue_control(struct admin_job *job)
{
	enum smtp_queue_control op = (enum smtp_queue_control)job->control;
	char *ids = admin_form_get(job, "ids"), *all = admin_form_get(job, "all");
	size_t done = 0, missing = 0;
	char *error = NULL;

	if ((ids == NULL) == (all == NULL)) {
		job->status = 400;
		job->error = "give ids or all=yes";
	} else if (all != NULL) {
		if (smtp_queue_control_all(job->srv->data_dir, op, &done, &error) < 0) {
			log_error("http", "event=admin-queue-failed err=\"%s\"", error);
			free(error);
			job->status = 500;
			job->error = "the queue cannot be read (see the log)";
		}
	} else {
		size_t n;
		char **v = admin_split_list(ids, &n);
		for (size_t i = 0; i < n; i++) {
			if (smtp_queue_control(job->srv->data_dir, v[i], op, &error) == 0)
				done++;
			else
				missing++;
			free(error);
			error = NULL;
		}
		free(v);
	}
	if (job->error == NULL) {
		job->status = 200;
		buf_printf(&job->out, "{\"result\":\"%s\",\"done\":%zu,\"missing\":%zu}\n",
		           smtp_queue_control_name(op), done, missing);
		log_info("http", "event=admin-queue admin=%s op=%s done=%zu missing=%zu",
		         job->admin, smtp_queue_control_name(op), done, missing);
	}
	free(ids);
	free(all);
}

void
admin_op_queue(struct admin_job *job)
{
	if (job->srv->data_dir == NULL) {
		job->status = 503;
		job->error = "the queue is not available";
	} else if (job->op == OP_QUEUE) {
		queue_list(job);
	} else if (job->op == OP_QUEUE_SHOW) {
		queue_show(job);
	} else {
		queue_control(job);
	}
}
