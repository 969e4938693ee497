/* SPDX-License-Identifier: MIT */
/*
 * password.c: crypt_ra()/crypt_gensalt_ra() from libxcrypt; re-entrant, so
 * verification may run on any job thread. The cost of yescrypt is libxcrypt's
 * default (about 30 ms here): enough to slow offline guessing, and verification
 * runs on the job pool, never on an event loop.
 */
/* CRAM-MD5 keys are MD5 midstates (as Dovecot stores them), which needs the
   low-level MD5 API that OpenSSL 3 marks deprecated but still ships. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "auth/password.h"

#include <crypt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsasl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>
#include <openssl/rand.h>

#include "auth/sasl_parse.h"
#include "lib/arena.h"
#include "lib/util.h"

static const char *const scheme_prefix[] = {
        [AUTH_SCHEME_YESCRYPT] = "$y$",
        [AUTH_SCHEME_SHA512_CRYPT] = "$6$",
        [AUTH_SCHEME_BCRYPT] = "$2b$",
};

char *
auth_password_hash(const char *plain, enum auth_scheme scheme)
{
	void *data = NULL;
	int size = 0;
	char *salt = crypt_gensalt_ra(scheme_prefix[scheme], 0, NULL, 0);

	if (salt == NULL)
		return NULL;
	const char *h = crypt_ra(plain, salt, &data, &size);
	char *out = (h != NULL && h[0] != '*') ? xstrdup(h) : NULL;
	free(salt);
	if (data != NULL) {
		explicit_bzero(data, (size_t)size);
		free(data);
	}
	return out;
}

bool
auth_password_hash_is_supported(const char *hash)
{
	return hash[0] == '$' && crypt_checksalt(hash) == CRYPT_SALT_OK;
}

bool
auth_password_verify(const char *hash, const char *plain)
{
	void *data = NULL;
	int size = 0;
	bool ok = false;

	if (!auth_password_hash_is_supported(hash))
		return false;
	const char *h = crypt_ra(plain, hash, &data, &size);
	if (h != NULL && h[0] != '*' && strlen(h) == strlen(hash))
		ok = CRYPTO_memcmp(h, hash, strlen(hash)) == 0;
	if (data != NULL) {
		explicit_bzero(data, (size_t)size);
		free(data);
	}
	return ok;
}

static char *dummy_hash;

static void
make_dummy_hash(void)
{
	dummy_hash = auth_password_hash("tern-dummy-password", AUTH_SCHEME_YESCRYPT);
}

void
auth_password_verify_dummy(const char *plain)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, make_dummy_hash);
	if (dummy_hash != NULL)
		(void)auth_password_verify(dummy_hash, plain);
}

char *
auth_saslprep(const char *in, bool stored)
{
	char *out = NULL;
	int rc = gsasl_saslprep(in, stored ? 0 : GSASL_ALLOW_UNASSIGNED, &out, NULL);

	if (rc != GSASL_OK || out == NULL) {
		gsasl_free(out);
		return NULL;
	}
	char *copy = xstrdup(out);
	explicit_bzero(out, strlen(out));
	gsasl_free(out);
	return copy;
}

static void
hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int
hex_decode(const char *in, unsigned char *out, size_t len)
{
	if (strlen(in) != 2 * len)
		return -1;
	for (size_t i = 0; i < 2 * len; i++) {
		char c = in[i];
		int v = c >= '0' && c <= '9'   ? c - '0'
		        : c >= 'a' && c <= 'f' ? c - 'a' + 10
		        : c >= 'A' && c <= 'F' ? c - 'A' + 10
		                               : -1;
		if (v < 0)
			return -1;
		if (i % 2 == 0)
			out[i / 2] = (unsigned char)(v << 4);
		else
			out[i / 2] |= (unsigned char)v;
	}
	return 0;
}

static char *
b64(const unsigned char *in, size_t len)
{
	char *out = xmalloc((len + 2) / 3 * 4 + 1);

	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

void
auth_scram_keys_derive(const char *plain, bool sha256, unsigned iterations,
                       const unsigned char *salt, size_t salt_len, struct auth_scram_keys *out)
{
	const EVP_MD *md = sha256 ? EVP_sha256() : EVP_sha1();
	size_t n = sha256 ? 32 : 20;
	unsigned char salted[32], client_key[32];
	unsigned int len;

	memset(out, 0, sizeof(*out));
	out->iterations = iterations;
	out->salt_len = MIN(salt_len, sizeof(out->salt));
	memcpy(out->salt, salt, out->salt_len);
	out->key_len = n;
	/* RFC 5802 section 3: SaltedPassword := Hi(password, salt, i) is
	   PBKDF2 with HMAC; ClientKey, StoredKey, ServerKey follow. */
	PKCS5_PBKDF2_HMAC(plain, (int)strlen(plain), salt, (int)salt_len, (int)iterations, md,
	                  (int)n, salted);
	HMAC(md, salted, (int)n, (const unsigned char *)"Client Key", 10, client_key, &len);
	EVP_Digest(client_key, n, out->stored_key, &len, md, NULL);
	HMAC(md, salted, (int)n, (const unsigned char *)"Server Key", 10, out->server_key, &len);
	explicit_bzero(salted, sizeof(salted));
	explicit_bzero(client_key, sizeof(client_key));
}

