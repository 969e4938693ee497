/* SPDX-License-Identifier: MIT */
/*
 * auth.c: the auth service: settings (a reference-counted policy snapshot),
 * the password check every password mechanism goes through, authorization
 * (master users, protocol switches, administrators), throttling glue and the
 * change feed that closes sessions whose access was revoked.
 *
 * Every password check goes through auth_check_plain(), so LOGIN, SASL PLAIN
 * and SASL LOGIN fail the same way and cost the same time whether or not the
 * account exists. Authorization comes only after the credentials were
 * proven, so "disabled" or "administrator" is never told to a guesser.
 *
 * Runs on job threads: each thread lazily opens its own accounts.db
 * connection (SQLite connections are not shared between threads here), closed
 * by a thread-specific-data destructor when the thread ends.
 */
#include "auth/auth.h"

#include <ctype.h>
#include <errno.h>
#include <gsasl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "auth/auth_internal.h"
#include "auth/login_cache.h"
#include "auth/password.h"
#include "auth/throttle.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"

struct auth_service {
	char *data_dir;
	Gsasl *gsasl;
	pthread_key_t db_key;
	pthread_mutex_t lock; /* guards policy */
	struct auth_policy *policy;
	struct auth_throttle *throttle;
	struct auth_login_cache *login_cache;
	unsigned char decoy_key[AUTH_DECOY_KEY_LEN];
	/* The change feed; polls are serialised by the caller. */
	uint64_t changes_seq;
	bool changes_started;
};

struct auth_changes {
	atomic_int refs;
	struct auth_change *v; /* sorted by account_id */
	size_t n;
};

static const char *const mech_names[AUTH_MECH_COUNT] = {
        [AUTH_MECH_PLAIN] = "PLAIN",
        [AUTH_MECH_LOGIN] = "LOGIN",
        [AUTH_MECH_CRAM_MD5] = "CRAM-MD5",
        [AUTH_MECH_DIGEST_MD5] = "DIGEST-MD5",
        [AUTH_MECH_SCRAM_SHA_1] = "SCRAM-SHA-1",
        [AUTH_MECH_SCRAM_SHA_1_PLUS] = "SCRAM-SHA-1-PLUS",
        [AUTH_MECH_SCRAM_SHA_256] = "SCRAM-SHA-256",
        [AUTH_MECH_SCRAM_SHA_256_PLUS] = "SCRAM-SHA-256-PLUS",
        [AUTH_MECH_EXTERNAL] = "EXTERNAL",
        [AUTH_MECH_ANONYMOUS] = "ANONYMOUS",
        [AUTH_MECH_OAUTHBEARER] = "OAUTHBEARER",
        [AUTH_MECH_XOAUTH2] = "XOAUTH2",
        [AUTH_MECH_GSSAPI] = "GSSAPI",
        [AUTH_MECH_GS2_KRB5] = "GS2-KRB5",
};

/* Advertised strongest first; clients that take the first they know get
   the best one. Kerberos after SCRAM: such a client may have no ticket. */
static const enum auth_mech mech_order[AUTH_MECH_COUNT] = {
        AUTH_MECH_SCRAM_SHA_256_PLUS,
        AUTH_MECH_SCRAM_SHA_256,
        AUTH_MECH_SCRAM_SHA_1_PLUS,
        AUTH_MECH_SCRAM_SHA_1,
        AUTH_MECH_GS2_KRB5,
        AUTH_MECH_GSSAPI,
        AUTH_MECH_OAUTHBEARER,
        AUTH_MECH_XOAUTH2,
        AUTH_MECH_EXTERNAL,
        AUTH_MECH_DIGEST_MD5,
        AUTH_MECH_CRAM_MD5,
        AUTH_MECH_PLAIN,
        AUTH_MECH_LOGIN,
        AUTH_MECH_ANONYMOUS,
};

const char *
auth_mech_name(enum auth_mech m)
{
	return mech_names[m];
}

int
auth_mech_parse(const char *name)
{
	for (int i = 0; i < AUTH_MECH_COUNT; i++)
		if (strcasecmp(name, mech_names[i]) == 0)
			return i;
	return -1;
}

/* ---- policy ---- */

static void
policy_free(struct auth_policy *p)
{
	for (size_t i = 0; i < p->nmasters; i++)
		free(p->masters[i]);
	free(p->masters);
	free(p->separator);
	free(p->anonymous);
	free(p->realm);
	free(p->hostname);
	auth_jwt_keys_free(&p->jwt_keys);
	free((char *)p->jwt.issuer);
	free((char *)p->jwt.audience);
	free((char *)p->jwt.claim);
	free(p->oauth_url);
	free(p->gssapi_hostname);
	for (int i = 0; i < AUTH_PROTO_COUNT; i++)
		free(p->gssapi_service[i]);
	auth_gssapi_map_free(&p->gssapi_map);
	free(p);
}

