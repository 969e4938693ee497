/* SPDX-License-Identifier: MIT */
/*
 * sasl.c: SASL exchanges (RFC 4422), one struct auth_sasl per AUTHENTICATE.
 *
 * GNU SASL runs PLAIN, LOGIN (both through auth_check_plain()), DIGEST-MD5
 * (with the stored H(A1)), EXTERNAL, ANONYMOUS, and the Kerberos mechanisms
 * GSSAPI (RFC 4752) and GS2-KRB5 (RFC 5801) on the GSS-API library; its
 * callback lands in sasl_gsasl_callback(). For the Kerberos two, GNU SASL
 * accepts the security context with the key of SERVICE@HOSTNAME
 * (auth.gssapi_service_*, auth.gssapi_hostname) from the keytab and hands
 * us the authenticated principal, which gssapi_map.c turns into an
 * account. They offer no security layer (RFC 4752 sections 3.2 and 3.3:
 * the client must choose "none"; the protocols run over TLS) and no
 * channel binding (GS2-KRB5-PLUS is not offered). Their GNU SASL session
 * starts at the first step, on the job thread (GS2's start reads the
 * keytab), after the first token was checked to be a Kerberos AP-REQ.
 * Implemented here:
 *
 *   SCRAM-SHA-1/-256[-PLUS] (RFC 5802, RFC 7677), from the stored StoredKey
 *     and ServerKey; channel bindings tls-exporter (RFC 9266, TLS 1.3) and
 *     tls-server-end-point (RFC 5929), which GNU SASL 2.2 lacks. States:
 *     0 --client-first--> 1 (server-first sent) --client-final--> done
 *     (server-final "v=" returned as final data).
 *   CRAM-MD5 (RFC 2195) from the stored HMAC-MD5 midstates: 0 (challenge
 *     sent) --"user digest"--> done.
 *   OAUTHBEARER (RFC 7628) and XOAUTH2 with a JWT: 0 --token--> done, or on
 *     a bad token --> 1 (error JSON sent as a challenge) --dummy--> failed.
 *
 * An unknown user is never revealed by an early failure: SCRAM answers with a
 * decoy salt derived from the name with the data directory's decoy.key (the
 * same name gets the same salt, before and after a restart), CRAM-MD5
 * computes a digest anyway.
 */
#include <gsasl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "auth/auth_internal.h"
#include "auth/password.h"
#include "auth/sasl_parse.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"

struct auth_sasl {
	struct auth_service *svc;
	struct auth_policy *pol;
	struct auth_conn conn;
	enum auth_mech mech;
	int step;
	struct arena *arena; /* the exchange's strings */
	Gsasl_session *gs;
	struct auth_result *r; /* where the gsasl callback writes, during a step */
	bool decided;          /* the callback already settled r */
	/* SCRAM, CRAM-MD5 */
	char *login, *target; /* heap */
	bool has_account;
	struct auth_account acct;
	struct auth_scram_keys keys;
	bool decoy;
	const char *gs2_header, *client_first_bare, *server_first, *nonce, *challenge;
	const unsigned char *cb_data;
	size_t cb_len;
	/* OAUTHBEARER, XOAUTH2: the failure decided at the token, answered
	   after the client acknowledged the error challenge. */
	struct auth_result pending;
};

static bool
is_kerberos(enum auth_mech m)
{
	return m == AUTH_MECH_GSSAPI || m == AUTH_MECH_GS2_KRB5;
}

static bool
uses_gsasl(enum auth_mech m)
{
	return m == AUTH_MECH_PLAIN || m == AUTH_MECH_LOGIN || m == AUTH_MECH_DIGEST_MD5 ||
	       m == AUTH_MECH_EXTERNAL || m == AUTH_MECH_ANONYMOUS || is_kerberos(m);
}

/* The exchange whose GNU SASL session this thread is starting: GS2 asks
   for SERVICE and HOSTNAME inside gsasl_server_start(), before the session
   has our hook. */
static _Thread_local struct auth_sasl *sasl_starting;

void
sasl_kerberos_warm_up(struct auth_service *svc)
{
	struct auth_sasl s = {.svc = svc, .mech = AUTH_MECH_GS2_KRB5};
	Gsasl_session *gs;

	s.pol = auth_policy_get(svc);
	if (s.pol->gssapi_ready &&
	    (s.pol->mech_enabled[AUTH_MECH_GSSAPI] || s.pol->mech_enabled[AUTH_MECH_GS2_KRB5])) {
		sasl_starting = &s;
		int rc = gsasl_server_start(auth_gsasl(svc), "GS2-KRB5", &gs);
		sasl_starting = NULL;
		if (rc == GSASL_OK)
			gsasl_finish(gs);
		else
			log_warn("auth", "event=gssapi-unavailable err=\"%s\"", gsasl_strerror(rc));
	}
	auth_policy_unref(&s.pol);
}

