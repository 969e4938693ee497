/* SPDX-License-Identifier: MIT */
/*
 * thread.c: THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (RFC 5256 section
 * 3) over the keys cmd_thread.c gathers from the store's cache (base
 * subject, Message-ID, In-Reply-To, References, normalised at delivery by
 * src/mail/sortkeys.c). "Sent date" is the Date: field, else the internal
 * date (section 2.2); ties go to the lower sequence number.
 *
 * The tree is an array of nodes linked by index (parent, first and last
 * child, siblings); node 0 is the virtual root, dummies have num 0. The
 * message set comes from mail anyone can send, so the tree may be deep (a
 * References chain of thousands) and References may form loops: every walk
 * uses an explicit stack, and a link that would make a loop is not made
 * (section 3, steps 1.A and 1.B). Costs: O(n log n) for the sorts; a loop
 * check is O(min(depth, subtree)) (is_within), O(1) for the usual new
 * message at the end of a thread.
 */
#include "imap/thread.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/hash.h"
#include "lib/util.h"

#define NONE UINT32_MAX

struct node {
	uint32_t parent, child, last, prev, next; /* indexes into nodes, NONE */
	uint32_t num;                             /* seq or uid printed; 0 = dummy */
	uint32_t seq;                             /* tie break */
	int64_t date;
	const char *subject; /* base subject, case folded; "" none */
	bool is_reply;
};

struct tree {
	struct node *nodes;
	uint32_t n, cap;
	uint32_t root; /* the virtual root */
	struct arena *a;
};

/* ---- key -> node tables (lib/hash.h; node indexes kept as index + 1,
   since a hash value cannot be NULL) ---- */

static uint32_t
table_get(const struct hash *h, const char *key)
{
	void *v = hash_str_find(h, key);

	return v != NULL ? (uint32_t)((uintptr_t)v - 1) : NONE;
}

static void
table_put(struct hash *h, const char *key, uint32_t x)
{
	hash_str_set(h, key, (void *)((uintptr_t)x + 1));
}

/* ---- tree primitives ---- */

static uint32_t
node_new(struct tree *t)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->nodes = xrealloc(t->nodes, t->cap * sizeof(*t->nodes));
	}
	struct node *nd = &t->nodes[t->n];
	memset(nd, 0, sizeof(*nd));
	nd->parent = nd->child = nd->last = nd->prev = nd->next = NONE;
	nd->subject = "";
	return t->n++;
}

static void
unlink_node(struct tree *t, uint32_t x)
{
	struct node *nd = &t->nodes[x];

	if (nd->parent == NONE)
		return;
	struct node *p = &t->nodes[nd->parent];
	if (nd->prev != NONE)
		t->nodes[nd->prev].next = nd->next;
	else
		p->child = nd->next;
	if (nd->next != NONE)
		t->nodes[nd->next].prev = nd->prev;
	else
		p->last = nd->prev;
	nd->parent = nd->prev = nd->next = NONE;
}

/* Makes x (unlinked) a child of parent just before its child after, or
   the last child when after is NONE. */
static void
insert_before(struct tree *t, uint32_t parent, uint32_t after, uint32_t x)
{
	struct node *nd = &t->nodes[x], *p = &t->nodes[parent];

	nd->parent = parent;
	nd->next = after;
	nd->prev = after != NONE ? t->nodes[after].prev : p->last;
	if (nd->prev != NONE)
		t->nodes[nd->prev].next = x;
	else
		p->child = x;
	if (after != NONE)
		t->nodes[after].prev = x;
	else
		p->last = x;
}

static void
append_child(struct tree *t, uint32_t parent, uint32_t x)
{
	insert_before(t, parent, NONE, x);
}

/* The node after x in a pre-order walk of top's subtree, or NONE. */
static uint32_t
preorder_next(const struct tree *t, uint32_t x, uint32_t top)
{
	if (t->nodes[x].child != NONE)
		return t->nodes[x].child;
	for (; x != top; x = t->nodes[x].parent)
		if (t->nodes[x].next != NONE)
			return t->nodes[x].next;
	return NONE;
}

/*
 * Whether a is b or one of b's descendants: the loop check before every
 * link. It walks up from a and through b's subtree in turns, one step each,
 * and stops when either walk ends, so it costs O(min(depth of a, size of
 * b's subtree)): a message at the end of a chain of thousands replies is
 * linked in O(1), since it has no children yet.
 */
static bool
is_within(const struct tree *t, uint32_t a, uint32_t b)
{
	uint32_t up = a, down = b;

	for (;;) {
		if (up == b || down == a)
			return true;
		if (up == NONE || down == NONE)
			return false;
		up = t->nodes[up].parent;
		down = preorder_next(t, down, b);
	}
}

