/* SPDX-License-Identifier: MIT */
/*
 * jwt.c: compact JWS parsing and HS256/RS256/ES256 verification. The token is
 * hostile: it is split and decoded with the strict decoders of sasl_parse.c,
 * the algorithm must match the kind of key (an RSA public key can never be
 * used as an HMAC secret: the classic "alg confusion" attack), and the claims
 * are checked only once a signature verified.
 */
#include "auth/jwt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "lib/arena.h"
#include "lib/util.h"

#define JWT_MAX_KEYS 32

struct auth_jwt_keys {
	unsigned char *hmac;
	size_t hmac_len;
	EVP_PKEY *pub[JWT_MAX_KEYS];
	size_t npub;
};

int
auth_jwt_parse(struct arena *a, const char *token, struct auth_jwt *out, const char **error_out)
{
	size_t len = strlen(token);
	const char *dot1 = memchr(token, '.', len);
	const char *dot2 =
	        dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
	size_t hlen, plen;

	memset(out, 0, sizeof(*out));
	*error_out = "not a JWS compact token";
	if (dot1 == NULL || dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
		return -1;
	const char *hdr =
	        (const char *)sasl_base64_decode(a, token, (size_t)(dot1 - token), true, &hlen);
	const char *payload = (const char *)sasl_base64_decode(
	        a, dot1 + 1, (size_t)(dot2 - dot1 - 1), true, &plen);
	out->sig = sasl_base64_decode(a, dot2 + 1, len - (size_t)(dot2 + 1 - token), true,
	                              &out->sig_len);
	if (hdr == NULL || payload == NULL || out->sig == NULL) {
		*error_out = "bad base64url in token";
		return -1;
	}
	struct sasl_json_object header;
	if (sasl_json_parse_object(a, hdr, hlen, &header, error_out) < 0 ||
	    sasl_json_parse_object(a, payload, plen, &out->claims, error_out) < 0)
		return -1;
	const struct sasl_json_member *alg = sasl_json_get(&header, "alg");
	const struct sasl_json_member *kid = sasl_json_get(&header, "kid");
	const struct sasl_json_member *crit = sasl_json_get(&header, "crit");
	if (alg == NULL || alg->type != SASL_JSON_STRING) {
		*error_out = "token header without alg";
		return -1;
	}
	/* RFC 7515 section 4.1.11: an extension we do not understand that is
	   marked critical makes the token invalid. */
	if (crit != NULL) {
		*error_out = "token header has crit";
		return -1;
	}
	out->alg = alg->str;
	out->kid = kid != NULL && kid->type == SASL_JSON_STRING ? kid->str : NULL;
	out->signing_input = token;
	out->signing_input_len = (size_t)(dot2 - token);
	return 0;
}

static unsigned char *
read_file(const char *path, size_t max, size_t *len_out, char **error_out)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = xmalloc(max + 1);
	size_t n;

	if (f == NULL) {
		*error_out = xasprintf("%s: %s", path, strerror(errno));
		free(buf);
		return NULL;
	}
	n = fread(buf, 1, max + 1, f);
	fclose(f);
	if (n > max) {
		*error_out = xasprintf("%s: larger than %zu bytes", path, max);
		free(buf);
		return NULL;
	}
	*len_out = n;
	return buf;
}

struct auth_jwt_keys *
auth_jwt_keys_load(const char *hmac_secret_file, const char *public_keys_file, char **error_out)
{
	struct auth_jwt_keys *k = xcalloc(1, sizeof(*k));

	if (hmac_secret_file[0] != '\0') {
		k->hmac = read_file(hmac_secret_file, 4096, &k->hmac_len, error_out);
		if (k->hmac == NULL)
			goto fail;
		while (k->hmac_len > 0 &&
		       (k->hmac[k->hmac_len - 1] == '\n' || k->hmac[k->hmac_len - 1] == '\r'))
			k->hmac_len--;
		/* RFC 7518 section 3.2: the key is at least as long as the hash. */
		if (k->hmac_len < 32) {
			*error_out = xasprintf("%s: an HS256 secret needs at least 32 bytes",
			                       hmac_secret_file);
			goto fail;
		}
	}
	if (public_keys_file[0] != '\0') {
		BIO *bio = BIO_new_file(public_keys_file, "r");
		if (bio == NULL) {
			*error_out = xasprintf("%s: cannot open", public_keys_file);
			goto fail;
		}
		EVP_PKEY *pk;
		while (k->npub < JWT_MAX_KEYS &&
		       (pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) != NULL) {
			int id = EVP_PKEY_get_base_id(pk);
			if (id != EVP_PKEY_RSA &&
			    !(id == EVP_PKEY_EC && EVP_PKEY_get_bits(pk) == 256)) {
				EVP_PKEY_free(pk);
				BIO_free(bio);
				*error_out = xasprintf("%s: only RSA and P-256 keys are supported",
				                       public_keys_file);
				goto fail;
			}
			k->pub[k->npub++] = pk;
		}
		BIO_free(bio);
		if (k->npub == 0) {
			*error_out = xasprintf("%s: no PEM public key found", public_keys_file);
			goto fail;
		}
	}
	return k;
fail:
	auth_jwt_keys_free(&k);
	return NULL;
}

