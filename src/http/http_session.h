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

struct http_server {
	struct session_service service;
	struct http_site *site; /* guarded by lock */
	void *lock;             /* pthread_mutex_t * */
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
	uint64_t requests;
	uint64_t start_us;
	int status; /* of the response sent, for the log */
};

/* Queues the response: status line, Content-Type and Content-Length, the
   lines added with http_header_add(), then body (left out for HEAD). */
void http_respond(struct http_session *s, int status, const char *content_type, const char *body,
                  size_t len);
/* A short text/plain response "404 Not Found" (with why, if not NULL). */
void http_respond_error(struct http_session *s, int status, const char *why);
/* Adds a header field line to the next response. */
void http_header_add(struct http_session *s, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* A route's handler: responds before it returns. */
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

#endif
