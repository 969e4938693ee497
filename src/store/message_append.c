/* SPDX-License-Identifier: MIT */
/*
 * message_append.c: APPEND and MULTIAPPEND, and the rows of every delivery.
 * For each message, outside any lock: bare LF becomes CRLF (mail_crlf_*),
 * the size limit is checked, the bytes are hashed, the blob is written
 * durably (blob.c) and the message is parsed once (mail_parse) for the
 * cached ENVELOPE, BODYSTRUCTURE, sort fields and FTS text. A streamed
 * message (struct store_append.spool, spool.c) arrives normalised and
 * hashed; it is parsed from the spool file mapped read-only, and its blob
 * file is the spool file itself, linked into blobs/ (no copy).
 *
 * Then the request goes to the account's group commit (commit.c): a leader
 * adds its rows (append_rows, all messages or none, quota checked) in a
 * transaction shared with the other requests queued meanwhile, commits and
 * updates the shared views. The text goes into `texts` and the indexer's
 * queue, not into the FTS index: indexer.c indexes it in a later batch, and
 * search scans it meanwhile. The caller replies only after this returns 0:
 * the message is on disk.
 *
 * A message up to store.inline_max is not written to a file at all: its
 * bytes go into blob_data in the same transaction as its rows, so the
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

/* Normalise (or take the spool's bytes), check the size, hash, write or
   link the blob, parse. */
static int
prepare_one(struct account *a, struct arena *ar, const struct store_append *in, struct prepared *p,
            enum store_error *err_out)
{
	const struct store_settings *set = &a->store->set;
	struct store_spool *sp = in->spool;

	if (sp != NULL) {
		if (spool_seal(sp, err_out) < 0 || spool_bytes(sp, &p->bytes, err_out) < 0)
			return -1;
		p->spool = sp;
		p->len = store_spool_size(sp);
		memcpy(p->hash, spool_hash(sp), sizeof(p->hash));
	} else {
		struct mail_crlf crlf;

		/* A message already larger than the limit is refused before
		   copying (CRLF can only grow it). */
		if (in->len > set->max_message_size) {
			*err_out = STORE_ERR_TOOBIG;
			return -1;
		}
		mail_crlf_init(&crlf);
		mail_crlf_feed(&crlf, in->data, in->len, &p->data);
		p->bytes = (const unsigned char *)p->data.data;
		p->len = p->data.len;
		blob_hash_hex(p->bytes, p->len, p->hash);
	}
	if (p->len > set->max_message_size) {
		*err_out = STORE_ERR_TOOBIG;
		return -1;
	}
	p->is_inline = p->len <= set->inline_max && set->inline_max > 0;
	if (!p->is_inline) {
		if (sp != NULL ? spool_sync(sp, err_out) < 0 ||
		                         spool_link(sp, a->blob_dir, &p->created, err_out) < 0
		               : blob_write(a->blob_dir, p->hash, p->bytes, p->len, set->no_fsync,
		                            false, &p->created, err_out) < 0)
			return -1;
	}
	mail_parse(ar, p->bytes, p->len, set->max_index_text, &p->parsed);
	return 0;
}

