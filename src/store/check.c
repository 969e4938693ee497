/* SPDX-License-Identifier: MIT */
/*
 * check.c: `tern check [--repair]`. Verifies one account or all of them:
 * the database (quick_check, schema version), every blob (file, or inline
 * bytes in blobs.data) against its size and SHA-256, every counter and
 * reference count against a recount, and the blob directory for orphans and
 * temp files left by a crash. With repair it fixes what it found, in this
 * order: messages whose blob is missing or corrupt are removed (recorded as
 * expunges, so clients are told); counters and reference counts are
 * recomputed; orphan and temp files are removed. One line per problem goes
 * to report:
 *   account=7 problem=blob-missing hash=9f86d0... repaired=yes
 * Zero-reference blobs are the background collection's queue (expunge.c),
 * not a problem: one note line, and repair collects them.
 * (Files left in DATA_DIR/tmp, the spool directory, are store.c's check.)
 * Runs with its own connection (store_check_account() then has the views
 * catch up and tells a listening server); must not run while a server
 * writes the same account: repair removes files a concurrent append may be
 * about to reuse.
 *
 * check_collect() is the part a running server does itself at start
 * (store_collect_orphans()): orphan blobs and temp files over an hour old,
 * removed only under the account's write lock, so it may run while this and
 * other processes write.
 */
#include "store/store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"

struct check {
	uint64_t id;
	struct db *db;
	char *blob_dir;
	bool repair;
	FILE *report;
	unsigned problems, repaired;
};

static void problem(struct check *c, bool fixed, const char *fmt, ...) PRINTF_LIKE(3, 4);

static void
problem(struct check *c, bool fixed, const char *fmt, ...)
{
	va_list ap;

	c->problems++;
	if (fixed)
		c->repaired++;
	if (c->report == NULL)
		return;
	fprintf(c->report, "account=%llu ", (unsigned long long)c->id);
	va_start(ap, fmt);
	vfprintf(c->report, fmt, ap);
	va_end(ap);
	fprintf(c->report, " repaired=%s\n", fixed ? "yes" : "no");
}

/* 0 ok, 1 missing, 2 wrong size or hash, -1 unreadable. */
static int
blob_verify(const char *blob_dir, const char *hash, uint64_t size)
{
	char *path = blob_path(blob_dir, hash), hex[65];
	struct stat st;
	void *map = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	free(path);
	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size != size) {
		close(fd);
		return 2;
	}
	if (size > 0) {
		map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			close(fd);
			return -1;
		}
	}
	blob_hash_hex(map ? map : (const void *)"", size, hex);
	if (strcmp(hex, hash) != 0)
		rc = 2;
	if (map != NULL)
		munmap(map, size);
	close(fd);
	return rc;
}

/* The same for an inline blob's bytes: 0 ok, 2 wrong size or hash. */
static int
inline_verify(const void *data, size_t len, const char *hash, uint64_t size)
{
	char hex[65];

	if ((uint64_t)len != size)
		return 2;
	blob_hash_hex(data != NULL ? data : (const void *)"", len, hex);
	return strcmp(hex, hash) != 0 ? 2 : 0;
}

/* Removes every message using blob id (recorded as expunged). In a txn. */
static int
drop_blob_messages(struct check *c, int64_t blob_id)
{
	static const char boxes_sql[] =
	        "SELECT DISTINCT mailbox_id FROM messages WHERE blob_id = ?";
	static const char del_sql[] = "DELETE FROM messages WHERE blob_id = ?";
	sqlite3_stmt *st = db_stmt(c->db, boxes_sql);
	int64_t boxes[64];
	size_t n = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, blob_id);
	while (sqlite3_step(st) == SQLITE_ROW && n < ARRAY_LEN(boxes))
		boxes[n++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	for (size_t i = 0; i < n; i++)
		if (mailbox_modseq_next(c->db, (uint64_t)boxes[i]) == 0)
			return -1;
	st = db_stmt(c->db, del_sql);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, blob_id);
	return db_step_done(c->db, st);
}

