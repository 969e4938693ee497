/* SPDX-License-Identifier: MIT */
/* test_lib_hash.c: tests for src/lib/hash.c: SipHash-2-4 against the
   reference vectors, and both key kinds against a plain array model through
   long runs of random inserts, replacements and removals (small tables, so
   probe runs wrap around the end and removals shift entries back). */
#include <stdio.h>

#include "lib/hash.h"
#include "lib/util.h"
#include "test.h"

static void
test_siphash_reference_vectors(void)
{
	/* Key 00 01 .. 0f, message 00 01 .. (n-1): vectors.h of the reference
	   implementation; n = 15 is the example in the paper's appendix. */
	static const struct {
		size_t n;
		uint64_t want;
	} cases[] = {
	        {0, 0x726fdb47dd0e0e31ull},
	        {1, 0x74f839c593dc67fdull},
	        {8, 0x93f5f5799a932462ull},
	        {15, 0xa129ca6149be45e5ull},
	};
	unsigned char key[16], msg[64];

	for (int i = 0; i < 16; i++)
		key[i] = (unsigned char)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (unsigned char)i;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_assert(i, hash_siphash24(key, msg, cases[i].n) == cases[i].want);
}

static void
test_str_basics(void)
{
	struct hash *h = hash_new(HASH_KEYS_STR, 0);
	int a = 1, b = 2, c = 3;
	char key[16];

	test_assert(-1, hash_str_find(h, "x") == NULL);
	test_assert(-1, hash_str_set(h, "alice", &a) == NULL);
	test_assert(-1, hash_str_set(h, "bob", &b) == NULL);
	test_assert(-1, hash_str_find(h, "alice") == &a);
	/* found by content, not by pointer */
	snprintf(key, sizeof(key), "%s", "bob");
	test_assert(-1, hash_str_find(h, key) == &b);
	test_assert(-1, hash_str_set(h, "alice", &c) == &a); /* replaced */
	test_int_eq(-1, hash_count(h), 2);
	test_assert(-1, hash_str_find(h, "alice") == &c);
	test_assert(-1, hash_str_find(h, "Alice") == NULL); /* case matters */
	test_assert(-1, hash_str_find(h, "") == NULL);
	test_assert(-1, hash_str_set(h, "", &a) == NULL); /* "" is a key like any */
	test_assert(-1, hash_str_find(h, "") == &a);
	test_assert(-1, hash_str_remove(h, "bob") == &b);
	test_assert(-1, hash_str_remove(h, "bob") == NULL);
	test_assert(-1, hash_str_find(h, "bob") == NULL);
	test_int_eq(-1, hash_count(h), 2);
	hash_free(&h);
	test_assert(-1, h == NULL);
	hash_free(&h); /* NULL is fine */
}

/* xorshift: the same sequence every run, so a failure is reproducible. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

#define MODEL_KEYS 300

static void
test_random_ops_match_model(void)
{
	static char names[MODEL_KEYS][16];
	static int vals[MODEL_KEYS];
	bool in_model_s[MODEL_KEYS] = {0}, in_model_u[MODEL_KEYS] = {0};
	size_t n_s = 0, n_u = 0;
	struct hash *hs = hash_new(HASH_KEYS_STR, 0), *hu = hash_new(HASH_KEYS_U64, 0);
	uint64_t seed = 88172645463325252ull;

	for (int i = 0; i < MODEL_KEYS; i++)
		snprintf(names[i], sizeof(names[i]), "k%d", i);
	for (int step = 0; step < 200000; step++) {
		uint64_t r = rnd(&seed);
		size_t k = (size_t)(r % MODEL_KEYS);
		/* u64 keys spread over the whole range, 0 and UINT64_MAX included */
		uint64_t ukey = k == 0 ? 0 : k == 1 ? UINT64_MAX : k * 0x9e3779b97f4a7c15ull;
		int op = (int)((r >> 32) % 3);
		if (op == 0) {
			void *old = hash_str_set(hs, names[k], &vals[k]);
			test_assert(step, (old != NULL) == in_model_s[k]);
			n_s += !in_model_s[k];
			in_model_s[k] = true;
			old = hash_u64_set(hu, ukey, &vals[k]);
			test_assert(step, (old != NULL) == in_model_u[k]);
			n_u += !in_model_u[k];
			in_model_u[k] = true;
		} else if (op == 1) {
			void *got = hash_str_remove(hs, names[k]);
			test_assert(step, got == (in_model_s[k] ? &vals[k] : NULL));
			n_s -= in_model_s[k];
			in_model_s[k] = false;
			got = hash_u64_remove(hu, ukey);
			test_assert(step, got == (in_model_u[k] ? &vals[k] : NULL));
			n_u -= in_model_u[k];
			in_model_u[k] = false;
		} else {
			test_assert(step, hash_str_find(hs, names[k]) ==
			                          (in_model_s[k] ? &vals[k] : NULL));
			test_assert(step,
			            hash_u64_find(hu, ukey) == (in_model_u[k] ? &vals[k] : NULL));
		}
		if (test_failed_checks > 0)
			break; /* one bad step is enough to read */
	}
	test_int_eq(-1, hash_count(hs), n_s);
	test_int_eq(-1, hash_count(hu), n_u);
	/* every key still present is found: no entry lost behind a hole */
	for (int k = 0; k < MODEL_KEYS; k++)
		test_assert(k, hash_str_find(hs, names[k]) == (in_model_s[k] ? &vals[k] : NULL));
	hash_free(&hs);
	hash_free(&hu);
}

