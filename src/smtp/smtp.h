/* SPDX-License-Identifier: MIT */
/*
 * smtp.h: the SMTP and LMTP server as the rest of tern sees it: settings,
 * the process-wide state sessions share, and one session_service per role
 * to hang on listeners (cli/cmd_serve.c's service table):
 *
 *   SMTP_ROLE_MX          port N+25: mail for the local domains only
 *                         (RFC 5321), STARTTLS, no AUTH
 *   SMTP_ROLE_SUBMISSION  ports N+587 (STARTTLS) and N+465 (implicit TLS):
 *                         AUTH required (RFC 6409, RFC 8314); local
 *                         recipients delivered, remote ones queued
 *   SMTP_ROLE_LMTP        port N+24 and a Unix socket (RFC 2033): one
 *                         reply per recipient after the message
 *
 * docs/SMTP.md is the admin's guide.
 */
#ifndef TERN_SMTP_SMTP_H
#define TERN_SMTP_SMTP_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/auth.h"

struct net_jobs;
struct session_service;
struct smtp_queue;
struct smtp_server;
struct store;

enum smtp_role {
	SMTP_ROLE_MX,
	SMTP_ROLE_SUBMISSION,
	SMTP_ROLE_LMTP,
	SMTP_ROLE_COUNT,
};

/* tern.conf [smtp]; strings heap (conf.c), copied by smtp_server_new/reload. */
struct smtp_settings {
	char *hostname;             /* greeting, Received "by" (server.hostname) */
	char *domains;              /* local domains; "" = server.domain */
	char *default_domain;       /* server.domain */
	uint64_t max_line;          /* a command line, CRLF excluded */
	uint64_t max_message_size;  /* SIZE and the spool's limit */
	uint64_t max_recipients;    /* per transaction */
	uint64_t max_errors;        /* bad commands per session, then 421 */
	uint64_t max_junk_commands; /* NOOP, RSET, VRFY, HELP... without a MAIL */
	uint64_t timeout_ms;        /* idle time allowed for the client */
	uint64_t login_timeout_ms;  /* submission: from connect to AUTH, in total */
	bool quota_temporary;       /* over quota: 452 4.2.2 (yes) or 552 5.2.2 */
	char *subaddress_separator; /* "+"; "" turns sub-addressing off */
	bool subaddress_folder;     /* user+tag@ into folder "tag" when it exists */
	/* Inbound authentication on the MX (smtp_mailauth.h). */
	bool mailauth;          /* mailauth.enabled: SPF, DKIM, DMARC, Authentication-Results */
	int mailauth_failure;   /* enum smtp_mailauth_action: mailauth.failure */
	char *mailauth_domains; /* mailauth.domains: "DOMAIN:ACTION ..." (checked by conf.c) */
	char *mailauth_psl;     /* mailauth.public_suffix_list (read once, at start) */
	char *nameservers;      /* dns.nameservers, "" for resolv.conf */
	char *hold_dir;         /* DATA_DIR/tmp: messages held while they are checked */
};

/* The shared state. auth and jobs (AUTH's password checks, mailauth's
   DNS queries) are borrowed for the server's life. */
struct smtp_server *smtp_server_new(const struct smtp_settings *settings, struct auth_service *auth,
                                    struct net_jobs *jobs, bool tls_available);
const struct session_service *smtp_server_service(struct smtp_server *srv, enum smtp_role role);
/* Set before the first accept (borrowed): the store, its pool of writers
   (store.writers threads: store_deliver and the queue's fsyncs, shared with
   IMAP APPEND), the pool that resolves MAIL's and RCPT's addresses
   (smtp.lookup_workers threads) and the outbound queue. */
void smtp_server_set_store(struct smtp_server *srv, struct store *store,
                           struct net_jobs *store_pool, struct net_jobs *lookup_pool,
                           struct smtp_queue *queue);
/* New sessions use the new settings; live ones keep theirs (auth.plaintext,
   decided by the auth service, applies to all at once). */
void smtp_server_reload(struct smtp_server *srv, const struct smtp_settings *settings,
                        bool tls_available);
void smtp_server_free(struct smtp_server **srvp);

#endif
