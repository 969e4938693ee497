/* SPDX-License-Identifier: MIT */
/*
 * store.h: the storage API. Accounts, mailboxes, messages, flags and keywords
 * with modseq, expunge history, quota, full-text search, shared mailbox views
 * and change notification. Everything IMAP4rev2 (+CONDSTORE, QRESYNC,
 * OBJECTID, SAVEDATE, QUOTA, SPECIAL-USE, MULTIAPPEND, MOVE), POP3 and
 * SMTP/LMTP delivery need, in protocol-neutral words: nothing here knows IMAP
 * syntax except that it keeps the ENVELOPE/BODYSTRUCTURE strings src/mail
 * builds. The backend is chosen by name (store_settings.backend); the default is
 * SQLite (WAL) holding the index and small messages, plus one immutable
 * file per larger message (docs/STORE.md); the header does not depend on
 * it. Changes made by other processes reach this one's sessions once it
 * runs store_watch_start().
 *
 * Threads: one struct store per process. struct store_account and
 * struct store_mailbox handles belong to the thread that opened them (a
 * session's worker); the state behind them (database connections, shared
 * views) is shared by all threads and locked inside. Every call is short:
 * index lookups and one small transaction; the only O(n) calls are named.
 *
 * Errors: functions that can fail return 0 or -1 and put the reason in
 * *err_out (never NULL). Nothing is changed when a write fails.
 * Strings: mailbox names are UTF-8, hierarchy delimiter '/', "INBOX" matched
 * case-insensitively and always returned as "INBOX".
 */
#ifndef TERN_STORE_STORE_H
#define TERN_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/collation.h"

struct arena;
struct buf;

struct store;         /* process-wide: data directory, settings, open accounts */
struct store_account; /* a session's reference to an account */
struct store_mailbox; /* a session's open (selected) mailbox */

enum store_error {
	STORE_ERR_NONE = 0,
	STORE_ERR_TEMP,        /* I/O error, disk full, busy: try again later */
	STORE_ERR_NOTFOUND,    /* no such mailbox (IMAP [NONEXISTENT]) or account */
	STORE_ERR_EXISTS,      /* mailbox already exists ([ALREADYEXISTS]) */
	STORE_ERR_PERM,        /* operation not allowed, e.g. delete INBOX ([CANNOT]) */
	STORE_ERR_BADNAME,     /* invalid mailbox name ([CANNOT]) */
	STORE_ERR_HASCHILDREN, /* delete of a mailbox with children ([HASCHILDREN]) */
	STORE_ERR_QUOTA,       /* over storage or message quota ([OVERQUOTA], 552/452) */
	STORE_ERR_TOOBIG,      /* message over store.max_message_size ([TOOBIG], 552) */
	STORE_ERR_LIMIT,       /* other limit: too many keywords, name too deep ([LIMIT]) */
	STORE_ERR_INUSE,       /* locked by another user of the account ([INUSE]) */
	STORE_ERR_EXPUNGED,    /* message was expunged meanwhile ([EXPUNGEISSUED]) */
	STORE_ERR_CORRUPT,     /* blob missing or not matching its hash ([SERVERBUG]) */
	STORE_ERR_NORIGHTS,    /* the ACL does not give the right ([NOPERM], RFC 4314) */
};

/* A short English phrase for logs ("temporary failure"); never NULL. */
const char *store_error_str(enum store_error err);

/* ---- The store ------------------------------------------------------ */

struct store_settings {
	uint64_t max_message_size; /* bytes after CRLF normalisation; 0 = 64 MiB */
	uint64_t quota_storage;    /* default limit for new accounts, bytes; 0 = none */
	uint64_t quota_messages;   /* default limit for new accounts; 0 = none */
	uint64_t quota_mailboxes;  /* default limit for new accounts; 0 = none */
	uint64_t view_cache_bytes; /* per account, unused shared views kept; 0 = 64 MiB */
	unsigned pool_idle;        /* idle SQLite connections kept per account; 0 = 4 */
	unsigned max_idle_dbs;     /* ... and in all, the least recently used closed first;
	                              0 = 256 */
	uint64_t pool_idle_ms;     /* an idle connection unused this long is closed by the
	                              watch's sweep (an idle account then costs a few KiB);
	                              0 = 30 s */
	size_t max_index_text;     /* text per message given to the FTS index; 0 = 1 MiB */
	uint64_t inline_max;       /* messages up to this size live in the index, not a
	                              file (one fsync per append); 0 = none inline */
	bool no_fsync;             /* tests and benchmarks only: skip every fsync */
	const char *backend;       /* "sqlite" (NULL: the default, sqlite) */
	unsigned watch_sweep_ms;   /* store_watch_start()'s safety-net sweep; 0 = 5000 */
	uint64_t linger_ms;        /* an account whose last handle closed keeps its views
	                              this long (account.c); 0 = not at all */
	uint64_t linger_bytes;     /* ... all such accounts' views together; 0 = 64 MiB */
	uint64_t sqlite_memory;    /* SQLite's heap in all, past which its page caches
	                              recycle pages instead of growing (soft); 0 = no bound */
	uint64_t sqlite_mmap;      /* how much of its index.db a connection maps (PRAGMA
	                              mmap_size); 0 (the default) = none, pages are read
	                              into the page cache with pread */
	uint64_t spool_memory;     /* arriving messages that will be stored inline are held
	                              in memory, this much in all; past it (and with 0) each
	                              one over 4 KiB spools to a file */
};

/* Fills s with the defaults above (inline_max: 64 KiB, spool_memory: 64 MiB). */
void store_settings_defaults(struct store_settings *s);
/* SQLite's heap in use now, and the soft limit on it (store.sqlite_memory;
   0 = none), process-wide: for /metrics. */
void store_sqlite_memory(uint64_t *used_out, uint64_t *limit_out);

/*
 * Opens the store rooted at data_dir (creating what the backend needs
 * there, e.g. data_dir/accounts). settings may be NULL for defaults.
 * Returns 0 with *store_out, freed by store_close(), or -1 (_TEMP: unusable
 * directory, _NOTFOUND: no backend of that name).
 */
int store_open(const char *data_dir, const struct store_settings *settings,
               struct store **store_out, enum store_error *err_out);
/* Closes the store; every account and mailbox handle must be closed first. */
void store_close(struct store **storep);

