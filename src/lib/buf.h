/* SPDX-License-Identifier: MIT */
/*
 * buf.h: a growable byte buffer, always NUL-terminated after its data so it can
 * be used as a C string when it holds text. Embedded: buf_init()/buf_deinit().
 */
#ifndef TERN_LIB_BUF_H
#define TERN_LIB_BUF_H

#include <stdarg.h>
#include <stddef.h>

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
/* Hands the data to the caller (heap, caller frees) and empties the buffer. */
char *buf_steal(struct buf *b);

#endif
