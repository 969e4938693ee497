/* SPDX-License-Identifier: MIT */
/* test_store_spool.c: tests for src/store/spool.c and the spool path of
   store_message_append: any split of the input stores the same bytes as
   the in-memory path (bare LF, CR at a chunk edge, NUL), the size limit
   holds exactly, I/O failures (the fault hooks) leave the store consistent,
   and a spool leaves no file behind. */
#include "store_test_util.h"

#include <dirent.h>
#include <sys/stat.h>

#include "mail/message.h"
#include "store/store_int.h"
#include "test.h"

/* Messages above this are blob files (the file faults apply to them). */
#define FILE_INLINE_MAX 64

/* The normalised form of in (what the store must hold). */
static void
normalise(const char *in, size_t len, struct buf *out)
{
	struct mail_crlf c;

	mail_crlf_init(&c);
	mail_crlf_feed(&c, (const unsigned char *)in, len, out);
}

/* Appends in through a spool written in chunks; returns the uid or 0. */
static uint32_t
spool_append(struct tstore *t, const char *in, size_t len, size_t chunk, bool *has_nul_out,
             uint64_t *size_out)
{
	struct store_append ap = {0};
	enum store_error err;
	uint32_t uid = 0;

	ap.spool = tspool(t->store, in, len, chunk, &err);
	if (ap.spool == NULL)
		return 0;
	*has_nul_out = store_spool_has_nul(ap.spool);
	*size_out = store_spool_size(ap.spool);
	if (store_message_append(t->acct, "INBOX", &ap, 1, NULL, &uid, &err) < 0)
		uid = 0;
	store_spool_free(&ap.spool);
	return uid;
}

/* A body of n lines, every seventh ending in a bare LF: crosses the
   spool's buffer many times. */
static char *
long_message(size_t n)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "Subject: long\n\n");
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "line %zu of a long message%s", i, i % 7 ? "\r\n" : "\n");
	return buf_steal(&b);
}

