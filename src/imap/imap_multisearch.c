/* SPDX-License-Identifier: MIT */
/*
 * imap_multisearch.c: the ESEARCH command of MULTISEARCH (RFC 7377) at
 * work. cmd_esearch.c checks the arguments; this file finds the mailboxes
 * the source options name and searches them one after another.
 *
 * Which mailboxes (section 2.2): "selected" is the session's selection;
 * "personal" every mailbox outside the "Other Users/" and "Shared/"
 * namespaces; "inboxes" INBOX, the one mailbox tern delivers to (as NOTIFY
 * reads it, imap_notify.h); "subscribed" the existing mailboxes of the
 * user's subscriptions; "subtree" and "subtree-one" the named mailboxes and
 * those below them (any depth, one level) in every namespace; "mailboxes"
 * the names as given. A mailbox named twice is searched once. Names that do
 * not exist are skipped like those the user may not read: section 2.2 has
 * mailboxes without the rights ignored, and telling the two apart would
 * tell a user which mailboxes exist that they cannot see (RFC 4314 section
 * 6). A mailbox needs 'r', and 'l' as well when the source did not name it
 * (section 2.2). The mailbox tree is the store's list, so there is no loop
 * to defend against.
 *
 * Answers (section 2.1): per mailbox with a match, "* ESEARCH (TAG "t"
 * MAILBOX "m" UIDVALIDITY n) UID" and the result options (ALL when none
 * were asked for), in UIDs whatever the source; none for a mailbox without
 * matches, even with COUNT.
 *
 * Off the loop: a big account must not hold its worker, so the work goes
 * to the query pool in trips (session_command_offload, as SEARCH does with
 * IMAP_CMD_OFF_LOOP): the first trip lists the mailboxes, each trip then
 * searches mailboxes until one has a response (or TRIP_MAILBOXES have
 * none), and the worker sends what the trip gathered as soon as it is
 * back, so responses stream mailbox by mailbox, and a client that does
 * not read stops the trips (imap_cmd_resume_on_drain) instead of growing
 * the output queue. While a trip runs the pool thread owns the session,
 * so the selected mailbox is searched through the session's own handle (its
 * snapshot and "$"), other mailboxes through read-only handles opened and
 * closed in the trip. Each mailbox's search has its own arena; the session's
 * cancel flag stops the search between and inside mailboxes. A text key
 * (BODY, TEXT, HEADER) is answered once for the whole account and shared
 * among its mailboxes (text_lookup), as each per-mailbox query would run
 * the phrase over the account's whole index.
 */
#include "imap/imap_multisearch.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imap/imap_esearch.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_namespace.h"
#include "imap/imap_search_cmd.h"
#include "imap/search.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "net/net.h"
#include "session/session.h"
#include "store/store.h"

/* Mailboxes searched in one trip when none has matches: enough that an
   account of empty folders costs few trips, few enough that a trip stays
   short. */
#define TRIP_MAILBOXES 32

struct target {
	const char *name; /* the client's full name, UTF-8 */
	bool is_explicit; /* named by the source: 'r' is enough (section 2.2) */
};

/* One text key's account-wide answer (store_search_text_account). */
struct text_hits {
	uint64_t account_id;
	enum store_text_field field;
	const char *needle;
	bool is_offered; /* false: the store searches mailbox by mailbox */
	struct store_text_hit *hits;
	size_t n;
};

struct multisearch {
	struct imap_esearch_source src;
	struct imap_search_program prog;
	struct target *targets;
	size_t n_targets, cap_targets, next;
	bool is_listed;
	bool is_failed, is_cancelled;
	enum store_error err;
	/* The text keys' answers so far, in texts_arena (the command's
	   lifetime, freed by on_free: account-wide hits can be many). */
	struct arena *texts_arena;
	struct text_hits *texts;
	size_t n_texts;
};

static void
target_add(struct arena *a, struct multisearch *m, const char *name, bool is_explicit)
{
	if (m->n_targets == m->cap_targets) {
		size_t cap = m->cap_targets ? m->cap_targets * 2 : 16;
		struct target *bigger = arena_alloc(a, cap * sizeof(*bigger));
		if (m->n_targets > 0)
			memcpy(bigger, m->targets, m->n_targets * sizeof(*bigger));
		m->targets = bigger;
		m->cap_targets = cap;
	}
	m->targets[m->n_targets++] = (struct target){name, is_explicit};
}

static bool
is_personal(const char *name)
{
	static const char other[] = IMAP_NS_OTHER "/", shared[] = IMAP_NS_SHARED "/";

	return strncmp(name, other, sizeof(other) - 1) != 0 &&
	       strncmp(name, shared, sizeof(shared) - 1) != 0;
}