void
auth_jwt_keys_free(struct auth_jwt_keys **kp)
{
	struct auth_jwt_keys *k = *kp;

	if (k == NULL)
		return;
	*kp = NULL;
	if (k->hmac != NULL) {
		explicit_bzero(k->hmac, k->hmac_len);
		free(k->hmac);
	}
	for (size_t i = 0; i < k->npub; i++)
		EVP_PKEY_free(k->pub[i]);
	free(k);
}

int
auth_jwt_keys_count(const struct auth_jwt_keys *k)
{
	return k == NULL ? 0 : (int)k->npub + (k->hmac != NULL);
}

static bool
verify_hs256(const struct auth_jwt_keys *k, const struct auth_jwt *t)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	if (k->hmac == NULL || t->sig_len != 32)
		return false;
	if (HMAC(EVP_sha256(), k->hmac, (int)k->hmac_len, (const unsigned char *)t->signing_input,
	         t->signing_input_len, mac, &maclen) == NULL)
		return false;
	return maclen == 32 && CRYPTO_memcmp(mac, t->sig, 32) == 0;
}

static bool
verify_pkey(EVP_PKEY *pk, const struct auth_jwt *t, const unsigned char *sig, size_t sig_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pk) == 1 &&
	          EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)t->signing_input,
	                           t->signing_input_len) == 1;

	EVP_MD_CTX_free(ctx);
	return ok;
}

/* JWS ES256 signatures are R || S, 32 bytes each (RFC 7518 section 3.4);
   OpenSSL wants DER. */
static unsigned char *
es256_to_der(const unsigned char *sig, size_t len, size_t *der_len)
{
	if (len != 64)
		return NULL;
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
	unsigned char *der = NULL;

	if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return NULL;
	}
	int n = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	if (n <= 0)
		return NULL;
	*der_len = (size_t)n;
	return der;
}

static bool
verify_signature(const struct auth_jwt_keys *k, const struct auth_jwt *t)
{
	if (strcmp(t->alg, "HS256") == 0)
		return verify_hs256(k, t);
	int want;
	if (strcmp(t->alg, "RS256") == 0)
		want = EVP_PKEY_RSA;
	else if (strcmp(t->alg, "ES256") == 0)
		want = EVP_PKEY_EC;
	else
		return false; /* "none", HS384, PS256, ...: not accepted */
	unsigned char *der = NULL;
	size_t der_len = 0;
	if (want == EVP_PKEY_EC && (der = es256_to_der(t->sig, t->sig_len, &der_len)) == NULL)
		return false;
	bool ok = false;
	for (size_t i = 0; i < k->npub && !ok; i++) {
		if (EVP_PKEY_get_base_id(k->pub[i]) != want)
			continue;
		ok = want == EVP_PKEY_EC ? verify_pkey(k->pub[i], t, der, der_len)
		                         : verify_pkey(k->pub[i], t, t->sig, t->sig_len);
	}
	OPENSSL_free(der);
	return ok;
}

static bool
audience_matches(const struct sasl_json_member *aud, const char *want)
{
	if (aud == NULL)
		return false;
	if (aud->type == SASL_JSON_STRING)
		return strcmp(aud->str, want) == 0;
	if (aud->type == SASL_JSON_STRINGS)
		for (size_t i = 0; i < aud->nstrings; i++)
			if (strcmp(aud->strings[i], want) == 0)
				return true;
	return false;
}

int
auth_jwt_verify(struct arena *a, const char *token, const struct auth_jwt_keys *keys,
                const struct auth_jwt_policy *policy, int64_t now, const char **account_out,
                const char **error_out)
{
	struct auth_jwt t;

	if (auth_jwt_parse(a, token, &t, error_out) < 0)
		return -1;
	if (keys == NULL || !verify_signature(keys, &t)) {
		*error_out = "bad signature or unaccepted alg";
		return -1;
	}
	const struct sasl_json_member *exp = sasl_json_get(&t.claims, "exp");
	const struct sasl_json_member *nbf = sasl_json_get(&t.claims, "nbf");
	const struct sasl_json_member *iss = sasl_json_get(&t.claims, "iss");
	const struct sasl_json_member *who = sasl_json_get(&t.claims, policy->claim);
	/* A bearer token that never expires is a password that cannot be
	   changed: exp is required. */
	if (exp == NULL || exp->type != SASL_JSON_NUMBER) {
		*error_out = "token without exp";
		return -1;
	}
	if (now - policy->leeway_s > exp->num) {
		*error_out = "token expired";
		return -1;
	}
	if (nbf != NULL && (nbf->type != SASL_JSON_NUMBER || now + policy->leeway_s < nbf->num)) {
		*error_out = "token not yet valid";
		return -1;
	}
	if (policy->issuer[0] != '\0' && (iss == NULL || iss->type != SASL_JSON_STRING ||
	                                  strcmp(iss->str, policy->issuer) != 0)) {
		*error_out = "wrong issuer";
		return -1;
	}
	if (policy->audience[0] != '\0' &&
	    !audience_matches(sasl_json_get(&t.claims, "aud"), policy->audience)) {
		*error_out = "wrong audience";
		return -1;
	}
	if (who == NULL || who->type != SASL_JSON_STRING || who->str[0] == '\0') {
		*error_out = "token lacks the account claim";
		return -1;
	}
	*account_out = who->str;
	return 0;
}
