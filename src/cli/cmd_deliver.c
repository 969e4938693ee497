/* SPDX-License-Identifier: MIT */
/*
 * cmd_deliver.c: `tern -d DIR deliver [--mailbox NAME] ADDRESS... < message`,
 * local delivery for an MTA: what dovecot-lda is to Postfix's
 * mailbox_command (or a pipe(8) transport). Resolves every ADDRESS to an
 * account in accounts.db (case-insensitive; a sub-address user+tag@domain
 * that is not an account itself goes to user@domain; addresses of one
 * account get one copy), streams stdin into a spool (the message is never
 * held in memory; a leading mbox "From " envelope line, which Postfix's
 * local(8) prepends for commands, is dropped) and stores it with
 * store_deliver: one parse, one file for all accounts. A missing --mailbox
 * falls back to INBOX, so mail is never refused for a folder name. Runs as
 * its own process beside `tern serve` on the same DIR: SQLite WAL and the
 * write-once blob files make that safe.
 *
 * Exit status (sysexits.h), what the MTA acts on; with several addresses
 * the worst wins, in this order:
 *   75 EX_TEMPFAIL  disk, database busy, over quota: try again later
 *   67 EX_NOUSER    an address is no account (stderr names it; the other
 *                   addresses got the message)
 *   69 EX_UNAVAILABLE  permanent: larger than store.max_message_size, or
 *                   than an account's whole storage quota
 *   65 EX_DATAERR   empty message
 *   64 EX_USAGE, 78 EX_CONFIG (tern.conf unreadable)
 *    0              stored for every address
 * Input is whatever the MTA hands over: any bytes, bounded by
 * store.max_message_size.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "auth/accounts.h"
#include "cli/cli.h"
#include "cli/conf.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"
#include "store/store.h"

/* One account to deliver to, and the first address that named it. */
struct recipient {
	const char *address;
	uint64_t account_id;
	struct store_account *acct;
};

/* Resolves address: itself, else without its "+tag". 0 with *id_out, 1
   when no account has it, -1 when the database failed. */
static int
resolve(struct auth_db *db, const char *address, uint64_t *id_out)
{
	struct auth_account acc;
	enum auth_error aerr;
	const char *plus = strchr(address, '+'), *at = strrchr(address, '@');
	int rc = 1;

	for (int pass = 0; pass < 2 && rc == 1; pass++) {
		char *name = pass == 0 ? xstrdup(address)
		             : plus != NULL && at != NULL && plus < at
		                     ? xasprintf("%.*s%s", (int)(plus - address), address, at)
		                     : NULL;

		if (name == NULL)
			break;
		if (auth_account_lookup(db, name, &acc, &aerr) == 0) {
			*id_out = acc.id;
			auth_account_clear(&acc);
			rc = 0;
		} else if (aerr != AUTH_ERR_NOTFOUND) {
			rc = -1;
		}
		free(name);
	}
	return rc;
}

/* Streams fd into sp, dropping a first line that starts with "From " (an
   mbox envelope: no RFC 5322 header field can start that way). 0, or -1
   with *err_out (_TEMP for a read error, said on stderr). */
static int
read_message(int fd, struct store_spool *sp, enum store_error *err_out)
{
	static const char from[] = "From ";
	enum { CHECK, SKIP, BODY } state = CHECK;
	size_t head = 0; /* bytes of "From " matched so far */
	char *buf = xmalloc(65536);
	int rc = 0;

	for (;;) {
		ssize_t n = read(fd, buf, 65536);
		const char *p = buf;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cli_fail("deliver: reading the message: %s", strerror(errno));
			*err_out = STORE_ERR_TEMP;
			rc = -1;
		}
		if (n <= 0)
			break;
		while (n > 0 && state == CHECK) {
			if (*p == from[head]) {
				p++;
				n--;
				if (++head == sizeof(from) - 1)
					state = SKIP;
				continue;
			}
			/* Not an envelope: what matched is message. */
			state = BODY;
			rc = store_spool_write(sp, from, head, err_out);
		}
		if (state == SKIP) {
			const char *nl = memchr(p, '\n', (size_t)n);

			if (nl == NULL)
				continue;
			n -= nl + 1 - p;
			p = nl + 1;
			state = BODY;
		}
		if (rc == 0 && n > 0)
			rc = store_spool_write(sp, p, (size_t)n, err_out);
		if (rc < 0)
			break;
	}
	/* A message shorter than "From " that matched it so far. */
	if (rc == 0 && state == CHECK)
		rc = store_spool_write(sp, from, head, err_out);
	free(buf);
	return rc;
}

