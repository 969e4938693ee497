/* SPDX-License-Identifier: MIT */
/*
 * store_bench.c: figures for docs/PERFORMANCE.md (not a timed test).
 *   store_bench [-n MESSAGES] [-d DIR]
 * Measures, on a fresh data directory: append rate with fsync, for
 * messages of 1.5 KiB (inline) and 128 KiB (blob files), from memory
 * (struct store_append.data) and streamed through a spool: one writer, 8
 * concurrent writers on one account (the group commit's transactions are
 * counted), one message delivered to 4 accounts (store_deliver), and one
 * writer appending batches of 200 like MULTIAPPEND. Then it builds a mailbox of
 * MESSAGES messages (default 200000; fsync off for the build only) and times
 * STATUS, GETQUOTAROOT, opening the view cold and warm, copying 100,000
 * messages and substring search over the bodies.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/arena.h"
#include "lib/util.h"
#include "store/store.h"
#include "store/store_int.h" /* the group commit's transaction count */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *const words[] = {
        "meeting", "report",  "budget", "review", "project", "deadline", "lunch",  "update",
        "invoice", "release", "server", "backup", "quarter", "customer", "design", "draft",
        "monday",  "friday",  "agenda", "notes",  "travel",  "contract", "launch", "feedback",
};

/* A unique ~1.5 KiB message: headers, then text with a unique token. */
static char *
make_message(unsigned i, size_t *len_out)
{
	char *m = xmalloc(4096);
	size_t n;
	unsigned r = i * 2654435761u;

	n = (size_t)snprintf(m, 4096,
	                     "From: User %u <user%u@example.org>\r\nTo: you@example.org\r\n"
	                     "Subject: %s %s number %u\r\nMessage-ID: <%u@bench>\r\n"
	                     "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nHello,\r\n",
	                     r % 1000, r % 1000, words[r % 24], words[(r >> 8) % 24], i, i);
	for (int line = 0; line < 20; line++) {
		for (int w = 0; w < 8; w++) {
			r = r * 1103515245u + 12345u;
			n += (size_t)snprintf(m + n, 4096 - n, "%s ", words[(r >> 16) % 24]);
		}
		n += (size_t)snprintf(m + n, 4096 - n, "\r\n");
	}
	n += (size_t)snprintf(m + n, 4096 - n, "ref token%08u end\r\n", i);
	*len_out = n;
	return m;
}

/* make_message() grown to ~128 KiB: above store.inline_max, a blob file. */
static char *
make_large(unsigned i, size_t *len_out)
{
	size_t len, cap = 140000;
	char *small = make_message(i, &len), *m = xmalloc(cap);

	memcpy(m, small, len);
	free(small);
	while (len < 128 * 1024)
		len += (size_t)snprintf(m + len, cap - len,
		                        "padding line %zu of a large message\r\n", len);
	*len_out = len;
	return m;
}

enum bench_path {
	PATH_MEMORY,  /* struct store_append.data: the message in memory */
	PATH_SPOOL,   /* streamed through a spool in 16 KiB writes, as from a socket */
	PATH_DELIVER, /* a spool, store_deliver to DELIVER_ACCOUNTS accounts */
};
static const char *const path_names[] = {"memory", "spool", "deliver"};
#define DELIVER_ACCOUNTS 4

struct writer {
	struct store *store;
	unsigned first, count, batch; /* batch: messages per append call */
	enum bench_path path;
	bool large;
};

static struct store_spool *
spool_of(struct store *store, const char *m, size_t len)
{
	struct store_spool *sp;
	enum store_error err;

	if (store_spool_new(store, &sp, &err) < 0)
		exit(1);
	for (size_t off = 0; off < len; off += 16384)
		if (store_spool_write(sp, m + off, MIN((size_t)16384, len - off), &err) < 0)
			exit(1);
	return sp;
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct store_account *acct[DELIVER_ACCOUNTS];
	unsigned n_acct = w->path == PATH_DELIVER ? DELIVER_ACCOUNTS : 1;
	enum store_error err;

	for (unsigned a = 0; a < n_acct; a++)
		if (store_account_open(w->store, 1 + a, &acct[a], &err) < 0)
			return NULL;
	for (unsigned i = 0; i < w->count; i += w->batch) {
		struct store_append ap[200];
		char *m[200];
		unsigned k = MIN(MIN(w->batch, 200u), w->count - i);

		for (unsigned j = 0; j < k; j++) {
			size_t len;

			m[j] = w->large ? make_large(w->first + i + j, &len)
			                : make_message(w->first + i + j, &len);
			ap[j] = (struct store_append){.data = (const unsigned char *)m[j],
			                              .len = len};
			if (w->path != PATH_MEMORY)
				ap[j].spool = spool_of(w->store, m[j], len);
		}
		if (w->path == PATH_DELIVER) {
			struct store_delivery_target tg[DELIVER_ACCOUNTS] = {{0}};

			for (unsigned a = 0; a < n_acct; a++)
				tg[a] = (struct store_delivery_target){.acct = acct[a],
				                                       .mailbox = "INBOX"};
			for (unsigned j = 0; j < k; j++)
				if (store_deliver(ap[j].spool, tg, n_acct) != n_acct)
					fprintf(stderr, "deliver: %s\n",
					        store_error_str(tg[0].err));
		} else if (store_message_append(acct[0], "INBOX", ap, k, NULL, NULL, &err) < 0) {
			fprintf(stderr, "append: %s\n", store_error_str(err));
		}
		for (unsigned j = 0; j < k; j++) {
			store_spool_free(&ap[j].spool);
			free(m[j]);
		}
	}
	for (unsigned a = 0; a < n_acct; a++)
		store_account_close(&acct[a]);
	return NULL;
}

