/* SPDX-License-Identifier: MIT */
/*
 * smtp_lookup.h: the database questions of MAIL and RCPT, asked on the job
 * pool (never on the event loop) and answered to the session by id:
 *
 *   RCPT: who receives mail for a local address (accounts, aliases,
 *         sub-addresses, catch-all: auth/aliases.h), whether each is over
 *         quota (with MAIL's SIZE, if given), and the folder a sub-address
 *         names when smtp.subaddress_folder is on and the folder exists;
 *   MAIL: on submission, whether the logged-in account may use the sender.
 */
#ifndef TERN_SMTP_SMTP_LOOKUP_H
#define TERN_SMTP_SMTP_LOOKUP_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/aliases.h"
#include "store/store.h"

struct arena;
struct smtp_session;

struct smtp_lookup {
	/* in (heap copies, the job's own) */
	char *address;
	bool is_owner_check; /* MAIL: may account_id send as address? */
	uint64_t account_id;
	uint64_t size; /* MAIL's SIZE, 0 if none: counted against quotas */
	/* out */
	int rc;                       /* 0, or -1 with err */
	enum auth_error err;          /* _NOTFOUND, _TEMP */
	bool is_owned;                /* owner check */
	struct auth_recipient *accts; /* RCPT (heap) */
	size_t n_accts;
	enum store_error store_err; /* NONE, or _QUOTA / _TEMP for an account */
	/* the caller's continuation, on the worker with the session alive */
	void (*done)(struct smtp_session *s, struct smtp_lookup *l);
	void *arg;           /* the caller's state, in arena */
	struct arena *arena; /* freed with l */
	/* private */
	struct auth_service *auth;
	struct store *store;
	char *separator;
	bool use_folder;
};

/* A lookup for address with an arena for the caller's state. */
struct smtp_lookup *smtp_lookup_new(const char *address);
/* Runs l on the job pool; l->done(s, l) follows. l belongs to the job until
   then (freed by smtp_lookup_free, also when the session went away). */
void smtp_lookup_submit(struct smtp_session *s, struct smtp_lookup *l);
void smtp_lookup_free(struct smtp_lookup *l);

#endif
