/* SPDX-License-Identifier: MIT */
/*
 * message_append.c: APPEND, MULTIAPPEND and delivery. For each message,
 * outside any lock: bare LF becomes CRLF (mail_crlf_*), the size limit is
 * checked, the bytes are hashed, the blob is written durably (blob.c) and
 * the message is parsed once (mail_parse) for the cached ENVELOPE,
 * BODYSTRUCTURE, sort fields and FTS text. Then, under the account's write
 * lock, one transaction adds every row (all or none), checks quota and
 * commits; the shared view is updated and watchers woken. The text goes
 * into `texts` and the indexer's queue, not into the FTS index: indexer.c
 * indexes it in a later batch, and search scans it meanwhile. The caller
 * replies only after this returns 0: the message is on disk.
 *
 * A message up to store.inline_max is not written to a file at all: its
 * bytes go into blobs.data in the same transaction as its rows, so the
 * commit (one WAL fsync) makes message and row durable together. Larger
 * ones keep the file path. Content addressing spans both kinds: a row
 * with the same hash is reused whatever its kind.
 *
 * The messages of a MULTIAPPEND are prepared on up to PREPARE_THREADS
 * threads, so their blob fsyncs overlap; each file blob is still durable
 * (file fsync, rename, directory fsync) before the one commit.
 *
 * Input is hostile: any bytes up to the limit. A failure after blobs were
 * written removes the blobs nobody references (under the write lock, so a
 * concurrent writer of the same content cannot lose its file: it re-checks
 * existence inside its own transaction).
 */
#include "store/store_int.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"
#include "mail/message.h"

struct prepared {
	struct buf data; /* CRLF-normalised message */
	char hash[65];
	bool is_inline; /* stored in blobs.data, no file */
	bool created;   /* this call wrote the blob file */
	bool stray;     /* created, but an inline row of that hash was reused */
	bool new_text;  /* this call queued a text for the indexer */
	struct mail_parsed parsed;
	uint64_t keywords;
	uint32_t uid;
};

/* Normalise, check the size, hash, write the blob, parse. */
static int
prepare_one(struct account *a, struct arena *ar, const struct store_append *in, struct prepared *p,
            enum store_error *err_out)
{
	const struct store_settings *set = &a->store->set;
	struct mail_crlf crlf;

	/* A message already larger than the limit is refused before copying
	   (CRLF can only grow it). */
	if (in->len > set->max_message_size) {
		*err_out = STORE_ERR_TOOBIG;
		return -1;
	}
	mail_crlf_init(&crlf);
	mail_crlf_feed(&crlf, in->data, in->len, &p->data);
	if (p->data.len > set->max_message_size) {
		*err_out = STORE_ERR_TOOBIG;
		return -1;
	}
	blob_hash_hex((const unsigned char *)p->data.data, p->data.len, p->hash);
	p->is_inline = p->data.len <= set->inline_max && set->inline_max > 0;
	if (!p->is_inline &&
	    blob_write(a->blob_dir, p->hash, (const unsigned char *)p->data.data, p->data.len,
	               set->no_fsync, false, &p->created, err_out) < 0)
		return -1;
	mail_parse(ar, (const unsigned char *)p->data.data, p->data.len, set->max_index_text,
	           &p->parsed);
	return 0;
}

/* Up to this many threads write and fsync the blobs of one MULTIAPPEND. */
#define PREPARE_THREADS 8

/* The blobs of a MULTIAPPEND, shared by the threads preparing them. */
struct prepare_job {
	struct account *a;
	const struct store_append *msgs;
	struct prepared *p;
	size_t n;
	_Atomic size_t next;
	_Atomic bool failed;
	_Atomic int err; /* the first failure's enum store_error */
};

/* Prepares messages until none is left or one failed; returns the arena
   holding the parse results (freed by the caller after the commit). */
static void *
prepare_worker(void *arg)
{
	struct prepare_job *j = arg;
	struct arena *ar = arena_new(16384);
	enum store_error err;
	size_t i;

	thread_block_signals();

	while (!atomic_load(&j->failed) && (i = atomic_fetch_add(&j->next, 1)) < j->n) {
		if (prepare_one(j->a, ar, &j->msgs[i], &j->p[i], &err) < 0) {
			int none = STORE_ERR_NONE;

			atomic_compare_exchange_strong(&j->err, &none, (int)err);
			atomic_store(&j->failed, true);
		}
	}
	return ar;
}

/*
 * Writes and parses every message. A MULTIAPPEND does it on several
 * threads: each blob still gets its own fsync, rename and directory fsync
 * before the commit, but the fsyncs of the batch wait for the disk
 * together instead of one after another (the kernel merges concurrent
 * journal commits and cache flushes). arenas_out gets one arena per thread.
 */