/*
 * Makes changes that other processes commit to this data directory (a
 * delivery, an admin command, check --repair) reach this process's
 * sessions: their views catch up and store_mailbox_watch() callbacks
 * fire, usually within milliseconds. One process per data directory
 * listens (the server); every process that writes through the store tells
 * it after each commit (a datagram to DATA_DIR/store-notify.sock, never
 * blocking the write), and a sweep every store_settings.watch_sweep_ms finds what a
 * lost datagram did not say (docs/STORE.md "Changes from other
 * processes"). Runs one thread until store_close(). When another process
 * already listens, only the sweep runs (logged). Returns 0, or -1 with
 * _TEMP when the thread cannot start.
 */
int store_watch_start(struct store *store, enum store_error *err_out);

/* ---- Accounts ------------------------------------------------------- */

/*
 * Opens account id (assigned by the auth module) for one session. The first
 * open of an id that has no directory yet creates it with INBOX, Drafts,
 * Sent, Trash, Junk and Archive and the default quota. Handles are cheap
 * (a pointer and a reference count): sessions of one account share one
 * connection pool and one view cache, whatever thread they run on.
 * Returns 0 with *acct_out (close with store_account_close()), or -1.
 */
int store_account_open(struct store *store, uint64_t account_id, struct store_account **acct_out,
                       enum store_error *err_out);
void store_account_close(struct store_account **acctp);
uint64_t store_account_id(const struct store_account *acct);

/*
 * Who is acting on an account that may not be theirs (RFC 4314 sharing):
 * the login identity, matched against the ACL identifiers "anyone",
 * "authenticated", name (the login address) and "$group" for each group.
 * Plain data; store_account_open_as() copies it.
 */
struct store_identity {
	uint64_t account_id;
	const char *name;          /* login address, lowercased */
	const char *const *groups; /* group names without '$' */
	size_t n_groups;
};

/*
 * Opens account owner_id on behalf of who (another account's user). The
 * handle works like one from store_account_open(), sharing its views, but
 * every call through it (and through the mailboxes it opens) first checks
 * who's rights in the owner's ACL (store_mailbox_rights()): without the
 * right a call fails with _NORIGHTS, or _NOTFOUND when who may not even
 * see the mailbox (RFC 4314 section 6). When who->account_id is owner_id
 * this is store_account_open(). The shared account is owner
 * STORE_SHARED_ACCOUNT.
 */
int store_account_open_as(struct store *store, uint64_t owner_id, const struct store_identity *who,
                          struct store_account **acct_out, enum store_error *err_out);
/* Whether the handle is its owner's (full rights, no ACL checks). */
bool store_account_is_owner(const struct store_account *acct);

/* The server-owned account holding the public ("Shared/") mailboxes: made
   empty (no INBOX) on first open; auth never gives out id 0. */
#define STORE_SHARED_ACCOUNT 0

/*
 * Full-text indexing runs in the background after appends (search is exact
 * meanwhile), and so does the cleanup after expunges and mailbox deletes
 * (the removed messages' bytes and index entries; they are invisible
 * meanwhile). This does both now, in the caller's thread, in short batches
 * (writers interleave): for benchmarks, import, admin tools and tests that
 * want the account settled. Returns 0, or -1 (_TEMP).
 */
int store_account_index_flush(struct store_account *acct, enum store_error *err_out);

/*
 * Called, from any thread, when another handle of the account created,
 * deleted or renamed a mailbox or changed a subscription (IMAP NOTIFY's
 * MailboxName and SubscriptionChange, RFC 5465). Only signal, as for
 * store_mailbox_watch(). NULL stops watching; closing the handle does too.
 */
typedef void store_wake_fn(void *arg);
void store_account_watch(struct store_account *acct, store_wake_fn *wake, void *arg);

/* ---- Mailboxes ------------------------------------------------------ */

enum store_special_use {
	STORE_SPECIAL_NONE = 0,
	STORE_SPECIAL_ALL = 1 << 0, /* RFC 6154 */
	STORE_SPECIAL_ARCHIVE = 1 << 1,
	STORE_SPECIAL_DRAFTS = 1 << 2,
	STORE_SPECIAL_FLAGGED = 1 << 3,
	STORE_SPECIAL_JUNK = 1 << 4,
	STORE_SPECIAL_SENT = 1 << 5,
	STORE_SPECIAL_TRASH = 1 << 6,
	STORE_SPECIAL_IMPORTANT = 1 << 7, /* RFC 8457 */
};

/* Per-mailbox state and counters; every field is a stored column (O(1)). */
struct store_mailbox_info {
	uint64_t id;
	const char *name;     /* in the caller's arena, or NULL from the view */
	char objectid[24];    /* RFC 8474 MAILBOXID, e.g. "F5a3c...": stable across rename */
	unsigned special_use; /* enum store_special_use bits */
	bool is_subscribed;
	bool has_children;
	uint32_t uidvalidity, uidnext;
	uint64_t highestmodseq;
	uint32_t messages, unseen, deleted, recent;
	uint64_t size;         /* sum of message sizes (STATUS SIZE, RFC 8438) */
	uint64_t deleted_size; /* of the \Deleted ones (STATUS DELETED-STORAGE, RFC 9208) */
	unsigned rights;       /* enum store_right bits of the handle's user (LIST, STATUS) */
};

/*
 * True if name is acceptable: valid UTF-8, 1..255 bytes, no control
 * characters, no '*' or '%', no empty, "." or ".." level, at most 32 levels.
 * No file system path is ever built from a name; this is hygiene for clients.
 */
bool store_mailbox_name_is_valid(const char *name);

/*
 * Creates name with the given special-use bits and any missing parents
 * (RFC 9051 section 6.3.4). -1 with STORE_ERR_EXISTS, _BADNAME.
 */
int store_mailbox_create(struct store_account *acct, const char *name, unsigned special_use,
                         enum store_error *err_out);
/*
 * Deletes name and its messages (blobs go when their last reference does).
 * Sessions that have it open find it gone at their next sync.
 * -1 with _NOTFOUND, _PERM (INBOX), _HASCHILDREN.
 */
int store_mailbox_delete(struct store_account *acct, const char *name, enum store_error *err_out);
/*
 * Renames old_name and every child (old/x becomes new/x), keeping ids,
 * UIDVALIDITY and messages; creates missing parents of new_name. Renaming
 * INBOX moves its messages to a new mailbox new_name and leaves INBOX empty,
 * children not moved (RFC 9051 section 6.3.6). -1 with _NOTFOUND,
 * _EXISTS, _BADNAME, _PERM (into own child).
 */
int store_mailbox_rename(struct store_account *acct, const char *old_name, const char *new_name,
                         enum store_error *err_out);
