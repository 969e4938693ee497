/* SPDX-License-Identifier: MIT */
/*
 * cmd_thread.c: THREAD and UID THREAD (RFC 5256 BASE.6.4.THREAD) with the
 * ORDEREDSUBJECT and REFERENCES algorithms (RFC 5256 section 3).
 *
 * thread = ["UID" SP] "THREAD" SP thread-alg SP search-charset 1*(SP search-key)
 *
 * The search program picks the messages; their thread keys (base subject,
 * Message-ID, In-Reply-To, References, already normalised at delivery by
 * src/mail/sortkeys.c) come from the store's cache, so nothing is parsed
 * here. "Sent date" is the Date: field, else the internal date (section
 * 2.2); ties go to the lower sequence number.
 *
 * The message set comes from mail anyone can send, so the tree may be deep
 * (a References chain of thousands): every walk uses an explicit stack, and
 * loops are refused when links are made (section 3, step 1.A).
 * Costs: O(n log n) for the sorts, O(n * depth) for the loop checks.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unicase.h>

#include "imap/commands.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_search_cmd.h"
#include "imap/search.h"
#include "imap/search_parse.h"
#include "lib/arena.h"
#include "lib/buf.h"

#define NONE UINT32_MAX

struct node {
	uint32_t parent, child, last, prev, next; /* indexes into nodes, NONE */
	uint32_t num;                             /* seq or uid printed; 0 = dummy */
	uint32_t seq;                             /* tie break */
	int64_t date;
	const char *subject; /* base subject, case folded; "" none */
	bool is_reply;
	const char *msgid;
};

struct tree {
	struct node *nodes;
	uint32_t n, cap;
	uint32_t root; /* the virtual root */
	struct arena *a;
};

/* ---- a small string -> index hash (open addressing) ---- */

struct table {
	const char **keys;
	uint32_t *vals;
	size_t cap;
};

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void
table_init(struct table *t, struct arena *a, size_t n)
{
	t->cap = 16;
	while (t->cap < n * 2 + 1)
		t->cap *= 2;
	t->keys = arena_zalloc(a, t->cap * sizeof(*t->keys));
	t->vals = arena_zalloc(a, t->cap * sizeof(*t->vals));
}

/* The slot for key: holds it, or is empty. The table never fills (cap >
   2 n and at most n keys go in). */
