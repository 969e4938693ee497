/* SPDX-License-Identifier: MIT */
/*
 * imap_mailbox.c: mailbox names, store errors, the selected mailbox and the
 * updates other sessions cause.
 *
 * Updates (RFC 9051 section 5.2, 7.5.1): store_mailbox_sync() reports changes
 * under the store's view lock, so they are collected first and written after
 * (keyword names need the store). They are sent before a command's tagged
 * reply (reply.c calls imap_mailbox_sync) and at once while IDLE; never for
 * FETCH, STORE or SEARCH by sequence number, whose sequence numbers must not
 * move under the client.
 */
#include "imap/imap_mailbox.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "imap/imap_context.h"
#include "imap/imap_flags.h"
#include "imap/imap_notify.h"
#include "imap/mutf7.h"
#include "imap/seqset.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "lib/buf.h"
#include "lib/log.h"

bool
imap_mailbox_arg(struct imap_cmd *cmd, size_t i, const char **name_out)
{
	struct imap_session *s = cmd->session;
	const char *raw;

	if (!imap_args_astring(cmd, i, &raw)) {
		imap_reply_bad(cmd, "Expected a mailbox name");
		return false;
	}
	const char *name = raw;
	if (!s->utf8_names) {
		/* RFC 3501 5.1.3; 8-bit names are allowed only after ENABLE. */
		name = imap_mutf7_decode(cmd->arena, raw);
		if (name == NULL) {
			imap_reply_no(cmd, "[CANNOT] Mailbox name is not valid modified UTF-7");
			return false;
		}
	} else if (!imap_utf8_is_valid(raw)) {
		imap_reply_bad(cmd, "Mailbox name is not valid UTF-8");
		return false;
	}
	if (strcasecmp(name, "INBOX") == 0)
		name = "INBOX";
	else if (strncasecmp(name, "INBOX/", 6) == 0)
		name = arena_printf(cmd->arena, "INBOX/%s", name + 6);
	*name_out = name;
	return true;
}

const char *
imap_mailbox_encode(struct imap_session *s, const char *name)
{
	if (s->utf8_names)
		return name;
	const char *enc = imap_mutf7_encode(s->cmd_arena, name);
	return enc != NULL ? enc : name;
}

const char *
imap_mailbox_wire(struct imap_session *s, const char *name)
{
	return imap_quote_utf8(s->cmd_arena, imap_mailbox_encode(s, name), s->utf8_names);
}

bool
imap_mailbox_resolve_set(struct imap_cmd *cmd, const struct imap_seqset *set, uint32_t **uids_out,
                         size_t *n_out)
{
	struct imap_session *s = cmd->session;
	uint32_t count;
	const uint32_t *all = store_mailbox_uids(s->mbox, &count);

	if (set->is_saved) {
		*n_out = s->n_saved;
		*uids_out = s->n_saved > 0 ? arena_memdup(cmd->arena, s->saved_uids,
		                                          s->n_saved * sizeof(uint32_t))
		                           : NULL;
		return true;
	}
	if (!imap_seqset_resolve(set, cmd->is_uid, all, count, cmd->arena, uids_out, n_out)) {
		imap_reply_bad(cmd, "Invalid message sequence number");
		return false;
	}
	return true;
}

