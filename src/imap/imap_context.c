/* SPDX-License-Identifier: MIT */
/*
 * imap_context.c: UPDATE contexts (imap_context.h, RFC 5267 section 4.3).
 *
 * The difference between two results is sent as an edit of the old list
 * into the new one. A message's sort keys never change (arrival, dates,
 * addresses, subject and size are the message's own), so the messages in
 * both lists keep their relative order: removing what went, then inserting
 * what came in the new list's order, rebuilds the new list exactly. For
 * SEARCH, whose order is the mailbox's, every position is 0 (4.3.3,
 * 4.3.4: "MAY be zero") and each set is one ascending set; for SORT each
 * run of neighbours goes with its position.
 */
#include "imap/imap_context.h"

#include <stdlib.h>
#include <string.h>

#include "imap/imap_esearch.h"
#include "imap/imap_search_cmd.h"
#include "imap/seqset.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/sorted.h"
#include "lib/util.h"

struct imap_context {
	struct imap_context *next;
	char *tag;
	bool is_uid;
	struct arena *arena; /* the program and the sort keys */
	struct imap_search_key *root;
	struct store_sort *keys; /* n_keys == 0: SEARCH */
	size_t n_keys;
	uint32_t *result; /* heap: UIDs in the requested order */
	size_t n;
	uint32_t *old_nums; /* heap: result's numbers before the sync (not UID) */
	uint64_t modseq;    /* the mailbox's highest modseq at the last run */
	uint32_t count;     /* and the snapshot's size */
};

static void
context_free(struct imap_context *c)
{
	arena_free(&c->arena);
	free(c->tag);
	free(c->result);
	free(c->old_nums);
	free(c);
}

bool
imap_context_tag_in_use(struct imap_session *s, const char *tag)
{
	for (struct imap_context *c = s->contexts; c != NULL; c = c->next)
		if (strcmp(c->tag, tag) == 0)
			return true;
	return false;
}

/* A UID set naming exactly uids (ascending), in a. */
static void
set_of_uids(struct arena *a, const uint32_t *uids, size_t n, struct imap_seqset *out)
{
	memset(out, 0, sizeof(*out));
	out->ranges = arena_alloc(a, (n + 1) * sizeof(*out->ranges));
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		out->ranges[out->n++] = (struct imap_seq_range){uids[i], uids[j]};
		i = j + 1;
	}
}

/* Message numbers and "$" mean what they meant when the command ran
   (section 4.3): each such set becomes the UIDs it named then. */
static void
pin_sets(struct imap_session *s, struct arena *a, struct imap_search_key *k)
{
	for (; k != NULL; k = k->next) {
		pin_sets(s, a, k->child);
		if (k->type != IMAP_SK_SEQSET && k->type != IMAP_SK_UIDSET)
			continue;
		if (k->set.is_saved) {
			set_of_uids(a, s->saved_uids, s->n_saved, &k->set);
			k->type = IMAP_SK_UIDSET;
			continue;
		}
		if (k->type != IMAP_SK_SEQSET)
			continue;
		uint32_t count;
		const uint32_t *snap = store_mailbox_uids(s->mbox, &count);
		struct imap_seqset clamped = {
		        arena_alloc(a, (k->set.n + 1) * sizeof(*k->set.ranges)), 0, false};
		for (size_t i = 0; i < k->set.n; i++) {
			uint32_t lo = k->set.ranges[i].lo, hi = k->set.ranges[i].hi;
			lo = lo == IMAP_SEQ_STAR ? count : lo;
			hi = hi == IMAP_SEQ_STAR ? count : hi;
			uint32_t a_ = MIN(lo, hi), b_ = MIN(MAX(lo, hi), count);
			if (a_ >= 1 && a_ <= b_)
				clamped.ranges[clamped.n++] = (struct imap_seq_range){a_, b_};
		}
		uint32_t *uids = NULL;
		size_t n = 0;
		if (clamped.n > 0)
			imap_seqset_resolve(&clamped, false, snap, count, a, &uids, &n);
		set_of_uids(a, uids, n, &k->set);
		k->type = IMAP_SK_UIDSET;
	}
}

bool
imap_context_add(struct imap_cmd *cmd, const struct imap_search_program *prog,
                 const struct store_sort *keys, size_t n_keys, const uint32_t *uids, size_t n)
{
	struct imap_session *s = cmd->session;
	struct store_mailbox_info info;
	unsigned count = 0;

	for (struct imap_context *c = s->contexts; c != NULL; c = c->next)
		count++;
	if (count >= IMAP_CONTEXTS_MAX) {
		imap_reply_untagged(s, "NO [NOUPDATE %s] Too many contexts",
		                    imap_quote(cmd->arena, cmd->tag));
		return false;
	}
	struct imap_context *c = xcalloc(1, sizeof(*c));
	c->tag = xstrdup(cmd->tag);
	c->is_uid = cmd->is_uid;
	c->arena = arena_new(1024);
	c->root = imap_search_key_copy(c->arena, prog->root);
	pin_sets(s, c->arena, c->root);
	if (n_keys > 0)
		c->keys = arena_memdup(c->arena, keys, n_keys * sizeof(*keys));
	c->n_keys = n_keys;
	c->result = xmalloc((n ? n : 1) * sizeof(uint32_t));
	memcpy(c->result, uids, n * sizeof(uint32_t));
	c->n = n;
	store_mailbox_info_get(s->mbox, &info);
	c->modseq = info.highestmodseq;
	c->count = store_mailbox_count(s->mbox);
	c->next = s->contexts;
	s->contexts = c;
	return true;
}