static int
check_blobs(struct check *c)
{
	static const char sql[] =
	        "SELECT b.id, b.hash, b.size, typeof(b.data) = 'blob', d.data FROM blobs b"
	        " LEFT JOIN blob_data d ON d.id = b.id WHERE b.refs > 0";
	sqlite3_stmt *st = db_stmt(c->db, sql);
	int64_t *bad = NULL;
	size_t n_bad = 0, cap = 0;
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *hash = (const char *)sqlite3_column_text(st, 1);
		uint64_t size = (uint64_t)sqlite3_column_int64(st, 2);
		int v = sqlite3_column_int(st, 3)
		                ? inline_verify(sqlite3_column_blob(st, 4),
		                                (size_t)sqlite3_column_bytes(st, 4), hash, size)
		                : blob_verify(c->blob_dir, hash, size);

		if (v == 0)
			continue;
		problem(c, c->repair, "problem=%s hash=%s",
		        v == 1   ? "blob-missing"
		        : v == 2 ? "blob-corrupt"
		                 : "blob-unreadable",
		        hash);
		if (n_bad == cap) {
			cap = cap ? cap * 2 : 16;
			bad = xrealloc(bad, cap * sizeof(*bad));
		}
		bad[n_bad++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	for (size_t i = 0; c->repair && i < n_bad; i++)
		if (drop_blob_messages(c, bad[i]) < 0) {
			free(bad);
			return -1;
		}
	free(bad);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
check_counters(struct check *c)
{
	static const char box_sql[] =
	        "SELECT mb.id, mb.name, mb.messages, mb.unseen, mb.deleted, mb.recent, mb.size,"
	        " mb.deleted_size, mb.uidnext, count(m.uid), coalesce(sum((m.flags & 1) = 0), 0),"
	        " coalesce(sum((m.flags & 8) != 0), 0), coalesce(sum(m.uid >= mb.recent_uid), 0),"
	        " coalesce(sum(m.size), 0), coalesce(sum(((m.flags & 8) != 0) * m.size), 0),"
	        " coalesce(max(m.uid), 0)"
	        " FROM mailboxes mb LEFT JOIN messages m ON m.mailbox_id = mb.id GROUP BY mb.id";
	static const char fix_box_sql[] =
	        "UPDATE mailboxes SET messages = ?, unseen = ?, deleted = ?, recent = ?, size = ?,"
	        " deleted_size = ?, uidnext = max(uidnext, ?) WHERE id = ?";
	static const char acct_sql[] =
	        "SELECT a.storage_used, a.messages_used, a.mailboxes_used, (SELECT coalesce(sum(size),"
	        " 0) FROM messages), (SELECT count(*) FROM messages), (SELECT count(*) FROM"
	        " mailboxes) FROM account a WHERE id = 1";
	static const char fix_acct_sql[] =
	        "UPDATE account SET storage_used = ?, messages_used = ?, mailboxes_used = ?"
	        " WHERE id = 1";
	static const char refs_sql[] =
	        "SELECT b.id, b.hash, b.refs, (SELECT count(*) FROM messages m WHERE m.blob_id = b.id)"
	        " AS n FROM blobs b WHERE b.refs <> n";
	static const char fix_refs_sql[] = "UPDATE blobs SET refs = ? WHERE id = ?";
	static const char dangling_sql[] =
	        "SELECT count(*) FROM messages m LEFT JOIN blobs b ON b.id = m.blob_id"
	        " WHERE b.id IS NULL";
	static const char fix_dangling_sql[] =
	        "DELETE FROM messages WHERE blob_id NOT IN (SELECT id FROM blobs)";
	sqlite3_stmt *st, *fix;
	int rc;

	st = db_stmt(c->db, dangling_sql);
	if (st != NULL && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0) {
		problem(c, c->repair, "problem=message-without-blob count=%lld",
		        (long long)sqlite3_column_int64(st, 0));
		sqlite3_reset(st);
		if (c->repair && db_exec(c->db, fix_dangling_sql) < 0)
			return -1;
	}
	if (st != NULL)
		sqlite3_reset(st);

	/* Collect first, fix after: no writes while a SELECT is stepping. */
	struct fix {
		int64_t v[8];
	} *fixes = NULL;
	size_t n = 0, cap = 0;

	st = db_stmt(c->db, box_sql);
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t have[6], want[6];
		bool bad = false;

		for (int i = 0; i < 6; i++) {
			have[i] = sqlite3_column_int64(st, 2 + i);
			want[i] = sqlite3_column_int64(st, 9 + i);
			bad |= have[i] != want[i];
		}
		/* UIDNEXT must stay above every uid (RFC 9051 2.3.1.1). */
		bad |= sqlite3_column_int64(st, 8) <= sqlite3_column_int64(st, 15);
		if (!bad)
			continue;
		problem(c, c->repair,
		        "problem=counters mailbox=%lld have=%lld/%lld/%lld/%lld/%lld/%lld"
		        " want=%lld/%lld/%lld/%lld/%lld/%lld",
		        (long long)sqlite3_column_int64(st, 0), (long long)have[0],
		        (long long)have[1], (long long)have[2], (long long)have[3],
		        (long long)have[4], (long long)have[5], (long long)want[0],
		        (long long)want[1], (long long)want[2], (long long)want[3],
		        (long long)want[4], (long long)want[5]);
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			fixes = xrealloc(fixes, cap * sizeof(*fixes));
		}
		for (int i = 0; i < 6; i++)
			fixes[n].v[i] = want[i];
		fixes[n].v[6] = sqlite3_column_int64(st, 15) + 1;
		fixes[n].v[7] = sqlite3_column_int64(st, 0);
		n++;
	}
	sqlite3_reset(st);
	for (size_t i = 0; c->repair && i < n; i++) {
		fix = db_stmt(c->db, fix_box_sql);
		if (fix == NULL)
			break;
		for (int k = 0; k < 8; k++)
			sqlite3_bind_int64(fix, k + 1, fixes[i].v[k]);
		if (db_step_done(c->db, fix) < 0)
			rc = SQLITE_ERROR;
	}
	free(fixes);
	if (rc != SQLITE_DONE)
		return -1;

	st = db_stmt(c->db, acct_sql);
	if (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
		int64_t su = sqlite3_column_int64(st, 0), mu = sqlite3_column_int64(st, 1);
		int64_t bu = sqlite3_column_int64(st, 2), sw = sqlite3_column_int64(st, 3);
		int64_t mw = sqlite3_column_int64(st, 4), bw = sqlite3_column_int64(st, 5);

		sqlite3_reset(st);
		if (su != sw || mu != mw || bu != bw) {
			problem(c, c->repair,
			        "problem=usage have=%lld/%lld/%lld want=%lld/%lld/%lld",
			        (long long)su, (long long)mu, (long long)bu, (long long)sw,
			        (long long)mw, (long long)bw);
			if (c->repair && (fix = db_stmt(c->db, fix_acct_sql)) != NULL) {
				sqlite3_bind_int64(fix, 1, sw);
				sqlite3_bind_int64(fix, 2, mw);
				sqlite3_bind_int64(fix, 3, bw);
				if (db_step_done(c->db, fix) < 0)
					return -1;
			}
		}
	} else if (st != NULL) {
		sqlite3_reset(st);
	}

	int64_t(*refs)[2] = NULL;
	n = cap = 0;
	st = db_stmt(c->db, refs_sql);
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		problem(c, c->repair, "problem=blob-refs hash=%s have=%lld want=%lld",
		        (const char *)sqlite3_column_text(st, 1),
		        (long long)sqlite3_column_int64(st, 2),
		        (long long)sqlite3_column_int64(st, 3));
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			refs = xrealloc(refs, cap * sizeof(*refs));
		}
		refs[n][0] = sqlite3_column_int64(st, 3);
		refs[n][1] = sqlite3_column_int64(st, 0);
		n++;
	}
	sqlite3_reset(st);
	for (size_t i = 0; c->repair && i < n; i++) {
		fix = db_stmt(c->db, fix_refs_sql);
		if (fix == NULL)
			break;
		sqlite3_bind_int64(fix, 1, refs[i][0]);
		sqlite3_bind_int64(fix, 2, refs[i][1]);
		db_step_done(c->db, fix);
	}
	free(refs);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Zero-reference rows: expunged messages' blobs the background collection
   (expunge.c) has not reached yet, or left at a crash or close. That is
   its queue, not damage (their files are still named by them, so they are
   no orphans): a note, and with repair they are collected now. */
