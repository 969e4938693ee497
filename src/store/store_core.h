/* SPDX-License-Identifier: MIT */
/*
 * store_core.h: the backend-neutral core of the store, shared by its files
 * and seen by nobody else: the process-wide store, the account registry,
 * the shared mailbox views and session snapshots (view.c), change
 * publication and catch-up (changes.c), and the watch for changes made by
 * other processes (watch.c). The core reads and writes no storage itself:
 * it asks the backend through the table in backend.h. The default backend's
 * own internals (SQLite connections, blobs, schema) are in store_int.h.
 *
 * Locks, always taken in this order, never the reverse:
 *   store->lock (account registry)  >  acct->write_lock (one writer per
 *   account, in process)  >  acct->commit_lock (the group-commit queue;
 *   a submitter takes it alone, the leader inside write_lock)  >
 *   acct->views_lock (view list, LRU)  >  view->lock (one view's arrays,
 *   watchers)  >  acct->kw_lock, acct->pool_lock, acct->retain_lock;
 *   acct->watch_lock (account watchers) is taken alone; store->shares_lock
 *   (shares.db, acl.c) alone or inside acct->write_lock.
 */
#ifndef TERN_STORE_STORE_CORE_H
#define TERN_STORE_STORE_CORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/un.h>

#include "store/store.h"

#define VIEW_JOURNAL 256
#define KEYWORDS_MAX 64

struct append_req;
struct store_backend;
struct db;

struct store {
	char *data_dir;
	char *tmp_dir; /* DATA_DIR/tmp: spools (spool.c) */
	struct store_settings set;
	/* Bytes that spools of inline-sized messages hold in memory beyond
	   their first buffer, against set.spool_memory (spool.c); atomic. */
	uint64_t spool_memory_used;
	const struct store_backend *backend;
	pthread_mutex_t lock;
	struct hash *accounts; /* id -> struct account, under lock */
	/* Accounts no handle has open that keep their views (account.c),
	   most recently closed first, and what their views take; under lock. */
	struct account *linger_head, *linger_tail;
	size_t linger_bytes;

	/* Every account's idle pooled connections, most recently used first
	   (db.c): past set.max_idle_dbs the oldest is closed. Under idle_lock,
	   taken after an account's pool_lock, never before it (but tried). */
	pthread_mutex_t idle_lock;
	struct db *idle_head, *idle_tail;
	unsigned n_idle_dbs;

	/* DATA_DIR/shares.db (acl.c): who shares with whom; opened on first
	   use, one connection under shares_lock. */
	pthread_mutex_t shares_lock;
	struct sqlite3 *shares;

	/* The background FTS indexer (indexer.c): account ids to index,
	   under lock. */
	pthread_cond_t idx_cond;
	pthread_t idx_thread;
	bool idx_running, idx_stop;
	bool idx_held; /* tests: start no work (indexer_hold) */
	uint64_t *idx_ids;
	size_t idx_n, idx_cap;

	/* Changes from other processes (watch.c). notify_addr is the data
	   directory's socket; one process listens on it (tern serve), every
	   other writer sends "account changed" datagrams to it. */
	struct sockaddr_un notify_addr;
	bool has_notify_addr;     /* the path fits in sun_path */
	_Atomic int send_fd;      /* unbound datagram socket, made on first send */
	_Atomic bool is_listener; /* this process receives: it sends nothing */
	int listen_fd, stop_fd;   /* bound socket, eventfd that stops the thread */
	pthread_t watch_thread;
	bool watch_running;
};

/* ---- retain.c: expunged messages kept while snapshots number them ---- */
struct retained { /* one expunged message, as its row was */
	uint32_t uid, flags;
	uint64_t keywords, modseq;
	/* The backend's: blob_id names the bytes (SQLite: the blobs row). */
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
struct retain_pending { /* rows an expunge deleted, not yet in the view */
	uint64_t mailbox_id;
	struct retained *msgs;
	size_t n;
};

/* The shared state of one account; store_account handles point here. */
/* METADATA changes kept for sessions that have not read them yet: more
   between two looks of one session is an overflow (it is told nothing of
   the older ones). */
#define METADATA_RING 64

struct account {
	struct store *store;
	uint64_t id;
	int refs; /* under store->lock */
	/* Lingering (account.c), under store->lock: when its time is up
	   (time_mono_ms; 0 = a handle opened it since), whether it is on the
	   store's list, and what it was charged there. */
	uint64_t linger_until_ms;
	bool lingering;
	size_t linger_charged;
	struct account *linger_prev, *linger_next;

	pthread_mutex_t write_lock;

	/* Group commit (commit.c): appends waiting for a transaction, and
	   whether a leader is running one. Under commit_lock. */
	pthread_mutex_t commit_lock;
	pthread_cond_t commit_cond;
	struct append_req *queue_head, *queue_tail;
	size_t queued;
	bool has_leader;
	uint64_t commits, committed_reqs; /* transactions and requests, for tests */

	pthread_mutex_t views_lock;
	struct view *views;        /* most recently used first */
	_Atomic int views_loading; /* view_acquire()s reading a view not listed yet */
	size_t views_bytes;        /* of views no session holds */