/* Reads one mailbox's state without opening it (STATUS). name in a. */
int store_mailbox_status(struct store_account *acct, const char *name, struct arena *a,
                         struct store_mailbox_info *out, enum store_error *err_out);
/*
 * Lists every mailbox, sorted by name (bytewise, INBOX first), with counters.
 * LIST pattern matching is the caller's job. Array and names in a.
 */
int store_mailbox_list(struct store_account *acct, struct arena *a,
                       struct store_mailbox_info **list_out, size_t *n_out,
                       enum store_error *err_out);
/* Sets or clears a subscription; a subscribed name need not exist (RFC 9051 6.3.7). */
int store_subscription_set(struct store_account *acct, const char *name, bool subscribed,
                           enum store_error *err_out);
/* All subscribed names, sorted; in a. */
int store_subscription_list(struct store_account *acct, struct arena *a, const char ***names_out,
                            size_t *n_out, enum store_error *err_out);

/* ---- Opening a mailbox: the shared view ----------------------------- */

enum store_open_flags {
	STORE_OPEN_READONLY = 1 << 0, /* EXAMINE: flag and expunge calls fail with _PERM */
	/* Another session's expunge is final for this handle at once: lookups
	   and reads of such a message fail with _EXPUNGED even before the
	   handle's sync. Without it a message stays readable, as it was, while
	   the snapshot still numbers it (IMAP, RFC 2180 4.1.1; docs/STORE.md). */
	STORE_OPEN_NO_RETAINED = 1 << 1,
};

/*
 * Opens name for one session (SELECT/EXAMINE, POP3 login). The handle
 * points at the account's shared in-memory view of the mailbox (UID list,
 * flags, keywords, modseq), loaded from the index on first use (the only
 * O(messages) step; later opens reuse it) and kept, once no session uses it,
 * in a per-account LRU bounded by view_cache_bytes. The handle has its own
 * snapshot of the UID list: sequence numbers stay as the session was last
 * told until store_mailbox_sync(). Returns 0 with *mbox_out, or -1 with
 * _NOTFOUND, _TEMP.
 */
int store_mailbox_open(struct store_account *acct, const char *name, unsigned flags,
                       struct store_mailbox **mbox_out, enum store_error *err_out);
/* Unregisters any watch and drops the snapshot. */
void store_mailbox_close(struct store_mailbox **mboxp);

/* Counters and ids as of the latest change (not the session snapshot). */
void store_mailbox_info_get(struct store_mailbox *mbox, struct store_mailbox_info *out);
/* Number of messages in the session's snapshot (EXISTS). */
uint32_t store_mailbox_count(const struct store_mailbox *mbox);
/* UID of sequence number seq (1..count); 0 when out of range. */
uint32_t store_mailbox_uid(const struct store_mailbox *mbox, uint32_t seq);
/* Sequence number of uid in the snapshot; 0 when not there. O(log n). */
uint32_t store_mailbox_seq(const struct store_mailbox *mbox, uint32_t uid);
/* The whole snapshot, ascending, borrowed until the next sync or close. */
const uint32_t *store_mailbox_uids(const struct store_mailbox *mbox, uint32_t *count_out);

/*
 * Current flags (enum store_flag bits), keyword mask and modseq of uid.
 * Returns 0, or -1 with _EXPUNGED when it is still in the session's
 * snapshot but already expunged by someone else.
 */
int store_mailbox_flags_get(struct store_mailbox *mbox, uint32_t uid, uint32_t *flags_out,
                            uint64_t *keywords_out, uint64_t *modseq_out,
                            enum store_error *err_out);

/*
 * \Recent (RFC 3501): the messages nobody has been shown yet go to exactly
 * one session. Claims, atomically for the account, every UID not claimed by
 * anyone; the session remembers them (store_mailbox_is_recent). Call at
 * SELECT and after each sync that reported new messages; never for EXAMINE.
 */
int store_mailbox_claim_recent(struct store_mailbox *mbox, uint32_t *claimed_out,
                               enum store_error *err_out);
bool store_mailbox_is_recent(const struct store_mailbox *mbox, uint32_t uid);

/* ---- Change notification -------------------------------------------- */

/*
 * Called, from any thread, when another session or process changed the
 * mailbox. It must only signal (libevent event_active()): it runs under a
 * store lock and must not call the store or block. NULL stops watching.
 */
void store_mailbox_watch(struct store_mailbox *mbox, store_wake_fn *wake, void *arg);

/* What a session is told at a sync; see store_mailbox_sync(). */
struct store_sync_fns {
	/* An expunged message, in descending seq order so each seq is right as
	   sent (IMAP EXPUNGE), or collect the uids for VANISHED. */
	void (*expunged)(void *ctx, uint32_t seq, uint32_t uid);
	/* The new message count, once, when it changed (EXISTS). */
	void (*exists)(void *ctx, uint32_t count);
	/* Flags or keywords of a message changed by someone else (FETCH FLAGS),
	   once per message however often it changed. */
	void (*flags)(void *ctx, uint32_t seq, uint32_t uid, uint32_t flags, uint64_t keywords,
	              uint64_t modseq);
};

/*
 * Pulls every change made since the handle's last sync by other sessions
 * and processes (appends, expunges, flag changes; another process's as
 * soon as the view has caught up with it, see store_watch_start()), in
 * order, exactly once, calls fns (any may be NULL) and moves the snapshot
 * to the current state. The callbacks run under the view lock: no store
 * calls from them. Returns 0, or -1 with _NOTFOUND when the mailbox was
 * deleted from under it.
 */
int store_mailbox_sync(struct store_mailbox *mbox, const struct store_sync_fns *fns, void *ctx,
                       enum store_error *err_out);

/* ---- Flags and keywords --------------------------------------------- */

enum store_flag {
	STORE_FLAG_SEEN = 1 << 0,
	STORE_FLAG_ANSWERED = 1 << 1,
	STORE_FLAG_FLAGGED = 1 << 2,
	STORE_FLAG_DELETED = 1 << 3,
	STORE_FLAG_DRAFT = 1 << 4,
};
#define STORE_FLAGS_ALL 0x1fu

/*
 * Keywords are per account: each name gets a bit in a 64-bit mask the first
 * time it is used (case-insensitive, RFC 9051 atoms; the protocol layer
 * validates syntax). A 65th keyword fails with STORE_ERR_LIMIT.
 * store_keyword_names() gives the names of mask's bits (in a); cannot fail.
 */