static int
str_cmp(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Whether the listed mailbox name matches filter f. */
static bool
filter_matches(const struct imap_esearch_filter *f, const char *name, const char *const *subs,
               size_t n_subs)
{
	switch (f->kind) {
	case IMAP_ESEARCH_INBOXES:
		return strcmp(name, "INBOX") == 0;
	case IMAP_ESEARCH_PERSONAL:
		return is_personal(name);
	case IMAP_ESEARCH_SUBSCRIBED:
		return bsearch(&name, subs, n_subs, sizeof(*subs), str_cmp) != NULL;
	case IMAP_ESEARCH_SUBTREE:
	case IMAP_ESEARCH_SUBTREE_ONE:
		for (size_t k = 0; k < f->n_names; k++)
			if (imap_esearch_in_subtree(name, f->names[k],
			                            f->kind == IMAP_ESEARCH_SUBTREE_ONE))
				return true;
		return false;
	case IMAP_ESEARCH_SELECTED:
	case IMAP_ESEARCH_MAILBOXES:
		break;
	}
	return false;
}

struct ranked {
	const char *name;
	size_t pos;
};

static int
ranked_cmp(const void *x, const void *y)
{
	const struct ranked *a = x, *b = y;
	int c = strcmp(a->name, b->name);

	return c != 0 ? c : (a->pos > b->pos) - (a->pos < b->pos);
}

/* Keeps the first of each name, in order; explicit if any copy was. */
static void
targets_dedupe(struct multisearch *m)
{
	struct ranked *r = xcalloc(m->n_targets + 1, sizeof(*r));
	bool *drop = xcalloc(m->n_targets + 1, sizeof(*drop));
	size_t k = 0;

	for (size_t i = 0; i < m->n_targets; i++)
		r[i] = (struct ranked){m->targets[i].name, i};
	qsort(r, m->n_targets, sizeof(*r), ranked_cmp);
	for (size_t i = 1; i < m->n_targets; i++) {
		if (strcmp(r[i].name, r[i - 1].name) != 0)
			continue;
		/* r[i - 1].pos is the group's first (sorted by name, then pos). */
		size_t dup = r[i].pos, first = r[i - 1].pos;
		drop[dup] = true;
		m->targets[first].is_explicit |= m->targets[dup].is_explicit;
		r[i].pos = first;
	}
	for (size_t i = 0; i < m->n_targets; i++) {
		if (drop[i])
			continue;
		m->targets[k++] = m->targets[i];
	}
	m->n_targets = k;
	free(drop);
	free(r);
}

/* The mailboxes of the source, in the order the filters give them. */
static int
targets_list(struct imap_session *s, struct multisearch *m, enum store_error *err_out)
{
	struct imap_ns_mailbox *list = NULL;
	size_t n_list = 0, n_subs = 0;
	const char **subs = NULL;
	bool needs_list = false, needs_subs = false;

	for (size_t i = 0; i < m->src.n_filters; i++) {
		enum imap_esearch_filter_kind k = m->src.filters[i].kind;
		needs_list |= k != IMAP_ESEARCH_SELECTED && k != IMAP_ESEARCH_MAILBOXES;
		needs_subs |= k == IMAP_ESEARCH_SUBSCRIBED;
	}
	if (needs_list && imap_namespace_list(s, &list, &n_list, err_out) < 0)
		return -1;
	if (needs_subs) {
		if (store_subscription_list(s->account, s->cmd_arena, &subs, &n_subs, err_out) < 0)
			return -1;
		qsort(subs, n_subs, sizeof(*subs), str_cmp);
	}
	for (size_t i = 0; i < m->src.n_filters; i++) {
		const struct imap_esearch_filter *f = &m->src.filters[i];
		if (f->kind == IMAP_ESEARCH_SELECTED) {
			if (s->mbox_name != NULL)
				target_add(s->cmd_arena, m, s->mbox_name, true);
			continue;
		}
		if (f->kind == IMAP_ESEARCH_MAILBOXES) {
			for (size_t k = 0; k < f->n_names; k++)
				target_add(s->cmd_arena, m, f->names[k], true);
			continue;
		}
		for (size_t k = 0; k < n_list; k++)
			if (filter_matches(f, list[k].name, subs, n_subs))
				target_add(s->cmd_arena, m, list[k].name, false);
	}
	targets_dedupe(m);
	return 0;
}

/*
 * The search input's text_lookup (search.h): a text key is answered for
 * the whole account once, on its first mailbox, and each mailbox takes its
 * own hits from that, so 50 folders cost one index query instead of 50
 * that each run the phrase over the whole account. The answer is as of the
 * first mailbox's search, within this one command.
 */
static int
text_lookup(void *ctx, const struct imap_search_input *in, enum store_text_field field,
            const char *needle, struct arena *a, uint32_t **uids_out, size_t *n_out,
            enum store_error *err_out)
{
	struct multisearch *m = ctx;
	uint64_t account_id = store_account_id(in->acct);
	struct text_hits *t = NULL;

	for (size_t i = 0; i < m->n_texts && t == NULL; i++)
		if (m->texts[i].account_id == account_id && m->texts[i].field == field &&
		    strcmp(m->texts[i].needle, needle) == 0)
			t = &m->texts[i];
	if (t == NULL) {
		/* Keys in a program are few: one more entry each. */
		struct text_hits *bigger =
		        arena_alloc(m->texts_arena, (m->n_texts + 1) * sizeof(*bigger));
		if (m->n_texts > 0)
			memcpy(bigger, m->texts, m->n_texts * sizeof(*bigger));
		m->texts = bigger;
		t = &m->texts[m->n_texts];
		*t = (struct text_hits){.account_id = account_id,
		                        .field = field,
		                        .needle = arena_strdup(m->texts_arena, needle)};
		int rc = store_search_text_account(in->acct, field, needle, in->collation,
		                                   m->texts_arena, &t->hits, &t->n, err_out);
		if (rc < 0)
			return -1;
		t->is_offered = rc == 0;
		m->n_texts++;
	}
	if (!t->is_offered)
		return store_search_text(in->mbox, field, needle, in->collation, a, uids_out, n_out,
		                         err_out);

	/* The mailbox's run of hits (sorted by mailbox, then uid). */
	struct store_mailbox_info info;
	store_mailbox_info_get(in->mbox, &info);
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->hits[mid].mailbox_id < info.id)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t end = lo;
	while (end < t->n && t->hits[end].mailbox_id == info.id)
		end++;
	uint32_t *uids = arena_alloc(a, (end - lo + 1) * sizeof(*uids));
	for (size_t i = lo; i < end; i++)
		uids[i - lo] = t->hits[i].uid;
	*uids_out = uids;
	*n_out = end - lo;
	return 0;
}

