/* SPDX-License-Identifier: MIT */
/*
 * smtp_queue_item.c: reading a queued message's envelope and state, writing
 * its state, and the CLI's control files (smtp_queue_item.h). The envelope
 * format is smtp_queue.c's; the values in it came from clients and are
 * xtext, decoded here.
 */
#include "smtp/smtp_queue_item.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"
#include "smtp/smtp_queue.h"

static const char *const state_names[] = {"pending", "delivered", "failed"};

static char *
decode(const char *v)
{
	struct arena *a;

	if (strcmp(v, "\"\"") == 0)
		return xstrdup("");
	a = arena_new(256);
	char *d = smtp_xtext_decode(a, v, strlen(v));
	char *out = xstrdup(d != NULL ? d : v);
	arena_free(&a);
	return out;
}

static unsigned
notify_parse(const char *v)
{
	static const char *const names[] = {"NEVER", "SUCCESS", "FAILURE", "DELAY"};
	unsigned bits = 0;

	for (unsigned i = 0; i < 4; i++) {
		const char *p = strstr(v, names[i]);
		if (p != NULL)
			bits |= 1u << i;
	}
	return bits;
}

static void
rcpt_parse(struct smtp_queue_item *it, char *v)
{
	struct smtp_queue_item_rcpt r = {0};
	char *save = NULL;

	for (char *t = strtok_r(v, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save)) {
		if (r.address == NULL) {
			r.address = decode(t);
		} else if (strncmp(t, "NOTIFY=", 7) == 0) {
			r.notify = notify_parse(t + 7);
		} else if (strncmp(t, "ORCPT=", 6) == 0) {
			char *semi = strchr(t + 6, ';');
			if (semi != NULL) {
				*semi = '\0';
				r.orcpt_type = xstrdup(t + 6);
				r.orcpt = decode(semi + 1);
			}
		}
	}
	if (r.address == NULL)
		return;
	it->rcpts = xrealloc(it->rcpts, (it->n_rcpts + 1) * sizeof(*it->rcpts));
	it->rcpts[it->n_rcpts++] = r;
}

static int
read_env(struct smtp_queue_item *it)
{
	char *path = xasprintf("%s/%s.env", it->dir, it->id);
	FILE *f = fopen(path, "r");
	char line[4096];

	free(path);
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		char *v = strchr(line, ' ');
		if (v == NULL)
			continue;
		*v++ = '\0';
		if (strcmp(line, "created") == 0)
			it->created = strtoll(v, NULL, 10);
		else if (strcmp(line, "size") == 0)
			it->size = strtoull(v, NULL, 10);
		else if (strcmp(line, "sender") == 0 && it->sender == NULL)
			it->sender = decode(v);
		else if (strcmp(line, "account") == 0 && it->account == NULL)
			it->account = decode(v);
		else if (strcmp(line, "body") == 0)
			it->body = strcmp(v, "8BITMIME") == 0     ? SMTP_BODY_8BITMIME
			           : strcmp(v, "BINARYMIME") == 0 ? SMTP_BODY_BINARYMIME
			                                          : SMTP_BODY_7BIT;
		else if (strcmp(line, "smtputf8") == 0)
			it->smtputf8 = strcmp(v, "yes") == 0;
		else if (strcmp(line, "requiretls") == 0)
			it->requiretls = strcmp(v, "yes") == 0;
		else if (strcmp(line, "local") == 0)
			it->is_local = strcmp(v, "yes") == 0;
		else if (strcmp(line, "tlsrpt") == 0)
			it->is_tlsrpt = strcmp(v, "yes") == 0;
		else if (strcmp(line, "ret") == 0)
			it->ret = strcmp(v, "FULL") == 0   ? SMTP_RET_FULL
			          : strcmp(v, "HDRS") == 0 ? SMTP_RET_HDRS
			                                   : SMTP_RET_NONE;
		else if (strcmp(line, "envid") == 0 && strcmp(v, "-") != 0 && it->envid == NULL)
			it->envid = decode(v);
		else if (strcmp(line, "rcpt") == 0)
			rcpt_parse(it, v);
	}
	fclose(f);
	if (it->sender == NULL)
		it->sender = xstrdup("");
	if (it->account == NULL)
		it->account = xstrdup("");
	return 0;
}

