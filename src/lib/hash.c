/* SPDX-License-Identifier: MIT */
/*
 * hash.c: open-addressing hash table (hash.h). Slots hold the key, its hash
 * and the value; a NULL value marks an empty slot. The capacity is a power
 * of two and the table grows at 3/4 full, so a probe sequence ends at an
 * empty slot within a few steps. Removal shifts the following entries of
 * the run back instead of leaving a tombstone (Knuth, TAOCP vol. 3, 6.4,
 * algorithm R), so lookups never walk over dead slots.
 *
 * SipHash is written here rather than taken from OpenSSL: OpenSSL offers it
 * only as an EVP_MAC, a context allocation per call, which would cost more
 * than the table lookup it serves. It is the reference algorithm, checked
 * against the paper's test vectors in tests/unit/test_lib_hash.c.
 */
#include "lib/hash.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"

#define HASH_MIN_CAP 16

struct slot {
	union {
		const char *str;
		uint64_t u64;
	} key;
	uint64_t hash;
	void *value; /* NULL: empty */
};

struct hash {
	enum hash_keys keys;
	struct slot *slots;
	size_t cap; /* power of two */
	size_t count;
};

/* ---- SipHash-2-4 ---- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = ROTL(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = ROTL(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = ROTL(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = ROTL(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = ROTL(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = ROTL(v2, 32);                                                                 \
	} while (0)

static uint64_t
load_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

uint64_t
hash_siphash24(const unsigned char key[16], const void *data, size_t n)
{
	const unsigned char *p = data, *end = p + (n & ~(size_t)7);
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
	uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
	uint64_t b = (uint64_t)n << 56;

	for (; p != end; p += 8) {
		uint64_t m = load_le64(p);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t i = 0; i < (n & 7); i++)
		b |= (uint64_t)p[i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static unsigned char seed[16];
static pthread_once_t seed_once = PTHREAD_ONCE_INIT;

static void
seed_init(void)
{
	/* getrandom() fails only before the kernel's pool is ready or under
	   seccomp; a time-and-pid key is still unknown to a remote client. */
	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t a = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20);
		uint64_t b = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)&ts;
		memcpy(seed, &a, 8);
		memcpy(seed + 8, &b, 8);
	}
}

static uint64_t
hash_of_str(const char *s)
{
	pthread_once(&seed_once, seed_init);
	return hash_siphash24(seed, s, strlen(s));
}

static uint64_t
hash_of_u64(uint64_t v)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	pthread_once(&seed_once, seed_init);
	return hash_siphash24(seed, b, sizeof(b));
}

/* ---- the table ---- */

struct hash *
hash_new(enum hash_keys keys, size_t expected)
{
	struct hash *h = xcalloc(1, sizeof(*h));

	h->keys = keys;
	h->cap = HASH_MIN_CAP;
	while (h->cap / 4 * 3 < expected)
		h->cap *= 2;
	h->slots = xcalloc(h->cap, sizeof(*h->slots));
	return h;
}

void
hash_free(struct hash **hp)
{
	struct hash *h = *hp;

	if (h == NULL)
		return;
	*hp = NULL;
	free(h->slots);
	free(h);
}

size_t
hash_count(const struct hash *h)
{
	return h->count;
}

static bool
slot_is(const struct hash *h, const struct slot *s, const char *str, uint64_t u64, uint64_t hv)
{
	if (s->hash != hv)
		return false;
	return h->keys == HASH_KEYS_STR ? strcmp(s->key.str, str) == 0 : s->key.u64 == u64;
}

/* The slot holding the key, or the empty slot where it would go. */
static size_t
probe(const struct hash *h, const char *str, uint64_t u64, uint64_t hv)
{
	size_t mask = h->cap - 1, i = (size_t)hv & mask;

	while (h->slots[i].value != NULL && !slot_is(h, &h->slots[i], str, u64, hv))
		i = (i + 1) & mask;
	return i;
}

static void
grow(struct hash *h)
{
	struct slot *old = h->slots;
	size_t old_cap = h->cap;

	h->cap *= 2;
	h->slots = xcalloc(h->cap, sizeof(*h->slots));
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].value == NULL)
			continue;
		size_t j = (size_t)old[i].hash & (h->cap - 1);
		while (h->slots[j].value != NULL)
			j = (j + 1) & (h->cap - 1);
		h->slots[j] = old[i];
	}
	free(old);
}

