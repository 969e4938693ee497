/* SPDX-License-Identifier: MIT */
/*
 * http_admin.c: the admin REST API (/api/v1/...) the web page and scripts
 * use. Responses are JSON; request bodies are form-encoded
 * (application/x-www-form-urlencoded, what a browser's URLSearchParams and
 * `curl -d` send), so no JSON parser is needed on the way in.
 *
 *   POST /api/v1/login     address, password -> {"token", "address", "expires_in"}
 *   POST /api/v1/logout    the token is forgotten
 *   GET  /api/v1/accounts  ?search=&domain=&disabled=imap&offset=&limit= ->
 *                          {"total", "offset", "accounts": [{address, role, imap, pop3, smtp}]}
 *   POST /api/v1/access    one of addresses=a,b (comma or newline separated),
 *                          domain=D, all=yes; and imap|pop3|smtp=on|off, role=user|admin
 *                          -> {"changed", "missing"}
 *   GET  /api/v1/quota     ?address= -> {address, storage_used, storage_limit,
 *                          messages_used, messages_limit} (0 = no limit)
 *   POST /api/v1/quota/set address, storage (bytes), messages: each optional
 *   POST /api/v1/accounts/add       address, password -> 201 {address, result}
 *   POST /api/v1/accounts/delete    address
 *   POST /api/v1/accounts/password  address, password
 *   GET  /api/v1/status    ?format=text -> {uptime_s, sessions: {imap, ...},
 *                          top_accounts: [{address, sessions}]}
 *   GET  /api/v1/sessions  ?format=text -> {total, sessions: [{sid, proto, ip, user, age_s}]}
 *   POST /api/v1/sessions/kick  address: its sessions end (after a running command)
 *   .../aliases, .../app-passwords, .../queue: http_admin_mail.c
 *
 * http_admin_api() picks each call's operation from one table by the
 * route's name (http_routes.c).
 *
 * Who may call: an administrator (role admin). A request carries either
 * "Authorization: Bearer TOKEN" (a token from /login, kept in memory for
 * ADMIN_TOKEN_IDLE_MS after its last use and lost on restart) or
 * "Authorization: Basic" with the administrator's address and password or
 * one of its app passwords (the API token for scripts: `tern user
 * app-password add admin@example.com ci`). Password checks run on auth's
 * job pool through auth_admin_login(), so they are throttled and delayed
 * like IMAP logins. Only over TLS, or plaintext from loopback. `tern serve`
 * also writes a token to DIR/admin.token (mode 0600, new at each start) that
 * `tern status` on the same machine reads: file access to the data
 * directory is already full control.
 *
 * The operations are the ones `tern user list`, `set`, `quota`, `add`,
 * `del` and `passwd` call
 * (auth_account_page, auth_access_set_addresses, auth_access_set_domain,
 * store_quota_get/set),
 * so the CLI, the API and the page never disagree; a running server's
 * access watch then closes the sessions of a protocol switched off.
 */
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/accounts.h"
#include "auth/auth.h"
#include "auth/sasl_parse.h"
#include "http/http_admin.h"
#include "http/http_session.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "net/jobs.h"
#include "lib/metrics.h"
#include "net/net.h"
#include "smtp/smtp_queue_item.h"
#include "store/store.h"

#define ADMIN_TOKENS        256               /* signed-in browsers at once */
#define ADMIN_TOKEN_IDLE_MS (60 * 60 * 1000u) /* an hour without a request */
#define ADMIN_PAGE_MAX      1000              /* accounts per page, at most */
#define TOKEN_HEX           64

struct admin_token {
	char token[TOKEN_HEX + 1]; /* "" = free slot */
	char address[256];
	uint64_t last_used_ms;
};

struct http_admin {
	pthread_mutex_t lock;
	struct admin_token tokens[ADMIN_TOKENS];
	char local[TOKEN_HEX + 1]; /* DIR/admin.token's, for the local CLI; "" = none */
};

struct http_admin *
http_admin_new(void)
{
	struct http_admin *a = xcalloc(1, sizeof(*a));

	pthread_mutex_init(&a->lock, NULL);
	return a;
}