void
auth_policy_unref(struct auth_policy **pp)
{
	struct auth_policy *p = *pp;

	if (p == NULL)
		return;
	*pp = NULL;
	if (atomic_fetch_sub(&p->refs, 1) == 1)
		policy_free(p);
}

struct auth_policy *
auth_policy_get(struct auth_service *svc)
{
	pthread_mutex_lock(&svc->lock);
	struct auth_policy *p = svc->policy;
	atomic_fetch_add(&p->refs, 1);
	pthread_mutex_unlock(&svc->lock);
	return p;
}

/* Whether path is a keytab this process can read (MIT's format: 0x05, then
   version 1 or 2). Logged when not, so a typo does not just hide GSSAPI. */
static bool
keytab_readable(const char *path)
{
	unsigned char head[2];

	if (path[0] == '\0')
		return false;
	FILE *f = fopen(path, "rbe");
	size_t n = f != NULL ? fread(head, 1, sizeof(head), f) : 0;
	int saved = errno;
	if (f != NULL)
		fclose(f);
	if (n == 2 && head[0] == 0x05 && (head[1] == 0x01 || head[1] == 0x02))
		return true;
	log_warn("auth", "event=gssapi-off keytab=%s err=\"%s\"", path,
	         f == NULL ? strerror(saved) : "not a keytab");
	return false;
}

void
auth_gssapi_environment(const char *data_dir, const struct auth_config *cfg)
{
	if (cfg->gssapi_keytab[0] == '\0')
		return;
	char *kt = xasprintf("FILE:%s", cfg->gssapi_keytab);
	setenv("KRB5_KTNAME", kt, 1);
	free(kt);
	/* The acceptor's replay cache (RFC 4120 section 3.2.3): MIT's default
	   lives in /var/tmp, outside what the sandbox lets us write. */
	if (getenv("KRB5RCACHENAME") == NULL && getenv("KRB5RCACHETYPE") == NULL &&
	    getenv("KRB5RCACHEDIR") == NULL) {
		char *rc = xasprintf("file2:%s/krb5.rcache2", data_dir);
		setenv("KRB5RCACHENAME", rc, 1);
		free(rc);
	}
}

static struct auth_policy *
policy_new(const struct auth_config *cfg, char **error_out)
{
	struct auth_policy *p = xcalloc(1, sizeof(*p));
	char *list = xstrdup(cfg->mechanisms), *save = NULL;

	atomic_init(&p->refs, 1);
	p->s = cfg->s;
	for (char *t = strtok_r(list, " ,", &save); t != NULL; t = strtok_r(NULL, " ,", &save)) {
		int m = auth_mech_parse(t);
		if (m < 0) {
			*error_out = xasprintf("auth.mechanisms: unknown mechanism '%s'", t);
			free(list);
			policy_free(p);
			return NULL;
		}
		p->mech_enabled[m] = true;
	}
	free(list);
	list = xstrdup(cfg->master_users);
	for (char *t = strtok_r(list, " ,", &save); t != NULL; t = strtok_r(NULL, " ,", &save)) {
		p->masters = xrealloc(p->masters, (p->nmasters + 1) * sizeof(*p->masters));
		p->masters[p->nmasters] = auth_name_prep(t);
		if (p->masters[p->nmasters] == NULL) {
			*error_out = xasprintf("auth.master_users: invalid name '%s'", t);
			free(list);
			policy_free(p);
			return NULL;
		}
		p->nmasters++;
	}
	free(list);
	p->separator = xstrdup(cfg->master_separator);
	p->anonymous = xstrdup(cfg->anonymous_account);
	p->hostname = xstrdup(cfg->hostname);
	p->realm = xstrdup(cfg->digest_realm[0] != '\0' ? cfg->digest_realm : cfg->hostname);
	p->scram_iterations = (unsigned)cfg->scram_iterations;
	p->jwt.issuer = xstrdup(cfg->oauth_issuer);
	p->jwt.audience = xstrdup(cfg->oauth_audience);
	p->jwt.claim = xstrdup(cfg->oauth_claim);
	p->jwt.leeway_s = (int64_t)(cfg->oauth_leeway_ms / 1000);
	p->oauth_url = xstrdup(cfg->oauth_configuration_url);
	if (cfg->oauth_hs256_secret_file[0] != '\0' || cfg->oauth_public_keys_file[0] != '\0') {
		p->jwt_keys = auth_jwt_keys_load(cfg->oauth_hs256_secret_file,
		                                 cfg->oauth_public_keys_file, error_out);
		if (p->jwt_keys == NULL) {
			policy_free(p);
			return NULL;
		}
	}
	p->gssapi_hostname =
	        xstrdup(cfg->gssapi_hostname[0] != '\0' ? cfg->gssapi_hostname : cfg->hostname);
	for (int i = 0; i < AUTH_PROTO_COUNT; i++)
		p->gssapi_service[i] = xstrdup(cfg->gssapi_service[i]);
	p->gssapi_map = auth_gssapi_map_new(cfg->gssapi_realms, cfg->gssapi_map, error_out);
	if (p->gssapi_map == NULL) {
		policy_free(p);
		return NULL;
	}
	p->gssapi_ready = keytab_readable(cfg->gssapi_keytab);
	return p;
}