/* Searches one mailbox; its response (if any) goes to the session's output.
   -1 with *err_out when the store failed (not for a mailbox to skip). */
static int
search_one(struct imap_session *s, struct multisearch *m, const struct target *t,
           enum store_error *err_out)
{
	bool is_selected =
	        s->mbox != NULL && s->mbox_name != NULL && strcmp(t->name, s->mbox_name) == 0;
	struct store_mailbox *mb = is_selected ? s->mbox : NULL;
	struct store_account *acct = is_selected ? imap_mailbox_account(s) : NULL;
	enum store_error err;
	int rc = 0;

	if (!is_selected) {
		struct imap_box box;
		if (imap_box_resolve(s, t->name, &box, &err) < 0 ||
		    store_mailbox_open(box.acct, box.name,
		                       STORE_OPEN_READONLY | STORE_OPEN_NO_RETAINED, &mb,
		                       &err) < 0) {
			/* Gone, never there, or not ours to see: skipped. */
			if (err == STORE_ERR_NOTFOUND || err == STORE_ERR_NORIGHTS ||
			    err == STORE_ERR_BADNAME)
				return 0;
			*err_out = err;
			return -1;
		}
		acct = box.acct;
	}
	/* RFC 7377 2.2: 'r' for every mailbox, 'l' for those not named. */
	unsigned need = STORE_RIGHT_READ | (t->is_explicit ? 0 : STORE_RIGHT_LOOKUP);
	if ((store_mailbox_my_rights(mb) & need) != need)
		goto out;

