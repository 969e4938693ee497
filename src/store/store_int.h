/* SPDX-License-Identifier: MIT */
/*
 * store_int.h: the default backend's internals, shared by its files
 * (SQLite index.db + blob files: db.c, schema.c, blob.c, mailbox.c,
 * message_*.c, flags.c, expunge.c, search.c, indexer.c, quota.c, check.c,
 * backend_sqlite.c) and the store's white-box tests; nobody else sees it.
 * The backend-neutral core's structs and lock order are in store_core.h,
 * the seam between the two in backend.h.
 */
#ifndef TERN_STORE_STORE_INT_H
#define TERN_STORE_STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "lib/buf.h"
#include "mail/message.h"
#include "store/backend.h"
#include "store/store_core.h"

#define DB_STMT_CACHE 48

/* Texts the background indexer moves into fts per transaction, and the
   backlog past which a writer indexes a batch itself (indexer.c). */
#define INDEX_BATCH       256
#define INDEX_BACKLOG_MAX 8192
/* Zero-reference blobs the indexer thread collects per transaction
   (expunge.c). Their FTS5 deletes cost ~0.4 ms each (more on a busy
   machine), and an append waits for the batch in progress: with 128 one
   waited a median 90 ms while a 10,000-message expunge was collected, with
   32 19 ms, for about the same total (docs/PERFORMANCE.md). */
#define COLLECT_BATCH 32

/* One SQLite connection with its cache of prepared statements (keyed by the
   address of the static SQL text). data_version: the last PRAGMA
   data_version this connection saw (backend_sqlite.c account_poll). */
struct db {
	sqlite3 *h;
	struct db *next;
	struct db *lru_prev, *lru_next; /* store's idle list, while pooled */
	struct account *acct;           /* pool connections: whose commits to announce */
	int64_t data_version;
	bool has_data_version;
	bool is_fresh; /* opened since its last db_put(): a poll on it says "changed" */
	uint64_t last_used_ms; /* time_mono_ms() of its last db_put(); 0 = never used */
	unsigned n_stmts;
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} stmts[DB_STMT_CACHE];
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
	/* Whose rights the append needs (a non-owner's handle), NULL: owner. */
	const struct store_identity *who;
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
	bool is_published; /* the views know (commit.c) */
	/* A failure leaves the files it created to the caller: store_deliver,
	   whose other targets still link the same spool file. */
	bool keep_created;
	struct append_req *next; /* the account's queue */
};

/* Adds r's rows inside the leader's transaction (a savepoint around it);
   batch is the transaction's requests, r among them. 0, or -1 with r->err. */
int append_rows(struct account *a, struct db *db, struct append_req *r, struct append_req *batch);
/* After the commit, r succeeded: stray files, the indexer's backlog (the
   views are commit.c's). write_lock held. */
void append_committed(struct account *a, struct append_req *r);
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

/* ---- backend_sqlite.c ---- */
/* acct's last connection just closed (pool_lock held): takes its files'
   print, trusted if every mtime in it is a second older than ref_ns
   (CLOCK_REALTIME), so account_poll can compare prints instead. */
void sqlite_account_unpooled(struct account *acct, int64_t ref_ns);

/* ---- db.c ---- */
int db_get(struct account *acct, struct db **db_out, enum store_error *err_out);
void db_put(struct account *acct, struct db *db);
/* Takes version (-1: asks it now) as db's data_version baseline, as if
   polled: only where no view of the account exists or is loading. */
void db_set_baseline(struct db *db, int64_t version);
/* Closes every kept connection of acct (it is closing). */
void db_pool_close_all(struct account *acct);
/* Closes the account's kept connections unused for idle_ms; how many. In
 *empty_out whether it then has none at all, kept or taken. */
unsigned db_pool_trim(struct account *acct, uint64_t idle_ms, bool *empty_out);
void db_close(struct db *db);
/* Opens path (WAL, synchronous=FULL unless no_fsync), mapping up to
   mmap_bytes of it (PRAGMA mmap_size; 0 = read with pread only). */
