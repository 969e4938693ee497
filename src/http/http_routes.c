/* SPDX-License-Identifier: MIT */
/*
 * http_routes.c: the route table (every URL tern answers, once) and the
 * small handlers: /metrics (Prometheus text format 0.0.4, from lib/metrics,
 * only to the addresses http.metrics allows), /healthz (for load
 * balancers and `systemctl`-style checks: 200 while the server runs) and
 * the files of the web admin page (src/http/www/, compiled in), served
 * with a Content-Security-Policy that allows only themselves.
 */
#include <string.h>
#include <strings.h>

#include "http/http_session.h"
#include "lib/metrics.h"
#include "net/net.h"
#include "store/store.h"

static const struct http_route routes[] = {
        {"/.well-known/autoconfig/mail/config-v1.1.xml", "GET", http_autoconfig_get, "autoconfig"},
        {"/mail/config-v1.1.xml", "GET", http_autoconfig_get, "autoconfig"},
        {"/autodiscover/autodiscover.xml", "POST", http_autodiscover_post, "autodiscover"},
        {"/apple/mobileconfig", "GET", http_mobileconfig_get, "mobileconfig"},
        {"/.well-known/mta-sts.txt", "GET", http_mta_sts_get, "mta-sts"},
        {"/metrics", "GET", http_metrics_get, "metrics"},
        {"/healthz", "GET", http_healthz_get, "healthz"},
        {"/admin", "GET", http_admin_page_get, "admin-page"},
        {"/admin/", "GET", http_admin_page_get, "admin-page"},
        {"/admin/admin.js", "GET", http_admin_page_get, "admin-page"},
        {"/admin/admin.css", "GET", http_admin_page_get, "admin-page"},
        {"/api/v1/login", "POST", http_admin_login_post, "api-login"},
        {"/api/v1/logout", "POST", http_admin_logout_post, "api-logout"},
        {"/api/v1/accounts", "GET", http_admin_api, "api-accounts"},
        {"/api/v1/access", "POST", http_admin_api, "api-access"},
        {"/api/v1/quota", "GET", http_admin_api, "api-quota"},
        {"/api/v1/quota/set", "POST", http_admin_api, "api-quota-set"},
        {"/api/v1/status", "GET", http_admin_api, "api-status"},
        {"/api/v1/sessions", "GET", http_admin_api, "api-sessions"},
        {"/api/v1/sessions/kick", "POST", http_admin_api, "api-kick"},
        {"/api/v1/accounts/add", "POST", http_admin_api, "api-account-add"},
        {"/api/v1/accounts/delete", "POST", http_admin_api, "api-account-delete"},
        {"/api/v1/accounts/password", "POST", http_admin_api, "api-account-password"},
        {"/api/v1/aliases", "GET", http_admin_api, "api-aliases"},
        {"/api/v1/aliases/add", "POST", http_admin_api, "api-alias-add"},
        {"/api/v1/aliases/delete", "POST", http_admin_api, "api-alias-delete"},
        {"/api/v1/app-passwords", "GET", http_admin_api, "api-app-passwords"},
        {"/api/v1/app-passwords/add", "POST", http_admin_api, "api-app-password-add"},
        {"/api/v1/app-passwords/delete", "POST", http_admin_api, "api-app-password-delete"},
        {"/api/v1/queue", "GET", http_admin_api, "api-queue"},
        {"/api/v1/queue/show", "GET", http_admin_api, "api-queue-show"},
        {"/api/v1/queue/retry", "POST", http_admin_api, "api-queue-retry"},
        {"/api/v1/queue/hold", "POST", http_admin_api, "api-queue-hold"},
        {"/api/v1/queue/release", "POST", http_admin_api, "api-queue-release"},
        {"/api/v1/queue/delete", "POST", http_admin_api, "api-queue-delete"},
};

const struct http_route *
http_route_lookup(const char *path)
{
	for (size_t i = 0; i < ARRAY_LEN(routes); i++)
		if (strcasecmp(routes[i].path, path) == 0)
			return &routes[i];
	return NULL;
}

void
http_metrics_get(struct http_session *s)
{
	enum http_access access = s->site->s.metrics_access;
	struct buf b;

	if (access == HTTP_ACCESS_NEVER ||
	    (access == HTTP_ACCESS_LOOPBACK && !net_conn_is_loopback(s->base.conn))) {
		http_respond_error(s, 403, "see http.metrics in tern.conf");
		return;
	}
	buf_init(&b);
	metrics_render(&b);
	if (s->srv->store != NULL) {
		uint64_t used, limit;
		store_sqlite_memory(&used, &limit);
		buf_printf(&b,
		           "# HELP tern_sqlite_memory_bytes SQLite's heap in use (page caches, "
		           "schemas, statements).\n# TYPE tern_sqlite_memory_bytes gauge\n"
		           "tern_sqlite_memory_bytes %llu\n"
		           "# HELP tern_sqlite_memory_limit_bytes store.sqlite_memory: past it "
		           "SQLite's page caches recycle pages (0: no bound).\n"
		           "# TYPE tern_sqlite_memory_limit_bytes gauge\n"
		           "tern_sqlite_memory_limit_bytes %llu\n",
		           (unsigned long long)used, (unsigned long long)limit);
	}
	http_usage_render(s, &b);
	http_header_add(s, "Cache-Control: no-store");
	http_respond(s, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
	buf_deinit(&b);
}

void
http_healthz_get(struct http_session *s)
{
	http_respond(s, 200, "text/plain; charset=utf-8", "ok\n", 3);
}

const struct http_www_file *
http_www_lookup(const char *name)
{
	for (size_t i = 0; i < http_www_count; i++)
		if (strcmp(http_www_files[i].name, name) == 0)
			return &http_www_files[i];
	return NULL;
}

void
http_admin_page_get(struct http_session *s)
{
	static const struct {
		const char *suffix, *file, *type;
	} files[] = {
	        {".js", "admin.js", "text/javascript; charset=utf-8"},
	        {".css", "admin.css", "text/css; charset=utf-8"},
	        {"", "admin.html", "text/html; charset=utf-8"},
	};
	size_t plen = strlen(s->req.path);

	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		size_t sl = strlen(files[i].suffix);
		if (plen < sl || strcasecmp(s->req.path + plen - sl, files[i].suffix) != 0)
			continue;
		const struct http_www_file *f = http_www_lookup(files[i].file);
		if (f == NULL)
			break;
		http_header_add(s, "Content-Security-Policy: default-src 'self'; "
		                   "frame-ancestors 'none'; form-action 'self'");
		http_header_add(s, "Cache-Control: no-cache");
		http_respond(s, 200, files[i].type, (const char *)f->data, f->len);
		return;
	}
	http_respond_error(s, 404, NULL);
}
