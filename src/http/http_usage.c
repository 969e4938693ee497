/* SPDX-License-Identifier: MIT */
/*
 * http_usage.c: the store census behind /metrics' store families: total
 * bytes and messages, accounts with a store, and the top N accounts by
 * storage (http.metrics_top) with their message counts.
 *
 * A scrape never reads an account. It prints the last census and, when
 * that is older than http.usage_interval, starts a new one on the census's
 * own thread, so neither the event loop nor auth's job pool (logins) waits
 * for it; stopping the server stops a running census between two accounts. The census walks
 * accounts.db once and reads each used account's usage row with store_quota_peek() (one read-only
 * SQLite open per account, no handle, no cache: the store's memory stays what the sessions need);
 * accounts never used have no store and cost a stat(). With 100,000
 * accounts that is seconds of one background thread every interval.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "auth/accounts.h"
#include "http/http_session.h"
#include "lib/log.h"
#include "store/store.h"

struct usage_top {
	char *address;
	uint64_t storage, messages;
};

struct http_usage {
	pthread_mutex_t lock;
	pthread_t thread; /* the census, when has_thread */
	bool has_thread;  /* joined before the next starts, and at free */
	bool is_running;  /* under lock */
	_Atomic bool stop;
	/* The last census, under lock; refreshed_ms 0 = none yet. */
	uint64_t refreshed_ms, took_ms;
	uint64_t accounts, storage, messages;
	struct usage_top *top;
	size_t n_top;
	/* What the running census was asked for (set before it starts). */
	struct store *store;
	char *data_dir;
	size_t want_top;
};

struct http_usage *
http_usage_new(void)
{
	struct http_usage *u = xcalloc(1, sizeof(*u));

	pthread_mutex_init(&u->lock, NULL);
	return u;
}

static void
top_free(struct usage_top *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].address);
	free(v);
}

void
http_usage_free(struct http_usage **up)
{
	struct http_usage *u = *up;

	if (u == NULL)
		return;
	*up = NULL;
	u->stop = true;
	if (u->has_thread)
		pthread_join(u->thread, NULL);
	top_free(u->top, u->n_top);
	free(u->data_dir);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

struct census {
	struct http_usage *u;
	uint64_t accounts, storage, messages;
	struct usage_top *top; /* sorted by storage, largest first */
	size_t n_top;
};

static int
census_account(const struct auth_account *a, void *arg)
{
	struct census *c = arg;
	struct store_quota q;
	enum store_error err;

	if (c->u->stop)
		return 1;
	if (store_quota_peek(c->u->store, a->id, &q, &err) != 0)
		return 0; /* never used, or unreadable (logged) */
	c->accounts++;
	c->storage += q.storage_used;
	c->messages += q.messages_used;
	size_t n = c->n_top, want = c->u->want_top;
	if (want == 0 || (n == want && q.storage_used <= c->top[n - 1].storage))
		return 0;
	if (n == want)
		free(c->top[--n].address); /* the smallest makes room */
	size_t at = n;
	while (at > 0 && c->top[at - 1].storage < q.storage_used)
		at--;
	memmove(&c->top[at + 1], &c->top[at], (n - at) * sizeof(*c->top));
	c->top[at] = (struct usage_top){xstrdup(a->address), q.storage_used, q.messages_used};
	c->n_top = n + 1;
	return 0;
}

static void *
census_main(void *arg)
{
	struct http_usage *u = arg;
	struct census c = {.u = u, .top = xcalloc(u->want_top + 1, sizeof(*c.top))};

	thread_block_signals(); /* signals are the main loop's */
	struct auth_db *db = NULL;
	enum auth_error err;
	char *error = NULL;
	uint64_t start = time_mono_ms();

	if (auth_db_open(u->data_dir, &db, &error) < 0) {
		log_error("http", "event=census-failed err=\"%s\"", error);
		free(error);
	} else if (auth_account_foreach(db, census_account, &c, &err) < 0) {
		log_error("http", "event=census-failed err=\"%s\"", auth_error_str(err));
	}
	auth_db_close(&db);
	pthread_mutex_lock(&u->lock);
	top_free(u->top, u->n_top);
	u->top = c.top;
	u->n_top = c.n_top;
	u->accounts = c.accounts;
	u->storage = c.storage;
	u->messages = c.messages;
	u->refreshed_ms = time_mono_ms();
	u->took_ms = u->refreshed_ms - start;
	u->is_running = false;
	pthread_mutex_unlock(&u->lock);
	return NULL;
}

/* A label value as the text format wants it (\, " and newline escaped). */
static void
label_value(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			buf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *s);
	}
}