int db_open_file(const char *path, bool no_fsync, uint64_t mmap_bytes, struct db **db_out);
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
/* Registers tern_contains() and tern_sortkey() on a new connection. */
void search_register(sqlite3 *h);

/* ---- fuzzy.c ---- */
/*
 * Adds the words of the texts texts_sql selects (columns header, body; ?1
 * bound to arg) to the fuzzy vocabulary, inside the caller's write
 * transaction. Returns 0 or -1.
 */
int fuzzy_vocab_add_texts(struct db *db, const char *texts_sql, int64_t arg);
/* Adds up to max texts of fuzzy_backlog (an upgrade's) to the vocabulary
   and the word index in one transaction; the caller holds write_lock.
   Returns how many (0: none left, a->fuzzy_backlog cleared), or -1. */
int fuzzy_backlog_batch(struct account *a, struct db *db, unsigned max);
/* Registers tern_has_word() on a new connection. */
void fuzzy_register(sqlite3 *h);

/* ---- indexer.c ---- */
/* Queues the account (by id) for the background indexer. Call with neither
   store->lock nor the write lock held. */
void indexer_kick(struct account *a);
/* Moves up to max texts from fts_pending into fts in one transaction; the
   caller holds write_lock. Returns how many, or -1. */
int indexer_batch(struct account *a, struct db *db, unsigned max);
/* ---- message_preview.c ---- */
/* Makes the previews of up to max blobs that have none (stored before
   schema 8), reading and parsing without the write lock and taking it only
   to write them. Returns how many (0: none left, preview_pending cleared),
   or -1. No transaction open on db. */
int preview_backfill_batch(struct account *a, struct db *db, unsigned max);
/* Stops the indexer thread (store_close); queued work stays pending. */
void indexer_stop(struct store *s);
/* Tests only: while held, the indexer thread starts no work (what is
   kicked meanwhile waits in its queue). */
void indexer_hold(struct store *s, bool hold);

/* ---- schema.c ---- */
int schema_create(struct db *db, const struct store_settings *set, bool with_mailboxes);
int schema_check(struct db *db);

/* ---- blob.c ---- */
void blob_hash_hex(const unsigned char *data, size_t len, char hex_out[65]);
/* The hex name of a SHA-256 digest. */
void blob_hex(const unsigned char md[32], char hex_out[65]);
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

/* ---- acl.c: the rights check (store.h "Access control") ---- */
/*
 * The check every non-owner call makes: needs all of need on mailbox_id
 * (0: the root) of the handle's account, read with db. 0 when allowed
 * (always for the owner); -1 with _NORIGHTS, or _NOTFOUND when the user
 * may not even look the mailbox up, or _TEMP. *rights_out (may be NULL)
 * gets the user's rights.
 */
int acl_check(const struct store_account *acct, struct db *db, uint64_t mailbox_id, unsigned need,
              unsigned *rights_out, enum store_error *err_out);
/* Copies the ACL of parent_id onto new mailbox id (CREATE inherits it,
   RFC 4314 section 4). In the caller's transaction. */
int acl_inherit(struct db *db, uint64_t parent_id, uint64_t id);
/* The system flags rights lets a user set (RFC 4314 section 4): \Seen
   with 's', \Deleted with 't', the others (and keywords) with 'w'. */
uint32_t acl_flag_mask(unsigned rights);
/* Removes mailbox id's ACL (DELETE). In the caller's transaction. */
int acl_delete_mailbox(struct db *db, uint64_t id);
/* ---- mailbox.c ---- */
/* Finds the mailbox row; -1 with _NOTFOUND or _TEMP. */
int mailbox_id_lookup(struct db *db, const char *canon, uint64_t *id_out,
                      enum store_error *err_out);