static const struct node *
key_node(const struct tree *t, uint32_t x)
{
	/* A dummy sorts by its first child (section 3, steps 4 and 6). */
	while (t->nodes[x].num == 0 && t->nodes[x].child != NONE)
		x = t->nodes[x].child;
	return &t->nodes[x];
}

static int
cmp_date(const void *x, const void *y, void *ctx)
{
	const struct tree *t = ctx;
	const struct node *a = key_node(t, *(const uint32_t *)x);
	const struct node *b = key_node(t, *(const uint32_t *)y);

	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void
sort_children(struct tree *t, uint32_t parent, uint32_t *scratch)
{
	size_t n = 0;

	for (uint32_t c = t->nodes[parent].child; c != NONE; c = t->nodes[c].next)
		scratch[n++] = c;
	if (n < 2)
		return;
	/* qsort_r: the tree travels as the context, not in a global that two
	   workers running THREAD at once would share. */
	qsort_r(scratch, n, sizeof(uint32_t), cmp_date, t);
	t->nodes[parent].child = t->nodes[parent].last = NONE;
	for (size_t i = 0; i < n; i++)
		append_child(t, parent, scratch[i]);
}

/* Nodes below root in pre-order (explicit stack), into out; returns count. */
static size_t
preorder(const struct tree *t, uint32_t root, uint32_t *out, uint32_t *stack)
{
	size_t n = 0, sp = 0;

	stack[sp++] = root;
	while (sp > 0) {
		uint32_t x = stack[--sp];
		out[n++] = x;
		for (uint32_t c = t->nodes[x].child; c != NONE; c = t->nodes[c].next)
			stack[sp++] = c;
	}
	return n;
}

/* Step 6: every sibling set by date, deepest first so a dummy's first
   child is known when its own set is sorted. */
static void
sort_all(struct tree *t)
{
	uint32_t *order = xmalloc((t->n + 1) * sizeof(uint32_t));
	uint32_t *stack = xmalloc((t->n + 1) * sizeof(uint32_t));
	size_t n = preorder(t, t->root, order, stack);

	for (size_t i = n; i-- > 0;)
		sort_children(t, order[i], stack);
	free(order);
	free(stack);
}

/* ---- output ---- */

/*
 * thread-list = "(" (thread-members / thread-nested) ")"
 * thread-members = nz-number *(SP nz-number) [SP thread-nested]
 * thread-nested = 2*thread-list
 * A chain of only children is one list; a fork opens one list per child.
 */
static void
emit(const struct tree *t, struct buf *b)
{
	/* Each node pushed opens a thread-list: "(" chain [nested] ")"; a
	   NONE pushed after it is the ")" to write. Every node is pushed at
	   most once, with one NONE: 2n entries. */
	uint32_t *work = xmalloc((2 * (size_t)t->n + 2) * sizeof(uint32_t));
	size_t wp = 0;

	/* the roots' children in reverse, so the first pops first */
	for (uint32_t c = t->nodes[t->root].last; c != NONE; c = t->nodes[c].prev)
		work[wp++] = c;
	while (wp > 0) {
		uint32_t x = work[--wp];
		if (x == NONE) {
			buf_putc(b, ')');
			continue;
		}
		buf_putc(b, '(');
		/* follow the chain of single children */
		bool first = true;
		for (;;) {
			const struct node *nd = &t->nodes[x];
			if (nd->num != 0) {
				buf_printf(b, first ? "%u" : " %u", nd->num);
				first = false;
			}
			if (nd->child != NONE && nd->child == nd->last && nd->num != 0) {
				x = nd->child;
				continue;
			}
			break;
		}
		work[wp++] = NONE;
		const struct node *nd = &t->nodes[x];
		if (nd->child != NONE) {
			if (!first)
				buf_putc(b, ' ');
			for (uint32_t c = nd->last; c != NONE; c = t->nodes[c].prev)
				work[wp++] = c;
		}
	}
	free(work);
}

/* ---- algorithms ---- */

/* Base subjects are the same when their keys under the comparator are
   (RFC 5255 4.2: it applies to both algorithms' subject comparisons). */
static const char *
subject_key(struct arena *a, enum collation coll, const char *s)
{
	struct buf key;

	buf_init(&key);
	collation_sort_key(coll, s, strlen(s), &key);
	const char *r = arena_strndup(a, key.len > 0 ? key.data : "", key.len);
	buf_deinit(&key);
	return r;
}

/* Section 3, REFERENCES: "a reply or forward" if base subject extraction
   removed a subj-refwd ("re:", "fw:", "fwd:" after optional blobs), a
   "(fwd)" trailer or a "[fwd: ...]" wrapper (section 5). */
static bool
subject_is_reply(const char *s)
{
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	if (strncasecmp(s, "[fwd:", 5) == 0)
		return true;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len >= 5 && strncasecmp(s + len - 5, "(fwd)", 5) == 0)
		return true;
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s != '[')
			break;
		const char *e = strchr(s, ']');
		if (e == NULL)
			break;
		s = e + 1;
	}
	size_t w = strncasecmp(s, "fwd", 3) == 0                                  ? 3
	           : strncasecmp(s, "fw", 2) == 0 || strncasecmp(s, "re", 2) == 0 ? 2
	                                                                          : 0;
	if (w == 0)
		return false;
	s += w;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '[') {
		const char *e = strchr(s, ']');
		if (e == NULL)
			return false;
		s = e + 1;
	}
	return *s == ':';
}

