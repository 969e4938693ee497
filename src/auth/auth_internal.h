/* SPDX-License-Identifier: MIT */
/*
 * auth_internal.h: what auth.c (service, policy, password checks) and sasl.c
 * (the mechanisms) share. Not for use outside src/auth.
 */
#ifndef TERN_AUTH_INTERNAL_H
#define TERN_AUTH_INTERNAL_H

#include <stdatomic.h>

#include <gsasl.h>

#include "auth/auth.h"
#include "auth/gssapi_map.h"
#include "auth/jwt.h"

/* An immutable snapshot of the settings; an exchange holds a reference for
   its life, so a reload never changes the rules half-way through a login. */
struct auth_policy {
	atomic_int refs;
	struct auth_settings s;
	bool mech_enabled[AUTH_MECH_COUNT];
	char **masters;
	size_t nmasters;
	char *separator, *anonymous, *realm, *hostname;
	unsigned scram_iterations;
	struct auth_jwt_keys *jwt_keys;
	struct auth_jwt_policy jwt;
	char *oauth_url;
	bool gssapi_ready; /* the keytab is readable */
	char *gssapi_hostname;
	char *gssapi_service[AUTH_PROTO_COUNT];
	struct auth_gssapi_map *gssapi_map;
};

struct auth_policy *auth_policy_get(struct auth_service *svc);
/* Whether mechanism m can work on conn under p (keys, TLS, certificate). */
bool auth_mech_offered(const struct auth_policy *p, const struct auth_conn *conn, enum auth_mech m);
/* At start, before any thread (sasl.c): starts one GS2-KRB5 exchange, so
   the GSS-API switch under GNU SASL (libgssglue) loads its mechanisms on
   one thread, not racing on the first logins. */
void sasl_kerberos_warm_up(struct auth_service *svc);
/* GNU SASL's callback (sasl.c). */
int sasl_gsasl_callback(Gsasl *ctx, Gsasl_session *gs, Gsasl_property prop);
void auth_policy_unref(struct auth_policy **pp);
struct auth_db *auth_thread_db(struct auth_service *svc);
/* The connection behind db, for the other files of src/auth (aliases.c). */
struct sqlite3;
struct sqlite3 *auth_db_sqlite(struct auth_db *db);
void *auth_gsasl(struct auth_service *svc); /* Gsasl * */
/* The key of decoy SCRAM salts for unknown users (decoy.c). */
const unsigned char *auth_decoy_key(struct auth_service *svc);
#define AUTH_DECOY_KEY_LEN 32
/* Reads data_dir/decoy.key, creating it (random, 0600) when missing, so
   decoy salts survive restarts. 0, or -1 with a heap *error_out. */
int auth_decoy_key_load(const char *data_dir, unsigned char key_out[AUTH_DECOY_KEY_LEN],
                        char **error_out);

/* SASLprep'd, lowercased login name (heap), or NULL when prohibited. */
char *auth_name_prep(const char *name);

/*
 * Splits a login into who proves it (*login_out) and whom it acts as
 * (*target_out, "" for itself): "user*master" with the master separator, or
 * a SASL authorization identity different from the authentication one.
 * Both heap. -1 (MALFORMED) when a name fails SASLprep.
 */
int auth_split_login(const struct auth_policy *pol, const char *authzid, const char *authcid,
                     char **login_out, char **target_out);

/* The PLAIN/LOGIN core: verifies password for authcid (main password, then
   app passwords), then authorizes. Fills r fully (throttling included). */
void auth_check_plain(struct auth_service *svc, const struct auth_policy *pol,
                      const struct auth_conn *conn, const char *authzid, const char *authcid,
                      const char *password, struct auth_result *r);

/*
 * After login (an account whose credentials were proven) authenticated:
 * checks that it may act as target ("" = itself) and that the account
 * reached may use conn->proto. Fills r->id on AUTH_OK. Does not throttle.
 */
enum auth_status auth_authorize(struct auth_service *svc, const struct auth_policy *pol,
                                const struct auth_conn *conn, const struct auth_account *login,
                                const char *target, struct auth_result *r);

/* Ends r as a failure: records it with the throttle (FAILED and MALFORMED
   count) and sets the delay. account may be NULL. */
void auth_result_fail(struct auth_service *svc, const struct auth_conn *conn, struct auth_result *r,
                      enum auth_status st, const char *reason, const char *account);
/* Ends r as a success (r->id set): resets the account's failure count. */
void auth_result_succeed(struct auth_service *svc, struct auth_result *r);
/* True (and r filled as AUTH_BLOCKED) when ip or account is blocked. */
bool auth_check_blocked(struct auth_service *svc, const struct auth_conn *conn, const char *account,
                        struct auth_result *r);

#endif