static char *
scram_string(const char *plain, bool sha256, unsigned iterations)
{
	unsigned char salt[16];
	struct auth_scram_keys k;

	if (RAND_bytes(salt, sizeof(salt)) != 1)
		abort();
	auth_scram_keys_derive(plain, sha256, iterations, salt, sizeof(salt), &k);
	char *s = b64(salt, sizeof(salt)), *st = b64(k.stored_key, k.key_len),
	     *sv = b64(k.server_key, k.key_len);
	char *out = xasprintf("%u,%s,%s,%s", iterations, s, st, sv);
	free(s);
	free(st);
	free(sv);
	explicit_bzero(&k, sizeof(k));
	return out;
}

int
auth_scram_keys_parse(const char *stored, bool sha256, struct auth_scram_keys *out)
{
	char *copy = xstrdup(stored);
	char *save = NULL;
	char *iter = strtok_r(copy, ",", &save), *salt = strtok_r(NULL, ",", &save),
	     *st = strtok_r(NULL, ",", &save), *sv = strtok_r(NULL, ",", &save);
	struct arena *a = arena_new(256);
	uint64_t it = 0;
	size_t sl = 0, stl = 0, svl = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->key_len = sha256 ? 32 : 20;
	if (iter != NULL && sv != NULL && strtok_r(NULL, ",", &save) == NULL &&
	    str_to_u64(iter, 10000000, &it) && it >= 1) {
		unsigned char *s = sasl_base64_decode(a, salt, strlen(salt), false, &sl);
		unsigned char *k1 = sasl_base64_decode(a, st, strlen(st), false, &stl);
		unsigned char *k2 = sasl_base64_decode(a, sv, strlen(sv), false, &svl);
		if (s != NULL && k1 != NULL && k2 != NULL && sl > 0 && sl <= sizeof(out->salt) &&
		    stl == out->key_len && svl == out->key_len) {
			out->iterations = (unsigned)it;
			memcpy(out->salt, s, sl);
			out->salt_len = sl;
			memcpy(out->stored_key, k1, stl);
			memcpy(out->server_key, k2, svl);
			rc = 0;
		}
	}
	arena_free(&a);
	free(copy);
	return rc;
}

/* HMAC-MD5 keys reduced to the MD5 state after the ipad and opad blocks
   (RFC 2104): each 4 words, little-endian, hex. */
static char *
cram_md5_string(const char *plain)
{
	unsigned char key[64] = {0}, block[64], out[32];
	size_t klen = strlen(plain);
	MD5_CTX ctx;
	char *hex = xmalloc(65);

	if (klen > 64) {
		MD5((const unsigned char *)plain, klen, key);
		klen = 16;
	} else {
		memcpy(key, plain, klen);
	}
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < 64; i++)
			block[i] = key[i] ^ (pass == 0 ? 0x36 : 0x5c);
		MD5_Init(&ctx);
		MD5_Update(&ctx, block, 64);
		MD5_LONG w[4] = {ctx.A, ctx.B, ctx.C, ctx.D};
		for (int i = 0; i < 4; i++)
			for (int b = 0; b < 4; b++)
				out[pass * 16 + i * 4 + b] = (unsigned char)(w[i] >> (8 * b));
	}
	hex_encode(out, 32, hex);
	explicit_bzero(key, sizeof(key));
	explicit_bzero(block, sizeof(block));
	explicit_bzero(&ctx, sizeof(ctx));
	return hex;
}

static void
md5_from_midstate(MD5_CTX *ctx, const unsigned char *st)
{
	MD5_LONG w[4];

	for (int i = 0; i < 4; i++)
		w[i] = (MD5_LONG)st[i * 4] | (MD5_LONG)st[i * 4 + 1] << 8 |
		       (MD5_LONG)st[i * 4 + 2] << 16 | (MD5_LONG)st[i * 4 + 3] << 24;
	MD5_Init(ctx);
	ctx->A = w[0];
	ctx->B = w[1];
	ctx->C = w[2];
	ctx->D = w[3];
	ctx->Nl = 512; /* one 64-byte block already hashed */
}