static void
throttle_settings(const struct auth_config *cfg, struct auth_throttle_settings *t)
{
	t->fail_delay_ms = cfg->s.fail_delay_ms;
	t->max_fail_delay_ms = cfg->max_fail_delay_ms;
	t->block_after_ip = cfg->block_after_ip;
	t->block_after_account = cfg->block_after_account;
	t->block_ms = cfg->block_time_ms;
	t->window_ms = cfg->fail_window_ms;
}

/* ---- service ---- */

static void
db_destroy(void *p)
{
	struct auth_db *db = p;

	auth_db_close(&db);
}

struct auth_db *
auth_thread_db(struct auth_service *svc)
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

void *
auth_gsasl(struct auth_service *svc)
{
	return svc->gsasl;
}

const unsigned char *
auth_decoy_key(struct auth_service *svc)
{
	return svc->decoy_key;
}

struct auth_service *
auth_service_new(const char *data_dir, const struct auth_config *cfg, char **error_out)
{
	struct auth_policy *p = policy_new(cfg, error_out);

	if (p == NULL)
		return NULL;
	struct auth_service *svc = xcalloc(1, sizeof(*svc));
	int rc = gsasl_init(&svc->gsasl);
	if (rc != GSASL_OK) {
		*error_out = xasprintf("gsasl_init: %s", gsasl_strerror(rc));
		policy_free(p);
		free(svc);
		return NULL;
	}
	gsasl_callback_set(svc->gsasl, sasl_gsasl_callback);
	svc->data_dir = xstrdup(data_dir);
	svc->policy = p;
	pthread_mutex_init(&svc->lock, NULL);
	pthread_key_create(&svc->db_key, db_destroy);
	struct auth_throttle_settings ts;
	throttle_settings(cfg, &ts);
	svc->throttle = auth_throttle_new(&ts);
	svc->login_cache = auth_login_cache_new(cfg->cache_size, cfg->cache_ttl_ms);
	if (svc->login_cache == NULL) {
		*error_out = xstrdup("auth: no random key for the login cache (RAND_bytes)");
		auth_service_free(&svc);
		return NULL;
	}
	if (auth_decoy_key_load(data_dir, svc->decoy_key, error_out) < 0) {
		auth_service_free(&svc);
		return NULL;
	}
	sasl_kerberos_warm_up(svc);
	return svc;
}

int
auth_service_reload(struct auth_service *svc, const struct auth_config *cfg, char **error_out)
{
	struct auth_policy *p = policy_new(cfg, error_out);

	if (p == NULL)
		return -1;
	pthread_mutex_lock(&svc->lock);
	struct auth_policy *old = svc->policy;
	svc->policy = p;
	pthread_mutex_unlock(&svc->lock);
	auth_policy_unref(&old);
	struct auth_throttle_settings ts;
	throttle_settings(cfg, &ts);
	auth_throttle_configure(svc->throttle, &ts);
	auth_login_cache_configure(svc->login_cache, cfg->cache_size, cfg->cache_ttl_ms);
	return 0;
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
	auth_policy_unref(&svc->policy);
	auth_throttle_free(&svc->throttle);
	auth_login_cache_free(&svc->login_cache);
	pthread_mutex_destroy(&svc->lock);
	explicit_bzero(svc->decoy_key, sizeof(svc->decoy_key));
	free(svc->data_dir);
	free(svc);
}

bool
auth_plaintext_allowed(const struct auth_settings *s, bool is_tls, bool is_loopback)
{
	return is_tls || s->plaintext == AUTH_PLAINTEXT_ALWAYS ||
	       (s->plaintext == AUTH_PLAINTEXT_LOOPBACK && is_loopback);
}

