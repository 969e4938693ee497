/* SPDX-License-Identifier: MIT */
/*
 * imap_notify.c: NOTIFY's delivery (imap_notify.h). State: the request,
 * the watched mailboxes (a store handle each, all waking one session
 * event, and what the client was last told of each), and the mailbox list
 * as last reported (ids, names, subscriptions), so a change shows as
 * created, deleted, renamed (same id, new name) or (un)subscribed.
 *
 * A wake marks work as pending; imap_notify_flush does it when output may
 * go (between commands, in IDLE, before a tagged reply), so nothing is
 * ever written into the middle of another response.
 */
#include "imap/imap_notify.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap_fetch_parse.h"
#include "imap/imap_annotate.h"
#include "imap/imap_flags.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_metadata.h"
#include "imap/imap_namespace.h"
#include "imap/imap_section.h"
#include "imap/session.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"
#include "mail/imap_string.h"

struct box {
	char *name;
	unsigned events;
	struct store_mailbox *mbox;
	struct store_mailbox_info last; /* as the client was last told */
};

struct known {
	uint64_t id;
	char *name;
	bool subscribed;
};

struct imap_notify {
	struct arena *arena; /* the request's copy */
	bool has_selected, selected_delayed;
	unsigned selected_events;
	const char **new_atts;
	size_t n_new_atts;
	struct imap_notify_group *groups;
	size_t n_groups;
	unsigned list_events; /* MailboxName, SubscriptionChange of any group */
	struct box *boxes;
	size_t n_boxes;
	struct known *known; /* sorted by id */
	size_t n_known;
	struct session_event *box_wake, *list_wake;
	bool boxes_dirty, list_dirty;
	bool server_metadata; /* ServerMetadataChange in some group */
	uint64_t meta_seq;    /* the store's METADATA changes read up to */
};

/* ---- the request ---- */

static void
boxes_free(struct imap_notify *n)
{
	for (size_t i = 0; i < n->n_boxes; i++) {
		store_mailbox_close(&n->boxes[i].mbox);
		free(n->boxes[i].name);
	}
	free(n->boxes);
	n->boxes = NULL;
	n->n_boxes = 0;
}

static void
known_free(struct imap_notify *n)
{
	for (size_t i = 0; i < n->n_known; i++)
		free(n->known[i].name);
	free(n->known);
	n->known = NULL;
	n->n_known = 0;
}

void
imap_notify_free(struct imap_session *s)
{
	struct imap_notify *n = s->notify;

	if (n == NULL)
		return;
	s->notify = NULL;
	if (s->account != NULL)
		store_account_watch(s->account, NULL, NULL);
	boxes_free(n);
	known_free(n);
	session_event_free(&n->box_wake);
	session_event_free(&n->list_wake);
	arena_free(&n->arena);
	free(n);
}

bool
imap_notify_pushes_selected(const struct imap_session *s)
{
	return s->notify != NULL && s->notify->has_selected && !s->notify->selected_delayed &&
	       (s->notify->selected_events & IMAP_NOTIFY_MESSAGE_EVENTS) != 0;
}

static bool
in_subtree(const char *name, const char *top)
{
	size_t n = strlen(top);
	return strncmp(name, top, n) == 0 && (name[n] == '\0' || name[n] == '/');
}

static bool
is_subscribed(const char *const *subs, size_t n_subs, const char *name)
{
	for (size_t i = 0; i < n_subs; i++)
		if (strcmp(subs[i], name) == 0)
			return true;
	return false;
}

