/* SPDX-License-Identifier: MIT */
/*
 * cmd_append.c: APPEND (RFC 9051 section 6.3.12) with MULTIAPPEND (RFC 3502),
 * literal8 (RFC 3516) and APPENDUID (RFC 4315). The messages arrived in
 * spool files while the command was read (imap_append.c); here they are
 * committed, all or none, on the store pool: the fsyncs and the transaction
 * never run on the event loop. OK is sent only after the commit returned,
 * so the messages are on disk. The job owns everything it uses (its own
 * account reference, the spools, copies of flags and keywords), so a client
 * that leaves meanwhile frees nothing under it.
 *
 * append = "APPEND" SP mailbox 1*append-message
 * append-message = [SP flag-list] [SP date-time] *(SP append-ext) SP append-data
 * append-ext =/ "ANNOTATION" SP "(" entry-att *(SP entry-att) ")" (RFC 5257 4.6)
 * append-data = literal / "CATENATE" SP "(" cat-part *(SP cat-part) ")"
 *
 * A CATENATE message (RFC 4469) was assembled into its spool as it came
 * (imap_catenate.c). A URL that names nothing makes the command fail with
 * NO [BADURL "url"], or [TRYCREATE] when the mailbox is missing too.
 *
 * REPLACE (RFC 8508, cmd_replace.c) is one append-message run through the
 * same path (imap_append_start) with the message it replaces: once the new
 * one is committed, the old one is removed from the selected mailbox.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/commands.h"
#include "imap/imap_append.h"
#include "imap/imap_catenate.h"
#include "imap/imap_annotate.h"
#include "imap/imap_flags.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_namespace.h"
#include "imap/seqset.h"
#include "lib/arena.h"

struct append_job {
	struct arena *arena; /* msgs, keywords, uids, mailbox name */
	struct store_account *acct;
	const char *mailbox;
	struct store_append *msgs;
	size_t n;
	uint32_t replace_uid; /* REPLACE: the selected mailbox's message to remove */
	/* result */
	int rc;
	enum store_error err;
	uint32_t uidvalidity, *uids;
};

static void
job_free(struct append_job *job)
{
	for (size_t i = 0; i < job->n; i++)
		store_spool_free(&job->msgs[i].spool);
	store_account_close(&job->acct);
	arena_free(&job->arena);
	free(job);
}

static void
append_work(void *arg)
{
	struct append_job *job = arg;

	job->rc = store_message_append(job->acct, job->mailbox, job->msgs, job->n,
	                               &job->uidvalidity, job->uids, &job->err);
}

/* RFC 8508 3.2: the new message is committed; now the old one goes,
   whatever its flags (only it: not every \Deleted message). Its EXPUNGE,
   and EXISTS when the target is the selected mailbox, come from the sync
   before the tagged OK, after the APPENDUID. The input was paused all
   along, so the selection is the one the command began in. */
static void
replace_finish(struct imap_cmd *cmd, struct append_job *job)
{
	struct imap_session *s = cmd->session;
	uint32_t *gone;
	size_t n_gone;
	enum store_error err;

	if (store_message_remove(s->mbox, &job->replace_uid, 1, cmd->arena, &gone, &n_gone, &err) <
	    0) {
		/* Both copies stay: nothing is lost, and the client is told. */
		imap_reply_no(cmd,
		              "[APPENDUID %u %u] Stored, but the replaced message could not be "
		              "removed (%s)",
		              job->uidvalidity, job->uids[0], store_error_str(err));
		return;
	}
	imap_reply_untagged(s, "OK [APPENDUID %u %u] Replacement message ready", job->uidvalidity,
	                    job->uids[0]);
	imap_reply_ok(cmd, "%s completed", cmd->is_uid ? "UID REPLACE" : "REPLACE");
}

static void
append_done(struct session *base, void *arg)
{
	struct append_job *job = arg;

	if (base != NULL) {
		struct imap_session *s = (struct imap_session *)base;
		struct imap_cmd *cmd = &s->cmd;
		if (job->rc < 0 && job->err == STORE_ERR_NOTFOUND)
			imap_reply_no(cmd, "[TRYCREATE] Mailbox does not exist");
		else if (job->rc < 0)
			imap_reply_store_error(cmd, job->err);
		else if (job->replace_uid != 0)
			replace_finish(cmd, job);
		else
			imap_reply_ok(cmd, "[APPENDUID %u %s] APPEND completed", job->uidvalidity,
			              imap_seqset_format(cmd->arena, job->uids, job->n));
		imap_cmd_finish(cmd);
	}
	job_free(job);
}

