/* SPDX-License-Identifier: MIT */
/*
 * buf.c: growable byte buffer. Capacity doubles, so appends are amortised O(1).
 */
#include "lib/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
buf_deinit(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static void
reserve(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need < extra)
		abort();
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void
buf_append(struct buf *b, const void *data, size_t len)
{
	reserve(b, len);
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_putc(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	/* Format once into the spare room; only when it does not fit, grow
	   and format again. */
	reserve(b, 64);
	va_copy(ap2, ap);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		abort();
	if ((size_t)n >= b->cap - b->len) {
		reserve(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	}
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

char *
buf_steal(struct buf *b)
{
	char *p = b->data ? b->data : xstrdup("");

	buf_init(b);
	return p;
}

void
buf_put_u64(struct buf *b, uint64_t v)
{
	char tmp[20], *p = tmp + sizeof(tmp); /* UINT64_MAX has 20 digits */

	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	buf_append(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

char *
buf_reserve(struct buf *b, size_t n)
{
	reserve(b, n);
	return b->data + b->len;
}

void
buf_advance(struct buf *b, size_t used)
{
	if (used > b->cap - b->len - 1)
		abort(); /* more than buf_reserve() gave */
	b->len += used;
	b->data[b->len] = '\0';
}