/* The events (of mask) the groups ask for name (RFC 5465 6). */
static unsigned
events_masked(const struct imap_notify *n, const char *name, const char *const *subs, size_t n_subs,
              unsigned mask)
{
	unsigned ev = 0;

	for (size_t g = 0; g < n->n_groups; g++) {
		const struct imap_notify_group *gr = &n->groups[g];
		bool match = false;
		switch (gr->filter) {
		case IMAP_NOTIFY_INBOXES:
			match = strcmp(name, "INBOX") == 0;
			break;
		case IMAP_NOTIFY_PERSONAL:
			match = true;
			break;
		case IMAP_NOTIFY_SUBSCRIBED:
			match = is_subscribed(subs, n_subs, name);
			break;
		case IMAP_NOTIFY_SUBTREE:
		case IMAP_NOTIFY_MAILBOXES:
			for (size_t k = 0; k < gr->n_names && !match; k++)
				match = gr->filter == IMAP_NOTIFY_SUBTREE
				                ? in_subtree(name, gr->names[k])
				                : strcmp(name, gr->names[k]) == 0;
			break;
		}
		if (match)
			ev |= gr->events & mask;
	}
	return ev;
}

/* The message events the groups ask for name. */
static unsigned
events_for(const struct imap_notify *n, const char *name, const char *const *subs, size_t n_subs)
{
	return events_masked(n, name, subs, n_subs, IMAP_NOTIFY_MESSAGE_EVENTS);
}

static void
store_wake(void *arg)
{
	session_event_activate(arg); /* any thread, under a store lock: only signal */
}

static void
box_wake_cb(struct session *base)
{
	struct imap_session *s = (struct imap_session *)base;

	if (s->notify == NULL)
		return;
	s->notify->boxes_dirty = true;
	if (!s->base.is_busy || s->is_idling)
		imap_notify_flush(s);
}

static void
list_wake_cb(struct session *base)
{
	struct imap_session *s = (struct imap_session *)base;

	if (s->notify == NULL)
		return;
	s->notify->list_dirty = true;
	if (!s->base.is_busy || s->is_idling)
		imap_notify_flush(s);
}

/* The list as it is now: ids, names, subscriptions, in a. */
static int
read_list(struct imap_session *s, struct arena *a, struct store_mailbox_info **boxes, size_t *n,
          const char ***subs, size_t *n_subs)
{
	enum store_error err;

	if (store_mailbox_list(s->account, a, boxes, n, &err) < 0 ||
	    store_subscription_list(s->account, a, subs, n_subs, &err) < 0) {
		log_error("imap", "event=notify-list-failed err=\"%s\"", store_error_str(err));
		return -1;
	}
	return 0;
}

static int
known_cmp(const void *x, const void *y)
{
	const struct known *a = x, *b = y;
	return a->id < b->id ? -1 : a->id > b->id;
}

static void
known_set(struct imap_notify *n, const struct store_mailbox_info *boxes, size_t nb,
          const char *const *subs, size_t n_subs)
{
	known_free(n);
	n->known = xcalloc(nb + 1, sizeof(*n->known));
	for (size_t i = 0; i < nb; i++)
		n->known[i] = (struct known){boxes[i].id, xstrdup(boxes[i].name),
		                             is_subscribed(subs, n_subs, boxes[i].name)};
	n->n_known = nb;
	qsort(n->known, nb, sizeof(*n->known), known_cmp);
}

static const struct known *
known_find(const struct imap_notify *n, uint64_t id)
{
	struct known key = {.id = id};
	return bsearch(&key, n->known, n->n_known, sizeof(*n->known), known_cmp);
}

/* A candidate for the watched set: a personal mailbox of the list, or
   one another account shares with the user (its full name). */
struct candidate {
	const char *name;
	bool is_shared;
};

static bool
is_shared_name(const char *name)
{
	return strncmp(name, IMAP_NS_OTHER "/", strlen(IMAP_NS_OTHER) + 1) == 0 ||
	       strncmp(name, IMAP_NS_SHARED "/", strlen(IMAP_NS_SHARED) + 1) == 0;
}

/*
 * The mailboxes other accounts share with the user ("Other Users/...",
 * "Shared/...": imap_namespace_list, which lists only those with 'l'),
 * and those a MAILBOXES group names, when some group could name them
 * (PERSONAL and INBOXES are the user's own namespace, RFC 5465 6). In a.
 */
static size_t
shared_candidates(struct imap_session *s, const struct imap_notify *n, struct arena *a,
                  struct candidate **out)
{
	struct imap_ns_mailbox *all;
	size_t n_all, k = 0;
	enum store_error err;
	bool any = false;