void
http_admin_free(struct http_admin **ap)
{
	struct http_admin *a = *ap;

	if (a == NULL)
		return;
	*ap = NULL;
	explicit_bzero(a->tokens, sizeof(a->tokens));
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/* Constant-time, so a token cannot be guessed byte by byte. */
static bool
token_equal(const char *a, const char *b)
{
	unsigned char diff = 0;

	for (size_t i = 0; i < TOKEN_HEX; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

/* Copies the address signed in with token into out; false when unknown
   or expired. */
static bool
token_lookup(struct http_admin *a, const char *token, char *out, size_t out_len)
{
	uint64_t now = time_mono_ms();
	bool found = false;

	if (strlen(token) != TOKEN_HEX)
		return false;
	pthread_mutex_lock(&a->lock);
	if (a->local[0] != '\0' && token_equal(a->local, token)) {
		snprintf(out, out_len, "local");
		found = true;
	}
	for (size_t i = 0; i < ADMIN_TOKENS; i++) {
		struct admin_token *t = &a->tokens[i];
		if (t->token[0] == '\0')
			continue;
		if (now - t->last_used_ms > ADMIN_TOKEN_IDLE_MS) {
			explicit_bzero(t, sizeof(*t));
			continue;
		}
		if (!found && token_equal(t->token, token)) {
			t->last_used_ms = now;
			snprintf(out, out_len, "%s", t->address);
			found = true;
		}
	}
	pthread_mutex_unlock(&a->lock);
	return found;
}

void
http_admin_set_local_token(struct http_admin *a, const char *token)
{
	pthread_mutex_lock(&a->lock);
	snprintf(a->local, sizeof(a->local), "%s", strlen(token) == TOKEN_HEX ? token : "");
	pthread_mutex_unlock(&a->lock);
}

/* A new token for address (the least recently used slot is reused). */
static void
token_issue(struct http_admin *a, const char *address, char out[TOKEN_HEX + 1])
{
	unsigned char rnd[TOKEN_HEX / 2];
	size_t victim = 0;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		abort();
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(out + 2 * i, 3, "%02x", rnd[i]);
	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < ADMIN_TOKENS; i++) {
		if (a->tokens[i].token[0] == '\0') {
			victim = i;
			break;
		}
		if (a->tokens[i].last_used_ms < a->tokens[victim].last_used_ms)
			victim = i;
	}
	struct admin_token *t = &a->tokens[victim];
	snprintf(t->token, sizeof(t->token), "%s", out);
	snprintf(t->address, sizeof(t->address), "%s", address);
	t->last_used_ms = time_mono_ms();
	pthread_mutex_unlock(&a->lock);
}

static void
token_drop(struct http_admin *a, const char *token)
{
	if (strlen(token) != TOKEN_HEX)
		return;
	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < ADMIN_TOKENS; i++)
		if (a->tokens[i].token[0] != '\0' && token_equal(a->tokens[i].token, token))
			explicit_bzero(&a->tokens[i], sizeof(a->tokens[i]));
	pthread_mutex_unlock(&a->lock);
}

/* ---- JSON out ---- */

void
admin_json_str(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == '<' || c == '>' || c == '&')
			buf_printf(b, "\\u%04x", c); /* also safe inside HTML */
		else
			buf_putc(b, (char)c);
	}
	buf_putc(b, '"');
}

static void
respond_json(struct http_session *s, int status, const struct buf *b)
{
	http_header_add(s, "Cache-Control: no-store");
	http_respond(s, status, "application/json", b->data != NULL ? b->data : "", b->len);
}

static void
respond_json_error(struct http_session *s, int status, const char *error)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "{\"error\":");
	admin_json_str(&b, error);
	buf_puts(&b, "}\n");
	/* RFC 9110 section 11.6.1 wants a challenge with 401. A Basic one
	   makes browsers prompt over the page's own sign-in form, so it is
	   offered only to a client that sent no credentials at all. */
	if (status == 401 && http_header_get(&s->req, "authorization") == NULL &&
	    strcmp(s->route, "api-login") != 0)
		http_header_add(s,
		                "WWW-Authenticate: Basic realm=\"tern admin\", charset=\"UTF-8\"");
	else if (status == 401)
		http_header_add(s, "WWW-Authenticate: Bearer realm=\"tern admin\"");
	respond_json(s, status, &b);
	buf_deinit(&b);
}

/* ---- jobs: a password check and/or an operation on auth's pool ---- */

static void
free_secret(char *p)
{
	if (p != NULL) {
		explicit_bzero(p, strlen(p));
		free(p);
	}
}

static void
job_free(void *arg)
{
	struct admin_job *job = arg;

	free_secret(job->user);
	free_secret(job->password);
	free_secret(job->form);
	buf_deinit(&job->out);
	free(job);
}

