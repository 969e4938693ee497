/* SPDX-License-Identifier: MIT */
/*
 * log.c: the logger. A line is formatted into a stack buffer (truncated at
 * LOG_LINE_MAX, marked with "...") and written with a single write(2), so
 * lines from worker threads never interleave.
 */
#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "lib/arena.h"

#define LOG_LINE_MAX 4096

static _Atomic int min_level = LOG_LEVEL_INFO;
/* Where lines go: stderr until log_open() gives a file; then a descriptor
   of our own that reopening replaces with dup2, never closes. */
static _Atomic int log_fd = STDERR_FILENO;
static _Atomic bool use_syslog;

static _Thread_local const struct log_ctx *thread_ctx;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

const struct log_ctx *
log_ctx_swap(const struct log_ctx *ctx)
{
	const struct log_ctx *old = thread_ctx;

	thread_ctx = ctx != NULL && ctx->sid[0] != '\0' ? ctx : NULL;
	return old;
}

void
log_ctx_set_user(struct log_ctx *ctx, const char *user, size_t len)
{
	size_t n = 0;
	bool quote = len == 0;

	for (size_t i = 0; i < len; i++)
		if (user[i] == ' ' || user[i] == '"' || user[i] == '=')
			quote = true;
	if (quote)
		ctx->user[n++] = '"';
	for (size_t i = 0; i < len && n + 6 < sizeof(ctx->user); i++) {
		unsigned char c = (unsigned char)user[i];
		if (c < 0x20 || c >= 0x7f || c == '\\' || c == '"')
			n += (size_t)snprintf(ctx->user + n, sizeof(ctx->user) - n, "\\x%02x", c);
		else
			ctx->user[n++] = (char)c;
	}
	if (quote)
		ctx->user[n++] = '"';
	ctx->user[n] = '\0';
}

/* True when line (the message part) already has " key=" or starts with it. */
static bool
has_key(const char *msg, const char *key)
{
	size_t klen = strlen(key);

	if (strncmp(msg, key, klen) == 0)
		return true;
	for (const char *p = msg; (p = strstr(p, key)) != NULL; p += klen)
		if (p > msg && p[-1] == ' ')
			return true;
	return false;
}

void
log_configure(enum log_level min, bool to_syslog)
{
	min_level = min;
	if (to_syslog && !use_syslog)
		openlog("tern", LOG_PID | LOG_NDELAY, LOG_MAIL);
	use_syslog = to_syslog;
}

int
log_open(const char *path)
{
	int fd = path[0] != '\0' ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640)
	                         : STDERR_FILENO;

	if (fd < 0)
		return -1;
	int cur = atomic_load(&log_fd);
	if (cur == STDERR_FILENO) {
		if (fd != STDERR_FILENO)
			atomic_store(&log_fd, fd);
		return 0;
	}
	if (dup2(fd, cur) < 0) {
		int e = errno;
		if (fd != STDERR_FILENO)
			close(fd);
		errno = e;
		return -1;
	}
	if (fd != STDERR_FILENO)
		close(fd);
	return 0;
}

int
log_level_parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_LEN(level_names); i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

bool
log_enabled(enum log_level level)
{
	return (int)level >= min_level;
}

void
log_vmsg(enum log_level level, const char *module, const char *fmt, va_list ap)
{
	static const int syslog_prio[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR};
	char line[LOG_LINE_MAX];
	struct timeval tv;
	struct tm tm;
	size_t n;
	int k;
	va_list ap2;

	if (!log_enabled(level))
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	k = snprintf(line + n, sizeof(line) - n, ".%03dZ %s %s ", (int)(tv.tv_usec / 1000),
	             level_names[level], module);
	size_t head = n + (size_t)k;
	const struct log_ctx *ctx = thread_ctx;
	if (ctx != NULL) {
		k = snprintf(line + head, sizeof(line) - head, "sid=%s ", ctx->sid);
		head += (size_t)k;
	}
	va_copy(ap2, ap);
	k = vsnprintf(line + head, sizeof(line) - head - 1, fmt, ap2);
	va_end(ap2);
	n = head + (size_t)(k < 0 ? 0 : k);
	if (ctx != NULL && n < sizeof(line) - 1) {
		const char *msg = line + head;
		bool ip = ctx->ip[0] != '\0' && !has_key(msg, "ip=");
		bool user = ctx->user[0] != '\0' && !has_key(msg, "user=");
		bool proto = ctx->proto[0] != '\0' && strcmp(module, ctx->proto) != 0 &&
		             !has_key(msg, "proto=");
		k = snprintf(line + n, sizeof(line) - n - 1, "%s%s%s%s%s%s", proto ? " proto=" : "",
		             proto ? ctx->proto : "", ip ? " ip=" : "", ip ? ctx->ip : "",
		             user ? " user=" : "", user ? ctx->user : "");
		n += (size_t)(k < 0 ? 0 : k);
	}
	if (n >= sizeof(line) - 1) {
		n = sizeof(line) - 5;
		memcpy(line + n, "...", 3);
		n += 3;
	}
	line[n] = '\0';
	if (use_syslog)
		syslog(syslog_prio[level], "%s %s", module, line + head);
	line[n++] = '\n';
	ssize_t w = write(atomic_load(&log_fd), line, n);
	(void)w; /* nowhere to report a failed log write */
}

void
log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, module, fmt, ap);
	va_end(ap);
}

char *
log_str(struct arena *a, const char *s, size_t len)
{
	bool quote = len == 0;
	size_t out = 2;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '\\' || c == '"')
			out += 4;
		else
			out++;
		if (c == ' ' || c == '"' || c == '=')
			quote = true;
	}
	char *p = arena_alloc(a, out + 1), *q = p;
	if (quote)
		*q++ = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '\\' || c == '"')
			q += sprintf(q, "\\x%02x", c);
		else
			*q++ = (char)c;
	}
	if (quote)
		*q++ = '"';
	*q = '\0';
	return p;
}
