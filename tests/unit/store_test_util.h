/* SPDX-License-Identifier: MIT */
/*
 * store_test_util.h: helpers shared by the test_store*.c files: a fresh
 * data directory per test, a store opened without fsync (tests are about
 * logic; durability order is tested with the fault hooks), and one-line
 * append/status helpers.
 */
#ifndef TERN_TESTS_STORE_TEST_UTIL_H
#define TERN_TESTS_STORE_TEST_UTIL_H

#include <ftw.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "store/store.h"

static int
rm_one_(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void
tdir_remove(char *dir)
{
	nftw(dir, rm_one_, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static inline char *
tdir_new(void)
{
	char *d = xstrdup("/tmp/tern-test-store-XXXXXX");

	if (mkdtemp(d) == NULL)
		abort();
	return d;
}

/* Files under the test account's blobs/ (-1 if find fails). */
static inline size_t
tblob_files(const char *dir)
{
	char cmd[512];
	FILE *p;
	size_t n = 0;

	snprintf(cmd, sizeof(cmd), "find %s/accounts/7/blobs -type f | wc -l", dir);
	p = popen(cmd, "r");
	if (p == NULL || fscanf(p, "%zu", &n) != 1)
		n = (size_t)-1;
	if (p != NULL)
		pclose(p);
	return n;
}

/* Runs SQL on the test account's index.db behind the store's back. */
static inline void
tsql(const char *dir, const char *stmt)
{
	char *path = xasprintf("%s/accounts/7/index.db", dir);
	sqlite3 *h;

	if (sqlite3_open(path, &h) != SQLITE_OK || sqlite3_exec(h, stmt, 0, 0, 0) != SQLITE_OK)
		printf("sql failed: %s\n", sqlite3_errmsg(h));
	sqlite3_close(h);
	free(path);
}

/* What a version 4 index.db lacks (schema.c, 4 -> 5: the quota columns;
   5 -> 6: the metadata table; 6 -> 7: acl; 7 -> 8: fuzzy search's tables),
   for tests that turn a database back into an older one. The counter
   triggers go too: the upgrade makes them again. */
#define TSQL_BACK_TO_4                                                                                     \
	"DROP TABLE metadata; DROP TABLE acl; DROP TABLE annotations; DROP TRIGGER messages_insert;"       \
	"DROP TRIGGER messages_delete; DROP TRIGGER messages_annotations; DROP TABLE seen;"                \
	"DROP TRIGGER messages_seen;"                                                                      \
	"DROP TABLE fuzzy_vocab; DROP TABLE fuzzy_words; DROP TABLE fuzzy_index;"                        \
	"DROP TABLE fuzzy_backlog;"                                                                        \
	"DROP TRIGGER messages_flags; DROP TRIGGER mailboxes_insert;"                                      \
	"DROP TRIGGER mailboxes_delete; ALTER TABLE account DROP COLUMN mailboxes_used;"                   \
	"ALTER TABLE account DROP COLUMN mailboxes_limit;"                                                 \
	"ALTER TABLE mailboxes DROP COLUMN deleted_size; DROP INDEX blobs_no_preview;"                     \
	"ALTER TABLE blobs DROP COLUMN preview;"                                                           \
	"UPDATE account SET schema_version = 4;"

/* The first column of the first row of stmt, or -1. */
static inline int64_t
tsql_int(const char *dir, const char *stmt)
{
	char *path = xasprintf("%s/accounts/7/index.db", dir);
	sqlite3 *h;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_open(path, &h) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, stmt, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	free(path);
	return v;
}

struct tstore {
	char *dir;
	struct store *store;
	struct store_account *acct;
};

static inline void
tstore_open_with(struct tstore *t, struct store_settings *set)
{
	enum store_error err;

	t->dir = tdir_new();
	set->no_fsync = true;
	if (store_open(t->dir, set, &t->store, &err) < 0 ||
	    store_account_open(t->store, 7, &t->acct, &err) < 0) {
		printf("cannot open store: %s\n", store_error_str(err));
		abort();
	}
}

static inline void
tstore_open(struct tstore *t)
{
	struct store_settings set;

	store_settings_defaults(&set);
	tstore_open_with(t, &set);
}

static inline void
tstore_close(struct tstore *t)
{
	store_account_close(&t->acct);
	store_close(&t->store);
	tdir_remove(t->dir);
}

/* Appends one message; returns its uid or 0 (err in *errp if given). */
static inline uint32_t
tappend(struct tstore *t, const char *box, const char *msg, uint32_t flags)
{
	struct store_append ap = {
	        .data = (const unsigned char *)msg, .len = strlen(msg), .flags = flags};
	uint32_t uid = 0, uv;
	enum store_error err;

	if (store_message_append(t->acct, box, &ap, 1, &uv, &uid, &err) < 0)
		return 0;
	return uid;
}

/* A spool holding len bytes of msg, written in chunks of chunk bytes
   (0: one write); NULL if a write failed (*errp says why). */
static inline struct store_spool *
tspool(struct store *store, const void *msg, size_t len, size_t chunk, enum store_error *errp)
{
	struct store_spool *sp;
	enum store_error err = STORE_ERR_NONE;

	if (store_spool_new(store, &sp, &err) < 0) {
		*errp = err;
		return NULL;
	}
	for (size_t off = 0; off < len;) {
		size_t k = chunk == 0 || chunk > len - off ? len - off : chunk;

		if (store_spool_write(sp, (const char *)msg + off, k, &err) < 0) {
			*errp = err;
			store_spool_free(&sp);
			return NULL;
		}
		off += k;
	}
	*errp = STORE_ERR_NONE;
	return sp;
}

/* Every byte of uid in box of acct into out (reset first); 0 or -1. */
static inline int
tread(struct store_account *acct, const char *box, uint32_t uid, struct buf *out)
{
	struct store_mailbox *mb;
	enum store_error err;
	int rc;

	out->len = 0;
	if (store_mailbox_open(acct, box, STORE_OPEN_READONLY, &mb, &err) < 0)
		return -1;
	rc = store_message_read(mb, uid, 0, UINT64_MAX, out, &err);
	store_mailbox_close(&mb);
	return rc;
}

static inline struct store_mailbox_info
tstatus(struct tstore *t, const char *box)
{
	struct store_mailbox_info info;
	enum store_error err;
	struct arena *a = arena_new(1024);

	memset(&info, 0, sizeof(info));
	if (store_mailbox_status(t->acct, box, a, &info, &err) < 0)
		info.uidvalidity = 0;
	info.name = NULL;
	arena_free(&a);
	return info;
}

static inline int
tcheck(struct tstore *t, bool repair, char *report, size_t cap)
{
	FILE *f = fmemopen(report, cap, "w");
	int rc = store_check(t->store, repair, f);

	fclose(f);
	return rc;
}

#endif