static void
thread_orderedsubject(struct tree *t, const uint32_t *msgs, size_t n)
{
	uint32_t *v = xmalloc((n + 1) * sizeof(uint32_t));
	struct hash *subj = hash_new(HASH_KEYS_STR, n);

	/* Group by subject: the first message of each in date order is the
	   parent, the others its children, in date order. */
	memcpy(v, msgs, n * sizeof(uint32_t));
	qsort_r(v, n, sizeof(uint32_t), cmp_date, t);
	for (size_t i = 0; i < n; i++) {
		uint32_t first = table_get(subj, t->nodes[v[i]].subject);
		if (first == NONE) {
			table_put(subj, t->nodes[v[i]].subject, v[i]);
			append_child(t, t->root, v[i]);
		} else {
			append_child(t, first, v[i]);
		}
	}
	hash_free(&subj);
	free(v);
	/* Children already in date order, roots too (first messages in date
	   order were appended in date order). */
}

/* The references a message is threaded by (step 1.A): References, else the
   first msg-id of In-Reply-To. */
static const char *
refs_of(const struct imap_thread_msg *m)
{
	if (m->references != NULL && *m->references != '\0')
		return m->references;
	return m->in_reply_to != NULL ? m->in_reply_to : "";
}

/* Step 1: the id table and the parent/child links References give. */
static void
link_references(struct tree *t, const uint32_t *nodes, const struct imap_thread_msg *msgs, size_t n)
{
	struct hash *ids = hash_new(HASH_KEYS_STR, 2 * n);

	/* Each message claims its Message-ID; the first to carry an id keeps
	   it, later duplicates and messages without one get no entry (a
	   "unique id" nobody can reference). A dummy is made for an id that
	   is referenced but no message carries. */
	for (size_t i = 0; i < n; i++) {
		const char *id = msgs[i].message_id;
		if (id != NULL && *id != '\0' && table_get(ids, id) == NONE)
			table_put(ids, id, nodes[i]);
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t m = nodes[i], prev = NONE;
		const char *p = refs_of(&msgs[i]);
		while (*p != '\0') {
			size_t len = strcspn(p, " ");
			if (len == 0) {
				p++;
				continue;
			}
			const char *id = arena_strndup(t->a, p, len);
			p += len;
			uint32_t r = table_get(ids, id);
			if (r == NONE) {
				r = node_new(t); /* a dummy */
				table_put(ids, id, r);
			}
			/* 1.A: prev becomes r's parent unless r has one already
			   or the link would make a loop (prev inside r). */
			if (prev != NONE && prev != r && t->nodes[r].parent == NONE &&
			    !is_within(t, prev, r))
				append_child(t, prev, r);
			prev = r;
		}
		/* 1.B: the last reference is the parent. An old parent (from
		   another message's References) is dropped first; the new link
		   is not made if it would make a loop, so then the message has
		   no parent at all ("break the current parent/child link before
		   creating the new correct one"). */
		unlink_node(t, m);
		if (prev != NONE && prev != m && !is_within(t, prev, m))
			append_child(t, prev, m);
	}
	hash_free(&ids);
}

/*
 * Step 3: prune dummies. Children go first (reverse pre-order), so a dummy
 * is judged by the children it keeps: one whose dummy children were all
 * removed is empty now and goes too, where a top-down walk kept it at the
 * top level with no child at all (found by fuzz/fuzz_imap_thread.c).
 */
