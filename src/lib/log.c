/* SPDX-License-Identifier: MIT */
/*
 * log.c: the logger. A line is formatted into a stack buffer (truncated at
 * LOG_LINE_MAX, marked with "...") and written with a single write(2), so
 * lines from worker threads never interleave.
 */
#include "lib/log.h"

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
static _Atomic bool use_syslog;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
log_configure(enum log_level min, bool to_syslog)
{
	min_level = min;
	if (to_syslog && !use_syslog)
		openlog("tern", LOG_PID | LOG_NDELAY, LOG_MAIL);
	use_syslog = to_syslog;
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
	va_copy(ap2, ap);
	k = vsnprintf(line + head, sizeof(line) - head - 1, fmt, ap2);
	va_end(ap2);
	n = head + (size_t)(k < 0 ? 0 : k);
	if (n >= sizeof(line) - 1) {
		n = sizeof(line) - 5;
		memcpy(line + n, "...", 3);
		n += 3;
	}
	line[n] = '\0';
	if (use_syslog)
		syslog(syslog_prio[level], "%s %s", module, line + head);
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, n);
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