int
prepared_file_rewrite(struct account *a, struct prepared *p, enum store_error *err_out)
{
	bool created;

	if (p->spool != NULL) {
		if (spool_sync(p->spool, err_out) < 0 ||
		    spool_link(p->spool, a->blob_dir, &created, err_out) < 0)
			return -1;
	} else if (blob_write(a->blob_dir, p->hash, p->bytes, p->len, a->store->set.no_fsync, true,
	                      &created, err_out) < 0) {
		return -1;
	}
	p->created |= created;
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
	        " cc_addr, message_id, in_reply_to, refs_hdr, data, preview)"
	        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
	static const char text_sql[] = "INSERT INTO texts(id, header, body) VALUES (?, ?, ?)";
	static const char pending_sql[] = "INSERT INTO fts_pending(id) VALUES (?)";
	const struct mail_parsed *m = &p->parsed;
	sqlite3_stmt *st = db_stmt(db, find_sql);
	int64_t id = -1;
	bool row_inline = false;

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
	if ((id >= 0 || !p->is_inline) && !blob_exists(a->blob_dir, p->hash) &&
	    prepared_file_rewrite(a, p, err_out) < 0)
		return -1;
	if (id >= 0)
		return id;

	st = db_stmt(db, ins_sql);
	if (st == NULL)
		goto fail;
	sqlite3_bind_text(st, 1, p->hash, 64, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)p->len);
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
	bind_text_or_empty(st, 20, m->preview);
	if (db_step_done(db, st) < 0)
		goto fail;
	id = sqlite3_last_insert_rowid(db->h);
	if (p->is_inline) {
		static const char data_sql[] = "INSERT INTO blob_data(id, data) VALUES (?, ?)";
		st = db_stmt(db, data_sql);
		if (st == NULL)
			goto fail;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_blob64(st, 2, p->len ? (const void *)p->bytes : "", p->len,
		                    SQLITE_STATIC);
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

/* A new message's annotations (APPEND ANNOTATION, RFC 5257 section 4.6),
   with the rights of section 5 on the destination. */
static int
append_annotations(struct db *db, uint64_t box_id, uint32_t uid, const struct store_append *m,
                   unsigned rights, enum store_error *err_out)
{
	static const char sql[] =
	        "INSERT OR REPLACE INTO annotations(mailbox_id, uid, entry, owner,"
	        " value) VALUES (?, ?, ?, ?, ?)";

	for (size_t k = 0; k < m->n_annotations; k++) {
		const struct store_annotation *x = &m->annotations[k];
		if (!(rights & (x->is_shared ? STORE_RIGHT_ANNOTATE : STORE_RIGHT_READ))) {
			*err_out = STORE_ERR_NORIGHTS;
			return -1;
		}
		if (x->value == NULL)
			continue; /* NIL: nothing to store */
		sqlite3_stmt *st = db_stmt(db, sql);
		if (st == NULL) {
			*err_out = STORE_ERR_TEMP;
			return -1;
		}
		sqlite3_bind_int64(st, 1, (int64_t)box_id);
		sqlite3_bind_int64(st, 2, uid);
		sqlite3_bind_text(st, 3, x->entry, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, x->is_shared ? "" : m->annotation_user, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 5, x->len > 0 ? (const void *)x->value : "", (int)x->len,
		                  SQLITE_STATIC);
		if (db_step_done(db, st) < 0) {
			*err_out = db_error(db);
			return -1;
		}
	}
	return 0;
}

int
append_rows(struct account *a, struct db *db, struct append_req *r, struct append_req *batch)
{
	static const char box_sql[] = "SELECT uidvalidity, uidnext FROM mailboxes WHERE id = ?";
	static const char ins_sql[] =
	        "INSERT INTO messages(mailbox_id, uid, blob_id, size, flags, keywords, modseq,"
	        " internal_date, save_date, email_id, thread_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)";
	static const char next_sql[] = "UPDATE mailboxes SET uidnext = ? WHERE id = ?";
	struct quota_usage before;
	uint32_t uidnext;
	int64_t now = (int64_t)time(NULL);
	sqlite3_stmt *st;

	/* APPEND needs 'i'; each flag is kept only with its right (RFC 4314
	   section 4: never a failure for a flag). */
	struct store_account as = {.a = a, .who = r->who};
	unsigned rights;
	if (mailbox_id_lookup(db, r->canon, &r->box_id, &r->err) < 0 ||
	    acl_check(&as, db, r->box_id, STORE_RIGHT_INSERT, &rights, &r->err) < 0)
		return -1;
	st = db_stmt(db, box_sql);
	if (st == NULL)
		goto db_fail;
	sqlite3_bind_int64(st, 1, (int64_t)r->box_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		goto db_fail;
	}
	r->uidvalidity = (uint32_t)sqlite3_column_int64(st, 0);
	uidnext = (uint32_t)sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	if ((uint64_t)uidnext + r->n >= 0xffffffffull) {
		r->err = STORE_ERR_LIMIT;
		return -1;
	}
	if (quota_usage(db, &before) < 0)
		goto db_fail;
	/* One new modseq per mailbox and transaction, as for any write: the
	   requests of a batch before this one may have taken it already. */
	r->modseq = 0;
	for (struct append_req *q = batch; q != r && r->modseq == 0; q = q->next)
		if (q->rc == 0 && q->box_id == r->box_id)
			r->modseq = q->modseq;
	if (r->modseq == 0 && (r->modseq = mailbox_modseq_next(db, r->box_id)) == 0)
		goto db_fail;
	/* Another user's \Seen is their own (seen.c): not the row's. */
	bool own_seen = r->who != NULL && !seen_is_shared(db, r->box_id);

	for (size_t i = 0; i < r->n; i++) {
		const struct store_append *m = &r->msgs[i];
		int64_t blob_id, email_id;

		r->kws[i] = 0;
		if ((rights & STORE_RIGHT_WRITE) &&
		    keywords_mask_make(a, db, m->keywords, m->n_keywords, &r->kws[i], &r->err) < 0)
			return -1;
		blob_id = blob_row(a, db, &r->p[i], &r->err);
		if (blob_id < 0)
			return -1;
		email_id = email_id_next(db);
		if (email_id < 0)
			goto db_fail;
		r->uids[i] = uidnext++;
		r->flags[i] = m->flags & acl_flag_mask(rights);
		bool seen_by_user = own_seen && (r->flags[i] & STORE_FLAG_SEEN);
		if (seen_by_user)
			r->flags[i] &= ~(uint32_t)STORE_FLAG_SEEN;
		st = db_stmt(db, ins_sql);
		if (st == NULL)
			goto db_fail;
		sqlite3_bind_int64(st, 1, (int64_t)r->box_id);
		sqlite3_bind_int64(st, 2, r->uids[i]);
		sqlite3_bind_int64(st, 3, blob_id);
		sqlite3_bind_int64(st, 4, (int64_t)r->p[i].len);
		sqlite3_bind_int64(st, 5, r->flags[i]);
		sqlite3_bind_int64(st, 6, (int64_t)r->kws[i]);
		sqlite3_bind_int64(st, 7, (int64_t)r->modseq);
		sqlite3_bind_int64(st, 8, m->internal_date ? m->internal_date : now);
		sqlite3_bind_int64(st, 9, now);
		sqlite3_bind_int64(st, 10, email_id);
		sqlite3_bind_int64(st, 11, thread_id_for(db, &r->p[i].parsed, email_id));
		if (db_step_done(db, st) < 0)
			goto db_fail;
		if (m->n_annotations > 0 &&
		    append_annotations(db, r->box_id, r->uids[i], m, rights, &r->err) < 0)
			return -1;
		if (seen_by_user && seen_write(db, r->box_id, r->who->name, r->uids[i], true) < 0)
			goto db_fail;
	}
	st = db_stmt(db, next_sql);
	if (st == NULL)
		goto db_fail;
	sqlite3_bind_int64(st, 1, uidnext);
	sqlite3_bind_int64(st, 2, (int64_t)r->box_id);
	if (db_step_done(db, st) < 0)
		goto db_fail;
	return quota_enforce(db, &before, &r->err);
db_fail:
	r->err = db_error(db);
	return -1;
}

void
append_committed(struct account *a, struct append_req *r)
{
	/* Files nobody names (an inline row of the same bytes was reused). */
	for (size_t i = 0; i < r->n; i++)
		if (r->p[i].stray)
			blob_unlink(a->blob_dir, r->p[i].hash);
	for (size_t i = 0; i < r->n; i++)
		a->fts_backlog += r->p[i].new_text;
}

void
append_discard(struct account *a, struct db *db, struct append_req *r)
{
	/* Without a connection we cannot tell whether another writer uses
	   the file: leave it to check. */
	for (size_t i = 0; db != NULL && i < r->n; i++)
		if (r->p[i].created && !blob_is_referenced(db, r->p[i].hash))
			blob_unlink(a->blob_dir, r->p[i].hash);
}

void
append_abandon(struct account *a, struct append_req *r)
{
	struct db *db = NULL;
	enum store_error ignored;
	bool any_created = false;

	for (size_t i = 0; i < r->n; i++)
		any_created |= r->p[i].created;
	if (!any_created || db_get(a, &db, &ignored) < 0)
		return;
	pthread_mutex_lock(&a->write_lock);
	append_discard(a, db, r);
	pthread_mutex_unlock(&a->write_lock);
	db_put(a, db);
}

int
store_message_append(struct store_account *acct, const char *mailbox,
                     const struct store_append *msgs, size_t n, uint32_t *uidvalidity_out,
                     uint32_t *uids_out, enum store_error *err_out)
{
	struct account *a = acct->a;
	struct prepared *p = xcalloc(n ? n : 1, sizeof(*p));
	struct append_req r = {.msgs = msgs, .p = p, .n = n};
	struct arena *arenas[PREPARE_THREADS];
	size_t n_arenas = 0;
	char *canon = mailbox_name_canon(mailbox);
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
	if (prepare_all(a, msgs, p, n, arenas, &n_arenas, err_out) < 0) {
		append_abandon(a, &r);
		goto out;
	}
	r.canon = canon;
	r.who = acct->who;
	r.uids = xcalloc(n, sizeof(*r.uids));
	r.flags = xcalloc(n, sizeof(*r.flags));
	r.kws = xcalloc(n, sizeof(*r.kws));
	if (commit_submit(a, &r) < 0) {
		*err_out = r.err;
		goto out;
	}
	rc = 0;
	if (uidvalidity_out != NULL)
		*uidvalidity_out = r.uidvalidity;
	if (uids_out != NULL)
		memcpy(uids_out, r.uids, n * sizeof(*r.uids));
out:
	for (size_t i = 0; i < n; i++)
		buf_deinit(&p[i].data);
	free(p);
	free(r.uids);
	free(r.flags);
	free(r.kws);
	free(canon);
	for (size_t i = 0; i < n_arenas; i++)
		arena_free(&arenas[i]);
	return rc;
}
