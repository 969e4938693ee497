/* SPDX-License-Identifier: MIT */
/*
 * login_cache.h: remembers recent successful password logins, so a client
 * that logs in again (phones reconnecting, webmail logging in per request,
 * ImapTest's mix every nine commands) costs an HMAC, not a yescrypt
 * verification (12 ms of CPU here). Dovecot's auth_cache keeps the passdb
 * lookup and hashes again; this keeps the verification (as saslauthd -c).
 *
 * An entry is the account's address and a tag: HMAC-SHA-256 under a key
 * drawn at start (never stored) over the address, the stored crypt hash and
 * the password. A login hits only with the same password against the same
 * stored hash: `tern user passwd` (another process) changes the hash, so the
 * old password misses at once, without any message between processes. Only
 * successes are stored, so wrong passwords always cost a full verification
 * (and the throttle sees them); only the tag is kept, never the password.
 * What remains: while an entry lives, whoever reads the process's memory
 * can test guesses at HMAC speed; the TTL bounds that (docs/AUTH.md).
 *
 * Thread-safe (one mutex), bounded (max_entries), no clock of its own:
 * callers pass now_ms, so it is unit-tested with a fake clock.
 */
#ifndef TERN_AUTH_LOGIN_CACHE_H
#define TERN_AUTH_LOGIN_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct auth_login_cache;

/* max_entries 0 or ttl_ms 0: the cache is off (checks miss, puts do nothing).
   NULL only when no random key can be drawn. */
struct auth_login_cache *auth_login_cache_new(size_t max_entries, uint64_t ttl_ms);
/* New limits (SIGHUP); turning it off or shrinking drops what no longer fits. */
void auth_login_cache_configure(struct auth_login_cache *c, size_t max_entries, uint64_t ttl_ms);
void auth_login_cache_free(struct auth_login_cache **cp);

/* True when address logged in with this password against this stored hash
   less than the TTL ago. Constant time in the tag. */
bool auth_login_cache_check(struct auth_login_cache *c, const char *address,
                            const char *stored_hash, const char *password, uint64_t now_ms);
/* Records a verified login (replacing the address's earlier entry). */
void auth_login_cache_put(struct auth_login_cache *c, const char *address, const char *stored_hash,
                          const char *password, uint64_t now_ms);
/* Entries held now (metrics, tests). */
size_t auth_login_cache_count(struct auth_login_cache *c);

#endif
