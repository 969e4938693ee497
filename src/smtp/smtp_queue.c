/* SPDX-License-Identifier: MIT */
/*
 * smtp_queue.c: the outbound queue's files (smtp_queue.h).
 *
 * ID.env, one field a line, client strings as xtext (RFC 3461 section 4)
 * so that no byte of theirs can break a line:
 *
 *   tern-queue 1
 *   created 1796158800
 *   account alice@example.org
 *   sender alice@example.org          ("" for <>)
 *   size 1234
 *   local yes                         (only for local redelivery)
 *   tlsrpt yes                        (only for a TLS-RPT report)
 *   body 8BITMIME                     (7BIT, 8BITMIME, BINARYMIME)
 *   smtputf8 no
 *   requiretls no
 *   ret -                             (FULL, HDRS, or -)
 *   envid -                           (xtext, or -)
 *   rcpt bob@example.com NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob+40example.com
 *
 * Ids are 16 random bytes in hex after the time, so they sort by age and
 * never come from client input.
 */
#include "smtp/smtp_queue.h"
#include "smtp/smtp_queue_item.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"

#define WRITE_BUF 8192

struct smtp_queue {
	char *dir, *tmp;
};

struct smtp_queue_msg {
	struct smtp_queue *q;
	char id[40];
	char *tmp_msg, *tmp_env;
	int fd;
	uint64_t size;
	bool last_cr, failed, committed;
	char buf[WRITE_BUF];
	size_t used;
};

int
smtp_queue_open(const char *data_dir, struct smtp_queue **q_out, char **error_out)
{
	struct smtp_queue *q = xcalloc(1, sizeof(*q));

	q->dir = xasprintf("%s/queue", data_dir);
	q->tmp = xasprintf("%s/queue/tmp", data_dir);
	if ((mkdir(q->dir, 0750) < 0 && errno != EEXIST) ||
	    (mkdir(q->tmp, 0750) < 0 && errno != EEXIST)) {
		*error_out = xasprintf("%s: %s", q->dir, strerror(errno));
		smtp_queue_close(&q);
		return -1;
	}
	*q_out = q;
	return 0;
}

void
smtp_queue_close(struct smtp_queue **qp)
{
	struct smtp_queue *q = *qp;

	if (q == NULL)
		return;
	*qp = NULL;
	free(q->dir);
	free(q->tmp);
	free(q);
}

int
smtp_queue_msg_new(struct smtp_queue *q, struct smtp_queue_msg **m_out)
{
	struct smtp_queue_msg *m = xcalloc(1, sizeof(*m));
	unsigned char rnd[8];

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		abort();
	snprintf(m->id, sizeof(m->id), "%010llx%02x%02x%02x%02x%02x%02x%02x%02x",
	         (unsigned long long)time(NULL), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5],
	         rnd[6], rnd[7]);
	m->q = q;
	m->tmp_msg = xasprintf("%s/%s.msg", q->tmp, m->id);
	m->tmp_env = xasprintf("%s/%s.env", q->tmp, m->id);
	m->fd = open(m->tmp_msg, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (m->fd < 0) {
		log_error("queue", "event=create-failed path=%s err=\"%s\"", m->tmp_msg,
		          strerror(errno));
		smtp_queue_msg_free(&m);
		return -1;
	}
	*m_out = m;
	return 0;
}

static int
flush(struct smtp_queue_msg *m)
{
	if (m->used > 0 && fd_write_all(m->fd, m->buf, m->used) < 0) {
		log_error("queue", "event=write-failed id=%s err=\"%s\"", m->id, strerror(errno));
		m->failed = true;
	}
	m->used = 0;
	return m->failed ? -1 : 0;
}

static int
put(struct smtp_queue_msg *m, char c)
{
	if (m->used == sizeof(m->buf) && flush(m) < 0)
		return -1;
	m->buf[m->used++] = c;
	m->size++;
	return 0;
}

int
smtp_queue_msg_write(struct smtp_queue_msg *m, const void *data, size_t len)
{
	const char *p = data;

	if (m->failed)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' && !m->last_cr && put(m, '\r') < 0)
			return -1;
		if (put(m, p[i]) < 0)
			return -1;
		m->last_cr = p[i] == '\r';
	}
	return 0;
}

static const char *
notify_str(struct arena *a, unsigned notify)
{
	static const char *const names[] = {"NEVER", "SUCCESS", "FAILURE", "DELAY"};
	char *s = arena_strdup(a, "");

	for (unsigned i = 0; i < 4; i++)
		if (notify & (1u << i))
			s = arena_printf(a, "%s%s%s", s, s[0] ? "," : "", names[i]);
	return s;
}