void
imap_reply_store_error(struct imap_cmd *cmd, enum store_error err)
{
	struct imap_session *s = cmd->session;

	switch (err) {
	case STORE_ERR_NONE:
	case STORE_ERR_TEMP:
		if (session_is_cancelled(&s->base))
			/* Its connection went or the server stops: SQLite was
			   interrupted (store/db.c), nobody reads this reply. */
			log_info("imap", "event=cancelled cmd=%s", cmd->name);
		else
			log_error("imap", "event=store-error cmd=%s err=\"%s\"", cmd->name,
			          store_error_str(err));
		imap_reply_no(cmd, "[UNAVAILABLE] Temporary failure, try again (sid %s)",
		              s->base.log.sid);
		return;
	case STORE_ERR_NOTFOUND:
		imap_reply_no(cmd, "[NONEXISTENT] No such mailbox");
		return;
	case STORE_ERR_EXISTS:
		imap_reply_no(cmd, "[ALREADYEXISTS] Mailbox already exists");
		return;
	case STORE_ERR_PERM:
		imap_reply_no(cmd, "[CANNOT] Operation not permitted");
		return;
	case STORE_ERR_BADNAME:
		imap_reply_no(cmd, "[CANNOT] Invalid mailbox name");
		return;
	case STORE_ERR_HASCHILDREN:
		imap_reply_no(cmd, "[HASCHILDREN] Mailbox has children; delete them first");
		return;
	case STORE_ERR_QUOTA:
		imap_reply_no(cmd, "[OVERQUOTA] Quota exceeded");
		return;
	case STORE_ERR_TOOBIG:
		imap_reply_no(cmd, "[TOOBIG] Message too large");
		return;
	case STORE_ERR_LIMIT:
		imap_reply_no(cmd, "[LIMIT] Over a server limit (keywords, names or memory)");
		return;
	case STORE_ERR_INUSE:
		imap_reply_no(cmd, "[INUSE] Mailbox in use, try again");
		return;
	case STORE_ERR_EXPUNGED:
		imap_reply_no(cmd, "[EXPUNGEISSUED] Some messages were expunged");
		return;
	case STORE_ERR_NORIGHTS:
		imap_reply_no(cmd, "[NOPERM] Not allowed by the mailbox's ACL");
		return;
	case STORE_ERR_CORRUPT:
		log_error("imap", "event=store-corrupt cmd=%s", cmd->name);
		imap_reply_no(cmd, "[SERVERBUG] Internal error (sid %s)", s->base.log.sid);
		return;
	}
}

void
imap_flags_append(struct imap_session *s, struct arena *a, struct buf *b, uint32_t flags,
                  uint64_t keywords, bool recent)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
	        {STORE_FLAG_ANSWERED, "\\Answered"}, {STORE_FLAG_FLAGGED, "\\Flagged"},
	        {STORE_FLAG_DELETED, "\\Deleted"},   {STORE_FLAG_SEEN, "\\Seen"},
	        {STORE_FLAG_DRAFT, "\\Draft"},
	};
	size_t start = b->len;

	/* FETCH 1:* calls this for every message: no printf. */
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		if (flags & names[i].bit) {
			if (b->len > start)
				buf_putc(b, ' ');
			buf_puts(b, names[i].name);
		}
	}
	if (recent && !s->is_rev2) {
		if (b->len > start)
			buf_putc(b, ' ');
		buf_puts(b, "\\Recent");
	}
	if (keywords != 0 && s->account != NULL) {
		const char **kw;
		size_t n = store_keyword_names(imap_mailbox_account(s), keywords, a, &kw);
		for (size_t i = 0; i < n; i++) {
			if (b->len > start)
				buf_putc(b, ' ');
			buf_puts(b, kw[i]);
		}
	}
}

const char *
imap_flags_format(struct imap_session *s, uint32_t flags, uint64_t keywords, bool recent)
{
	struct buf b;

	buf_init(&b);
	imap_flags_append(s, s->cmd_arena, &b, flags, keywords, recent);
	const char *out = arena_strdup(s->cmd_arena, b.data ? b.data : "");
	buf_deinit(&b);
	return out;
}

/* PERMANENTFLAGS for a user with only some of 's', 'w', 't': the flags
   those rights allow, keywords and \\* with 'w'. */
