/* SPDX-License-Identifier: MIT */
/*
 * password.c: crypt_ra()/crypt_gensalt_ra() from libxcrypt; re-entrant, so
 * verification may run on any job thread. The cost of yescrypt is libxcrypt's
 * default (about 30 ms here): enough to slow offline guessing, and verification
 * runs on the job pool, never on an event loop.
 */
#include "auth/password.h"

#include <crypt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

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
