/* SPDX-License-Identifier: MIT */
/*
 * deliver.c: one message to many accounts (SMTP/LMTP with several local
 * recipients, `tern deliver ADDRESS...`). The spooled message is sealed,
 * fsync'd and parsed once; then each target gets its own request on its
 * account's group commit (commit.c), carrying a copy of the one parse
 * result. A message above store.inline_max is one file: the spool file,
 * hard-linked into the blobs/ of every account that takes it (an account
 * that already holds the same content keeps its own file), so N recipients
 * cost one inode and one data fsync plus a directory fsync per account.
 * Smaller messages go into each account's index, as any append.
 *
 * Targets are stored on up to DELIVER_THREADS threads at once: each account
 * commits (and fsyncs its WAL) in its own transaction, so the fsyncs of
 * different accounts overlap instead of adding up, and targets of the same
 * account coalesce in one transaction through the group commit.
 *
 * A failed target's link is removed only once every target is done. The
 * spool is an O_TMPFILE: once it has had a name and lost every one, Linux
 * refuses to link it again (ENOENT, the inode is no longer I_LINKABLE), so
 * a failure unlinking its link while the file had no other would fail every
 * target still to come.
 */
#include "store/store_int.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/util.h"

/* Threads storing the targets of one delivery, the caller's included. */
#define DELIVER_THREADS 8

struct deliver_job {
	const struct prepared *proto; /* the one parse, shared read-only */
	struct store_delivery_target *targets;
	bool *leftover; /* per target: failed with a link of its own to remove */
	size_t n;
	_Atomic size_t next;
};

static void
deliver_one(const struct prepared *proto, struct store_delivery_target *t, bool *leftover_out)
{
	struct account *a = t->acct->a;
	struct prepared p = *proto; /* per account: created, stray, new_text */
	struct store_append ap = {
	        .flags = t->flags,
	        .keywords = t->keywords,
	        .n_keywords = t->n_keywords,
	        .internal_date = t->internal_date,
	        .spool = proto->spool,
	};
	uint32_t flags;
	uint64_t kws;
	struct append_req r = {.msgs = &ap,
	                       .p = &p,
	                       .n = 1,
	                       .uids = &t->uid,
	                       .flags = &flags,
	                       .kws = &kws,
	                       .keep_created = true};
	char *canon = mailbox_name_canon(t->mailbox != NULL ? t->mailbox : "INBOX");

	t->uid = 0;
	t->uidvalidity = 0;
	if (canon == NULL) {
		t->err = STORE_ERR_NOTFOUND;
		return;
	}
	r.canon = canon;
	if (!p.is_inline && spool_link(p.spool, a->blob_dir, &p.created, &t->err) < 0) {
		append_abandon(a, &r);
	} else if (commit_submit(a, &r) < 0) {
		t->err = r.err;
		*leftover_out = p.created;
	} else {
		t->err = STORE_ERR_NONE;
		t->uidvalidity = r.uidvalidity;
	}
	free(canon);
}

static void *
deliver_worker(void *arg)
{
	struct deliver_job *j = arg;
	size_t i;

	thread_block_signals();
	while ((i = atomic_fetch_add(&j->next, 1)) < j->n)
		deliver_one(j->proto, &j->targets[i], &j->leftover[i]);
	return NULL;
}

size_t
store_deliver(struct store_spool *sp, struct store_delivery_target *targets, size_t n)
{
	struct prepared proto = {.spool = sp};
	struct store_settings *set;
	struct deliver_job j = {.proto = &proto, .targets = targets, .n = n};
	bool *leftover = NULL;
	pthread_t th[DELIVER_THREADS];
	struct arena *ar = NULL;
	enum store_error err = STORE_ERR_NONE;
	size_t k = 0, stored = 0;

	if (n == 0)
		return 0;
	set = &targets[0].acct->a->store->set;
	if (spool_seal(sp, &err) < 0 || spool_bytes(sp, &proto.bytes, &err) < 0)
		goto fail;
	proto.len = store_spool_size(sp);
	memcpy(proto.hash, spool_hash(sp), sizeof(proto.hash));
	if (proto.len > set->max_message_size) {
		err = STORE_ERR_TOOBIG;
		goto fail;
	}
	proto.is_inline = proto.len <= set->inline_max && set->inline_max > 0;
	/* The data fsync is paid once for every account that links the file. */
	if (!proto.is_inline && spool_sync(sp, &err) < 0)
		goto fail;
	ar = arena_new(16384);
	mail_parse(ar, proto.bytes, proto.len, set->max_index_text, &proto.parsed);

	leftover = xcalloc(n, sizeof(*leftover));
	j.leftover = leftover;
	while (k + 1 < MIN(n, (size_t)DELIVER_THREADS) &&
	       pthread_create(&th[k], NULL, deliver_worker, &j) == 0)
		k++;
	for (size_t i; (i = atomic_fetch_add(&j.next, 1)) < n;)
		deliver_one(&proto, &targets[i], &leftover[i]);
	for (size_t i = 0; i < k; i++)
		pthread_join(th[i], NULL);
	for (size_t i = 0; i < n; i++) {
		if (!leftover[i])
			continue;
		struct prepared p = proto;
		p.created = true;
		struct append_req r = {.p = &p, .n = 1};
		append_abandon(targets[i].acct->a, &r); /* unless a row uses it */
	}
	free(leftover);
	for (size_t i = 0; i < n; i++)
		stored += targets[i].err == STORE_ERR_NONE;
	arena_free(&ar);
	return stored;
fail:
	for (size_t i = 0; i < n; i++) {
		targets[i].uid = targets[i].uidvalidity = 0;
		targets[i].err = err;
	}
	return 0;
}
