/* SPDX-License-Identifier: MIT */
/*
 * password.h: password hashing with libxcrypt, and the keys derived from a
 * password for challenge-response mechanisms. New hashes are yescrypt;
 * SHA512-CRYPT ($6$) and bcrypt ($2b$/$2y$) hashes imported from Dovecot
 * passwd-files verify as they are. Verification compares in constant time.
 *
 * Passwords are SASLprep'd (RFC 4013) before hashing and before checking, so
 * "I\u00ADX" and "IX" are one password whatever the client's keyboard.
 * App passwords are generated (about 119 random bits), so a salted
 * HMAC-SHA-256 is as strong against guessing as a slow hash, and an account
 * with several of them costs microseconds, not tens of milliseconds per try.
 */
#ifndef TERN_AUTH_PASSWORD_H
#define TERN_AUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/accounts.h"

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

/* SASLprep (RFC 4013) as a stored string (stored=true: unassigned code points
   refused) or a query. Heap result, or NULL when the string is prohibited. */
char *auth_saslprep(const char *in, bool stored);

/* What to derive from a password besides the crypt hash. */
struct auth_cred_options {
	unsigned scram_iterations; /* RFC 7677: at least 4096 */
	bool cram_md5;
	bool digest_md5;
	bool apop;                /* keep the password itself for APOP (auth.apop) */
	const char *digest_realm; /* with digest_md5 */
	const char *address;      /* with digest_md5: lowercased */
};
/* Fills every credential for plain (already SASLprep'd). 0, or -1 if
   hashing failed. Free with auth_credentials_clear(). */
int auth_credentials_make(const char *plain, const struct auth_cred_options *o,
                          struct auth_credentials *out);

/* SCRAM keys from a stored "iter,salt,storedkey,serverkey" string. */
struct auth_scram_keys {
	unsigned iterations;
	unsigned char salt[64];
	size_t salt_len;
	unsigned char stored_key[32], server_key[32];
	size_t key_len; /* 20 (SHA-1) or 32 (SHA-256) */
};
/* 0, or -1 for a malformed string or the wrong key length for sha256. */
int auth_scram_keys_parse(const char *stored, bool sha256, struct auth_scram_keys *out);
/* Derives keys from a password (for the unknown-user decoy and tests). */
void auth_scram_keys_derive(const char *plain, bool sha256, unsigned iterations,
                            const unsigned char *salt, size_t salt_len,
                            struct auth_scram_keys *out);

/* CRAM-MD5 (RFC 2195): true when digest_hex is HMAC-MD5(password, challenge)
   computed from the stored midstates (64 hex digits). Constant time. */
bool auth_cram_md5_verify(const char *stored_hex, const char *challenge, size_t challenge_len,
                          const char *digest_hex);

/* A new app password (letters and digits, grouped for typing) and its hash,
   both heap. */
void auth_app_password_generate(char **plain_out, char **hash_out);
/* True when plain matches an app-password hash. Constant time. */
bool auth_app_password_verify(const char *hash, const char *plain);

#endif
