/* SPDX-License-Identifier: MIT */
/*
 * util.h: the few macros and out-of-memory-aborting allocators every layer uses.
 * Out of memory aborts (a mail server that half-allocates a session is worse
 * than one that restarts), so callers never check these for NULL.
 */
#ifndef TERN_LIB_UTIL_H
#define TERN_LIB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)    ((a) < (b) ? (a) : (b))
#define MAX(a, b)    ((a) > (b) ? (a) : (b))
#define UNUSED(x)    ((void)(x))

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define NORETURN          __attribute__((noreturn))
#else
#define PRINTF_LIKE(f, a)
#define NORETURN
#endif

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a heap string formatted like printf; the caller frees it. */
char *xasprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* Case-insensitive ASCII comparison of a counted string with a C string. */
bool str_ieq_n(const char *s, size_t len, const char *cstr);
/* qsort/bsearch comparator for uint32_t (UIDs). */
int uid_cmp(const void *a, const void *b);
/* Parses a decimal number in [0, max]; false on anything else. */
bool str_to_u64(const char *s, uint64_t max, uint64_t *out);

/* Blocks every signal in the calling thread. Threads tern starts call it
   first, so signals reach only the main thread's event loop. */
void thread_block_signals(void);

/* Monotonic clock in milliseconds. */
uint64_t time_mono_ms(void);

/* write(2) until all of data is written (EINTR retried): 0, or -1 with errno. */
int fd_write_all(int fd, const void *data, size_t len);

#endif