static size_t
table_slot(const struct table *t, const char *key)
{
	size_t i = hash_str(key) & (t->cap - 1);

	while (t->keys[i] != NULL && strcmp(t->keys[i], key) != 0)
		i = (i + 1) & (t->cap - 1);
	return i;
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

static void
append_child(struct tree *t, uint32_t parent, uint32_t x)
{
	struct node *p = &t->nodes[parent], *nd = &t->nodes[x];

	nd->parent = parent;
	nd->next = NONE;
	nd->prev = p->last;
	if (p->last != NONE)
		t->nodes[p->last].next = x;
	else
		p->child = x;
	p->last = x;
}

/* Whether a is b or one of b's descendants. */
static bool
is_within(const struct tree *t, uint32_t a, uint32_t b)
{
	for (uint32_t x = a; x != NONE; x = t->nodes[x].parent)
		if (x == b)
			return true;
	return false;
}

static const struct node *
key_node(const struct tree *t, uint32_t x)
{
	/* A dummy sorts by its first child (section 3, steps 4 and 6). */
	while (t->nodes[x].num == 0 && t->nodes[x].child != NONE)
		x = t->nodes[x].child;
	return &t->nodes[x];
}

static const struct tree *sort_tree; /* qsort has no context argument */

static int
cmp_date(const void *x, const void *y)
{
	const struct node *a = key_node(sort_tree, *(const uint32_t *)x);
	const struct node *b = key_node(sort_tree, *(const uint32_t *)y);

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
	sort_tree = t;
	qsort(scratch, n, sizeof(uint32_t), cmp_date);
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
 * Frames: a node whose list is open, and whether it needs ")" after.
 */
static void
emit(const struct tree *t, struct buf *b)
{
	uint32_t *stack = xmalloc((t->n + 1) * sizeof(uint32_t));
	size_t sp = 0;

	/* Top level: push the roots' children in reverse, so the first pops
	   first; NONE marks a ")" to write. */
	for (uint32_t c = t->nodes[t->root].last; c != NONE; c = t->nodes[c].prev)
		stack[sp++] = c;
	/* each pushed node starts a thread-list: "(" chain [nested] ")" */
	uint32_t *work = xmalloc((2 * t->n + 2) * sizeof(uint32_t));
	size_t wp = 0;
	for (size_t i = 0; i < sp; i++)
		work[wp++] = stack[i];
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
	free(stack);
}

/* ---- algorithms ---- */

static const char *
fold(struct arena *a, const char *s)
{
	size_t n = 0;
	uint8_t *f = u8_casefold((const uint8_t *)s, strlen(s), NULL, NULL, NULL, &n);
	const char *r = f != NULL ? arena_strndup(a, (const char *)f, n) : s;

	free(f);
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
	struct table subj;

	/* Group by subject (first message of each in date order). */
	memcpy(v, msgs, n * sizeof(uint32_t));
	sort_tree = t;
	qsort(v, n, sizeof(uint32_t), cmp_date);
	table_init(&subj, t->a, n);
	for (size_t i = 0; i < n; i++) {
		size_t slot = table_slot(&subj, t->nodes[v[i]].subject);
		if (subj.keys[slot] == NULL) {
			subj.keys[slot] = t->nodes[v[i]].subject;
			subj.vals[slot] = v[i];
			append_child(t, t->root, v[i]);
		} else {
			append_child(t, subj.vals[slot], v[i]);
		}
	}
	free(v);
	/* Children already in date order, roots too (first messages in date
	   order were appended in date order). */
}

static void
thread_references(struct tree *t, const uint32_t *msgs, size_t n,
                  const struct store_message_info *info)
{
	struct table ids;
	size_t cap_ids = n + 16, used_ids = 0;

	/* Room for every id any message names, so no reference is dropped. */
	for (size_t i = 0; i < n; i++) {
		const char *refs = info[i].references;
		if (refs == NULL || *refs == '\0')
			refs = info[i].in_reply_to;
		for (const char *p = refs != NULL ? refs : ""; *p != '\0'; p++)
			cap_ids += *p == ' ';
		cap_ids++;
	}
	table_init(&ids, t->a, cap_ids);
	/* Step 1: each message claims its Message-ID (the first one to carry
	   an id keeps it; later duplicates and messages without one get no
	   entry: a "unique id"). A dummy made for an earlier reference is
	   taken over. */
	for (size_t i = 0; i < n; i++) {
		const char *id = info[i].message_id;
		if (id == NULL || *id == '\0')
			continue;
		size_t slot = table_slot(&ids, id);
		if (ids.keys[slot] == NULL) {
			ids.keys[slot] = id;
			ids.vals[slot] = msgs[i];
			used_ids++;
		}
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t m = msgs[i];
		const char *refs = info[i].references;
		if (refs == NULL || *refs == '\0')
			refs = info[i].in_reply_to;
		uint32_t prev = NONE;
		const char *p = refs != NULL ? refs : "";
		while (*p != '\0') {
			size_t len = strcspn(p, " ");
			if (len == 0) {
				p++;
				continue;
			}
			const char *id = arena_strndup(t->a, p, len);
			p += len;
			size_t slot = table_slot(&ids, id);
			uint32_t r;
			if (ids.keys[slot] != NULL) {
				r = ids.vals[slot];
			} else if (used_ids < cap_ids) {
				r = node_new(t); /* a dummy */
				ids.keys[slot] = id;
				ids.vals[slot] = r;
				used_ids++;
			} else {
				break; /* cannot happen: sized above */
			}
			/* 1.A: link prev -> r unless r has a parent or a loop */
			if (prev != NONE && prev != r && t->nodes[r].parent == NONE &&
			    !is_within(t, prev, r))
				append_child(t, prev, r);
			prev = r;
		}
		/* 1.B: the last reference is the parent, replacing a guess */
		if (prev != NONE && prev != m && !is_within(t, prev, m)) {
			unlink_node(t, m);
			append_child(t, prev, m);
		} else if (prev == NONE) {
			unlink_node(t, m);
		}
	}
	/* Step 2: the parentless go under the root, in creation order. */
	for (uint32_t x = 0; x < t->n; x++)
		if (x != t->root && t->nodes[x].parent == NONE)
			append_child(t, t->root, x);

	/* Step 3: prune dummies, top down; spliced children are revisited
	   as part of the list being walked. */
	uint32_t *stack = xmalloc((t->n + 1) * sizeof(uint32_t));
	size_t sp = 0;
	stack[sp++] = t->root;
	while (sp > 0) {
		uint32_t parent = stack[--sp];
		uint32_t c = t->nodes[parent].child;
		while (c != NONE) {
			struct node *nd = &t->nodes[c];
			uint32_t next = nd->next;
			if (nd->num != 0) {
				stack[sp++] = c;
			} else if (nd->child == NONE) {
				unlink_node(t, c);
			} else if (parent != t->root || nd->child == nd->last) {
				/* splice the dummy's children in its place */
				uint32_t first = nd->child;
				uint32_t after = nd->next;
				while (nd->child != NONE) {
					uint32_t k = nd->child;
					unlink_node(t, k);
					/* insert k before `after` */
					struct node *kn = &t->nodes[k];
					struct node *p = &t->nodes[parent];
					kn->parent = parent;
					kn->next = after;
					kn->prev = after != NONE ? t->nodes[after].prev : p->last;
					if (kn->prev != NONE)
						t->nodes[kn->prev].next = k;
					else
						p->child = k;
					if (after != NONE)
						t->nodes[after].prev = k;
					else
						p->last = k;
				}
				unlink_node(t, c);
				next = first;
			} else {
				stack[sp++] = c; /* a kept dummy: prune below it */
			}
			c = next;
		}
	}
	free(stack);

	/* Step 4: roots by date (every level sorted first: dummies sort by
	   their first child). */
	sort_all(t);

	/* Step 5: merge threads of the same base subject. */
	struct table subj;
	table_init(&subj, t->a, t->n);
	for (uint32_t c = t->nodes[t->root].child; c != NONE; c = t->nodes[c].next) {
		const struct node *nd = &t->nodes[c];
		const char *s = nd->num == 0 ? t->nodes[nd->child].subject : nd->subject;
		if (*s == '\0')
			continue;
		size_t slot = table_slot(&subj, s);
		if (subj.keys[slot] == NULL) {
			subj.keys[slot] = s;
			subj.vals[slot] = c;
			continue;
		}
		const struct node *old = &t->nodes[subj.vals[slot]];
		if (old->num != 0 && (nd->num == 0 || (old->is_reply && !nd->is_reply)))
			subj.vals[slot] = c;
	}
	for (uint32_t c = t->nodes[t->root].child; c != NONE;) {
		struct node *nd = &t->nodes[c];
		uint32_t next = nd->next;
		const char *s = nd->num == 0 ? t->nodes[nd->child].subject : nd->subject;
		if (*s == '\0') {
			c = next;
			continue;
		}
		size_t slot = table_slot(&subj, s);
		uint32_t o = subj.vals[slot];
		if (o == c) {
			c = next;
			continue;
		}
		struct node *on = &t->nodes[o];
		if (on->num == 0 && nd->num == 0) {
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
			uint32_t d = node_new(t); /* may move t->nodes */
			struct node *dn = &t->nodes[d];
			/* the dummy takes o's place among the roots */
			uint32_t op = t->nodes[o].prev, onx = t->nodes[o].next;
			dn->parent = t->root;
			dn->prev = op;
			dn->next = onx;
			if (op != NONE)
				t->nodes[op].next = d;
			else
				t->nodes[t->root].child = d;
			if (onx != NONE)
				t->nodes[onx].prev = d;
			else
				t->nodes[t->root].last = d;
			t->nodes[o].parent = t->nodes[o].prev = t->nodes[o].next = NONE;
			append_child(t, d, o);
			next = t->nodes[c].next; /* may now be d */
			unlink_node(t, c);
			append_child(t, d, c);
			subj.vals[slot] = d;
		}
		c = next;
	}
	/* Step 6 */
	sort_all(t);
}

enum imap_cmd_status
imap_cmd_thread(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct imap_search_program prog = {0};
	const char *alg;
	enum store_error err;
	uint32_t *uids;
	size_t n;

	if (cmd->nargs < 3 || cmd->args[0].type != IMAP_ARG_ATOM ||
	    (cmd->args[1].type != IMAP_ARG_ATOM && cmd->args[1].type != IMAP_ARG_QUOTED)) {
		imap_reply_bad(cmd, "Expected: THREAD <algorithm> <charset> <search keys>");
		return IMAP_CMD_DONE;
	}
	alg = cmd->args[0].str;
	bool by_refs = strcasecmp(alg, "REFERENCES") == 0;
	if (!by_refs && strcasecmp(alg, "ORDEREDSUBJECT") != 0) {
		imap_reply_bad(cmd, "Unknown threading algorithm");
		return IMAP_CMD_DONE;
	}
	if (!imap_search_keys_arg(cmd, 1, &prog))
		return IMAP_CMD_DONE;
	struct imap_search_input in;
	imap_search_input_init(&in, s);
	if (imap_search_eval(&in, prog.root, cmd->arena, &uids, &n, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	struct store_message_info *info = arena_alloc(cmd->arena, (n + 1) * sizeof(*info));
	if (n > 0 &&
	    store_message_lookup(s->mbox, uids, n, STORE_FETCH_SORT, cmd->arena, info, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	uint32_t *seqs = imap_search_uids_to_seqs(s->mbox, uids, n, cmd->arena);

	struct tree t = {.a = cmd->arena};
	uint32_t *msgs = arena_alloc(cmd->arena, (n + 1) * sizeof(uint32_t));
	size_t nm = 0;
	t.root = node_new(&t);
	for (size_t i = 0; i < n; i++) {
		/* expunged since the search (uid 0): left out */
		if (info[i].uid == 0)
			continue;
		uint32_t x = node_new(&t);
		struct node *nd = &t.nodes[x];
		nd->num = cmd->is_uid ? uids[i] : seqs[i];
		nd->seq = seqs[i];
		nd->date = info[i].sent_date != 0 ? info[i].sent_date : info[i].internal_date;
		nd->subject = fold(cmd->arena, info[i].base_subject ? info[i].base_subject : "");
		nd->is_reply = subject_is_reply(info[i].subject ? info[i].subject : "");
		info[nm] = info[i];
		msgs[nm++] = x;
	}
	if (by_refs)
		thread_references(&t, msgs, nm, info);
	else
		thread_orderedsubject(&t, msgs, nm);

	struct buf b;
	buf_init(&b);
	buf_puts(&b, "THREAD");
	if (t.nodes[t.root].child != NONE)
		buf_putc(&b, ' ');
	emit(&t, &b);
	imap_reply_untagged(s, "%s", b.data);
	buf_deinit(&b);
	free(t.nodes);
	imap_reply_ok(cmd, "%s completed", cmd->name);
	return IMAP_CMD_DONE;
}