static void
envelope_text(struct buf *b, struct arena *a, const struct smtp_envelope *env, uint64_t size)
{
	static const char *const bodies[] = {"7BIT", "7BIT", "8BITMIME", "BINARYMIME"};
	static const char *const rets[] = {"-", "FULL", "HDRS"};
	const struct smtp_mail_params *p = env->mail;

	buf_printf(b, "tern-queue 1\ncreated %lld\naccount %s\nsender %s\nsize %llu\n",
	           (long long)time(NULL), smtp_xtext_encode(a, env->account),
	           env->sender[0] ? smtp_xtext_encode(a, env->sender) : "\"\"",
	           (unsigned long long)size);
	if (env->is_local)
		buf_puts(b, "local yes\n");
	if (env->is_tlsrpt)
		buf_puts(b, "tlsrpt yes\n");
	buf_printf(b, "body %s\nsmtputf8 %s\nrequiretls %s\nret %s\nenvid %s\n", bodies[p->body],
	           p->smtputf8 ? "yes" : "no", p->requiretls ? "yes" : "no", rets[p->ret],
	           p->envid != NULL ? smtp_xtext_encode(a, p->envid) : "-");
	for (size_t i = 0; i < env->n_rcpts; i++) {
		const struct smtp_queue_rcpt *r = &env->rcpts[i];
		buf_printf(b, "rcpt %s", smtp_xtext_encode(a, r->address));
		if (r->notify != 0)
			buf_printf(b, " NOTIFY=%s", notify_str(a, r->notify));
		if (r->orcpt != NULL)
			buf_printf(b, " ORCPT=%s;%s", r->orcpt_type,
			           smtp_xtext_encode(a, r->orcpt));
		buf_putc(b, '\n');
	}
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int
smtp_queue_msg_commit(struct smtp_queue_msg *m, const struct smtp_envelope *env, char id_out[40])
{
	struct arena *a = arena_new(4096);
	struct buf b;
	char *msg = xasprintf("%s/%s.msg", m->q->dir, m->id);
	char *envp = xasprintf("%s/%s.env", m->q->dir, m->id);
	int rc = -1, fd = -1;
	const char *step = "write";

	buf_init(&b);
	if (flush(m) < 0)
		goto out;
	step = "fsync";
	if (fsync(m->fd) < 0)
		goto out;
	envelope_text(&b, a, env, m->size);
	step = "envelope";
	fd = open(m->tmp_env, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0 || fd_write_all(fd, b.data, b.len) < 0 || fsync(fd) < 0)
		goto out;
	step = "rename";
	if (rename(m->tmp_msg, msg) < 0 || rename(m->tmp_env, envp) < 0)
		goto out;
	m->committed = true; /* the .env is in place: even if the next fails */
	step = "fsync-dir";
	if (fsync_dir(m->q->dir) < 0)
		goto out;
	snprintf(id_out, 40, "%s", m->id);
	rc = 0;
out:
	if (rc < 0) {
		log_error("queue", "event=commit-failed id=%s step=%s err=\"%s\"", m->id, step,
		          strerror(errno));
		if (m->committed) {
			unlink(envp);
			unlink(msg);
			m->committed = false;
		}
	}
	if (fd >= 0)
		close(fd);
	buf_deinit(&b);
	arena_free(&a);
	free(msg);
	free(envp);
	return rc;
}

void
smtp_queue_msg_free(struct smtp_queue_msg **mp)
{
	struct smtp_queue_msg *m = *mp;

	if (m == NULL)
		return;
	*mp = NULL;
	if (m->fd >= 0)
		close(m->fd);
	if (!m->committed) {
		unlink(m->tmp_msg);
		unlink(m->tmp_env);
	}
	free(m->tmp_msg);
	free(m->tmp_env);
	free(m);
}

/* ---- reading ---- */

const char *
smtp_queue_state_name(enum smtp_queue_state state)
{
	static const char *const names[] = {"queued", "deferred", "held"};

	return names[state];
}

bool
smtp_queue_id_is_valid(const char *id)
{
	size_t n = strlen(id);

	return n > 0 && n < 40 && strspn(id, "0123456789abcdef") == n;
}

/* "\"\"" is the null sender; anything else is xtext. */
static char *
field_decode(struct arena *a, const char *v)
{
	if (strcmp(v, "\"\"") == 0)
		return arena_strdup(a, "");
	char *d = smtp_xtext_decode(a, v, strlen(v));
	return d != NULL ? d : arena_strdup(a, v);
}

static int
read_entry(const char *dir, const char *id, struct smtp_queue_entry *e)
{
	char *path = xasprintf("%s/%s.env", dir, id);
	FILE *f = fopen(path, "r");
	char line[4096];
	struct arena *a = arena_new(1024);

	free(path);
	memset(e, 0, sizeof(*e));
	if (f == NULL) {
		arena_free(&a);
		return -1;
	}
	snprintf(e->id, sizeof(e->id), "%s", id);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		char *v = strchr(line, ' ');
		if (v == NULL)
			continue;
		*v++ = '\0';
		if (strcmp(line, "created") == 0) {
			e->created = strtoll(v, NULL, 10);
		} else if (strcmp(line, "size") == 0) {
			e->size = strtoull(v, NULL, 10);
		} else if (strcmp(line, "sender") == 0) {
			e->sender = xstrdup(field_decode(a, v));
		} else if (strcmp(line, "account") == 0) {
			e->account = xstrdup(field_decode(a, v));
		} else if (strcmp(line, "rcpt") == 0) {
			v[strcspn(v, " ")] = '\0';
			e->rcpts = xrealloc(e->rcpts, (e->n_rcpts + 1) * sizeof(*e->rcpts));
			e->rcpts[e->n_rcpts++] = xstrdup(field_decode(a, v));
		}
	}
	fclose(f);
	arena_free(&a);
	smtp_queue_item_schedule(dir, id, &e->attempts, &e->next);
	e->state = smtp_queue_is_held(dir, id)               ? SMTP_QUEUE_STATE_HELD
	           : e->attempts > 0 && e->next > time(NULL) ? SMTP_QUEUE_STATE_DEFERRED
	                                                     : SMTP_QUEUE_STATE_QUEUED;
	if (e->sender == NULL)
		e->sender = xstrdup("");
	if (e->account == NULL)
		e->account = xstrdup("");
	return 0;
}