size_t store_keyword_names(struct store_account *acct, uint64_t mask, struct arena *a,
                           const char ***names_out);
/* Mask of keywords already known by name; unknown names are skipped. */
uint64_t store_keyword_mask(struct store_account *acct, const char *const *names, size_t n);

enum store_flags_op { STORE_FLAGS_SET, STORE_FLAGS_ADD, STORE_FLAGS_REMOVE };

struct store_flags_change {
	enum store_flags_op op;
	uint32_t flags;
	const char *const *keywords;
	size_t n_keywords;
	uint64_t unchanged_since; /* CONDSTORE UNCHANGEDSINCE; 0 = unconditional */
};

struct store_flags_result {
	uint32_t *changed; /* uids whose flags changed, ascending, in the arena */
	size_t n_changed;
	uint32_t *failed; /* uids refused by UNCHANGEDSINCE (MODIFIED response) */
	size_t n_failed;
	uint64_t modseq; /* the new modseq of every changed message; 0 if none */
};

/*
 * STORE: applies ch to uids (ascending or not; uids not in the mailbox are
 * skipped, as IMAP wants). One transaction, one new modseq for all changed
 * messages; unchanged messages keep theirs. -1 with _PERM (read-only), _LIMIT.
 */
int store_flags_update(struct store_mailbox *mbox, const uint32_t *uids, size_t n,
                       const struct store_flags_change *ch, struct arena *a,
                       struct store_flags_result *res_out, enum store_error *err_out);

/* ---- Messages ------------------------------------------------------- */

/* ---- Streaming delivery -------------------------------------------- */
struct store_spool; /* one message as it arrives */

/* Starts a message: a spool file under the data directory (same file system
   as the accounts, so it can become a blob without copying; O_TMPFILE or a
   named temp file in DIR/tmp), a CRLF normaliser and a running SHA-256.
   Cheap and non-blocking apart from creating the file: callable on an event
   loop. The file is created only once the message outgrows the spool's
   buffer (a message that fits it and is stored inline never touches the
   disk before its commit), so creating it, and failing to, happens in
   store_spool_write. Returns 0 with *spool_out, or -1 (_TEMP). */
int store_spool_new(struct store *store, struct store_spool **spool_out, enum store_error *err_out);
/* Appends bytes as they arrive, any split: bare LF becomes CRLF, the bytes are
   hashed on the fly and written (write(2), no fsync) through a small
   fixed buffer (a few KiB; the message is never held in memory). -1 with
   _TOOBIG once the normalised size passes store.max_message_size (every later
   write fails the same way), _TEMP on I/O error (disk full). Once a
   store_message_append or store_deliver has used the spool it is read-only
   (its file may be a blob now): later writes fail with _PERM. */
int store_spool_write(struct store_spool *sp, const void *data, size_t len,
                      enum store_error *err_out);
/* Normalised size so far. */
uint64_t store_spool_size(const struct store_spool *sp);
/* True when the spool holds a NUL byte (IMAP: a plain literal may not; RFC 3516 4.4). */
bool store_spool_has_nul(const struct store_spool *sp);
/* Frees the spool and removes its file, committed or not. */
void store_spool_free(struct store_spool **spp);

struct store_append {
	const unsigned char *data; /* the message; bare LF becomes CRLF */
	size_t len;
	uint32_t flags;
	const char *const *keywords;
	size_t n_keywords;
	int64_t internal_date; /* seconds since the epoch; 0 = now */
	/* When set, the message comes from the spool and data/len are ignored
	   (each spool at most once per call). The caller frees it after. */
	struct store_spool *spool;
	/* APPEND ANNOTATION (RFC 5257 section 4.6): stored with the message;
	   value.priv as annotation_user's. value.shared needs 'n' (else the
	   append fails with _NORIGHTS), value.priv 'r'. */
	const struct store_annotation *annotations;
	size_t n_annotations;
	const char *annotation_user;
};

/*
 * APPEND, MULTIAPPEND, delivery: stores n messages into mailbox, all or
 * none, durably (blob fsync'd and renamed, then one transaction commits;
 * return means committed). uids_out (n entries, may be NULL) receives the
 * new UIDs for APPENDUID. -1 with _NOTFOUND, _TOOBIG, _QUOTA, _LIMIT, _TEMP.
 * Blocking (file writes and fsyncs): call it from a pool thread. Concurrent
 * calls for one account share transactions (group commit: one WAL fsync
 * for all that overlap), each keeping its own all-or-none result.
 */
int store_message_append(struct store_account *acct, const char *mailbox,
                         const struct store_append *msgs, size_t n, uint32_t *uidvalidity_out,
                         uint32_t *uids_out, enum store_error *err_out);

/* One recipient of store_deliver (SMTP/LMTP with several local recipients). */
struct store_delivery_target {
	struct store_account *acct;
	const char *mailbox; /* usually "INBOX" */
	uint32_t flags;
	const char *const *keywords;
	size_t n_keywords;
	int64_t internal_date; /* 0 = now */
	/* out */
	uint32_t uidvalidity, uid;
	enum store_error err; /* STORE_ERR_NONE when stored */
};

/* Stores the spooled message into every target: parsed once, its bytes
   written once (a file blob is hard-linked into each account's blobs/, so N
   accounts share one copy on disk; inline ones go into each index), each
   account in its own transaction. Blocking: call it from a pool thread, not an
   event loop. Returns how many targets were stored; each target's err says
   why one was not (_NOTFOUND mailbox, _QUOTA, _TOOBIG, _TEMP). The spool stays
   usable (free it after). */
size_t store_deliver(struct store_spool *sp, struct store_delivery_target *targets, size_t n);

/*
 * COPY and MOVE: new rows in dest point at the same blobs (reference
 * counted), keeping email id, thread id, flags, keywords and internal date;
 * save date is now. uids absent from the source are skipped. With move the
 * source rows are expunged in the same transaction. dst_uids_out (n
 * entries) gets the new uid of each copied message in source uid order;
 * *n_copied_out how many. -1 with _NOTFOUND (dest), _QUOTA, _PERM.
 */
int store_message_copy(struct store_mailbox *src, const uint32_t *uids, size_t n, const char *dest,
                       bool move, uint32_t *uidvalidity_out, uint32_t *src_uids_out,
                       uint32_t *dst_uids_out, size_t *n_copied_out, enum store_error *err_out);