	*out = NULL;
	for (size_t g = 0; g < n->n_groups; g++)
		any |= n->groups[g].filter == IMAP_NOTIFY_SUBSCRIBED ||
		       n->groups[g].filter == IMAP_NOTIFY_SUBTREE ||
		       n->groups[g].filter == IMAP_NOTIFY_MAILBOXES;
	if (!any || s->login_box != NULL || imap_namespace_list(s, &all, &n_all, &err) < 0)
		return 0;
	size_t n_named = 0;
	for (size_t g = 0; g < n->n_groups; g++)
		if (n->groups[g].filter == IMAP_NOTIFY_MAILBOXES)
			n_named += n->groups[g].n_names;
	*out = arena_alloc(a, (n_all + n_named + 1) * sizeof(**out));
	for (size_t i = 0; i < n_all; i++)
		if (is_shared_name(all[i].name))
			(*out)[k++] = (struct candidate){arena_strdup(a, all[i].name), true};
	/* A mailbox named outright needs no 'l' to be watched: the client
	   knows it, and 'r' (checked at the open) is what message events
	   need. SUBTREE and SUBSCRIBED only reach what 'l' lists. */
	for (size_t g = 0; g < n->n_groups; g++) {
		const struct imap_notify_group *gr = &n->groups[g];
		for (size_t j = 0; gr->filter == IMAP_NOTIFY_MAILBOXES && j < gr->n_names; j++) {
			bool known = !is_shared_name(gr->names[j]);
			for (size_t m = 0; m < k && !known; m++)
				known = strcmp((*out)[m].name, gr->names[j]) == 0;
			if (!known)
				(*out)[k++] = (struct candidate){gr->names[j], true};
		}
	}
	return k;
}

/* A read-only handle on c, through its owner's ACL when shared: without
   'r' there is none, so no message events (RFC 5465 6 with RFC 4314). */
static int
open_candidate(struct imap_session *s, const struct candidate *c, struct store_mailbox **out)
{
	struct imap_box box;
	enum store_error err;

	if (!c->is_shared) {
		if (store_mailbox_open(s->account, c->name, STORE_OPEN_READONLY, out, &err) == 0)
			return 0;
	} else if (imap_box_resolve(s, c->name, &box, &err) == 0 &&
	           store_mailbox_open(box.acct, box.name, STORE_OPEN_READONLY, out, &err) == 0) {
		return 0;
	}
	if (err != STORE_ERR_NOTFOUND && err != STORE_ERR_NORIGHTS)
		log_error("imap", "event=notify-open-failed err=\"%s\"", store_error_str(err));
	return -1;
}

/*
 * The watched set for the list as it is now: every mailbox but the
 * selected one that a group names for a message event, the shared ones
 * included. Handles of boxes still watched are kept (and what the client
 * was told of them); one that cannot be opened now (deleted meanwhile, or
 * without 'r') is left out. -1 with *overflow_out when there would be more
 * than IMAP_NOTIFY_MAX_MAILBOXES.
 */