static int
gsasl_start(struct auth_sasl *s)
{
	sasl_starting = s;
	int rc = gsasl_server_start(auth_gsasl(s->svc), auth_mech_name(s->mech), &s->gs);
	sasl_starting = NULL;
	if (rc != GSASL_OK) {
		s->gs = NULL;
		return rc;
	}
	gsasl_session_hook_set(s->gs, s);
	if (is_kerberos(s->mech)) {
		gsasl_property_set(s->gs, GSASL_SERVICE, s->pol->gssapi_service[s->conn.proto]);
		gsasl_property_set(s->gs, GSASL_HOSTNAME, s->pol->gssapi_hostname);
	} else {
		gsasl_property_set(s->gs, GSASL_SERVICE, auth_protocol_name(s->conn.proto));
		gsasl_property_set(s->gs, GSASL_HOSTNAME, s->pol->hostname);
	}
	gsasl_property_set(s->gs, GSASL_REALM, s->pol->realm);
	/* No security layer: IMAP, POP3 and SMTP run over TLS instead. */
	gsasl_property_set(s->gs, GSASL_QOPS, "qop-auth");
	return GSASL_OK;
}

struct auth_sasl *
auth_sasl_new(struct auth_service *svc, const struct auth_conn *conn, const char *mech)
{
	int m = auth_mech_parse(mech);
	struct auth_policy *pol = auth_policy_get(svc);

	if (m < 0 || !auth_mech_offered(pol, conn, (enum auth_mech)m) ||
	    !auth_plaintext_allowed(&pol->s, conn->is_tls, conn->is_loopback)) {
		auth_policy_unref(&pol);
		return NULL;
	}
	struct auth_sasl *s = xcalloc(1, sizeof(*s));
	s->svc = svc;
	s->pol = pol;
	s->conn = *conn;
	s->mech = (enum auth_mech)m;
	s->arena = arena_new(2048);
	if (uses_gsasl(s->mech) && !is_kerberos(s->mech) && gsasl_start(s) != GSASL_OK)
		auth_sasl_free(&s);
	return s;
}

const char *
auth_sasl_mech(const struct auth_sasl *s)
{
	return auth_mech_name(s->mech);
}

void
auth_sasl_free(struct auth_sasl **sp)
{
	struct auth_sasl *s = *sp;

	if (s == NULL)
		return;
	*sp = NULL;
	if (s->gs != NULL)
		gsasl_finish(s->gs);
	if (s->has_account)
		auth_account_clear(&s->acct);
	free(s->login);
	free(s->target);
	auth_result_clear(&s->pending);
	explicit_bzero(&s->keys, sizeof(s->keys));
	auth_policy_unref(&s->pol);
	arena_free(&s->arena);
	free(s);
}

static void
set_user(struct auth_result *r, const char *user)
{
	snprintf(r->user, sizeof(r->user), "%s", user != NULL ? user : "");
}

