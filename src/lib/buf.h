/* SPDX-License-Identifier: MIT */
/*
 * buf.h: a growable byte buffer, always NUL-terminated after its data so it can
 * be used as a C string when it holds text. Embedded: buf_init()/buf_deinit().
 */
#ifndef TERN_LIB_BUF_H
#define TERN_LIB_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
void buf_deinit(struct buf *b);
void buf_reset(struct buf *b);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Appends v in decimal (a cheap "%llu" for hot paths). */
void buf_put_u64(struct buf *b, uint64_t v);
/*
 * Room for n more bytes after the data, for a writer that fills it itself
 * (read(2) into the buffer). Returns where to write; buf_advance(b, used)
 * then adds the used bytes (used <= n). Any other call in between may move
 * the data.
 */
char *buf_reserve(struct buf *b, size_t n);
void buf_advance(struct buf *b, size_t used);
/* Hands the data to the caller (heap, caller frees) and empties the buffer. */
char *buf_steal(struct buf *b);

#endif