static int
prepare_all(struct account *a, const struct store_append *msgs, struct prepared *p, size_t n,
            struct arena **arenas_out, size_t *n_arenas_out, enum store_error *err_out)
{
	struct prepare_job j = {.a = a, .msgs = msgs, .p = p, .n = n, .err = STORE_ERR_NONE};
	pthread_t th[PREPARE_THREADS];
	size_t k = 0, want = n < PREPARE_THREADS ? n : PREPARE_THREADS;

	/* The caller's thread is one of them. */
	while (k + 1 < want && pthread_create(&th[k], NULL, prepare_worker, &j) == 0)
		k++;
	arenas_out[k] = prepare_worker(&j);
	for (size_t i = 0; i < k; i++)
		pthread_join(th[i], (void **)&arenas_out[i]);
	*n_arenas_out = k + 1;
	if (atomic_load(&j.failed)) {
		*err_out = (enum store_error)atomic_load(&j.err);
		return -1;
	}
	return 0;
}

static void
bind_text_or_empty(sqlite3_stmt *st, int col, const char *s)
{
	sqlite3_bind_text(st, col, s ? s : "", -1, SQLITE_STATIC);
}

/* Finds or creates the blob row for p; returns its id, or -1. In a txn. */
static int64_t
blob_row(struct account *a, struct db *db, struct prepared *p, enum store_error *err_out)
{
	static const char find_sql[] = "SELECT id, typeof(data) = 'blob' FROM blobs WHERE hash = ?";
	static const char ins_sql[] =
	        "INSERT INTO blobs(hash, size, header_size, envelope, bodystructure, body, parts,"
	        " sent_date, subject, base_subject, from_addr, from_display, to_addr, to_display,"
	        " cc_addr, message_id, in_reply_to, refs_hdr, data)"
	        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
	static const char text_sql[] = "INSERT INTO texts(id, header, body) VALUES (?, ?, ?)";
	static const char pending_sql[] = "INSERT INTO fts_pending(id) VALUES (?)";
	const struct mail_parsed *m = &p->parsed;
	sqlite3_stmt *st = db_stmt(db, find_sql);
	int64_t id = -1;
	bool created, row_inline = false;

	if (st == NULL)
		goto fail;
	sqlite3_bind_text(st, 1, p->hash, 64, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		row_inline = sqlite3_column_int(st, 1) != 0;
	}
	sqlite3_reset(st);

	/* An existing row is reused whatever its kind. A file row needs its
	   file: it may have been collected between our write and this
	   transaction (it had no reference then), or this message was meant
	   to be inline: write it (rare, under the lock). An inline row needs
	   nothing; a file this call wrote for the same bytes is then unused. */
	if (id >= 0 && row_inline) {
		p->stray = p->created;
		return id;
	}
	if ((id >= 0 || !p->is_inline) && !blob_exists(a->blob_dir, p->hash)) {
		if (blob_write(a->blob_dir, p->hash, (const unsigned char *)p->data.data,
		               p->data.len, a->store->set.no_fsync, true, &created, err_out) < 0)
			return -1;
		p->created |= created;
	}
	if (id >= 0)
		return id;

	st = db_stmt(db, ins_sql);
	if (st == NULL)
		goto fail;
	sqlite3_bind_text(st, 1, p->hash, 64, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)p->data.len);
	sqlite3_bind_int64(st, 3, (int64_t)m->header_size);
	bind_text_or_empty(st, 4, m->envelope);
	bind_text_or_empty(st, 5, m->bodystructure);
	bind_text_or_empty(st, 6, m->body);
	sqlite3_bind_blob(st, 7, m->parts ? (const void *)m->parts : "", (int)m->parts_len,
	                  SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, (int64_t)m->sent_date);
	bind_text_or_empty(st, 9, m->subject);
	bind_text_or_empty(st, 10, m->base_subject);
	bind_text_or_empty(st, 11, m->from_addr);
	bind_text_or_empty(st, 12, m->from_display);
	bind_text_or_empty(st, 13, m->to_addr);
	bind_text_or_empty(st, 14, m->to_display);
	bind_text_or_empty(st, 15, m->cc_addr);
	bind_text_or_empty(st, 16, m->message_id);
	bind_text_or_empty(st, 17, m->in_reply_to);
	bind_text_or_empty(st, 18, m->references);
	/* X'' marks an inline blob; its bytes go to blob_data (schema.c). */
	if (p->is_inline)
		sqlite3_bind_blob64(st, 19, "", 0, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 19);
	if (db_step_done(db, st) < 0)
		goto fail;
	id = sqlite3_last_insert_rowid(db->h);
	if (p->is_inline) {
		static const char data_sql[] = "INSERT INTO blob_data(id, data) VALUES (?, ?)";
		st = db_stmt(db, data_sql);
		if (st == NULL)
			goto fail;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_blob64(st, 2, p->data.len ? (const void *)p->data.data : "",
		                    p->data.len, SQLITE_STATIC);
		if (db_step_done(db, st) < 0)
			goto fail;
	}
	/* The text is indexed later, in batches (indexer.c). */
	for (int i = 0; i < 2; i++) {
		st = db_stmt(db, i == 0 ? text_sql : pending_sql);
		if (st == NULL)
			goto fail;
		sqlite3_bind_int64(st, 1, id);
		if (i == 0) {
			bind_text_or_empty(st, 2, m->header_text);
			bind_text_or_empty(st, 3, m->body_text);
		}
		if (db_step_done(db, st) < 0)
			goto fail;
	}
	p->new_text = true;
	return id;
