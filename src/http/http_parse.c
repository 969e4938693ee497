/* SPDX-License-Identifier: MIT */
/*
 * http_parse.c: the request line, header fields and form decoding of
 * http_parse.h. Grammar from RFC 9112 and RFC 9110:
 *   request-line = method SP request-target SP HTTP-version
 *   field-line   = field-name ":" OWS field-value OWS
 *   token        = 1*tchar
 * Input is hostile; nothing is trusted beyond the length given.
 */
#include "http/http_parse.h"

#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/util.h"

static bool
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Visible ASCII, as a request-target may hold (RFC 3986 characters plus
   what browsers send unescaped; never space or control bytes). */
static bool
is_target_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

static int
fail(int *status_out, int status)
{
	*status_out = status;
	return -1;
}

int
http_request_line_parse(struct arena *a, const char *line, size_t len, struct http_request *req,
                        int *status_out)
{
	size_t i = 0, start;

	memset(req, 0, sizeof(*req));
	while (i < len && is_tchar((unsigned char)line[i]))
		i++;
	if (i == 0 || i >= len || line[i] != ' ')
		return fail(status_out, 400);
	if (i >= sizeof(req->method))
		return fail(status_out, 501);
	memcpy(req->method, line, i);
	start = ++i;
	while (i < len && is_target_char((unsigned char)line[i]))
		i++;
	if (i == start || i >= len || line[i] != ' ')
		return fail(status_out, 400);
	const char *target = line + start;
	size_t tlen = i - start;
	/* absolute-form (RFC 9112 section 3.2.2): a server must accept it;
	   the authority is ignored, Host says the same. */
	for (const char *scheme = "http://"; scheme != NULL;
	     scheme = strcmp(scheme, "http://") == 0 ? "https://" : NULL) {
		size_t sl = strlen(scheme);
		if (tlen > sl && str_ieq_n(target, sl, scheme)) {
			const char *slash = memchr(target + sl, '/', tlen - sl);
			if (slash == NULL) {
				target = "/";
				tlen = 1;
			} else {
				tlen -= (size_t)(slash - target);
				target = slash;
			}
			break;
		}
	}
	if (tlen == 1 && target[0] == '*') {
		if (strcmp(req->method, "OPTIONS") != 0)
			return fail(status_out, 400);
	} else if (target[0] != '/') {
		return fail(status_out, 400);
	}
	const char *q = memchr(target, '?', tlen);
	if (memchr(target, '#', tlen) != NULL)
		return fail(status_out, 400); /* a fragment is never sent */
	size_t plen = q != NULL ? (size_t)(q - target) : tlen;
	req->path = arena_strndup(a, target, plen);
	req->query = q != NULL ? arena_strndup(a, q + 1, tlen - plen - 1) : "";
	i++;
	const char *version = line + i;
	size_t vlen = len - i;
	if (vlen != 8 || memcmp(version, "HTTP/", 5) != 0 || version[6] != '.' ||
	    version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9')
		return fail(status_out, 400);
	if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
		return fail(status_out, 505);
	req->minor = version[7] - '0';
	return 0;
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

int
http_header_parse(struct arena *a, const char *line, size_t len, struct http_request *req,
                  int *status_out)
{
	size_t i = 0;

	/* obs-fold (a line starting with whitespace) is refused (section 5.2). */
	while (i < len && is_tchar((unsigned char)line[i]))
		i++;
	if (i == 0 || i >= len || line[i] != ':')
		return fail(status_out, 400);
	if (req->nheaders == HTTP_MAX_HEADERS)
		return fail(status_out, 431);
	size_t name_len = i++;
	while (i < len && is_ows(line[i]))
		i++;
	size_t end = len;
	while (end > i && is_ows(line[end - 1]))
		end--;
	for (size_t k = i; k < end; k++) {
		unsigned char c = (unsigned char)line[k];
		/* field-value: VCHAR, obs-text, SP, HTAB; never CR, LF or NUL. */
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(status_out, 400);
	}
	const char *name = arena_strndup(a, line, name_len);
	const char *value = arena_strndup(a, line + i, end - i);
	req->headers[req->nheaders++] = (struct http_header){name, value};

	if (str_ieq_n(name, name_len, "content-length")) {
		uint64_t n;
		if (!str_to_u64(value, UINT64_MAX / 2, &n) || value[0] == '+' || value[0] == '-')
			return fail(status_out, 400);
		/* Two different lengths are how requests get smuggled (9112 6.3). */
		if (req->has_content_length && req->content_length != n)
			return fail(status_out, 400);
		req->content_length = n;
		req->has_content_length = true;
	} else if (str_ieq_n(name, name_len, "host")) {
		if (req->has_host)
			return fail(status_out, 400); /* RFC 9112 section 3.2 */
		req->has_host = true;
	}
	return 0;
}

/* True when a comma-separated token list (Connection) holds token. */
static bool
list_has(const char *list, const char *token)
{
	size_t tl = strlen(token);

	for (const char *p = list; *p != '\0';) {
		while (*p == ',' || is_ows(*p))
			p++;
		size_t n = strcspn(p, ", \t");
		if (n == tl && str_ieq_n(p, n, token))
			return true;
		p += n;
	}
	return false;
}

int
http_request_finish(struct http_request *req, uint64_t max_body, int *status_out)
{
	if (http_header_get(req, "transfer-encoding") != NULL)
		return fail(status_out, req->has_content_length ? 400 : 501);
	if (req->minor == 1 && !req->has_host)
		return fail(status_out, 400);
	if (req->content_length > max_body)
		return fail(status_out, 413);
	bool close = false, keep = false;
	for (size_t i = 0; i < req->nheaders; i++) {
		if (strcasecmp(req->headers[i].name, "connection") != 0)
			continue;
		close |= list_has(req->headers[i].value, "close");
		keep |= list_has(req->headers[i].value, "keep-alive");
	}
	req->keep_alive = !close && (req->minor == 1 || keep);
	return 0;
}

const char *
http_header_get(const struct http_request *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..len) into a (NUL-terminated); NULL on a bad escape or NUL. */
static char *
form_decode(struct arena *a, const char *s, size_t len)
{
	char *out = arena_alloc(a, len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi = i + 2 < len ? hex_value(s[i + 1]) : -1;
			int lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
			if (lo < 0)
				return NULL;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0')
			return NULL;
		*o++ = c;
	}
	*o = '\0';
	return out;
}

char *
http_query_get(struct arena *a, const char *query, size_t len, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i < len;) {
		const char *amp = memchr(query + i, '&', len - i);
		size_t end = amp != NULL ? (size_t)(amp - query) : len;
		const char *eq = memchr(query + i, '=', end - i);
		size_t key_end = eq != NULL ? (size_t)(eq - query) : end;
		if (key_end - i == nl && memcmp(query + i, name, nl) == 0) {
			size_t v = eq != NULL ? key_end + 1 : end;
			return form_decode(a, query + v, end - v);
		}
		i = end + 1;
	}
	return NULL;
}

const char *
http_status_text(int status)
{
	static const struct {
		int code;
		const char *text;
	} table[] = {
	        {200, "OK"},
	        {204, "No Content"},
	        {301, "Moved Permanently"},
	        {302, "Found"},
	        {304, "Not Modified"},
	        {400, "Bad Request"},
	        {401, "Unauthorized"},
	        {403, "Forbidden"},
	        {404, "Not Found"},
	        {405, "Method Not Allowed"},
	        {408, "Request Timeout"},
	        {409, "Conflict"},
	        {411, "Length Required"},
	        {413, "Content Too Large"},
	        {414, "URI Too Long"},
	        {415, "Unsupported Media Type"},
	        {422, "Unprocessable Content"},
	        {429, "Too Many Requests"},
	        {431, "Request Header Fields Too Large"},
	        {500, "Internal Server Error"},
	        {501, "Not Implemented"},
	        {503, "Service Unavailable"},
	        {505, "HTTP Version Not Supported"},
	};

	for (size_t i = 0; i < ARRAY_LEN(table); i++)
		if (table[i].code == status)
			return table[i].text;
	return "Unknown";
}