static void
test_any_split_stores_the_normalised_bytes(void)
{
	static const struct {
		const char *in;
		size_t len; /* 0: strlen */
	} cases[] = {
	        {"Subject: a\r\n\r\nbody\r\n", 0},   /* CRLF kept */
	        {"Subject: a\n\nbare\nlines\n", 0},  /* bare LF becomes CRLF */
	        {"Subject: a\r\n\r\nx\ry\r\r\n", 0}, /* lone CRs kept */
	        {"S: a\r\n\r\n\r", 0},               /* CR at the very end */
	        {"S: a\n\n\n\n\r\n\n", 0},           /* runs of LF */
	        {"S: nul\r\n\r\na\0b\r\n", 16},      /* NUL kept, reported */
	        {"\n", 0},                           /* one bare LF */
	        /* Above FILE_INLINE_MAX, within the spool's buffer: its file
	           is made from the buffer when it becomes a blob. */
	        {"Subject: medium\n\nabove inline_max but well within the spool's "
	         "buffer, so no file until the commit\n",
	         0},
	};
	struct tstore t;
	struct store_settings set;
	struct buf want, got;
	uint32_t next_uid = 1;

	store_settings_defaults(&set);
	set.inline_max = FILE_INLINE_MAX; /* long ones are files, short inline */
	tstore_open_with(&t, &set);
	buf_init(&want);
	buf_init(&got);
	for (size_t i = 0; i < ARRAY_LEN(cases) + 1; i++) {
		char *in_long = i == ARRAY_LEN(cases) ? long_message(3000) : NULL;
		const char *in = in_long != NULL ? in_long : cases[i].in;
		size_t len = in_long != NULL ? strlen(in_long)
		             : cases[i].len  ? cases[i].len
		                             : strlen(in);
		/* Chunk sizes: byte by byte, small primes, around the buffer
		   size, whole; then every two-piece split of the short ones. */
		size_t chunks[] = {1, 2, 3, 7, 2047, 2048, 4096, 8191, 8192, 0};
		size_t n_ways = ARRAY_LEN(chunks) + (in_long != NULL ? 0 : len + 1);

		want.len = 0;
		normalise(in, len, &want);
		for (size_t w = 0; w < n_ways; w++) {
			int row = (int)(i * 1000 + w);
			bool has_nul = false;
			uint64_t size = 0;
			uint32_t uid;

			if (w < ARRAY_LEN(chunks)) {
				uid = spool_append(&t, in, len, chunks[w], &has_nul, &size);
			} else {
				/* Two writes, split at every offset. */
				size_t at = w - ARRAY_LEN(chunks);
				struct store_append ap = {0};
				enum store_error err;

				test_int_eq(row, store_spool_new(t.store, &ap.spool, &err), 0);
				test_int_eq(row, store_spool_write(ap.spool, in, at, &err), 0);
				test_int_eq(row,
				            store_spool_write(ap.spool, in + at, len - at, &err),
				            0);
				has_nul = store_spool_has_nul(ap.spool);
				size = store_spool_size(ap.spool);
				uid = 0;
				if (store_message_append(t.acct, "INBOX", &ap, 1, NULL, &uid,
				                         &err) < 0)
					uid = 0;
				store_spool_free(&ap.spool);
			}
			test_int_eq(row, uid, next_uid);
			next_uid++;
			test_int_eq(row, size, want.len);
			test_int_eq(row, has_nul, memchr(in, '\0', len) != NULL);
			test_int_eq(row, tread(t.acct, "INBOX", uid, &got), 0);
			test_int_eq(row, got.len, want.len);
			test_assert(row, got.len == want.len &&
			                         memcmp(got.data, want.data, want.len) == 0);
		}
		/* The in-memory path stores the same content (same hash). */
		struct store_append ap = {.data = (const unsigned char *)in, .len = len};
		enum store_error err;
		uint32_t uid = 0;
		test_int_eq(i, store_message_append(t.acct, "INBOX", &ap, 1, NULL, &uid, &err), 0);
		test_int_eq(i, uid, next_uid);
		next_uid++;
		free(in_long);
	}
	/* Every way of storing one input shares one blob row. */
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM blobs"), ARRAY_LEN(cases) + 1);
	char report[4096];
	test_int_eq(-1, tcheck(&t, false, report, sizeof(report)), 0);
	buf_deinit(&want);
	buf_deinit(&got);
	tstore_close(&t);
}

static void
test_size_limit_is_exact(void)
{
	struct tstore t;
	struct store_settings set;
	struct store_spool *sp;
	struct store_append ap = {0};
	enum store_error err = STORE_ERR_NONE;
	char *m = xmalloc(2048);
	uint32_t uid = 0;

	store_settings_defaults(&set);
	set.max_message_size = 1024;
	tstore_open_with(&t, &set);
	memset(m, 'x', 2048);
	memcpy(m, "S: x\r\n\r\n", 8);

	/* Exactly the limit, one byte at a time: stored. */
	sp = tspool(t.store, m, 1024, 1, &err);
	test_assert(-1, sp != NULL);
	if (sp == NULL) {
		free(m);
		tstore_close(&t);
		return;
	}
	ap.spool = sp;
	test_int_eq(-1, store_message_append(t.acct, "INBOX", &ap, 1, NULL, &uid, &err), 0);
	test_int_eq(-1, uid, 1);
	/* A committed spool is read-only. */
	test_int_eq(-1, store_spool_write(sp, "x", 1, &err), -1);
	test_int_eq(-1, err, STORE_ERR_PERM);
	store_spool_free(&sp);

	/* One byte over, and a bare LF that makes 1023 bytes 1025: refused,
	   and every later write fails the same way. */
	for (int row = 0; row < 2; row++) {
		test_int_eq(row, store_spool_new(t.store, &sp, &err), 0);
		test_int_eq(row, store_spool_write(sp, m, 1023, &err), 0);
		test_int_eq(row,
		            store_spool_write(sp, row == 0 ? "xx" : "\n", row == 0 ? 2 : 1, &err),
		            -1);
		test_int_eq(row, err, STORE_ERR_TOOBIG);
		err = STORE_ERR_NONE;
		test_int_eq(row, store_spool_write(sp, "", 0, &err), -1);
		test_int_eq(row, err, STORE_ERR_TOOBIG);
		ap.spool = sp;
		test_int_eq(row, store_message_append(t.acct, "INBOX", &ap, 1, NULL, &uid, &err),
		            -1);
		test_int_eq(row, err, STORE_ERR_TOOBIG);
		store_spool_free(&sp);
	}
	/* One huge write is cut at the limit, not buffered whole. */
	test_int_eq(-1, store_spool_new(t.store, &sp, &err), 0);
	test_int_eq(-1, store_spool_write(sp, m, 2048, &err), -1);
	test_int_eq(-1, err, STORE_ERR_TOOBIG);
	test_assert(-1, store_spool_size(sp) <= 1024 + 8192);
	store_spool_free(&sp);
	test_int_eq(-1, tstatus(&t, "INBOX").messages, 1);
	free(m);
	tstore_close(&t);
}

