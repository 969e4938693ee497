/* SPDX-License-Identifier: MIT */
/*
 * http_routes.c: the route table (every URL tern answers, once) and the
 * small handlers: /metrics (Prometheus text format 0.0.4, from lib/metrics,
 * only to the addresses http.metrics allows) and /healthz (for load
 * balancers and `systemctl`-style checks: 200 while the server runs).
 */
#include <string.h>
#include <strings.h>

#include "http/http_session.h"
#include "lib/metrics.h"
#include "net/net.h"

static const struct http_route routes[] = {
        {"/.well-known/autoconfig/mail/config-v1.1.xml", "GET", http_autoconfig_get, "autoconfig"},
        {"/mail/config-v1.1.xml", "GET", http_autoconfig_get, "autoconfig"},
        {"/autodiscover/autodiscover.xml", "POST", http_autodiscover_post, "autodiscover"},
        {"/apple/mobileconfig", "GET", http_mobileconfig_get, "mobileconfig"},
        {"/.well-known/mta-sts.txt", "GET", http_mta_sts_get, "mta-sts"},
        {"/metrics", "GET", http_metrics_get, "metrics"},
        {"/healthz", "GET", http_healthz_get, "healthz"},
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
	http_header_add(s, "Cache-Control: no-store");
	http_respond(s, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
	buf_deinit(&b);
}

void
http_healthz_get(struct http_session *s)
{
	http_respond(s, 200, "text/plain; charset=utf-8", "ok\n", 3);
}
