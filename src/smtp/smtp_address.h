/* SPDX-License-Identifier: MIT */
/*
 * smtp_address.h: what an envelope address means here: local, remote, or
 * refused. The relay rules live in this one place, so every spelling that
 * could turn an MX into an open relay is refused the same way whatever
 * command or port it comes through:
 *
 *   user%remote@local   the "%-hack"            refused
 *   remote!user@local   a UUCP bang path        refused
 *   <@local:user@remote> a source route         refused (RFC 5321 4.1.1.3
 *                                               lets a server ignore it; we
 *                                               do not try to be clever)
 *   "user@remote"@local a quoted local part     refused for local domains
 *   user@[192.0.2.1]    an address literal      refused
 *   user@local.          a trailing dot          refused (not a Domain: the
 *                                               parser already says so)
 *   user@remote         another domain          refused on the MX and LMTP;
 *                                               queued on submission
 *
 * Pure: no socket, store or database. Recipients that pass go on to
 * recipient resolution (smtp_recipient.c, accounts and aliases).
 */
#ifndef TERN_SMTP_SMTP_ADDRESS_H
#define TERN_SMTP_SMTP_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct smtp_path;

/* The domains this server receives mail for, lowercased. */
struct smtp_domains {
	char **v;
	size_t n;
};

/* Parses a space/comma-separated list (tern.conf smtp.domains) and adds
   fallback when the list is empty. Heap; free with smtp_domains_free. */
void smtp_domains_parse(struct smtp_domains *d, const char *list, const char *fallback);
void smtp_domains_free(struct smtp_domains *d);
/* The first domain (postmaster's). */
const char *smtp_domains_primary(const struct smtp_domains *d);
/* ASCII case-insensitive membership. */
bool smtp_domains_has(const struct smtp_domains *d, const char *domain);

enum smtp_addr_class {
	SMTP_ADDR_LOCAL,   /* for an account or alias here: resolve it */
	SMTP_ADDR_REMOTE,  /* another domain (submission queues it) */
	SMTP_ADDR_REFUSED, /* a relay spelling or a domain we do not serve */
};

/*
 * Classifies a recipient path. *address_out gets the address to use: for
 * LOCAL, local@domain lowercased (Postmaster becomes postmaster@primary);
 * for REMOTE the address with its domain lowercased. For REFUSED, *why_out
 * is a static phrase for the 550 5.7.1 reply. allow_remote: submission.
 */
enum smtp_addr_class smtp_address_classify(struct arena *a, const struct smtp_path *p,
                                           const struct smtp_domains *local, bool allow_remote,
                                           const char **address_out, const char **why_out);

/* local@domain lowercased in ASCII (UTF-8 bytes kept), in a. */
char *smtp_address_lower(struct arena *a, const char *address);

/*
 * The mailbox addresses of the From: fields in a header block (RFC 5322
 * section 3.6.2), lowercased, as a NULL-terminated array in a; *n_out of
 * them. A message without From: gives none.
 */
const char **smtp_header_from(struct arena *a, const unsigned char *hdr, size_t len, size_t *n_out);

#endif