enum store_fetch_fields {
	STORE_FETCH_BASIC = 0,          /* uid, size, flags, dates, ids: always */
	STORE_FETCH_ENVELOPE = 1 << 0,  /* envelope */
	STORE_FETCH_STRUCTURE = 1 << 1, /* bodystructure, body, parts, header_size */
	STORE_FETCH_SORT = 1 << 2,      /* subject ... references */
	STORE_FETCH_PARTS = 1 << 3,     /* parts only (where sections lie): BODY[1], TEXT */
	STORE_FETCH_PREVIEW = 1 << 4,   /* preview */
};

/* One message's metadata. Strings and parts in the caller's arena. */
struct store_message_info {
	uint32_t uid;
	uint64_t size; /* RFC822.SIZE, after CRLF normalisation */
	uint32_t flags;
	uint64_t keywords;
	uint64_t modseq;
	int64_t internal_date, save_date, sent_date;
	/* RFC 8474 EMAILID: the same in every copy (COPY keeps it), so not a
	   POP3 UIDL, which must be unique per maildrop (RFC 1939 section 7):
	   that derives from UIDVALIDITY and UID. */
	char email_id[24];
	char thread_id[24];   /* RFC 8474 THREADID */
	char blob_hash[65];   /* SHA-256 hex of the stored bytes */
	uint64_t storage_ref; /* the backend's note of where the bytes are: opaque,
	                         for store_reader_open() */
	uint64_t header_size;
	const char *envelope, *bodystructure, *body;
	const unsigned char *parts;
	size_t parts_len;
	const char *subject, *base_subject, *from_addr, *from_display, *to_addr, *to_display,
	        *cc_addr, *message_id, *in_reply_to, *references;
	/* RFC 8970 PREVIEW as made at delivery; NULL when the message was
	   stored before previews were kept: store_message_preview_make(). */
	const char *preview;
};

/*
 * Metadata of n messages by uid (cached at delivery: nothing is reparsed).
 * out has n entries; an uid no longer in the mailbox gets out[i].uid = 0.
 * fields (enum store_fetch_fields) says which strings to copy into a; ask
 * only for what you send. One read transaction for all n: call it for a
 * batch (FETCH asks for 64 at a time), not once per message. Strictly
 * ascending, dense uids (a FETCH 1:*) are read with one range scan, others
 * with one indexed lookup each. Flags, keywords and modseq are also in the
 * view: store_mailbox_flags_get() needs no index read at all.
 * Returns 0, or -1 with _TEMP.
 */
int store_message_lookup(struct store_mailbox *mbox, const uint32_t *uids, size_t n,
                         unsigned fields, struct arena *a, struct store_message_info *out,
                         enum store_error *err_out);

/*
 * The raw bytes of a message, wherever the backend keeps them (inside the
 * index or in a file), through a reader: made once, it opens one message
 * after another (store_reader_open/_close), keeping its buffer, so a FETCH
 * of many messages allocates nothing per message. store_reader_new()
 * cannot fail; free with store_reader_free().
 */
struct store_reader;
struct store_reader *store_reader_new(void);
void store_reader_free(struct store_reader **rp);
/*
 * Opens in r the message whose metadata the caller looked up
 * (store_message_lookup): no second index read is needed. It stays
 * readable after the message is expunged (a FETCH whose literal length is
 * sent can always be finished). info->uid 0, or expunged and gone since
 * the lookup: -1 with _EXPUNGED; missing or damaged bytes: -1 with
 * _CORRUPT (logged); else _TEMP. Closes what r had open first.
 */
int store_reader_open(struct store_reader *r, struct store_mailbox *mbox,
                      const struct store_message_info *info, enum store_error *err_out);
/* Lets the message go; r is ready for the next open. */
void store_reader_close(struct store_reader *r);
/* The open message's size in bytes (RFC822.SIZE), checked against the
   stored bytes at open. */
uint64_t store_reader_size(const struct store_reader *r);
/*
 * Appends bytes [offset, offset+len) of the open message to out, clamped
 * to its size (nothing past the end). Straight into out: no copy in
 * between. Returns 0, or -1 with _CORRUPT (short file, logged), _TEMP, or
 * _EXPUNGED when no message is open.
 */
int store_reader_read(struct store_reader *r, uint64_t offset, uint64_t len, struct buf *out,
                      enum store_error *err_out);
/*
 * A read-only fd (use pread, sendfile, evbuffer_add_file with offsets) for
 * a message kept in a file, owned by the reader until close; -1 when the
 * bytes are in memory: then copy them with store_reader_read().
 */
int store_reader_fd(const struct store_reader *r);

/*
 * The RFC 8970 PREVIEW of a message whose info (store_message_lookup with
 * STORE_FETCH_PREVIEW) has none because it was stored before previews were
 * kept: made from the first MiB of its bytes and cached for the next FETCH
 * when the account's writer is free (never waiting for it). *preview_out in
 * a, never NULL. -1 with _EXPUNGED, _CORRUPT, _TEMP (as store_reader_open).
 */
int store_message_preview_make(struct store_mailbox *mbox, const struct store_message_info *info,
                               struct arena *a, const char **preview_out,
                               enum store_error *err_out);

/*
 * Appends bytes [offset, offset+len) of the message uid to out (clamped to
 * its size: BODY[]<partial>, POP3 TOP). One index read; for more than one
 * range of the same message, open a reader. -1 with _EXPUNGED, _CORRUPT,
 * _TEMP.
 */
int store_message_read(struct store_mailbox *mbox, uint32_t uid, uint64_t offset, uint64_t len,
                       struct buf *out, enum store_error *err_out);

/*
 * EXPUNGE / UID EXPUNGE / POP3 QUIT: removes the messages of uids that have
 * \Deleted (uids NULL: every \Deleted message). The removed uids go to the
 * expunge history with the new modseq (QRESYNC VANISHED). *expunged_out
 * (arena, ascending) says which went. The caller's own snapshot still
 * numbers them: its next store_mailbox_sync() reports them, so send the
 * EXPUNGE/VANISHED responses from that sync, not from *expunged_out (the
 * same holds for the source of a MOVE). Returns once the removal is
 * committed: the bytes and search entries of messages nothing else
 * references go later, in the background (a reader opened before may
 * still read them meanwhile; store_account_index_flush waits for it).
 * -1 with _PERM (read-only), _TEMP.
 */
int store_message_expunge(struct store_mailbox *mbox, const uint32_t *uids, size_t n,
                          struct arena *a, uint32_t **expunged_out, size_t *n_out,
                          enum store_error *err_out);
