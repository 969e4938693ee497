/* SPDX-License-Identifier: MIT */
/*
 * smtp_client.c: the blocking SMTP client (smtp_client.h). States, in the
 * order smtp_client_open walks them: connected -> greeted (220) ->
 * EHLO'd -> [STARTTLS -> TLS -> EHLO'd again] -> [AUTH'd] -> ready;
 * smtp_client_send then runs MAIL -> RCPT... -> DATA/BDAT -> ready again,
 * so one connection may carry several messages. Any failure leaves the
 * connection unusable except a refused MAIL or all RCPTs refused, after
 * which RSET makes it ready again.
 */
#include "smtp/smtp_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"
#include "smtp/smtp_dane.h"

#define MAX_REPLY_LINE 4096
#define IO_CHUNK       16384

struct smtp_client {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	char *server_name;
	struct smtp_client_settings s; /* a copy: a kept connection outlives
	                                  the caller's; strings used only in open */
	struct smtp_client_caps caps;
	char in[IO_CHUNK];
	size_t in_start, in_end;
	bool broken;
};

static void
reply_set(struct smtp_reply *r, int code, const char *fmt, ...)
{
	va_list ap;

	r->code = code;
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
}

/* ---- bytes ---- */

static int
raw_write(struct smtp_client *c, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n;
		if (c->ssl != NULL) {
			int k = SSL_write(c->ssl, p, len > INT32_MAX ? INT32_MAX : (int)len);
			n = k > 0 ? k : -1;
		} else {
			n = send(c->fd, p, len, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
		}
		if (n <= 0) {
			ERR_clear_error(); /* the thread's queue: the next SSL call reads it */
			c->broken = true;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
fill(struct smtp_client *c)
{
	ssize_t n;

	if (c->in_start > 0) {
		memmove(c->in, c->in + c->in_start, c->in_end - c->in_start);
		c->in_end -= c->in_start;
		c->in_start = 0;
	}
	if (c->in_end == sizeof(c->in))
		return -1;
	do {
		if (c->ssl != NULL) {
			int k = SSL_read(c->ssl, c->in + c->in_end,
			                 (int)(sizeof(c->in) - c->in_end));
			n = k > 0 ? k : -1;
		} else {
			n = recv(c->fd, c->in + c->in_end, sizeof(c->in) - c->in_end, 0);
		}
	} while (n < 0 && errno == EINTR && c->ssl == NULL);
	if (n <= 0) {
		ERR_clear_error();
		c->broken = true;
		return -1;
	}
	c->in_end += (size_t)n;
	return 0;
}

/* One reply line without CRLF into line (NUL-terminated); -1 when the
   connection fails or the line is too long. */
static int
read_line(struct smtp_client *c, char *line, size_t cap)
{
	for (;;) {
		char *nl = memchr(c->in + c->in_start, '\n', c->in_end - c->in_start);
		if (nl != NULL) {
			size_t n = (size_t)(nl - (c->in + c->in_start));
			size_t keep = n > 0 && nl[-1] == '\r' ? n - 1 : n;
			if (keep >= cap)
				keep = cap - 1;
			memcpy(line, c->in + c->in_start, keep);
			line[keep] = '\0';
			c->in_start += n + 1;
			return 0;
		}
		if (c->in_end - c->in_start >= MAX_REPLY_LINE || fill(c) < 0) {
			c->broken = true;
			return -1;
		}
	}
}

/* Reads one (multi-line) reply. Its lines after the first go to lines_out
   when given (EHLO's keywords), one per line. */
static int
read_reply(struct smtp_client *c, struct smtp_reply *r, struct buf *lines_out)
{
	char line[MAX_REPLY_LINE];
	bool first = true;

	for (;;) {
		if (read_line(c, line, sizeof(line)) < 0) {
			reply_set(r, 0, "4.4.2 connection to %s lost: %s", c->server_name,
			          errno == EAGAIN ? "timeout" : "closed");
			return -1;
		}
		if (strlen(line) < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' ||
		    line[1] > '9' || line[2] < '0' || line[2] > '9' ||
		    (line[3] != '\0' && line[3] != ' ' && line[3] != '-')) {
			c->broken = true;
			reply_set(r, 0, "4.5.0 %s sent a malformed reply", c->server_name);
			return -1;
		}
		int code = atoi(line);
		if (first) {
			reply_set(r, code, "%s", line[3] != '\0' ? line + 4 : "");
			first = false;
		} else {
			if (code != r->code) {
				c->broken = true;
				reply_set(r, 0, "4.5.0 %s mixed reply codes", c->server_name);
				return -1;
			}
			if (lines_out != NULL)
				buf_printf(lines_out, "%s\n", line[3] != '\0' ? line + 4 : "");
		}
		if (line[3] != '-')
			return 0;
	}
}

static int
command(struct smtp_client *c, struct smtp_reply *r, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2) {
		reply_set(r, 0, "5.5.0 command too long");
		return -1;
	}
	memcpy(line + n, "\r\n", 2);
	if (raw_write(c, line, (size_t)n + 2) < 0) {
		reply_set(r, 0, "4.4.2 connection to %s lost while sending", c->server_name);
		return -1;
	}
	return 0;
}

static int
command_reply(struct smtp_client *c, struct smtp_reply *r, const char *line)
{
	if (command(c, r, "%s", line) < 0)
		return -1;
	return read_reply(c, r, NULL);
}

/* ---- session setup ---- */

static void
caps_parse(struct smtp_client_caps *k, const char *lines)
{
	bool is_tls = k->is_tls, verified = k->tls_verified;

	memset(k, 0, sizeof(*k));
	k->esmtp = true;
	k->is_tls = is_tls;
	k->tls_verified = verified;
	while (*lines != '\0') {
		size_t n = strcspn(lines, "\n");
		char kw[256];
		snprintf(kw, sizeof(kw), "%.*s", (int)(n < sizeof(kw) ? n : sizeof(kw) - 1), lines);
		char *arg = strchr(kw, ' ');
		if (arg != NULL)
			*arg++ = '\0';
		if (strcasecmp(kw, "PIPELINING") == 0)
			k->pipelining = true;
		else if (strcasecmp(kw, "8BITMIME") == 0)
			k->eightbit = true;
		else if (strcasecmp(kw, "BINARYMIME") == 0)
			k->binarymime = true;
		else if (strcasecmp(kw, "SMTPUTF8") == 0)
			k->smtputf8 = true;
		else if (strcasecmp(kw, "DSN") == 0)
			k->dsn = true;
		else if (strcasecmp(kw, "CHUNKING") == 0)
			k->chunking = true;
		else if (strcasecmp(kw, "STARTTLS") == 0)
			k->starttls = true;
		else if (strcasecmp(kw, "REQUIRETLS") == 0)
			k->requiretls = true;
		else if (strcasecmp(kw, "SIZE") == 0)
			k->size = arg != NULL ? strtoull(arg, NULL, 10) : 0;
		else if (strcasecmp(kw, "AUTH") == 0 && arg != NULL) {
			for (char *m = strtok(arg, " "); m != NULL; m = strtok(NULL, " ")) {
				if (strcasecmp(m, "PLAIN") == 0)
					k->auth_plain = true;
				else if (strcasecmp(m, "LOGIN") == 0)
					k->auth_login = true;
			}
		}
		lines += n + (lines[n] == '\n');
	}
}

static int
hello(struct smtp_client *c, struct smtp_reply *r)
{
	struct buf lines;
	int rc = -1;

	buf_init(&lines);
	if (command(c, r, "EHLO %s", c->s.helo_name) < 0 || read_reply(c, r, &lines) < 0)
		goto out;
	if (r->code == 250) {
		caps_parse(&c->caps, lines.data != NULL ? lines.data : "");
		rc = 0;
	} else if (r->code >= 500 && !c->caps.is_tls) {
		/* An old server: HELO, and none of the extensions. */
		if (command(c, r, "HELO %s", c->s.helo_name) < 0 || read_reply(c, r, NULL) < 0)
			goto out;
		if (r->code == 250) {
			memset(&c->caps, 0, sizeof(c->caps));
			rc = 0;
		}
	}
out:
	buf_deinit(&lines);
	return rc;
}

static int
start_tls(struct smtp_client *c, struct smtp_reply *r)
{
	if (command_reply(c, r, "STARTTLS") < 0)
		return -1;
	if (r->code != 220)
		return -1;
	bool is_dane = c->s.dane != NULL && c->s.dane->n > 0;
	bool verify = c->s.tls_required || c->s.tls_check || is_dane;
	struct smtp_client_tls *out = c->s.tls_out;
	if (out != NULL) {
		out->checked = verify;
		out->dane = is_dane;
	}
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (c->ctx == NULL)
		goto tls_failed;
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	if (is_dane) {
		/* RFC 7672: the TLSA records are the trust anchors, no CA. */
		if (SSL_CTX_dane_enable(c->ctx) <= 0)
			goto tls_failed;
	} else if (verify) {
		SSL_CTX_set_default_verify_paths(c->ctx);
		if (c->s.ca_file != NULL && c->s.ca_file[0] != '\0')
			SSL_CTX_load_verify_locations(c->ctx, c->s.ca_file, NULL);
	}
	if (c->s.tls_required || is_dane) {
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	} else {
		/* Opportunistic (RFC 7435): encryption against passive eyes, any
		   certificate, and plaintext rather than no delivery. */
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
	}
	c->ssl = SSL_new(c->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
		goto tls_failed;
	SSL_set_tlsext_host_name(c->ssl, c->server_name);
	if (is_dane) {
		/* The MX name is the reference identifier for DANE-TA(2);
		   DANE-EE(3) matches the key alone, names unchecked (RFC 7672
		   section 3.1.1). */
		if (SSL_dane_enable(c->ssl, c->server_name) <= 0)
			goto tls_failed;
		/* Records found at the CNAME-expanded name: either name may
		   be the certificate's (section 2.2.3). */
		if (c->s.dane->expanded[0] != '\0' &&
		    SSL_add1_host(c->ssl, c->s.dane->expanded) != 1)
			goto tls_failed;
		SSL_dane_set_flags(c->ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
		size_t added = 0;
		for (size_t i = 0; i < c->s.dane->n; i++) {
			const struct smtp_tlsa *t = &c->s.dane->tlsa[i];
			if (SSL_dane_tlsa_add(c->ssl, t->usage, t->selector, t->mtype, t->data,
			                      t->len) > 0)
				added++;
		}
		if (added == 0)
			goto tls_failed;
	} else if (verify) {
		SSL_set1_host(c->ssl, c->server_name);
	}
	if (c->in_end != c->in_start) {
		/* Bytes after 220 are an injection attempt (RFC 3207 section 5). */
		reply_set(r, 0, "4.7.0 %s sent data before TLS", c->server_name);
		c->broken = true;
		return -1;
	}
	if (SSL_connect(c->ssl) != 1)
		goto tls_failed;
	c->caps.is_tls = true;
	long verify_result = SSL_get_verify_result(c->ssl);
	c->caps.tls_verified = verify && verify_result == X509_V_OK;
	if (out != NULL) {
		out->established = true;
		out->verified = c->caps.tls_verified;
		if (verify && verify_result != X509_V_OK) {
			out->verify_error = verify_result;
			snprintf(out->error, sizeof(out->error), "%s",
			         X509_verify_cert_error_string(verify_result));
		}
	}
	return 0;
tls_failed:;
	unsigned long e = ERR_get_error();
	if (out != NULL) {
		/* A refused certificate ends the handshake: the check's
		   verdict says why, better than the handshake's alert. */
		long v = c->ssl != NULL ? SSL_get_verify_result(c->ssl) : X509_V_OK;
		out->verify_error = verify ? v : X509_V_OK;
		snprintf(out->error, sizeof(out->error), "%s",
		         out->verify_error != X509_V_OK ? X509_verify_cert_error_string(v)
		         : e != 0                       ? ERR_reason_error_string(e)
		                                        : "handshake failed");
	}
	/* Where TLS is required (RFC 8689 section 4.2.1) this host will not
	   do: 5xx, so that the message bounces unless another host does. */
	reply_set(r,
	          !c->s.tls_required   ? 0
	          : c->s.tls_temporary ? 451
	                               : 550,
	          "%s TLS with %s failed: %s",
	          c->s.tls_required && !c->s.tls_temporary ? "5.7.10" : "4.7.5", c->server_name,
	          e != 0 ? ERR_reason_error_string(e) : "handshake");
	ERR_clear_error();
	c->broken = true;
	return -1;
}

static char *
base64(const void *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

static int
authenticate(struct smtp_client *c, struct smtp_reply *r)
{
	const char *user = c->s.auth_user, *pass = c->s.auth_password;
	int rc = -1;

	if (c->caps.auth_plain || !c->caps.auth_login) {
		size_t ul = strlen(user), pl = strlen(pass);
		char *raw = xmalloc(ul + pl + 2);
		raw[0] = '\0';
		memcpy(raw + 1, user, ul);
		raw[ul + 1] = '\0';
		memcpy(raw + ul + 2, pass, pl);
		char *b = base64(raw, ul + pl + 2);
		rc = command(c, r, "AUTH PLAIN %s", b);
		explicit_bzero(raw, ul + pl + 2);
		explicit_bzero(b, strlen(b));
		free(raw);
		free(b);
		if (rc == 0)
			rc = read_reply(c, r, NULL);
	} else {
		char *bu = base64(user, strlen(user)), *bp = base64(pass, strlen(pass));
		rc = command_reply(c, r, "AUTH LOGIN");
		if (rc == 0 && r->code == 334)
			rc = command(c, r, "%s", bu) < 0 ? -1 : read_reply(c, r, NULL);
		if (rc == 0 && r->code == 334)
			rc = command(c, r, "%s", bp) < 0 ? -1 : read_reply(c, r, NULL);
		explicit_bzero(bp, strlen(bp));
		free(bu);
		free(bp);
	}
	return rc == 0 && r->code == 235 ? 0 : -1;
}

/* Closes fd, first taking it out of the settings' slot if it is there. */
static void
release_fd(const struct smtp_client_settings *s, int fd)
{
	int expected = fd;

	if (s->fd_slot != NULL)
		atomic_compare_exchange_strong(s->fd_slot, &expected, -1);
	close(fd);
}

static int
connect_to(const char *ip, uint16_t port, const struct smtp_client_settings *s,
           struct smtp_reply *r)
{
	uint64_t timeout_ms = s->timeout_ms;
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	                         .ai_socktype = SOCK_STREAM};
	struct addrinfo *ai;
	char portstr[8];

	snprintf(portstr, sizeof(portstr), "%u", port);
	if (getaddrinfo(ip, portstr, &hints, &ai) != 0) {
		reply_set(r, 0, "4.4.1 bad address %s", ip);
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		freeaddrinfo(ai);
		reply_set(r, 0, "4.4.1 socket: %s", strerror(errno));
		return -1;
	}
	if (s->fd_slot != NULL)
		atomic_store(s->fd_slot, fd);
	int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (rc < 0 && errno == EINPROGRESS) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int err = 0;
		socklen_t len = sizeof(err);
		rc = poll(&p, 1, (int)timeout_ms);
		if (rc == 0)
			errno = ETIMEDOUT;
		else if (rc > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0)
			errno = err;
		rc = rc > 0 && err == 0 ? 0 : -1;
	}
	if (rc < 0) {
		reply_set(r, 0, "4.4.1 connect to %s port %u: %s", ip, port, strerror(errno));
		release_fd(s, fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	struct timeval tv = {(time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* Commands and their data go in separate writes (BDAT's line, then
	   the chunk): without this Nagle holds the second until the first is
	   acknowledged, a delayed ACK's 40 ms per message. */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int
smtp_client_open(const char *ip, uint16_t port, const char *server_name,
                 const struct smtp_client_settings *s, struct smtp_client **c_out,
                 struct smtp_reply *reply_out)
{
	struct smtp_reply *r = reply_out;
	int fd = connect_to(ip, port, s, r);

	if (fd < 0)
		return -1;
	struct smtp_client *c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->s = *s;
	c->server_name = xstrdup(server_name);
	if (read_reply(c, r, NULL) < 0 || r->code != 220)
		goto fail;
	if (hello(c, r) < 0)
		goto fail;
	if (s->tls_out != NULL) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		s->tls_out->reached = true;
		s->tls_out->offered = c->caps.starttls;
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
			inet_ntop(ss.ss_family,
			          ss.ss_family == AF_INET
			                  ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr
			                  : (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr,
			          s->tls_out->local_ip, sizeof(s->tls_out->local_ip));
	}
	if (c->caps.starttls && !s->no_starttls) {
		if (start_tls(c, r) < 0) {
			/* A refused STARTTLS leaves a usable plaintext session; a
			   failed handshake does not (the runner tries again
			   without STARTTLS, RFC 7435's fallback). */
			if (c->broken || s->tls_required || s->tls_mandatory)
				goto fail;
		} else if (hello(c, r) < 0) {
			goto fail;
		}
	}
	if (s->tls_mandatory && !c->caps.is_tls) {
		reply_set(r, 451, "4.7.5 %s offers no TLS, which its TLSA records promise",
		          server_name);
		goto fail;
	}
	if (s->tls_required && !c->caps.tls_verified) {
		if (s->tls_temporary)
			reply_set(r, 451, "4.7.5 %s offers no TLS with a valid certificate",
			          server_name);
		else
			reply_set(r, 550, "5.7.10 %s offers no TLS with a valid certificate",
			          server_name);
		goto fail;
	}
	if (s->auth_user != NULL && s->auth_user[0] != '\0' && authenticate(c, r) < 0)
		goto fail;
	*c_out = c;
	return 0;
fail:
	if (!c->broken)
		c->broken = r->code == 0;
	smtp_client_close(&c);
	return -1;
}

const struct smtp_client_caps *
smtp_client_caps(const struct smtp_client *c)
{
	return &c->caps;
}

bool
smtp_client_is_usable(const struct smtp_client *c)
{
	return !c->broken;
}

void
smtp_client_close(struct smtp_client **cp)
{
	struct smtp_client *c = *cp;

	if (c == NULL)
		return;
	*cp = NULL;
	if (!c->broken) {
		struct smtp_reply r;
		if (command(c, &r, "QUIT") == 0)
			read_reply(c, &r, NULL);
	}
	if (c->ssl != NULL) {
		if (!c->broken)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	release_fd(&c->s, c->fd);
	free(c->server_name);
	free(c);
}

/* ---- a transaction ---- */

/* xtext (RFC 3461 section 4) of s into b. */
static void
put_xtext(struct buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 33 || *p > 126 || *p == '+' || *p == '=')
			buf_printf(b, "+%02X", *p);
		else
			buf_putc(b, (char)*p);
	}
}

static void
mail_line(struct smtp_client *c, const struct smtp_client_message *m, struct buf *b)
{
	const struct smtp_client_caps *k = &c->caps;

	buf_printf(b, "MAIL FROM:<%s>", m->sender);
	if (k->size > 0)
		buf_printf(b, " SIZE=%llu", (unsigned long long)m->size);
	if (m->body == SMTP_BODY_8BITMIME && k->eightbit)
		buf_puts(b, " BODY=8BITMIME");
	else if (m->body == SMTP_BODY_BINARYMIME && k->binarymime)
		buf_puts(b, " BODY=BINARYMIME");
	if (m->smtputf8 && k->smtputf8)
		buf_puts(b, " SMTPUTF8");
	if (m->requiretls && k->requiretls)
		buf_puts(b, " REQUIRETLS");
	if (k->dsn) {
		if (m->ret != SMTP_RET_NONE)
			buf_puts(b, m->ret == SMTP_RET_FULL ? " RET=FULL" : " RET=HDRS");
		if (m->envid != NULL) {
			buf_puts(b, " ENVID=");
			put_xtext(b, m->envid);
		}
	}
}

static void
rcpt_line(struct smtp_client *c, const struct smtp_client_rcpt *r, struct buf *b)
{
	static const char *const names[] = {"NEVER", "SUCCESS", "FAILURE", "DELAY"};

	buf_printf(b, "RCPT TO:<%s>", r->address);
	if (!c->caps.dsn)
		return;
	if (r->notify != 0) {
		buf_puts(b, " NOTIFY=");
		bool first = true;
		for (unsigned i = 0; i < 4; i++) {
			if (r->notify & (1u << i)) {
				buf_printf(b, "%s%s", first ? "" : ",", names[i]);
				first = false;
			}
		}
	}
	if (r->orcpt != NULL) {
		buf_printf(b, " ORCPT=%s;", r->orcpt_type != NULL ? r->orcpt_type : "rfc822");
		put_xtext(b, r->orcpt);
	}
}

/* Checks what the server must support for this message; -1 with a
   permanent reply when it cannot take it. */
static int
check_caps(struct smtp_client *c, const struct smtp_client_message *m, struct smtp_reply *r)
{
	const struct smtp_client_caps *k = &c->caps;

	if (k->size > 0 && m->size > k->size) {
		reply_set(r, 552, "5.3.4 message is larger than %s accepts (%llu bytes)",
		          c->server_name, (unsigned long long)k->size);
		return -1;
	}
	if (m->smtputf8 && !k->smtputf8) {
		reply_set(r, 553, "5.6.7 %s does not support SMTPUTF8", c->server_name);
		return -1;
	}
	if (m->body == SMTP_BODY_BINARYMIME && !(k->binarymime && k->chunking)) {
		reply_set(r, 554, "5.6.3 %s does not support BINARYMIME", c->server_name);
		return -1;
	}
	if (m->requiretls && !(k->requiretls && k->tls_verified)) {
		reply_set(r, 550, "5.7.30 REQUIRETLS support required by %s", c->server_name);
		return -1;
	}
	return 0;
}

static int
send_bdat(struct smtp_client *c, const struct smtp_client_message *m, struct smtp_reply *r)
{
	char hdr[64], buf[IO_CHUNK];
	uint64_t left = m->size - m->prefix_len;
	off_t off = 0;

	snprintf(hdr, sizeof(hdr), "BDAT %llu LAST\r\n", (unsigned long long)m->size);
	if (raw_write(c, hdr, strlen(hdr)) < 0 ||
	    (m->prefix_len > 0 && raw_write(c, m->prefix, m->prefix_len) < 0))
		goto lost;
	while (left > 0) {
		ssize_t n = pread(m->fd, buf, left < sizeof(buf) ? left : sizeof(buf), off);
		if (n <= 0) {
			c->broken = true;
			reply_set(r, 0, "4.3.0 cannot read the queued message");
			return -1;
		}
		if (raw_write(c, buf, (size_t)n) < 0)
			goto lost;
		off += n;
		left -= (uint64_t)n;
	}
	return read_reply(c, r, NULL);
lost:
	reply_set(r, 0, "4.4.2 connection to %s lost while sending data", c->server_name);
	return -1;
}

/* DATA's dot-stuffing (RFC 5321 section 4.5.2) over the CRLF message. */
static int
send_data(struct smtp_client *c, const struct smtp_client_message *m, struct smtp_reply *r)
{
	char in[IO_CHUNK], out[2 * IO_CHUNK + 8];
	bool at_line_start = true;
	char last = '\n';
	off_t off = 0;

	if (command_reply(c, r, "DATA") < 0)
		return -1;
	if (r->code != 354)
		return 1;
	/* Header fields of ours: no line starts with a dot. */
	if (m->prefix_len > 0 && raw_write(c, m->prefix, m->prefix_len) < 0)
		goto lost;
	for (;;) {
		ssize_t n = pread(m->fd, in, sizeof(in), off);
		if (n < 0) {
			c->broken = true;
			reply_set(r, 0, "4.3.0 cannot read the queued message");
			return -1;
		}
		if (n == 0)
			break;
		size_t o = 0;
		for (ssize_t i = 0; i < n; i++) {
			if (at_line_start && in[i] == '.')
				out[o++] = '.';
			out[o++] = in[i];
			at_line_start = in[i] == '\n';
		}
		last = in[n - 1];
		off += n;
		if (raw_write(c, out, o) < 0)
			goto lost;
	}
	const char *end = last == '\n' ? ".\r\n" : "\r\n.\r\n";
	if (raw_write(c, end, strlen(end)) < 0)
		goto lost;
	return read_reply(c, r, NULL);
lost:
	reply_set(r, 0, "4.4.2 connection to %s lost while sending data", c->server_name);
	return -1;
}

int
smtp_client_send(struct smtp_client *c, const struct smtp_client_message *m,
                 struct smtp_client_rcpt *rcpts, size_t n_rcpts, struct smtp_reply *reply_out)
{
	struct smtp_reply *r = reply_out;
	struct buf b;
	size_t accepted = 0;
	bool pipelined = c->caps.pipelining;
	int rc = -1;

	if (check_caps(c, m, r) < 0)
		return -1;
	for (size_t i = 0; i < n_rcpts; i++)
		reply_set(&rcpts[i].reply, 0, "4.4.2 not sent");
	buf_init(&b);
	/* With PIPELINING, MAIL and every RCPT go in one write (RFC 2920
	   section 3.1); DATA waits for their replies, BDAT too (a refused
	   RCPT list would make us send the whole message for nothing). */
	mail_line(c, m, &b);
	buf_puts(&b, "\r\n");
	for (size_t i = 0; i < n_rcpts && pipelined; i++) {
		rcpt_line(c, &rcpts[i], &b);
		buf_puts(&b, "\r\n");
	}
	if (raw_write(c, b.data, b.len) < 0) {
		reply_set(r, 0, "4.4.2 connection to %s lost while sending", c->server_name);
		goto out;
	}
	struct smtp_reply mail;
	if (read_reply(c, &mail, NULL) < 0) {
		*r = mail;
		goto out;
	}
	for (size_t i = 0; i < n_rcpts; i++) {
		struct smtp_reply *rr = &rcpts[i].reply;
		if (!pipelined) {
			if (mail.code != 250)
				break;
			buf_reset(&b);
			rcpt_line(c, &rcpts[i], &b);
			if (command(c, rr, "%s", b.data) < 0) {
				*r = *rr;
				goto out;
			}
		}
		if (read_reply(c, rr, NULL) < 0) {
			*r = *rr;
			goto out;
		}
		if (rr->code == 250 || rr->code == 251)
			accepted++;
	}
	if (mail.code != 250) {
		*r = mail;
		goto reset;
	}
	if (accepted == 0) {
		*r = rcpts[0].reply;
		rc = 0;
		goto reset;
	}
	struct smtp_reply data;
	int sent = c->caps.chunking ? send_bdat(c, m, &data) : send_data(c, m, &data);
	if (sent < 0) {
		*r = data;
		goto out;
	}
	for (size_t i = 0; i < n_rcpts; i++)
		if (rcpts[i].reply.code == 250 || rcpts[i].reply.code == 251)
			rcpts[i].reply = data;
	*r = data;
	rc = 0;
	goto out;
reset:;
	struct smtp_reply rset;
	if (command_reply(c, &rset, "RSET") < 0 || rset.code != 250)
		c->broken = true;
out:
	buf_deinit(&b);
	return rc;
}