/* The exit status for a failed target, and a line on stderr. */
static int
target_status(const struct recipient *r, const struct store_delivery_target *t, uint64_t size)
{
	struct store_quota q;
	enum store_error err;

	switch (t->err) {
	case STORE_ERR_NONE:
		return EX_OK;
	case STORE_ERR_TOOBIG:
		cli_fail("deliver: %s: message too big", r->address);
		return EX_UNAVAILABLE;
	case STORE_ERR_QUOTA:
		/* Full now, maybe not tomorrow; but a message larger than the
		   whole quota will never fit. */
		if (store_quota_get(r->acct, &q, &err) == 0 && q.storage_limit != 0 &&
		    size > q.storage_limit) {
			cli_fail("deliver: %s: message larger than the quota", r->address);
			return EX_UNAVAILABLE;
		}
		cli_fail("deliver: %s: over quota", r->address);
		return EX_TEMPFAIL;
	default:
		cli_fail("deliver: %s: %s", r->address, store_error_str(t->err));
		return EX_TEMPFAIL;
	}
}

/* The worse of two exit statuses, in the order of the top comment. */
static int
worse(int a, int b)
{
	static const int order[] = {EX_TEMPFAIL, EX_NOUSER, EX_UNAVAILABLE, EX_DATAERR};

	for (size_t i = 0; i < ARRAY_LEN(order); i++)
		if (a == order[i] || b == order[i])
			return order[i];
	return a != EX_OK ? a : b;
}

/* Resolves the addresses and opens their accounts. Returns EX_OK, or the
   status for unknown addresses (stderr names each) or a database failure. */
static int
open_recipients(const char *data_dir, struct store *store, char **addresses, size_t n,
                struct recipient *r, size_t *n_out)
{
	struct auth_db *db;
	enum store_error err;
	char *error;
	int status = EX_OK;

	*n_out = 0;
	if (auth_db_open(data_dir, &db, &error) < 0) {
		cli_fail("deliver: %s", error);
		free(error);
		return EX_TEMPFAIL;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t id;
		bool dup = false;
		int rc = resolve(db, addresses[i], &id);

		if (rc != 0) {
			if (rc > 0)
				cli_fail("deliver: %s: no such account", addresses[i]);
			status = worse(status, rc > 0 ? EX_NOUSER : EX_TEMPFAIL);
			continue;
		}
		for (size_t k = 0; k < *n_out; k++)
			dup |= r[k].account_id == id;
		if (dup)
			continue;
		r[*n_out] = (struct recipient){.address = addresses[i], .account_id = id};
		if (store_account_open(store, id, &r[*n_out].acct, &err) < 0) {
			cli_fail("deliver: %s: %s", addresses[i], store_error_str(err));
			status = worse(status, EX_TEMPFAIL);
			continue;
		}
		(*n_out)++;
	}
	auth_db_close(&db);
	return status;
}

/* Delivers sp to every recipient; a target whose mailbox is missing gets
   it in INBOX instead. Returns the exit status. */