/* POP3 DELE+QUIT, admin: removes uids whatever their flags. */
int store_message_remove(struct store_mailbox *mbox, const uint32_t *uids, size_t n,
                         struct arena *a, uint32_t **expunged_out, size_t *n_out,
                         enum store_error *err_out);

/* UIDs expunged with a modseq above since (QRESYNC VANISHED (EARLIER)). */
int store_expunged_since(struct store_mailbox *mbox, uint64_t since, struct arena *a,
                         uint32_t **uids_out, size_t *n_out, enum store_error *err_out);
/* UIDs (still present) whose modseq is above since (CHANGEDSINCE). */
int store_changed_since(struct store_mailbox *mbox, uint64_t since, struct arena *a,
                        uint32_t **uids_out, size_t *n_out, enum store_error *err_out);

/* ---- Search and sort ------------------------------------------------ */

enum store_text_field {
	STORE_TEXT_BODY,    /* text parts */
	STORE_TEXT_TEXT,    /* headers and text parts */
	STORE_TEXT_HEADERS, /* all decoded header values */
	STORE_TEXT_SUBJECT,
	STORE_TEXT_FROM, /* address and display name */
	STORE_TEXT_TO,
	STORE_TEXT_CC,
};

/*
 * Substring search (IMAP SEARCH BODY/TEXT/SUBJECT/...) under the
 * collation's substring operation (RFC 5255 4.6; i;unicode-casemap is the
 * case-insensitive one of RFC 9051). Needles of 3 characters or more are
 * FTS5 trigram index lookups; shorter ones scan the cached text of the
 * mailbox (O(mailbox)). search.c says what the index cannot see. Result:
 * ascending uids in a. An empty needle matches every message.
 */
int store_search_text(struct store_mailbox *mbox, enum store_text_field field, const char *needle,
                      enum collation coll, struct arena *a, uint32_t **uids_out, size_t *n_out,
                      enum store_error *err_out);

/* One match of store_search_text_account(). */
struct store_text_hit {
	uint64_t mailbox_id; /* as store_mailbox_info_get() gives it */
	uint32_t uid;
};

/*
 * store_search_text() over every mailbox of the account at once, for a
 * search of many mailboxes (MULTISEARCH): one index query instead of one
 * per mailbox, each of which runs the phrase over the whole account's
 * index. Hits sorted by mailbox id, then uid, in a. Offered for BODY,
 * TEXT and HEADERS needles the index answers alone (3 characters or more,
 * ASCII, under i;unicode-casemap),
 * through the owner's handle only: returns 1 (nothing done) otherwise, and
 * the caller searches mailbox by mailbox. 0, or -1 with _TEMP.
 */
int store_search_text_account(struct store_account *acct, enum store_text_field field,
                              const char *needle, enum collation coll, struct arena *a,
                              struct store_text_hit **hits_out, size_t *n_out,
                              enum store_error *err_out);

/*
 * Fuzzy search (SEARCH=FUZZY, RFC 6203): the messages holding words like
 * needle's in field, typos and inflections allowed ("recieve" finds
 * "receive", "meetings" finds "meeting"), each with its relevancy 1..100
 * (100: every word as typed). Words, not substrings, are matched; a
 * needle without a word of 3+ letters is the exact search, every match
 * 100. Messages the indexer has not reached are found too. Result:
 * ascending uids and their scores (same order), in a. Returns 0, or -1
 * with *err_out. See fuzzy.c for the scoring.
 */
int store_search_fuzzy(struct store_mailbox *mbox, enum store_text_field field, const char *needle,
                       struct arena *a, uint32_t **uids_out, uint8_t **scores_out, size_t *n_out,
                       enum store_error *err_out);

enum store_column {
	STORE_COL_INTERNAL_DATE, /* BEFORE/ON/SINCE: seconds */
	STORE_COL_SENT_DATE,     /* SENTBEFORE/SENTON/SENTSINCE */
	STORE_COL_SAVE_DATE,     /* SAVEDBEFORE/... (RFC 8514) */
	STORE_COL_SIZE,          /* LARGER/SMALLER */
	STORE_COL_MODSEQ,        /* MODSEQ */
};

/* uids whose column lies in [min, max]; ascending, in a. Indexed or one scan. */
int store_search_range(struct store_mailbox *mbox, enum store_column col, int64_t min, int64_t max,
                       struct arena *a, uint32_t **uids_out, size_t *n_out,
                       enum store_error *err_out);

enum store_sort_key {
	STORE_SORT_ARRIVAL,
	STORE_SORT_CC,
	STORE_SORT_DATE, /* sent date, internal date when none (RFC 5256) */
	STORE_SORT_FROM,
	STORE_SORT_SIZE,
	STORE_SORT_SUBJECT, /* base subject */
	STORE_SORT_TO,
	STORE_SORT_DISPLAYFROM, /* RFC 5957 */
	STORE_SORT_DISPLAYTO,
	STORE_SORT_ANNOTATION, /* RFC 5257 4.3: entry's value (none: "") */
	/* RFC 6203 section 6: the FUZZY scores, which only the caller has;
	   store_sort_uids passes over it. */
	STORE_SORT_RELEVANCY,
};

struct store_sort {
	enum store_sort_key key;
	bool reverse;
	/* STORE_SORT_ANNOTATION: the entry, and value.shared or user's value.priv */
	const char *entry;
	bool is_shared;
	const char *user;
};

/* Sorts the whole mailbox by keys (ties by uid), strings ordered by the
   collation (RFC 5255 4.6: strings it rejects last); uids_out in a,
   n_out = messages. */
int store_sort_uids(struct store_mailbox *mbox, const struct store_sort *keys, size_t n_keys,
                    enum collation coll, struct arena *a, uint32_t **uids_out, size_t *n_out,
                    enum store_error *err_out);

/* ---- URLAUTH access keys -------------------------------------------- */

/*
 * The mailbox access key of name (RFC 4467 section 3): 32 random bytes,
 * made on first use; with reset a new one replaces it (RESETKEY), so every
 * URL authorized with the old one stops working. -1 with _NOTFOUND, _TEMP.
 */
int store_mailbox_access_key(struct store_account *acct, const char *name, bool reset,
                             unsigned char key_out[32], enum store_error *err_out);
/* RESETKEY without a mailbox: every mailbox of the account gets a new key. */
int store_access_keys_reset(struct store_account *acct, enum store_error *err_out);

/* ---- Metadata (RFC 5464) -------------------------------------------- */

