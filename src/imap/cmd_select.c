/* SPDX-License-Identifier: MIT */
/*
 * cmd_select.c: SELECT and EXAMINE (RFC 9051 sections 6.3.2, 6.3.3; RFC 3501
 * 6.3.1 for rev1). Opening the mailbox reuses the account's shared view, so
 * a reselect of a big mailbox costs no index scan. A previously selected
 * mailbox is closed first and, as RFC 9051 and RFC 7162 3.2.11 say,
 * "* OK [CLOSED]" marks where its updates end.
 *
 * Rev1 clients also get RECENT (this session claims the messages nobody was
 * shown yet) and [UNSEEN n]; rev2 clients get a LIST reply for the name.
 *
 * select-params (RFC 4466): CONDSTORE enables CONDSTORE (RFC 7162 3.1.8);
 * QRESYNC (uidvalidity modseq [known-uids [seq-match-data]]) needs ENABLE
 * QRESYNC first and, when the UIDVALIDITY matches, reports what changed
 * since modseq as UID FETCH known-uids (FLAGS) (CHANGEDSINCE modseq
 * VANISHED) would (RFC 7162 3.2.5): VANISHED (EARLIER), then FETCH
 * (UID FLAGS MODSEQ), streamed like any FETCH. The expunge history is
 * complete, so seq-match-data is checked for syntax and not needed.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/accounts.h"
#include "imap/commands.h"
#include "imap/imap_annotate.h"
#include "imap/imap_condstore.h"
#include "imap/imap_fetch.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_metadata.h"
#include "imap/imap_namespace.h"
#include "imap/seqset.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "net/net.h"

static uint32_t
first_unseen(struct store_mailbox *mbox)
{
	uint32_t count;
	const uint32_t *uids = store_mailbox_uids(mbox, &count);
	enum store_error err;

	for (uint32_t i = 0; i < count; i++) {
		uint32_t flags;
		uint64_t kw, modseq;
		if (store_mailbox_flags_get(mbox, uids[i], &flags, &kw, &modseq, &err) == 0 &&
		    !(flags & STORE_FLAG_SEEN))
			return i + 1;
	}
	return 0;
}

struct qresync {
	bool is_set;
	uint32_t uidvalidity;
	uint64_t modseq;
	struct imap_seqset known; /* known.n == 0: none given */
};

static bool
is_seqset_arg(struct imap_cmd *cmd, const struct imap_arg *a, struct imap_seqset *out)
{
	return a->type == IMAP_ARG_ATOM && imap_seqset_parse(cmd->arena, a->str, out) &&
	       !out->is_saved && !imap_seqset_has_star(out);
}

/* "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data]
   ")" (RFC 7162 section 7). */
static bool
parse_qresync(struct imap_cmd *cmd, const struct imap_arg *list, struct qresync *q)
{
	struct imap_seqset ignored;
	uint64_t uv;

	if (list->type != IMAP_ARG_LIST || list->count < 2 || list->count > 4 ||
	    list->list[0].type != IMAP_ARG_ATOM || list->list[1].type != IMAP_ARG_ATOM ||
	    !imap_modseq_parse(list->list[0].str, false, &uv) || uv > UINT32_MAX ||
	    !imap_modseq_parse(list->list[1].str, true, &q->modseq))
		return false;
	q->uidvalidity = (uint32_t)uv;
	q->is_set = true;
	size_t i = 2;
	if (i < list->count && list->list[i].type == IMAP_ARG_ATOM) {
		if (!is_seqset_arg(cmd, &list->list[i], &q->known))
			return false;
		i++;
	}
	if (i < list->count) {
		/* seq-match-data = "(" known-sequence-set SP known-uid-set ")" */
		const struct imap_arg *m = &list->list[i++];
		if (m->type != IMAP_ARG_LIST || m->count != 2 ||
		    !is_seqset_arg(cmd, &m->list[0], &ignored) ||
		    !is_seqset_arg(cmd, &m->list[1], &ignored))
			return false;
	}
	return i == list->count;
}