	pthread_mutex_t kw_lock;
	char *keywords[KEYWORDS_MAX];
	unsigned n_keywords;

	/* The watch's next sweep catches the views up (watch.c): a catch-up
	   failed, or a connection that may have seen a commit no view has
	   went (db.c). */
	_Atomic bool needs_catch_up;

	/* retain.c, under retain_lock: blob id -> count of retained messages
	   naming it (their rows and files stay); the rows the last expunge
	   deleted, until its view takes them (set under write_lock too). */
	pthread_mutex_t retain_lock;
	struct hash *pins;
	struct retain_pending pending;
	bool pins_released; /* pins went: collection has work again */

	pthread_mutex_t watch_lock; /* handles watching the mailbox list */
	struct store_account *watchers;
	/* The latest METADATA changes (account_metadata_changed), for NOTIFY's
	   MailboxMetadataChange and ServerMetadataChange (RFC 5465 5.6-5.7):
	   a ring under watch_lock; slot seq % METADATA_RING holds change seq. */
	struct metadata_change {
		uint64_t seq, mailbox_id; /* mailbox_id 0: the server */
		char *name;               /* heap */
		const struct store_account *origin;
	} meta_ring[METADATA_RING];
	uint64_t meta_seq; /* the newest change's; 0 before any */

	/* The SQLite backend's (store_int.h). */
	char *dir, *blob_dir;
	pthread_mutex_t pool_lock;
	struct db *idle;
	unsigned n_idle;
	unsigned n_out; /* connections taken by db_get() and not yet put back */
	/* While the account has no connection at all: what its files looked
	   like when the last one closed (backend_sqlite.c, account_poll). */
	struct files_print {
		struct file_print {
			bool exists;
			uint64_t ino, size;
			int64_t mtime_ns;
		} db, wal;
	} print;
	bool print_valid;    /* taken, and no connection opened since */
	bool print_settled;  /* every mtime in it older than the poll before it */
	int64_t fts_backlog; /* rows in fts_pending, under write_lock */
	/* Texts of a schema 7 database not yet in fuzzy search's indexes
	   (fuzzy_backlog, fuzzy.c), under write_lock. */
	bool fuzzy_backlog;
	/* Zero-reference blobs may be left for the indexer thread (expunge.c);
	   and how many it (or anyone) collected, for tests. Under write_lock. */
	bool collect_pending;
	uint64_t blobs_collected;
	/* Messages stored before previews were kept (RFC 8970) wait for the
	   indexer thread to make theirs (message_preview.c). Under write_lock. */
	bool preview_pending;
};

struct store_account {
	struct account *a;
	/* A non-owner's handle (store_account_open_as): whose rights every
	   call checks (acl.c); NULL for the owner. Heap, with its strings. */
	const struct store_identity *who;
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
	int refs;                 /* sessions (and catch-ups) holding it; under views_lock */
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
	/* Every change up to this modseq is in the arrays, none after it:
	   catch-up asks the backend for what is newer. Changed only under
	   acct->write_lock (and the view lock). */
	uint64_t highestmodseq;
	struct store_mailbox_info info; /* counters, kept as of highestmodseq */
	/* The last VIEW_JOURNAL flag changes, a ring; allocated at the first
	   (most views of idle accounts never change: 6 KiB saved each). */
	struct journal_entry *journal;
	uint64_t journal_total;
	uint64_t journal_lost; /* highest modseq pushed out of the ring */
	struct store_mailbox *watchers;
	struct retain_queue retain; /* expunged messages old snapshots still number */
	/* The \Seen sets of users other than the owner who have it open
	   (seen.c), under the lock. */
	struct seen_user *seen_users;
};

/* One user's \Seen in a view (seen.c): the uids they have seen, shared by
   that user's handles; changed under the account's write_lock and the
   view lock, read under the view lock. */
struct seen_user {
	struct seen_user *next;
	char *user;
	uint32_t *uids; /* ascending */
	size_t n, cap;
	int refs; /* handles */
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
	unsigned rights;     /* enum store_right bits, as of the open (acl.c) */
	/* The opening handle's identity (borrowed: the handle outlives its
	   mailboxes), for the rights of COPY's destination; NULL: owner. */
	const struct store_identity *who;
	/* The user's own \Seen (seen.c) when who is set and the mailbox does
	   not share \Seen; NULL: the messages' own flag. */
	struct seen_user *seen;
};

/* ---- seen.c: per-user \Seen on another owner's mailbox ---- */
/* Gives a non-owner handle its user's \Seen set, loading it once per view
   (the mailbox's /shared/vendor/tern/sharedseen "true" keeps \Seen
   shared: no set). 0, or -1 with _TEMP. */
int seen_attach(struct store_mailbox *m, enum store_error *err_out);
void seen_detach(struct store_mailbox *m);
/* flags with \Seen as m's user sees it; view lock held. */
uint32_t seen_overlay_locked(const struct store_mailbox *m, uint32_t uid, uint32_t flags);
/* Records uid seen or not for user, in the caller's write transaction. */
int seen_write(struct db *db, uint64_t mailbox_id, const char *user, uint32_t uid, bool seen);
/* After the commit of seen_write()s: the set follows (write_lock held). */
void seen_set_update(struct store_mailbox *m, const uint32_t *uids, const bool *seen, size_t n);
/* After the commit of an append by another user (r->who): the \Seen it
   wrote for them joins their set, if a view holds one. write_lock held. */
void seen_appended(struct account *a, struct db *db, const struct append_req *r);
/* How many messages of mailbox_id user has seen; -1 on a database error. */
int64_t seen_count(struct db *db, uint64_t mailbox_id, const char *user);
/* Whether mailbox_id shares \Seen among its users (METADATA
   /shared/vendor/tern/sharedseen "true"). */
bool seen_is_shared(struct db *db, uint64_t mailbox_id);

/* ---- commit.c: the group-commit queue's locks (the queue is store_int.h's) ---- */
void commit_init(struct account *a);
void commit_deinit(struct account *a);

/* ---- account.c ---- */
/* The open account id with a reference taken, or NULL if not open here. */
struct account *account_lookup(struct store *s, uint64_t account_id);
/* Drops a reference; the last one frees the account, or lets it linger. */
void account_unref(struct account *a);
/* Frees every lingering account (store_close). */
void account_linger_drop_all(struct store *s);
/* The mailbox list or subscriptions changed by origin's call: wakes the
   other handles watching (store_account_watch). No store lock held. */
void account_list_changed(struct account *a, const struct store_account *origin);
/* origin set or removed these METADATA entries (names copied): recorded for
   store_metadata_changes(), then the list watchers are woken. */
void account_metadata_changed(struct account *a, const struct store_account *origin,
                              uint64_t mailbox_id, const char *const *names, size_t n);

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

/* ---- acl.c ---- */
/* Closes shares.db (store_close). */
void acl_shares_close(struct store *s);

/* ---- mailbox_name.c ---- */
/* Canonical form of a valid name ("inbox/x" -> "INBOX/x"), heap; NULL if invalid. */
char *mailbox_name_canon(const char *name);

/* ---- view.c ---- */
/* The loaded view of mailbox_id with a reference taken (release with
   view_release()), or NULL when none is loaded. */
struct view *view_lookup(struct account *acct, uint64_t mailbox_id);
/* The cached view of mailbox_id if loaded (no reference taken); views_lock held. */
struct view *view_find_locked(struct account *acct, uint64_t mailbox_id);
/* Every loaded view, each with a reference taken; *views_out is heap. */
size_t view_list(struct account *acct, struct view ***views_out);
int view_acquire(struct account *acct, uint64_t mailbox_id, struct view **view_out,
                 enum store_error *err_out);
void view_release(struct view *v);
void view_drop_all(struct account *acct);
void view_forget_locked(struct account *acct, struct view *v);
int64_t view_index_locked(const struct view *v, uint32_t uid);
void uidbuf_unref(struct uidbuf *b);

/* ---- changes.c ---- */
/*
 * Called by writers after COMMIT, with write_lock held: what one write
 * transaction did to mailbox_id, which it took to modseq. The view (if
 * loaded) takes the change directly when it is the next one; otherwise (a
 * change from elsewhere came in between) it catches up from the backend.
 * uids ascending. origin: the session that made it (not woken), or NULL.
 */
void changes_appended(struct account *acct, uint64_t mailbox_id, const uint32_t *uids,
                      const uint32_t *flags, const uint64_t *kw, size_t n, uint64_t modseq);
void changes_flags(struct account *acct, uint64_t mailbox_id, const struct store_mailbox *origin,
                   const uint32_t *uids, const uint32_t *flags, const uint64_t *kw, size_t n,
                   uint64_t modseq);
void changes_expunged(struct account *acct, uint64_t mailbox_id, const struct store_mailbox *origin,
                      const uint32_t *uids, size_t n, uint64_t modseq);
void changes_deleted(struct account *acct, uint64_t mailbox_id);
/* Rereads the view's counters; catches up if the mailbox moved on. write_lock held. */
void changes_refresh(struct account *acct, uint64_t mailbox_id);
/*
 * Another process (or connection) may have changed the account: brings
 * every loaded view up to the backend's state and wakes their watchers.
 * Takes write_lock only for views that are behind. Returns 0, or -1 when
 * some view could not be read (it stays as it was; try again later).
 */
int changes_catch_up(struct account *acct);

/* ---- watch.c ---- */
/* Sets up the notify address at store_open. */
void watch_init(struct store *s);
/* Stops the thread (if running) and closes the sockets (store_close). */
void watch_deinit(struct store *s);
/* After every commit to the account by this process: tells the listening
   process, unless this is it. Never blocks; a lost datagram is found by
   the listener's sweep. */
void watch_committed(struct account *a);
/* True on the watch's thread: its reads (polls, catch-ups) are not an
   account's own use, so they do not keep its connections open. */
extern _Thread_local bool store_thread_is_watch;
/* A write that went around the views of this process (tern check --repair):
   catches up here, tells the listener. */
void watch_changed_behind(struct store *s, uint64_t account_id);

#endif