bool
auth_service_plaintext_allowed(struct auth_service *svc, bool is_tls, bool is_loopback)
{
	struct auth_policy *p = auth_policy_get(svc);
	bool ok = auth_plaintext_allowed(&p->s, is_tls, is_loopback);

	auth_policy_unref(&p);
	return ok;
}

bool
auth_service_apop_offered(struct auth_service *svc)
{
	struct auth_policy *p = auth_policy_get(svc);
	bool on = p->s.apop;

	auth_policy_unref(&p);
	return on;
}

bool
auth_mech_offered(const struct auth_policy *p, const struct auth_conn *conn, enum auth_mech m)
{
	if (!p->mech_enabled[m])
		return false;
	switch (m) {
	case AUTH_MECH_SCRAM_SHA_1_PLUS:
	case AUTH_MECH_SCRAM_SHA_256_PLUS:
		return conn->is_tls && (conn->has_cb_exporter || conn->cb_endpoint_len > 0);
	case AUTH_MECH_EXTERNAL:
		return conn->is_tls && conn->cert_identity[0] != '\0';
	case AUTH_MECH_ANONYMOUS:
		return p->anonymous[0] != '\0';
	case AUTH_MECH_OAUTHBEARER:
	case AUTH_MECH_XOAUTH2:
		return auth_jwt_keys_count(p->jwt_keys) > 0;
	case AUTH_MECH_GSSAPI:
	case AUTH_MECH_GS2_KRB5:
		return p->gssapi_ready && p->gssapi_service[conn->proto][0] != '\0';
	default:
		return true;
	}
}

void
auth_mechanisms_list(struct auth_service *svc, const struct auth_conn *conn, struct buf *out)
{
	struct auth_policy *p = auth_policy_get(svc);
	bool first = true;

	/* Where passwords may not travel nothing is offered: even SCRAM would
	   run unprotected, and a bearer token is as good as a password. */
	if (auth_plaintext_allowed(&p->s, conn->is_tls, conn->is_loopback)) {
		for (int i = 0; i < AUTH_MECH_COUNT; i++) {
			if (!auth_mech_offered(p, conn, mech_order[i]))
				continue;
			buf_printf(out, "%s%s", first ? "" : " ", mech_names[mech_order[i]]);
			first = false;
		}
	}
	auth_policy_unref(&p);
}

bool
auth_ip_is_blocked(struct auth_service *svc, const struct auth_conn *conn)
{
	return auth_throttle_is_blocked(svc->throttle, conn->ip, NULL, time_mono_ms());
}

/* ---- results and throttling ---- */

void
auth_result_clear(struct auth_result *r)
{
	if (r->out_b64 != NULL) {
		explicit_bzero(r->out_b64, strlen(r->out_b64));
		free(r->out_b64);
	}
	explicit_bzero(r, sizeof(*r));
}

bool
auth_check_blocked(struct auth_service *svc, const struct auth_conn *conn, const char *account,
                   struct auth_result *r)
{
	if (!auth_throttle_is_blocked(svc->throttle, conn->ip, account, time_mono_ms()))
		return false;
	r->status = AUTH_BLOCKED;
	r->reason = "blocked";
	r->delay_ms = 0;
	return true;
}

void
auth_result_fail(struct auth_service *svc, const struct auth_conn *conn, struct auth_result *r,
                 enum auth_status st, const char *reason, const char *account)
{
	r->status = st;
	r->reason = reason;
	memset(&r->id, 0, sizeof(r->id));
	if (st != AUTH_FAILED && st != AUTH_MALFORMED)
		return;
	bool blocked = false;
	r->delay_ms = auth_throttle_failure(svc->throttle, conn->ip, account, time_mono_ms(),
	                                    &r->failures, &blocked);
	if (blocked)
		log_warn("auth", "event=auth-block ip=%s user=%s failures=%u", conn->ip,
		         account != NULL && account[0] != '\0' ? account : "-", r->failures);
}

void
auth_result_succeed(struct auth_service *svc, struct auth_result *r)
{
	r->status = AUTH_OK;
	r->reason = "ok";
	r->delay_ms = 0;
	auth_throttle_success(svc->throttle,
	                      r->id.master[0] != '\0' ? r->id.master : r->id.address);
}

/* ---- names ---- */

char *
auth_name_prep(const char *name)
{
	char *p = auth_saslprep(name, false);

	if (p == NULL || p[0] == '\0' || strlen(p) > 254) {
		free(p);
		return NULL;
	}
	for (char *q = p; *q != '\0'; q++)
		*q = (char)tolower((unsigned char)*q);
	return p;
}

