/* SPDX-License-Identifier: MIT */
/*
 * smtp_mx.h: where mail for a domain goes (RFC 5321 section 5.1), through
 * libunbound: the MX records by preference, shuffled among equal
 * preferences, each host's A then AAAA addresses; no MX record means the
 * domain itself (the implicit MX); a null MX (RFC 7505: one record, ".")
 * means the domain takes no mail. The DNS answers are hostile input: names
 * and counts are bounded.
 *
 * One resolver per delivery thread (libunbound contexts are cheap and have
 * their own cache). With nameservers set ("127.0.0.1:5353 ...", the
 * `dns.nameservers` key) every query goes to them; otherwise to the ones
 * of /etc/resolv.conf.
 */
#ifndef TERN_SMTP_SMTP_MX_H
#define TERN_SMTP_SMTP_MX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMTP_MX_MAX_HOSTS 16

struct smtp_mx_host {
	char name[256]; /* the MX host name, for SNI, the log and DSNs */
	char ip[48];    /* numeric */
	unsigned pref;
	bool is_secure;     /* the MX records (or the implicit MX) and this address
	                       were DNSSEC-validated: DANE may apply (RFC 7672 2.2) */
	char expanded[256]; /* the name's CNAME target the address came from
	                       ("" when none): where DANE looks first (RFC 7672
	                       section 2.2.3) */
};

enum smtp_mx_status {
	SMTP_MX_OK,
	SMTP_MX_TEMPFAIL,  /* SERVFAIL, timeout: try later */
	SMTP_MX_NO_DOMAIN, /* NXDOMAIN, or no address anywhere: permanent */
	SMTP_MX_NULL,      /* RFC 7505 null MX: permanent, 5.1.10 */
};

struct smtp_resolver;

/* nameservers: "" for resolv.conf. NULL with a heap *error_out. */
struct smtp_resolver *smtp_resolver_new(const char *nameservers, char **error_out);
/* DNSSEC trust anchors (DS or DNSKEY records in zone-file form, e.g.
   Debian's /usr/share/dns/root.key) from file: answers under them are
   validated, and only validated ones count as secure. -1 with a heap
   *error_out. */
int smtp_resolver_add_trust_anchors(struct smtp_resolver *r, const char *file, char **error_out);
void smtp_resolver_free(struct smtp_resolver **rp);

/* The hosts to try for domain, in order, into hosts_out (at most
   SMTP_MX_MAX_HOSTS). why_out says what failed when not SMTP_MX_OK. */
enum smtp_mx_status smtp_mx_lookup(struct smtp_resolver *r, const char *domain,
                                   struct smtp_mx_host *hosts_out, size_t *n_out, char *why_out,
                                   size_t why_len);

/* One raw query (rrtype and class IN), for the checks of smtp_mailauth.c.
   0 with *res_out to ub_resolve_free(), -1 when the resolver itself failed
   (a temporary error). */
struct ub_result;
int smtp_resolver_query(struct smtp_resolver *r, const char *name, int rrtype,
                        struct ub_result **res_out);
/* A TXT record's rdata (its character-strings joined) as one string into
   out. -1 when malformed, longer than cap - 1, or holding a NUL byte. */
int smtp_dns_txt_join(const unsigned char *rdata, size_t len, char *out, size_t cap);
/* A wire-format name (uncompressed, as unbound hands rdata) to dotted text
   without the final dot; "" for the root. -1 when malformed or when a label
   holds a byte that is not a hostname's (letters, digits, '-', '_'). */
int smtp_dns_wire_name(const unsigned char *p, size_t len, char *out, size_t cap);

/* Sorts MX records by preference and shuffles each run of equal ones with
   rnd (a random number source, e.g. random_r): pure, for the unit test. */
struct smtp_mx_record {
	unsigned pref;
	char name[256];
};
void smtp_mx_order(struct smtp_mx_record *v, size_t n, uint32_t (*rnd)(void *), void *rnd_arg);

#endif
