/* SPDX-License-Identifier: MIT */
/*
 * test_http_parse.c: the HTTP request parser (src/http/http_parse.c):
 * request lines, header fields, the checks at the end of the head, form
 * decoding, and that every refusal carries the right status code.
 */
#include "http/http_parse.h"
#include "lib/arena.h"
#include "test.h"

static int
parse_head(struct arena *a, const char *const *lines, size_t n, struct http_request *req,
           uint64_t max_body)
{
	int status = 0;

	if (http_request_line_parse(a, lines[0], strlen(lines[0]), req, &status) < 0)
		return status;
	for (size_t i = 1; i < n; i++)
		if (http_header_parse(a, lines[i], strlen(lines[i]), req, &status) < 0)
			return status;
	if (http_request_finish(req, max_body, &status) < 0)
		return status;
	return 0;
}

static void
test_request_lines(void)
{
	static const struct {
		const char *line;
		int status; /* 0 = accepted */
		const char *path, *query;
		int minor;
	} rows[] = {
	        {"GET / HTTP/1.1", 0, "/", "", 1},
	        {"GET /mail/config-v1.1.xml?emailaddress=a%40b.c HTTP/1.1", 0,
	         "/mail/config-v1.1.xml", "emailaddress=a%40b.c", 1},
	        {"POST /autodiscover/autodiscover.xml HTTP/1.0", 0,
	         "/autodiscover/autodiscover.xml", "", 0},
	        {"GET http://example.com/metrics?x=1 HTTP/1.1", 0, "/metrics", "x=1", 1},
	        {"GET https://example.com HTTP/1.1", 0, "/", "", 1},
	        {"OPTIONS * HTTP/1.1", 0, "*", "", 1},
	        {"GET * HTTP/1.1", 400, NULL, NULL, 0},
	        {"GET relative HTTP/1.1", 400, NULL, NULL, 0},
	        {"GET / HTTP/2.0", 505, NULL, NULL, 0},
	        {"GET / HTTP/1.2", 505, NULL, NULL, 0},
	        {"GET / HTTP/1.1 ", 400, NULL, NULL, 0},
	        {"GET  / HTTP/1.1", 400, NULL, NULL, 0},
	        {"GET / http/1.1", 400, NULL, NULL, 0},
	        {"GET /", 400, NULL, NULL, 0},
	        {"GET", 400, NULL, NULL, 0},
	        {"", 400, NULL, NULL, 0},
	        {"G(T / HTTP/1.1", 400, NULL, NULL, 0},
	        {"GET /a#frag HTTP/1.1", 400, NULL, NULL, 0},
	        {"GET /a\x01 HTTP/1.1", 400, NULL, NULL, 0},
	        {"AVERYLONGMETHODNAME / HTTP/1.1", 501, NULL, NULL, 0},
	};
	struct arena *a = arena_new(1024);

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct http_request req;
		int status = 0;
		int rc = http_request_line_parse(a, rows[i].line, strlen(rows[i].line), &req,
		                                 &status);
		test_int_eq(i, rc < 0 ? status : 0, rows[i].status);
		if (rc == 0 && rows[i].status == 0) {
			test_str_eq(i, req.path, rows[i].path);
			test_str_eq(i, req.query, rows[i].query);
			test_int_eq(i, req.minor, rows[i].minor);
		}
	}
	arena_free(&a);
}