int
auth_split_login(const struct auth_policy *pol, const char *authzid, const char *authcid,
                 char **login_out, char **target_out)
{
	char *login = auth_name_prep(authcid);
	char *target = NULL;

	*login_out = *target_out = NULL;
	if (login == NULL)
		return -1;
	/* Dovecot's convention: "user*master" logs in as master, acts as user. */
	char *sep = pol->separator[0] != '\0' ? strstr(login, pol->separator) : NULL;
	if (sep != NULL && sep != login && sep[strlen(pol->separator)] != '\0') {
		target = xstrndup(login, (size_t)(sep - login));
		char *master = xstrdup(sep + strlen(pol->separator));
		free(login);
		login = master;
	}
	if (authzid != NULL && authzid[0] != '\0') {
		char *z = auth_name_prep(authzid);
		if (z == NULL || (target != NULL && strcmp(z, target) != 0)) {
			free(z);
			free(login);
			free(target);
			return -1;
		}
		free(target);
		target = z;
	}
	if (target != NULL && strcmp(target, login) == 0) {
		free(target);
		target = NULL;
	}
	*login_out = login;
	*target_out = target != NULL ? target : xstrdup("");
	return 0;
}

static bool
is_master(const struct auth_policy *pol, const char *address)
{
	for (size_t i = 0; i < pol->nmasters; i++)
		if (strcmp(pol->masters[i], address) == 0)
			return true;
	return false;
}

/* Administrators manage the server; they have no mailbox to read, so IMAP
   and POP3 are closed to them whatever the switches say. */
static enum auth_denial
access_denied(bool is_admin, const bool *enabled, enum auth_protocol proto)
{
	if (is_admin && proto != AUTH_PROTO_SMTP)
		return AUTH_DENIAL_ADMIN;
	if (!enabled[proto])
		return AUTH_DENIAL_PROTOCOL;
	return AUTH_DENIAL_NONE;
}

enum auth_status
auth_authorize(struct auth_service *svc, const struct auth_policy *pol,
               const struct auth_conn *conn, const struct auth_account *login, const char *target,
               struct auth_result *r)
{
	struct auth_account acct;
	const struct auth_account *a = login;
	enum auth_error err;

	if (target[0] != '\0') {
		if (!is_master(pol, login->address)) {
			r->status = AUTH_AUTHZ;
			r->reason = "not-a-master-user";
			return r->status;
		}
		struct auth_db *db = auth_thread_db(svc);
		if (db == NULL || auth_account_lookup(db, target, &acct, &err) < 0) {
			r->status = db != NULL && err == AUTH_ERR_NOTFOUND ? AUTH_AUTHZ : AUTH_TEMP;
			r->reason = r->status == AUTH_AUTHZ ? "no-such-target" : "temporary";
			return r->status;
		}
		a = &acct;
	}
	enum auth_denial denied =
	        access_denied(strcmp(a->role, "admin") == 0, a->enabled, conn->proto);
	if (denied != AUTH_DENIAL_NONE) {
		r->status = AUTH_DISABLED;
		r->denial = denied;
		r->reason = denied == AUTH_DENIAL_ADMIN ? "admin-account" : "protocol-disabled";
	} else {
		r->status = AUTH_OK;
		r->id.account_id = a->id;
		snprintf(r->id.address, sizeof(r->id.address), "%s", a->address);
		r->id.is_admin = strcmp(a->role, "admin") == 0;
		snprintf(r->id.referral, sizeof(r->id.referral), "%s", a->referral);
		if (a != login) {
			snprintf(r->id.master, sizeof(r->id.master), "%s", login->address);
			r->id.master_is_admin = strcmp(login->role, "admin") == 0;
			log_info("auth", "event=master-login master=%s user=%s ip=%s proto=%s",
			         login->address, a->address, conn->ip,
			         auth_protocol_name(conn->proto));
		}
	}
	if (a != login)
		auth_account_clear(&acct);
	return r->status;
}

/* Accounts imported with a crypt hash, or made before SCRAM keys existed,
   get every credential on their first successful password login, when the
   password is at hand anyway ("rehash on login"). */
