/* SPDX-License-Identifier: MIT */
/*
 * http_parse.h: the HTTP/1.1 request head parser (RFC 9112 sections 2-6,
 * RFC 9110 section 5). Pure: the session hands it one line at a time (the
 * request line, then each header field line, CRLF removed) and it fills a
 * struct http_request; strings are copied into the caller's arena. Query
 * strings and form bodies are decoded by http_query_get().
 *
 * Strict on purpose (a mail server's HTTP endpoint serves a few programs,
 * not the whole web): origin-form or absolute-form targets only (and "*"
 * for OPTIONS), HTTP/1.0 and 1.1, no obsolete line folding, no whitespace
 * before a field's colon, one Content-Length, no Transfer-Encoding in
 * requests (501: no client of ours sends chunked bodies). Each refusal
 * gives the status code to answer with. Lengths are the caller's limits:
 * the session drops a line over http.max_line before it gets here.
 */
#ifndef TERN_HTTP_PARSE_H
#define TERN_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

/* Header fields kept per request; a request with more gets 431. */
#define HTTP_MAX_HEADERS 64

struct http_header {
	const char *name;  /* as sent; compare case-insensitively */
	const char *value; /* leading and trailing whitespace removed */
};

struct http_request {
	char method[16];   /* "GET": case-sensitive (RFC 9110 section 9.1) */
	const char *path;  /* "/mail/config-v1.1.xml", raw (not %-decoded) */
	const char *query; /* after '?', raw; "" when none */
	int minor;         /* HTTP/1.<minor>: 0 or 1 */
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t nheaders;
	uint64_t content_length; /* 0 when absent */
	bool has_content_length;
	bool has_host;
	bool keep_alive; /* set by http_request_finish() */
};

/*
 * Parses the request line "METHOD SP target SP HTTP/1.x" into req (zeroed
 * here). Returns 0, or -1 with *status_out: 400 (syntax), 501 (a method
 * over 15 bytes), 505 (another HTTP version).
 */
int http_request_line_parse(struct arena *a, const char *line, size_t len, struct http_request *req,
                            int *status_out);
/* Adds one field line "name: value". 0, or -1 with 400 or 431 (too many). */
int http_header_parse(struct arena *a, const char *line, size_t len, struct http_request *req,
                      int *status_out);
/*
 * The empty line ended the head: checks what needs all fields (Host in
 * 1.1, RFC 9112 section 3.2; a body's length against max_body) and decides
 * keep_alive. 0, or -1 with 400, 413 or 501.
 */
int http_request_finish(struct http_request *req, uint64_t max_body, int *status_out);
/* The value of the first field named name (case-insensitive), or NULL. */
const char *http_header_get(const struct http_request *req, const char *name);
/*
 * The value of parameter name in an application/x-www-form-urlencoded
 * string (a query or a form body; '+' is a space, %XX decoded), in a; NULL
 * when absent or when it decodes to a NUL byte or bad %-escape.
 */
char *http_query_get(struct arena *a, const char *query, size_t len, const char *name);
/* "Not Found" for 404; "Unknown" for codes not in the table. */
const char *http_status_text(int status);

#endif