static void
read_state(struct smtp_queue_item *it)
{
	char *path = xasprintf("%s/%s.state", it->dir, it->id);
	FILE *f = fopen(path, "r");
	char line[4096];

	free(path);
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		char *v = strchr(line, ' ');
		if (v == NULL)
			continue;
		*v++ = '\0';
		if (strcmp(line, "attempts") == 0) {
			it->attempts = (unsigned)strtoul(v, NULL, 10);
		} else if (strcmp(line, "next") == 0) {
			it->next = strtoll(v, NULL, 10);
		} else if (strcmp(line, "warned") == 0) {
			it->delay_sent = strcmp(v, "1") == 0;
		} else if (strcmp(line, "rcpt") == 0) {
			char *end;
			unsigned long i = strtoul(v, &end, 10);
			if (i >= it->n_rcpts || *end != ' ')
				continue;
			char *state = end + 1, *text = strchr(state, ' ');
			if (text != NULL)
				*text++ = '\0';
			struct smtp_queue_item_rcpt *r = &it->rcpts[i];
			for (int s = 0; s < 3; s++)
				if (strcmp(state, state_names[s]) == 0)
					r->state = (enum smtp_rcpt_state)s;
			free(r->last);
			r->last = text != NULL ? xstrdup(text) : NULL;
		}
	}
	fclose(f);
}

int
smtp_queue_item_read(const char *queue_dir, const char *id, struct smtp_queue_item **out)
{
	if (!smtp_queue_id_is_valid(id))
		return -1;
	struct smtp_queue_item *it = xcalloc(1, sizeof(*it));
	it->dir = xstrdup(queue_dir);
	snprintf(it->id, sizeof(it->id), "%s", id);
	if (read_env(it) < 0) {
		smtp_queue_item_free(&it);
		return -1;
	}
	read_state(it);
	*out = it;
	return 0;
}

void
smtp_queue_item_free(struct smtp_queue_item **ip)
{
	struct smtp_queue_item *it = *ip;

	if (it == NULL)
		return;
	*ip = NULL;
	for (size_t i = 0; i < it->n_rcpts; i++) {
		free(it->rcpts[i].address);
		free(it->rcpts[i].orcpt_type);
		free(it->rcpts[i].orcpt);
		free(it->rcpts[i].last);
	}
	free(it->rcpts);
	free(it->dir);
	free(it->sender);
	free(it->account);
	free(it->envid);
	free(it);
}

void
smtp_queue_item_set(struct smtp_queue_item_rcpt *r, enum smtp_rcpt_state state, int code,
                    const char *text, const char *host)
{
	char *s = host != NULL ? xasprintf("%03d %s (%s)", code, text, host)
	                       : xasprintf("%03d %s", code, text);

	for (char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 32 || *p == 127)
			*p = '?';
	free(r->last);
	r->last = s;
	r->state = state;
}

int
smtp_queue_item_save(const struct smtp_queue_item *it)
{
	struct buf b;
	char *tmp = xasprintf("%s/tmp/%s.state", it->dir, it->id);
	char *path = xasprintf("%s/%s.state", it->dir, it->id);
	int rc = -1;

	buf_init(&b);
	buf_printf(&b, "tern-queue-state 1\nattempts %u\nnext %lld\n", it->attempts,
	           (long long)it->next);
	if (it->delay_sent)
		buf_puts(&b, "warned 1\n");
	for (size_t i = 0; i < it->n_rcpts; i++)
		if (it->rcpts[i].state != SMTP_RCPT_PENDING || it->rcpts[i].last != NULL)
			buf_printf(&b, "rcpt %zu %s %s\n", i, state_names[it->rcpts[i].state],
			           it->rcpts[i].last != NULL ? it->rcpts[i].last : "");
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd >= 0 && fd_write_all(fd, b.data, b.len) == 0 && fsync(fd) == 0 &&
	    rename(tmp, path) == 0) {
		int dfd = open(it->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			rc = fsync(dfd);
			close(dfd);
		}
	}
	if (rc < 0) {
		log_error("queue", "event=state-write-failed id=%s err=\"%s\"", it->id,
		          strerror(errno));
		unlink(tmp);
	}
	if (fd >= 0)
		close(fd);
	buf_deinit(&b);
	free(tmp);
	free(path);
	return rc;
}