fail:
	*err_out = db_error(db);
	return -1;
}

static int64_t
email_id_next(struct db *db)
{
	static const char sql[] = "UPDATE account SET next_email_id = next_email_id + 1"
	                          " RETURNING next_email_id - 1";
	sqlite3_stmt *st = db_stmt(db, sql);
	int64_t id = -1;

	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	if (st != NULL)
		sqlite3_reset(st);
	return id;
}

/* THREADID: the thread of the first known message this one refers to
   (In-Reply-To, then References), else a new thread named by email_id. */
static int64_t
thread_id_for(struct db *db, const struct mail_parsed *m, int64_t email_id)
{
	static const char find_sql[] = "SELECT thread_id FROM threads WHERE message_id = ?";
	static const char ins_sql[] =
	        "INSERT OR IGNORE INTO threads(message_id, thread_id) VALUES (?, ?)";
	sqlite3_stmt *st = db_stmt(db, find_sql);
	int64_t thread = 0;
	char *refs = xstrdup(m->references ? m->references : ""), *save = NULL;
	const char *cand[3] = {m->in_reply_to, m->message_id, NULL};

	for (size_t i = 0; st != NULL && thread == 0; i++) {
		const char *id = i < 2 ? cand[i] : strtok_r(i == 2 ? refs : NULL, " ", &save);

		if (i >= 2 && id == NULL)
			break;
		if (id == NULL || id[0] == '\0')
			continue;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			thread = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	free(refs);
	if (thread == 0)
		thread = email_id;
	if (m->message_id != NULL && m->message_id[0] != '\0' &&
	    (st = db_stmt(db, ins_sql)) != NULL) {
		sqlite3_bind_text(st, 1, m->message_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, thread);
		db_step_done(db, st);
	}
	return thread;
}

int
store_message_append(struct store_account *acct, const char *mailbox,
                     const struct store_append *msgs, size_t n, uint32_t *uidvalidity_out,
                     uint32_t *uids_out, enum store_error *err_out)
{
	static const char box_sql[] = "SELECT uidvalidity, uidnext FROM mailboxes WHERE id = ?";
	static const char ins_sql[] =
	        "INSERT INTO messages(mailbox_id, uid, blob_id, size, flags, keywords, modseq,"
	        " internal_date, save_date, email_id, thread_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)";
	static const char next_sql[] = "UPDATE mailboxes SET uidnext = ? WHERE id = ?";
	struct account *a = acct->a;
	struct prepared *p = xcalloc(n ? n : 1, sizeof(*p));
	struct arena *arenas[PREPARE_THREADS];
	size_t n_arenas = 0;
	char *canon = mailbox_name_canon(mailbox);
	struct db *db = NULL;
	uint64_t box_id, modseq, storage_before = 0, messages_before = 0;
	uint32_t uidvalidity = 0, uidnext = 0, *flags = NULL;
	uint64_t *kws = NULL;
	uint32_t *uids = NULL;
	int64_t now = (int64_t)time(NULL);
	bool locked = false, kick = false;
	sqlite3_stmt *st;
	int rc = -1;

	for (size_t i = 0; i < n; i++)
		buf_init(&p[i].data);
	if (canon == NULL) {
		*err_out = STORE_ERR_NOTFOUND;
		goto out;
	}
	if (n == 0) {
		*err_out = STORE_ERR_PERM;
		goto out;
	}
	if (prepare_all(a, msgs, p, n, arenas, &n_arenas, err_out) < 0)
		goto out;

	if (db_get(a, &db, err_out) < 0)
		goto out;
	pthread_mutex_lock(&a->write_lock);
	locked = true;
	if (db_begin(db, true) < 0) {
		*err_out = db_error(db);
		goto out;
	}
	if (mailbox_id_lookup(db, canon, &box_id, err_out) < 0)
		goto out;
	st = db_stmt(db, box_sql);
	if (st == NULL)
		goto db_fail;
	sqlite3_bind_int64(st, 1, (int64_t)box_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		goto db_fail;
	}
	uidvalidity = (uint32_t)sqlite3_column_int64(st, 0);
	uidnext = (uint32_t)sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	if ((uint64_t)uidnext + n >= 0xffffffffull) {
		*err_out = STORE_ERR_LIMIT;
		goto out;
	}
	if (quota_usage(db, &storage_before, &messages_before) < 0)
		goto db_fail;
	modseq = mailbox_modseq_next(db, box_id);
	if (modseq == 0)
		goto db_fail;

	uids = xcalloc(n, sizeof(*uids));
	flags = xcalloc(n, sizeof(*flags));
	kws = xcalloc(n, sizeof(*kws));
	for (size_t i = 0; i < n; i++) {
		int64_t blob_id, email_id;

		if (keywords_mask_make(a, db, msgs[i].keywords, msgs[i].n_keywords, &kws[i],
		                       err_out) < 0)
			goto out;
		blob_id = blob_row(a, db, &p[i], err_out);
		if (blob_id < 0)
			goto out;
		email_id = email_id_next(db);
		if (email_id < 0)
			goto db_fail;
		uids[i] = uidnext++;
		flags[i] = msgs[i].flags & STORE_FLAGS_ALL;
		st = db_stmt(db, ins_sql);
		if (st == NULL)
			goto db_fail;
		sqlite3_bind_int64(st, 1, (int64_t)box_id);
		sqlite3_bind_int64(st, 2, uids[i]);
		sqlite3_bind_int64(st, 3, blob_id);
		sqlite3_bind_int64(st, 4, (int64_t)p[i].data.len);
		sqlite3_bind_int64(st, 5, flags[i]);
		sqlite3_bind_int64(st, 6, (int64_t)kws[i]);
		sqlite3_bind_int64(st, 7, (int64_t)modseq);
		sqlite3_bind_int64(st, 8, msgs[i].internal_date ? msgs[i].internal_date : now);
		sqlite3_bind_int64(st, 9, now);
		sqlite3_bind_int64(st, 10, email_id);
		sqlite3_bind_int64(st, 11, thread_id_for(db, &p[i].parsed, email_id));
		if (db_step_done(db, st) < 0)
			goto db_fail;
	}
	st = db_stmt(db, next_sql);
	if (st == NULL)
		goto db_fail;
	sqlite3_bind_int64(st, 1, uidnext);
	sqlite3_bind_int64(st, 2, (int64_t)box_id);
	if (db_step_done(db, st) < 0)
		goto db_fail;
	if (quota_enforce(db, storage_before, messages_before, err_out) < 0)
		goto out;
	if (db_commit(db) < 0)
		goto db_fail;
	rc = 0;
	/* Files nobody names (an inline row of the same bytes was reused). */
	for (size_t i = 0; i < n; i++)
		if (p[i].stray)
			blob_unlink(a->blob_dir, p[i].hash);
	changes_appended(a, box_id, uids, flags, kws, n, modseq);
	for (size_t i = 0; i < n; i++)
		a->fts_backlog += p[i].new_text;
	/* The queue is bounded: past the limit the writer helps. */
	if (a->fts_backlog > INDEX_BACKLOG_MAX)
		indexer_batch(a, db, INDEX_BATCH);
	kick = a->fts_backlog > 0;
	if (uidvalidity_out != NULL)
		*uidvalidity_out = uidvalidity;
	if (uids_out != NULL)
		memcpy(uids_out, uids, n * sizeof(*uids));
	goto out;
db_fail:
	*err_out = db_error(db);
out:
	if (rc < 0) {
		if (db != NULL) {
			db_rollback(db);
			if (locked)
				keywords_load(a, db); /* forget names added by this txn */
		}
		bool any_created = false;
		enum store_error ignored;

		for (size_t i = 0; i < n; i++)
			any_created |= p[i].created;
		if (any_created && db == NULL && db_get(a, &db, &ignored) < 0)
			db = NULL;
		if (any_created && db != NULL && !locked) {
			pthread_mutex_lock(&a->write_lock);
			locked = true;
		}
		/* Without a connection we cannot tell whether another
		   writer uses the file: leave it to check. */
		for (size_t i = 0; locked && i < n; i++) {
			if (p[i].created && !blob_is_referenced(db, p[i].hash))
				blob_unlink(a->blob_dir, p[i].hash);
		}
	}
	if (locked)
		pthread_mutex_unlock(&a->write_lock);
	db_put(a, db);
	if (kick)
		indexer_kick(a);
	for (size_t i = 0; i < n; i++)
		buf_deinit(&p[i].data);
	free(p);
	free(uids);
	free(flags);
	free(kws);
	free(canon);
	for (size_t i = 0; i < n_arenas; i++)
		arena_free(&arenas[i]);
	return rc;
}
