/* SPDX-License-Identifier: MIT */
/*
 * hash.h: the one hash table: open addressing with linear probing and
 * backward-shift deletion (no tombstones, so a table that sees many inserts
 * and removals never slows down), keyed by strings or by uint64_t. Keys
 * come from clients and from mail anyone can send (Message-IDs, IPs, user
 * names), so they are hashed with SipHash-2-4 under a per-process random
 * key: nobody can make keys collide on purpose and turn lookups linear.
 *
 * A table maps each key to one value, a non-NULL pointer the table does not
 * own. A string key is borrowed, not copied: it must stay unchanged while
 * its entry is in the table (keep it inside the value, or in an arena that
 * outlives the table). A table is not thread-safe; its owner locks.
 */
#ifndef TERN_LIB_HASH_H
#define TERN_LIB_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hash_keys {
	HASH_KEYS_STR, /* NUL-terminated strings, compared with strcmp() */
	HASH_KEYS_U64,
};

struct hash;

/* A key and its value, as iteration gives them. */
struct hash_entry {
	const char *str; /* HASH_KEYS_STR */
	uint64_t u64;    /* HASH_KEYS_U64 */
	void *value;
};

/* A new empty table for keys of the given kind; room for expected entries
   before it first grows (0 for a small default). */
struct hash *hash_new(enum hash_keys keys, size_t expected);
/* Frees the table (not the values or keys) and sets *hp to NULL. */
void hash_free(struct hash **hp);
/* Entries in the table. */
size_t hash_count(const struct hash *h);

/* The value for key, or NULL when there is none. */
void *hash_str_find(const struct hash *h, const char *key);
void *hash_u64_find(const struct hash *h, uint64_t key);

/* Sets key's value (not NULL), replacing any old one, which is returned
   (else NULL). Amortised O(1); the table grows as needed. */
void *hash_str_set(struct hash *h, const char *key, void *value);
void *hash_u64_set(struct hash *h, uint64_t key, void *value);

/* Removes key; returns its value, or NULL when it was not there. */
void *hash_str_remove(struct hash *h, const char *key);
void *hash_u64_remove(struct hash *h, uint64_t key);

/*
 * Iteration, in no particular order: start with *pos = 0; each call fills
 * *out and returns true until none is left. The table must not change
 * meanwhile (use hash_remove_if to drop entries while walking).
 */
bool hash_next(const struct hash *h, size_t *pos, struct hash_entry *out);

/* Removes every entry for which drop(entry, ctx) returns true; drop may
   free the value (and a key inside it). O(capacity). */
void hash_remove_if(struct hash *h, bool (*drop)(const struct hash_entry *e, void *ctx), void *ctx);

/* SipHash-2-4 of p[0..n) under a 16-byte key (Aumasson and Bernstein,
   2012); what the tables use, public for its test vectors. */
uint64_t hash_siphash24(const unsigned char key[16], const void *p, size_t n);

#endif