static void
test_iteration_sees_every_entry_once(void)
{
	struct hash *h = hash_new(HASH_KEYS_U64, 0);
	static int v[1000];
	int seen[1000] = {0};
	struct hash_entry e;
	size_t pos = 0, n = 0;

	for (uint64_t i = 0; i < 1000; i++)
		hash_u64_set(h, i * 7919, &v[i]);
	while (hash_next(h, &pos, &e)) {
		test_assert(-1, e.u64 % 7919 == 0 && e.value == &v[e.u64 / 7919]);
		seen[e.u64 / 7919]++;
		n++;
	}
	test_int_eq(-1, n, 1000);
	for (int i = 0; i < 1000; i++)
		test_int_eq(i, seen[i], 1);
	hash_free(&h);
}

static bool
drop_odd(const struct hash_entry *e, void *ctx)
{
	int *dropped = ctx;
	bool odd = *(const int *)e->value % 2 != 0;

	*dropped += odd;
	return odd;
}

static void
test_remove_if(void)
{
	struct hash *h = hash_new(HASH_KEYS_STR, 4);
	static char names[500][16];
	static int v[500];
	int dropped = 0;

	for (int i = 0; i < 500; i++) {
		snprintf(names[i], sizeof(names[i]), "%d", i);
		v[i] = i;
		hash_str_set(h, names[i], &v[i]);
	}
	hash_remove_if(h, drop_odd, &dropped);
	test_int_eq(-1, dropped, 250);
	test_int_eq(-1, hash_count(h), 250);
	for (int i = 0; i < 500; i++)
		test_assert(i, hash_str_find(h, names[i]) == (i % 2 ? NULL : &v[i]));
	hash_free(&h);
}

/* Many keys with one long common prefix: a weak hash (FNV over the first
   bytes, say) would pile them into one run; SipHash keeps probes short.
   The bound is loose: it is there to catch a quadratic table. */
static void
test_many_keys_stay_fast(void)
{
	enum { N = 100000 };
	struct hash *h = hash_new(HASH_KEYS_STR, 0);
	char(*keys)[64] = xmalloc(N * sizeof(*keys));
	uint64_t start = time_mono_ms();

	for (int i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "<aaaaaaaaaaaaaaaaaaaaaaaa.%d@example.com>", i);
		hash_str_set(h, keys[i], keys[i]);
	}
	for (int i = 0; i < N; i++)
		test_assert(i, hash_str_find(h, keys[i]) == keys[i]);
	test_int_eq(-1, hash_count(h), N);
	uint64_t ms = time_mono_ms() - start;
	test_assert(-1, ms < 5000 * TEST_SLOWDOWN); /* sanitizer builds are slow; quadratic takes minutes */
	hash_free(&h);
	free(keys);
}

int
main(void)
{
	TEST_RUN(test_siphash_reference_vectors);
	TEST_RUN(test_str_basics);
	TEST_RUN(test_random_ops_match_model);
	TEST_RUN(test_iteration_sees_every_entry_once);
	TEST_RUN(test_remove_if);
	TEST_RUN(test_many_keys_stay_fast);
	return TEST_DONE("test_lib_hash");
}
