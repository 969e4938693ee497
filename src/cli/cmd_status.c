/* SPDX-License-Identifier: MIT */
/*
 * cmd_status.c: the commands that ask the server running on DIR: `tern
 * status` (uptime, sessions per protocol, the accounts with the most
 * sessions) and `tern sessions [--kick ADDRESS]` (the live sessions; end
 * an account's). They call the admin API (docs/HTTP.md) on the HTTP port
 * over loopback, authenticated with the token the server wrote to
 * DIR/admin.token at start: whoever may read the data directory controls
 * the server anyway. They print the server's text.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/conf.h"
#include "lib/buf.h"
#include "lib/util.h"

#define STATUS_MAX_RESPONSE (1u << 20)

static char *
read_token(const char *data_dir)
{
	char *path = xasprintf("%s/%s", data_dir, CLI_ADMIN_TOKEN_FILE);
	FILE *f = fopen(path, "r");
	char buf[80] = "";

	free(path);
	if (f == NULL)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, " \r\n")] = '\0';
	return xstrdup(buf);
}

static int
connect_to(const char *host, uint64_t port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	char service[16];
	int fd = -1;

	snprintf(service, sizeof(service), "%llu", (unsigned long long)port);
	if (getaddrinfo(host, service, &hints, &res) != 0)
		return -1;
	for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

/* Sends one request to the admin API of the server running on data_dir
   and prints the body of a 200 answer if print. The process exit status. */
static int
admin_request(const char *data_dir, const char *method, const char *path, const char *body,
              bool print)
{
	struct tern_conf conf;
	char *err = NULL;

	if (conf_load(data_dir, &conf, &err) < 0) {
		cli_fail("%s", err);
		free(err);
		return 1;
	}
	/* A wildcard listener is reached on loopback; the admin API answers
	   plaintext only there. */
	const char *host = conf.listen;
	if (strcmp(host, "0.0.0.0") == 0)
		host = "127.0.0.1";
	else if (strcmp(host, "::") == 0)
		host = "::1";
	char *token = read_token(data_dir);
	int rc = 1, fd = -1;
	if (!conf.http_enabled) {
		cli_fail("http.enabled is off: tern asks the running server over HTTP");
	} else if (token == NULL) {
		cli_fail("%s/%s: %s (is tern serve running on %s?)", data_dir, CLI_ADMIN_TOKEN_FILE,
		         strerror(errno), data_dir);
	} else if ((fd = connect_to(host, conf.http_port)) < 0) {
		cli_fail("cannot reach the server at %s port %llu: %s", host,
		         (unsigned long long)conf.http_port, strerror(errno));
	} else {
		struct buf req, resp;
		buf_init(&req);
		buf_init(&resp);
		buf_printf(&req,
		           "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
		           "Content-Type: application/x-www-form-urlencoded\r\n"
		           "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		           method, path, host, token, strlen(body), body);
		bool ok = write(fd, req.data, req.len) == (ssize_t)req.len;
		ssize_t n;
		while (ok && resp.len < STATUS_MAX_RESPONSE &&
		       (n = read(fd, buf_reserve(&resp, 4096), 4096)) > 0)
			buf_advance(&resp, (size_t)n);
		buf_putc(&resp, '\0');
		const char *text = strstr(resp.data, "\r\n\r\n");
		if (text == NULL) {
			cli_fail("no answer from the server at %s port %llu", host,
			         (unsigned long long)conf.http_port);
		} else if (strncmp(resp.data, "HTTP/1.1 200 ", 13) != 0) {
			cli_fail("the server said: %.*s %s", (int)strcspn(resp.data, "\r\n"),
			         resp.data, text + 4);
		} else {
			if (print)
				fputs(text + 4, stdout);
			rc = 0;
		}
		explicit_bzero(req.data, req.len);
		buf_deinit(&req);
		buf_deinit(&resp);
	}
	if (fd >= 0)
		close(fd);
	if (token != NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	conf_free(&conf);
	return rc;
}

int
cli_status(const char *data_dir, int argc, char **argv)
{
	if (argc > 0)
		return cli_fail("status takes no arguments");
	return admin_request(data_dir, "GET", "/api/v1/status?format=text", "", true);
}

int
cli_sessions(const char *data_dir, int argc, char **argv)
{
	if (argc == 0)
		return admin_request(data_dir, "GET", "/api/v1/sessions?format=text", "", true);
	if (argc != 2 || strcmp(argv[0], "--kick") != 0)
		return cli_fail("usage: tern sessions [--kick ADDRESS]");
	for (const char *p = argv[1]; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("@.-_+", *p) != NULL))
			return cli_fail("'%s' is not an address", argv[1]);
	char *body = xasprintf("address=%s", argv[1]);
	int rc = admin_request(data_dir, "POST", "/api/v1/sessions/kick", body, false);
	free(body);
	if (rc == 0)
		printf("Disconnecting the sessions of %s\n", argv[1]);
	return rc;
}