static char *
b64_heap(const void *data, size_t len)
{
	char *out = xmalloc((len + 2) / 3 * 4 + 1);

	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* Looks login up into s->acct. 0 found, 1 unknown, -1 database trouble. */
static int
load_account(struct auth_sasl *s, const char *login)
{
	struct auth_db *db = auth_thread_db(s->svc);
	enum auth_error err;

	if (db == NULL)
		return -1;
	if (auth_account_lookup(db, login, &s->acct, &err) < 0)
		return err == AUTH_ERR_NOTFOUND ? 1 : -1;
	s->has_account = true;
	return 0;
}

static void
temp_failure(struct auth_result *r)
{
	r->status = AUTH_TEMP;
	r->reason = "temporary";
}

/* ---- GNU SASL mechanisms ---- */

/* EXTERNAL and ANONYMOUS: the identity comes from outside the exchange. */
static int
validate_identity(struct auth_sasl *s, const char *name, const char *authzid)
{
	struct auth_result *r = s->r;

	s->decided = true;
	set_user(r, name);
	char *login = auth_name_prep(name);
	if (login == NULL) {
		auth_result_fail(s->svc, &s->conn, r, AUTH_FAILED, "bad-name", NULL);
		return GSASL_AUTHENTICATION_ERROR;
	}
	char *z = authzid != NULL && authzid[0] != '\0' ? auth_name_prep(authzid) : NULL;
	int rc = load_account(s, login);
	if (authzid != NULL && authzid[0] != '\0' && (z == NULL || strcmp(z, login) != 0)) {
		r->status = AUTH_AUTHZ;
		r->reason = "authzid-mismatch";
	} else if (rc < 0) {
		temp_failure(r);
	} else if (rc > 0) {
		auth_result_fail(s->svc, &s->conn, r, AUTH_FAILED, "unknown-user", login);
	} else if (auth_authorize(s->svc, s->pol, &s->conn, &s->acct, "", r) == AUTH_OK) {
		auth_result_succeed(s->svc, r);
	}
	free(login);
	free(z);
	return r->status == AUTH_OK ? GSASL_OK : GSASL_AUTHENTICATION_ERROR;
}

/* DIGEST-MD5 asks for H(A1) of the user it parsed. */
static int
digest_hashed_password(struct auth_sasl *s, Gsasl_session *gs)
{
	const char *authid = gsasl_property_fast(gs, GSASL_AUTHID);
	const char *authzid = gsasl_property_fast(gs, GSASL_AUTHZID);
	unsigned char rnd[16];
	char hex[33];

	set_user(s->r, authid);
	if (authid == NULL || auth_split_login(s->pol, authzid, authid, &s->login, &s->target) < 0)
		return GSASL_NO_CALLBACK;
	if (auth_check_blocked(s->svc, &s->conn, s->login, s->r)) {
		s->decided = true;
		return GSASL_NO_CALLBACK;
	}
	int rc = load_account(s, s->login);
	if (rc < 0) {
		s->decided = true;
		temp_failure(s->r);
		return GSASL_NO_CALLBACK;
	}
	if (rc == 0 && s->acct.cred.digest_md5[0] != '\0') {
		gsasl_property_set(gs, GSASL_DIGEST_MD5_HASHED_PASSWORD, s->acct.cred.digest_md5);
		return GSASL_OK;
	}
	/* Unknown user or no key: a random H(A1) fails like a wrong password. */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		abort();
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	gsasl_property_set(gs, GSASL_DIGEST_MD5_HASHED_PASSWORD, hex);
	return GSASL_OK;
}

/*
 * GSSAPI and GS2-KRB5: the GSS-API library authenticated the principal
 * (GSSAPI_DISPLAY_NAME); the client may ask to act as AUTHZID (RFC 4752
 * section 3.1, RFC 5801 section 4's gs2-authzid), which only a master user
 * may. The principal maps to an account or fails as a wrong password does.
 */
static int
validate_gssapi(struct auth_sasl *s, Gsasl_session *gs)
{
	const char *principal = gsasl_property_fast(gs, GSASL_GSSAPI_DISPLAY_NAME);
	const char *authzid = gsasl_property_fast(gs, GSASL_AUTHZID);
	struct auth_result *r = s->r;

	s->decided = true;
	set_user(r, principal);
	char *address =
	        principal != NULL ? auth_gssapi_map_principal(s->pol->gssapi_map, principal) : NULL;
	if (address == NULL || (s->login = auth_name_prep(address)) == NULL) {
		log_info("auth", "event=gssapi-unmapped ip=%s principal=%s", s->conn.ip,
		         principal != NULL ? log_str(s->arena, principal, strlen(principal)) : "-");
		free(address);
		auth_result_fail(s->svc, &s->conn, r, AUTH_FAILED, "unmapped-principal", NULL);
		return GSASL_AUTHENTICATION_ERROR;
	}
	free(address);
	set_user(r, s->login);
	if (authzid != NULL && authzid[0] != '\0') {
		s->target = auth_name_prep(authzid);
		if (s->target == NULL) {
			auth_result_fail(s->svc, &s->conn, r, AUTH_FAILED, "bad-name", s->login);
			return GSASL_AUTHENTICATION_ERROR;
		}
		/* Naming oneself, by address or by principal, is no switch. */
		if (strcmp(s->target, s->login) == 0 || strcmp(authzid, principal) == 0)
			s->target[0] = '\0';
	} else {
		s->target = xstrdup("");
	}
	if (auth_check_blocked(s->svc, &s->conn, s->login, r))
		return GSASL_AUTHENTICATION_ERROR;
	int rc = load_account(s, s->login);
	if (rc < 0)
		temp_failure(r);
	else if (rc > 0)
		auth_result_fail(s->svc, &s->conn, r, AUTH_FAILED, "unknown-user", s->login);
	else if (auth_authorize(s->svc, s->pol, &s->conn, &s->acct, s->target, r) == AUTH_OK)
		auth_result_succeed(s->svc, r);
	return r->status == AUTH_OK ? GSASL_OK : GSASL_AUTHENTICATION_ERROR;
}

int
sasl_gsasl_callback(Gsasl *ctx, Gsasl_session *gs, Gsasl_property prop)
{
	struct auth_sasl *s = gsasl_session_hook_get(gs);

	if (s == NULL)
		s = sasl_starting;
	if (s != NULL && is_kerberos(s->mech) && prop == GSASL_SERVICE)
		return gsasl_property_set(gs, prop, s->pol->gssapi_service[s->conn.proto]);
	if (s != NULL && is_kerberos(s->mech) && prop == GSASL_HOSTNAME)
		return gsasl_property_set(gs, prop, s->pol->gssapi_hostname);
	if (s == NULL || s->r == NULL)
		return GSASL_NO_CALLBACK;
	switch (prop) {
	case GSASL_VALIDATE_GSSAPI:
		return validate_gssapi(s, gs);
	case GSASL_VALIDATE_SIMPLE: {
		const char *authid = gsasl_property_fast(gs, GSASL_AUTHID);
		const char *authzid = gsasl_property_fast(gs, GSASL_AUTHZID);
		const char *password = gsasl_property_fast(gs, GSASL_PASSWORD);
		if (authid == NULL || password == NULL)
			return GSASL_NO_CALLBACK;
		s->decided = true;
		auth_check_plain(s->svc, s->pol, &s->conn, authzid, authid, password, s->r);
		return s->r->status == AUTH_OK ? GSASL_OK : GSASL_AUTHENTICATION_ERROR;
	}
	case GSASL_DIGEST_MD5_HASHED_PASSWORD:
		return digest_hashed_password(s, gs);
	case GSASL_VALIDATE_EXTERNAL:
		if (s->conn.cert_identity[0] == '\0')
			return GSASL_AUTHENTICATION_ERROR;
		return validate_identity(s, s->conn.cert_identity,
		                         gsasl_property_fast(gs, GSASL_AUTHZID));
	case GSASL_VALIDATE_ANONYMOUS: {
		const char *token = gsasl_property_fast(gs, GSASL_ANONYMOUS_TOKEN);
		struct arena *a = s->arena;
		log_info("auth", "event=anonymous-login ip=%s trace=%s", s->conn.ip,
		         token != NULL ? log_str(a, token, strlen(token)) : "-");
		return validate_identity(s, s->pol->anonymous, NULL);
	}
	default:
		return GSASL_NO_CALLBACK;
	}
}

/* Our side of Kerberos failed (no key for the service principal, an
   unreadable keytab): the client is not to blame, the administrator must
   hear of it. */
static void
kerberos_trouble(struct auth_sasl *s, int rc, struct auth_result *r)
{
	log_error("auth", "event=gssapi-unavailable service=%s@%s err=\"%s\"",
	          s->pol->gssapi_service[s->conn.proto], s->pol->gssapi_hostname,
	          gsasl_strerror(rc));
	temp_failure(r);
}

/*
 * gsasl_step64() on our base64: GNU SASL 2.2's own keeps the mechanism's
 * output when a step fails (GS2 sends its AP-REP with the callback's
 * refusal), so the bytes are stepped here and every output freed. *out_b64
 * (heap) is set on OK and NEEDS_MORE only. The decoded input (a PLAIN
 * password) is wiped after the step.
 */
static int
step_b64(struct auth_sasl *s, const char *in_b64, char **out_b64)
{
	size_t inlen = 0, outlen = 0;
	char *out = NULL;
	unsigned char *in = NULL;

	*out_b64 = NULL;
	if (in_b64[0] != '\0' &&
	    (in = sasl_base64_decode(s->arena, in_b64, strlen(in_b64), false, &inlen)) == NULL)
		return GSASL_BASE64_ERROR;
	int rc = gsasl_step(s->gs, in != NULL ? (const char *)in : "", inlen, &out, &outlen);
	if (in != NULL)
		explicit_bzero(in, inlen);
	if (rc == GSASL_OK || rc == GSASL_NEEDS_MORE)
		*out_b64 = b64_heap(out != NULL ? out : "", outlen);
	if (out != NULL) {
		explicit_bzero(out, outlen);
		gsasl_free(out);
	}
	return rc;
}

/*
 * The client's first Kerberos token must be an AP-REQ (sasl_parse.h),
 * after a GS2 header without channel binding for GS2-KRB5: anything else
 * could start a context that takes more rounds, and the GSS-API library
 * under GNU SASL (libgssglue) crashes deleting a context whose later
 * round failed.
 */
static bool
kerberos_first_token_ok(struct auth_sasl *s, const char *in_b64)
{
	size_t len;
	const unsigned char *msg =
	        sasl_base64_decode(s->arena, in_b64, strlen(in_b64), false, &len);

	if (msg == NULL)
		return false;
	if (s->mech == AUTH_MECH_GSSAPI)
		return sasl_krb5_is_ap_req(msg, len, true);
	struct sasl_gs2_first g;
	const char *err;
	return sasl_gs2_parse_first(s->arena, msg, len, &g, &err) == 0 && !g.nonstd &&
	       g.cbflag != 'p' && sasl_krb5_is_ap_req(g.token, g.token_len, false);
}

/* After the first token the acceptor's context must be complete (RFC 4121:
   one AP-REQ, one AP-REP): GS2-KRB5 is then done or failed, GSSAPI sends
   the AP-REP or the wrapped offer. */
static bool
kerberos_context_complete(struct auth_sasl *s, const char *out_b64)
{
	size_t len;
	const unsigned char *tok;

	if (s->mech == AUTH_MECH_GS2_KRB5)
		return false;
	tok = sasl_base64_decode(s->arena, out_b64, strlen(out_b64), false, &len);
	return tok != NULL && sasl_krb5_completes(tok, len);
}

static void
lib_step(struct auth_sasl *s, const char *in_b64, struct auth_result *r)
{
	char *out = NULL;
	bool kerberos_first = false;

	if (is_kerberos(s->mech) && s->step == 0 && in_b64 != NULL && in_b64[0] != '\0') {
		if (!kerberos_first_token_ok(s, in_b64)) {
			auth_result_fail(s->svc, &s->conn, r, AUTH_MALFORMED, "malformed", NULL);
			return;
		}
		s->step = 1;
		kerberos_first = true;
	}
	if (s->gs == NULL) {
		int rc = gsasl_start(s);
		if (rc != GSASL_OK) {
			kerberos_trouble(s, rc, r);
			return;
		}
	}

	s->r = r;
	s->decided = false;
	if (s->mech == AUTH_MECH_LOGIN && s->step++ == 0 && in_b64 != NULL && in_b64[0] != '\0') {
		/* An initial response to LOGIN is the user name (RFC 4954
		   section 4 allows one; smtplib and Outlook send it), but GNU
		   SASL asks for the name first whatever came: let it ask, then
		   give it the name. */
		int rc0 = step_b64(s, "", &out);
		free(out);
		out = NULL;
		if (rc0 != GSASL_NEEDS_MORE) {
			s->r = NULL;
			auth_result_fail(s->svc, &s->conn, r, AUTH_MALFORMED, "malformed", NULL);
			return;
		}
	}
	int rc = step_b64(s, in_b64 != NULL ? in_b64 : "", &out);
	s->r = NULL;
	if (rc == GSASL_NEEDS_MORE && kerberos_first &&
	    !kerberos_context_complete(s, out != NULL ? out : "")) {
		log_info("auth", "event=gssapi-rejected ip=%s err=context-not-complete",
		         s->conn.ip);
		auth_result_fail(s->svc, &s->conn, r, AUTH_MALFORMED, "malformed", NULL);
	} else if (rc == GSASL_NEEDS_MORE) {
		r->status = AUTH_CONTINUE;
		r->out_b64 = xstrdup(out != NULL ? out : "");
	} else if (rc == GSASL_OK && s->mech == AUTH_MECH_DIGEST_MD5 && s->has_account &&
	           !s->decided) {
		/* GNU SASL verified the response against H(A1); now the
		   authorization (master users, switches). */
		if (auth_authorize(s->svc, s->pol, &s->conn, &s->acct, s->target, r) == AUTH_OK)
			auth_result_succeed(s->svc, r);
	} else if (rc == GSASL_OK && s->decided && r->status == AUTH_OK) {
		/* settled by the callback */
	} else if (s->decided && r->status != AUTH_OK && r->status != AUTH_CONTINUE) {
		/* settled by the callback */
	} else if (rc == GSASL_AUTHENTICATION_ERROR || rc == GSASL_NO_PASSWORD ||
	           rc == GSASL_NO_CALLBACK) {
		auth_result_fail(s->svc, &s->conn, r, AUTH_FAILED, "bad-credentials", s->login);
	} else if (is_kerberos(s->mech) && rc == GSASL_GSSAPI_ACQUIRE_CRED_ERROR) {
		kerberos_trouble(s, rc, r);
	} else if (is_kerberos(s->mech) && (rc == GSASL_GSSAPI_ACCEPT_SEC_CONTEXT_ERROR ||
	                                    rc == GSASL_GSSAPI_UNWRAP_ERROR ||
	                                    rc == GSASL_GSSAPI_UNSUPPORTED_PROTECTION_ERROR)) {
		/* A ticket the keytab cannot open (another service or realm,
		   expired, replayed) or a bad final message: the client could
		   not prove who it is. */
		log_info("auth", "event=gssapi-rejected ip=%s err=%s", s->conn.ip,
		         gsasl_strerror_name(rc));
		auth_result_fail(s->svc, &s->conn, r, AUTH_FAILED, "bad-credentials", NULL);
	} else {
		auth_result_fail(s->svc, &s->conn, r, AUTH_MALFORMED, "malformed", s->login);
	}
	if (r->status == AUTH_OK && out != NULL && out[0] != '\0')
		r->out_b64 = xstrdup(out);
	if (out != NULL) {
		explicit_bzero(out, strlen(out));
		free(out);
	}
}

/* ---- SCRAM ---- */

static bool
is_scram(enum auth_mech m)
{
	return m == AUTH_MECH_SCRAM_SHA_1 || m == AUTH_MECH_SCRAM_SHA_1_PLUS ||
	       m == AUTH_MECH_SCRAM_SHA_256 || m == AUTH_MECH_SCRAM_SHA_256_PLUS;
}

static bool
scram_sha256(enum auth_mech m)
{
	return m == AUTH_MECH_SCRAM_SHA_256 || m == AUTH_MECH_SCRAM_SHA_256_PLUS;
}

static bool
scram_plus(enum auth_mech m)
{
	return m == AUTH_MECH_SCRAM_SHA_1_PLUS || m == AUTH_MECH_SCRAM_SHA_256_PLUS;
}

static void
scram_decoy(struct auth_sasl *s, bool sha256)
{
	unsigned char salt[32], rnd[32];
	unsigned int len = 0;

	HMAC(EVP_sha256(), auth_decoy_key(s->svc), AUTH_DECOY_KEY_LEN,
	     (const unsigned char *)s->login, strlen(s->login), salt, &len);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		abort();
	memset(&s->keys, 0, sizeof(s->keys));
	s->keys.iterations = s->pol->scram_iterations;
	memcpy(s->keys.salt, salt, 16);
	s->keys.salt_len = 16;
	s->keys.key_len = sha256 ? 32 : 20;
	memcpy(s->keys.stored_key, rnd, s->keys.key_len);
	memcpy(s->keys.server_key, rnd, s->keys.key_len);
	s->decoy = true;
}

static void
scram_first(struct auth_sasl *s, const char *msg, size_t len, struct auth_result *r)
{
	struct sasl_scram_first f;
	const char *err;
	bool sha256 = scram_sha256(s->mech);

	if (sasl_scram_parse_first(s->arena, msg, len, &f, &err) < 0) {
		auth_result_fail(s->svc, &s->conn, r, AUTH_MALFORMED, "malformed", NULL);
		return;
	}
	set_user(r, f.user);
	if (scram_plus(s->mech)) {
		/* RFC 5802 section 6: -PLUS requires channel binding. */
		if (f.cbflag != 'p') {
			auth_result_fail(s->svc, &s->conn, r, AUTH_MALFORMED, "no-channel-binding",
			                 NULL);
			return;
		}
		if (strcmp(f.cbname, "tls-exporter") == 0 && s->conn.has_cb_exporter) {
			s->cb_data = s->conn.cb_exporter;
			s->cb_len = sizeof(s->conn.cb_exporter);
		} else if (strcmp(f.cbname, "tls-server-end-point") == 0 &&
		           s->conn.cb_endpoint_len > 0) {
			s->cb_data = s->conn.cb_endpoint;
			s->cb_len = s->conn.cb_endpoint_len;
		} else {
			auth_result_fail(s->svc, &s->conn, r, AUTH_FAILED,
			                 "unsupported-channel-binding-type", NULL);
			return;
		}
	} else if (f.cbflag == 'p') {
		auth_result_fail(s->svc, &s->conn, r, AUTH_MALFORMED, "channel-binding-not-plus",
		                 NULL);
		return;
	} else if (f.cbflag == 'y' && auth_mech_offered(s->pol, &s->conn,
	                                                sha256 ? AUTH_MECH_SCRAM_SHA_256_PLUS
	                                                       : AUTH_MECH_SCRAM_SHA_1_PLUS)) {
		/* The client could bind but thought we could not, though we
		   offered -PLUS: someone removed it from our list (downgrade). */
		auth_result_fail(s->svc, &s->conn, r, AUTH_FAILED, "channel-binding-downgrade",
		                 NULL);
		return;
	}
	if (auth_split_login(s->pol, f.authzid, f.user, &s->login, &s->target) < 0) {
		auth_result_fail(s->svc, &s->conn, r, AUTH_FAILED, "bad-name", NULL);
		return;
	}
	if (auth_check_blocked(s->svc, &s->conn, s->login, r))
		return;
	int rc = load_account(s, s->login);
	if (rc < 0) {
		temp_failure(r);
		return;
	}
	const char *stored =
	        rc == 0 ? (sha256 ? s->acct.cred.scram_sha256 : s->acct.cred.scram_sha1) : "";
	if (stored[0] == '\0' || auth_scram_keys_parse(stored, sha256, &s->keys) < 0)
		scram_decoy(s, sha256);
	unsigned char rnd[18];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		abort();
	s->gs2_header = f.gs2_header;
	s->client_first_bare = f.bare;
	s->nonce = arena_printf(s->arena, "%s%s", f.nonce, sasl_base64_encode(s->arena, rnd, 18));
	s->server_first = arena_printf(s->arena, "r=%s,s=%s,i=%u", s->nonce,
	                               sasl_base64_encode(s->arena, s->keys.salt, s->keys.salt_len),
	                               s->keys.iterations);
	r->status = AUTH_CONTINUE;
	r->out_b64 = b64_heap(s->server_first, strlen(s->server_first));
	s->step = 1;
}

static void
scram_final(struct auth_sasl *s, const char *msg, size_t len, struct auth_result *r)
{
	struct sasl_scram_final f;
	const char *err;
	const EVP_MD *md = scram_sha256(s->mech) ? EVP_sha256() : EVP_sha1();
	size_t klen = s->keys.key_len;

	set_user(r, s->login);
	if (sasl_scram_parse_final(s->arena, msg, len, &f, &err) < 0 ||
	    strcmp(f.nonce, s->nonce) != 0 || f.proof_len != klen) {
		auth_result_fail(s->svc, &s->conn, r, AUTH_MALFORMED, "malformed", s->login);
		return;
	}
	/* c= is the gs2-header, followed for "p" by the channel binding data
	   (RFC 5802 section 7, cbind-input). */
	size_t hlen = strlen(s->gs2_header);
	if (f.cbind_len != hlen + s->cb_len || memcmp(f.cbind, s->gs2_header, hlen) != 0 ||
	    CRYPTO_memcmp(f.cbind + hlen, s->cb_data, s->cb_len) != 0) {
		auth_result_fail(s->svc, &s->conn, r, AUTH_FAILED, "channel-binding-mismatch",
		                 s->login);
		return;
	}
	const char *auth_message = arena_printf(s->arena, "%s,%s,%s", s->client_first_bare,
	                                        s->server_first, f.without_proof);
	unsigned char sig[32], client_key[32], stored[32];
	unsigned int n = 0;
	HMAC(md, s->keys.stored_key, (int)klen, (const unsigned char *)auth_message,
	     strlen(auth_message), sig, &n);
	for (size_t i = 0; i < klen; i++)
		client_key[i] = f.proof[i] ^ sig[i];
	EVP_Digest(client_key, klen, stored, &n, md, NULL);
	bool ok = CRYPTO_memcmp(stored, s->keys.stored_key, klen) == 0 && !s->decoy;
	explicit_bzero(client_key, sizeof(client_key));
	if (!ok) {
		auth_result_fail(s->svc, &s->conn, r, AUTH_FAILED,
		                 s->has_account ? "bad-credentials" : "unknown-user", s->login);
		return;
	}
	if (auth_authorize(s->svc, s->pol, &s->conn, &s->acct, s->target, r) != AUTH_OK)
		return;
	HMAC(md, s->keys.server_key, (int)klen, (const unsigned char *)auth_message,
	     strlen(auth_message), sig, &n);
	const char *final = arena_printf(s->arena, "v=%s", sasl_base64_encode(s->arena, sig, klen));
	r->out_b64 = b64_heap(final, strlen(final));
	auth_result_succeed(s->svc, r);
	s->step = 2;
}

/* ---- CRAM-MD5 ---- */

static void
cram_start(struct auth_sasl *s, struct auth_result *r)
{
	unsigned char rnd[12];

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		abort();
	/* RFC 2195: a unique msg-id-like string. */
	s->challenge = arena_printf(s->arena, "<%s.%lld@%s>",
	                            sasl_base64_encode(s->arena, rnd, sizeof(rnd)),
	                            (long long)time(NULL), s->pol->hostname);
	r->status = AUTH_CONTINUE;
	r->out_b64 = b64_heap(s->challenge, strlen(s->challenge));
	s->step = 1;
}

static void
cram_response(struct auth_sasl *s, const char *msg, size_t len, struct auth_result *r)
{
	/* response = user SP 32 lowercase hex digits */
	const char *sp = len > 33 ? msg + len - 33 : NULL;

	if (sp == NULL || *sp != ' ' || memchr(msg, '\0', len) != NULL) {
		auth_result_fail(s->svc, &s->conn, r, AUTH_MALFORMED, "malformed", NULL);
		return;
	}
	char *user = arena_strndup(s->arena, msg, (size_t)(sp - msg));
	set_user(r, user);
	if (auth_split_login(s->pol, NULL, user, &s->login, &s->target) < 0) {
		auth_result_fail(s->svc, &s->conn, r, AUTH_FAILED, "bad-name", NULL);
		return;
	}
	if (auth_check_blocked(s->svc, &s->conn, s->login, r))
		return;
	int rc = load_account(s, s->login);
	if (rc < 0) {
		temp_failure(r);
		return;
	}
	/* An unknown user or one without a key runs the same computation. */
	static const char none[] = "00000000000000000000000000000000"
	                           "00000000000000000000000000000000";
	const char *key =
	        rc == 0 && s->acct.cred.cram_md5[0] != '\0' ? s->acct.cred.cram_md5 : none;
	bool ok = auth_cram_md5_verify(key, s->challenge, strlen(s->challenge), sp + 1) &&
	          key != none;
	if (!ok) {
		auth_result_fail(s->svc, &s->conn, r, AUTH_FAILED,
		                 rc == 0 ? "bad-credentials" : "unknown-user", s->login);
		return;
	}
	if (auth_authorize(s->svc, s->pol, &s->conn, &s->acct, s->target, r) == AUTH_OK)
		auth_result_succeed(s->svc, r);
	s->step = 2;
}

/* ---- OAUTHBEARER and XOAUTH2 ---- */

static void
oauth_token(struct auth_sasl *s, const char *msg, size_t len, struct auth_result *r)
{
	struct sasl_oauth o;
	const char *err, *who = NULL;
	bool bearer = s->mech == AUTH_MECH_OAUTHBEARER;
	int prc = bearer ? sasl_oauthbearer_parse(s->arena, msg, len, &o, &err)
	                 : sasl_xoauth2_parse(s->arena, msg, len, &o, &err);

	if (prc < 0) {
		auth_result_fail(s->svc, &s->conn, r, AUTH_MALFORMED, "malformed", NULL);
		return;
	}
	set_user(r, o.authzid);
	const char *why = NULL;
	char *login = NULL, *z = NULL;
	int rc = 1;
	if (auth_check_blocked(s->svc, &s->conn, NULL, r))
		return;
	if (auth_jwt_verify(s->arena, o.token, s->pol->jwt_keys, &s->pol->jwt, (int64_t)time(NULL),
	                    &who, &err) < 0) {
		why = err;
	} else if ((login = auth_name_prep(who)) == NULL) {
		why = "bad account claim";
	} else if (o.authzid != NULL && o.authzid[0] != '\0' &&
	           ((z = auth_name_prep(o.authzid)) == NULL || strcmp(z, login) != 0)) {
		why = "user differs from the token's account";
	} else if ((rc = load_account(s, login)) != 0) {
		why = rc < 0 ? NULL : "no such account";
	}
	if (why == NULL && rc < 0) {
		temp_failure(r);
	} else if (why != NULL) {
		log_info("auth", "event=oauth-rejected ip=%s why=\"%s\"", s->conn.ip, why);
		/* RFC 7628 section 3.2.2: the error is a challenge the client
		   answers with a dummy response; then the exchange fails. */
		auth_result_fail(s->svc, &s->conn, &s->pending, AUTH_FAILED, "invalid-token",
		                 login);
		set_user(&s->pending, r->user);
		const char *json;
		if (bearer && s->pol->oauth_url[0] != '\0')
			json = arena_printf(s->arena,
			                    "{\"status\":\"invalid_token\",\"schemes\":\"bearer\","
			                    "\"openid-configuration\":\"%s\"}",
			                    s->pol->oauth_url);
		else if (bearer)
			json = "{\"status\":\"invalid_token\",\"schemes\":\"bearer\"}";
		else
			json = "{\"status\":\"401\",\"schemes\":\"bearer\"}";
		r->status = AUTH_CONTINUE;
		r->out_b64 = b64_heap(json, strlen(json));
		s->step = 1;
	} else {
		set_user(r, login);
		if (auth_authorize(s->svc, s->pol, &s->conn, &s->acct, "", r) == AUTH_OK)
			auth_result_succeed(s->svc, r);
		s->step = 2;
	}
	free(login);
	free(z);
}

/* ---- dispatch ---- */

void
auth_sasl_step(struct auth_sasl *s, const char *in_b64, struct auth_result *r)
{
	size_t len = 0;
	const char *msg = NULL;

	memset(r, 0, sizeof(*r));
	if (uses_gsasl(s->mech)) {
		lib_step(s, in_b64, r);
		return;
	}
	if (in_b64 != NULL) {
		msg = (const char *)sasl_base64_decode(s->arena, in_b64, strlen(in_b64), false,
		                                       &len);
		if (msg == NULL) {
			auth_result_fail(s->svc, &s->conn, r, AUTH_MALFORMED, "bad-base64",
			                 s->login);
			return;
		}
	}
	if (is_scram(s->mech)) {
		if (s->step == 0 && msg == NULL) {
			r->status = AUTH_CONTINUE; /* RFC 4422: empty challenge, then data */
			r->out_b64 = xstrdup("");
		} else if (s->step == 0) {
			scram_first(s, msg, len, r);
		} else if (s->step == 1) {
			scram_final(s, msg, len, r);
		} else {
			auth_result_fail(s->svc, &s->conn, r, AUTH_MALFORMED, "malformed",
			                 s->login);
		}
	} else if (s->mech == AUTH_MECH_CRAM_MD5) {
		if (s->step == 0 && msg == NULL)
			cram_start(s, r);
		else if (s->step == 1)
			cram_response(s, msg, len, r);
		else /* CRAM-MD5 has no initial response (the server speaks first) */
			auth_result_fail(s->svc, &s->conn, r, AUTH_MALFORMED, "malformed", NULL);
	} else {
		if (s->step == 0 && msg == NULL) {
			r->status = AUTH_CONTINUE;
			r->out_b64 = xstrdup("");
		} else if (s->step == 0) {
			oauth_token(s, msg, len, r);
		} else if (s->step == 1) {
			/* Whatever the client acknowledged with, the answer is
			   the failure decided at the token. */
			*r = s->pending;
			memset(&s->pending, 0, sizeof(s->pending));
			s->step = 2;
		} else {
			auth_result_fail(s->svc, &s->conn, r, AUTH_MALFORMED, "malformed", NULL);
		}
	}
}
