/* SPDX-License-Identifier: MIT */
/*
 * fuzz_http_parser.c: libFuzzer harness for src/http/http_parse.c. The
 * input is split into lines at LF (a CR before it removed) and fed as the
 * session does: the first line to http_request_line_parse, the rest to
 * http_header_parse until an empty line, then http_request_finish; the
 * query and the bytes after the head go through http_query_get. Checks the
 * invariants the session relies on: a refusal always carries a 4xx/5xx
 * status, an accepted path starts with '/' or is "*", and the number of
 * fields never passes HTTP_MAX_HEADERS.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_parse.h"
#include "lib/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(4096);
	struct http_request req;
	const char *p = (const char *)data, *end = p + size;
	int status = 0, rc = 0;
	bool first = true;

	while (p < end && rc == 0) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t len = lf != NULL ? (size_t)(lf - p) : (size_t)(end - p);
		size_t n = len > 0 && p[len - 1] == '\r' ? len - 1 : len;
		char *line = arena_strndup(a, p, n); /* the session's line is NUL-terminated */
		p += len + (lf != NULL);
		if (first) {
			rc = http_request_line_parse(a, line, strnlen(line, n), &req, &status);
			first = false;
			if (rc == 0 && req.path[0] != '/' && strcmp(req.path, "*") != 0)
				abort();
		} else if (n == 0) {
			rc = http_request_finish(&req, 1 << 20, &status);
			if (rc == 0) {
				(void)http_query_get(a, req.query, strlen(req.query), "emailaddress");
				(void)http_query_get(a, p, (size_t)(end - p), "q");
			}
			break;
		} else {
			rc = http_header_parse(a, line, strnlen(line, n), &req, &status);
		}
		if (rc < 0 && (status < 400 || status > 599))
			abort();
		if (!first && req.nheaders > HTTP_MAX_HEADERS)
			abort();
	}
	arena_free(&a);
	return 0;
}
