/* SPDX-License-Identifier: MIT */
/*
 * account.c: opening and closing accounts (backend-neutral). Sessions get a
 * small handle; the shared struct account (views, keywords, the backend's
 * state for it) lives while any handle does, in the store's registry, a
 * hash by account id, so every session of an account, whatever its thread,
 * shares one. The first open of an id has the backend create its storage
 * (for SQLite: DATA_DIR/accounts/<id>/, built only from the numeric id the
 * auth module gives, never from a client string).
 */
#include "store/backend.h"
#include "store/store_core.h"

#include "lib/arena.h"

#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/util.h"

/* What account_open's caller set up: locks and the keyword names. */
static void
account_destroy(struct account *a)
{
	for (unsigned i = 0; i < a->n_keywords; i++)
		free(a->keywords[i]);
	pthread_mutex_destroy(&a->write_lock);
	commit_deinit(a);
	pthread_mutex_destroy(&a->views_lock);
	pthread_mutex_destroy(&a->kw_lock);
	free(a->pending.msgs);
	hash_free(&a->pins);
	pthread_mutex_destroy(&a->retain_lock);
	pthread_mutex_destroy(&a->watch_lock);
	for (size_t i = 0; i < METADATA_RING; i++)
		free(a->meta_ring[i].name);
	free(a);
}

static void
account_free(struct account *a)
{
	view_drop_all(a);
	a->store->backend->account_close(a);
	account_destroy(a);
}

/* ---- Lingering: an account no handle has open keeps its views ------- */
/*
 * A client that logs out and in again (webmail connects for each page, a
 * phone for each sync, ImapTest's clients for each round) would otherwise
 * have its mailbox's view loaded from the index again, O(messages): 162 ms
 * at 1,000,000 against 0.02 ms warm (store_bench). So an account whose last
 * handle closes while it has views stays in the registry for
 * set.linger_ms (store.account_linger), its views kept current by the
 * watch like any open account's, and all lingering accounts' views
 * together stay under set.linger_bytes, the least recently closed going
 * first. Its database connections are the pool's as before (closed by the
 * server-wide bound or idle_close). The watch's sweep takes and drops a
 * reference to every account in the registry each watch_sweep_ms: the drop
 * frees one whose time is up. Only a handle's open takes an account off
 * the list and restarts its time, not the watch's or a lookup's reference
 * (so the list stays in closing order). Under store->lock.
 */

static void
linger_unlink_locked(struct store *s, struct account *a)
{
	if (a->linger_prev != NULL)
		a->linger_prev->linger_next = a->linger_next;
	else
		s->linger_head = a->linger_next;
	if (a->linger_next != NULL)
		a->linger_next->linger_prev = a->linger_prev;
	else
		s->linger_tail = a->linger_prev;
	a->linger_prev = a->linger_next = NULL;
	s->linger_bytes -= a->linger_charged;
	a->linger_charged = 0;
	a->lingering = false;
}

/* What a's views take if it lingers; 0 if it has none (a delivery's or
   the indexer's account: nothing to keep). Read without store->lock (the
   order is views_lock alone), so a snapshot. */
static size_t
linger_charge(struct account *a)
{
	size_t bytes;

	pthread_mutex_lock(&a->views_lock);
	bytes = a->views != NULL ? a->views_bytes + sizeof(*a) : 0;
	pthread_mutex_unlock(&a->views_lock);
	return bytes;
}

/* Takes a off the list and out of the registry onto *gone (chained
   through linger_next, freed by the caller outside the lock); one somebody
   holds just then stays registered, its time up: its last drop frees it. */
static void
linger_evict_locked(struct store *s, struct account *a, struct account **gone)
{
	linger_unlink_locked(s, a);
	if (a->refs > 0) {
		a->linger_until_ms = 1;
		return;
	}
	hash_u64_remove(s->accounts, a->id);
	a->linger_next = *gone;
	*gone = a;
}

/* Whether a, whose last reference just went, stays in the registry: one
   on the list until its time is up; one not on it goes on if its time and
   the budget allow, and the least recently closed past the budget leave
   (linger_evict_locked). */
