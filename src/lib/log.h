/* SPDX-License-Identifier: MIT */
/*
 * log.h: one line per event, key=value, to stderr and optionally syslog.
 *   2026-11-23T10:15:02.481Z info imap sid=6c1f09a2 event=login user=alice
 * Callers pass the key=value text; the logger adds the time, level and module.
 * Client-supplied strings go through log_str() first, so a hostile user name
 * cannot forge a line. Thread-safe: each line is written with one call.
 */
#ifndef TERN_LIB_LOG_H
#define TERN_LIB_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/util.h"

struct arena;

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

/*
 * A log context: who a line is about. A thread that works for a session
 * (its worker while it runs the session's callbacks, a pool thread while it
 * runs the session's job) sets it, and every line logged meanwhile, the
 * store's and auth's included, carries it: "sid=" right after the module,
 * then the message, then "proto=" (when the module is not the protocol),
 * "ip=" and "user=" unless the message has those keys itself. So a sid a
 * user reports leads to every line of their session.
 */
struct log_ctx {
	char sid[9];   /* 8 hex digits; "" = no context */
	char proto[8]; /* "imap", "smtp", ... */
	char ip[48];
	char user[192]; /* escaped as log_str() does; "" before login */
};

/* Makes ctx (copied by reference: it must outlive the call's scope of use)
   the calling thread's context; returns the previous one. NULL clears. */
const struct log_ctx *log_ctx_swap(const struct log_ctx *ctx);
/* Sets ctx->user from a client string, escaped (truncated if long). */
void log_ctx_set_user(struct log_ctx *ctx, const char *user, size_t len);

/* Sets the threshold and whether lines also go to syslog (facility mail). */
void log_configure(enum log_level min, bool to_syslog);
/*
 * Sends log lines to the file at path (appended, created 0640), or back to
 * stderr when path is "". Call again with the same path to reopen after
 * logrotate moved the file (SIGUSR1). The switch is atomic (dup2 onto the
 * descriptor writers use), so a line is never lost to a closed fd. Returns
 * 0, or -1 with errno set and the old destination kept.
 */
int log_open(const char *path);
/* Parses "debug", "info", "warn", "error"; -1 if none of them. */
int log_level_parse(const char *s);
bool log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *module, const char *fmt, ...) PRINTF_LIKE(3, 4);
void log_vmsg(enum log_level level, const char *module, const char *fmt, va_list ap);

#define log_debug(mod, ...)                                                                        \
	do {                                                                                       \
		if (log_enabled(LOG_LEVEL_DEBUG))                                                  \
			log_msg(LOG_LEVEL_DEBUG, mod, __VA_ARGS__);                                \
	} while (0)
#define log_info(mod, ...)  log_msg(LOG_LEVEL_INFO, mod, __VA_ARGS__)
#define log_warn(mod, ...)  log_msg(LOG_LEVEL_WARN, mod, __VA_ARGS__)
#define log_error(mod, ...) log_msg(LOG_LEVEL_ERROR, mod, __VA_ARGS__)

/*
 * Returns s (len bytes) made safe for a log value: printable ASCII is kept,
 * everything else becomes \xNN, and the result is double-quoted when it holds
 * a space, quote or is empty. Allocated from the arena.
 */
char *log_str(struct arena *a, const char *s, size_t len);

#endif
