/* SPDX-License-Identifier: MIT */
/*
 * smtp_mailauth.h: who really sent a message arriving at the MX: SPF (RFC
 * 7208) of the client's address for the MAIL FROM domain (the HELO name
 * for the null sender), DKIM signatures verified (RFC 6376, rsa-sha256
 * and RFC 8463 ed25519-sha256), and DMARC (RFC 7489): the From: domain's
 * policy, with SPF and DKIM aligned to it. The verdicts become one
 * Authentication-Results header field (RFC 8601) and a DMARC outcome the
 * recipient domain's policy (smtp_mailauth_policy) turns into an action.
 *
 * The libraries are Debian's: libspf2, libopendkim, libopendmarc. Every
 * DNS query of the three goes through the delivery resolver (smtp_mx.h,
 * libunbound, `dns.nameservers`): libspf2 through a DNS layer of ours,
 * libopendkim through its key lookup callback, and DMARC records are
 * looked up here and handed to libopendmarc.
 *
 * Flow: smtp_mailauth_new() when DATA starts (on the event loop), every
 * message byte through smtp_mailauth_write() (DKIM's header and body
 * hashes are computed as the message streams; nothing is held but the
 * header fields), then smtp_mailauth_finish() once on a pool thread: the
 * DNS queries block. Input is hostile: the message, the envelope, and
 * every DNS answer; what goes into the header field is restricted to
 * hostname bytes.
 */
#ifndef TERN_SMTP_SMTP_MAILAUTH_H
#define TERN_SMTP_SMTP_MAILAUTH_H

#include <stdbool.h>
#include <stddef.h>

/* What to do with a message DMARC says fails, per recipient domain. */
enum smtp_mailauth_action {
	SMTP_MAILAUTH_DMARC,   /* what the From: domain asks: p=reject, quarantine (Junk), none */
	SMTP_MAILAUTH_DELIVER, /* deliver, only the header says it failed */
	SMTP_MAILAUTH_JUNK,    /* deliver into the Junk folder (INBOX without one) */
	SMTP_MAILAUTH_REJECT,  /* 550 5.7.26 at the end of data */
};

/* One recipient domain's action; the rest get the default. */
struct smtp_mailauth_domain {
	char *domain;
	enum smtp_mailauth_action action;
};

struct smtp_mailauth_policy {
	enum smtp_mailauth_action fallback;
	struct smtp_mailauth_domain *domains; /* heap */
	size_t n_domains;
};

/* Parses "DOMAIN:ACTION ..." (action deliver|junk|reject|dmarc; space or
   comma separated) into *p (p->fallback is left alone). -1 with a heap
   *error_out naming the bad item. */
int smtp_mailauth_policy_parse(const char *text, struct smtp_mailauth_policy *p, char **error_out);
void smtp_mailauth_policy_deinit(struct smtp_mailauth_policy *p);
/* The action for a recipient domain (lowercase). */
enum smtp_mailauth_action smtp_mailauth_policy_get(const struct smtp_mailauth_policy *p,
                                                   const char *domain);

/* Once per process, before the first message: libopendkim's and
   libopendmarc's library state (psl_file: the public suffix list for
   DMARC's organizational domains, RFC 7489 section 3.2; "" or a missing
   file falls back to the last two labels). -1 with a heap *error_out. */
int smtp_mailauth_init(const char *psl_file, char **error_out);
void smtp_mailauth_deinit(void);

/* The result of the checks. */
enum smtp_dmarc_outcome {
	SMTP_DMARC_NONE, /* no policy published, or no From: domain */
	SMTP_DMARC_PASS,
	SMTP_DMARC_FAIL,
	SMTP_DMARC_TEMPERROR, /* the record could not be fetched: never an action */
};

struct smtp_mailauth_result {
	char *header; /* "Authentication-Results: ...\r\n", heap */
	enum smtp_dmarc_outcome dmarc;
	char dmarc_policy; /* for FAIL: 'r' reject, 'q' quarantine, 'n' none (after pct) */
	char from_domain[256];
	char summary[160]; /* "spf=pass dkim=fail dmarc=fail", for the log */
};

struct smtp_mailauth;

/* ip: the client's numeric address; helo: its EHLO name; sender: MAIL
   FROM ("" for <>). Copies all three. Never fails (a message whose DKIM
   state cannot be set up gets dkim=temperror). */
struct smtp_mailauth *smtp_mailauth_new(const char *ip, const char *helo, const char *sender);
/* Message bytes as received (CRLF or bare LF). */
void smtp_mailauth_write(struct smtp_mailauth *m, const char *data, size_t len);
/* Runs SPF, finishes DKIM, evaluates DMARC for from_domain (the From:
   address's domain, NULL when there is none or several): blocking DNS,
   on a pool thread. authserv_id names this server in the header field
   (server.hostname). nameservers as for smtp_resolver_new(). Fills *out;
   free out->header. */
void smtp_mailauth_finish(struct smtp_mailauth *m, const char *nameservers, const char *authserv_id,
                          const char *from_domain, struct smtp_mailauth_result *out);
void smtp_mailauth_free(struct smtp_mailauth **mp);

/* True when field (one whole header field, "Name: value" with its folded
   lines, CRLF or not) is an Authentication-Results field claiming
   authserv_id (RFC 8601 section 2.2: the first token after CFWS; compared
   without case). Such fields in arriving mail are forgeries or stale and
   are removed (section 5). */
bool smtp_mailauth_is_our_results(const char *field, size_t len, const char *authserv_id);

#endif
