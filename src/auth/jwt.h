/* SPDX-License-Identifier: MIT */
/*
 * jwt.h: JSON Web Tokens (RFC 7519) in JWS compact form (RFC 7515) as the
 * bearer tokens of OAUTHBEARER and XOAUTH2. Accepts HS256, RS256 and ES256
 * (RFC 7518 section 3) with keys from the config, never "none" and never an
 * algorithm the key was not made for. Checks issuer, audience, expiry and
 * not-before, then names the account by a configured claim.
 *
 * auth_jwt_parse() is pure (fuzzed); auth_jwt_verify() adds OpenSSL crypto
 * and the clock. Neither touches a socket or the database.
 */
#ifndef TERN_AUTH_JWT_H
#define TERN_AUTH_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "auth/sasl_parse.h"

struct arena;
struct auth_jwt_keys;

struct auth_jwt {
	const char *alg; /* header "alg" */
	const char *kid; /* header "kid" or NULL */
	struct sasl_json_object claims;
	const char *signing_input; /* "header.payload" */
	size_t signing_input_len;
	const unsigned char *sig;
	size_t sig_len;
};

/* Splits and decodes a compact JWS. 0, or -1 with a static *error_out. */
int auth_jwt_parse(struct arena *a, const char *token, struct auth_jwt *out,
                   const char **error_out);

/* Loads the HS256 secret (raw bytes of a file; a final newline is dropped)
   and the PEM public keys (RSA for RS256, P-256 for ES256; several may follow
   one another in the file). Either path may be "". NULL with a heap
   *error_out. */
struct auth_jwt_keys *auth_jwt_keys_load(const char *hmac_secret_file, const char *public_keys_file,
                                         char **error_out);
void auth_jwt_keys_free(struct auth_jwt_keys **kp);
/* True when at least one key is loaded. */
int auth_jwt_keys_count(const struct auth_jwt_keys *k);

struct auth_jwt_policy {
	const char *issuer;   /* required "iss"; "" = not checked */
	const char *audience; /* must be in "aud"; "" = not checked */
	const char *claim;    /* names the account: "email", "sub", ... */
	int64_t leeway_s;     /* clock skew allowed on exp and nbf */
};

/*
 * Verifies the signature with every key that fits the token's alg, then the
 * claims at time now (unix seconds). Returns 0 with the account name (from
 * a) in *account_out, or -1 with a static *error_out for the log.
 */
int auth_jwt_verify(struct arena *a, const char *token, const struct auth_jwt_keys *keys,
                    const struct auth_jwt_policy *policy, int64_t now, const char **account_out,
                    const char **error_out);

#endif
