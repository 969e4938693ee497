/* SPDX-License-Identifier: MIT */
/*
 * store_int.h: what the files of src/store share and nobody else sees: the
 * account and view structs, the connection pool, the blob helpers. Included
 * only by the files of src/store (and the store's white-box tests for the fault hook).
 *
 * Locks, always taken in this order, never the reverse:
 *   store->lock (account registry)  >  acct->write_lock (one writer per
 *   account, in process)  >  acct->commit_lock (the group-commit queue;
 *   a submitter takes it alone, the leader inside write_lock)  >
 *   acct->views_lock (view list, LRU)  >  view->lock (one view's arrays,
 *   watchers)  >  acct->kw_lock, acct->pool_lock, acct->retain_lock.
 */
#ifndef TERN_STORE_STORE_INT_H
#define TERN_STORE_STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "lib/buf.h"
#include "mail/message.h"
#include "store/store.h"

#define DB_STMT_CACHE 48
#define VIEW_JOURNAL  256
#define KEYWORDS_MAX  64

/* Texts the background indexer moves into fts per transaction, and the
   backlog past which a writer indexes a batch itself (indexer.c). */
#define INDEX_BATCH       256
#define INDEX_BACKLOG_MAX 8192

struct store {
	char *data_dir;
	char *tmp_dir; /* DATA_DIR/tmp: spools (spool.c) */
	struct store_settings set;
	pthread_mutex_t lock;
	struct hash *accounts; /* id -> struct account, under lock */

	/* The background FTS indexer (indexer.c): account ids to index,
	   under lock. */
	pthread_cond_t idx_cond;
	pthread_t idx_thread;
	bool idx_running, idx_stop;
	uint64_t *idx_ids;
	size_t idx_n, idx_cap;
};

/* ---- retain.c: expunged messages kept while snapshots number them ---- */
struct retained { /* one expunged message, as its row was */
	uint32_t uid, flags;
	uint64_t keywords, modseq;
	int64_t blob_id, size, internal_date, save_date, email_id, thread_id;
};
struct retain_queue;
struct retain_node { /* what one replacement of the view's uidbuf removed */
	struct retain_queue *q;
	struct retain_node *next;
	struct retained *msgs; /* ascending uids, heap */
	size_t n;
	int holders; /* replaced uidbufs pointing here */
};
struct retain_queue { /* per view, oldest first; under the view lock */
	struct account *acct;
	struct retain_node *head, *tail;
};
struct retain_pending { /* rows an expunge deleted, not yet committed */
	uint64_t mailbox_id;
	struct retained *msgs;
	size_t n;
};

/* One SQLite connection with its cache of prepared statements (keyed by the
   address of the static SQL text). */
struct db {
	sqlite3 *h;
	struct db *next;
	unsigned n_stmts;
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} stmts[DB_STMT_CACHE];
};

/* The shared state of one account; store_account handles point here. */
struct account {
	struct store *store;
	uint64_t id;
	char *dir, *blob_dir;
	int blob_dirfd; /* open on blob_dir for openat(2) by reads, or -1 */
	int refs;       /* under store->lock */

	pthread_mutex_t pool_lock;
	struct db *idle;
	unsigned n_idle;

	pthread_mutex_t write_lock;
	int64_t fts_backlog; /* rows in fts_pending, under write_lock */

	/* Group commit (commit.c): appends waiting for a transaction, and
	   whether a leader is running one. Under commit_lock. */
	pthread_mutex_t commit_lock;
	pthread_cond_t commit_cond;
	struct append_req *queue_head, *queue_tail;
	size_t queued;
	bool has_leader;
	uint64_t commits, committed_reqs; /* transactions and requests, for tests */

	pthread_mutex_t views_lock;
	struct view *views; /* most recently used first */
	size_t views_bytes; /* of views no session holds */

	pthread_mutex_t kw_lock;
	char *keywords[KEYWORDS_MAX];
	unsigned n_keywords;

	/* retain.c, under retain_lock: blob id -> count of retained messages
	   naming it (their rows and files stay); the rows the last expunge
	   deleted, until its view takes them (set under write_lock too). */
	pthread_mutex_t retain_lock;
	struct hash *pins;
	struct retain_pending pending;
	bool collect_pending; /* pins went: blobs_collect has work */

	pthread_mutex_t watch_lock; /* handles watching the mailbox list */
	struct store_account *watchers;
};

struct store_account {
	struct account *a;
	/* store_account_watch: the mailbox list changed (under watch_lock) */
	store_wake_fn *wake;
	void *wake_arg;
	struct store_account *wnext, *wprev;
};

/* An append-only UID array shared by the view and the snapshots of sessions. */
struct uidbuf {
	uint32_t *uids;
	uint32_t len, cap;
	int refs;                 /* under the view lock */
	struct retain_node *gone; /* once replaced: what went since (retain.c) */
};