static void
test_heads(void)
{
	struct arena *a = arena_new(1024);
	struct http_request req;

	const char *ok[] = {"POST /x HTTP/1.1", "Host: example.com", "Content-Length: 12",
	                    "X-Empty:", "Connection: keep-alive, Upgrade"};
	test_int_eq(0, parse_head(a, ok, 5, &req, 100), 0);
	test_int_eq(0, req.content_length, 12);
	test_assert(0, req.keep_alive);
	test_str_eq(0, http_header_get(&req, "HOST"), "example.com");
	test_str_eq(0, http_header_get(&req, "x-empty"), "");
	test_assert(0, http_header_get(&req, "absent") == NULL);

	const char *close[] = {"GET / HTTP/1.1", "Host: h", "Connection: Close"};
	test_int_eq(1, parse_head(a, close, 3, &req, 0), 0);
	test_assert(1, !req.keep_alive);
	const char *v10[] = {"GET / HTTP/1.0"};
	test_int_eq(2, parse_head(a, v10, 1, &req, 0), 0);
	test_assert(2, !req.keep_alive);
	const char *v10ka[] = {"GET / HTTP/1.0", "Connection: keep-alive"};
	test_int_eq(3, parse_head(a, v10ka, 2, &req, 0), 0);
	test_assert(3, req.keep_alive);
	const char *trim[] = {"GET / HTTP/1.1", "Host: \t spaced \t"};
	test_int_eq(4, parse_head(a, trim, 2, &req, 0), 0);
	test_str_eq(4, http_header_get(&req, "host"), "spaced");

	static const struct {
		const char *lines[4];
		size_t n;
		int status;
	} bad[] = {
	        {{"GET / HTTP/1.1"}, 1, 400}, /* no Host in 1.1 */
	        {{"GET / HTTP/1.1", "Host: a", "Host: b"}, 3, 400},
	        {{"GET / HTTP/1.1", "Host : a"}, 2, 400},
	        {{"GET / HTTP/1.1", " folded"}, 2, 400},
	        {{"GET / HTTP/1.1", "NoColon"}, 2, 400},
	        {{"GET / HTTP/1.1", "Host: a", "Bad: a\x01"}, 3, 400},
	        {{"POST / HTTP/1.1", "Host: a", "Content-Length: 5", "Content-Length: 6"}, 4, 400},
	        {{"POST / HTTP/1.1", "Host: a", "Content-Length: -1"}, 3, 400},
	        {{"POST / HTTP/1.1", "Host: a", "Content-Length: 1x"}, 3, 400},
	        {{"POST / HTTP/1.1", "Host: a", "Content-Length: 101"}, 3, 413},
	        {{"POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked"}, 3, 501},
	        {{"POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked", "Content-Length: 3"},
	         4,
	         400},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		test_int_eq(i, parse_head(a, bad[i].lines, bad[i].n, &req, 100), bad[i].status);

	/* Same length twice is fine (RFC 9112 section 6.3). */
	const char *twice[] = {"POST / HTTP/1.1", "Host: a", "Content-Length: 5",
	                       "Content-Length: 5"};
	test_int_eq(20, parse_head(a, twice, 4, &req, 100), 0);
	arena_free(&a);
}

static void
test_too_many_headers(void)
{
	struct arena *a = arena_new(1024);
	struct http_request req;
	int status = 0, rc = 0;

	http_request_line_parse(a, "GET / HTTP/1.1", 14, &req, &status);
	for (int i = 0; i <= HTTP_MAX_HEADERS && rc == 0; i++)
		rc = http_header_parse(a, "X: y", 4, &req, &status);
	test_int_eq(0, rc, -1);
	test_int_eq(0, status, 431);
	test_int_eq(0, req.nheaders, HTTP_MAX_HEADERS);
	arena_free(&a);
}

static void
test_query(void)
{
	static const struct {
		const char *query, *name, *want;
	} rows[] = {
	        {"emailaddress=a%40b.com", "emailaddress", "a@b.com"},
	        {"x=1&emailaddress=a+b&y", "emailaddress", "a b"},
	        {"emailaddress", "emailaddress", ""},
	        {"emailaddress=", "emailaddress", ""},
	        {"emailaddressx=1", "emailaddress", NULL},
	        {"a=1&b=2", "b", "2"},
	        {"a=%4", "a", NULL},
	        {"a=%zz", "a", NULL},
	        {"a=%00", "a", NULL},
	        {"a=%41%42", "a", "AB"},
	        {"", "a", NULL},
	};
	struct arena *a = arena_new(256);

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		test_str_eq(i,
		            http_query_get(a, rows[i].query, strlen(rows[i].query), rows[i].name),
		            rows[i].want);
	arena_free(&a);
}

static void
test_status_text(void)
{
	test_str_eq(0, http_status_text(404), "Not Found");
	test_str_eq(0, http_status_text(431), "Request Header Fields Too Large");
	test_str_eq(0, http_status_text(299), "Unknown");
}

int
main(void)
{
	TEST_RUN(test_request_lines);
	TEST_RUN(test_heads);
	TEST_RUN(test_too_many_headers);
	TEST_RUN(test_query);
	TEST_RUN(test_status_text);
	return TEST_DONE("test_http_parse");
}