/* The form value of name, heap (free it) or NULL. */
char *
admin_form_get(const struct admin_job *job, const char *name)
{
	struct arena *a = arena_new(256);
	char *v = http_query_get(a, job->form, job->form_len, name);
	char *copy = v != NULL ? xstrdup(v) : NULL;

	arena_free(&a);
	return copy;
}

bool
admin_form_u64(const struct admin_job *job, const char *name, uint64_t max, uint64_t *out)
{
	char *v = admin_form_get(job, name);
	bool ok = v == NULL || str_to_u64(v, max, out);

	free(v);
	return ok;
}

struct page_out {
	struct buf *b;
	size_t n;
};

static int
account_json(const struct auth_account *a, void *arg)
{
	struct page_out *p = arg;

	buf_puts(p->b, p->n++ > 0 ? ",\n  {\"address\":" : "\n  {\"address\":");
	admin_json_str(p->b, a->address);
	buf_puts(p->b, ",\"role\":");
	admin_json_str(p->b, a->role);
	buf_printf(p->b, ",\"id\":%llu,\"imap\":%s,\"pop3\":%s,\"smtp\":%s}",
	           (unsigned long long)a->id, a->enabled[AUTH_PROTO_IMAP] ? "true" : "false",
	           a->enabled[AUTH_PROTO_POP3] ? "true" : "false",
	           a->enabled[AUTH_PROTO_SMTP] ? "true" : "false");
	return 0;
}

static void
op_accounts(struct admin_job *job, struct auth_db *db)
{
	struct auth_account_query q = {.disabled = -1, .limit = 100};
	char *search = admin_form_get(job, "search"), *domain = admin_form_get(job, "domain");
	char *disabled = admin_form_get(job, "disabled");
	enum auth_error err;
	uint64_t total = 0;

	q.search = search != NULL && search[0] != '\0' ? search : NULL;
	q.domain = domain != NULL && domain[0] != '\0' ? domain : NULL;
	if (!admin_form_u64(job, "offset", UINT32_MAX, &q.offset) ||
	    !admin_form_u64(job, "limit", ADMIN_PAGE_MAX, &q.limit) || q.limit == 0 ||
	    (disabled != NULL && disabled[0] != '\0' &&
	     (q.disabled = auth_protocol_parse(disabled)) < 0)) {
		job->status = 400;
		job->error = "bad offset, limit (1-1000) or disabled (imap, pop3, smtp)";
	} else {
		struct page_out p = {&job->out, 0};
		buf_puts(&job->out, "{\"accounts\":[");
		if (auth_account_page(db, &q, account_json, &p, &total, &err) < 0) {
			job->status = 500;
			job->error = "temporary failure";
		} else {
			buf_printf(&job->out,
			           "\n],\"total\":%llu,\"offset\":%llu,\"limit\":%llu}\n",
			           (unsigned long long)total, (unsigned long long)q.offset,
			           (unsigned long long)q.limit);
			job->status = 200;
		}
	}
	free(search);
	free(domain);
	free(disabled);
}

static void
count_missing(const char *address, void *arg)
{
	(*(size_t *)arg)++;
}

char **
admin_split_list(char *list, size_t *n_out)
{
	size_t n = 0, cap = 16;
	char **v = xmalloc(cap * sizeof(*v)), *save = NULL;

	for (char *t = strtok_r(list, ", \t\r\n", &save); t != NULL;
	     t = strtok_r(NULL, ", \t\r\n", &save)) {
		if (n == cap)
			v = xrealloc(v, (cap *= 2) * sizeof(*v));
		v[n++] = t;
	}
	*n_out = n;
	return v;
}

