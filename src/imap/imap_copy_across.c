/* SPDX-License-Identifier: MIT */
/*
 * imap_copy_across.c: COPY and MOVE between two owners' mailboxes (one's
 * own and one shared with one, RFC 4314 sharing). Inside one account the
 * store copies by reference (imap_copy.c); across accounts the bytes must
 * be stored again, in the destination owner's account, charged to its
 * quota: the messages are read here (their bytes, flags, keywords and
 * internal date) and appended in one all-or-none store_message_append on
 * the store pool, as APPEND does, through a handle with the session's
 * identity, so the destination's 'i' and flag rights apply in the store.
 * MOVE then removes the source messages ('t' and 'e' checked first): two
 * transactions in two accounts, so a failure between them leaves the
 * messages in both (reported as NO), never in neither.
 *
 * Limits: at most COPY_ACROSS_MAX messages and imap.max_literal bytes in
 * all (what one APPEND may carry), held in memory meanwhile; more is
 * NO [LIMIT].
 */
#include "imap/imap_copy.h"

#include <stdlib.h>
#include <string.h>

#include "imap/imap_mailbox.h"
#include "imap/seqset.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"

#define COPY_ACROSS_MAX 1000

struct across_job {
	struct arena *arena; /* messages, keywords, uids */
	struct store_account *acct;
	const char *mailbox;
	bool move;
	struct store_append *msgs;
	uint32_t *src_uids;
	size_t n;
	/* result */
	int rc;
	enum store_error err;
	uint32_t uidvalidity, *uids;
};

static void
job_free(struct across_job *job)
{
	store_account_close(&job->acct);
	arena_free(&job->arena);
	free(job);
}

static void
across_work(void *arg)
{
	struct across_job *job = arg;

	job->rc = store_message_append(job->acct, job->mailbox, job->msgs, job->n,
	                               &job->uidvalidity, job->uids, &job->err);
}

/* The replies for a finished job; the caller finishes the command. */
static void
across_reply(struct imap_session *s, struct across_job *job)
{
	struct imap_cmd *cmd = &s->cmd;
	if (job->rc < 0) {
		if (job->err == STORE_ERR_NOTFOUND)
			imap_reply_no(cmd, "[TRYCREATE] Mailbox does not exist");
		else
			imap_reply_store_error(cmd, job->err);
		return;
	}
	const char *code = arena_printf(cmd->arena, "COPYUID %u %s %s", job->uidvalidity,
	                                imap_seqset_format(cmd->arena, job->src_uids, job->n),
	                                imap_seqset_format(cmd->arena, job->uids, job->n));
	if (job->move) {
		uint32_t *gone;
		size_t n_gone;
		enum store_error err;
		imap_reply_untagged(s, "OK [%s] Copied", code);
		if (store_message_remove(s->mbox, job->src_uids, job->n, cmd->arena, &gone, &n_gone,
		                         &err) < 0)
			imap_reply_store_error(cmd, err); /* copied, not removed */
		else
			imap_reply_ok(cmd, "%s completed", cmd->name);
	} else {
		imap_reply_ok(cmd, "[%s] %s completed", code, cmd->name);
	}
}

static void
across_done(struct session *base, void *arg)
{
	struct across_job *job = arg;

	if (base != NULL) {
		struct imap_session *s = (struct imap_session *)base;
		across_reply(s, job);
		imap_cmd_finish(&s->cmd);
	}
	job_free(job);
}

enum imap_cmd_status
imap_copy_across(struct imap_cmd *cmd, const uint32_t *uids, size_t n,
                 struct store_account *dest_acct, const char *dest, bool move)
{
	struct imap_session *s = cmd->session;
	unsigned rights = store_mailbox_my_rights(s->mbox);
	enum store_error err;

	if (move && (rights & (STORE_RIGHT_DELMSG | STORE_RIGHT_EXPUNGE)) !=
	                    (STORE_RIGHT_DELMSG | STORE_RIGHT_EXPUNGE)) {
		imap_reply_store_error(cmd, STORE_ERR_NORIGHTS);
		return IMAP_CMD_DONE;
	}
	if (n > COPY_ACROSS_MAX) {
		imap_reply_no(cmd, "[LIMIT] At most %d messages at once between owners",
		              COPY_ACROSS_MAX);
		return IMAP_CMD_DONE;
	}
	struct store_message_info *info = arena_alloc(cmd->arena, n * sizeof(*info));
	if (store_message_lookup(s->mbox, uids, n, STORE_FETCH_BASIC, cmd->arena, info, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += info[i].uid != 0 ? info[i].size : 0;
	if (total > s->settings.max_literal) {
		imap_reply_no(cmd, "[LIMIT] At most %llu bytes at once between owners",
		              (unsigned long long)s->settings.max_literal);
		return IMAP_CMD_DONE;
	}

	struct across_job *job = xcalloc(1, sizeof(*job));
	job->arena = arena_new(4096);
	job->move = move;
	job->mailbox = arena_strdup(job->arena, dest);
	job->msgs = arena_zalloc(job->arena, (n ? n : 1) * sizeof(*job->msgs));
	job->src_uids = arena_alloc(job->arena, (n ? n : 1) * sizeof(uint32_t));
	struct store_reader *r = store_reader_new();
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		if (info[i].uid == 0)
			continue; /* expunged meanwhile: skipped, as COPY does */
		b.len = 0;
		if (store_reader_open(r, s->mbox, &info[i], &err) < 0 ||
		    store_reader_read(r, 0, info[i].size, &b, &err) < 0) {
			if (err == STORE_ERR_EXPUNGED)
				continue;
			imap_reply_store_error(cmd, err);
			goto fail;
		}
		struct store_append *m = &job->msgs[job->n];
		m->data = arena_memdup(job->arena, b.data, b.len);
		m->len = b.len;
		/* The flags as this user sees them: on a mailbox another account
		   owns, \Seen is the user's own (store seen.c). */
		uint32_t flags;
		uint64_t kw_mask, modseq;
		m->flags = store_mailbox_flags_get(s->mbox, info[i].uid, &flags, &kw_mask, &modseq,
		                                   &err) == 0
		                   ? flags
		                   : info[i].flags;
		m->internal_date = info[i].internal_date;
		const char **kw;
		m->n_keywords = store_keyword_names(imap_mailbox_account(s), info[i].keywords,
		                                    job->arena, &kw);
		m->keywords = kw;
		job->src_uids[job->n++] = info[i].uid;
	}
	store_reader_free(&r);
	buf_deinit(&b);
	if (job->n == 0) {
		imap_reply_ok(cmd, "%s completed", cmd->name); /* all expunged meanwhile */
		job_free(job);
		return IMAP_CMD_DONE;
	}
	job->uids = arena_alloc(job->arena, job->n * sizeof(uint32_t));
	if (store_account_open_as(s->srv->store, store_account_id(dest_acct), &s->identity,
	                          &job->acct, &err) < 0) {
		imap_reply_store_error(cmd, err);
		job_free(job);
		return IMAP_CMD_DONE;
	}
	if (s->is_holding) {
		/* Already on a pool thread (IMAP_CMD_OFF_LOOP): no second hop. */
		across_work(job);
		across_reply(s, job);
		job_free(job);
		return IMAP_CMD_DONE;
	}
	session_job_submit(&s->base, s->srv->store_pool, across_work, across_done, job);
	return IMAP_CMD_WAIT;
fail:
	store_reader_free(&r);
	buf_deinit(&b);
	job_free(job);
	return IMAP_CMD_DONE;
}