/* Entries in DATA_DIR/tmp. */
static int
tmp_entries(const char *dir)
{
	char *path = xasprintf("%s/tmp", dir);
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	free(path);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void
test_spool_leaves_no_file(void)
{
	struct tstore t;
	struct store_spool *sp;
	enum store_error err;
	char *m = long_message(5000);

	tstore_open(&t);
	test_int_eq(-1, tmp_entries(t.dir), 0);
	sp = tspool(t.store, m, strlen(m), 4000, &err);
	test_assert(-1, sp != NULL);
	test_int_eq(-1, tmp_entries(t.dir), 0); /* O_TMPFILE: no name at all */
	store_spool_free(&sp);
	test_assert(-1, sp == NULL);
	test_int_eq(-1, tmp_entries(t.dir), 0);
	free(m);
	tstore_close(&t);
}

/* A spool linked into one blob directory, that link removed again (a
   delivery target that failed), must still link into the next: an
   O_TMPFILE whose only name went is no longer linkable through /proc. */
static void
test_spool_links_after_a_link_went(void)
{
	struct tstore t;
	struct store_spool *sp;
	enum store_error err;
	bool created;
	char *m = long_message(100000);
	char a[512], b[512];

	tstore_open(&t);
	snprintf(a, sizeof(a), "%s/blobs-a", t.dir);
	snprintf(b, sizeof(b), "%s/blobs-b", t.dir);
	test_int_eq(-1, mkdir(a, 0700), 0);
	test_int_eq(-1, mkdir(b, 0700), 0);
	sp = tspool(t.store, m, strlen(m), 4096, &err);
	test_int_eq(-1, spool_seal(sp, &err), 0);
	test_int_eq(-1, spool_sync(sp, &err), 0);
	test_int_eq(-1, spool_link(sp, a, &created, &err), 0);
	test_assert(-1, created);
	test_int_eq(-1, blob_unlink(a, spool_hash(sp)), 0);
	test_int_eq(-1, spool_link(sp, b, &created, &err), 0);
	test_assert(-1, created);
	char *path = blob_path(b, spool_hash(sp));
	struct stat st;
	test_int_eq(-1, stat(path, &st), 0);
	test_int_eq(-1, (int)st.st_size, (int)store_spool_size(sp));
	free(path);
	store_spool_free(&sp);
	test_int_eq(-1, tmp_entries(t.dir), 0); /* its name in tmp/ went with it */
	free(m);
	tstore_close(&t);
}

/* Injected failures on the spool path: the write (disk full), the fsync,
   the link into blobs/, the directory fsync, the commit. A MULTIAPPEND of
   two spooled files fails on the second one and leaves nothing. */
static void
test_injected_failures_leave_store_consistent(void)
{
	static const struct {
		enum store_fault fault;
		unsigned nth;
	} cases[] = {
	        {STORE_FAULT_WRITE, 1}, /* while writing the spool */
	        {STORE_FAULT_FSYNC, 2},   {STORE_FAULT_RENAME, 2},
	        {STORE_FAULT_DIRSYNC, 2}, {STORE_FAULT_COMMIT, 1},
	};
	char *m1 = long_message(1000), *m2 = long_message(1001);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct tstore t;
		struct store_settings set;
		struct store_append ap[2] = {{0}, {0}};
		enum store_error err = STORE_ERR_NONE;
		char report[4096];
		int rc;

		store_settings_defaults(&set);
		set.inline_max = FILE_INLINE_MAX;
		tstore_open_with(&t, &set);
		test_int_eq(i, tappend(&t, "INBOX", "Subject: before\r\n\r\n.\r\n", 0), 1);
		store_fault_set(cases[i].fault, cases[i].nth);
		ap[0].spool = tspool(t.store, m1, strlen(m1), 1000, &err);
		if (cases[i].fault == STORE_FAULT_WRITE) {
			test_assert(i, ap[0].spool == NULL);
			rc = -1;
		} else {
			ap[1].spool = tspool(t.store, m2, strlen(m2), 1000, &err);
			rc = store_message_append(t.acct, "INBOX", ap, 2, NULL, NULL, &err);
		}
		test_int_eq(i, rc, -1);
		test_int_eq(i, err, STORE_ERR_TEMP);
		store_fault_set(STORE_FAULT_NONE, 0);
		store_spool_free(&ap[0].spool);
		store_spool_free(&ap[1].spool);
		test_int_eq(i, tstatus(&t, "INBOX").messages, 1);
		test_int_eq(i, tblob_files(t.dir), 0);
		test_int_eq(i, tmp_entries(t.dir), 0);
		test_int_eq(i, tcheck(&t, false, report, sizeof(report)), 0);
		if (strstr(report, "problems=0") == NULL)
			printf("  row %zu: %s", i, report);
		/* And the store still works. */
		ap[0].spool = tspool(t.store, m1, strlen(m1), 0, &err);
		ap[1].spool = tspool(t.store, m2, strlen(m2), 0, &err);
		test_int_eq(i, store_message_append(t.acct, "INBOX", ap, 2, NULL, NULL, &err), 0);
		store_spool_free(&ap[0].spool);
		store_spool_free(&ap[1].spool);
		test_int_eq(i, tstatus(&t, "INBOX").messages, 3);
		test_int_eq(i, tblob_files(t.dir), 2);
		tstore_close(&t);
	}
	free(m1);
	free(m2);
}

