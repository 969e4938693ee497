/* SPDX-License-Identifier: MIT */
/*
 * smtp_accounts.c: the per-thread cache of store account handles
 * (smtp_accounts.h): a small array searched linearly (64 entries: cheaper
 * than hashing at this size), freed by a thread-specific-data destructor
 * when a pool thread ends, which net_jobs_free() does before the store
 * closes.
 */
#include "smtp/smtp_accounts.h"

#include <pthread.h>
#include <stdlib.h>

#include "lib/util.h"

struct cached {
	uint64_t id;
	struct store_account *acct;
	uint64_t used; /* a per-thread clock: larger is more recent */
};

struct cache {
	struct cached v[SMTP_ACCOUNTS_PER_THREAD];
	size_t n;
	uint64_t clock;
};

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void
cache_destroy(void *p)
{
	struct cache *c = p;

	for (size_t i = 0; i < c->n; i++)
		store_account_close(&c->v[i].acct);
	free(c);
}

static void
cache_key_create(void)
{
	pthread_key_create(&cache_key, cache_destroy);
}

struct store_account *
smtp_account_get(struct store *store, uint64_t account_id, enum store_error *err_out)
{
	pthread_once(&cache_once, cache_key_create);
	struct cache *c = pthread_getspecific(cache_key);
	if (c == NULL) {
		c = xcalloc(1, sizeof(*c));
		pthread_setspecific(cache_key, c);
	}
	c->clock++;
	for (size_t i = 0; i < c->n; i++) {
		if (c->v[i].id == account_id) {
			c->v[i].used = c->clock;
			return c->v[i].acct;
		}
	}
	struct store_account *acct;
	if (store_account_open(store, account_id, &acct, err_out) < 0)
		return NULL;
	size_t slot = c->n;
	if (c->n == SMTP_ACCOUNTS_PER_THREAD) {
		slot = 0;
		for (size_t i = 1; i < c->n; i++)
			if (c->v[i].used < c->v[slot].used)
				slot = i;
		store_account_close(&c->v[slot].acct);
	} else {
		c->n++;
	}
	c->v[slot] = (struct cached){account_id, acct, c->clock};
	return acct;
}