bool
imap_context_cancel(struct imap_session *s, const char *tag)
{
	for (struct imap_context **pp = &s->contexts; *pp != NULL; pp = &(*pp)->next) {
		if (strcmp((*pp)->tag, tag) == 0) {
			struct imap_context *c = *pp;
			*pp = c->next;
			context_free(c);
			return true;
		}
	}
	return false;
}

void
imap_context_free_all(struct imap_session *s)
{
	while (s->contexts != NULL) {
		struct imap_context *c = s->contexts;
		s->contexts = c->next;
		context_free(c);
	}
}

void
imap_context_before_sync(struct imap_session *s)
{
	for (struct imap_context *c = s->contexts; c != NULL; c = c->next) {
		if (c->is_uid)
			continue;
		c->old_nums = xrealloc(c->old_nums, (c->n ? c->n : 1) * sizeof(uint32_t));
		for (size_t i = 0; i < c->n; i++)
			c->old_nums[i] = store_mailbox_seq(s->mbox, c->result[i]);
	}
}

/* An ascending copy of v, for membership tests. */
static uint32_t *
sorted_copy(struct arena *a, const uint32_t *v, size_t n)
{
	uint32_t *r = arena_alloc(a, (n ? n : 1) * sizeof(uint32_t));
	memcpy(r, v, n * sizeof(uint32_t));
	qsort(r, n, sizeof(uint32_t), uid_cmp);
	return r;
}

/* Appends " pos set" for the run so far and empties it. */
static void
flush_run(struct buf *b, struct arena *a, bool is_sort, size_t pos, uint32_t *run, size_t *n_run)
{
	if (*n_run == 0)
		return;
	if (!is_sort)
		qsort(run, *n_run, sizeof(uint32_t), uid_cmp);
	buf_printf(b, " %zu %s", pos, imap_seqset_format(a, run, *n_run));
	*n_run = 0;
}

/*
 * The pairs of one ADDTO or REMOVEFROM (" pos set pos set") for the members
 * of list (nums: what the client sees for each) not in other (ascending),
 * with the positions of the edit described atop, appended to b.
 */
static void
edit_pairs(struct buf *b, struct arena *a, bool is_sort, bool is_add, const uint32_t *list,
           const uint32_t *nums, size_t n, const uint32_t *other, size_t n_other)
{
	uint32_t *run = arena_alloc(a, (n ? n : 1) * sizeof(uint32_t));
	size_t kept = 0, n_run = 0, pos = 0;

	for (size_t i = 0; i < n; i++) {
		if (sorted_u32_contains(other, n_other, list[i])) {
			if (is_sort)
				flush_run(b, a, is_sort, pos, run, &n_run);
			kept++;
			continue;
		}
		/* Removal: where the run sits once the earlier ones went;
		   addition: where it sits in the new list. */
		if (n_run == 0)
			pos = is_sort ? (is_add ? i + 1 : kept + 1) : 0;
		run[n_run++] = nums[i];
	}
	flush_run(b, a, is_sort, pos, run, &n_run);
}

/* "* ESEARCH (TAG t) [UID] <name> (<pairs>)" onto out when pairs has any. */
static void
edit_line(struct buf *out, struct arena *a, const struct imap_context *c, const char *name,
          const struct buf *pairs)
{
	if (pairs->len == 0)
		return;
	buf_printf(out, "* ESEARCH (TAG %s)%s %s (%s)\r\n", imap_quote(a, c->tag),
	           c->is_uid ? " UID" : "", name, pairs->data + 1);
}

void
imap_context_after_sync(struct imap_session *s, struct buf *removes, struct buf *adds)
{
	struct store_mailbox_info info;

	store_mailbox_info_get(s->mbox, &info);
	for (struct imap_context *c = s->contexts; c != NULL; c = c->next) {
		if (info.highestmodseq == c->modseq && store_mailbox_count(s->mbox) == c->count)
			continue;
		struct arena *a = arena_new(4096);
		uint32_t *now;
		size_t n;
		enum store_error err;
		/* Noted before running, so a change meanwhile is seen next time. */
		c->modseq = info.highestmodseq;
		c->count = store_mailbox_count(s->mbox);
		if (imap_search_result(s, c->root, c->keys, c->n_keys, a, &now, &n, &err) < 0) {
			log_error("imap", "event=context-update-failed tag=%s err=\"%s\"",
			          log_str(a, c->tag, strlen(c->tag)), store_error_str(err));
			arena_free(&a);
			continue;
		}
		const uint32_t *old_sorted = sorted_copy(a, c->result, c->n);
		const uint32_t *now_sorted = sorted_copy(a, now, n);
		const uint32_t *old_nums = c->is_uid ? c->result : c->old_nums;
		bool is_sort = c->n_keys > 0;
		struct buf pairs;
		buf_init(&pairs);
		edit_pairs(&pairs, a, is_sort, false, c->result, old_nums, c->n, now_sorted, n);
		edit_line(removes, a, c, "REMOVEFROM", &pairs);
		buf_reset(&pairs);
		edit_pairs(&pairs, a, is_sort, true, now,
		           imap_esearch_numbers(s, c->is_uid, now, n, a), n, old_sorted, c->n);
		edit_line(adds, a, c, "ADDTO", &pairs);
		buf_deinit(&pairs);
		c->result = xrealloc(c->result, (n ? n : 1) * sizeof(uint32_t));
		memcpy(c->result, now, n * sizeof(uint32_t));
		c->n = n;
		arena_free(&a);
	}
}
