/* SPDX-License-Identifier: MIT */
/*
 * backend.h: the seam between the store's backend-neutral core
 * (store_core.h: registry, shared views, session snapshots, change
 * publication, the watch for other processes, check dispatch) and a
 * backend that keeps the data. The core never touches storage; what it
 * needs is this table, chosen by name at store_open() (store_settings.backend,
 * "sqlite" by default: backend_sqlite.c over the files of store_int.h).
 * The rest of store.h (append, copy, flags, expunge, search, quota) is
 * written directly by the SQLite files today; a second backend would add
 * those calls to this table.
 *
 * The views are fed by "changes since modseq", so what every backend must
 * keep (docs/STORE.md "Invariants"; tests/unit/test_store_conformance.c
 * checks them through store.h against each backend):
 * - every write transaction that changes a mailbox gives it a new
 *   highestmodseq, greater than any before (SQLite: the old one + 1); each
 *   message it adds or changes carries that modseq, each uid it removes is
 *   kept in the expunge history with it, for as long as the mailbox lives;
 * - uids are given in ascending commit order, each above every uid before
 *   it (uidnext > every uid) and never reused;
 * - mailbox ids are never reused, so a view can never confuse a new
 *   mailbox with a deleted one;
 * - every commit that changes what a view holds calls watch_committed()
 *   for its account, so a process listening for other processes' changes
 *   hears of it;
 * - reads of one call see one consistent snapshot.
 * With these, a view that is current up to modseq M catches up from the
 * backend alone: the state, the uids expunged after M, the messages
 * changed after M, in one snapshot, and nothing is missed or told twice.
 */
#ifndef TERN_STORE_BACKEND_H
#define TERN_STORE_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "store/store.h"

struct account;
struct store;

/*
 * Receives a mailbox's contents or changes, in this order: its state once
 * (counters and ids; name NULL), then expunged uids ascending (changes
 * only), then messages ascending by uid. Called on the reading thread,
 * with no store lock but what the caller holds.
 */
struct backend_sink {
	void (*state)(void *ctx, const struct store_mailbox_info *state);
	void (*expunged)(void *ctx, uint32_t uid, uint64_t modseq);
	void (*message)(void *ctx, uint32_t uid, uint32_t flags, uint64_t keywords,
	                uint64_t modseq);
};

struct store_backend {
	const char *name;

	/* Prepares data_dir for this backend (store_open). -1 with _TEMP. */
	int (*store_open)(struct store *s, enum store_error *err_out);
	/* Stops what the backend runs for the store (store_close). */
	void (*store_close)(struct store *s);
	/* Opens (creating on first use) the account's storage and loads its
	   keyword names into a->keywords. Called under store->lock. -1 with
	   _TEMP, leaving nothing open. */
	int (*account_open)(struct account *a, enum store_error *err_out);
	/* After a newly opened account entered the registry, no lock held:
	   may start background work for it. May be NULL. */
	void (*account_opened)(struct account *a);
	/* Closes what account_open opened (the last handle went). */
	void (*account_close)(struct account *a);
	/* Every account id that has storage, ascending; heap. -1 on failure. */
	int (*account_list)(struct store *s, uint64_t **ids_out, size_t *n_out);
	/*
	 * True in *changed_out when someone other than this process's last
	 * look may have committed to the account since the previous call
	 * (false positives are allowed, false negatives are not): the watch's
	 * safety net. Returns 0, or -1 (then assume changed).
	 */
	int (*account_poll)(struct account *a, bool *changed_out);
	/* Frees what the account holds for speed only and has not used for
	   idle_ms (SQLite: pooled connections); ref_ns is CLOCK_REALTIME
	   taken before the account_poll() this follows. True if it freed
	   anything. May be NULL. */
	bool (*account_trim)(struct account *a, uint64_t idle_ms, int64_t ref_ns);
	/* Another process committed to the account (the watch heard of it):
	   pick up background work it left (SQLite: texts to index). May be
	   NULL. */
	void (*account_changed)(struct account *a);
	/* store_check_account(): verify, and with repair fix, one account. */
	int (*account_check)(struct store *s, uint64_t account_id, bool repair, FILE *report);
	/* store_collect_orphans(): one account's crash leftovers, safely while
	   others write; 0 with *removed_out, -1. May be NULL. */
	int (*account_collect)(struct store *s, uint64_t account_id, unsigned *removed_out);

	/* The id of mailbox canon (mailbox_name_canon()); -1 with _NOTFOUND, _TEMP. */
	int (*mailbox_lookup)(struct account *a, const char *canon, uint64_t *id_out,
	                      enum store_error *err_out);
	/* Its state (one row: O(1)); -1 with _NOTFOUND when gone, _TEMP. */
	int (*mailbox_state)(struct account *a, uint64_t mailbox_id, struct store_mailbox_info *out,
	                     enum store_error *err_out);
	/* State and every message, in one snapshot (loading a view). */
	int (*mailbox_load)(struct account *a, uint64_t mailbox_id, const struct backend_sink *sink,
	                    void *ctx, enum store_error *err_out);
	/* State, uids expunged with a modseq above since and messages whose
	   modseq is above since, in one snapshot (catching up a view). */
	int (*mailbox_changes)(struct account *a, uint64_t mailbox_id, uint64_t since,
	                       const struct backend_sink *sink, void *ctx,
	                       enum store_error *err_out);
	/* \Recent: atomically hands out [lo, hi), the uids nobody claimed,
	   and says how many of them are there (*claimed_out). write_lock held. */
	int (*recent_claim)(struct account *a, uint64_t mailbox_id, uint32_t *lo_out,
	                    uint32_t *hi_out, uint32_t *claimed_out, enum store_error *err_out);
};

extern const struct store_backend store_backend_sqlite;

#endif