static void
prune_dummies(struct tree *t)
{
	uint32_t *order = xmalloc((t->n + 1) * sizeof(uint32_t));
	uint32_t *stack = xmalloc((t->n + 1) * sizeof(uint32_t));
	size_t n = preorder(t, t->root, order, stack);

	for (size_t i = n; i-- > 1;) { /* order[0] is the root */
		uint32_t x = order[i], parent = t->nodes[x].parent;
		struct node *nd = &t->nodes[x];
		if (nd->num != 0)
			continue;
		if (nd->child == NONE) {
			unlink_node(t, x);
		} else if (parent != t->root || nd->child == nd->last) {
			/* splice the dummy's children in its place (not to the
			   root level unless there is only one) */
			while (nd->child != NONE) {
				uint32_t k = nd->child;
				unlink_node(t, k);
				insert_before(t, parent, x, k);
			}
			unlink_node(t, x);
		}
	}
	free(order);
	free(stack);
}

/* The subject a top-level thread is merged by (step 5.B): its root's, or
   its first child's for a dummy. */
static const char *
thread_subject(const struct tree *t, uint32_t c)
{
	const struct node *nd = &t->nodes[c];

	return nd->num == 0 ? t->nodes[nd->child].subject : nd->subject;
}

/* Step 5: merge top-level threads of the same base subject. */
static void
merge_subjects(struct tree *t)
{
	struct hash *subj = hash_new(HASH_KEYS_STR, t->n);

	/* 5.B: which thread of each subject the others join: a dummy over a
	   message, a message that is not a reply over one that is. */
	for (uint32_t c = t->nodes[t->root].child; c != NONE; c = t->nodes[c].next) {
		const struct node *nd = &t->nodes[c];
		const char *s = thread_subject(t, c);
		if (*s == '\0')
			continue;
		uint32_t o = table_get(subj, s);
		if (o == NONE || (t->nodes[o].num != 0 &&
		                  (nd->num == 0 || (t->nodes[o].is_reply && !nd->is_reply))))
			table_put(subj, s, c);
	}
	/* 5.C */
	for (uint32_t c = t->nodes[t->root].child; c != NONE;) {
		struct node *nd = &t->nodes[c];
		uint32_t next = nd->next;
		const char *s = thread_subject(t, c);
		uint32_t o = *s != '\0' ? table_get(subj, s) : c;
		if (o == c) {
			c = next;
			continue;
		}
		struct node *on = &t->nodes[o];
		if (on->num == 0 && nd->num == 0) {
			/* both dummies: one takes the other's children */
			while (nd->child != NONE) {
				uint32_t k = nd->child;
				unlink_node(t, k);
				append_child(t, o, k);
			}
			unlink_node(t, c);
		} else if (on->num == 0 || (nd->is_reply && !on->is_reply)) {
			unlink_node(t, c);
			append_child(t, o, c);
		} else {
			/* neither is the other's parent: a new dummy over both,
			   in o's place among the roots */
			uint32_t d = node_new(t); /* may move t->nodes */
			insert_before(t, t->root, o, d);
			unlink_node(t, o);
			append_child(t, d, o);
			next = t->nodes[c].next; /* may now be d */
			unlink_node(t, c);
			append_child(t, d, c);
			table_put(subj, s, d);
		}
		c = next;
	}
	hash_free(&subj);
}

static void
thread_references(struct tree *t, const uint32_t *nodes, const struct imap_thread_msg *msgs,
                  size_t n)
{
	link_references(t, nodes, msgs, n);
	/* Step 2: the parentless go under the root, in creation order. */
	for (uint32_t x = 0; x < t->n; x++)
		if (x != t->root && t->nodes[x].parent == NONE)
			append_child(t, t->root, x);
	prune_dummies(t);
	/* Step 4: roots by date (every level sorted first: dummies sort by
	   their first child). */
	sort_all(t);
	merge_subjects(t);
	/* Step 6 */
	sort_all(t);
}

void
imap_thread_format(struct arena *a, enum imap_thread_algorithm alg, enum collation coll,
                   const struct imap_thread_msg *msgs, size_t n, struct buf *out)
{
	struct tree t = {.a = a};
	uint32_t *nodes = arena_alloc(a, (n + 1) * sizeof(uint32_t));

	t.root = node_new(&t);
	for (size_t i = 0; i < n; i++) {
		uint32_t x = node_new(&t);
		struct node *nd = &t.nodes[x];
		nd->num = msgs[i].num;
		nd->seq = msgs[i].seq;
		nd->date = msgs[i].date;
		nd->subject = subject_key(a, coll,
		                          msgs[i].base_subject != NULL ? msgs[i].base_subject : "");
		nd->is_reply = subject_is_reply(msgs[i].subject != NULL ? msgs[i].subject : "");
		nodes[i] = x;
	}
	if (alg == IMAP_THREAD_REFERENCES)
		thread_references(&t, nodes, msgs, n);
	else
		thread_orderedsubject(&t, nodes, n);
	emit(&t, out);
	free(t.nodes);
}