static bool
linger_admit_locked(struct store *s, struct account *a, size_t charge, struct account **gone)
{
	uint64_t now = time_mono_ms();

	*gone = NULL;
	if (a->lingering) {
		if (now < a->linger_until_ms)
			return true;
		linger_unlink_locked(s, a);
		return false;
	}
	if (a->linger_until_ms == 0)
		a->linger_until_ms = now + s->set.linger_ms;
	if (charge == 0 || now >= a->linger_until_ms || charge > s->set.linger_bytes)
		return false;
	a->lingering = true;
	a->linger_charged = charge;
	a->linger_prev = NULL;
	a->linger_next = s->linger_head;
	if (s->linger_head != NULL)
		s->linger_head->linger_prev = a;
	else
		s->linger_tail = a;
	s->linger_head = a;
	s->linger_bytes += charge;
	while (s->linger_bytes > s->set.linger_bytes)
		linger_evict_locked(s, s->linger_tail, gone);
	return true; /* a alone fits: never its own victim */
}

static void
free_chain(struct account *a)
{
	while (a != NULL) {
		struct account *next = a->linger_next;

		account_free(a);
		a = next;
	}
}

void
account_linger_drop_all(struct store *s)
{
	struct account *gone = NULL;

	pthread_mutex_lock(&s->lock);
	/* One still held is a handle store_close's caller leaked: logged there. */
	while (s->linger_head != NULL)
		linger_evict_locked(s, s->linger_head, &gone);
	pthread_mutex_unlock(&s->lock);
	free_chain(gone);
}

int
store_account_open(struct store *store, uint64_t account_id, struct store_account **acct_out,
                   enum store_error *err_out)
{
	struct account *a;
	bool is_new = false;

	/* The registry lock is held across creation so two first sessions of
	   one account cannot both build its storage. Creation is rare. */
	pthread_mutex_lock(&store->lock);
	a = hash_u64_find(store->accounts, account_id);
	if (a == NULL) {
		a = xcalloc(1, sizeof(*a));
		a->store = store;
		a->id = account_id;
		pthread_mutex_init(&a->write_lock, NULL);
		commit_init(a);
		pthread_mutex_init(&a->views_lock, NULL);
		pthread_mutex_init(&a->kw_lock, NULL);
		pthread_mutex_init(&a->retain_lock, NULL);
		pthread_mutex_init(&a->watch_lock, NULL);
		a->pins = hash_new(HASH_KEYS_U64, 0);
		if (store->backend->account_open(a, err_out) < 0) {
			/* The backend left nothing open. */
			pthread_mutex_unlock(&store->lock);
			account_destroy(a);
			return -1;
		}
		hash_u64_set(store->accounts, account_id, a);
		is_new = true;
	}
	a->refs++;
	if (a->lingering)
		linger_unlink_locked(store, a);
	a->linger_until_ms = 0; /* a handle: the time starts again at its close */
	pthread_mutex_unlock(&store->lock);

	if (is_new && store->backend->account_opened != NULL)
		store->backend->account_opened(a);

	*acct_out = xcalloc(1, sizeof(**acct_out));
	(*acct_out)->a = a;
	return 0;
}

int
store_account_open_as(struct store *store, uint64_t owner_id, const struct store_identity *who,
                      struct store_account **acct_out, enum store_error *err_out)
{
	if (store_account_open(store, owner_id, acct_out, err_out) < 0)
		return -1;
	if (who->account_id == owner_id)
		return 0;
	/* One heap block: the struct, the group pointers, then the strings. */
	size_t size = sizeof(struct store_identity) + who->n_groups * sizeof(char *) +
	              strlen(who->name) + 1;
	for (size_t i = 0; i < who->n_groups; i++)
		size += strlen(who->groups[i]) + 1;
	struct store_identity *copy = xmalloc(size);
	const char **groups = (const char **)(copy + 1);
	char *p = (char *)(groups + who->n_groups);
	copy->account_id = who->account_id;
	copy->n_groups = who->n_groups;
	copy->groups = groups;
	copy->name = p;
	p = stpcpy(p, who->name) + 1;
	for (size_t i = 0; i < who->n_groups; i++) {
		groups[i] = p;
		p = stpcpy(p, who->groups[i]) + 1;
	}
	(*acct_out)->who = copy;
	return 0;
}

bool
store_account_is_owner(const struct store_account *acct)
{
	return acct->who == NULL;
}

