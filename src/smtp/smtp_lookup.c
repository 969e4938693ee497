/* SPDX-License-Identifier: MIT */
/*
 * smtp_lookup.c: MAIL's and RCPT's trips to the job pool (smtp_lookup.h).
 * The work touches only the job's copies; store handles come from the pool
 * thread's own cache (smtp_accounts.h).
 */
#include "smtp/smtp_lookup.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/log.h"
#include "smtp/smtp_accounts.h"
#include "smtp/smtp_session.h"

/* Quota, and the folder of a sub-address, for one account. */
static void
check_account(struct smtp_lookup *l, struct auth_recipient *r)
{
	struct store_quota q;
	enum store_error err;
	struct store_account *acct = smtp_account_get(l->store, r->account_id, &err);

	if (acct == NULL) {
		l->store_err = STORE_ERR_TEMP;
		return;
	}
	if (store_quota_get(acct, &q, &err) < 0) {
		l->store_err = STORE_ERR_TEMP;
	} else if ((q.storage_limit > 0 && q.storage_used + l->size >= q.storage_limit) ||
	           (q.messages_limit > 0 && q.messages_used >= q.messages_limit)) {
		l->store_err = STORE_ERR_QUOTA;
	}
	if (r->folder[0] != '\0' && !l->use_folder)
		r->folder[0] = '\0';
	if (r->folder[0] != '\0') {
		/* Folder names keep their case; the address was lowercased. */
		struct arena *a = arena_new(4096);
		struct store_mailbox_info *list;
		size_t n;
		const char *match = NULL;
		if (store_mailbox_list(acct, a, &list, &n, &err) == 0)
			for (size_t i = 0; i < n && match == NULL; i++)
				if (strcasecmp(list[i].name, r->folder) == 0)
					match = list[i].name;
		snprintf(r->folder, sizeof(r->folder), "%s", match != NULL ? match : "");
		arena_free(&a);
	}
}

static void
lookup_work(void *arg)
{
	struct smtp_lookup *l = arg;

	if (l->is_owner_check) {
		l->rc = auth_service_address_owned(l->auth, l->account_id, l->address, l->separator,
		                                   &l->is_owned, &l->err);
		return;
	}
	l->rc = auth_service_resolve(l->auth, l->address, l->separator, &l->accts, &l->n_accts,
	                             &l->err);
	for (size_t i = 0; l->rc == 0 && i < l->n_accts && l->store_err == STORE_ERR_NONE; i++)
		check_account(l, &l->accts[i]);
}

static void
lookup_done(struct session *base, void *arg)
{
	struct smtp_lookup *l = arg;

	if (base == NULL) {
		smtp_lookup_free(l);
		return;
	}
	l->done((struct smtp_session *)base, l);
}

void
smtp_lookup_submit(struct smtp_session *s, struct smtp_lookup *l)
{
	l->auth = s->srv->auth;
	l->store = s->srv->store;
	l->separator = xstrdup(s->cfg->s.subaddress_separator);
	l->use_folder = s->cfg->s.subaddress_folder;
	session_command_wait(&s->base);
	/* Not on the auth pool: a lookup is a few reads, a password check there
	   12 ms of yescrypt, and a RCPT queued behind 30 logins' checks waited
	   355 ms (test_lmtp.LmtpBesideLoginsTest). */
	session_job_submit(&s->base, s->srv->lookup_pool, lookup_work, lookup_done, l);
}

struct smtp_lookup *
smtp_lookup_new(const char *address)
{
	struct smtp_lookup *l = xcalloc(1, sizeof(*l));

	l->address = xstrdup(address);
	l->arena = arena_new(1024);
	return l;
}

void
smtp_lookup_free(struct smtp_lookup *l)
{
	if (l == NULL)
		return;
	arena_free(&l->arena);
	free(l->address);
	free(l->separator);
	free(l->accts);
	free(l);
}