struct journal_entry {
	uint64_t modseq;
	uint32_t uid;
	const struct store_mailbox *origin;
};

struct view {
	struct account *acct;
	uint64_t mailbox_id;
	struct view *prev, *next; /* acct->views */
	int refs;                 /* sessions holding it; under views_lock */
	size_t charged;           /* bytes counted in views_bytes while refs == 0 */

	pthread_mutex_t lock;
	bool is_deleted;
	struct uidbuf *buf; /* buf->uids[0..count) is the current mailbox */
	uint32_t count;
	uint8_t *flags;     /* parallel to buf->uids, cap entries */
	uint64_t *keywords; /* NULL while no message has a keyword */
	uint64_t *modseqs;
	uint32_t cap;
	uint32_t uidvalidity, uidnext;
	uint64_t highestmodseq;
	struct store_mailbox_info info; /* counters, kept as of highestmodseq */
	struct journal_entry journal[VIEW_JOURNAL];
	uint64_t journal_total;
	uint64_t journal_lost; /* highest modseq pushed out of the ring */
	struct store_mailbox *watchers;
	struct retain_queue retain; /* expunged messages old snapshots still number */
};

struct store_mailbox {
	struct account *acct;
	struct view *view;
	uint64_t id;
	unsigned open_flags;
	struct uidbuf *buf; /* the session's snapshot: buf->uids[0..count) */
	uint32_t count;
	uint64_t modseq; /* synced up to */
	store_wake_fn *wake;
	void *wake_arg;
	struct store_mailbox *wnext, *wprev;
	uint32_t recent_lo, recent_hi; /* claimed [lo, hi) */
	uint32_t flags_hint; /* view index of the last flags_get: FETCH 1:* asks in order */
};

/* ---- message_append.c: one message ready for its rows ---- */
struct prepared {
	const unsigned char *bytes; /* CRLF-normalised message: data, or the spool's */
	size_t len;
	struct buf data;           /* the copy of an in-memory append */
	struct store_spool *spool; /* streamed: its file is the blob file */
	char hash[65];
	bool is_inline; /* stored in blob_data, no file */
	bool created;   /* this call wrote (or linked) the blob file */
	bool stray;     /* created, but an inline row of that hash was reused */
	bool new_text;  /* this call queued a text for the indexer */
	struct mail_parsed parsed;
};

/* One caller's all-or-none write into one mailbox: a MULTIAPPEND or one
   delivery target. The caller owns it and blocks in commit_submit() while
   a leader thread (maybe another caller's) commits it. */
struct append_req {
	const char *canon; /* canonical mailbox name */
	const struct store_append *msgs;
	struct prepared *p;
	size_t n;
	uint32_t *uids, *flags; /* n entries each, the caller's */
	uint64_t *kws;
	/* Set in the transaction. */
	uint64_t box_id, modseq;
	uint32_t uidvalidity;
	/* The result, valid once done. */
	int rc;
	enum store_error err;
	bool done;
	struct append_req *next; /* the account's queue */
};

/* Adds r's rows inside the leader's transaction (a savepoint around it).
   0, or -1 with r->err. */
int append_rows(struct account *a, struct db *db, struct append_req *r);
/* After the commit, r succeeded: views, watchers, stray files. write_lock held. */
void append_committed(struct account *a, struct db *db, struct append_req *r);
/* r failed (alone or with the batch): removes blob files it created that no
   row references. db may be NULL (then the files are left to check). */
void append_discard(struct account *a, struct db *db, struct append_req *r);
/* r failed before it was submitted: append_discard under the write lock. */
void append_abandon(struct account *a, struct append_req *r);
/* Writes (or links) p's blob file again under the write lock, when the file
   of an existing row was collected meanwhile. */
int prepared_file_rewrite(struct account *a, struct prepared *p, enum store_error *err_out);

/* ---- commit.c: group commit ---- */
/*
 * Queues r for the account's next transaction and returns once it is
 * committed or failed (r->rc, r->err). The first submitter with no leader
 * running becomes the leader: it takes the write lock, then every request
 * queued by then, and commits them in one transaction (one WAL fsync), a
 * savepoint each, so one request's failure does not fail the others.
 * Call with no store lock held.
 */
int commit_submit(struct account *a, struct append_req *r);
void commit_init(struct account *a);
void commit_deinit(struct account *a);

/* ---- spool.c ---- */
/* Flushes the buffer, finishes the hash and makes the spool read-only
   (idempotent). 0, or -1 with its sticky error (_TOOBIG, _TEMP). */
int spool_seal(struct store_spool *sp, enum store_error *err_out);
/* SHA-256 hex of the sealed bytes. */
const char *spool_hash(const struct store_spool *sp);
/* The sealed bytes (read into memory up to inline_max, else mapped
   read-only), valid until store_spool_free. 0, or -1 (_TEMP). */