/* A message that will be stored inline stays in memory while
   store.spool_memory has room, so it is never written to a file: a write
   fault does not touch it, even past the first buffer. */
static void
test_inline_message_is_not_written(void)
{
	struct tstore t;
	struct store_append ap = {0};
	enum store_error err;
	const char *small = "Subject: small\r\n\r\nfits the buffer\r\n";
	char *m = long_message(300); /* ~8 KiB: past the first buffer */

	tstore_open(&t);
	test_assert(-1, strlen(m) > 4096 && strlen(m) < 60000);
	for (int i = 0; i < 2; i++) {
		ap.spool = tspool(t.store, i == 0 ? small : m, strlen(i == 0 ? small : m), 0, &err);
		store_fault_set(STORE_FAULT_WRITE, 1);
		test_int_eq(i, store_message_append(t.acct, "INBOX", &ap, 1, NULL, NULL, &err), 0);
		store_fault_set(STORE_FAULT_NONE, 0);
		store_spool_free(&ap.spool);
	}
	test_int_eq(-1, tstatus(&t, "INBOX").messages, 2);
	free(m);
	tstore_close(&t);
}

/* With no spool_memory left, a message that outgrew the buffer goes to a
   file and has its last bytes written at the seal: a fault there fails the
   append cleanly, and sticks. spool_memory is shared: one spool holding it
   sends the next to a file; once freed, memory again. */
