/* SPDX-License-Identifier: MIT */
/*
 * auth.c: password checks and SASL exchanges. Every check goes through
 * check_password(), so LOGIN, SASL PLAIN and SASL LOGIN fail the same way and
 * cost the same time whether or not the account exists.
 *
 * Runs on job threads: each thread lazily opens its own accounts.db
 * connection (SQLite connections are not shared between threads here), closed
 * by a thread-specific-data destructor when the thread ends.
 */
#include "auth/auth.h"

#include <gsasl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/password.h"
#include "lib/log.h"
#include "lib/util.h"

struct auth_service {
	char *data_dir;
	Gsasl *gsasl;
	pthread_key_t db_key;
};

struct auth_sasl {
	struct auth_service *svc;
	Gsasl_session *gs;
	enum auth_protocol proto;
	enum auth_status result; /* set by the validate callback */
	struct auth_identity id;
};

static void
db_destroy(void *p)
{
	struct auth_db *db = p;

	auth_db_close(&db);
}

static struct auth_db *
thread_db(struct auth_service *svc)
{
	struct auth_db *db = pthread_getspecific(svc->db_key);
	char *err = NULL;

	if (db != NULL)
		return db;
	if (auth_db_open(svc->data_dir, &db, &err) < 0) {
		log_error("auth", "event=db-open-failed err=\"%s\"", err);
		free(err);
		return NULL;
	}
	pthread_setspecific(svc->db_key, db);
	return db;
}

static enum auth_status
check_password(struct auth_service *svc, enum auth_protocol proto, const char *user,
	       const char *password, struct auth_identity *id)
{
	struct auth_db *db = thread_db(svc);
	struct auth_account acct;
	enum auth_error err;

	if (db == NULL)
		return AUTH_TEMP;
	if (auth_account_lookup(db, user, &acct, &err) < 0) {
		auth_password_verify_dummy(password);
		return err == AUTH_ERR_NOTFOUND ? AUTH_FAILED : AUTH_TEMP;
	}
	enum auth_status st = AUTH_FAILED;
	if (auth_password_verify(acct.password, password)) {
		/* Administrators manage the server; they have no mailbox to read. */
		bool admin = strcmp(acct.role, "admin") == 0;
		if (!acct.enabled[proto] || (admin && proto != AUTH_PROTO_SMTP)) {
			st = AUTH_DISABLED;
		} else {
			st = AUTH_OK;
			id->account_id = acct.id;
			snprintf(id->address, sizeof(id->address), "%s", acct.address);
		}
	}
	auth_account_clear(&acct);
	return st;
}

enum auth_status
auth_check_password(struct auth_service *svc, enum auth_protocol proto, const char *user,
		    const char *password, struct auth_identity *id)
{
	return check_password(svc, proto, user, password, id);
}

/* GNU SASL asks us to validate what the mechanism decoded. */
static int
gsasl_cb(Gsasl *ctx, Gsasl_session *gs, Gsasl_property prop)
{
	struct auth_sasl *s = gsasl_session_hook_get(gs);

	if (s == NULL || prop != GSASL_VALIDATE_SIMPLE)
		return GSASL_NO_CALLBACK;
	const char *authid = gsasl_property_fast(gs, GSASL_AUTHID);
	const char *authzid = gsasl_property_fast(gs, GSASL_AUTHZID);
	const char *password = gsasl_property_fast(gs, GSASL_PASSWORD);
	if (authid == NULL || password == NULL) {
		s->result = AUTH_MALFORMED;
		return GSASL_AUTHENTICATION_ERROR;
	}
	/* Acting as someone else needs a master user (not configured here):
	   an authorization identity must name the authenticated user. */
	if (authzid != NULL && authzid[0] != '\0' && strcasecmp(authzid, authid) != 0) {
		auth_password_verify_dummy(password);
		s->result = AUTH_FAILED;
		return GSASL_AUTHENTICATION_ERROR;
	}
	s->result = check_password(s->svc, s->proto, authid, password, &s->id);
	return s->result == AUTH_OK ? GSASL_OK : GSASL_AUTHENTICATION_ERROR;
}

struct auth_service *
auth_service_new(const char *data_dir, char **error_out)
{
	struct auth_service *svc = xcalloc(1, sizeof(*svc));
	int rc = gsasl_init(&svc->gsasl);

	if (rc != GSASL_OK) {
		*error_out = xasprintf("gsasl_init: %s", gsasl_strerror(rc));
		free(svc);
		return NULL;
	}
	gsasl_callback_set(svc->gsasl, gsasl_cb);
	svc->data_dir = xstrdup(data_dir);
	pthread_key_create(&svc->db_key, db_destroy);
	return svc;
}

void
auth_service_free(struct auth_service **svcp)
{
	struct auth_service *svc = *svcp;

	if (svc == NULL)
		return;
	*svcp = NULL;
	db_destroy(pthread_getspecific(svc->db_key));
	pthread_key_delete(svc->db_key);
	gsasl_done(svc->gsasl);
	free(svc->data_dir);
	free(svc);
}

bool
auth_plaintext_allowed(const struct auth_settings *s, bool is_tls, bool is_loopback)
{
	return is_tls || s->plaintext == AUTH_PLAINTEXT_ALWAYS ||
	       (s->plaintext == AUTH_PLAINTEXT_LOOPBACK && is_loopback);
}

static const char *const mechanisms[] = {"PLAIN", "LOGIN"};

const char *
auth_mechanisms(bool plaintext_allowed)
{
	/* Both offered mechanisms send the password itself. */
	return plaintext_allowed ? "PLAIN LOGIN" : "";
}

struct auth_sasl *
auth_sasl_new(struct auth_service *svc, enum auth_protocol proto, const char *mech)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(mechanisms); i++)
		if (strcasecmp(mech, mechanisms[i]) == 0)
			break;
	if (i == ARRAY_LEN(mechanisms))
		return NULL;
	struct auth_sasl *s = xcalloc(1, sizeof(*s));
	s->svc = svc;
	s->proto = proto;
	if (gsasl_server_start(svc->gsasl, mechanisms[i], &s->gs) != GSASL_OK) {
		free(s);
		return NULL;
	}
	gsasl_session_hook_set(s->gs, s);
	return s;
}

enum auth_status
auth_sasl_step(struct auth_sasl *s, const char *in_b64, char **out_b64,
	       struct auth_identity *id)
{
	char *out = NULL;

	s->result = AUTH_MALFORMED;
	int rc = gsasl_step64(s->gs, in_b64 != NULL ? in_b64 : "", &out);
	*out_b64 = NULL;
	if (rc == GSASL_NEEDS_MORE) {
		*out_b64 = out;
		return AUTH_CONTINUE;
	}
	if (rc == GSASL_OK) {
		*out_b64 = (out != NULL && out[0] != '\0') ? out : NULL;
		if (*out_b64 == NULL)
			gsasl_free(out);
		*id = s->id;
		return AUTH_OK;
	}
	gsasl_free(out);
	if (rc == GSASL_AUTHENTICATION_ERROR && s->result != AUTH_MALFORMED)
		return s->result;
	return AUTH_MALFORMED;
}

void
auth_sasl_free(struct auth_sasl **sp)
{
	struct auth_sasl *s = *sp;

	if (s == NULL)
		return;
	*sp = NULL;
	gsasl_finish(s->gs);
	explicit_bzero(&s->id, sizeof(s->id));
	free(s);
}
