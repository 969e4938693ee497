/* SPDX-License-Identifier: MIT */
/*
 * http_session.c: the HTTP side of a session: reading a request (line by
 * line through the session core, which drops an over-long line as it
 * streams), the body up to http.max_body, dispatch to the route table,
 * responses, persistence, and the endings. See http_session.h for the
 * states. One log line per request (event=request), with the session
 * core's sid, protocol and IP.
 */
#include "http/http_session.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>

#include "lib/arena.h"
#include "net/tls.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "net/net.h"

static const struct session_ops http_session_ops;

static struct http_site *
site_new(const struct http_settings *settings)
{
	struct http_site *site = xcalloc(1, sizeof(*site));

	site->s = *settings;
	site->hostname = xstrdup(settings->hostname != NULL ? settings->hostname : "localhost");
	site->s.hostname = site->hostname;
	site->refs = 1;
	return site;
}

static void
site_unref(struct http_site **sitep)
{
	struct http_site *site = *sitep;

	*sitep = NULL;
	if (site == NULL || __atomic_sub_fetch(&site->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	free(site->hostname);
	free(site);
}

struct http_server *
http_server_new(const struct http_settings *settings)
{
	struct http_server *srv = xcalloc(1, sizeof(*srv));
	pthread_mutex_t *lock = xmalloc(sizeof(*lock));

	pthread_mutex_init(lock, NULL);
	srv->lock = lock;
	srv->site = site_new(settings);
	srv->admin = http_admin_new();
	srv->usage = http_usage_new();
	srv->started_ms = time_mono_ms();
	return srv;
}

void
http_server_set_auth(struct http_server *srv, struct auth_service *auth, struct net_jobs *pool)
{
	srv->auth = auth;
	srv->auth_pool = pool;
}

void
http_server_set_local_token(struct http_server *srv, const char *token)
{
	http_admin_set_local_token(srv->admin, token);
}

void
http_server_set_store(struct http_server *srv, struct store *store, const char *data_dir)
{
	srv->store = store;
	free(srv->data_dir);
	srv->data_dir = xstrdup(data_dir);
}

void
http_server_set_tls(struct http_server *srv, struct net_tls *tls)
{
	struct net_tls *old;

	if (tls != NULL)
		net_tls_ref(tls);
	pthread_mutex_lock(srv->lock);
	old = srv->tls;
	srv->tls = tls;
	pthread_mutex_unlock(srv->lock);
	net_tls_unref(&old);
}

struct net_tls *
http_server_tls(struct http_server *srv)
{
	pthread_mutex_lock(srv->lock);
	struct net_tls *tls = srv->tls;
	if (tls != NULL)
		net_tls_ref(tls);
	pthread_mutex_unlock(srv->lock);
	return tls;
}

void
http_server_reload(struct http_server *srv, const struct http_settings *settings)
{
	struct http_site *site = site_new(settings), *old;

	pthread_mutex_lock(srv->lock);
	old = srv->site;
	srv->site = site;
	pthread_mutex_unlock(srv->lock);
	site_unref(&old);
}

void
http_server_free(struct http_server **srvp)
{
	struct http_server *srv = *srvp;

	if (srv == NULL)
		return;
	*srvp = NULL;
	site_unref(&srv->site);
	http_admin_free(&srv->admin);
	http_usage_free(&srv->usage);
	net_tls_unref(&srv->tls);
	free(srv->data_dir);
	pthread_mutex_destroy(srv->lock);
	free(srv->lock);
	free(srv);
}

/* ---- responses ---- */

void
http_header_add(struct http_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&s->extra_headers, fmt, ap);
	va_end(ap);
	buf_puts(&s->extra_headers, "\r\n");
}

void
http_respond(struct http_session *s, int status, const char *content_type, const char *body,
             size_t len)
{
	struct buf b;
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	s->status = status;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	buf_init(&b);
	buf_printf(&b,
	           "HTTP/1.1 %d %s\r\nServer: tern\r\nDate: %s\r\nContent-Length: %zu\r\n"
	           "X-Content-Type-Options: nosniff\r\n",
	           status, http_status_text(status), date, len);
	if (content_type != NULL)
		buf_printf(&b, "Content-Type: %s\r\n", content_type);
	if (!s->req.keep_alive)
		buf_puts(&b, "Connection: close\r\n");
	if (s->extra_headers.len > 0)
		buf_append(&b, s->extra_headers.data, s->extra_headers.len);
	buf_puts(&b, "\r\n");
	if (strcmp(s->req.method, "HEAD") != 0 && len > 0)
		buf_append(&b, body, len);
	size_t total = b.len;
	net_conn_write_take(s->base.conn, buf_steal(&b), total);
}

void
http_respond_error(struct http_session *s, int status, const char *why)
{
	char *text = arena_printf(s->arena, "%d %s%s%s\n", status, http_status_text(status),
	                          why != NULL ? ": " : "", why != NULL ? why : "");

	http_respond(s, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* ---- lifecycle ---- */

static void
request_reset(struct http_session *s)
{
	arena_reset(s->arena);
	memset(&s->req, 0, sizeof(s->req));
	buf_reset(&s->body);
	buf_reset(&s->extra_headers);
	s->head_bytes = 0;
	s->state = HTTP_REQUEST_LINE;
	s->status = 0;
	s->route = "invalid";
}

static struct session *
http_open(struct net_conn *conn, void *arg)
{
	struct http_server *srv = arg;
	struct http_session *s = xcalloc(1, sizeof(*s));

	session_init(&s->base, conn, &http_session_ops);
	s->srv = srv;
	pthread_mutex_lock(srv->lock);
	s->site = srv->site;
	__atomic_add_fetch(&s->site->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(srv->lock);
	s->arena = arena_new(4096);
	buf_init(&s->body);
	buf_init(&s->extra_headers);
	request_reset(s);
	net_conn_set_timeout(conn, s->site->s.timeout_ms);
	return &s->base;
}

const struct session_service *
http_server_service(struct http_server *srv)
{
	if (srv->service.open == NULL)
		srv->service = (struct session_service){
		        .open = http_open,
		        .arg = srv,
		        .busy_reply = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\n"
		                      "Content-Length: 0\r\nConnection: close\r\n\r\n"};
	return &srv->service;
}

/* A request half-read gets 408 (RFC 9110 section 15.5.9); an idle
   persistent connection just closes. */
static void
http_timeout(struct session *base)
{
	struct http_session *s = (struct http_session *)base;

	if (s->state != HTTP_REQUEST_LINE || evbuffer_get_length(session_input(base)) > 0) {
		s->req.keep_alive = false;
		http_respond_error(s, 408, NULL);
	}
	session_close(&s->base);
}

static void
http_stop(struct session *base, enum session_stop why)
{
	session_close(base);
}

static void
http_notify(struct session *base, void *msg)
{
}

static void
http_free(struct session *base)
{
	struct http_session *s = (struct http_session *)base;

	if (s->pending != NULL)
		s->pending_free(s->pending);
	site_unref(&s->site);
	buf_deinit(&s->body);
	buf_deinit(&s->extra_headers);
	arena_free(&s->arena);
	session_deinit(&s->base);
	free(s);
}

/* ---- requests ---- */

static void
log_request(struct http_session *s)
{
	const char *route = s->route;
	const char *path = s->req.path != NULL ? s->req.path : "-";

	log_info("http", "event=request method=%s path=%s status=%d route=%s tls=%s us=%llu",
	         s->req.method[0] != '\0' ? s->req.method : "-",
	         log_str(s->arena, path, strlen(path)), s->status, route,
	         net_conn_is_tls(s->base.conn) ? "yes" : "no",
	         (unsigned long long)(metrics_now_us() - s->start_us));
	char code[8];
	snprintf(code, sizeof(code), "%d", s->status);
	metrics_add(METRICS_HTTP_REQUESTS, route, code, NULL, 1);
}

/* A request that cannot be read on: answer, close. */
static void
refuse(struct http_session *s, int status)
{
	s->req.keep_alive = false;
	if (s->start_us == 0)
		s->start_us = metrics_now_us();
	http_respond_error(s, status, NULL);
	log_request(s);
	session_close(&s->base);
}

/* The response is queued: log, end the command, persist or close. */
static void
request_done(struct http_session *s)
{
	log_request(s);
	session_command_end(&s->base);
	if (!s->req.keep_alive) {
		session_close(&s->base);
		return;
	}
	request_reset(s);
	s->start_us = 0;
}

void
http_wait(struct http_session *s)
{
	s->is_async = true;
	session_command_wait(&s->base);
}

void
http_resume(struct http_session *s)
{
	s->is_async = false;
	request_done(s);
	if (!s->base.is_closing)
		s->base.ops->input(&s->base);
}

static void
handle(struct http_session *s)
{
	const struct http_route *r = http_route_lookup(s->req.path);

	s->route = r != NULL ? r->name : "notfound";
	s->state = HTTP_HANDLING;
	session_command_name(&s->base, s->route);
	session_command_begin(&s->base, s->route);
	bool method_ok = r != NULL &&
	                 (strcmp(s->req.method, r->method) == 0 ||
	                  (strcmp(r->method, "GET") == 0 && strcmp(s->req.method, "HEAD") == 0));
	if (r == NULL) {
		http_respond_error(s, 404, NULL);
	} else if (!method_ok) {
		http_header_add(s, "Allow: %s",
		                strcmp(r->method, "GET") == 0 ? "GET, HEAD" : r->method);
		http_respond_error(s, 405, NULL);
	} else {
		r->fn(s);
	}
	if (!s->is_async)
		request_done(s);
}

static void
body_sink(void *arg, const char *data, size_t len)
{
	struct http_session *s = arg;

	buf_append(&s->body, data, len);
}

/* One line of the head; false when the session stops reading. */
static bool
head_line(struct http_session *s, const char *line, size_t len)
{
	int status;

	if (s->state == HTTP_REQUEST_LINE) {
		if (len == 0)
			return true; /* RFC 9112 section 2.2: ignore empty lines first */
		s->start_us = metrics_now_us();
		if (http_request_line_parse(s->arena, line, len, &s->req, &status) < 0) {
			refuse(s, status);
			return false;
		}
		s->state = HTTP_HEADERS;
		return true;
	}
	if (len > 0) {
		s->head_bytes += len;
		if (s->head_bytes > s->site->s.max_head) {
			refuse(s, 431);
			return false;
		}
		if (http_header_parse(s->arena, line, len, &s->req, &status) < 0) {
			refuse(s, status);
			return false;
		}
		return true;
	}
	if (http_request_finish(&s->req, s->site->s.max_body, &status) < 0) {
		refuse(s, status);
		return false;
	}
	if (s->req.content_length > 0)
		s->state = HTTP_BODY;
	else
		handle(s);
	return true;
}

static void
http_input(struct session *base)
{
	struct http_session *s = (struct http_session *)base;

	while (!s->base.is_closing && !s->base.is_waiting) {
		if (s->state == HTTP_BODY) {
			uint64_t want = s->req.content_length - s->body.len;
			if (session_read_bytes(&s->base, want, body_sink, s) == 0)
				return;
			if (s->body.len == s->req.content_length)
				handle(s);
			continue;
		}
		enum session_line st = session_read_line(&s->base, s->site->s.max_line);
		if (st == SESSION_LINE_MORE)
			return;
		if (st == SESSION_LINE_TOOLONG) {
			refuse(s, s->state == HTTP_REQUEST_LINE ? 414 : 431);
			return;
		}
		if (!head_line(s, s->base.line.data, s->base.line.len))
			return;
	}
}

static const struct session_ops http_session_ops = {
        .proto = "http",
        .input = http_input,
        .timeout = http_timeout,
        .stop = http_stop,
        .notify = http_notify,
        .free = http_free,
};