static void
test_spool_memory_full_writes_and_seal_failure_fails(void)
{
	struct tstore t;
	struct store_settings set;
	struct store_append ap = {0};
	struct store_spool *holder;
	enum store_error err;
	char *m = long_message(300);

	store_settings_defaults(&set);
	set.spool_memory = 8u << 10; /* the first ~8 KiB message takes it all */
	tstore_open_with(&t, &set);
	holder = tspool(t.store, m, strlen(m), 0, &err);
	for (int round = 0; round < 2; round++) {
		ap.spool = tspool(t.store, m, strlen(m), 0, &err);
		store_fault_set(STORE_FAULT_WRITE, 1);
		test_int_eq(round, store_message_append(t.acct, "INBOX", &ap, 1, NULL, NULL, &err),
		            -1);
		test_int_eq(round, err, STORE_ERR_TEMP);
		store_fault_set(STORE_FAULT_NONE, 0);
		/* The failure sticks to the spool. */
		test_int_eq(round, store_message_append(t.acct, "INBOX", &ap, 1, NULL, NULL, &err),
		            -1);
		test_int_eq(round, err, STORE_ERR_TEMP);
		store_spool_free(&ap.spool);
		/* No spool ever gets memory with 0. */
		t.store->set.spool_memory = 0;
		store_spool_free(&holder);
	}
	t.store->set.spool_memory = 8u << 10;
	ap.spool = tspool(t.store, m, strlen(m), 0, &err);
	store_fault_set(STORE_FAULT_WRITE, 1);
	test_int_eq(-1, store_message_append(t.acct, "INBOX", &ap, 1, NULL, NULL, &err), 0);
	store_fault_set(STORE_FAULT_NONE, 0);
	store_spool_free(&ap.spool);
	test_int_eq(-1, tstatus(&t, "INBOX").messages, 1);
	test_int_eq(-1, (long long)t.store->spool_memory_used, 0);
	free(m);
	tstore_close(&t);
}

/* A named spool a crash left in tmp/ (the fallback where O_TMPFILE is
   missing) is reported by check and removed by repair. */
static void
test_check_removes_leftover_spools(void)
{
	struct tstore t;
	char report[4096], *path;
	FILE *f;

	tstore_open(&t);
	path = xasprintf("%s/tmp/spool.AbC123", t.dir);
	f = fopen(path, "w");
	fputs("half a message", f);
	fclose(f);
	test_int_eq(-1, tcheck(&t, false, report, sizeof(report)), 1);
	test_assert(-1,
	            strstr(report, "problem=temp-file file=tmp/spool.AbC123 repaired=no") != NULL);
	test_int_eq(-1, tcheck(&t, true, report, sizeof(report)), 0);
	test_assert(-1, access(path, F_OK) < 0);
	test_int_eq(-1, tcheck(&t, false, report, sizeof(report)), 0);
	free(path);
	tstore_close(&t);
}

int
main(void)
{
	TEST_RUN(test_any_split_stores_the_normalised_bytes);
	TEST_RUN(test_size_limit_is_exact);
	TEST_RUN(test_spool_leaves_no_file);
	TEST_RUN(test_spool_links_after_a_link_went);
	TEST_RUN(test_injected_failures_leave_store_consistent);
	TEST_RUN(test_inline_message_is_not_written);
	TEST_RUN(test_spool_memory_full_writes_and_seal_failure_fails);
	TEST_RUN(test_check_removes_leftover_spools);
	return TEST_DONE("test_store_spool");
}