/* One annotation: name as checked by the caller (lowercase ASCII, "/shared/..."
   or "/private/..."), value bytes (NUL-terminated copy; may hold NULs). */
struct store_metadata_entry {
	const char *name;
	const unsigned char *value; /* NULL in a set: remove the entry */
	size_t len;
};

/*
 * The entry name of mailbox ("" or NULL: the account's server entries),
 * and with subtree every entry below it too, sorted by name; array and
 * strings in a. Returns 0 (*n_out may be 0), or -1 with _NOTFOUND (no such
 * mailbox) or _TEMP.
 */
int store_metadata_get(struct store_account *acct, const char *mailbox, const char *name,
                       bool subtree, struct arena *a, struct store_metadata_entry **out,
                       size_t *n_out, enum store_error *err_out);
/*
 * Sets or removes (value NULL) the n entries in one transaction: all or
 * none. max_entries (0 = no limit) bounds the entries of that mailbox (or
 * of the server) after the change: -1 with _LIMIT when a new entry would
 * pass it. Also -1 with _NOTFOUND, _TEMP. Entries go with their mailbox:
 * kept by RENAME, removed by DELETE, copied by an INBOX rename.
 */
int store_metadata_set(struct store_account *acct, const char *mailbox,
                       const struct store_metadata_entry *entries, size_t n, size_t max_entries,
                       enum store_error *err_out);
/* A METADATA change another handle of the account made. */
struct store_metadata_change {
	uint64_t mailbox_id; /* 0: a server entry */
	const char *name;
};
/* The newest change's number: where a new reader starts. */
uint64_t store_metadata_seq(struct store_account *acct);
/*
 * The changes after *seq that other handles made through this process's
 * store (SETMETADATA: RFC 5465 5.6-5.7 NOTIFY events), oldest first, in a;
 * moves *seq to the newest. *lost_out is true when older ones were no
 * longer kept (the last 64 are). Cannot fail; the count is returned.
 */
size_t store_metadata_changes(struct store_account *acct, uint64_t *seq, struct arena *a,
                              struct store_metadata_change **out, bool *lost_out);
/* Replaces a mailbox's special-use bits (RFC 6154 section 4, through
   /private/specialuse). -1 with _NOTFOUND, _TEMP. */
int store_mailbox_special_use_set(struct store_account *acct, const char *mailbox, unsigned bits,
                                  enum store_error *err_out);

/* ---- Message annotations (RFC 5257) --------------------------------- */

/* One annotation of a message: entry as checked by the caller (lowercase,
   "/comment", "/1.2/comment"), value.shared or the user's value.priv. */
struct store_annotation {
	uint32_t uid;
	const char *entry;
	bool is_shared;
	const unsigned char *value; /* NULL in a change: remove it */
	size_t len;
};

/*
 * The annotations of uid that user sees: every value.shared and user's own
 * value.priv, sorted by entry (priv before shared); array and strings in a.
 * Returns 0 (*n_out may be 0), or -1 with _TEMP.
 */
int store_annotation_get(struct store_mailbox *mbox, uint32_t uid, const char *user,
                         struct arena *a, struct store_annotation **out, size_t *n_out,
                         enum store_error *err_out);
/*
 * Applies changes (their uid ignored) to each of uids in one transaction
 * (RFC 5257 section 4.4): value.priv needs 'r', value.shared 'n' (section
 * 5), else -1 with _NORIGHTS and nothing changed; a read-only handle gets
 * _PERM. A message whose value changed gets a new modseq (RFC 5257 section
 * 6, RFC 7162 3.1), shown to other sessions as a flag change; with
 * unchanged_since a message whose modseq is above it is left alone and
 * listed in res_out->failed. max_entries (0 = none) bounds the entries
 * user sees on one message after the change: -1 with _LIMIT. res_out as
 * store_flags_update(), its arrays in a. Also -1 with _TEMP.
 */
int store_annotation_set(struct store_mailbox *mbox, const uint32_t *uids, size_t n,
                         const char *user, const struct store_annotation *changes, size_t n_changes,
                         uint64_t unchanged_since, size_t max_entries, struct arena *a,
                         struct store_flags_result *res_out, enum store_error *err_out);

/* ---- Access control (RFC 4314) -------------------------------------- */

/* The rights of RFC 4314 section 2.1, one bit each ('c' and 'd' are the
   virtual rights of section 2.1.1: c = k+x, d = e+t, as in its examples). */
enum store_right {
	STORE_RIGHT_LOOKUP = 1 << 0,    /* l: LIST */
	STORE_RIGHT_READ = 1 << 1,      /* r: SELECT, STATUS */
	STORE_RIGHT_SEEN = 1 << 2,      /* s: \Seen */
	STORE_RIGHT_WRITE = 1 << 3,     /* w: other flags and keywords */
	STORE_RIGHT_INSERT = 1 << 4,    /* i: APPEND, COPY into */
	STORE_RIGHT_POST = 1 << 5,      /* p: submission to the mailbox (not used) */
	STORE_RIGHT_CREATE = 1 << 6,    /* k: CREATE children, RENAME into */
	STORE_RIGHT_DELETE = 1 << 7,    /* x: DELETE, RENAME from */
	STORE_RIGHT_DELMSG = 1 << 8,    /* t: \Deleted */
	STORE_RIGHT_EXPUNGE = 1 << 9,   /* e: EXPUNGE */
	STORE_RIGHT_ADMIN = 1 << 10,    /* a: SETACL, GETACL, LISTRIGHTS */
	STORE_RIGHT_ANNOTATE = 1 << 11, /* n: shared message annotations (RFC 5257 section 5) */
};
#define STORE_RIGHTS_ALL 0xfffu
/* "lrswipkxtean": every right's letter in bit order. */
#define STORE_RIGHTS_LETTERS "lrswipkxtean"

enum store_rights_mod { STORE_RIGHTS_REPLACE, STORE_RIGHTS_ADD, STORE_RIGHTS_REMOVE };

/*
 * Parses an RFC 4314 rights string ("lrs", "+cd", "-w"; mod-rights when
 * allow_mod). 'c' and 'd' expand to their members. Returns 0 with the
 * bits and the modifier, or -1 with *bad_out the offending character
 * (an upper-case, unknown right or a digit: RFC 4314 3.1 says BAD).
 * Pure: no store needed (fuzz/fuzz_acl_rights.c).
 */
int store_rights_parse(const char *s, bool allow_mod, unsigned *rights_out,
                       enum store_rights_mod *mod_out, char *bad_out);