/* The id of mailbox name as a user wrote it, "" or NULL naming the
   account itself (0: the ACL root, the METADATA server entries); -1 with
   _NOTFOUND or _TEMP. */
int mailbox_name_id(struct db *db, const char *name, uint64_t *id_out, enum store_error *err_out);
/* Bumps highestmodseq in the current transaction; returns the new value
   (the old one + 1, backend.h) or 0. */
uint64_t mailbox_modseq_next(struct db *db, uint64_t mailbox_id);
/* Inserts a row for canon (no parents) in the current write transaction. */
int mailbox_insert(struct db *db, const char *canon, unsigned special_use, uint64_t *id_out);
/* One mailbox's row (name in a, or NULL); -1 with _NOTFOUND or _TEMP. */
int mailbox_info_read(struct db *db, uint64_t id, struct arena *a, struct store_mailbox_info *out,
                      enum store_error *err_out);

/* ---- keywords (flags.c) ---- */
int keywords_load(struct account *acct, struct db *db);
/* Mask for names, adding new ones in the current write transaction. */
int keywords_mask_make(struct account *acct, struct db *db, const char *const *names, size_t n,
                       uint64_t *mask_out, enum store_error *err_out);

/* ---- check.c ---- */
int check_account(struct store *s, uint64_t account_id, bool repair, FILE *report);
/* Removes one account's orphan blobs and old temp files (store_collect_orphans). */
int check_collect(struct store *s, uint64_t account_id, unsigned *removed_out);

/* ---- expunge.c ---- */
/* Deletes rows of uids (already in a write transaction); sets expunged
   history; leaves the rows as they were with retain_pending_set(). */
int expunge_rows(struct account *acct, struct db *db, uint64_t mailbox_id, const uint32_t *uids,
                 size_t n, uint64_t modseq, enum store_error *err_out);
/* True if a file blob row (data NULL) names hash, so the file must stay.
   (Kind tests use typeof(data): SQLite then reads the type, not the bytes.) */
bool blob_is_referenced(struct db *db, const char *hash);
/* Collects up to max zero-reference blobs (rows, texts, FTS entries, then
   files) in one transaction; write_lock held, no transaction open. Returns
   how many, or -1 (logged; the rows stay for a later batch). */
int blobs_collect_batch(struct account *acct, struct db *db, unsigned max);
/* Collects every zero-reference blob now, batch after batch (check
   --repair, which runs with the server stopped). */
void blobs_collect(struct account *acct, struct db *db);
/* After a commit that may have dropped references (write_lock held):
   marks the account for the indexer thread's collection. The caller kicks
   it (indexer_kick) once it has released the lock. */
void blobs_collect_later(struct account *acct);

/* ---- message_copy.c ---- */
/* Copies (or moves) uids from src to dst in the caller's write transaction,
   keeping only the flags dst_rights allow (acl_flag_mask). Fills
   src_uids/dst_uids (n entries) and the two new modseqs. */
int copy_in_txn(struct account *acct, struct db *db, const struct store_mailbox *origin,
                uint64_t src_id, uint64_t dst_id, const uint32_t *uids, size_t n, bool move,
                unsigned dst_rights, uint32_t *src_uids_out, uint32_t *dst_uids_out,
                uint32_t *flags_out, uint64_t *kw_out, size_t *n_out, uint64_t *src_modseq_out,
                uint64_t *dst_modseq_out, enum store_error *err_out);

/* ---- quota.c ---- */
/* Usage before a change; the limits are read again at quota_enforce(). */
struct quota_usage {
	uint64_t storage, messages, mailboxes;
};
/* In a write transaction before the change: 0, or -1 (database). */
int quota_usage(struct db *db, struct quota_usage *out);
/* In the same transaction after the change: -1 with _QUOTA when usage is
   over a limit and the change grew it. */
int quota_enforce(struct db *db, const struct quota_usage *before, enum store_error *err_out);

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
