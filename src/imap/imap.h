/* SPDX-License-Identifier: MIT */
/*
 * imap.h: the IMAP server as the rest of tern sees it: a struct net_protocol
 * to hang on listeners, and the process-wide state its sessions share.
 */
#ifndef TERN_IMAP_H
#define TERN_IMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/auth.h"

struct net_jobs;
struct net_protocol;
struct imap_server;

struct imap_settings {
	uint16_t tls_port;    /* the implicit-TLS listener, for error texts; 0 = none */
	uint64_t max_line;    /* command text, literals excluded */
	uint64_t max_literal; /* one literal (APPEND message size) */
	uint64_t max_literal_before_login; /* all literals of a command, not logged in */
	uint64_t max_line_before_login;    /* command text, not logged in */
	uint64_t max_command_literals;     /* in-memory literals of a command */
	uint64_t max_session_memory;       /* a command's working memory (search sets) */
	uint64_t login_timeout_ms;         /* idle, and in total, before login */
	uint64_t idle_timeout_ms;          /* authenticated; RFC 9051 5.4: at least 30 min */
	uint64_t max_bad_commands;         /* in a row, then BYE */
	/* CONVERT (RFC 5259 section 8.5): messages, and parts of a message,
	   one command may convert; more is NO [MAXCONVERTMESSAGES n],
	   [MAXCONVERTPARTS n]. */
	uint64_t convert_max_messages, convert_max_parts;
	bool literal_minus; /* LITERAL- instead of LITERAL+ (RFC 7888 5) */
	bool user_setquota; /* users may SETQUOTA their own root (RFC 9208 4.1.3) */
	/* METADATA (RFC 5464): largest value, entries per mailbox (and on the
	   server), whether /private entries may be set, the /shared/admin URI
	   ("" = none). */
	uint64_t metadata_max_size, metadata_max_entries;
	bool metadata_private;
	char metadata_admin[256];
	/* ANNOTATE (RFC 5257): largest value, entries per message a user sees. */
	uint64_t annotation_max_size, annotation_max_entries;
	/* LOGIN "user<sep>mailbox" lands in a mailbox shared with user
	   (imap.shared_login_separator); "" = off. */
	char shared_login_separator[8];
};

struct session_service;

/* The shared state sessions get as their protocol_arg. auth and jobs are
   borrowed for the server's life. */
struct imap_server *imap_server_new(const struct imap_settings *settings, struct auth_service *auth,
                                    struct net_jobs *jobs, bool tls_available);
/* What a listener's protocol_arg is for IMAP (session/session.h); a
   listener uses session_net_protocol. */
const struct session_service *imap_server_service(struct imap_server *srv);
/* The mail store sessions open accounts in, and the pool that commits
   messages to it (APPEND); set before the first accept. */
struct store;
void imap_server_set_store(struct imap_server *srv, struct store *store,
                           struct net_jobs *store_pool);
/* The pool that runs the commands whose cost grows with the mailbox
   (IMAP_CMD_OFF_LOOP in commands.c); NULL (the default) runs them on the
   worker. Set before the first accept. */
void imap_server_set_query_pool(struct imap_server *srv, struct net_jobs *pool);
/* New sessions use the new settings; live ones keep theirs (auth.plaintext,
   decided by the auth service, applies to all at once). */
void imap_server_reload(struct imap_server *srv, const struct imap_settings *settings,
                        bool tls_available);
void imap_server_free(struct imap_server **srvp);

#endif