static void
upgrade_credentials(struct auth_service *svc, const struct auth_policy *pol,
                    const struct auth_account *a, const char *password)
{
	bool want_cram = pol->mech_enabled[AUTH_MECH_CRAM_MD5];
	bool want_digest = pol->mech_enabled[AUTH_MECH_DIGEST_MD5];
	bool want_apop = pol->s.apop;

	/* An APOP secret is dropped again once auth.apop is off. */
	if (strncmp(a->password, "$y$", 3) == 0 && a->cred.scram_sha1[0] != '\0' &&
	    a->cred.scram_sha256[0] != '\0' && (!want_cram || a->cred.cram_md5[0] != '\0') &&
	    (!want_digest || a->cred.digest_md5[0] != '\0') &&
	    want_apop == (a->cred.apop[0] != '\0'))
		return;
	struct auth_cred_options o = {
	        .scram_iterations = pol->scram_iterations,
	        .cram_md5 = want_cram,
	        .digest_md5 = want_digest,
	        .apop = want_apop,
	        .digest_realm = pol->realm,
	        .address = a->address,
	};
	struct auth_credentials c;
	struct auth_db *db = auth_thread_db(svc);
	enum auth_error err;
	if (db == NULL || auth_credentials_make(password, &o, &c) < 0)
		return;
	if (auth_account_set_credentials(db, a->address, &c, &err) == 0)
		log_info("auth", "event=credentials-upgraded user=%s", a->address);
	auth_credentials_clear(&c);
}

/* The account's own password, remembered for a while after it was right
   (login_cache.h): a reconnecting client skips the slow hash. */
static bool
password_matches(struct auth_service *svc, const struct auth_account *a, const char *pw)
{
	uint64_t now = time_mono_ms();

	if (auth_login_cache_check(svc->login_cache, a->address, a->password, pw, now))
		return true;
	if (!auth_password_verify(a->password, pw))
		return false;
	auth_login_cache_put(svc->login_cache, a->address, a->password, pw, now);
	return true;
}

void
auth_check_plain(struct auth_service *svc, const struct auth_policy *pol,
                 const struct auth_conn *conn, const char *authzid, const char *authcid,
                 const char *password, struct auth_result *r)
{
	char *login = NULL, *target = NULL;
	struct auth_db *db = auth_thread_db(svc);
	struct auth_account acct;
	enum auth_error err;

	snprintf(r->user, sizeof(r->user), "%s", authcid);
	if (auth_split_login(pol, authzid, authcid, &login, &target) < 0) {
		auth_password_verify_dummy(password);
		auth_result_fail(svc, conn, r, AUTH_FAILED, "bad-name", NULL);
		return;
	}
	char *pw = auth_saslprep(password, false);
	if (auth_check_blocked(svc, conn, login, r)) {
		/* Nothing is verified while blocked: not even a right
		   password tells the attacker anything. */
	} else if (db == NULL) {
		r->status = AUTH_TEMP;
		r->reason = "temporary";
	} else if (auth_account_lookup(db, login, &acct, &err) < 0) {
		auth_password_verify_dummy(password);
		if (err == AUTH_ERR_NOTFOUND) {
			auth_result_fail(svc, conn, r, AUTH_FAILED, "unknown-user", login);
		} else {
			r->status = AUTH_TEMP;
			r->reason = "temporary";
		}
	} else {
		bool ok = pw != NULL && password_matches(svc, &acct, pw);
		struct auth_app_password *apps = NULL;
		size_t napps = 0;
		const struct auth_app_password *app = NULL;
		/* App passwords serve the account itself, never a master
		   acting for another. */
		if (!ok && pw != NULL && target[0] == '\0' &&
		    auth_app_password_list(db, acct.id, &apps, &napps, &err) == 0) {
			for (size_t i = 0; i < napps && app == NULL; i++)
				if (auth_app_password_verify(apps[i].hash, pw))
					app = &apps[i];
		}
		if (!ok && app == NULL) {
			auth_result_fail(svc, conn, r, AUTH_FAILED, "bad-credentials", login);
		} else if (app != NULL && !(app->protocols & (1u << conn->proto))) {
			r->status = AUTH_DISABLED;
			r->denial = AUTH_DENIAL_APP_PASSWORD;
			r->reason = "app-password-protocol";
		} else if (auth_authorize(svc, pol, conn, &acct, target, r) == AUTH_OK) {
			if (app != NULL)
				snprintf(r->id.app_password, sizeof(r->id.app_password), "%s",
				         app->name);
			else if (target[0] == '\0')
				upgrade_credentials(svc, pol, &acct, pw);
			auth_result_succeed(svc, r);
		}
		auth_app_passwords_free(&apps, napps);
		auth_account_clear(&acct);
	}
	if (pw != NULL) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	free(login);
	free(target);
}

