/* SPDX-License-Identifier: MIT */
/*
 * throttle.c: two counters tables (IPs, accounts) behind one mutex: a hash
 * (lib/hash.h) of at most THROTTLE_MAX_ENTRIES entries each. When a table is full,
 * entries whose window and block have passed are swept; if it is still full
 * the new key is not tracked (logged once): memory stays bounded even under
 * a distributed attack, and tracked keys keep their blocks.
 *
 * Delay for the n-th failure in the window: fail_delay for n <= 3 (typos),
 * then fail_delay * 2^(n-3), at most max_fail_delay.
 */
#include "auth/throttle.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/util.h"

#define THROTTLE_MAX_ENTRIES 100000
/* Keys are cut here, so an entry's size is bounded whatever a client sends
   as a user name; names sharing this long a prefix share a counter. */
#define THROTTLE_KEY_MAX 256

struct entry {
	unsigned failures;
	uint64_t last_ms;
	uint64_t blocked_until_ms;
	char key[]; /* the table's key for this entry */
};

struct table {
	struct hash *entries; /* key -> struct entry */
	bool warned;
};

struct auth_throttle {
	pthread_mutex_t lock;
	struct auth_throttle_settings s;
	struct table ip, account;
};

struct auth_throttle *
auth_throttle_new(const struct auth_throttle_settings *s)
{
	struct auth_throttle *t = xcalloc(1, sizeof(*t));

	pthread_mutex_init(&t->lock, NULL);
	t->s = *s;
	t->ip.entries = hash_new(HASH_KEYS_STR, 0);
	t->account.entries = hash_new(HASH_KEYS_STR, 0);
	return t;
}

void
auth_throttle_configure(struct auth_throttle *t, const struct auth_throttle_settings *s)
{
	pthread_mutex_lock(&t->lock);
	t->s = *s;
	pthread_mutex_unlock(&t->lock);
}

static bool
drop_any(const struct hash_entry *he, void *ctx)
{
	free(he->value);
	return true;
}

static void
table_deinit(struct table *tb)
{
	hash_remove_if(tb->entries, drop_any, NULL);
	hash_free(&tb->entries);
}

void
auth_throttle_free(struct auth_throttle **tp)
{
	struct auth_throttle *t = *tp;

	if (t == NULL)
		return;
	*tp = NULL;
	table_deinit(&t->ip);
	table_deinit(&t->account);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static bool
is_stale(const struct auth_throttle *t, const struct entry *e, uint64_t now)
{
	return e->last_ms + t->s.window_ms <= now && e->blocked_until_ms <= now;
}

struct sweep_ctx {
	const struct auth_throttle *t;
	uint64_t now;
};

static bool
drop_stale(const struct hash_entry *he, void *ctx)
{
	const struct sweep_ctx *c = ctx;

	if (!is_stale(c->t, he->value, c->now))
		return false;
	free(he->value);
	return true;
}

/* The entry for key, or NULL; with create, a new one (NULL when full). */
static struct entry *
find(struct auth_throttle *t, struct table *tb, const char *key, bool create, uint64_t now)
{
	size_t len = strnlen(key, THROTTLE_KEY_MAX + 1);
	char *cut = len > THROTTLE_KEY_MAX ? xstrndup(key, THROTTLE_KEY_MAX) : NULL;
	struct entry *e = hash_str_find(tb->entries, cut != NULL ? cut : key);

	free(cut);
	len = MIN(len, THROTTLE_KEY_MAX);
	if (e != NULL) {
		if (is_stale(t, e, now)) {
			e->failures = 0; /* a quiet window: start over */
			e->blocked_until_ms = 0;
		}
		return e;
	}
	if (!create)
		return NULL;
	if (hash_count(tb->entries) >= THROTTLE_MAX_ENTRIES)
		hash_remove_if(tb->entries, drop_stale, &(struct sweep_ctx){t, now});
	if (hash_count(tb->entries) >= THROTTLE_MAX_ENTRIES) {
		if (!tb->warned)
			log_warn("auth", "event=throttle-table-full entries=%zu",
			         hash_count(tb->entries));
		tb->warned = true;
		return NULL;
	}
	e = xcalloc(1, sizeof(*e) + len + 1);
	memcpy(e->key, key, len);
	hash_str_set(tb->entries, e->key, e);
	return e;
}

bool
auth_throttle_is_blocked(struct auth_throttle *t, const char *ip, const char *account,
                         uint64_t now_ms)
{
	bool blocked = false;

	pthread_mutex_lock(&t->lock);
	struct entry *e = find(t, &t->ip, ip, false, now_ms);
	if (e != NULL && e->blocked_until_ms > now_ms)
		blocked = true;
	if (!blocked && account != NULL) {
		e = find(t, &t->account, account, false, now_ms);
		blocked = e != NULL && e->blocked_until_ms > now_ms;
	}
	pthread_mutex_unlock(&t->lock);
	return blocked;
}

static unsigned
count(struct auth_throttle *t, struct table *tb, const char *key, uint64_t limit, uint64_t now,
      bool *blocked)
{
	struct entry *e = find(t, tb, key, true, now);

	if (e == NULL)
		return 0;
	e->failures++;
	e->last_ms = now;
	if (limit != 0 && e->failures >= limit && e->blocked_until_ms <= now) {
		e->blocked_until_ms = now + t->s.block_ms;
		*blocked = true;
		metrics_add(METRICS_BLOCKS_TOTAL, tb == &t->ip ? "ip" : "account", NULL, NULL, 1);
	}
	return e->failures;
}

uint64_t
auth_throttle_failure(struct auth_throttle *t, const char *ip, const char *account, uint64_t now_ms,
                      unsigned *failures_out, bool *blocked_out)
{
	bool blocked = false;

	pthread_mutex_lock(&t->lock);
	unsigned n = count(t, &t->ip, ip, t->s.block_after_ip, now_ms, &blocked);
	if (account != NULL && account[0] != '\0') {
		/* Not inside MAX(): it would count twice. */
		unsigned na =
		        count(t, &t->account, account, t->s.block_after_account, now_ms, &blocked);
		n = MAX(n, na);
	}
	uint64_t delay = t->s.fail_delay_ms;
	for (unsigned i = 3; i < n && delay < t->s.max_fail_delay_ms; i++)
		delay *= 2;
	delay = MIN(delay, MAX(t->s.max_fail_delay_ms, t->s.fail_delay_ms));
	pthread_mutex_unlock(&t->lock);
	*failures_out = n;
	*blocked_out = blocked;
	return delay;
}

void
auth_throttle_success(struct auth_throttle *t, const char *account)
{
	pthread_mutex_lock(&t->lock);
	struct entry *e = find(t, &t->account, account, false, 0);
	if (e != NULL && e->blocked_until_ms == 0)
		e->failures = 0;
	pthread_mutex_unlock(&t->lock);
}