/* Takes message i's bytes into the job: the spool a streamed literal
   filled, else a copy of an in-memory one. Replies and returns false when
   the message cannot be stored. */
static bool
take_message(struct imap_cmd *cmd, const struct imap_arg *arg, struct append_job *job,
             struct store_append *m)
{
	struct imap_append_literal *lit = arg->stream;

	if (lit != NULL && lit->err != STORE_ERR_NONE) {
		if (lit->err == STORE_ERR_TOOBIG)
			imap_reply_no(cmd, "[TOOBIG] Message too big");
		else
			imap_reply_store_error(cmd, lit->err);
		return false;
	}
	/* RFC 3516 4.4: a literal8 may hold NUL; a plain literal may not. */
	bool has_nul = lit != NULL ? store_spool_has_nul(lit->spool)
	                           : memchr(arg->str, '\0', arg->len) != NULL;
	if (!arg->is_literal8 && has_nul) {
		imap_reply_no(cmd, "Message contains NUL; use a literal8 (~{n})");
		return false;
	}
	if (arg->len == 0) {
		imap_reply_no(cmd, "Empty message");
		return false;
	}
	if (lit != NULL) {
		m->spool = lit->spool;
		lit->spool = NULL; /* the job's now */
	} else {
		m->data = arena_memdup(job->arena, arg->str, arg->len);
		m->len = arg->len;
	}
	return true;
}

/* Takes the CATENATE message whose parts are at args[i]. Replies and
   returns false when it cannot be stored; *bad_url_out names a URL that
   named nothing (the reply waits: the mailbox may be missing too). */
static bool
take_catenate(struct imap_cmd *cmd, size_t i, struct store_append *m, const char **bad_url_out)
{
	enum store_error err;
	const char *bad_url;

	/* The builder was keyed by the list's place as the parser saw it, and
	   for UID REPLACE the parser counted "REPLACE" too. */
	size_t index = i + (cmd->is_uid ? 1 : 0);

	switch (imap_catenate_finish(cmd, index, &cmd->args[i], &m->spool, &bad_url, &err)) {
	case IMAP_CATENATE_OK:
		break;
	case IMAP_CATENATE_BAD:
		imap_reply_bad(cmd, "Expected: CATENATE (TEXT <literal> / URL <url> ...)");
		return false;
	case IMAP_CATENATE_BADURL:
		if (*bad_url_out == NULL)
			*bad_url_out = bad_url;
		return true;
	case IMAP_CATENATE_FAILED:
		if (err == STORE_ERR_TOOBIG)
			imap_reply_no(cmd, "[TOOBIG] Message too big");
		else
			imap_reply_store_error(cmd, err);
		return false;
	}
	if (store_spool_size(m->spool) == 0) {
		imap_reply_no(cmd, "Empty message");
		return false;
	}
	return true;
}

enum imap_cmd_status
imap_cmd_append(struct imap_cmd *cmd)
{
	if (cmd->nargs < 2) {
		imap_reply_bad(cmd,
		               "Expected: APPEND <mailbox> [(<flags>)] [<date-time>] <literal>");
		return IMAP_CMD_DONE;
	}
	return imap_append_start(cmd, 0, 0);
}