void
http_usage_render(struct http_session *s, struct buf *out)
{
	struct http_usage *u = s->srv->usage;
	const struct http_settings *set = &s->site->s;
	uint64_t now = time_mono_ms();

	if (s->srv->store == NULL || s->srv->data_dir == NULL)
		return;
	pthread_mutex_lock(&u->lock);
	if (!u->is_running &&
	    (u->refreshed_ms == 0 || now - u->refreshed_ms >= set->usage_interval_ms)) {
		u->is_running = true;
		u->store = s->srv->store;
		if (u->data_dir == NULL)
			u->data_dir = xstrdup(s->srv->data_dir);
		u->want_top = set->metrics_top;
		/* The last census has finished (!is_running): joining is at once. */
		if (u->has_thread)
			pthread_join(u->thread, NULL);
		u->has_thread = pthread_create(&u->thread, NULL, census_main, u) == 0;
		u->is_running = u->has_thread;
	}
	if (u->refreshed_ms == 0) {
		pthread_mutex_unlock(&u->lock);
		return; /* the first census is running */
	}
	buf_printf(out,
	           "# HELP tern_store_accounts Accounts that have a mail store, at the last "
	           "census.\n# TYPE tern_store_accounts gauge\ntern_store_accounts %llu\n"
	           "# HELP tern_store_bytes Bytes stored in all accounts (quota usage), at the "
	           "last census.\n# TYPE tern_store_bytes gauge\ntern_store_bytes %llu\n"
	           "# HELP tern_store_messages Messages in all accounts, at the last census.\n"
	           "# TYPE tern_store_messages gauge\ntern_store_messages %llu\n"
	           "# HELP tern_store_census_age_seconds Age of the census the store figures "
	           "come from (http.usage_interval).\n"
	           "# TYPE tern_store_census_age_seconds gauge\n"
	           "tern_store_census_age_seconds %.3f\n"
	           "# HELP tern_store_census_duration_seconds How long the last census took.\n"
	           "# TYPE tern_store_census_duration_seconds gauge\n"
	           "tern_store_census_duration_seconds %.3f\n",
	           (unsigned long long)u->accounts, (unsigned long long)u->storage,
	           (unsigned long long)u->messages, (double)(now - u->refreshed_ms) / 1000.0,
	           (double)u->took_ms / 1000.0);
	static const char *const families[2][2] = {
	        {"tern_account_storage_bytes", "Bytes stored by the largest accounts "
	                                       "(http.metrics_top), at the last census."},
	        {"tern_account_messages", "Messages of the largest accounts by storage, at the "
	                                  "last census."},
	};
	for (int f = 0; f < 2 && u->n_top > 0; f++) {
		buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", families[f][0], families[f][1],
		           families[f][0]);
		for (size_t i = 0; i < u->n_top; i++) {
			buf_printf(out, "%s{account=\"", families[f][0]);
			label_value(out, u->top[i].address);
			buf_printf(out, "\"} %llu\n",
			           (unsigned long long)(f == 0 ? u->top[i].storage
			                                       : u->top[i].messages));
		}
	}
	pthread_mutex_unlock(&u->lock);
}