/* The letters of rights, with 'c'/'d' added when a member is there
   (section 2.1.1), into out (at least 16 bytes). Returns out. */
char *store_rights_format(unsigned rights, char out[16]);
/*
 * True for an identifier the store may keep: "anyone", "authenticated",
 * "$name" (a group), or a login name; each may start with '-' (negative
 * rights). 1..255 bytes of UTF-8, no controls, no spaces. Pure.
 */
bool store_acl_identifier_is_valid(const char *identifier);

/* One ACL entry. */
struct store_acl_entry {
	const char *identifier; /* as stored ("-fred" for negative rights) */
	unsigned rights;
};

/*
 * The ACL of mailbox name (GETACL), sorted by identifier; in a. Needs 'a'
 * through a non-owner handle. The owner's implicit rights are not an
 * entry. -1 with _NOTFOUND, _NORIGHTS, _TEMP.
 */
int store_acl_get(struct store_account *acct, const char *name, struct arena *a,
                  struct store_acl_entry **entries_out, size_t *n_out, enum store_error *err_out);
/*
 * SETACL / DELETEACL: applies mod with rights to identifier's entry of
 * name; an entry left with no rights is removed (so REPLACE with 0 is
 * DELETEACL). name "" is the account's root: what new top-level
 * mailboxes inherit (an ACL on the shared account's root decides who may
 * create public mailboxes). Needs 'a' through a non-owner handle. Also
 * updates the store's index of who shares with whom
 * (store_shared_owners()). -1 with _NOTFOUND, _NORIGHTS, _BADNAME, _TEMP.
 */
int store_acl_set(struct store_account *acct, const char *name, const char *identifier,
                  enum store_rights_mod mod, unsigned rights, enum store_error *err_out);
/*
 * The one place rights are decided: what acct's user may do on mailbox
 * name. The owner (store_account_open) has every right on every mailbox
 * (RFC 4314 section 2: implicit rights); anyone else has the union of the
 * entries matching them minus the union of the matching negative ones.
 * Every store call through a non-owner handle checks with it. name "":
 * the root. -1 with _NOTFOUND (no such mailbox), _TEMP.
 */
int store_mailbox_rights(struct store_account *acct, const char *name, unsigned *rights_out,
                         enum store_error *err_out);
/* The rights the handle's user had when mbox was opened (RFC 4314 5.1.1
   lets a server keep them for the selection). */
unsigned store_mailbox_my_rights(const struct store_mailbox *mbox);
/*
 * Accounts that share at least one mailbox with an identity who matches
 * (an entry for who->name, "anyone", "authenticated" or one of its
 * groups), excluding who's own, ascending; heap (free()). The index is
 * DATA_DIR/shares.db, kept by store_acl_set(). 0, or -1 with _TEMP.
 */
int store_shared_owners(struct store *store, const struct store_identity *who, uint64_t **ids_out,
                        size_t *n_out, enum store_error *err_out);

/* ---- Quota ---------------------------------------------------------- */

/*
 * One quota root per account (RFC 9208 section 3.2): bytes of messages,
 * messages and mailboxes, each with a limit (0 = none). Usage is kept by
 * triggers in each writer's transaction, and every write that grows usage
 * checks the limits before its COMMIT (append, copy, delivery, create), so
 * two writers cannot both slip under a limit. Lowering a limit below usage
 * refuses further growth only: expunge, delete and MOVE always work.
 */
struct store_quota {
	uint64_t storage_used, storage_limit; /* bytes; limit 0 = none */
	uint64_t messages_used, messages_limit;
	uint64_t mailboxes_used, mailboxes_limit;
};

/* Which limits store_quota_limits_set() changes. */
enum store_quota_resource {
	STORE_QUOTA_STORAGE = 1 << 0,
	STORE_QUOTA_MESSAGES = 1 << 1,
	STORE_QUOTA_MAILBOXES = 1 << 2,
};
#define STORE_QUOTA_ALL (STORE_QUOTA_STORAGE | STORE_QUOTA_MESSAGES | STORE_QUOTA_MAILBOXES)

/* GETQUOTA/GETQUOTAROOT: one row read, whatever the size. */
int store_quota_get(struct store_account *acct, struct store_quota *out, enum store_error *err_out);
/*
 * An account's usage and limits read from its database without opening the
 * account (no handle, no cache, nothing created): for /metrics' census of
 * every account, which must not load them all. Returns 0 with *out, 1 when
 * the account has no store yet (never used), or -1 with _TEMP.
 */
int store_quota_peek(struct store *store, uint64_t account_id, struct store_quota *out,
                     enum store_error *err_out);
/* Sets the storage and message limits (0 = none), keeping the mailbox one. */
int store_quota_set(struct store_account *acct, uint64_t storage_limit, uint64_t messages_limit,
                    enum store_error *err_out);
/*
 * Sets the limits named in which (enum store_quota_resource bits) from
 * limits' *_limit fields in one write, leaving the others; then fills
 * *limits with the quota as it now is (usage included). 0 or -1 (_TEMP).
 */
int store_quota_limits_set(struct store_account *acct, unsigned which, struct store_quota *limits,
                           enum store_error *err_out);

/* ---- Check and repair ----------------------------------------------- */

/*
 * `tern check [--repair]`: for every account of the store, the backend
 * verifies its storage (SQLite: the schema, every counter against a
 * recount, blob reference counts, that every referenced blob exists and
 * matches its SHA-256, orphan blob and temp files). Problems are written to
 * report one per line ("account=7 problem=blob-missing hash=...").
 * With repair: recomputes counters and reference counts, removes orphans
 * and zero-reference blobs, and removes messages whose blob is missing or
 * corrupt (logged, with the expunge recorded so clients see it: views of
 * this process catch up, a listening server is told). Must not run while a
 * server writes the same account. Returns 0 when clean (or all repaired),
 * 1 when problems remain, -1 when the check itself could not run.
 */
int store_check(struct store *store, bool repair, FILE *report);
int store_check_account(struct store *store, uint64_t account_id, bool repair, FILE *report);

/*
 * The server's own collection of what a crash leaves behind (check's
 * orphan-blob and temp-file problems), so they do not pile up until a
 * `check --repair`: for every account, blob files no row names, and temp
 * files over an hour old. Safe while this and other processes write (see
 * the backend). Stops early once *stop is true. Returns the number of files
 * removed, or -1 when the accounts cannot be listed. Blocks: run it off any
 * event loop.
 */
long store_collect_orphans(struct store *store, const _Atomic bool *stop);

#endif