struct account *
account_lookup(struct store *s, uint64_t account_id)
{
	struct account *a;

	pthread_mutex_lock(&s->lock);
	a = hash_u64_find(s->accounts, account_id);
	if (a != NULL)
		a->refs++;
	pthread_mutex_unlock(&s->lock);
	return a;
}

void
account_unref(struct account *a)
{
	struct store *store = a->store;
	size_t charge = store->set.linger_ms > 0 ? linger_charge(a) : 0;
	struct account *gone;

	pthread_mutex_lock(&store->lock);
	if (--a->refs > 0) {
		pthread_mutex_unlock(&store->lock);
		return;
	}
	if (store->set.linger_ms > 0 && linger_admit_locked(store, a, charge, &gone)) {
		pthread_mutex_unlock(&store->lock);
		free_chain(gone);
		return;
	}
	hash_u64_remove(store->accounts, a->id);
	pthread_mutex_unlock(&store->lock);
	account_free(a);
}

void
store_account_close(struct store_account **acctp)
{
	struct store_account *h = *acctp;

	if (h == NULL)
		return;
	*acctp = NULL;
	store_account_watch(h, NULL, NULL);
	account_unref(h->a);
	free((void *)h->who);
	free(h);
}

uint64_t
store_account_id(const struct store_account *acct)
{
	return acct->a->id;
}

void
store_account_watch(struct store_account *acct, store_wake_fn *wake, void *arg)
{
	struct account *a = acct->a;

	pthread_mutex_lock(&a->watch_lock);
	if (acct->wake != NULL) { /* unlink */
		if (acct->wprev != NULL)
			acct->wprev->wnext = acct->wnext;
		else
			a->watchers = acct->wnext;
		if (acct->wnext != NULL)
			acct->wnext->wprev = acct->wprev;
		acct->wnext = acct->wprev = NULL;
	}
	acct->wake = wake;
	acct->wake_arg = arg;
	if (wake != NULL) {
		acct->wnext = a->watchers;
		if (a->watchers != NULL)
			a->watchers->wprev = acct;
		a->watchers = acct;
	}
	pthread_mutex_unlock(&a->watch_lock);
}

void
account_metadata_changed(struct account *a, const struct store_account *origin, uint64_t mailbox_id,
                         const char *const *names, size_t n)
{
	pthread_mutex_lock(&a->watch_lock);
	for (size_t i = 0; i < n; i++) {
		struct metadata_change *c = &a->meta_ring[++a->meta_seq % METADATA_RING];
		free(c->name);
		*c = (struct metadata_change){a->meta_seq, mailbox_id, xstrdup(names[i]), origin};
	}
	pthread_mutex_unlock(&a->watch_lock);
	account_list_changed(a, origin);
}

uint64_t
store_metadata_seq(struct store_account *acct)
{
	pthread_mutex_lock(&acct->a->watch_lock);
	uint64_t seq = acct->a->meta_seq;
	pthread_mutex_unlock(&acct->a->watch_lock);
	return seq;
}

size_t
store_metadata_changes(struct store_account *acct, uint64_t *seq, struct arena *ar,
                       struct store_metadata_change **out, bool *lost_out)
{
	struct account *a = acct->a;
	size_t n = 0;

	pthread_mutex_lock(&a->watch_lock);
	uint64_t from = *seq + 1;
	*lost_out = a->meta_seq >= METADATA_RING && from <= a->meta_seq - METADATA_RING;
	if (*lost_out)
		from = a->meta_seq - METADATA_RING + 1;
	*out = arena_alloc(ar, (a->meta_seq - from + 1) * sizeof(**out) + 1);
	for (uint64_t q = from; q <= a->meta_seq; q++) {
		const struct metadata_change *c = &a->meta_ring[q % METADATA_RING];
		if (c->origin == acct)
			continue; /* its own change: not news to it (RFC 5465 5) */
		(*out)[n++] =
		        (struct store_metadata_change){c->mailbox_id, arena_strdup(ar, c->name)};
	}
	*seq = a->meta_seq;
	pthread_mutex_unlock(&a->watch_lock);
	return n;
}

void
account_list_changed(struct account *a, const struct store_account *origin)
{
	pthread_mutex_lock(&a->watch_lock);
	for (struct store_account *h = a->watchers; h != NULL; h = h->wnext)
		if (h != origin)
			h->wake(h->wake_arg);
	pthread_mutex_unlock(&a->watch_lock);
}
