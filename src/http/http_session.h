/* SPDX-License-Identifier: MIT */
/*
 * http_session.h: one HTTP connection and what the route handlers share.
 *
 * States: REQUEST_LINE (empty lines before it are skipped, RFC 9112
 * section 2.2) -> HEADERS -> BODY (only with a Content-Length) -> the
 * handler runs as one session-core command and queues its response ->
 * REQUEST_LINE again when the connection persists, else the session closes
 * once the response is sent. Pipelined requests are answered in order:
 * input is read only between requests. A malformed request gets its status
 * code (400, 413, 414, 431, 501, 505) and the connection closes.
 */
#ifndef TERN_HTTP_SESSION_H
#define TERN_HTTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"
#include "http/http_parse.h"
#include "http/http_www.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "session/session.h"

struct arena;

/* The settings one connection uses, shared by reference (strings owned). */
struct http_site {
	struct http_settings s;
	char *hostname;
	int refs; /* atomic */
};

struct http_admin; /* signed-in administrators (http_admin.c) */
struct http_usage; /* the store census (http_usage.c) */

struct http_server {
	struct session_service service;
	struct http_site *site; /* guarded by lock */
	void *lock;             /* pthread_mutex_t * */
	struct auth_service *auth;
	struct net_jobs *auth_pool; /* admin logins and account operations */
	struct store *store;        /* quotas; NULL: not available */
	char *data_dir;             /* the outbound queue's; NULL: not available */
	struct http_admin *admin;
	struct http_usage *usage; /* the store census for /metrics */
	struct net_tls *tls;      /* signs .mobileconfig; guarded by lock; NULL: none */
	uint64_t started_ms;
};

enum http_state { HTTP_REQUEST_LINE, HTTP_HEADERS, HTTP_BODY, HTTP_HANDLING };

struct http_session {
	struct session base; /* first: sid, log context, lifecycle, conn */
	struct http_server *srv;
	struct http_site *site;
	enum http_state state;
	struct arena *arena; /* per request: the parsed head, decoded values */
	struct http_request req;
	uint64_t head_bytes;
	struct buf body;
	struct buf extra_headers; /* "Name: value\r\n" lines for the response */
	uint64_t start_us;
	int status;        /* of the response sent, for the log */
	bool is_async;     /* the handler continues in a job (http_wait) */
	const char *route; /* static: the route's name, for the log */
	void *pending;     /* an admin job's result waiting out a failure delay */
	void (*pending_free)(void *pending);
};

/* Queues the response: status line, Content-Type and Content-Length, the
   lines added with http_header_add(), then body (left out for HEAD). */
void http_respond(struct http_session *s, int status, const char *content_type, const char *body,
                  size_t len);
/* A short text/plain response "404 Not Found" (with why, if not NULL). */
void http_respond_error(struct http_session *s, int status, const char *why);
/* Adds a header field line to the next response. */
void http_header_add(struct http_session *s, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* The handler continues later (a job): input pauses until http_resume(). */
void http_wait(struct http_session *s);
/* A waiting handler queued its response: ends the request, then reads on. */
void http_resume(struct http_session *s);

/* Admin sign-ins (http_admin.c), made with the server. */
struct http_admin *http_admin_new(void);
void http_admin_free(struct http_admin **ap);
void http_admin_set_local_token(struct http_admin *a, const char *token);

/* The store census behind /metrics (http_usage.c), made with the server. */
struct http_usage *http_usage_new(void);
void http_usage_free(struct http_usage **up);
/* Appends the store families of the last census to out, and starts a new
   census in the background when that one is older than
   http.usage_interval. Nothing before the first census has finished. */
void http_usage_render(struct http_session *s, struct buf *out);

/* The TLS set-up that signs profiles, referenced (unref it), or NULL. */
struct net_tls *http_server_tls(struct http_server *srv);

/* The www file named name (admin.html ...), or NULL. */
const struct http_www_file *http_www_lookup(const char *name);

/* A route's handler: responds before it returns, or calls http_wait(). */
typedef void http_handler_fn(struct http_session *s);

struct http_route {
	const char *path;   /* compared case-insensitively (Outlook capitalises) */
	const char *method; /* "GET" (HEAD too) or "POST" */
	http_handler_fn *fn;
	const char *name; /* metric and log label */
};

/* The route for path, or NULL (404). */
const struct http_route *http_route_lookup(const char *path);

http_handler_fn http_autoconfig_get, http_autodiscover_post, http_mobileconfig_get,
        http_mta_sts_get, http_metrics_get, http_healthz_get;
/* The admin API (http_admin.c): sign-in, sign-out, and every other
   /api/v1 call, which http_admin_api() picks by the route's name. */
http_handler_fn http_admin_page_get, http_admin_login_post, http_admin_logout_post, http_admin_api;

#endif