static int
rebuild_boxes(struct imap_session *s, struct imap_notify *n, const struct store_mailbox_info *list,
              size_t nl, const char *const *subs, size_t n_subs, bool *overflow_out)
{
	struct arena *a = arena_new(4096);
	struct candidate *shared;
	size_t ns = shared_candidates(s, n, a, &shared), want = 0, nn = 0;
	struct candidate *cand = arena_alloc(a, (nl + ns + 1) * sizeof(*cand));

	*overflow_out = false;
	for (size_t i = 0; i < nl; i++)
		cand[i] = (struct candidate){list[i].name, false};
	for (size_t i = 0; i < ns; i++)
		cand[nl + i] = shared[i];
	size_t nc = nl + ns;
	for (size_t i = 0; i < nc; i++)
		if (events_for(n, cand[i].name, subs, n_subs) != 0 &&
		    (s->mbox_name == NULL || strcmp(cand[i].name, s->mbox_name) != 0))
			want++;
	if (want > IMAP_NOTIFY_MAX_MAILBOXES) {
		*overflow_out = true;
		arena_free(&a);
		return -1;
	}
	struct box *next = xcalloc(want + 1, sizeof(*next));
	for (size_t i = 0; i < nc; i++) {
		unsigned ev = events_for(n, cand[i].name, subs, n_subs);
		if (ev == 0 || (s->mbox_name != NULL && strcmp(cand[i].name, s->mbox_name) == 0))
			continue;
		struct box *b = &next[nn];
		b->events = ev;
		for (size_t k = 0; k < n->n_boxes && b->mbox == NULL; k++) {
			if (n->boxes[k].mbox != NULL &&
			    strcmp(n->boxes[k].name, cand[i].name) == 0) {
				b->mbox = n->boxes[k].mbox; /* moved: kept open */
				b->last = n->boxes[k].last;
				n->boxes[k].mbox = NULL;
			}
		}
		if (b->mbox == NULL) {
			if (open_candidate(s, &cand[i], &b->mbox) < 0)
				continue;
			store_mailbox_info_get(b->mbox, &b->last);
			b->last.name = NULL;
			store_mailbox_watch(b->mbox, store_wake, n->box_wake);
		}
		b->name = xstrdup(cand[i].name);
		nn++;
	}
	boxes_free(n);
	n->boxes = next;
	n->n_boxes = nn;
	arena_free(&a);
	return 0;
}

/* " (ITEM n ITEM n)" of a STATUS for box, with the items events need (3.1,
   5.1-5.3), or what changed since the client was told. */
static void
status_line(struct imap_session *s, const char *name, const struct store_mailbox_info *info,
            unsigned want_new, bool uidvalidity, bool modseq, bool unseen, struct buf *out)
{
	size_t start;

	buf_printf(out, "* STATUS %s (", imap_mailbox_wire(s, name));
	start = out->len;
	if (want_new)
		buf_printf(out, "MESSAGES %u ", info->messages);
	if (want_new & IMAP_NOTIFY_NEW)
		buf_printf(out, "UIDNEXT %u ", info->uidnext);
	if (uidvalidity)
		buf_printf(out, "UIDVALIDITY %u ", info->uidvalidity);
	if (unseen)
		buf_printf(out, "UNSEEN %u ", info->unseen);
	if (modseq)
		buf_printf(out, "HIGHESTMODSEQ %llu ", (unsigned long long)info->highestmodseq);
	if (out->len > start)
		out->data[--out->len] = '\0';
	buf_puts(out, ")\r\n");
}

/* STATUS for the boxes whose state moved since the client was told. */
static void
flush_boxes(struct imap_session *s, struct imap_notify *n, struct buf *out)
{
	for (size_t i = 0; i < n->n_boxes; i++) {
		struct box *b = &n->boxes[i];
		struct store_mailbox_info now;
		enum store_error err;
		/* Move the handle's snapshot on: an old one would keep expunged
		   messages' bytes for it (store retain.c). */
		(void)store_mailbox_sync(b->mbox, NULL, NULL, &err);
		store_mailbox_info_get(b->mbox, &now);
		const struct store_mailbox_info *was = &b->last;
		bool uv = now.uidvalidity != was->uidvalidity;
		unsigned counts = 0;
		if ((b->events & IMAP_NOTIFY_NEW) &&
		    (now.uidnext != was->uidnext || now.messages > was->messages))
			counts |= IMAP_NOTIFY_NEW;
		if ((b->events & IMAP_NOTIFY_EXPUNGE) && now.messages < was->messages)
			counts |= IMAP_NOTIFY_EXPUNGE;
		bool flags = (b->events & IMAP_NOTIFY_FLAGS) && !counts &&
		             now.highestmodseq != was->highestmodseq;
		/* FlagChange without CONDSTORE: UNSEEN, when it moved (5.1). */
		bool unseen = flags && !s->condstore && now.unseen != was->unseen;
		bool modseq = (counts && s->condstore) || (flags && s->condstore);
		/* 5.2, 5.3: STATUS (UIDNEXT MESSAGES) for new and expunged. */
		if (counts || uv || (flags && (s->condstore || unseen)))
			status_line(s, b->name, &now, counts ? counts | IMAP_NOTIFY_NEW : 0,
			            uv || (flags && s->condstore), modseq, unseen, out);
		b->last = now;
		b->last.name = NULL;
	}
}

