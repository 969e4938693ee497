/* SPDX-License-Identifier: MIT */
/* test_store_inline.c: messages up to store.inline_max live in index.db
   (blob_data), larger ones in blob files: both read back byte for byte
   (store_message_read and a reader), share by COPY, go with their last
   reference, are verified and repaired by check, and a version 2 database
   (files only, no blobs.data) is upgraded in place. */
#include "store_test_util.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include "store/store_int.h"
#include "test.h"

#define INLINE_MAX 1024

static const char small[] = "From: a@example.org\r\nSubject: small\r\n\r\nsmall body\r\n";

static void
topen(struct tstore *t)
{
	struct store_settings set;

	store_settings_defaults(&set);
	test_int_eq(-1, set.inline_max, 64 << 10);
	set.inline_max = INLINE_MAX;
	tstore_open_with(t, &set);
}

/* A message of exactly len bytes (CRLF lines, so stored unchanged). */
static char *
message_of(size_t len, char fill)
{
	static const char head[] = "Subject: big\r\n\r\n";
	char *m = xmalloc(len + 1);

	memcpy(m, head, sizeof(head) - 1);
	for (size_t i = sizeof(head) - 1; i < len; i++)
		m[i] = (i % 64 == 62) ? '\r' : (i % 64 == 63) ? '\n' : fill;
	m[len - 2] = '\r';
	m[len - 1] = '\n';
	m[len] = '\0';
	return m;
}

/* All bytes of uid through store_message_read and through a reader; a
   file blob's reader also has an fd of the right size, an inline one none
   (the caller copies). */
static void
expect_bytes(int row, struct store_mailbox *mb, uint32_t uid, const char *want, bool is_file)
{
	struct arena *a = arena_new(4096);
	struct store_message_info info;
	struct store_reader *r;
	enum store_error err;
	struct buf b;
	size_t len = strlen(want);

	buf_init(&b);
	test_int_eq(row, store_message_read(mb, uid, 0, UINT64_MAX, &b, &err), 0);
	test_int_eq(row, b.len, len);
	test_assert(row, b.len == len && memcmp(b.data, want, len) == 0);
	b.len = 0;
	test_int_eq(row, store_message_read(mb, uid, 5, 7, &b, &err), 0);
	test_assert(row, b.len == 7 && memcmp(b.data, want + 5, 7) == 0);
	b.len = 0;
	test_int_eq(row, store_message_read(mb, uid, len + 10, 7, &b, &err), 0);
	test_int_eq(row, b.len, 0);

	test_int_eq(row, store_message_lookup(mb, &uid, 1, 0, a, &info, &err), 0);
	r = store_reader_new();
	test_int_eq(row, store_reader_open(r, mb, &info, &err), 0);
	test_int_eq(row, store_reader_size(r), len);
	b.len = 0;
	test_int_eq(row, store_reader_read(r, 0, UINT64_MAX, &b, &err), 0);
	test_assert(row, b.len == len && memcmp(b.data, want, len) == 0);
	b.len = 0; /* two ranges of one reader, the second past the end */
	test_int_eq(row, store_reader_read(r, len - 3, 2, &b, &err), 0);
	test_int_eq(row, store_reader_read(r, len - 1, 100, &b, &err), 0);
	test_assert(row, b.len == 3 && memcmp(b.data, want + len - 3, 3) == 0);
	test_int_eq(row, store_reader_fd(r) >= 0, is_file);
	if (is_file) {
		struct stat st;
		test_int_eq(row, fstat(store_reader_fd(r), &st), 0);
		test_int_eq(row, st.st_size, (off_t)len);
	}
	store_reader_close(r);
	test_int_eq(row, store_reader_fd(r), -1);
	store_reader_free(&r);
	buf_deinit(&b);
	arena_free(&a);
}

static void
test_small_inline_big_file(void)
{
	struct tstore t;
	struct store_mailbox *mb;
	enum store_error err;
	char *big = message_of(INLINE_MAX + 1, 'b');
	char *edge = message_of(INLINE_MAX, 'e');
	char report[4096];

	topen(&t);
	test_int_eq(-1, tappend(&t, "INBOX", small, 0), 1);
	test_int_eq(-1, tblob_files(t.dir), 0); /* inline: no file */
	test_int_eq(-1, tappend(&t, "INBOX", edge, 0), 2);
	test_int_eq(-1, tblob_files(t.dir), 0); /* exactly inline_max: inline */
	test_int_eq(-1, tappend(&t, "INBOX", big, 0), 3);
	test_int_eq(-1, tblob_files(t.dir), 1);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM blobs WHERE data IS NULL"), 1);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM blobs WHERE data IS NOT NULL"), 2);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	expect_bytes(1, mb, 1, small, false);
	expect_bytes(2, mb, 2, edge, false);
	expect_bytes(3, mb, 3, big, true);
	store_mailbox_close(&mb);
	test_int_eq(-1, tcheck(&t, false, report, sizeof(report)), 0);
	test_assert(-1, strstr(report, "problems=0") != NULL);
	free(big);
	free(edge);
	tstore_close(&t);
}