static void
op_access(struct admin_job *job, struct auth_db *db)
{
	struct auth_access_change c = {.role = NULL};
	char *addresses = admin_form_get(job, "addresses"), *domain = admin_form_get(job, "domain");
	char *all = admin_form_get(job, "all"), *role = admin_form_get(job, "role");
	bool any = false;
	int targets = (addresses != NULL) + (domain != NULL) + (all != NULL);

	job->status = 400;
	for (int p = 0; p < AUTH_PROTO_COUNT; p++) {
		char *v = admin_form_get(job, auth_protocol_name((enum auth_protocol)p));
		c.enabled[p] = v == NULL               ? -1
		               : strcmp(v, "on") == 0  ? 1
		               : strcmp(v, "off") == 0 ? 0
		                                       : -2;
		any |= c.enabled[p] >= 0;
		if (c.enabled[p] == -2)
			job->error = "imap, pop3 and smtp take on or off";
		free(v);
	}
	if (role != NULL) {
		if (strcmp(role, "user") == 0 || strcmp(role, "admin") == 0)
			c.role = role;
		else
			job->error = "role is user or admin";
		any = true;
	}
	if (job->error == NULL && targets != 1)
		job->error = "give one of addresses, domain, all";
	else if (job->error == NULL && !any)
		job->error = "nothing to set (e.g. imap=off)";
	if (job->error == NULL) {
		size_t changed = 0, missing = 0, n = 0;
		enum auth_error err;
		int rc;
		if (addresses != NULL) {
			char **v = admin_split_list(addresses, &n);
			rc = auth_access_set_addresses(db, (const char *const *)v, n, &c, &changed,
			                               count_missing, &missing, &err);
			free(v);
		} else {
			rc = auth_access_set_domain(db, domain, &c, &changed, &err);
		}
		if (rc < 0) {
			job->status = err == AUTH_ERR_INVALID ? 400 : 500;
			job->error = auth_error_str(err);
		} else {
			job->status = 200;
			buf_printf(&job->out, "{\"changed\":%zu,\"missing\":%zu}\n", changed,
			           missing);
			log_info("http", "event=admin-access admin=%s changed=%zu missing=%zu",
			         job->admin, changed, missing);
		}
	}
	free(addresses);
	free(domain);
	free(all);
	free(role);
}

/* GET: the account's quota and usage; SET: storage (bytes) and messages
   limits first, each optional, 0 = none. The same store_quota_* calls as
   `tern user quota`. */
static void
op_quota(struct admin_job *job, struct auth_db *db, bool set)
{
	char *address = admin_form_get(job, "address");
	struct auth_account a;
	enum auth_error aerr;
	enum store_error err;
	struct store_account *acct = NULL;
	struct store_quota q;
	uint64_t storage = UINT64_MAX, messages = UINT64_MAX;

	job->status = 400;
	if (address == NULL) {
		job->error = "address is required";
	} else if (set && (!admin_form_u64(job, "storage", UINT64_MAX / 2, &storage) ||
	                   !admin_form_u64(job, "messages", UINT64_MAX / 2, &messages))) {
		job->error = "storage (bytes) and messages are numbers; 0 = no limit";
	} else if (job->srv->store == NULL) {
		job->status = 503;
		job->error = "the mail store is not available";
	} else if (auth_account_lookup(db, address, &a, &aerr) < 0) {
		job->status = aerr == AUTH_ERR_NOTFOUND ? 404 : 500;
		job->error = aerr == AUTH_ERR_NOTFOUND ? "no such account" : "temporary failure";
	} else {
		if (store_account_open(job->srv->store, a.id, &acct, &err) < 0 ||
		    store_quota_get(acct, &q, &err) < 0 ||
		    (set && store_quota_set(acct, storage != UINT64_MAX ? storage : q.storage_limit,
		                            messages != UINT64_MAX ? messages : q.messages_limit,
		                            &err) < 0)) {
			job->status = 500;
			job->error = store_error_str(err);
		} else {
			if (set) {
				q.storage_limit = storage != UINT64_MAX ? storage : q.storage_limit;
				q.messages_limit =
				        messages != UINT64_MAX ? messages : q.messages_limit;
				log_info("http",
				         "event=admin-quota admin=%s account=%s storage=%llu "
				         "messages=%llu",
				         job->admin, a.address, (unsigned long long)q.storage_limit,
				         (unsigned long long)q.messages_limit);
			}
			job->status = 200;
			buf_puts(&job->out, "{\"address\":");
			admin_json_str(&job->out, a.address);
			buf_printf(&job->out,
			           ",\"storage_used\":%llu,\"storage_limit\":%llu,"
			           "\"messages_used\":%llu,\"messages_limit\":%llu}\n",
			           (unsigned long long)q.storage_used,
			           (unsigned long long)q.storage_limit,
			           (unsigned long long)q.messages_used,
			           (unsigned long long)q.messages_limit);
		}
		store_account_close(&acct);
		auth_account_clear(&a);
	}
	free(address);
}