/* 5.4, 5.5: the attributes accurately computed, \Subscribed included. */
static const char *
list_attrs(const struct store_mailbox_info *box, bool subscribed, struct arena *a)
{
	return arena_printf(a, "%s%s", box->has_children ? "\\HasChildren" : "\\HasNoChildren",
	                    subscribed ? " \\Subscribed" : "");
}

/* "* METADATA mailbox entry..." for what other sessions changed (5.6, 5.7;
   RFC 5464 4.4.2: names only), one response per mailbox and change. */
static void
flush_metadata(struct imap_session *s, struct imap_notify *n, const struct store_mailbox_info *list,
               size_t nl, const char *const *subs, size_t n_subs, struct arena *a, struct buf *out)
{
	struct store_metadata_change *ch;
	bool lost;
	size_t k = store_metadata_changes(s->account, &n->meta_seq, a, &ch, &lost);

	for (size_t i = 0; i < k; i++) {
		const char *name = NULL;
		if (ch[i].mailbox_id == 0) {
			if (!n->server_metadata)
				continue;
			name = "";
		} else {
			for (size_t j = 0; j < nl && name == NULL; j++)
				if (list[j].id == ch[i].mailbox_id)
					name = list[j].name;
			if (name == NULL ||
			    events_masked(n, name, subs, n_subs, IMAP_NOTIFY_MAILBOX_METADATA) == 0)
				continue; /* deleted meanwhile, or not asked for */
		}
		buf_printf(out, "* METADATA %s ", imap_mailbox_wire(s, name));
		imap_metadata_entry_append(out, ch[i].name);
		buf_puts(out, "\r\n");
	}
}

/* LIST for what changed in the mailbox list (5.4, 5.5). */
static void
flush_list(struct imap_session *s, struct imap_notify *n, struct buf *out)
{
	struct arena *a = arena_new(4096);
	struct store_mailbox_info *list;
	const char **subs;
	size_t nl, n_subs;
	bool overflow;

	if (read_list(s, a, &list, &nl, &subs, &n_subs) < 0) {
		arena_free(&a);
		return;
	}
	bool names = n->list_events & IMAP_NOTIFY_MAILBOXNAME;
	bool subscriptions = n->list_events & IMAP_NOTIFY_SUBSCRIPTION;
	for (size_t i = 0; i < nl; i++) {
		const struct known *k = known_find(n, list[i].id);
		bool sub = is_subscribed(subs, n_subs, list[i].name);
		const char *wire = imap_mailbox_wire(s, list[i].name);
		if (k == NULL && names) {
			buf_printf(out, "* LIST (%s) \"/\" %s\r\n", list_attrs(&list[i], sub, a),
			           wire);
		} else if (k != NULL && strcmp(k->name, list[i].name) != 0 && names) {
			buf_printf(out, "* LIST (%s) \"/\" %s (\"OLDNAME\" (%s))\r\n",
			           list_attrs(&list[i], sub, a), wire,
			           imap_mailbox_wire(s, k->name));
		} else if (k != NULL && k->subscribed != sub && subscriptions) {
			buf_printf(out, "* LIST (%s) \"/\" %s\r\n", list_attrs(&list[i], sub, a),
			           wire);
		}
	}
	if (names) {
		for (size_t i = 0; i < n->n_known; i++) {
			bool still = false;
			for (size_t j = 0; j < nl && !still; j++)
				still = list[j].id == n->known[i].id;
			if (!still)
				buf_printf(out, "* LIST (\\NonExistent) \"/\" %s\r\n",
				           imap_mailbox_wire(s, n->known[i].name));
		}
	}
	flush_metadata(s, n, list, nl, subs, n_subs, a, out);
	known_set(n, list, nl, subs, n_subs);
	/* New mailboxes may be watched now, deleted ones no more. */
	if (rebuild_boxes(s, n, list, nl, subs, n_subs, &overflow) < 0 && overflow) {
		buf_puts(out, "* OK [NOTIFICATIONOVERFLOW] Too many mailboxes to watch\r\n");
		arena_free(&a);
		imap_notify_free(s); /* 5.8: as if NOTIFY NONE */
		return;
	}
	arena_free(&a);
}

