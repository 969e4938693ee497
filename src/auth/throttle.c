/* SPDX-License-Identifier: MIT */
/*
 * throttle.c: two counters tables (IPs, accounts) behind one mutex: a chained
 * hash of at most THROTTLE_MAX_ENTRIES entries each. When a table is full,
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

#include "lib/log.h"
#include "lib/util.h"

#define THROTTLE_BUCKETS     4096
#define THROTTLE_MAX_ENTRIES 100000
#define THROTTLE_KEY_MAX     256

struct entry {
	struct entry *next;
	unsigned failures;
	uint64_t last_ms;
	uint64_t blocked_until_ms;
	char key[];
};

struct table {
	struct entry *buckets[THROTTLE_BUCKETS];
	size_t n;
	bool warned;
};

struct auth_throttle {
	pthread_mutex_t lock;
	struct auth_throttle_settings s;
	struct table ip, account;
};

static uint32_t
hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

struct auth_throttle *
auth_throttle_new(const struct auth_throttle_settings *s)
{
	struct auth_throttle *t = xcalloc(1, sizeof(*t));

	pthread_mutex_init(&t->lock, NULL);
	t->s = *s;
	return t;
}

void
auth_throttle_configure(struct auth_throttle *t, const struct auth_throttle_settings *s)
{
	pthread_mutex_lock(&t->lock);
	t->s = *s;
	pthread_mutex_unlock(&t->lock);
}

static void
table_clear(struct table *tb)
{
	for (size_t i = 0; i < THROTTLE_BUCKETS; i++) {
		while (tb->buckets[i] != NULL) {
			struct entry *e = tb->buckets[i];
			tb->buckets[i] = e->next;
			free(e);
		}
	}
	tb->n = 0;
}

void
auth_throttle_free(struct auth_throttle **tp)
{
	struct auth_throttle *t = *tp;

	if (t == NULL)
		return;
	*tp = NULL;
	table_clear(&t->ip);
	table_clear(&t->account);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static bool
is_stale(const struct auth_throttle *t, const struct entry *e, uint64_t now)
{
	return e->last_ms + t->s.window_ms <= now && e->blocked_until_ms <= now;
}

static void
sweep(struct auth_throttle *t, struct table *tb, uint64_t now)
{
	for (size_t i = 0; i < THROTTLE_BUCKETS; i++) {
		for (struct entry **pp = &tb->buckets[i]; *pp != NULL;) {
			struct entry *e = *pp;
			if (is_stale(t, e, now)) {
				*pp = e->next;
				free(e);
				tb->n--;
			} else {
				pp = &e->next;
			}
		}
	}
}

/* The entry for key, or NULL; with create, a new one (NULL when full). */
static struct entry *
find(struct auth_throttle *t, struct table *tb, const char *key, bool create, uint64_t now)
{
	size_t len = strnlen(key, THROTTLE_KEY_MAX);
	struct entry **head = &tb->buckets[hash(key) % THROTTLE_BUCKETS];

	for (struct entry *e = *head; e != NULL; e = e->next) {
		if (strncmp(e->key, key, THROTTLE_KEY_MAX) == 0) {
			if (is_stale(t, e, now)) {
				e->failures = 0; /* a quiet window: start over */
				e->blocked_until_ms = 0;
			}
			return e;
		}
	}
	if (!create)
		return NULL;
	if (tb->n >= THROTTLE_MAX_ENTRIES)
		sweep(t, tb, now);
	if (tb->n >= THROTTLE_MAX_ENTRIES) {
		if (!tb->warned)
			log_warn("auth", "event=throttle-table-full entries=%zu", tb->n);
		tb->warned = true;
		return NULL;
	}
	struct entry *e = xcalloc(1, sizeof(*e) + len + 1);
	memcpy(e->key, key, len);
	e->next = *head;
	*head = e;
	tb->n++;
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