int spool_bytes(struct store_spool *sp, const unsigned char **data_out, enum store_error *err_out);
/* fsyncs the file, once. 0, or -1 (_TEMP). */
int spool_sync(struct store_spool *sp, enum store_error *err_out);
/* Links the synced file into blob_dir under its hash (blob_link); safe from
   several threads at once. */
int spool_link(struct store_spool *sp, const char *blob_dir, bool *created_out,
               enum store_error *err_out);

/* ---- db.c ---- */
int db_get(struct account *acct, struct db **db_out, enum store_error *err_out);
void db_put(struct account *acct, struct db *db);
void db_close(struct db *db);
int db_open_file(const char *path, bool no_fsync, struct db **db_out);
/* A reset statement for sql (static text), prepared once per connection. */
sqlite3_stmt *db_stmt(struct db *db, const char *sql);
int db_exec(struct db *db, const char *sql);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int db_begin(struct db *db, bool write);
int db_commit(struct db *db);
void db_rollback(struct db *db);
/* Steps st to SQLITE_DONE; logs and returns -1 otherwise. */
int db_step_done(struct db *db, sqlite3_stmt *st);
/* Logs a SQLite failure once, in detail. */
void db_log_error(struct db *db, const char *what);
enum store_error db_error(struct db *db);
/* Steps st and gathers column 0 as uids into a (in row order). */
struct arena;
int db_collect_uids(struct db *db, sqlite3_stmt *st, struct arena *a, uint32_t **uids_out,
                    size_t *n_out);

/* ---- search.c ---- */
/* Registers tern_icontains() on a new connection. */
void search_register(sqlite3 *h);

/* ---- indexer.c ---- */
/* Queues the account (by id) for the background indexer. Call with neither
   store->lock nor the write lock held. */
void indexer_kick(struct account *a);
/* Moves up to max texts from fts_pending into fts in one transaction; the
   caller holds write_lock. Returns how many, or -1. */
int indexer_batch(struct account *a, struct db *db, unsigned max);
/* Stops the indexer thread (store_close); queued work stays pending. */
void indexer_stop(struct store *s);

/* ---- schema.c ---- */
int schema_create(struct db *db, const struct store_settings *set);
int schema_check(struct db *db);

/* ---- blob.c ---- */
void blob_hash_hex(const unsigned char *data, size_t len, char hex_out[65]);
char *blob_path(const char *blob_dir, const char *hex);
/* tmp, write, fsync, rename, fsync dir. Skips the write when the file exists
   and force is false. Returns 0 or -1 (_TEMP). */
int blob_write(const char *blob_dir, const char *hex, const unsigned char *data, size_t len,
               bool no_fsync, bool force, bool *created_out, enum store_error *err_out);
/* Gives the complete, fsync'd file src (a path, or /proc/self/fd/N) the
   name of hex with link(2), then fsyncs the directory. An existing file of
   that name is kept (*created_out false). 0 or -1 (_TEMP). */
int blob_link(const char *blob_dir, const char *hex, const char *src, bool no_fsync,
              bool *created_out, enum store_error *err_out);
bool blob_exists(const char *blob_dir, const char *hex);
int blob_unlink(const char *blob_dir, const char *hex);

/* ---- account.c ---- */
/* The mailbox list or subscriptions changed by origin's call: wakes the
   other handles watching (store_account_watch). No store lock held. */
void account_list_changed(struct account *a, const struct store_account *origin);

/* ---- mailbox.c ---- */
/* Canonical form of a valid name ("inbox/x" -> "INBOX/x"), heap; NULL if invalid. */
char *mailbox_name_canon(const char *name);
/* Finds the mailbox row; -1 with _NOTFOUND or _TEMP. */
int mailbox_id_lookup(struct db *db, const char *canon, uint64_t *id_out,
                      enum store_error *err_out);
/* Bumps highestmodseq in the current transaction; returns the new value or 0. */
uint64_t mailbox_modseq_next(struct db *db, uint64_t mailbox_id);
/* Inserts a row for canon (no parents) in the current write transaction. */
int mailbox_insert(struct db *db, const char *canon, unsigned special_use, uint64_t *id_out);
int mailbox_info_read(struct db *db, uint64_t id, struct arena *a, struct store_mailbox_info *out);

/* ---- keywords (flags.c) ---- */
int keywords_load(struct account *acct, struct db *db);
/* Mask for names, adding new ones in the current write transaction. */
int keywords_mask_make(struct account *acct, struct db *db, const char *const *names, size_t n,
                       uint64_t *mask_out, enum store_error *err_out);

