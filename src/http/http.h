/* SPDX-License-Identifier: MIT */
/*
 * http.h: the HTTP(S) endpoint (RFC 9110/9112) as the rest of tern sees it:
 * settings, the process-wide server its sessions share, and the
 * session_service listeners use (with session_net_protocol). It serves
 * client autoconfiguration (Thunderbird autoconfig, Outlook Autodiscover,
 * Apple .mobileconfig), the MTA-STS policy, /metrics, /healthz, the admin
 * REST API (/api/v1/...) and the web admin page (/admin) built on it.
 *
 * It runs on the session core like IMAP and POP3, so it has the same
 * connection limits, per-IP limits, TLS set-up and log context; the request
 * parser is ours (http_parse.h), strict and fuzzed.
 */
#ifndef TERN_HTTP_H
#define TERN_HTTP_H

#include <stdbool.h>
#include <stdint.h>

struct auth_service;
struct buf;
struct http_server;
struct net_jobs;
struct net_tls;
struct store;
struct session_service;

enum http_access {
	HTTP_ACCESS_NEVER,
	HTTP_ACCESS_LOOPBACK, /* 127.0.0.0/8 and ::1 only */
	HTTP_ACCESS_ANY,
};

enum http_mta_sts_mode { HTTP_MTA_STS_NONE, HTTP_MTA_STS_TESTING, HTTP_MTA_STS_ENFORCE };

struct http_settings {
	uint64_t timeout_ms; /* idle time allowed while reading and between requests */
	uint64_t max_line;   /* request line and each field line */
	uint64_t max_head;   /* all field lines together */
	uint64_t max_body;
	enum http_access metrics_access;
	uint64_t metrics_top;       /* accounts in tern_account_storage_bytes */
	uint64_t usage_interval_ms; /* the store census's age limit (http_usage.c) */
	/* What autoconfiguration advertises (borrowed; the server copies). */
	const char *hostname;
	/* Listener ports clients are told; 0 = not served (left out). */
	uint16_t imap_port, imaps_port, pop3_port, pop3s_port;
	uint16_t submission_port, submissions_port;
	bool sign_mobileconfig; /* with the TLS certificate (http_server_set_tls) */
	enum http_mta_sts_mode mta_sts_mode;
	uint64_t mta_sts_max_age_s;
};

struct http_server *http_server_new(const struct http_settings *settings);
const struct session_service *http_server_service(struct http_server *srv);
/* The admin API and page check passwords and change accounts on pool
   (auth's job threads); without this call they answer 503. */
void http_server_set_auth(struct http_server *srv, struct auth_service *auth,
                          struct net_jobs *pool);
/* Accepts token (64 hex digits) as an administrator's: the one `tern serve`
   writes to DIR/admin.token for the local CLI (`tern status`). */
void http_server_set_local_token(struct http_server *srv, const char *token);
/* The mail store (quotas) and the data directory (the outbound queue,
   DIR/queue) for the admin API, before the server runs; data_dir is
   copied. */
void http_server_set_store(struct http_server *srv, struct store *store, const char *data_dir);
/* The certificate and key that sign Apple configuration profiles (the
   server's TLS ones; http_server takes a reference and drops the old one).
   NULL: profiles go unsigned. Call again after a reload. */
void http_server_set_tls(struct http_server *srv, struct net_tls *tls);
/* New connections use the new settings; live ones keep theirs. */
void http_server_reload(struct http_server *srv, const struct http_settings *settings);
void http_server_free(struct http_server **srvp);

/* A host name as DNS and autoconfiguration take it: letters, digits, '-'
   and '.', no empty label at either end. */
bool http_domain_is_valid(const char *d);

/* The MTA-STS policy file (RFC 8461 section 3.2) for settings, appended to
   out; `tern dns-records` derives the _mta-sts TXT id from it. */
void http_mta_sts_policy(const struct http_settings *settings, struct buf *out);

#endif
