/* SPDX-License-Identifier: MIT */
/*
 * watch_bench.c: what the store's watch (src/store/watch.c) costs with many
 * open accounts: N accounts open, INBOX of each open (a view loaded), then
 * the sweep's work timed: the backend's poll of every account (SQLite:
 * PRAGMA data_version) and a catch-up of those it says changed. Also the
 * datagram path: another store writes to one account, and the time until
 * the watched session is woken.
 *
 *   make build/bench/watch_bench && ./build/bench/watch_bench -n 4000
 *
 * Each open account holds ~4 file descriptors (index.db, its WAL and shm,
 * the blob directory), so N is bounded by ulimit -n / 4.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "store/backend.h"
#include "store/store_core.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct waker {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int wakes;
};

static void
on_wake(void *arg)
{
	struct waker *w = arg;

	pthread_mutex_lock(&w->lock);
	w->wakes++;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* The sweep's work over every account: poll, and catch up the changed. */
static double
sweep_ms(struct store_account **accts, size_t n, size_t *changed_out)
{
	double t = now_ms();

	*changed_out = 0;
	for (size_t i = 0; i < n; i++) {
		struct account *a = accts[i]->a;
		bool changed = true;

		if (a->store->backend->account_poll(a, &changed) < 0 || changed) {
			changes_catch_up(a);
			(*changed_out)++;
		}
	}
	return now_ms() - t;
}

int
main(int argc, char **argv)
{
	size_t n = 1000;
	struct store_settings set;
	struct store *store, *other;
	enum store_error err;
	char dir[] = "/tmp/tern-watch-bench-XXXXXX";
	struct rlimit rl;

	for (int i = 1; i + 1 < argc; i += 2)
		if (strcmp(argv[i], "-n") == 0)
			n = (size_t)atol(argv[i + 1]);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (mkdtemp(dir) == NULL)
		return 1;
	store_settings_defaults(&set);
	set.no_fsync = true;
	set.pool_idle = 1;
	if (store_open(dir, &set, &store, &err) < 0)
		return 1;

	struct store_account **accts = xcalloc(n, sizeof(*accts));
	struct store_mailbox **boxes = xcalloc(n, sizeof(*boxes));
	double t = now_ms();
	for (size_t i = 0; i < n; i++) {
		if (store_account_open(store, i + 1, &accts[i], &err) < 0 ||
		    store_mailbox_open(accts[i], "INBOX", 0, &boxes[i], &err) < 0) {
			fprintf(stderr, "account %zu: %s\n", i + 1, store_error_str(err));
			return 1;
		}
	}
	printf("%zu accounts created and open, INBOX of each open: %.0f ms\n", n, now_ms() - t);

	size_t changed;
	double first = sweep_ms(accts, n, &changed);
	printf("first sweep (every connection new: all count as changed): %.1f ms, %zu caught up\n",
	       first, changed);
	double quiet = 0;
	for (int k = 0; k < 5; k++)
		quiet += sweep_ms(accts, n, &changed);
	printf("sweep, nothing changed: %.1f ms (%.2f us per account), %zu caught up\n", quiet / 5,
	       quiet / 5 * 1000 / (double)n, changed);

	/* Another "process": a second store writes to 100 of the accounts. */
	if (store_open(dir, &set, &other, &err) < 0)
		return 1;
	size_t step = n / 100 > 0 ? n / 100 : 1, wrote = 0;
	for (size_t i = 0; i < n; i += step) {
		struct store_account *oa;
		struct store_append ap = {
		        (const unsigned char *)"Subject: x\r\n\r\nx\r\n", 17, 0, NULL, 0, 0};

		store_account_open(other, i + 1, &oa, &err);
		store_message_append(oa, "INBOX", &ap, 1, NULL, NULL, &err);
		store_account_close(&oa);
		wrote++;
	}
	double some = sweep_ms(accts, n, &changed);
	printf("sweep after another store wrote to %zu accounts: %.1f ms, %zu caught up\n", wrote,
	       some, changed);

	/* The datagram path with all of them open: write, time the wake. */
	struct waker w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
	size_t target = n / 2;
	double lat = 0;
	int rounds = 20;
	if (store_watch_start(store, &err) < 0)
		return 1;
	store_mailbox_watch(boxes[target], on_wake, &w);
	for (int r = 0; r < rounds; r++) {
		struct store_account *oa;
		struct store_append ap = {
		        (const unsigned char *)"Subject: y\r\n\r\ny\r\n", 17, 0, NULL, 0, 0};

		store_account_open(other, target + 1, &oa, &err);
		double t0 = now_ms();
		store_message_append(oa, "INBOX", &ap, 1, NULL, NULL, &err);
		double t1 = now_ms();
		pthread_mutex_lock(&w.lock);
		while (w.wakes < r + 1)
			pthread_cond_wait(&w.cond, &w.lock);
		pthread_mutex_unlock(&w.lock);
		lat += now_ms() - t1;
		(void)t0;
		store_account_close(&oa);
	}
	printf("another store's append -> wake-up (commit returned to woken), %zu open: %.3f ms\n",
	       n, lat / rounds);

	store_close(&other);
	for (size_t i = 0; i < n; i++) {
		store_mailbox_close(&boxes[i]);
		store_account_close(&accts[i]);
	}
	store_close(&store);
	free(accts);
	free(boxes);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return 0;
}