/* ---- view.c / changes.c ---- */
/* The cached view of mailbox_id if loaded (no reference taken); views_lock held. */
struct view *view_find_locked(struct account *acct, uint64_t mailbox_id);
int view_acquire(struct account *acct, struct db *db, uint64_t mailbox_id, struct view **view_out,
                 enum store_error *err_out);
void view_release(struct view *v);
void view_drop_all(struct account *acct);
void view_forget_locked(struct account *acct, struct view *v);
int64_t view_index_locked(const struct view *v, uint32_t uid);
void uidbuf_unref(struct uidbuf *b);
/* Called by writers after commit, with write_lock held. */
void changes_appended(struct account *acct, struct db *db, uint64_t mailbox_id,
                      const uint32_t *uids, const uint32_t *flags, const uint64_t *kw, size_t n,
                      uint64_t modseq);
void changes_flags(struct account *acct, struct db *db, uint64_t mailbox_id,
                   const struct store_mailbox *origin, const uint32_t *uids, const uint32_t *flags,
                   const uint64_t *kw, size_t n, uint64_t modseq);
void changes_expunged(struct account *acct, struct db *db, uint64_t mailbox_id,
                      const struct store_mailbox *origin, const uint32_t *uids, size_t n,
                      uint64_t modseq);
void changes_deleted(struct account *acct, uint64_t mailbox_id);
/* Refreshes the cached counters of the view from the database. */
void changes_counters(struct account *acct, struct db *db, uint64_t mailbox_id);

/* ---- retain.c ---- */
/* The rows expunge_rows() deleted (msgs: heap, taken); write_lock held. */
void retain_pending_set(struct account *a, uint64_t mailbox_id, struct retained *msgs, size_t n);
/* The view's buffer old is being replaced (changes.c, view lock held): by
   an expunge, whose pending rows are kept for the snapshots on old or an
   older buffer, or by growth. Call before dropping the view's reference. */
void retain_buf_replaced(struct view *v, struct uidbuf *old, const struct store_mailbox *origin,
                         bool is_expunge);
/* b is being freed (uidbuf_unref, view lock held). */
void retain_buf_freed(struct uidbuf *b);
void retain_queue_free(struct retain_queue *q);
/* The retained row of uid as mbox's snapshot still sees it; takes the view lock. */
bool retain_find(struct store_mailbox *mbox, uint32_t uid, struct retained *out);
/* Whether a retained message names blob_id (blobs_collect keeps it). */
bool retain_blob_is_pinned(struct account *a, int64_t blob_id);
/* Whether pins went since the last call (blobs may wait for collection). */
bool retain_collect_pending(struct account *a);

/* ---- expunge.c ---- */
/* Deletes rows of uids (already in a write transaction); sets expunged
   history; leaves the rows as they were with retain_pending_set(). */
int expunge_rows(struct account *acct, struct db *db, uint64_t mailbox_id, const uint32_t *uids,
                 size_t n, uint64_t modseq, enum store_error *err_out);
/* True if a file blob row (data NULL) names hash, so the file must stay.
   (Kind tests use typeof(data): SQLite then reads the type, not the bytes.) */
bool blob_is_referenced(struct db *db, const char *hash);
/* Removes blob files with no reference left and no retained message naming
   them (write_lock held, no transaction). */
void blobs_collect(struct account *acct, struct db *db);

/* ---- message_copy.c ---- */
/* Copies (or moves) uids from src to dst in the caller's write transaction.
   Fills src_uids/dst_uids (n entries) and the two new modseqs. */
int copy_in_txn(struct account *acct, struct db *db, const struct store_mailbox *origin,
                uint64_t src_id, uint64_t dst_id, const uint32_t *uids, size_t n, bool move,
                uint32_t *src_uids_out, uint32_t *dst_uids_out, uint32_t *flags_out,
                uint64_t *kw_out, size_t *n_out, uint64_t *src_modseq_out, uint64_t *dst_modseq_out,
                enum store_error *err_out);

/* ---- quota.c ---- */
/* In a write transaction after the change: -1 with _QUOTA when over a limit
   and the change grew usage. */
int quota_enforce(struct db *db, uint64_t storage_before, uint64_t messages_before,
                  enum store_error *err_out);
int quota_usage(struct db *db, uint64_t *storage_out, uint64_t *messages_out);

/* ---- test hooks (blob.c) ---- */
enum store_fault {
	STORE_FAULT_NONE,
	STORE_FAULT_WRITE,
	STORE_FAULT_FSYNC,
	STORE_FAULT_RENAME,
	STORE_FAULT_DIRSYNC,
	STORE_FAULT_COMMIT, /* the metadata commit (db.c) */
};
/* Makes the nth (1-based) next occurrence of f fail; NONE clears. Tests only. */
void store_fault_set(enum store_fault f, unsigned nth);
bool store_fault_hit(enum store_fault f);

#endif
