/* SPDX-License-Identifier: MIT */
/*
 * pop3.h: the POP3 server (RFC 1939, RFC 2449 CAPA, RFC 5034 SASL, RFC 2595
 * STLS, RFC 6856 UTF8/LANG) as the rest of tern sees it: settings, the
 * process-wide state its sessions share, and the session_service that
 * listeners use (with session_net_protocol).
 */
#ifndef TERN_POP3_H
#define TERN_POP3_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/auth.h"

struct net_jobs;
struct pop3_server;
struct session_service;
struct store;

struct pop3_settings {
	uint16_t tls_port; /* the implicit-TLS listener, for error texts; 0 = none */
	uint64_t login_timeout_ms; /* idle, and in total, before login */
	uint64_t idle_timeout_ms;  /* RFC 1939 section 3: at least 10 minutes */
	uint64_t max_bad_commands; /* in a row, then the session ends */
	uint64_t login_delay_s;    /* RFC 2449 LOGIN-DELAY, enforced; 0 = none */
	int64_t expire_days;       /* RFC 2449 EXPIRE: -1 = NEVER, 0 = deleted at QUIT once read */
	bool retr_sets_seen;       /* RETR marks the message \Seen for IMAP */
};

struct pop3_server *pop3_server_new(const struct pop3_settings *settings, struct auth_service *auth,
                                    struct net_jobs *auth_pool, bool tls_available);
/* The store and the pool that opens maildrops and commits deletions. */
void pop3_server_set_store(struct pop3_server *srv, struct store *store,
                           struct net_jobs *store_pool);
const struct session_service *pop3_server_service(struct pop3_server *srv);
/* New sessions use the new settings; live ones keep theirs (auth.plaintext,
   decided by the auth service, applies to all at once). */
void pop3_server_reload(struct pop3_server *srv, const struct pop3_settings *settings,
                        bool tls_available);
void pop3_server_free(struct pop3_server **srvp);

#endif