static void
permanent_flags_partial(struct buf *out, unsigned r, const char *keywords)
{
	struct buf f;

	buf_init(&f);
	if (r & STORE_RIGHT_WRITE)
		buf_puts(&f, " \\Answered \\Flagged \\Draft");
	if (r & STORE_RIGHT_DELMSG)
		buf_puts(&f, " \\Deleted");
	if (r & STORE_RIGHT_SEEN)
		buf_puts(&f, " \\Seen");
	if (r & STORE_RIGHT_WRITE)
		buf_printf(&f, "%s \\*", keywords);
	buf_printf(out, "* OK [PERMANENTFLAGS (%s)] Flags permitted\r\n",
	           f.data != NULL ? f.data + 1 : "");
	buf_deinit(&f);
}

void
imap_mailbox_flags_lines(struct imap_session *s, struct buf *out, bool again_readonly)
{
	const char **kw;
	size_t n = store_keyword_names(imap_mailbox_account(s), ~0ull, s->cmd_arena, &kw);
	struct buf names;

	buf_init(&names);
	/* The registered keywords first, always (RFC 5788, RFC 8457 3), then
	   the others the account has used, each once. */
	for (size_t i = 0; i < IMAP_REGISTERED_KEYWORDS; i++) {
		buf_putc(&names, ' ');
		buf_puts(&names, imap_registered_keywords[i]);
	}
	for (size_t i = 0; i < n; i++) {
		if (imap_keyword_is_registered(kw[i]))
			continue;
		buf_putc(&names, ' ');
		buf_puts(&names, kw[i]);
	}
	const char *list = names.data != NULL ? names.data : "";
	buf_printf(out, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s)\r\n", list);
	/* RFC 4314 5.1.1: PERMANENTFLAGS says what this user's rights let
	   them change. */
	unsigned r = s->mbox_rights;
	if (!s->is_readonly && r == STORE_RIGHTS_ALL)
		buf_printf(out,
		           "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s "
		           "\\*)] Flags permitted\r\n",
		           list);
	else if (!s->is_readonly)
		permanent_flags_partial(out, r, list);
	else if (!again_readonly)
		buf_puts(out, "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
	buf_deinit(&names);
	/* Keywords are only ever added, as bits in order of first use. */
	s->kw_announced = store_keyword_mask(imap_mailbox_account(s), kw, n);
}

bool
imap_mailbox_announce_keywords(struct imap_session *s, uint64_t keywords, struct buf *out)
{
	if ((keywords & ~s->kw_announced) == 0 || s->account == NULL)
		return false;
	if (out != NULL) {
		imap_mailbox_flags_lines(s, out, true);
		return true;
	}
	struct buf b;
	buf_init(&b);
	imap_mailbox_flags_lines(s, &b, true);
	imap_session_write(s, b.data, b.len);
	buf_deinit(&b);
	return true;
}

static void
wake_cb(struct session *base)
{
	struct imap_session *s = (struct imap_session *)base;

	/* Outside IDLE the next command's reply carries the updates, unless
	   NOTIFY asked for them at once (RFC 5465 3.1, 6.1.1): then between
	   commands too. */
	if (s->mbox == NULL ||
	    (!s->is_idling && !(imap_notify_pushes_selected(s) && !s->base.is_busy)))
		return;
	/* No command ends after a wake-up, so nothing would reset the
	   command arena: a day in IDLE would grow it with every change.
	   The sync allocates from a scratch arena instead, freed at once. */
	struct arena *cmd_arena = s->cmd_arena;
	s->cmd_arena = arena_new(2048);
	imap_mailbox_sync(s, true);
	arena_free(&s->cmd_arena);
	s->cmd_arena = cmd_arena;
}

static void
store_wake(void *arg)
{
	/* Any thread, under a store lock: only signal. */
	session_event_activate(arg);
}

void
imap_mailbox_watch(struct imap_session *s)
{
	if (s->wake == NULL)
		s->wake = session_event_new(&s->base, wake_cb);
	store_mailbox_watch(s->mbox, store_wake, s->wake);
}

struct store_account *
imap_mailbox_account(struct imap_session *s)
{
	return s->mbox_account != NULL ? s->mbox_account : s->account;
}

void
imap_mailbox_selected(struct imap_session *s, struct store_mailbox *mbox,
                      struct store_account *owner, const char *name, bool readonly)
{
	s->mbox = mbox;
	s->mbox_account = owner;
	s->mbox_name = xstrdup(name);
	s->is_readonly = readonly;
	s->state = IMAP_STATE_SELECTED;
	imap_mailbox_watch(s);
	imap_notify_selected_changed(s); /* no longer watched as another mailbox */
}

void
imap_mailbox_deselect(struct imap_session *s)
{
	if (s->mbox != NULL) {
		store_mailbox_watch(s->mbox, NULL, NULL);
		store_mailbox_close(&s->mbox);
	}
	s->mbox_account = NULL;
	free((void *)s->mbox_name);
	s->mbox_name = NULL;
	free(s->saved_uids);
	s->saved_uids = NULL;
	s->n_saved = 0;
	s->kw_announced = 0;
	imap_context_free_all(s); /* RFC 5267 4.3: updates end with the selection */
	if (s->state == IMAP_STATE_SELECTED)
		s->state = IMAP_STATE_AUTH;
	imap_notify_selected_changed(s);
}

/* Changes collected under the view lock, written after it. */
struct pending {
	struct imap_session *s;
	struct buf expunges; /* "* n EXPUNGE" lines, in the order given */
	uint32_t *vanished;
	size_t n_vanished, cap_vanished;
	bool has_exists;
	uint32_t exists;
	struct flag_change {
		uint32_t seq, uid, flags;
		uint64_t keywords, modseq;
	} * changes;
	size_t n_changes, cap_changes;
};

static void
on_expunged(void *ctx, uint32_t seq, uint32_t uid)
{
	struct pending *p = ctx;

	if (p->s->qresync) {
		if (p->n_vanished == p->cap_vanished) {
			p->cap_vanished = p->cap_vanished ? p->cap_vanished * 2 : 64;
			p->vanished = xrealloc(p->vanished, p->cap_vanished * sizeof(uint32_t));
		}
		p->vanished[p->n_vanished++] = uid;
	} else {
		buf_printf(&p->expunges, "* %u EXPUNGE\r\n", seq);
	}
}

static void
on_exists(void *ctx, uint32_t count)
{
	struct pending *p = ctx;

	p->has_exists = true;
	p->exists = count;
}

static void
on_flags(void *ctx, uint32_t seq, uint32_t uid, uint32_t flags, uint64_t keywords, uint64_t modseq)
{
	struct pending *p = ctx;

	if (p->n_changes == p->cap_changes) {
		p->cap_changes = p->cap_changes ? p->cap_changes * 2 : 16;
		p->changes = xrealloc(p->changes, p->cap_changes * sizeof(*p->changes));
	}
	p->changes[p->n_changes++] = (struct flag_change){seq, uid, flags, keywords, modseq};
}

uint32_t
imap_mailbox_recent_count(struct imap_session *s)
{
	uint32_t count, n = 0;
	const uint32_t *uids = store_mailbox_uids(s->mbox, &count);

	if (s->is_readonly) {
		/* EXAMINE claims nothing: the unclaimed ones are \Recent. */
		struct store_mailbox_info info;
		store_mailbox_info_get(s->mbox, &info);
		return info.recent;
	}

	for (uint32_t i = 0; i < count; i++)
		n += store_mailbox_is_recent(s->mbox, uids[i]);
	return n;
}

void
imap_mailbox_sync(struct imap_session *s, bool allow_expunge)
{
	static const struct store_sync_fns fns = {on_expunged, on_exists, on_flags};
	struct pending p = {.s = s};
	enum store_error err;

	struct buf removes, adds; /* UPDATE contexts' REMOVEFROM and ADDTO */

	if (s->mbox == NULL || (!allow_expunge && s->contexts == NULL))
		return;
	buf_init(&p.expunges);
	buf_init(&removes);
	buf_init(&adds);
	/* Without allow_expunge the snapshot stays: only the contexts run,
	   over it, as numbered now. */
	if (s->contexts != NULL)
		imap_context_before_sync(s);
	uint32_t count0;
	const uint32_t *snap0 = store_mailbox_uids(s->mbox, &count0);
	uint32_t old_max = count0 > 0 ? snap0[count0 - 1] : 0; /* newer ones are new */
	if (allow_expunge && store_mailbox_sync(s->mbox, &fns, &p, &err) < 0) {
		if (err == STORE_ERR_NOTFOUND) {
			/* Deleted or renamed away by another session: nothing left
			   to show; RFC 9051 7.1 lets the server say BYE. */
			imap_session_bye(s, "Selected mailbox was deleted");
		}
		goto out;
	}
	if (s->contexts != NULL)
		imap_context_after_sync(s, &removes, &adds);
	/* Removals are numbered as before the sync: before the EXPUNGEs. */
	if (removes.len > 0)
		imap_session_write(s, removes.data, removes.len);
	if (p.expunges.len > 0)
		imap_session_write(s, p.expunges.data, p.expunges.len);
	if (p.n_vanished > 0) {
		qsort(p.vanished, p.n_vanished, sizeof(uint32_t), uid_cmp);
		imap_reply_untagged(s, "VANISHED %s",
		                    imap_seqset_format(s->cmd_arena, p.vanished, p.n_vanished));
	}
	if (p.has_exists) {
		imap_reply_untagged(s, "%u EXISTS", p.exists);
		if (!s->is_rev2) {
			/* RFC 3501 7.3.2: RECENT is the number of \Recent messages;
			   new ones go to this session unless another claimed them. */
			uint32_t claimed;
			if (!s->is_readonly)
				(void)store_mailbox_claim_recent(s->mbox, &claimed, &err);
			imap_reply_untagged(s, "%u RECENT", imap_mailbox_recent_count(s));
		}
	}
	uint64_t keywords = 0;
	for (size_t i = 0; i < p.n_changes; i++)
		keywords |= p.changes[i].keywords;
	imap_mailbox_announce_keywords(s, keywords, NULL);
	for (size_t i = 0; i < p.n_changes; i++) {
		const struct flag_change *c = &p.changes[i];
		const char *flags = imap_flags_format(s, c->flags, c->keywords,
		                                      store_mailbox_is_recent(s->mbox, c->uid));
		if (s->condstore)
			imap_reply_untagged(s, "%u FETCH (UID %u FLAGS (%s) MODSEQ (%llu))", c->seq,
			                    c->uid, flags, (unsigned long long)c->modseq);
		else
			imap_reply_untagged(s, "%u FETCH (FLAGS (%s))", c->seq, flags);
	}
	/* Additions are numbered as now: after EXISTS (RFC 5267 4.3.3). */
	if (adds.len > 0)
		imap_session_write(s, adds.data, adds.len);
	/* NOTIFY's MessageNew attributes, after any ADDTO (RFC 5465 5.2). */
	if (p.has_exists && s->notify != NULL) {
		uint32_t count;
		const uint32_t *snap = store_mailbox_uids(s->mbox, &count);
		uint32_t k = count;
		while (k > 0 && snap[k - 1] > old_max)
			k--;
		struct buf fetches;
		buf_init(&fetches);
		imap_notify_new_messages(s, snap + k, count - k, &fetches);
		if (fetches.len > 0)
			imap_session_write(s, fetches.data, fetches.len);
		buf_deinit(&fetches);
	}
out:
	buf_deinit(&removes);
	buf_deinit(&adds);
	buf_deinit(&p.expunges);
	free(p.vanished);
	free(p.changes);
}
