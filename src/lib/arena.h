/* SPDX-License-Identifier: MIT */
/*
 * arena.h: region allocator for the session and command lifetimes.
 * Everything allocated from an arena is freed at once by arena_reset() or
 * arena_free(); nothing in it may be freed alone. Memory handed out is
 * aligned for any type. Out of memory aborts.
 */
#ifndef TERN_LIB_ARENA_H
#define TERN_LIB_ARENA_H

#include <stdarg.h>
#include <stddef.h>

#include "lib/util.h"

struct arena;

/* Returns a new arena whose blocks are at least block_size bytes. */
struct arena *arena_new(size_t block_size);
/* Frees the arena and all it gave out; sets *ap to NULL. */
void arena_free(struct arena **ap);
/* Gives back everything allocated, keeping the first block for reuse. */
void arena_reset(struct arena *a);

void *arena_alloc(struct arena *a, size_t size);
void *arena_zalloc(struct arena *a, size_t size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
void *arena_memdup(struct arena *a, const void *p, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) PRINTF_LIKE(2, 3);
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap);
/* Calls fn(p) at the next arena_reset() or arena_free(), newest first:
   ties heap memory, files and the like to the arena's lifetime. */
void arena_on_free(struct arena *a, void (*fn)(void *p), void *p);
/* Bytes handed out since creation or the last reset (for limits and tests). */
size_t arena_used(const struct arena *a);

#endif
