/* SPDX-License-Identifier: MIT */
/*
 * crash_store_writer.c: helper for tests/integration/test_store_crash.py
 * (not a unit test itself; the Makefile builds it with the unit tests).
 *   crash_store_writer write DIR THREADS   append forever from THREADS threads;
 *                                          after each commit print
 *                                          "account uid sha256"; one more
 *                                          thread expunges the older half of
 *                                          account 1's INBOX now and then,
 *                                          printing "x account uid" first
 *   crash_store_writer dump DIR            print "account uid sha256" of every
 *                                          INBOX message of accounts 1 and 2,
 *                                          hashing the stored bytes
 *   crash_store_writer check DIR           store_check() without repair
 *   crash_store_writer repair DIR          store_check() with repair
 * The script SIGKILLs "write" at random moments: every line it printed must
 * survive, byte for byte. fsync is on: this is the real durability path.
 * store.inline_max is 2 KiB here, so the messages (up to ~5 KiB) fall on
 * both sides of it: inline blobs and blob files are both crash-tested.
 * Even threads append from memory to account 1; odd ones stream each
 * message through a spool in random chunks and store_deliver it to
 * accounts 1 and 2 (one file linked into both). The expunges leave their
 * blobs to the background collection (src/store/expunge.c), so kills land
 * in the middle of it too; a message announced with "x" may or may not
 * survive.
 */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "store/store.h"

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store *store;

static void
sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

static void
print_stored(uint64_t account, uint32_t uid, const char *hex)
{
	pthread_mutex_lock(&out_lock);
	printf("%llu %u %s\n", (unsigned long long)account, uid, hex);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

/* Streams m through a spool in random chunks, delivers it to both accounts
   and prints each target that was stored. */
static void
deliver_spooled(struct store_account *acct[2], const struct buf *m, unsigned *seed, const char *hex)
{
	struct store_delivery_target tg[2] = {{0}, {0}};
	struct store_spool *sp;
	enum store_error err;

	if (store_spool_new(store, &sp, &err) < 0)
		return;
	for (size_t off = 0; off < m->len;) {
		size_t k = 1 + (size_t)rand_r(seed) % 3000;

		k = k > m->len - off ? m->len - off : k;
		if (store_spool_write(sp, m->data + off, k, &err) < 0)
			break;
		off += k;
	}
	for (int i = 0; i < 2; i++) {
		tg[i].acct = acct[i];
		tg[i].mailbox = "INBOX";
	}
	store_deliver(sp, tg, 2);
	for (int i = 0; i < 2; i++)
		if (tg[i].err == STORE_ERR_NONE)
			print_stored(store_account_id(acct[i]), tg[i].uid, hex);
	store_spool_free(&sp);
}

static void *
writer(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg, seed = id * 7919u + (unsigned)getpid();
	struct store_account *acct[2];
	enum store_error err;

	if (store_account_open(store, 1, &acct[0], &err) < 0 ||
	    store_account_open(store, 2, &acct[1], &err) < 0)
		return NULL;
	for (unsigned i = 0;; i++) {
		struct buf m;
		char hex[65];
		uint32_t uid;

		buf_init(&m);
		buf_printf(&m, "Subject: crash %u/%u\r\nMessage-ID: <%u.%u.%d@crash>\r\n\r\n", id,
		           i, id, i, getpid());
		for (unsigned k = rand_r(&seed) % 200; k > 0; k--)
			buf_printf(&m, "line %u %u\r\n", k, rand_r(&seed));
		sha256_hex(m.data, m.len, hex);
		if (id % 2 == 1) {
			deliver_spooled(acct, &m, &seed, hex);
		} else {
			struct store_append ap = {.data = (const unsigned char *)m.data,
			                          .len = m.len};
			if (store_message_append(acct[0], "INBOX", &ap, 1, NULL, &uid, &err) == 0)
				print_stored(1, uid, hex);
		}
		buf_deinit(&m);
	}
	return NULL;
}

/* Every 50 ms, once account 1's INBOX has 40 messages, removes the older
   half, announcing each uid before the expunge can commit. */
static void *
expunger(void *arg)
{
	struct store_account *acct;
	struct store_mailbox *mb;
	struct arena *a = arena_new(4096);
	enum store_error err;

	(void)arg;
	if (store_account_open(store, 1, &acct, &err) < 0 ||
	    store_mailbox_open(acct, "INBOX", 0, &mb, &err) < 0)
		return NULL;
	for (;;) {
		uint32_t count, *gone;
		const uint32_t *uids;
		size_t n;

		usleep(50000);
		if (store_mailbox_sync(mb, NULL, NULL, &err) < 0)
			continue;
		uids = store_mailbox_uids(mb, &count);
		if (count < 40)
			continue;
		pthread_mutex_lock(&out_lock);
		for (uint32_t i = 0; i < count / 2; i++)
			printf("x 1 %u\n", uids[i]);
		fflush(stdout);
		pthread_mutex_unlock(&out_lock);
		arena_reset(a);
		store_message_remove(mb, uids, count / 2, a, &gone, &n, &err);
	}
	return NULL;
}

static int
dump_account(uint64_t id)
{
	struct store_account *acct;
	struct store_mailbox *mb;
	enum store_error err;
	uint32_t count;
	const uint32_t *uids;
	int rc = 0;

	if (store_account_open(store, id, &acct, &err) < 0 ||
	    store_mailbox_open(acct, "INBOX", STORE_OPEN_READONLY, &mb, &err) < 0)
		return 1;
	uids = store_mailbox_uids(mb, &count);
	for (uint32_t i = 0; i < count; i++) {
		struct buf b;
		char hex[65];

		buf_init(&b);
		if (store_message_read(mb, uids[i], 0, UINT64_MAX, &b, &err) < 0) {
			printf("%llu %u error %s\n", (unsigned long long)id, uids[i],
			       store_error_str(err));
			rc = 1;
		} else {
			sha256_hex(b.data, b.len, hex);
			printf("%llu %u %s\n", (unsigned long long)id, uids[i], hex);
		}
		buf_deinit(&b);
	}
	store_mailbox_close(&mb);
	store_account_close(&acct);
	return rc;
}

int
main(int argc, char **argv)
{
	enum store_error err;
	int threads;

	if (argc < 3)
		return 2;
	struct store_settings set;

	store_settings_defaults(&set);
	set.inline_max = 2048;
	if (store_open(argv[2], &set, &store, &err) < 0)
		return 2;
	if (strcmp(argv[1], "check") == 0 || strcmp(argv[1], "repair") == 0) {
		int rc = store_check(store, strcmp(argv[1], "repair") == 0, stdout);
		store_close(&store);
		return rc < 0 ? 2 : rc;
	}
	if (strcmp(argv[1], "dump") == 0)
		return dump_account(1) | dump_account(2);
	threads = argc > 3 ? atoi(argv[3]) : 4;
	for (int i = 0; i < threads; i++) {
		pthread_t th;

		pthread_create(&th, NULL, writer, (void *)(uintptr_t)i);
	}
	pthread_t th;
	pthread_create(&th, NULL, expunger, NULL);
	pause();
	return 0;
}