/* select-params = SP "(" select-param *(SP select-param) ")" */
static bool
parse_params(struct imap_cmd *cmd, const struct imap_arg *params, bool *condstore,
             struct qresync *q)
{
	if (params->type != IMAP_ARG_LIST)
		return false;
	for (size_t i = 0; i < params->count; i++) {
		const struct imap_arg *p = &params->list[i];
		if (p->type != IMAP_ARG_ATOM)
			return false;
		if (strcasecmp(p->str, "CONDSTORE") == 0) {
			*condstore = true;
		} else if (strcasecmp(p->str, "ANNOTATE") == 0) {
			/* RFC 5257 4.1: asks for annotation changes as they
			   happen; every session is told (FETCH FLAGS MODSEQ). */
		} else if (strcasecmp(p->str, "QRESYNC") == 0 && !q->is_set &&
		           i + 1 < params->count) {
			if (!parse_qresync(cmd, &params->list[++i], q))
				return false;
		} else {
			return false;
		}
	}
	return true;
}

/* What changed since q->modseq, when the client's cache is of this
   mailbox (RFC 7162 3.2.5.1). Returns false when nothing did (the caller
   replies), true when the reply is made or the FETCH took it over. */
static bool
report_changes(struct imap_cmd *cmd, const struct qresync *q, const char *ok_text,
               enum imap_cmd_status *st_out)
{
	struct imap_session *s = cmd->session;
	const struct imap_seqset *known = q->known.n > 0 ? &q->known : NULL;
	struct imap_arg items[3] = {{.type = IMAP_ARG_ATOM, .str = "UID"},
	                            {.type = IMAP_ARG_ATOM, .str = "FLAGS"},
	                            {.type = IMAP_ARG_ATOM, .str = "MODSEQ"}};
	struct imap_arg list = {.type = IMAP_ARG_LIST, .list = items, .count = 3};
	struct imap_fetch_request req;
	const char *error;
	uint32_t *changed;
	size_t n;
	enum store_error err;