static void
test_copy_shares_and_last_expunge_removes_row(void)
{
	struct tstore t;
	struct store_mailbox *inbox, *arch;
	struct arena *a = arena_new(1024);
	uint32_t one = 1, src[1], dst[1], uv, *gone;
	size_t n, ng;
	enum store_error err;
	char report[4096];

	topen(&t);
	tappend(&t, "INBOX", small, 0);
	/* The same bytes again: the same row, a second reference. */
	tappend(&t, "INBOX", small, 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM blobs"), 1);
	test_int_eq(-1, tsql_int(t.dir, "SELECT refs FROM blobs"), 2);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &inbox, &err), 0);
	test_int_eq(-1,
	            store_message_copy(inbox, &one, 1, "Archive", false, &uv, src, dst, &n, &err),
	            0);
	test_int_eq(-1, n, 1);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM blobs"), 1);
	test_int_eq(-1, tsql_int(t.dir, "SELECT refs FROM blobs"), 3);
	uint32_t both[] = {1, 2};
	test_int_eq(-1, store_message_remove(inbox, both, 2, a, &gone, &ng, &err), 0);
	test_int_eq(-1, ng, 2);
	test_int_eq(-1, tsql_int(t.dir, "SELECT refs FROM blobs"), 1);
	test_int_eq(-1, store_mailbox_open(t.acct, "Archive", 0, &arch, &err), 0);
	expect_bytes(-1, arch, dst[0], small, false);
	test_int_eq(-1, store_message_remove(arch, dst, 1, a, &gone, &ng, &err), 0);
	test_int_eq(-1, store_account_index_flush(t.acct, &err), 0); /* the collection */
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM blobs"), 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM texts"), 0);
	test_int_eq(-1, tblob_files(t.dir), 0);
	/* Read after the expunge: _EXPUNGED, not _CORRUPT. */
	struct buf b;
	buf_init(&b);
	test_int_eq(-1, store_message_read(arch, dst[0], 0, 10, &b, &err), -1);
	test_int_eq(-1, err, STORE_ERR_EXPUNGED);
	buf_deinit(&b);
	store_mailbox_close(&arch);
	store_mailbox_close(&inbox);
	test_int_eq(-1, tcheck(&t, false, report, sizeof(report)), 0);
	arena_free(&a);
	tstore_close(&t);
}

/* A file blob of the same bytes (stored when inline_max was lower) is
   reused by a later small append, and the other way round. */
