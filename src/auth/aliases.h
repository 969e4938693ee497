/* SPDX-License-Identifier: MIT */
/*
 * aliases.h: recipient aliases in accounts.db (table aliases, schema 3) and
 * the resolution of a local address to the accounts that receive its mail.
 *
 * An alias maps an address to one or more targets, each an account or
 * another alias (a list is several rows). "@domain" is the domain's
 * catch-all: absent unless an administrator adds it (`tern alias add
 * @example.org postmaster@example.org`). Resolution, in order:
 *
 *   1. the address is an account                  -> that account
 *   2. the address is an alias                    -> each target, resolved
 *   3. local+tag@domain (sub-addressing)          -> local@domain resolved,
 *                                                    with "tag" as folder
 *   4. the domain has a catch-all                 -> its targets, resolved
 *
 * Aliases nest at most AUTH_ALIAS_DEPTH deep (a loop ends there); targets
 * that no longer exist are skipped; each account appears once. Everything
 * here blocks on SQLite: call it from a job thread (or the CLI).
 */
#ifndef TERN_AUTH_ALIASES_H
#define TERN_AUTH_ALIASES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/accounts.h"

struct auth_service;

#define AUTH_ALIAS_DEPTH 8

struct auth_alias {
	char *address; /* "sales@example.org" or "@example.org" */
	char *target;
	int64_t created;
};

/* alias is an address or "@domain"; target an address. Both lowercased.
   -1 with _INVALID (syntax, alias == target), _EXISTS, _TEMP. */
int auth_alias_add(struct auth_db *db, const char *alias, const char *target,
                   enum auth_error *err_out);
/* Removes one target, or every target of alias when target is NULL.
   -1 with _NOTFOUND, _TEMP. */
int auth_alias_delete(struct auth_db *db, const char *alias, const char *target,
                      enum auth_error *err_out);
/* Every row (alias NULL) or those of one alias, by address then target.
   Heap array, free with auth_aliases_free. */
int auth_alias_list(struct auth_db *db, const char *alias, struct auth_alias **out, size_t *n_out,
                    enum auth_error *err_out);
void auth_aliases_free(struct auth_alias **vp, size_t n);

/* One account that receives mail sent to an address. */
struct auth_recipient {
	uint64_t account_id;
	char address[256]; /* the account's address (Delivered-To) */
	char folder[256];  /* the sub-address tag, "" when none */
};

/*
 * Resolves address (local@domain, any case) as above; separator is the
 * sub-address separator ("+"; "" turns step 3 off). Returns 0 with a heap
 * array (free()) of at least one recipient, or -1 with _NOTFOUND, _TEMP.
 */
int auth_recipient_resolve(struct auth_db *db, const char *address, const char *separator,
                           struct auth_recipient **out, size_t *n_out, enum auth_error *err_out);
/*
 * Whether account_id may use address as its sender (submission, RFC 6409
 * section 4.3 leaves the policy to us): its own address, a sub-address of
 * it, or an alias that resolves to it without the catch-all.
 * 0 with *owned_out, or -1 (_TEMP).
 */
int auth_address_owned(struct auth_db *db, uint64_t account_id, const char *address,
                       const char *separator, bool *owned_out, enum auth_error *err_out);

/* The same two on a job thread's own connection (the server's pool). */
int auth_service_resolve(struct auth_service *svc, const char *address, const char *separator,
                         struct auth_recipient **out, size_t *n_out, enum auth_error *err_out);
int auth_service_address_owned(struct auth_service *svc, uint64_t account_id, const char *address,
                               const char *separator, bool *owned_out, enum auth_error *err_out);

#endif
