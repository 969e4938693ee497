/* SPDX-License-Identifier: MIT */
/*
 * smtp_accounts.h: store account handles for the pool threads that resolve
 * and deliver mail. The store frees an account (closing its SQLite
 * connections, which checkpoints the WAL: three fsyncs) when its last handle
 * closes, and rebuilds it at the next open; a delivery that opened and
 * closed its accounts paid that for every message. Each pool thread keeps
 * the handles it used last instead, as a store handle belongs to the thread
 * that opened it.
 */
#ifndef TERN_SMTP_SMTP_ACCOUNTS_H
#define TERN_SMTP_SMTP_ACCOUNTS_H

#include <stdint.h>

#include "store/store.h"

/* Handles kept per thread; the least recently used goes first. */
#define SMTP_ACCOUNTS_PER_THREAD 64

/*
 * A handle for account_id from the calling thread's cache (opened on first
 * use): borrowed, never closed by the caller; valid until this thread has
 * got SMTP_ACCOUNTS_PER_THREAD other accounts. NULL with *err_out when the
 * store cannot open it.
 * Pool threads only: the cache is closed when the thread ends.
 */
struct store_account *smtp_account_get(struct store *store, uint64_t account_id,
                                       enum store_error *err_out);

#endif