void
imap_notify_flush(struct imap_session *s)
{
	struct imap_notify *n = s->notify;
	struct buf out;

	if (n == NULL || (!n->boxes_dirty && !n->list_dirty))
		return;
	buf_init(&out);
	bool boxes = n->boxes_dirty, list = n->list_dirty;
	n->boxes_dirty = n->list_dirty = false;
	if (boxes)
		flush_boxes(s, n, &out);
	if (list)
		flush_list(s, n, &out); /* may end NOTIFY (overflow): n is gone */
	if (out.len > 0)
		imap_session_write(s, out.data, out.len);
	buf_deinit(&out);
	/* SELECTED: the selected mailbox's changes at once, too. */
	if (imap_notify_pushes_selected(s) && s->mbox != NULL && !s->base.is_busy)
		imap_mailbox_sync(s, true);
}

void
imap_notify_selected_changed(struct imap_session *s)
{
	struct imap_notify *n = s->notify;
	struct arena *a;
	struct store_mailbox_info *list;
	const char **subs;
	size_t nl, n_subs;
	bool overflow;

	if (n == NULL)
		return;
	a = arena_new(4096);
	if (read_list(s, a, &list, &nl, &subs, &n_subs) == 0)
		(void)rebuild_boxes(s, n, list, nl, subs, n_subs, &overflow);
	arena_free(&a);
}

void
imap_notify_own_list_change(struct imap_session *s)
{
	struct imap_notify *n = s->notify;
	struct arena *a;
	struct store_mailbox_info *list;
	const char **subs;
	size_t nl, n_subs;
	bool overflow;

	if (n == NULL)
		return;
	a = arena_new(4096);
	if (read_list(s, a, &list, &nl, &subs, &n_subs) == 0) {
		known_set(n, list, nl, subs, n_subs);
		(void)rebuild_boxes(s, n, list, nl, subs, n_subs, &overflow);
	}
	arena_free(&a);
}