int
admin_auth_error_status(enum auth_error err)
{
	switch (err) {
	case AUTH_ERR_NOTFOUND:
		return 404;
	case AUTH_ERR_EXISTS:
		return 409;
	case AUTH_ERR_INVALID:
		return 400;
	default:
		return 500;
	}
}

/* add (address, password), delete (address), password (address,
   password): what `tern user add/del/passwd` do, with the credentials the
   running policy asks for. */
static void
op_account(struct admin_job *job, struct auth_db *db)
{
	char *address = admin_form_get(job, "address"), *password = admin_form_get(job, "password");
	struct auth_credentials cred = {0};
	enum auth_error err = AUTH_ERR_NONE;
	const char *why = NULL;
	int rc = -1;

	job->status = 400;
	if (address == NULL || (job->op != OP_ACCOUNT_DELETE && password == NULL)) {
		job->error = "address (and password) are required";
	} else if (job->op == OP_ACCOUNT_ADD && !auth_address_is_valid(address)) {
		job->error = "not a valid address";
	} else if (job->op == OP_ACCOUNT_DELETE) {
		rc = auth_account_delete(db, address, &err);
	} else if (auth_service_credentials_make(job->srv->auth, address, password, &cred, &why) <
	           0) {
		job->error = why;
	} else if (job->op == OP_ACCOUNT_ADD) {
		rc = auth_account_add_credentials(db, address, &cred, NULL, &err);
	} else {
		rc = auth_account_set_credentials(db, address, &cred, &err);
	}
	if (job->error == NULL && rc < 0) {
		job->status = admin_auth_error_status(err);
		job->error = auth_error_str(err);
	} else if (job->error == NULL) {
		static const char *const verbs[] = {[OP_ACCOUNT_ADD] = "added",
		                                    [OP_ACCOUNT_DELETE] = "deleted",
		                                    [OP_ACCOUNT_PASSWORD] = "password-changed"};
		job->status = job->op == OP_ACCOUNT_ADD ? 201 : 200;
		buf_puts(&job->out, "{\"address\":");
		admin_json_str(&job->out, address);
		buf_printf(&job->out, ",\"result\":\"%s\"}\n", verbs[job->op]);
		log_info("http", "event=admin-account admin=%s account=%s result=%s", job->admin,
		         address, verbs[job->op]);
	}
	auth_credentials_clear(&cred);
	free(address);
	free_secret(password);
}

static void
job_work(void *arg)
{
	struct admin_job *job = arg;
	struct auth_db *db = auth_service_db(job->srv->auth);

	if (job->password != NULL) {
		struct auth_result r;
		auth_admin_login(job->srv->auth, &job->conn, job->user, job->password, &r);
		if (r.status != AUTH_OK) {
			job->status = r.status == AUTH_TEMP ? 503 : 401;
			job->error = r.status == AUTH_TEMP
			                     ? "temporary failure"
			                     : "not an administrator's address and password";
			job->delay_ms = r.delay_ms;
			log_info("http", "event=admin-auth-failed user=%s reason=%s failures=%u",
			         r.user, r.reason != NULL ? r.reason : "failed", r.failures);
			auth_result_clear(&r);
			return;
		}
		snprintf(job->admin, sizeof(job->admin), "%s", r.id.address);
		auth_result_clear(&r);
	}
	if (db == NULL) {
		job->status = 503;
		job->error = "temporary failure";
		return;
	}
	switch (job->op) {
	case OP_LOGIN:
		job->status = 200;
		break; /* the token is made on the worker */
	case OP_ACCOUNTS:
		op_accounts(job, db);
		break;
	case OP_ACCESS:
		op_access(job, db);
		break;
	case OP_QUOTA_GET:
		op_quota(job, db, false);
		break;
	case OP_QUOTA_SET:
		op_quota(job, db, true);
		break;
	case OP_ACCOUNT_ADD:
	case OP_ACCOUNT_DELETE:
	case OP_ACCOUNT_PASSWORD:
		op_account(job, db);
		break;
	case OP_ALIASES:
	case OP_ALIAS_ADD:
	case OP_ALIAS_DELETE:
		admin_op_aliases(job, db);
		break;
	case OP_APP_PASSWORDS:
	case OP_APP_PASSWORD_ADD:
	case OP_APP_PASSWORD_DELETE:
		admin_op_app_passwords(job, db);
		break;
	case OP_QUEUE:
	case OP_QUEUE_SHOW:
	case OP_QUEUE_CONTROL:
		admin_op_queue(job);
		break;
	case OP_STATUS:
	case OP_SESSIONS:
	case OP_KICK: /* done on the worker */
		job->status = 200;
		break;
	}
}