void
auth_apop(struct auth_service *svc, const struct auth_conn *conn, const char *user,
          const char *timestamp, const char *digest_hex, struct auth_result *r)
{
	struct auth_policy *pol = auth_policy_get(svc);
	struct auth_db *db = auth_thread_db(svc);
	char *login = NULL, *target = NULL;
	struct auth_account acct;
	enum auth_error err;

	memset(r, 0, sizeof(*r));
	snprintf(r->user, sizeof(r->user), "%s", user);
	/* No "user*master": APOP proves one secret, the account's own. */
	if (auth_split_login(pol, NULL, user, &login, &target) < 0 || target[0] != '\0') {
		auth_result_fail(svc, conn, r, AUTH_FAILED, "bad-name", NULL);
	} else if (auth_check_blocked(svc, conn, login, r)) {
		/* nothing is verified while blocked */
	} else if (db == NULL) {
		r->status = AUTH_TEMP;
		r->reason = "temporary";
	} else if (auth_account_lookup(db, login, &acct, &err) < 0) {
		if (err == AUTH_ERR_NOTFOUND) {
			auth_result_fail(svc, conn, r, AUTH_FAILED, "unknown-user", login);
		} else {
			r->status = AUTH_TEMP;
			r->reason = "temporary";
		}
	} else {
		unsigned char md[16];
		char hex[33];
		bool ok = false;
		if (pol->s.apop && acct.cred.apop[0] != '\0' && strlen(digest_hex) == 32) {
			EVP_MD_CTX *ctx = EVP_MD_CTX_new();
			EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
			EVP_DigestUpdate(ctx, timestamp, strlen(timestamp));
			EVP_DigestUpdate(ctx, acct.cred.apop, strlen(acct.cred.apop));
			EVP_DigestFinal_ex(ctx, md, NULL);
			EVP_MD_CTX_free(ctx);
			for (int i = 0; i < 16; i++)
				snprintf(hex + 2 * i, 3, "%02x", md[i]);
			char want[33];
			for (int i = 0; i < 32; i++)
				want[i] = (char)tolower((unsigned char)digest_hex[i]);
			want[32] = '\0';
			ok = CRYPTO_memcmp(hex, want, 32) == 0;
			explicit_bzero(md, sizeof(md));
		}
		if (!ok)
			auth_result_fail(svc, conn, r, AUTH_FAILED,
			                 acct.cred.apop[0] != '\0' ? "bad-credentials"
			                                           : "no-apop-secret",
			                 login);
		else if (auth_authorize(svc, pol, conn, &acct, "", r) == AUTH_OK)
			auth_result_succeed(svc, r);
		auth_account_clear(&acct);
	}
	free(login);
	free(target);
	auth_policy_unref(&pol);
}

void
auth_login(struct auth_service *svc, const struct auth_conn *conn, const char *user,
           const char *password, struct auth_result *r)
{
	struct auth_policy *pol = auth_policy_get(svc);

	memset(r, 0, sizeof(*r));
	auth_check_plain(svc, pol, conn, NULL, user, password, r);
	auth_policy_unref(&pol);
}

