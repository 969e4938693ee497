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

/* Sets the threshold and whether lines also go to syslog (facility mail). */
void log_configure(enum log_level min, bool to_syslog);
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