int
imap_notify_set(struct imap_cmd *cmd, const struct imap_notify_spec *spec, bool *overflow_out)
{
	struct imap_session *s = cmd->session;
	struct store_mailbox_info *list;
	const char **subs;
	size_t nl, n_subs;

	*overflow_out = false;
	if (spec == NULL) {
		imap_notify_free(s);
		return 0;
	}
	if (read_list(s, cmd->arena, &list, &nl, &subs, &n_subs) < 0)
		return -1;
	struct imap_notify *n = xcalloc(1, sizeof(*n));
	n->arena = arena_new(1024);
	n->has_selected = spec->has_selected;
	n->selected_delayed = spec->selected_delayed;
	n->selected_events = spec->selected_events;
	n->new_atts = arena_alloc(n->arena, (spec->n_new_atts + 1) * sizeof(char *));
	for (size_t i = 0; i < spec->n_new_atts; i++)
		n->new_atts[i] = arena_strdup(n->arena, spec->new_atts[i]);
	n->n_new_atts = spec->n_new_atts;
	n->groups = arena_alloc(n->arena, (spec->n_groups + 1) * sizeof(*n->groups));
	for (size_t g = 0; g < spec->n_groups; g++) {
		struct imap_notify_group *gr = &n->groups[g];
		*gr = spec->groups[g];
		gr->names = arena_alloc(n->arena, (gr->n_names + 1) * sizeof(char *));
		for (size_t k = 0; k < gr->n_names; k++)
			gr->names[k] = arena_strdup(n->arena, spec->groups[g].names[k]);
		n->list_events |= gr->events & (IMAP_NOTIFY_MAILBOXNAME | IMAP_NOTIFY_SUBSCRIPTION);
		n->server_metadata |= (gr->events & IMAP_NOTIFY_SERVER_METADATA) != 0;
	}
	n->meta_seq = store_metadata_seq(s->account);
	n->n_groups = spec->n_groups;
	n->box_wake = session_event_new(&s->base, box_wake_cb);
	n->list_wake = session_event_new(&s->base, list_wake_cb);
	if (rebuild_boxes(s, n, list, nl, subs, n_subs, overflow_out) < 0) {
		session_event_free(&n->box_wake);
		session_event_free(&n->list_wake);
		arena_free(&n->arena);
		free(n);
		return -1;
	}
	known_set(n, list, nl, subs, n_subs);
	imap_notify_free(s);
	s->notify = n;
	/* Any list change may change what is watched; MailboxName and
	   SubscriptionChange report them. */
	store_account_watch(s->account, store_wake, n->list_wake);
	if (spec->status) {
		struct buf out;
		buf_init(&out);
		for (size_t i = 0; i < n->n_boxes; i++) {
			const struct box *b = &n->boxes[i];
			/* 3.1: MessageNew: MESSAGES UIDNEXT UIDVALIDITY;
			   MessageExpunge: MESSAGES; FlagChange (with CONDSTORE
			   here): UIDVALIDITY HIGHESTMODSEQ. */
			bool flags = b->events & IMAP_NOTIFY_FLAGS;
			status_line(s, b->name, &b->last,
			            b->events & (IMAP_NOTIFY_NEW | IMAP_NOTIFY_EXPUNGE),
			            (b->events & IMAP_NOTIFY_NEW) || flags, flags, false, &out);
		}
		if (out.len > 0)
			imap_session_write(s, out.data, out.len);
		buf_deinit(&out);
	}
	return 0;
}

/* ---- MessageNew's FETCH attributes (selected mailbox) ---- */

static void
collect(void *ctx, const void *data, size_t len)
{
	buf_append(ctx, data, len);
}

/* One "* n FETCH (...)" for uid with req's items, in memory: the new
   messages of a push are few. Items that would set \Seen are read as
   .PEEK (RFC 5465 5.2: the client should not ask for them). */