#define STATUS_TOP 10

static const char *const status_protos[] = {"imap", "pop3", "smtp", "http"};

/* `tern status`: uptime, sessions per protocol, the accounts with the most
   sessions; JSON, or text with format=text. */
static void
status_respond(struct http_session *s, struct admin_job *job)
{
	struct session_user_count top[STATUS_TOP];
	size_t n = session_users_top(top, STATUS_TOP);
	uint64_t up = (time_mono_ms() - s->srv->started_ms) / 1000;
	char *format = admin_form_get(job, "format");
	bool text = format != NULL && strcmp(format, "text") == 0;
	struct buf *b = &job->out;

	free(format);
	if (text) {
		buf_printf(b, "uptime: %llud %02lluh%02llum%02llus\nsessions:",
		           (unsigned long long)(up / 86400), (unsigned long long)(up / 3600 % 24),
		           (unsigned long long)(up / 60 % 60), (unsigned long long)(up % 60));
		for (size_t i = 0; i < ARRAY_LEN(status_protos); i++)
			buf_printf(b, " %s=%lld", status_protos[i],
			           (long long)metrics_value(METRICS_SESSIONS_ACTIVE,
			                                    status_protos[i], NULL, NULL));
		buf_printf(b, "\ntop accounts by sessions:%s\n", n == 0 ? " none" : "");
		for (size_t i = 0; i < n; i++)
			buf_printf(b, "  %-40s %llu\n", top[i].user,
			           (unsigned long long)top[i].sessions);
		http_header_add(s, "Cache-Control: no-store");
		http_respond(s, 200, "text/plain; charset=utf-8", b->data, b->len);
		return;
	}
	buf_printf(b, "{\"uptime_s\":%llu,\"sessions\":{", (unsigned long long)up);
	for (size_t i = 0; i < ARRAY_LEN(status_protos); i++)
		buf_printf(b, "%s\"%s\":%lld", i > 0 ? "," : "", status_protos[i],
		           (long long)metrics_value(METRICS_SESSIONS_ACTIVE, status_protos[i], NULL,
		                                    NULL));
	buf_puts(b, "},\"top_accounts\":[");
	for (size_t i = 0; i < n; i++) {
		buf_puts(b, i > 0 ? ",{\"address\":" : "{\"address\":");
		admin_json_str(b, top[i].user);
		buf_printf(b, ",\"sessions\":%llu}", (unsigned long long)top[i].sessions);
	}
	buf_puts(b, "]}\n");
	respond_json(s, 200, b);
}

#define SESSIONS_MAX 1000

/* `tern sessions`: the live sessions, oldest first (JSON, or text). */
static void
sessions_respond(struct http_session *s, struct admin_job *job)
{
	struct session_info *v = xmalloc(SESSIONS_MAX * sizeof(*v));
	size_t total = session_list(v, SESSIONS_MAX), n = MIN(total, SESSIONS_MAX);
	char *format = admin_form_get(job, "format");
	bool text = format != NULL && strcmp(format, "text") == 0;
	struct buf *b = &job->out;

	free(format);
	if (text) {
		buf_printf(b, "%-8s %-6s %-16s %8s  %s\n", "sid", "proto", "ip", "age", "user");
		for (size_t i = 0; i < n; i++)
			buf_printf(b, "%-8s %-6s %-16s %7llus  %s\n", v[i].sid, v[i].proto, v[i].ip,
			           (unsigned long long)v[i].age_s, v[i].user[0] ? v[i].user : "-");
		buf_printf(b, "%zu session%s%s\n", total, total == 1 ? "" : "s",
		           total > n ? " (the oldest 1000 shown)" : "");
		http_header_add(s, "Cache-Control: no-store");
		http_respond(s, 200, "text/plain; charset=utf-8", b->data, b->len);
	} else {
		buf_printf(b, "{\"total\":%zu,\"sessions\":[", total);
		for (size_t i = 0; i < n; i++) {
			buf_printf(b,
			           "%s{\"sid\":\"%s\",\"proto\":\"%s\",\"ip\":", i > 0 ? "," : "",
			           v[i].sid, v[i].proto);
			admin_json_str(b, v[i].ip);
			buf_puts(b, ",\"user\":");
			admin_json_str(b, v[i].user);
			buf_printf(b, ",\"age_s\":%llu}", (unsigned long long)v[i].age_s);
		}
		buf_puts(b, "]}\n");
		respond_json(s, 200, b);
	}
	free(v);
}

