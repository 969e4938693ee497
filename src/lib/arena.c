/* SPDX-License-Identifier: MIT */
/*
 * arena.c: a bump allocator over a chain of blocks. Allocations larger than a
 * quarter block get a block of their own so one big literal does not waste the
 * rest of the current block. arena_reset() keeps the first block, which is
 * what a session's per-command arena wants: most commands fit in it.
 */
#include "lib/arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16

struct arena_block {
	struct arena_block *next;
	size_t size;
	size_t used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena_cleanup {
	struct arena_cleanup *next;
	void (*fn)(void *p);
	void *p;
};

struct arena {
	struct arena_block *head; /* current block; older ones follow */
	size_t block_size;
	size_t total;
	struct arena_cleanup *cleanups; /* newest first; nodes live in the blocks */
};

/* Runs the cleanups, newest first, before the blocks holding them go. */
static void
run_cleanups(struct arena *a)
{
	while (a->cleanups != NULL) {
		struct arena_cleanup *c = a->cleanups;
		a->cleanups = c->next;
		c->fn(c->p);
	}
}

void
arena_on_free(struct arena *a, void (*fn)(void *p), void *p)
{
	struct arena_cleanup *c = arena_alloc(a, sizeof(*c));

	c->fn = fn;
	c->p = p;
	c->next = a->cleanups;
	a->cleanups = c;
}

static struct arena_block *
block_new(size_t size)
{
	struct arena_block *b = xmalloc(sizeof(*b) + size);

	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

struct arena *
arena_new(size_t block_size)
{
	struct arena *a = xmalloc(sizeof(*a));

	if (block_size < 256)
		block_size = 256;
	a->block_size = block_size;
	a->head = block_new(block_size);
	a->total = 0;
	a->cleanups = NULL;
	return a;
}

static void
free_blocks(struct arena_block *b)
{
	while (b != NULL) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
}

void
arena_free(struct arena **ap)
{
	struct arena *a = *ap;

	if (a == NULL)
		return;
	run_cleanups(a);
	free_blocks(a->head);
	free(a);
	*ap = NULL;
}

void
arena_reset(struct arena *a)
{
	struct arena_block *first = a->head;

	run_cleanups(a);
	/* The first block allocated is the last in the chain. */
	while (first->next != NULL)
		first = first->next;
	for (struct arena_block *b = a->head; b != first;) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
	if (first->size != a->block_size) {
		free(first);
		first = block_new(a->block_size);
	}
	first->used = 0;
	a->head = first;
	a->total = 0;
}

void *
arena_alloc(struct arena *a, size_t size)
{
	size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	struct arena_block *b = a->head;

	if (need < size)
		abort(); /* overflow */
	a->total += need;
	if (need > a->block_size / 4) {
		/* Big: its own block, linked behind the current one. */
		struct arena_block *big = block_new(need);
		big->used = need;
		big->next = b->next;
		b->next = big;
		return big->data;
	}
	if (b->size - b->used < need) {
		b = block_new(a->block_size);
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += need;
	return p;
}

void *
arena_zalloc(struct arena *a, size_t size)
{
	void *p = arena_alloc(a, size);

	memset(p, 0, size);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

void *
arena_memdup(struct arena *a, const void *p, size_t n)
{
	void *q = arena_alloc(a, n);

	memcpy(q, p, n);
	return q;
}

char *
arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		abort();
	char *p = arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

size_t
arena_used(const struct arena *a)
{
	return a->total;
}