bool
auth_cram_md5_verify(const char *stored_hex, const char *challenge, size_t challenge_len,
                     const char *digest_hex)
{
	unsigned char st[32], inner[16], mac[16], want[16];
	MD5_CTX ctx;

	if (hex_decode(stored_hex, st, 32) < 0 || hex_decode(digest_hex, want, 16) < 0)
		return false;
	md5_from_midstate(&ctx, st);
	MD5_Update(&ctx, challenge, challenge_len);
	MD5_Final(inner, &ctx);
	md5_from_midstate(&ctx, st + 16);
	MD5_Update(&ctx, inner, 16);
	MD5_Final(mac, &ctx);
	explicit_bzero(st, sizeof(st));
	return CRYPTO_memcmp(mac, want, 16) == 0;
}

int
auth_credentials_make(const char *plain, const struct auth_cred_options *o,
                      struct auth_credentials *out)
{
	memset(out, 0, sizeof(*out));
	out->password = auth_password_hash(plain, AUTH_SCHEME_YESCRYPT);
	if (out->password == NULL)
		return -1;
	out->scram_sha1 = scram_string(plain, false, o->scram_iterations);
	out->scram_sha256 = scram_string(plain, true, o->scram_iterations);
	out->cram_md5 = o->cram_md5 ? cram_md5_string(plain) : xstrdup("");
	out->apop = xstrdup(o->apop ? plain : "");
	if (o->digest_md5) {
		unsigned char h[16];
		char *a1 = xasprintf("%s:%s:%s", o->address, o->digest_realm, plain);
		MD5((const unsigned char *)a1, strlen(a1), h);
		explicit_bzero(a1, strlen(a1));
		free(a1);
		out->digest_md5 = xmalloc(33);
		hex_encode(h, 16, out->digest_md5);
	} else {
		out->digest_md5 = xstrdup("");
	}
	return 0;
}

#define APP_PREFIX "$tern-app$"

/* Lowercase, without the dashes and spaces people type or leave out. */
static char *
app_normalise(const char *plain)
{
	char *out = xmalloc(strlen(plain) + 1);
	size_t n = 0;

	for (const char *p = plain; *p != '\0'; p++) {
		if (*p == '-' || *p == ' ')
			continue;
		out[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	}
	out[n] = '\0';
	return out;
}

static void
app_mac(const unsigned char *salt, size_t salt_len, const char *norm, char hex[65])
{
	unsigned char mac[32];
	unsigned int len = 0;

	HMAC(EVP_sha256(), salt, (int)salt_len, (const unsigned char *)norm, strlen(norm), mac,
	     &len);
	hex_encode(mac, 32, hex);
}

void
auth_app_password_generate(char **plain_out, char **hash_out)
{
	/* 32 symbols without look-alikes (0/o, 1/l): 5 bits each, 24 of them
	   = 120 bits, shown as four groups of six. */
	static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
	unsigned char rnd[24], salt[16];
	char plain[28], hex[65];
	size_t n = 0;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1 || RAND_bytes(salt, sizeof(salt)) != 1)
		abort();
	for (size_t i = 0; i < sizeof(rnd); i++) {
		if (i > 0 && i % 6 == 0)
			plain[n++] = '-';
		plain[n++] = alphabet[rnd[i] & 31];
	}
	plain[n] = '\0';
	char *norm = app_normalise(plain);
	app_mac(salt, sizeof(salt), norm, hex);
	char *s = b64(salt, sizeof(salt));
	*hash_out = xasprintf(APP_PREFIX "%s$%s", s, hex);
	*plain_out = xstrdup(plain);
	free(s);
	explicit_bzero(norm, strlen(norm));
	free(norm);
	explicit_bzero(plain, sizeof(plain));
	explicit_bzero(rnd, sizeof(rnd));
}

bool
auth_app_password_verify(const char *hash, const char *plain)
{
	size_t plen = strlen(APP_PREFIX);

	if (strncmp(hash, APP_PREFIX, plen) != 0)
		return false;
	const char *salt_b64 = hash + plen;
	const char *dollar = strchr(salt_b64, '$');
	if (dollar == NULL || strlen(dollar + 1) != 64)
		return false;
	struct arena *a = arena_new(128);
	size_t salt_len = 0;
	unsigned char *salt =
	        sasl_base64_decode(a, salt_b64, (size_t)(dollar - salt_b64), false, &salt_len);
	bool ok = false;
	if (salt != NULL) {
		char *norm = app_normalise(plain);
		char hex[65];
		app_mac(salt, salt_len, norm, hex);
		ok = CRYPTO_memcmp(hex, dollar + 1, 64) == 0;
		explicit_bzero(norm, strlen(norm));
		free(norm);
	}
	arena_free(&a);
	return ok;
}