/* Ends the sessions of address on every worker (after their command). */
static void
kick_respond(struct http_session *s, struct admin_job *job)
{
	char *address = admin_form_get(job, "address");

	if (address == NULL || !auth_address_is_valid(address)) {
		respond_json_error(s, 400, "address is required");
	} else {
		for (char *p = address; *p != '\0'; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		session_kick(s->base.conn, address);
		log_info("http", "event=admin-kick admin=%s account=%s", job->admin, address);
		buf_puts(&job->out, "{\"address\":");
		admin_json_str(&job->out, address);
		buf_puts(&job->out, ",\"result\":\"kicked\"}\n");
		respond_json(s, 200, &job->out);
	}
	free(address);
}

static void
job_respond(struct http_session *s, struct admin_job *job)
{
	if (job->error == NULL && job->op == OP_SESSIONS) {
		sessions_respond(s, job);
	} else if (job->error == NULL && job->op == OP_KICK) {
		kick_respond(s, job);
	} else if (job->error == NULL && job->op == OP_STATUS) {
		status_respond(s, job);
	} else if (job->error != NULL) {
		respond_json_error(s, job->status, job->error);
	} else if (job->op == OP_LOGIN) {
		char token[TOKEN_HEX + 1];
		token_issue(s->srv->admin, job->admin, token);
		buf_puts(&job->out, "{\"token\":");
		admin_json_str(&job->out, token);
		buf_puts(&job->out, ",\"address\":");
		admin_json_str(&job->out, job->admin);
		buf_printf(&job->out, ",\"expires_in\":%u}\n", ADMIN_TOKEN_IDLE_MS / 1000);
		explicit_bzero(token, sizeof(token));
		log_info("http", "event=admin-login admin=%s", job->admin);
		respond_json(s, 200, &job->out);
	} else {
		respond_json(s, job->status, &job->out);
	}
	job_free(job);
	http_resume(s);
}

static void
delayed_respond(struct session *base)
{
	struct http_session *s = (struct http_session *)base;
	struct admin_job *job = s->pending;

	s->pending = NULL;
	job_respond(s, job);
}

static void
job_done(struct session *base, void *arg)
{
	struct admin_job *job = arg;

	if (base == NULL) {
		job_free(job);
		return;
	}
	struct http_session *s = (struct http_session *)base;
	if (job->delay_ms > 0) {
		/* A failed password waits like an IMAP login does. */
		s->pending = job;
		s->pending_free = job_free;
		session_delay(&s->base, job->delay_ms, delayed_respond);
		return;
	}
	job_respond(s, job);
}

/* Decodes "Basic base64(user:password)" into the job; false if malformed. */
static bool
basic_credentials(const char *value, struct admin_job *job)
{
	struct arena *a = arena_new(512);
	size_t n;
	unsigned char *out = sasl_base64_decode(a, value, strlen(value), false, &n);
	bool ok = false;

	if (out != NULL && memchr(out, '\0', n) == NULL) {
		char *text = arena_strndup(a, (const char *)out, n);
		char *colon = strchr(text, ':');
		if (colon != NULL) {
			*colon = '\0';
			job->user = xstrdup(text);
			job->password = xstrdup(colon + 1);
			ok = true;
		}
		explicit_bzero(text, n);
	}
	if (out != NULL)
		explicit_bzero(out, n);
	arena_free(&a);
	return ok;
}

/*
 * Checks who calls, then runs op in a job. With a session token the admin
 * is known at once; with Basic credentials the job checks them first.
 * Responds itself (401, 403, 503) when the request cannot go on.
 */
static void
admin_call(struct http_session *s, enum admin_op op, int control, const char *user,
           const char *password)
{
	struct http_server *srv = s->srv;

	if (!net_conn_is_tls(s->base.conn) && !net_conn_is_loopback(s->base.conn)) {
		respond_json_error(s, 403, "the admin API needs HTTPS (or a loopback client)");
		return;
	}
	if (srv->auth == NULL || srv->auth_pool == NULL) {
		respond_json_error(s, 503, "the admin API is not available");
		return;
	}
	struct admin_job *job = xcalloc(1, sizeof(*job));
	job->srv = srv;
	job->op = op;
	job->control = control;
	buf_init(&job->out);
	session_auth_conn(&s->base, AUTH_PROTO_IMAP, &job->conn);
	bool is_get = strcmp(s->req.method, "GET") == 0 || strcmp(s->req.method, "HEAD") == 0;
	const char *form = is_get ? s->req.query : (s->body.data != NULL ? s->body.data : "");
	job->form_len = is_get ? strlen(s->req.query) : s->body.len;
	job->form = xstrndup(form, job->form_len);
	if (user != NULL) {
		job->user = xstrdup(user);
		job->password = xstrdup(password);
	} else {
		const char *authz = http_header_get(&s->req, "authorization");
		bool ok = false;
		if (authz != NULL && strncasecmp(authz, "Bearer ", 7) == 0)
			ok = token_lookup(srv->admin, authz + 7, job->admin, sizeof(job->admin));
		else if (authz != NULL && strncasecmp(authz, "Basic ", 6) == 0)
			ok = basic_credentials(authz + 6, job);
		if (!ok) {
			job_free(job);
			respond_json_error(s, 401,
			                   "sign in: a Bearer token from /api/v1/login, or Basic");
			return;
		}
	}
	http_wait(s);
	session_job_submit(&s->base, srv->auth_pool, job_work, job_done, job);
}

void
http_admin_login_post(struct http_session *s)
{
	const char *body = s->body.data != NULL ? s->body.data : "";
	char *address = http_query_get(s->arena, body, s->body.len, "address");
	char *password = http_query_get(s->arena, body, s->body.len, "password");

	if (address == NULL || password == NULL) {
		respond_json_error(s, 400, "address and password are required");
		return;
	}
	admin_call(s, OP_LOGIN, 0, address, password);
	explicit_bzero(password, strlen(password));
	explicit_bzero(s->body.data, s->body.len);
}

void
http_admin_logout_post(struct http_session *s)
{
	const char *authz = http_header_get(&s->req, "authorization");
	struct buf b;

	if (authz != NULL && strncasecmp(authz, "Bearer ", 7) == 0)
		token_drop(s->srv->admin, authz + 7);
	buf_init(&b);
	buf_puts(&b, "{}\n");
	respond_json(s, 200, &b);
	buf_deinit(&b);
}

/* Which operation each API route runs (route names: http_routes.c). */
static const struct {
	const char *route;
	enum admin_op op;
	int control;
} api_ops[] = {
        {"api-accounts", OP_ACCOUNTS, 0},
        {"api-access", OP_ACCESS, 0},
        {"api-quota", OP_QUOTA_GET, 0},
        {"api-quota-set", OP_QUOTA_SET, 0},
        {"api-account-add", OP_ACCOUNT_ADD, 0},
        {"api-account-delete", OP_ACCOUNT_DELETE, 0},
        {"api-account-password", OP_ACCOUNT_PASSWORD, 0},
        {"api-status", OP_STATUS, 0},
        {"api-sessions", OP_SESSIONS, 0},
        {"api-kick", OP_KICK, 0},
        {"api-aliases", OP_ALIASES, 0},
        {"api-alias-add", OP_ALIAS_ADD, 0},
        {"api-alias-delete", OP_ALIAS_DELETE, 0},
        {"api-app-passwords", OP_APP_PASSWORDS, 0},
        {"api-app-password-add", OP_APP_PASSWORD_ADD, 0},
        {"api-app-password-delete", OP_APP_PASSWORD_DELETE, 0},
        {"api-queue", OP_QUEUE, 0},
        {"api-queue-show", OP_QUEUE_SHOW, 0},
        {"api-queue-retry", OP_QUEUE_CONTROL, SMTP_QUEUE_RETRY},
        {"api-queue-hold", OP_QUEUE_CONTROL, SMTP_QUEUE_HOLD},
        {"api-queue-release", OP_QUEUE_CONTROL, SMTP_QUEUE_RELEASE},
        {"api-queue-delete", OP_QUEUE_CONTROL, SMTP_QUEUE_DELETE},
};

void
http_admin_api(struct http_session *s)
{
	for (size_t i = 0; i < ARRAY_LEN(api_ops); i++) {
		if (strcmp(api_ops[i].route, s->route) == 0) {
			admin_call(s, api_ops[i].op, api_ops[i].control, NULL, NULL);
			return;
		}
	}
	respond_json_error(s, 404, "no such call");
}