	struct imap_search_input in;
	imap_search_input_init(&in, s);
	in.mbox = mb;
	in.acct = acct; /* the keywords are the owner's */
	if (!is_selected) {
		in.saved = NULL; /* "$" is the selected mailbox's (cmd_esearch.c) */
		in.n_saved = 0;
	}
	if (m->n_targets > 1) {
		in.text_lookup = text_lookup;
		in.text_ctx = m;
	}
	struct arena *a = arena_new(4096);
	uint32_t *uids;
	size_t n;
	if (imap_search_eval(&in, m->prog.root, a, &uids, &n, err_out) < 0) {
		/* RFC 5182 2.1: a failed search with SAVE empties "$". */
		if (m->prog.ret & IMAP_SEARCH_RET_SAVE)
			imap_search_save(s, NULL, 0);
		rc = -1;
	} else {
		unsigned ret = m->prog.ret;
		if (ret & IMAP_SEARCH_RET_SAVE)
			imap_search_save_for_options(s, &m->prog, ret, uids, n);
		/* SAVE alone: no response (RFC 9051 6.4.4); no match: none
		   either, whatever the options (RFC 7377 2.1). */
		if (n > 0 && ret != IMAP_SEARCH_RET_SAVE) {
			struct store_mailbox_info info;
			struct buf b;
			store_mailbox_info_get(mb, &info);
			buf_init(&b);
			buf_printf(&b, "ESEARCH (TAG %s MAILBOX %s UIDVALIDITY %u) UID",
			           imap_quote(a, s->cmd.tag), imap_mailbox_wire(s, t->name),
			           info.uidvalidity);
			imap_esearch_append_result(&b, a, mb, &m->prog, uids, uids, n);
			imap_reply_untagged(s, "%s", b.data);
			buf_deinit(&b);
		}
	}
	arena_free(&a);
out:
	if (!is_selected)
		store_mailbox_close(&mb);
	return rc;
}

/* One trip: the list first, then mailboxes until one answered. */
static void
trip_work(struct session *base)
{
	struct imap_session *s = (struct imap_session *)base;
	struct multisearch *m = s->cmd.data;
	size_t searched = 0;

	if (!m->is_listed) {
		m->is_listed = true;
		if (targets_list(s, m, &m->err) < 0) {
			m->is_failed = true;
			return;
		}
	}
	while (m->next < m->n_targets && searched < TRIP_MAILBOXES) {
		size_t before = s->held.len;
		if (session_is_cancelled(base)) {
			m->is_cancelled = true;
			return;
		}
		if (search_one(s, m, &m->targets[m->next++], &m->err) < 0) {
			m->is_failed = true;
			return;
		}
		searched++;
		if (s->held.len > before)
			break; /* a response: let it go out now */
	}
}

static void trip_done(struct session *base);

static void
trip_start(struct imap_session *s)
{
	buf_reset(&s->held);
	s->is_holding = true;
	session_command_offload(&s->base, s->srv->query_pool, trip_work, trip_done);
}

static bool
is_finished(const struct multisearch *m)
{
	return m->is_failed || m->is_cancelled || (m->is_listed && m->next == m->n_targets);
}

static void
reply_final(struct imap_cmd *cmd, const struct multisearch *m)
{
	if (m->is_failed)
		imap_reply_store_error(cmd, m->err);
	else if (m->is_cancelled)
		imap_reply_no(cmd, "[UNAVAILABLE] ESEARCH cancelled");
	else
		imap_reply_ok(cmd, "%s completed", cmd->name);
}

static enum imap_cmd_status
trip_resume(struct imap_cmd *cmd)
{
	trip_start(cmd->session);
	return IMAP_CMD_WAIT;
}

/* Back on the worker: what the trip found goes out, then the next trip. */
static void
trip_done(struct session *base)
{
	struct imap_session *s = (struct imap_session *)base;
	struct imap_cmd *cmd = &s->cmd;
	struct multisearch *m = cmd->data;
	size_t len = s->held.len;

	s->is_holding = false;
	if (len > 0)
		net_conn_write_take(s->base.conn, buf_steal(&s->held), len);
	if (!is_finished(m)) {
		if (net_conn_output_full(s->base.conn))
			imap_cmd_resume_on_drain(cmd, trip_resume);
		else
			trip_start(s);
		return;
	}
	reply_final(cmd, m);
	imap_cmd_finish(cmd);
}

static void
multisearch_release(struct imap_cmd *cmd)
{
	struct multisearch *m = cmd->data;

	arena_free(&m->texts_arena);
}

enum imap_cmd_status
imap_multisearch_run(struct imap_cmd *cmd, const struct imap_esearch_source *src,
                     const struct imap_search_program *prog)
{
	struct imap_session *s = cmd->session;
	struct multisearch *m = arena_zalloc(cmd->arena, sizeof(*m));

	m->src = *src;
	m->prog = *prog;
	m->texts_arena = arena_new(16 * 1024);
	cmd->data = m;
	cmd->on_free = multisearch_release;
	if (s->srv->query_pool != NULL) {
		trip_start(s);
		return IMAP_CMD_WAIT;
	}
	/* No pool (server.query_workers = 0): all of it here, as SEARCH does. */
	while (!is_finished(m))
		trip_work(&s->base);
	reply_final(cmd, m);
	return IMAP_CMD_DONE;
}