static int
entry_cmp(const void *x, const void *y)
{
	const struct smtp_queue_entry *a = x, *b = y;

	return strcmp(a->id, b->id);
}

int
smtp_queue_list(const char *data_dir, struct smtp_queue_entry **out, size_t *n_out,
                char **error_out)
{
	char *dir = xasprintf("%s/queue", data_dir);
	DIR *d = opendir(dir);
	struct dirent *de;
	struct smtp_queue_entry *v = NULL;
	size_t n = 0;

	*out = NULL;
	*n_out = 0;
	if (d == NULL) {
		int rc = errno == ENOENT ? 0 : -1;
		if (rc < 0)
			*error_out = xasprintf("%s: %s", dir, strerror(errno));
		free(dir);
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		char *dot = strrchr(de->d_name, '.');
		if (dot == NULL || strcmp(dot, ".env") != 0)
			continue;
		*dot = '\0';
		if (!smtp_queue_id_is_valid(de->d_name))
			continue;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		if (read_entry(dir, de->d_name, &v[n]) == 0)
			n++;
	}
	closedir(d);
	free(dir);
	if (n > 1) /* qsort(NULL, 0) is undefined */
		qsort(v, n, sizeof(*v), entry_cmp);
	*out = v;
	*n_out = n;
	return 0;
}

void
smtp_queue_entries_free(struct smtp_queue_entry **vp, size_t n)
{
	struct smtp_queue_entry *v = *vp;

	if (v == NULL)
		return;
	*vp = NULL;
	for (size_t i = 0; i < n; i++) {
		free(v[i].sender);
		free(v[i].account);
		for (size_t j = 0; j < v[i].n_rcpts; j++)
			free(v[i].rcpts[j]);
		free(v[i].rcpts);
	}
	free(v);
}

int
smtp_queue_show(const char *data_dir, const char *id, bool with_message, FILE *out,
                char **error_out)
{
	if (!smtp_queue_id_is_valid(id)) {
		*error_out = xasprintf("no queued message '%s'", id);
		return -1;
	}
	char *env = xasprintf("%s/queue/%s.env", data_dir, id);
	FILE *f = fopen(env, "r");
	char line[4096];
	struct arena *a = arena_new(1024);

	free(env);
	if (f == NULL) {
		*error_out = xasprintf("no queued message '%s'", id);
		arena_free(&a);
		return -1;
	}
	fprintf(out, "id %s\n", id);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		char *v = strchr(line, ' ');
		if (v == NULL || strcmp(line, "tern-queue") == 0)
			continue;
		*v++ = '\0';
		if (strcmp(line, "sender") == 0 || strcmp(line, "account") == 0 ||
		    strcmp(line, "envid") == 0) {
			fprintf(out, "%s %s\n", line,
			        strcmp(v, "-") == 0 ? "-" : field_decode(a, v));
		} else if (strcmp(line, "rcpt") == 0) {
			size_t n = strcspn(v, " ");
			char *addr = arena_strndup(a, v, n);
			fprintf(out, "rcpt %s%s\n", field_decode(a, addr), v + n);
		} else {
			fprintf(out, "%s %s\n", line, v);
		}
	}
	fclose(f);
	arena_free(&a);
	/* The runner's per-recipient state (smtp_queue_item.h), as written. */
	char *state = xasprintf("%s/queue/%s.state", data_dir, id);
	FILE *sf = fopen(state, "r");
	free(state);
	while (sf != NULL && fgets(line, sizeof(line), sf) != NULL)
		if (strncmp(line, "tern-queue-state", 16) != 0)
			fprintf(out, "state %s", line);
	if (sf != NULL)
		fclose(sf);
	if (with_message) {
		char *msg = xasprintf("%s/queue/%s.msg", data_dir, id);
		FILE *m = fopen(msg, "rb");
		free(msg);
		if (m != NULL) {
			size_t n;
			char buf[8192];
			fputc('\n', out);
			while ((n = fread(buf, 1, sizeof(buf), m)) > 0)
				fwrite(buf, 1, n, out);
			fclose(m);
		}
	}
	return 0;
}
