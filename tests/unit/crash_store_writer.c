/* SPDX-License-Identifier: MIT */
/*
 * crash_store_writer.c: helper for tests/integration/test_store_crash.py
 * (not a unit test itself; the Makefile builds it with the unit tests).
 *   crash_store_writer write DIR THREADS   append forever from THREADS threads;
 *                                          after each commit print "uid sha256"
 *   crash_store_writer dump DIR            print "uid sha256" of every INBOX
 *                                          message, hashing the stored bytes
 *   crash_store_writer check DIR           store_check() without repair
 *   crash_store_writer repair DIR          store_check() with repair
 * The script SIGKILLs "write" at random moments: every line it printed must
 * survive, byte for byte. fsync is on: this is the real durability path.
 * store.inline_max is 2 KiB here, so the messages (up to ~5 KiB) fall on
 * both sides of it: inline blobs and blob files are both crash-tested.
 */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static void *
writer(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg, seed = id * 7919u + (unsigned)getpid();
	struct store_account *acct;
	enum store_error err;

	if (store_account_open(store, 1, &acct, &err) < 0)
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
		struct store_append ap = {
		        .data = (const unsigned char *)m.data, .len = m.len, .flags = 0};
		if (store_message_append(acct, "INBOX", &ap, 1, NULL, &uid, &err) == 0) {
			sha256_hex(m.data, m.len, hex);
			pthread_mutex_lock(&out_lock);
			printf("%u %s\n", uid, hex);
			fflush(stdout);
			pthread_mutex_unlock(&out_lock);
		}
		buf_deinit(&m);
	}
	return NULL;
}

static int
dump(void)
{
	struct store_account *acct;
	struct store_mailbox *mb;
	enum store_error err;
	uint32_t count;
	const uint32_t *uids;
	int rc = 0;

	if (store_account_open(store, 1, &acct, &err) < 0 ||
	    store_mailbox_open(acct, "INBOX", STORE_OPEN_READONLY, &mb, &err) < 0)
		return 1;
	uids = store_mailbox_uids(mb, &count);
	for (uint32_t i = 0; i < count; i++) {
		struct buf b;
		char hex[65];

		buf_init(&b);
		if (store_message_read(mb, uids[i], 0, UINT64_MAX, &b, &err) < 0) {
			printf("%u error %s\n", uids[i], store_error_str(err));
			rc = 1;
		} else {
			sha256_hex(b.data, b.len, hex);
			printf("%u %s\n", uids[i], hex);
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
	if (strcmp(argv[1], "check") == 0 || strcmp(argv[1], "repair") == 0) {
		int rc = store_check(argv[2], strcmp(argv[1], "repair") == 0, stdout);
		return rc < 0 ? 2 : rc;
	}
	struct store_settings set;

	store_settings_defaults(&set);
	set.inline_max = 2048;
	if (store_open(argv[2], &set, &store, &err) < 0)
		return 2;
	if (strcmp(argv[1], "dump") == 0)
		return dump();
	threads = argc > 3 ? atoi(argv[3]) : 4;
	for (int i = 0; i < threads; i++) {
		pthread_t th;

		pthread_create(&th, NULL, writer, (void *)(uintptr_t)i);
	}
	pause();
	return 0;
}