enum imap_cmd_status
imap_append_start(struct imap_cmd *cmd, size_t mailbox_arg, uint32_t replace_uid)
{
	struct imap_session *s = cmd->session;
	const char *name, *error, *bad_url = NULL;
	enum store_error err;

	if (!imap_mailbox_arg(cmd, mailbox_arg, &name))
		return IMAP_CMD_DONE;
	struct append_job *job = xcalloc(1, sizeof(*job));
	job->arena = arena_new(4096);
	struct imap_box box;
	if (imap_box_resolve(s, name, &box, &err) < 0) {
		imap_reply_no(cmd, "[TRYCREATE] Mailbox does not exist");
		return IMAP_CMD_DONE;
	}
	job->mailbox = arena_strdup(job->arena, box.name);
	job->replace_uid = replace_uid;
	job->msgs = arena_zalloc(job->arena, cmd->nargs * sizeof(*job->msgs));
	for (size_t i = mailbox_arg + 1; i < cmd->nargs;) {
		/* RFC 8508 5: REPLACE carries exactly one append-message. */
		if (replace_uid != 0 && job->n == 1) {
			imap_reply_bad(cmd, "REPLACE takes one message");
			goto fail;
		}
		struct store_append *m = &job->msgs[job->n++];
		if (cmd->args[i].type == IMAP_ARG_LIST) {
			struct imap_flag_list fl;
			if (!imap_flag_list_parse(job->arena, &cmd->args[i], &fl, &error)) {
				imap_reply_bad(cmd, "%s", error);
				goto fail;
			}
			m->flags = fl.flags;
			m->keywords = fl.keywords;
			m->n_keywords = fl.n_keywords;
			i++;
		}
		if (i < cmd->nargs && cmd->args[i].type == IMAP_ARG_QUOTED) {
			int64_t t;
			if (!imap_date_time_parse(cmd->args[i].str, &t)) {
				imap_reply_bad(cmd, "Invalid date-time");
				goto fail;
			}
			m->internal_date = t;
			i++;
		}
		if (i + 1 < cmd->nargs && cmd->args[i].type == IMAP_ARG_ATOM &&
		    strcasecmp(cmd->args[i].str, "ANNOTATION") == 0) {
			if (!imap_annotate_append_take(cmd, &cmd->args[i + 1], job->arena, m))
				goto fail;
			i += 2;
		}
		if (i + 1 < cmd->nargs && cmd->args[i].type == IMAP_ARG_ATOM &&
		    strcasecmp(cmd->args[i].str, "CATENATE") == 0) {
			if (!take_catenate(cmd, i + 1, m, &bad_url))
				goto fail;
			i += 2;
			continue;
		}
		/* RFC 6855 section 4: utf8-literal = "UTF8" SP "(" literal8 ")",
		   a message whose header fields may hold UTF-8. */
		if (i + 1 < cmd->nargs && cmd->args[i].type == IMAP_ARG_ATOM &&
		    strcasecmp(cmd->args[i].str, "UTF8") == 0) {
			const struct imap_arg *list = &cmd->args[i + 1];
			if (list->type != IMAP_ARG_LIST || list->count != 1 ||
			    list->list[0].type != IMAP_ARG_LITERAL) {
				imap_reply_bad(cmd, "Expected: UTF8 (<literal8>)");
				goto fail;
			}
			if (!take_message(cmd, &list->list[0], job, m))
				goto fail;
			i += 2;
			continue;
		}
		if (i >= cmd->nargs || cmd->args[i].type != IMAP_ARG_LITERAL) {
			imap_reply_bad(cmd, "Expected the message as a literal");
			goto fail;
		}
		if (!take_message(cmd, &cmd->args[i], job, m))
			goto fail;
		i++;
	}
	if (bad_url != NULL) {
		/* RFC 4469 5: a missing mailbox is reported before a bad URL. */
		struct store_mailbox_info info;
		if (store_mailbox_status(box.acct, box.name, cmd->arena, &info, &err) < 0 &&
		    err == STORE_ERR_NOTFOUND)
			imap_reply_no(cmd, "[TRYCREATE] Mailbox does not exist");
		else
			imap_reply_no(cmd, "[BADURL %s] The URL names no message here",
			              imap_quote(cmd->arena, bad_url));
		goto fail;
	}
	job->uids = arena_alloc(job->arena, job->n * sizeof(uint32_t));
	/* The job's own handle (handles belong to one thread), with the
	   session's identity when the mailbox is another owner's. */
	if (store_account_open_as(s->srv->store, store_account_id(box.acct), &s->identity,
	                          &job->acct, &err) < 0) {
		imap_reply_store_error(cmd, err);
		goto fail;
	}
	session_job_submit(&s->base, s->srv->store_pool, append_work, append_done, job);
	return IMAP_CMD_WAIT;
fail:
	job_free(job);
	return IMAP_CMD_DONE;
}