	*st_out = IMAP_CMD_DONE;
	if (!imap_condstore_vanished(cmd, q->modseq, known))
		return true;
	if (store_changed_since(s->mbox, q->modseq, cmd->arena, &changed, &n, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return true;
	}
	if (known != NULL)
		n = imap_seqset_filter(known, UINT32_MAX, cmd->arena, changed, n);
	if (n == 0)
		return false;
	if (!imap_fetch_request_parse(cmd->arena, &list, &req, &error))
		abort(); /* our own request */
	*st_out = imap_fetch_run(cmd, &req, changed, n, NULL, 0, ok_text);
	return true;
}

/* A mailbox the administrator marked as moved, with the METADATA entry
   IMAP_METADATA_REFERRAL, answers NO [REFERRAL url] (RFC 2221 section 4.2,
   RFC 2193 section 4.1); an administrator acting as the user (a master
   login) still opens the copy here. True when the reply was sent. */
static bool
mailbox_moved(struct imap_cmd *cmd, const char *name)
{
	struct imap_session *s = cmd->session;
	struct store_metadata_entry *e;
	size_t n;
	enum store_error err;

	if (s->user.master[0] != '\0' ||
	    store_metadata_get(s->account, name, IMAP_METADATA_REFERRAL, false, cmd->arena, &e, &n,
	                       &err) < 0 ||
	    n == 0 || !auth_referral_is_valid((const char *)e->value))
		return false;
	imap_reply_no(cmd, "[REFERRAL %s] Mailbox has moved", (const char *)e->value);
	return true;
}

enum imap_cmd_status
imap_cmd_select(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	bool readonly = strcasecmp(cmd->def->name, "EXAMINE") == 0, condstore = false;
	struct qresync q = {0};
	const char *name;
	struct store_mailbox *mbox;
	struct store_mailbox_info info;
	enum store_error err;

	/* select = "SELECT" SP mailbox [select-params] */
	if (cmd->nargs < 1 || cmd->nargs > 2) {
		imap_reply_bad(cmd, "Expected: %s <mailbox> [(<parameters>)]", cmd->def->name);
		return IMAP_CMD_DONE;
	}
	if (!imap_mailbox_arg(cmd, 0, &name))
		return IMAP_CMD_DONE;
	/* Every parameter is checked before anything is closed or opened. */
	if (cmd->nargs == 2 && !parse_params(cmd, &cmd->args[1], &condstore, &q)) {
		imap_reply_bad(cmd, "Expected: (CONDSTORE) or (QRESYNC (<uidvalidity> <modseq> "
		                    "[<known uids> [(<seqs> <uids>)]]))");
		return IMAP_CMD_DONE;
	}
	if (q.is_set && !s->qresync) {
		imap_reply_bad(cmd, "QRESYNC needs ENABLE QRESYNC first");
		return IMAP_CMD_DONE;
	}
	if (condstore)
		s->condstore = true;
	if (s->mbox != NULL) {
		imap_mailbox_deselect(s);
		imap_reply_untagged(s, "OK [CLOSED] Previous mailbox closed");
	}
	if (mailbox_moved(cmd, name))
		return IMAP_CMD_DONE;
	struct imap_box box;
	if (imap_box_resolve(s, name, &box, &err) < 0 ||
	    store_mailbox_open(box.acct, box.name, 0, &mbox, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	/* RFC 4314 5.2: read-only without 'i', 'e' and every right to change
	   a flag (all flags are shared here); the handle is reopened so the
	   store refuses writes too. */
	unsigned rights = store_mailbox_my_rights(mbox);
	if (!readonly && !(rights & (STORE_RIGHT_INSERT | STORE_RIGHT_EXPUNGE | STORE_RIGHT_SEEN |
	                             STORE_RIGHT_WRITE | STORE_RIGHT_DELMSG)))
		readonly = true;
	if (readonly) {
		store_mailbox_close(&mbox);
		if (store_mailbox_open(box.acct, box.name, STORE_OPEN_READONLY, &mbox, &err) < 0) {
			imap_reply_store_error(cmd, err);
			return IMAP_CMD_DONE;
		}
	}
	s->mbox_account = box.acct;
	s->mbox_rights = rights;
	store_mailbox_info_get(mbox, &info);
	/* EXAMINE reports the messages nobody was shown yet without claiming
	   them, so a later SELECT (this session's or another's) still gets
	   them as \Recent (RFC 3501 6.3.2). */
	uint32_t recent = info.recent;
	if (!readonly && !s->is_rev2)
		(void)store_mailbox_claim_recent(mbox, &recent, &err);

	imap_reply_untagged(s, "%u EXISTS", store_mailbox_count(mbox));
	if (!s->is_rev2)
		imap_reply_untagged(s, "%u RECENT", recent);
	/* The keywords known now are announced; later ones are announced
	   before their first FETCH FLAGS (imap_mailbox_announce_keywords). */
	struct buf b;
	buf_init(&b);
	s->is_readonly = readonly;
	imap_mailbox_flags_lines(s, &b, false);
	net_conn_write(s->base.conn, b.data, b.len);
	buf_deinit(&b);
	if (!s->is_rev2) {
		uint32_t unseen = first_unseen(mbox);
		if (unseen > 0)
			imap_reply_untagged(s, "OK [UNSEEN %u] First unseen", unseen);
	}
	imap_reply_untagged(s, "OK [UIDVALIDITY %u] UIDs valid", info.uidvalidity);
	imap_reply_untagged(s, "OK [UIDNEXT %u] Predicted next UID", info.uidnext);
	imap_reply_untagged(s, "OK [HIGHESTMODSEQ %llu] Highest",
	                    (unsigned long long)info.highestmodseq);
	imap_reply_untagged(s, "OK [MAILBOXID (%s)] Ok", info.objectid);
	imap_annotate_select_code(s);
	if (s->is_rev2)
		imap_reply_untagged(s, "LIST () \"/\" %s", imap_mailbox_wire(s, name));
	imap_mailbox_selected(s, mbox, box.acct, name, readonly);
	const char *ok_text = arena_printf(cmd->arena, imap_reply_text(s, "[%s] %s completed"),
	                                   readonly ? "READ-ONLY" : "READ-WRITE", cmd->def->name);
	enum imap_cmd_status st;
	if (q.is_set && q.uidvalidity == info.uidvalidity && report_changes(cmd, &q, ok_text, &st))
		return st;
	imap_reply_ok(cmd, "%s", ok_text);
	return IMAP_CMD_DONE;
}