static void *
set(struct hash *h, const char *str, uint64_t u64, uint64_t hv, void *value)
{
	size_t i = probe(h, str, u64, hv);

	if (h->slots[i].value != NULL) {
		void *old = h->slots[i].value;
		h->slots[i].value = value;
		return old;
	}
	if ((h->count + 1) * 4 > h->cap * 3) {
		grow(h);
		i = probe(h, str, u64, hv);
	}
	if (h->keys == HASH_KEYS_STR)
		h->slots[i].key.str = str;
	else
		h->slots[i].key.u64 = u64;
	h->slots[i].hash = hv;
	h->slots[i].value = value;
	h->count++;
	return NULL;
}

/* Empties slot i, then moves back each later entry of the run that may sit
   closer to its home slot, so no probe sequence crosses an empty slot. */
static void
delete_at(struct hash *h, size_t i)
{
	size_t mask = h->cap - 1;

	h->slots[i].value = NULL;
	for (size_t j = (i + 1) & mask; h->slots[j].value != NULL; j = (j + 1) & mask) {
		size_t home = (size_t)h->slots[j].hash & mask;
		/* The entry at j may fill the hole at i unless its home lies
		   cyclically in (i, j]: then i is before its probe start. */
		bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
		if (stays)
			continue;
		h->slots[i] = h->slots[j];
		h->slots[j].value = NULL;
		i = j;
	}
	h->count--;
}

static void *
remove_key(struct hash *h, const char *str, uint64_t u64, uint64_t hv)
{
	size_t i = probe(h, str, u64, hv);
	void *value = h->slots[i].value;

	if (value != NULL)
		delete_at(h, i);
	return value;
}

void *
hash_str_find(const struct hash *h, const char *key)
{
	return h->slots[probe(h, key, 0, hash_of_str(key))].value;
}

void *
hash_u64_find(const struct hash *h, uint64_t key)
{
	return h->slots[probe(h, NULL, key, hash_of_u64(key))].value;
}

void *
hash_str_set(struct hash *h, const char *key, void *value)
{
	return set(h, key, 0, hash_of_str(key), value);
}

void *
hash_u64_set(struct hash *h, uint64_t key, void *value)
{
	return set(h, NULL, key, hash_of_u64(key), value);
}

void *
hash_str_remove(struct hash *h, const char *key)
{
	return remove_key(h, key, 0, hash_of_str(key));
}

void *
hash_u64_remove(struct hash *h, uint64_t key)
{
	return remove_key(h, NULL, key, hash_of_u64(key));
}

static void
entry_of(const struct hash *h, const struct slot *s, struct hash_entry *out)
{
	out->str = h->keys == HASH_KEYS_STR ? s->key.str : NULL;
	out->u64 = h->keys == HASH_KEYS_U64 ? s->key.u64 : 0;
	out->value = s->value;
}

bool
hash_next(const struct hash *h, size_t *pos, struct hash_entry *out)
{
	for (; *pos < h->cap; (*pos)++) {
		if (h->slots[*pos].value != NULL) {
			entry_of(h, &h->slots[(*pos)++], out);
			return true;
		}
	}
	return false;
}

void
hash_remove_if(struct hash *h, bool (*drop)(const struct hash_entry *e, void *ctx), void *ctx)
{
	/* Deleting while walking would shift entries past the cursor; a
	   rebuild into fresh slots keeps it simple and is O(capacity) too. */
	struct slot *old = h->slots;

	h->slots = xcalloc(h->cap, sizeof(*h->slots));
	h->count = 0;
	for (size_t i = 0; i < h->cap; i++) {
		struct hash_entry e;
		if (old[i].value == NULL)
			continue;
		entry_of(h, &old[i], &e);
		if (drop(&e, ctx))
			continue;
		size_t j = (size_t)old[i].hash & (h->cap - 1);
		while (h->slots[j].value != NULL)
			j = (j + 1) & (h->cap - 1);
		h->slots[j] = old[i];
		h->count++;
	}
	free(old);
}
