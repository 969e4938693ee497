/* SPDX-License-Identifier: MIT */
/*
 * password.h: password hashing with libxcrypt. New hashes are yescrypt;
 * SHA512-CRYPT ($6$) and bcrypt ($2b$/$2y$) hashes imported from Dovecot
 * passwd-files verify as they are. Verification compares in constant time.
 */
#ifndef TERN_AUTH_PASSWORD_H
#define TERN_AUTH_PASSWORD_H

#include <stdbool.h>

enum auth_scheme {
	AUTH_SCHEME_YESCRYPT,
	AUTH_SCHEME_SHA512_CRYPT,
	AUTH_SCHEME_BCRYPT,
};

/* Returns a heap crypt(3) string for plain; NULL only if libxcrypt fails. */
char *auth_password_hash(const char *plain, enum auth_scheme scheme);
/* True when plain matches hash. False for malformed or unsupported hashes. */
bool auth_password_verify(const char *hash, const char *plain);
/* True when hash is a crypt string this build can verify. */
bool auth_password_hash_is_supported(const char *hash);
/* Burns the time of one verification, so an unknown user costs what a known
   one does (no user enumeration by timing). */
void auth_password_verify_dummy(const char *plain);

#endif
