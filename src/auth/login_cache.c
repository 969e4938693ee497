/* SPDX-License-Identifier: MIT */
/*
 * login_cache.c: address -> (tag, expiry) in a hash (lib/hash.h) behind one
 * mutex. When the table is full, expired entries are swept; if it is still
 * full the login is not remembered (the next one verifies again): only
 * successful logins of real accounts get here, so this bounds memory, it
 * is not a defence.
 */
#include "auth/login_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "lib/hash.h"
#include "lib/metrics.h"
#include "lib/util.h"

#define TAG_LEN 32

struct entry {
	uint64_t expires_ms;
	unsigned char tag[TAG_LEN];
	char address[]; /* the table's key */
};

struct auth_login_cache {
	pthread_mutex_t lock;
	size_t max_entries;
	uint64_t ttl_ms;
	unsigned char key[32]; /* random per process, never written anywhere */
	struct hash *entries;  /* address -> struct entry */
};

static bool
drop_any(const struct hash_entry *he, void *ctx)
{
	(void)ctx;
	explicit_bzero(he->value, sizeof(struct entry));
	free(he->value);
	return true;
}

static bool
drop_expired(const struct hash_entry *he, void *ctx)
{
	const struct entry *e = he->value;

	if (e->expires_ms > *(const uint64_t *)ctx)
		return false;
	return drop_any(he, NULL);
}

struct auth_login_cache *
auth_login_cache_new(size_t max_entries, uint64_t ttl_ms)
{
	struct auth_login_cache *c = xcalloc(1, sizeof(*c));

	if (RAND_bytes(c->key, sizeof(c->key)) != 1) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->max_entries = max_entries;
	c->ttl_ms = ttl_ms;
	c->entries = hash_new(HASH_KEYS_STR, 0);
	return c;
}

void
auth_login_cache_configure(struct auth_login_cache *c, size_t max_entries, uint64_t ttl_ms)
{
	pthread_mutex_lock(&c->lock);
	c->max_entries = max_entries;
	/* A shorter TTL applies to what is held too: entries only ever expire
	   sooner than they were promised, never later. */
	if (max_entries == 0 || ttl_ms == 0 || ttl_ms < c->ttl_ms ||
	    hash_count(c->entries) > max_entries)
		hash_remove_if(c->entries, drop_any, NULL);
	c->ttl_ms = ttl_ms;
	pthread_mutex_unlock(&c->lock);
}

void
auth_login_cache_free(struct auth_login_cache **cp)
{
	struct auth_login_cache *c = *cp;

	if (c == NULL)
		return;
	*cp = NULL;
	hash_remove_if(c->entries, drop_any, NULL);
	hash_free(&c->entries);
	pthread_mutex_destroy(&c->lock);
	explicit_bzero(c->key, sizeof(c->key));
	free(c);
}

/* HMAC-SHA-256(key, address NUL stored_hash NUL password): the NULs keep
   ("ab", "c") and ("a", "bc") apart. */
static void
make_tag(const struct auth_login_cache *c, const char *address, const char *stored_hash,
         const char *password, unsigned char tag[TAG_LEN])
{
	size_t la = strlen(address), lh = strlen(stored_hash), lp = strlen(password);
	size_t n = la + 1 + lh + 1 + lp;
	unsigned char *msg = xmalloc(n);
	unsigned int len = TAG_LEN;

	memcpy(msg, address, la + 1);
	memcpy(msg + la + 1, stored_hash, lh + 1);
	memcpy(msg + la + 1 + lh + 1, password, lp);
	HMAC(EVP_sha256(), c->key, (int)sizeof(c->key), msg, n, tag, &len);
	explicit_bzero(msg, n);
	free(msg);
}

bool
auth_login_cache_check(struct auth_login_cache *c, const char *address, const char *stored_hash,
                       const char *password, uint64_t now_ms)
{
	unsigned char tag[TAG_LEN];
	bool hit = false;

	pthread_mutex_lock(&c->lock);
	bool on = c->max_entries != 0 && c->ttl_ms != 0;
	pthread_mutex_unlock(&c->lock);
	if (!on)
		return false;
	/* The HMAC outside the lock: logins on other threads do not wait for it. */
	make_tag(c, address, stored_hash, password, tag);
	pthread_mutex_lock(&c->lock);
	struct entry *e = hash_str_find(c->entries, address);
	if (e != NULL && e->expires_ms <= now_ms) {
		hash_str_remove(c->entries, address);
		drop_any(&(struct hash_entry){.value = e}, NULL);
		e = NULL;
	}
	hit = e != NULL && CRYPTO_memcmp(e->tag, tag, TAG_LEN) == 0;
	pthread_mutex_unlock(&c->lock);
	explicit_bzero(tag, sizeof(tag));
	metrics_add(METRICS_LOGIN_CACHE, hit ? "hit" : "miss", NULL, NULL, 1);
	return hit;
}

void
auth_login_cache_put(struct auth_login_cache *c, const char *address, const char *stored_hash,
                     const char *password, uint64_t now_ms)
{
	unsigned char tag[TAG_LEN];

	pthread_mutex_lock(&c->lock);
	bool on = c->max_entries != 0 && c->ttl_ms != 0;
	pthread_mutex_unlock(&c->lock);
	if (!on)
		return;
	make_tag(c, address, stored_hash, password, tag);
	pthread_mutex_lock(&c->lock);
	struct entry *e = hash_str_find(c->entries, address);
	if (e == NULL) {
		if (hash_count(c->entries) >= c->max_entries)
			hash_remove_if(c->entries, drop_expired, &now_ms);
		if (hash_count(c->entries) < c->max_entries) {
			size_t len = strlen(address);
			e = xcalloc(1, sizeof(*e) + len + 1);
			memcpy(e->address, address, len + 1);
			hash_str_set(c->entries, e->address, e);
		}
	}
	if (e != NULL) {
		memcpy(e->tag, tag, TAG_LEN);
		e->expires_ms = now_ms + c->ttl_ms;
	}
	pthread_mutex_unlock(&c->lock);
	explicit_bzero(tag, sizeof(tag));
}

size_t
auth_login_cache_count(struct auth_login_cache *c)
{
	pthread_mutex_lock(&c->lock);
	size_t n = hash_count(c->entries);
	pthread_mutex_unlock(&c->lock);
	return n;
}