static void
fetch_one(struct imap_session *s, const struct imap_fetch_request *req, struct arena *a,
          uint32_t uid, struct buf *out)
{
	struct store_message_info info;
	uint32_t flags;
	uint64_t kw, modseq;
	enum store_error err;

	if (store_message_lookup(s->mbox, &uid, 1, req->store_fields | STORE_FETCH_PARTS, a, &info,
	                         &err) < 0 ||
	    info.uid == 0 || store_mailbox_flags_get(s->mbox, uid, &flags, &kw, &modseq, &err) < 0)
		return;
	buf_printf(out, "* %u FETCH (", store_mailbox_seq(s->mbox, uid));
	for (size_t i = 0; i < req->n; i++) {
		const struct imap_fetch_item *it = &req->items[i];
		struct buf data;
		bool unknown;
		if (i > 0)
			buf_putc(out, ' ');
		switch (it->kind) {
		case IMAP_FETCH_FLAGS:
			buf_printf(out, "FLAGS (%s)",
			           imap_flags_format(s, flags, kw,
			                             store_mailbox_is_recent(s->mbox, uid)));
			break;
		case IMAP_FETCH_UID:
			buf_printf(out, "UID %u", uid);
			break;
		case IMAP_FETCH_MODSEQ:
			buf_printf(out, "MODSEQ (%llu)", (unsigned long long)modseq);
			break;
		case IMAP_FETCH_INTERNALDATE:
			buf_printf(out, "INTERNALDATE \"%s\"",
			           imap_date_time_format(a, info.internal_date));
			break;
		case IMAP_FETCH_RFC822_SIZE:
			buf_printf(out, "RFC822.SIZE %llu", (unsigned long long)info.size);
			break;
		case IMAP_FETCH_ENVELOPE:
			buf_printf(out, "ENVELOPE %s", info.envelope ? info.envelope : "NIL");
			break;
		case IMAP_FETCH_BODY:
			buf_printf(out, "BODY %s", info.body ? info.body : "NIL");
			break;
		case IMAP_FETCH_BODYSTRUCTURE:
			buf_printf(out, "BODYSTRUCTURE %s",
			           info.bodystructure ? info.bodystructure : "NIL");
			break;
		case IMAP_FETCH_EMAILID:
			buf_printf(out, "EMAILID (%s)", info.email_id);
			break;
		case IMAP_FETCH_PREVIEW: {
			/* New messages have theirs; RFC 8970 3.2: NIL only for LAZY. */
			const char *preview = info.preview;
			if (preview == NULL && !it->is_lazy &&
			    store_message_preview_make(s->mbox, &info, a, &preview, &err) < 0)
				preview = "";
			buf_puts(out, "PREVIEW ");
			if (preview == NULL)
				buf_puts(out, "NIL");
			else
				(void)mail_imap_string_append(out, preview, strlen(preview),
				                              s->utf8_names ? MAIL_IMAP_STRING_UTF8
				                                            : 0);
			break;
		}
		case IMAP_FETCH_THREADID:
			buf_printf(out, "THREADID (%s)", info.thread_id);
			break;
		case IMAP_FETCH_SAVEDATE:
			buf_printf(out, "SAVEDATE \"%s\"",
			           imap_date_time_format(a, info.save_date));
			break;
		case IMAP_FETCH_SECTION:
		case IMAP_FETCH_BINARY:
		case IMAP_FETCH_BINARY_SIZE:
			buf_init(&data);
			int rc = imap_section_copy(s->mbox, &info, it,
			                           it->kind != IMAP_FETCH_SECTION, collect, &data,
			                           &unknown, &err);
			if (it->kind == IMAP_FETCH_BINARY_SIZE) {
				buf_printf(out, "%s %zu", it->name, rc == 0 ? data.len : 0);
			} else if (rc != 0) {
				buf_printf(out, "%s NIL", it->name);
			} else {
				bool nul =
				        memchr(data.data ? data.data : "", '\0', data.len) != NULL;
				buf_printf(out, "%s", it->name);
				if (it->has_partial)
					buf_printf(out, "<%llu>",
					           (unsigned long long)it->partial_offset);
				buf_printf(out, " %s{%zu}\r\n",
				           nul && it->kind == IMAP_FETCH_BINARY ? "~" : "",
				           data.len);
				buf_append(out, data.data, data.len);
			}
			buf_deinit(&data);
			break;
		case IMAP_FETCH_ANNOTATION: {
			struct store_annotation *v = NULL;
			size_t nv = 0;
			if (store_annotation_get(s->mbox, uid, s->user.address, a, &v, &nv, &err) <
			    0)
				nv = 0; /* a new message has none yet anyway */
			imap_annotate_fetch_append(a, out, it->annotate, v, nv);
			break;
		}
		}
	}
	buf_puts(out, ")\r\n");
}

void
imap_notify_new_messages(struct imap_session *s, const uint32_t *uids, size_t n, struct buf *out)
{
	struct imap_notify *nt = s->notify;

	if (nt == NULL || !nt->has_selected || nt->n_new_atts == 0 ||
	    !(nt->selected_events & IMAP_NOTIFY_NEW) || n == 0)
		return;
	struct arena *a = arena_new(4096);
	struct imap_arg *items = arena_zalloc(a, nt->n_new_atts * sizeof(*items));
	for (size_t i = 0; i < nt->n_new_atts; i++)
		items[i] = (struct imap_arg){.type = IMAP_ARG_ATOM,
		                             .str = nt->new_atts[i],
		                             .len = strlen(nt->new_atts[i])};
	struct imap_arg list = {.type = IMAP_ARG_LIST, .list = items, .count = nt->n_new_atts};
	struct imap_fetch_request req;
	const char *error;
	if (imap_fetch_request_parse(a, &list, &req, &error))
		for (size_t i = 0; i < n; i++)
			fetch_one(s, &req, a, uids[i], out);
	arena_free(&a);
}