void
smtp_queue_item_remove(const char *queue_dir, const char *id)
{
	static const char *const exts[] = {"env", "msg", "state", "hold", "retry"};

	for (size_t i = 0; i < ARRAY_LEN(exts); i++) {
		char *p = xasprintf("%s/%s.%s", queue_dir, id, exts[i]);
		unlink(p);
		free(p);
	}
	int dfd = open(queue_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
}

void
smtp_queue_item_schedule(const char *queue_dir, const char *id, unsigned *attempts_out,
                         int64_t *next_out)
{
	char *path = xasprintf("%s/%s.state", queue_dir, id);
	FILE *f = fopen(path, "r");
	char line[256];

	free(path);
	*attempts_out = 0;
	*next_out = 0;
	if (f == NULL)
		return;
	/* The header lines come first (smtp_queue_item_save). */
	for (int i = 0; i < 4 && fgets(line, sizeof(line), f) != NULL; i++) {
		if (strncmp(line, "next ", 5) == 0)
			*next_out = strtoll(line + 5, NULL, 10);
		else if (strncmp(line, "attempts ", 9) == 0)
			*attempts_out = (unsigned)strtoul(line + 9, NULL, 10);
	}
	fclose(f);
}

int64_t
smtp_queue_item_next(const char *queue_dir, const char *id)
{
	unsigned attempts;
	int64_t next;

	smtp_queue_item_schedule(queue_dir, id, &attempts, &next);
	return next;
}

static bool
file_exists(const char *queue_dir, const char *id, const char *ext)
{
	char *p = xasprintf("%s/%s.%s", queue_dir, id, ext);
	bool yes = access(p, F_OK) == 0;

	free(p);
	return yes;
}

bool
smtp_queue_is_held(const char *queue_dir, const char *id)
{
	return file_exists(queue_dir, id, "hold");
}

static int
touch(const char *queue_dir, const char *id, const char *ext)
{
	char *p = xasprintf("%s/%s.%s", queue_dir, id, ext);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);

	free(p);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

int
smtp_queue_control(const char *data_dir, const char *id, enum smtp_queue_control op,
                   char **error_out)
{
	char *dir = xasprintf("%s/queue", data_dir);
	int rc = 0;

	if (!smtp_queue_id_is_valid(id) || !file_exists(dir, id, "env")) {
		*error_out = xasprintf("no queued message '%s'", id);
		free(dir);
		return -1;
	}
	switch (op) {
	case SMTP_QUEUE_RETRY:
		rc = touch(dir, id, "retry");
		break;
	case SMTP_QUEUE_HOLD:
		rc = touch(dir, id, "hold");
		break;
	case SMTP_QUEUE_RELEASE: {
		char *p = xasprintf("%s/%s.hold", dir, id);
		unlink(p);
		free(p);
		rc = touch(dir, id, "retry");
		break;
	}
	case SMTP_QUEUE_DELETE:
		smtp_queue_item_remove(dir, id);
		break;
	}
	if (rc < 0)
		*error_out = xasprintf("%s: %s", id, strerror(errno));
	free(dir);
	return rc;
}

static const char *const control_names[] = {
        [SMTP_QUEUE_RETRY] = "retry",
        [SMTP_QUEUE_HOLD] = "hold",
        [SMTP_QUEUE_RELEASE] = "release",
        [SMTP_QUEUE_DELETE] = "delete",
};

const char *
smtp_queue_control_name(enum smtp_queue_control op)
{
	return control_names[op];
}

int
smtp_queue_control_parse(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(control_names); i++)
		if (strcmp(name, control_names[i]) == 0)
			return (int)i;
	return -1;
}

int
smtp_queue_control_all(const char *data_dir, enum smtp_queue_control op, size_t *n_out,
                       char **error_out)
{
	struct smtp_queue_entry *v;
	size_t n;

	*n_out = 0;
	if (smtp_queue_list(data_dir, &v, &n, error_out) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char *error = NULL;
		if (smtp_queue_control(data_dir, v[i].id, op, &error) == 0)
			(*n_out)++;
		free(error); /* gone meanwhile: delivered */
	}
	smtp_queue_entries_free(&v, n);
	return 0;
}