static int
check_unreferenced(struct check *c, struct account *fake)
{
	static const char sql[] = "SELECT count(*) FROM blobs WHERE refs = 0";
	sqlite3_stmt *st = db_stmt(c->db, sql);
	int64_t n = 0;

	if (st == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (n == 0)
		return 0;
	if (c->report != NULL)
		fprintf(c->report, "account=%llu note=collect-pending count=%lld collected=%s\n",
		        (unsigned long long)c->id, (long long)n, c->repair ? "yes" : "no");
	if (c->repair)
		blobs_collect(fake, c->db);
	return 0;
}

static bool
is_hex64(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == 64;
}

typedef void blob_file_fn(void *arg, const char *path, const char *name);

/* Calls fn for every file of blob_dir's fan-out directories. */
static int
blob_files_each(const char *blob_dir, blob_file_fn *fn, void *arg)
{
	DIR *top = opendir(blob_dir), *sub;
	struct dirent *d, *e;

	if (top == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((d = readdir(top)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		char *dir = xasprintf("%s/%s", blob_dir, d->d_name);
		sub = opendir(dir);
		while (sub != NULL && (e = readdir(sub)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			char *path = xasprintf("%s/%s", dir, e->d_name);
			fn(arg, path, e->d_name);
			free(path);
		}
		if (sub != NULL)
			closedir(sub);
		free(dir);
	}
	closedir(top);
	return 0;
}

/* Files in blobs/ that no file row names: crash leftovers (a file whose
   hash only an inline row has is one too). */
static void
check_orphan(void *arg, const char *path, const char *name)
{
	struct check *c = arg;

	if (is_hex64(name) && blob_is_referenced(c->db, name))
		return;
	problem(c, c->repair, "problem=%s file=%s",
	        strncmp(name, "tmp.", 4) == 0 ? "temp-file" : "orphan-blob", name);
	if (c->repair)
		unlink(path);
}

static int
check_orphans(struct check *c)
{
	return blob_files_each(c->blob_dir, check_orphan, c);
}

int
check_account(struct store *s, uint64_t account_id, bool repair, FILE *report)
{
	struct check c = {.id = account_id, .repair = repair, .report = report};
	struct account fake = {0};
	char *dir = xasprintf("%s/accounts/%llu", s->data_dir, (unsigned long long)account_id);
	char *path = xasprintf("%s/index.db", dir);
	sqlite3_stmt *st;
	struct stat sb;
	int rc = -1;

	c.blob_dir = xasprintf("%s/blobs", dir);
	if (stat(path, &sb) < 0 || db_open_file(path, false, s->set.sqlite_mmap, &c.db) < 0) {
		if (report != NULL)
			fprintf(report, "account=%llu problem=no-database\n",
			        (unsigned long long)account_id);
		goto out;
	}
	st = db_stmt(c.db, "PRAGMA quick_check");
	if (st == NULL || sqlite3_step(st) != SQLITE_ROW ||
	    strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0) {
		if (report != NULL)
			fprintf(report, "account=%llu problem=database-corrupt\n",
			        (unsigned long long)account_id);
		goto out;
	}
	sqlite3_reset(st);
	if (schema_check(c.db) < 0) {
		if (report != NULL)
			fprintf(report, "account=%llu problem=schema-version\n",
			        (unsigned long long)account_id);
		goto out;
	}
	fake.store = s;
	fake.id = account_id;
	fake.blob_dir = c.blob_dir;

	if (db_begin(c.db, true) < 0)
		goto out;
	if (check_blobs(&c) < 0 || check_counters(&c) < 0 ||
	    (repair ? db_commit(c.db) : (db_rollback(c.db), 0)) < 0) {
		db_rollback(c.db);
		goto out;
	}
	if (check_unreferenced(&c, &fake) < 0 || check_orphans(&c) < 0)
		goto out;
	if (report != NULL)
		fprintf(report, "account=%llu problems=%u repaired=%u\n",
		        (unsigned long long)account_id, c.problems, c.repaired);
	rc = c.problems == c.repaired ? 0 : 1;
out:
	db_close(c.db);
	free(c.blob_dir);
	free(path);
	free(dir);
	return rc;
}

/* ---- the server's own collection ---- */

/* A temp file younger than this may be a writer's, being written. */
#define COLLECT_TEMP_MIN_AGE_S 3600

struct collect {
	struct db *db;
	time_t now;
	char **paths; /* candidates: heap */
	bool *is_temp;
	size_t n, cap;
};

static void
collect_candidate(void *arg, const char *path, const char *name)
{
	struct collect *c = arg;
	bool is_temp = strncmp(name, "tmp.", 4) == 0;
	struct stat sb;

	if (is_temp) {
		if (stat(path, &sb) < 0 || c->now - sb.st_mtime < COLLECT_TEMP_MIN_AGE_S)
			return;
	} else if (!is_hex64(name) || blob_is_referenced(c->db, name)) {
		return; /* a name that is not ours is left to check */
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->paths = xrealloc(c->paths, c->cap * sizeof(*c->paths));
		c->is_temp = xrealloc(c->is_temp, c->cap * sizeof(*c->is_temp));
	}
	c->paths[c->n] = xstrdup(path);
	c->is_temp[c->n++] = is_temp;
}

int
check_collect(struct store *s, uint64_t account_id, unsigned *removed_out)
{
	char *dir = xasprintf("%s/accounts/%llu", s->data_dir, (unsigned long long)account_id);
	char *path = xasprintf("%s/index.db", dir), *blob_dir = xasprintf("%s/blobs", dir);
	struct collect c = {.now = time(NULL)};
	int rc = -1;

	struct stat sb;

	*removed_out = 0;
	if (stat(path, &sb) < 0) {
		rc = errno == ENOENT ? 0 : -1; /* an account not yet used */
		goto out;
	}
	if (db_open_file(path, false, s->set.sqlite_mmap, &c.db) < 0)
		goto out;
	/* Read-only first: the write lock is held only for the few
	   candidates, not for a scan of the whole directory. */
	if (blob_files_each(blob_dir, collect_candidate, &c) < 0)
		goto out;
	rc = 0;
	if (c.n == 0 || db_begin(c.db, true) < 0)
		goto out;
	/* Under the write lock no writer commits; one that wrote or reuses a
	   name removed here finds it missing under its own lock and writes it
	   again (message_append.c), as after an expunge's collection. */
	for (size_t i = 0; i < c.n; i++) {
		const char *name = strrchr(c.paths[i], '/') + 1;
		if ((c.is_temp[i] || !blob_is_referenced(c.db, name)) && unlink(c.paths[i]) == 0)
			(*removed_out)++;
	}
	db_rollback(c.db);
out:
	for (size_t i = 0; i < c.n; i++)
		free(c.paths[i]);
	free(c.paths);
	free(c.is_temp);
	db_close(c.db);
	free(blob_dir);
	free(path);
	free(dir);
	return rc;
}