void
auth_admin_login(struct auth_service *svc, const struct auth_conn *conn, const char *user,
                 const char *password, struct auth_result *r)
{
	struct auth_policy *pol = auth_policy_get(svc);
	/* Administrators are refused IMAP only once their credentials are
	   proven (auth_authorize), so that refusal is the proof we want. */
	struct auth_conn c = *conn;

	c.proto = AUTH_PROTO_IMAP;
	memset(r, 0, sizeof(*r));
	auth_check_plain(svc, pol, &c, NULL, user, password, r);
	/* A master user acting for an administrator does not become one: the
	   name must be the administrator's own address. */
	bool own = auth_address_is_valid(user) &&
	           (pol->separator[0] == '\0' || strstr(user, pol->separator) == NULL);
	if (own && r->status == AUTH_DISABLED && r->denial == AUTH_DENIAL_ADMIN) {
		r->status = AUTH_OK;
		r->reason = NULL;
		r->denial = AUTH_DENIAL_NONE;
		snprintf(r->id.address, sizeof(r->id.address), "%s", r->user);
		for (char *p = r->id.address; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		r->id.is_admin = true;
	} else if (r->status == AUTH_OK || r->status == AUTH_DISABLED) {
		memset(&r->id, 0, sizeof(r->id));
		auth_result_fail(svc, conn, r, AUTH_FAILED, "not-admin", user);
	}
	auth_policy_unref(&pol);
}

int
auth_service_credentials_make(struct auth_service *svc, const char *address, const char *password,
                              struct auth_credentials *out, const char **error_out)
{
	struct auth_policy *pol = auth_policy_get(svc);
	char *lower = xstrdup(address), *prepped = auth_saslprep(password, true);
	int rc = -1;

	for (char *p = lower; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (prepped == NULL || prepped[0] == '\0') {
		*error_out =
		        "the password is empty or has characters SASLprep (RFC 4013) prohibits";
	} else {
		struct auth_cred_options o = {
		        .scram_iterations = pol->scram_iterations,
		        .cram_md5 = pol->mech_enabled[AUTH_MECH_CRAM_MD5],
		        .digest_md5 = pol->mech_enabled[AUTH_MECH_DIGEST_MD5],
		        .apop = pol->s.apop,
		        .digest_realm = pol->realm,
		        .address = lower,
		};
		rc = auth_credentials_make(prepped, &o, out);
		if (rc < 0)
			*error_out = "cannot hash the password";
	}
	if (prepped != NULL) {
		explicit_bzero(prepped, strlen(prepped));
		free(prepped);
	}
	free(lower);
	auth_policy_unref(&pol);
	return rc;
}

struct auth_db *
auth_service_db(struct auth_service *svc)
{
	return auth_thread_db(svc);
}

/* ---- change feed ---- */

static int
change_cmp(const void *a, const void *b)
{
	const struct auth_change *x = a, *y = b;

	return x->account_id < y->account_id ? -1 : x->account_id > y->account_id;
}

struct auth_changes *
auth_changes_poll(struct auth_service *svc)
{
	struct auth_db *db = auth_thread_db(svc);
	enum auth_error err;

	if (db == NULL)
		return NULL;
	if (!svc->changes_started) {
		if (auth_changes_head(db, &svc->changes_seq, &err) == 0)
			svc->changes_started = true;
		return NULL;
	}
	struct auth_change *v = NULL;
	size_t n = 0;
	if (auth_changes_read(db, &svc->changes_seq, &v, &n, &err) < 0 || n == 0) {
		free(v);
		return NULL;
	}
	qsort(v, n, sizeof(*v), change_cmp);
	struct auth_changes *c = xcalloc(1, sizeof(*c));
	atomic_init(&c->refs, 1);
	c->v = v;
	c->n = n;
	log_info("auth", "event=access-changed accounts=%zu", n);
	return c;
}

void
auth_changes_ref(struct auth_changes *c)
{
	atomic_fetch_add(&c->refs, 1);
}

void
auth_changes_unref(struct auth_changes **cp)
{
	struct auth_changes *c = *cp;

	if (c == NULL)
		return;
	*cp = NULL;
	if (atomic_fetch_sub(&c->refs, 1) == 1) {
		free(c->v);
		free(c);
	}
}

size_t
auth_changes_count(const struct auth_changes *c)
{
	return c->n;
}

bool
auth_changes_revokes(const struct auth_changes *c, const struct auth_identity *id,
                     enum auth_protocol proto)
{
	struct auth_change key = {.account_id = id->account_id};
	const struct auth_change *ch = bsearch(&key, c->v, c->n, sizeof(*c->v), change_cmp);

	if (ch == NULL)
		return false;
	return !ch->exists || access_denied(ch->is_admin, ch->enabled, proto) != AUTH_DENIAL_NONE;
}

int
auth_account_id_lookup(struct auth_service *svc, const char *address, uint64_t *id_out)
{
	struct auth_db *db = auth_thread_db(svc);
	struct auth_account acct;
	enum auth_error err;
	int rc = -1;

	if (db == NULL || auth_account_lookup(db, address, &acct, &err) < 0)
		return -1;
	if (acct.enabled[AUTH_PROTO_IMAP] && strcmp(acct.role, "admin") != 0) {
		*id_out = acct.id;
		rc = 0;
	}
	auth_account_clear(&acct);
	return rc;
}

int
auth_account_address_lookup(struct auth_service *svc, uint64_t id, char *out, size_t size)
{
	struct auth_db *db = auth_thread_db(svc);
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (db == NULL)
		return -1;
	sqlite3 *h = auth_db_sqlite(db);
	if (sqlite3_prepare_v2(h, "SELECT address FROM accounts WHERE id = ?1", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
		if (sqlite3_step(st) == SQLITE_ROW &&
		    (size_t)snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0)) <
		            size)
			rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

int
auth_account_groups(struct auth_service *svc, const char *address, char ***groups_out,
                    size_t *n_out)
{
	struct auth_db *db = auth_thread_db(svc);
	enum auth_error err;

	if (db == NULL)
		return -1;
	return auth_groups_of(db, address, groups_out, n_out, &err);
}