/* Appends with fsync on: threads writers, per_thread messages each, batch
   per call; prints messages per second (for deliver: messages stored, one
   per account) and how many transactions the group commit made. */
static void
bench_append(const char *dir, unsigned threads, unsigned per_thread, unsigned batch,
             enum bench_path path, bool large)
{
	struct store_settings set;
	struct store *store;
	struct store_account *acct;
	struct writer w[8];
	pthread_t th[8];
	enum store_error err;
	char *sub = xasprintf("%s/append-%s-%s-%u-%u", dir, path_names[path],
	                      large ? "large" : "small", threads, batch);
	unsigned stored = threads * per_thread * (path == PATH_DELIVER ? DELIVER_ACCOUNTS : 1);
	uint64_t commits;
	double t0, t1;

	store_settings_defaults(&set);
	if (store_open(sub, &set, &store, &err) < 0)
		exit(1);
	/* Create the accounts, and keep one open for the commit count. */
	writer_main(&(struct writer){store, 1000000, 1, 1, path, false});
	if (store_account_open(store, 1, &acct, &err) < 0)
		exit(1);
	commits = acct->a->commits;
	t0 = now_ms();
	for (unsigned i = 0; i < threads; i++) {
		w[i] = (struct writer){store, i * per_thread, per_thread, batch, path, large};
		pthread_create(&th[i], NULL, writer_main, &w[i]);
	}
	for (unsigned i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	t1 = now_ms();
	commits = acct->a->commits - commits;
	printf("append_fsync path=%s size=%s writers=%u batch=%u messages=%u ms=%.0f rate=%.0f/s"
	       " commits=%llu\n",
	       path_names[path], large ? "128k" : "1.5k", threads, batch, stored, t1 - t0,
	       stored * 1000.0 / (t1 - t0), (unsigned long long)commits);
	store_account_close(&acct);
	store_close(&store);
	free(sub);
}

int
main(int argc, char **argv)
{
	unsigned total = 200000, batch = 1000;
	const char *dir = "build/bench-data";
	struct store_settings set;
	struct store *store;
	struct store_account *acct;
	struct store_mailbox *mb, *mb2;
	struct store_mailbox_info info;
	struct store_quota q;
	struct arena *a = arena_new(1 << 20);
	enum store_error err;
	double t0, t1;
	int opt;
	char *cmd;

	long inline_max = -1; /* -i: store.inline_max for the big mailbox */

	while ((opt = getopt(argc, argv, "n:d:i:")) != -1) {
		if (opt == 'n')
			total = (unsigned)atoi(optarg);
		else if (opt == 'd')
			dir = optarg;
		else if (opt == 'i')
			inline_max = atol(optarg);
	}
	cmd = xasprintf("rm -rf '%s' && mkdir -p '%s'", dir, dir);
	if (system(cmd) != 0)
		return 1;
	free(cmd);

	for (int large = 0; large < 2; large++) {
		unsigned n = large ? 100 : 200;

		for (enum bench_path path = PATH_MEMORY; path <= PATH_SPOOL; path++) {
			bench_append(dir, 1, n, 1, path, large);
			bench_append(dir, 8, n / 4, 1, path, large);
		}
		bench_append(dir, 1, n / 2, 1, PATH_DELIVER, large);
	}
	bench_append(dir, 1, 1000, 200, PATH_MEMORY, false); /* MULTIAPPEND */
	bench_append(dir, 1, 1000, 200, PATH_SPOOL, false);

	/* The big mailbox: fsync off while building (the build is not measured). */
	store_settings_defaults(&set);
	set.no_fsync = true;
	if (inline_max >= 0)
		set.inline_max = (uint64_t)inline_max;
	cmd = xasprintf("%s/big", dir);
	if (store_open(cmd, &set, &store, &err) < 0 ||
	    store_account_open(store, 1, &acct, &err) < 0)
		return 1;
	free(cmd);
	t0 = now_ms();
	for (unsigned i = 0; i < total; i += batch) {
		struct store_append ap[1000];
		char *msgs[1000];
		unsigned k = MIN(batch, total - i);

		for (unsigned j = 0; j < k; j++) {
			size_t len;

			msgs[j] = make_message(i + j, &len);
			ap[j] = (struct store_append){.data = (const unsigned char *)msgs[j],
			                              .len = len,
			                              .flags = (i + j) % 3 ? STORE_FLAG_SEEN : 0};
		}
		if (store_message_append(acct, "INBOX", ap, k, NULL, NULL, &err) < 0) {
			fprintf(stderr, "append: %s\n", store_error_str(err));
			return 1;
		}
		for (unsigned j = 0; j < k; j++)
			free(msgs[j]);
	}
	t1 = now_ms();
	printf("build messages=%u ms=%.0f rate=%.0f/s (no fsync, batches of %u)\n", total, t1 - t0,
	       total * 1000.0 / (t1 - t0), batch);
	/* The FTS index fills in the background; complete it so the search
	   figures below are of the index, not of the pending scan. */
	if (store_account_index_flush(acct, &err) < 0)
		return 1;
	t1 = now_ms();
	printf("build+index messages=%u ms=%.0f rate=%.0f/s (index complete)\n", total, t1 - t0,
	       total * 1000.0 / (t1 - t0));

	/* STATUS and GETQUOTAROOT: one row each. */
	t0 = now_ms();
	for (int i = 0; i < 1000; i++) {
		arena_reset(a);
		store_mailbox_status(acct, "INBOX", a, &info, &err);
	}
	t1 = now_ms();
	printf("status messages=%u unseen=%u avg_ms=%.4f\n", info.messages, info.unseen,
	       (t1 - t0) / 1000);
	t0 = now_ms();
	for (int i = 0; i < 1000; i++)
		store_quota_get(acct, &q, &err);
	t1 = now_ms();
	printf("getquotaroot storage=%llu avg_ms=%.4f\n", (unsigned long long)q.storage_used,
	       (t1 - t0) / 1000);

	/* View: cold (first open after the account was closed), then warm. */
	store_account_close(&acct);
	store_account_open(store, 1, &acct, &err);
	t0 = now_ms();
	store_mailbox_open(acct, "INBOX", 0, &mb, &err);
	t1 = now_ms();
	printf("view_open cold messages=%u ms=%.1f\n", store_mailbox_count(mb), t1 - t0);
	t0 = now_ms();
	store_mailbox_open(acct, "INBOX", 0, &mb2, &err);
	t1 = now_ms();
	printf("view_open warm ms=%.3f\n", t1 - t0);
	store_mailbox_close(&mb2);

	/* COPY 100,000 (or all, if fewer). */
	{
		uint32_t n_copy = MIN(100000u, store_mailbox_count(mb)), cnt;
		const uint32_t *uids = store_mailbox_uids(mb, &cnt);
		uint32_t *src = xmalloc(n_copy * sizeof(*src)),
		         *dst = xmalloc(n_copy * sizeof(*dst));
		size_t copied;

		t0 = now_ms();
		if (store_message_copy(mb, uids, n_copy, "Archive", false, NULL, src, dst, &copied,
		                       &err) < 0)
			fprintf(stderr, "copy: %s\n", store_error_str(err));
		t1 = now_ms();
		printf("copy messages=%zu ms=%.0f\n", copied, t1 - t0);
		free(src);
		free(dst);
	}

	/* Substring search over the bodies. */
	{
		static const struct {
			enum store_text_field f;
			const char *needle;
		} q2[] = {
		        {STORE_TEXT_BODY, "token00012345"},  /* one message */
		        {STORE_TEXT_BODY, "oken0001234"},    /* 10 messages, mid-word */
		        {STORE_TEXT_BODY, "TOKEN0000"},      /* 10,000 messages */
		        {STORE_TEXT_SUBJECT, "number 4242"}, /* header field */
		        {STORE_TEXT_BODY, "zz"},             /* short: scan fallback */
		};
		for (size_t i = 0; i < ARRAY_LEN(q2); i++) {
			uint32_t *uids;
			size_t n = 0;

			arena_reset(a);
			t0 = now_ms();
			store_search_text(mb, q2[i].f, q2[i].needle, COLLATION_DEFAULT, a, &uids,
			                  &n, &err);
			t1 = now_ms();
			printf("search needle=\"%s\" hits=%zu ms=%.1f\n", q2[i].needle, n, t1 - t0);
		}
	}

	/* SEARCH SUBJECT and SORT (SUBJECT) under each comparator (RFC 5255
	   4): i;unicode-casemap scans the cached subjects, the others narrow
	   by the header index first. */
	for (int c = 0; c < COLLATION_COUNT; c++) {
		const struct store_sort by_subject = {STORE_SORT_SUBJECT, false};
		uint32_t *uids;
		size_t n = 0;

		arena_reset(a);
		t0 = now_ms();
		store_search_text(mb, STORE_TEXT_SUBJECT, "number 4242", (enum collation)c, a, &uids,
		                  &n, &err);
		t1 = now_ms();
		printf("search subject collation=%s hits=%zu ms=%.1f\n",
		       collation_name((enum collation)c), n, t1 - t0);
		arena_reset(a);
		t0 = now_ms();
		store_sort_uids(mb, &by_subject, 1, (enum collation)c, a, &uids, &n, &err);
		t1 = now_ms();
		printf("sort subject collation=%s messages=%zu ms=%.1f\n",
		       collation_name((enum collation)c), n, t1 - t0);
	}
	store_mailbox_close(&mb);
	store_account_close(&acct);
	store_close(&store);
	arena_free(&a);
	return 0;
}