static int
deliver_all(struct store_spool *sp, struct recipient *r, size_t n, const char *mailbox)
{
	struct store_delivery_target *t = xcalloc(n, sizeof(*t));
	struct arena *a = arena_new(1024);
	uint64_t size = store_spool_size(sp);
	int status = EX_OK;

	for (size_t i = 0; i < n; i++)
		t[i] = (struct store_delivery_target){.acct = r[i].acct, .mailbox = mailbox};
	store_deliver(sp, t, n);
	for (size_t i = 0; i < n; i++) {
		if (t[i].err == STORE_ERR_NOTFOUND && strcmp(mailbox, "INBOX") != 0) {
			fprintf(stderr,
			        "tern: deliver: %s: no mailbox \"%s\", delivered to INBOX\n",
			        r[i].address, mailbox);
			t[i].mailbox = "INBOX";
			store_deliver(sp, &t[i], 1);
		}
		if (t[i].err == STORE_ERR_NONE)
			log_info("deliver",
			         "event=delivered account=%llu mailbox=%s uid=%u size=%llu",
			         (unsigned long long)r[i].account_id,
			         log_str(a, t[i].mailbox, strlen(t[i].mailbox)), t[i].uid,
			         (unsigned long long)size);
		status = worse(status, target_status(&r[i], &t[i], size));
	}
	free(t);
	arena_free(&a);
	return status;
}

int
cli_deliver(const char *data_dir, int argc, char **argv)
{
	const char *mailbox = "INBOX";
	char **addresses = xcalloc((size_t)argc + 1, sizeof(*addresses));
	size_t n_addr = 0, n_rcpt = 0;
	struct recipient *rcpt = NULL;
	struct tern_conf conf;
	struct store *store = NULL;
	struct store_spool *sp = NULL;
	enum store_error err;
	char *error;
	int status;

	const char *usage = NULL;
	for (int i = 0; i < argc && usage == NULL; i++) {
		if (strcmp(argv[i], "--mailbox") == 0 && i + 1 < argc)
			mailbox = argv[++i];
		else if (argv[i][0] == '-')
			usage = "unknown option";
		else
			addresses[n_addr++] = argv[i];
	}
	if (usage == NULL && n_addr == 0)
		usage = "no address";
	if (usage == NULL && !store_mailbox_name_is_valid(mailbox))
		usage = "invalid mailbox name";
	if (usage != NULL) {
		free(addresses);
		cli_fail("deliver: %s (see tern deliver --help)", usage);
		return EX_USAGE;
	}
	if (conf_load(data_dir, &conf, &error) < 0) {
		cli_fail("%s", error);
		free(error);
		free(addresses);
		return EX_CONFIG;
	}
	log_configure(conf.log_level, conf.syslog);
	if (store_open(data_dir, &conf.store, &store, &err) < 0) {
		cli_fail("deliver: %s: cannot open the mail store: %s", data_dir,
		         store_error_str(err));
		status = EX_TEMPFAIL;
		goto out;
	}
	rcpt = xcalloc(n_addr, sizeof(*rcpt));
	status = open_recipients(data_dir, store, addresses, n_addr, rcpt, &n_rcpt);
	if (n_rcpt == 0)
		goto out;
	if (store_spool_new(store, &sp, &err) < 0 || read_message(STDIN_FILENO, sp, &err) < 0) {
		if (err == STORE_ERR_TOOBIG)
			cli_fail("deliver: message too big");
		else
			cli_fail("deliver: cannot spool the message: %s", store_error_str(err));
		status = worse(status, err == STORE_ERR_TOOBIG ? EX_UNAVAILABLE : EX_TEMPFAIL);
	} else if (store_spool_size(sp) == 0) {
		cli_fail("deliver: empty message");
		status = worse(status, EX_DATAERR);
	} else {
		status = worse(status, deliver_all(sp, rcpt, n_rcpt, mailbox));
	}
out:
	store_spool_free(&sp);
	for (size_t i = 0; i < n_rcpt; i++)
		store_account_close(&rcpt[i].acct);
	free(rcpt);
	store_close(&store);
	conf_free(&conf);
	free(addresses);
	return status;
}