static void
test_dedup_across_kinds(void)
{
	struct tstore t;
	struct store_settings set;
	struct store_mailbox *mb;
	enum store_error err;
	char report[4096];
	char *mid = message_of(600, 'm');

	store_settings_defaults(&set);
	set.inline_max = 0;
	tstore_open_with(&t, &set);
	tappend(&t, "INBOX", small, 0);
	test_int_eq(-1, tblob_files(t.dir), 1);
	/* Same data dir, inline now. */
	store_account_close(&t.acct);
	store_close(&t.store);
	set.inline_max = INLINE_MAX;
	test_int_eq(-1, store_open(t.dir, &set, &t.store, &err), 0);
	test_int_eq(-1, store_account_open(t.store, 7, &t.acct, &err), 0);
	tappend(&t, "INBOX", small, 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM blobs"), 1);
	test_int_eq(-1, tsql_int(t.dir, "SELECT refs FROM blobs WHERE data IS NULL"), 2);
	test_int_eq(-1, tblob_files(t.dir), 1);
	tappend(&t, "INBOX", mid, 0); /* inline */
	/* And back: a file-sized limit meets the inline row. */
	store_account_close(&t.acct);
	store_close(&t.store);
	set.inline_max = 100;
	test_int_eq(-1, store_open(t.dir, &set, &t.store, &err), 0);
	test_int_eq(-1, store_account_open(t.store, 7, &t.acct, &err), 0);
	test_int_eq(-1, tappend(&t, "INBOX", mid, 0), 4);
	test_int_eq(-1, tsql_int(t.dir, "SELECT refs FROM blobs WHERE data IS NOT NULL"), 2);
	test_int_eq(-1, tblob_files(t.dir), 1); /* no stray file for the inline row */
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	expect_bytes(1, mb, 2, small, true); /* the file row, reused */
	expect_bytes(2, mb, 4, mid, false);
	store_mailbox_close(&mb);
	test_int_eq(-1, tcheck(&t, false, report, sizeof(report)), 0);
	test_assert(-1, strstr(report, "problems=0") != NULL);
	free(mid);
	tstore_close(&t);
}

static void
test_check_verifies_inline_blobs(void)
{
	struct tstore t;
	struct store_mailbox *mb;
	struct arena *a = arena_new(1024);
	enum store_error err;
	char report[4096];
	struct buf b;
	uint32_t *gone;
	size_t n;
	struct store_message_info info;
	struct store_reader *r;
	uint32_t two = 2;

	topen(&t);
	tappend(&t, "INBOX", small, 0);
	tappend(&t, "INBOX", "Subject: two\r\n\r\n2\r\n", 0);
	tappend(&t, "INBOX", "Subject: three\r\n\r\n3\r\n", 0);
	/* Same size, other bytes: only the hash tells. And a short one. */
	tsql(t.dir, "UPDATE blob_data SET data = CAST(replace(CAST(data AS TEXT), 'small body',"
	            " 'SMALL BODY') AS BLOB) WHERE id = 1");
	tsql(t.dir, "UPDATE blob_data SET data = X'41' WHERE id = 2");
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	buf_init(&b);
	test_int_eq(-1, store_message_read(mb, 2, 0, 10, &b, &err), -1);
	test_int_eq(-1, err, STORE_ERR_CORRUPT);
	test_int_eq(-1, store_message_lookup(mb, &two, 1, 0, a, &info, &err), 0);
	r = store_reader_new();
	test_int_eq(-1, store_reader_open(r, mb, &info, &err), -1);
	test_int_eq(-1, err, STORE_ERR_CORRUPT);
	store_reader_free(&r);
	test_int_eq(-1, store_message_read(mb, 3, 0, 100, &b, &err), 0);
	buf_deinit(&b);
	store_mailbox_close(&mb);

	test_int_eq(-1, tcheck(&t, false, report, sizeof(report)), 1);
	test_assert(-1, strstr(report, "problem=blob-corrupt") != NULL);
	test_assert(-1, strstr(report, "problems=2 repaired=0") != NULL);
	if (strstr(report, "problems=2 ") == NULL)
		printf("%s", report);

	store_account_close(&t.acct);
	test_int_eq(-1, tcheck(&t, true, report, sizeof(report)), 0);
	test_assert(-1, strstr(report, "problem=blob-corrupt") != NULL);
	test_int_eq(-1, tcheck(&t, false, report, sizeof(report)), 0);
	test_assert(-1, strstr(report, "problems=0") != NULL);
	test_int_eq(-1, store_account_open(t.store, 7, &t.acct, &err), 0);
	test_int_eq(-1, tstatus(&t, "INBOX").messages, 1);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM blobs"), 1);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	test_int_eq(-1, store_expunged_since(mb, 1, a, &gone, &n, &err), 0);
	test_int_eq(-1, n, 2);
	store_mailbox_close(&mb);
	arena_free(&a);
	tstore_close(&t);
}

/* A version 2 database (no blobs.data, every blob a file) is upgraded in
   place on open; its files still read, new small messages go inline. */
static void
test_version_2_database_is_upgraded(void)
{
	struct tstore t;
	struct store_settings set;
	struct store_mailbox *mb;
	enum store_error err;
	char report[4096];
	static const char old[] = "Subject: old\r\n\r\nold text\r\n";

	store_settings_defaults(&set);
	set.inline_max = 0;
	tstore_open_with(&t, &set);
	tappend(&t, "INBOX", old, 0);
	store_account_close(&t.acct);
	store_close(&t.store);
	tsql(t.dir, TSQL_BACK_TO_4 "ALTER TABLE blobs DROP COLUMN data;"
	                           " UPDATE account SET schema_version = 2");
	test_int_eq(-1,
	            tsql_int(t.dir, "SELECT count(*) FROM pragma_table_info('blobs')"
	                            " WHERE name = 'data'"),
	            0);
	store_settings_defaults(&set);
	set.no_fsync = true;
	test_int_eq(-1, store_open(t.dir, &set, &t.store, &err), 0);
	test_int_eq(-1, store_account_open(t.store, 7, &t.acct, &err), 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT schema_version FROM account"), 10);
	test_int_eq(-1, tappend(&t, "INBOX", small, 0), 2);
	test_int_eq(-1, tblob_files(t.dir), 1);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM blobs WHERE data IS NOT NULL"), 1);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	expect_bytes(1, mb, 1, old, true);
	expect_bytes(2, mb, 2, small, false);
	store_mailbox_close(&mb);
	test_int_eq(-1, tcheck(&t, false, report, sizeof(report)), 0);
	tstore_close(&t);
}

int
main(void)
{
	TEST_RUN(test_small_inline_big_file);
	TEST_RUN(test_copy_shares_and_last_expunge_removes_row);
	TEST_RUN(test_dedup_across_kinds);
	TEST_RUN(test_check_verifies_inline_blobs);
	TEST_RUN(test_version_2_database_is_upgraded);
	return TEST_DONE("test_store_inline");
}
