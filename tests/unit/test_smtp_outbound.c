/* SPDX-License-Identifier: MIT */
/* test_smtp_outbound.c: tests for the outbound pieces that need no network:
   the retry backoff (smtp_outbound.c), MX ordering (smtp_mx.c), a queued
   message's envelope and state round trip and the CLI's controls
   (smtp_queue_item.c), DSN building (smtp_dsn.c) and DKIM's relaxed
   canonicalization (smtp_dkim.c; signatures are checked with dkimpy in
   tests/integration/test_outbound.py). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/util.h"
#include "smtp/smtp_dkim.h"
#include "smtp/smtp_dsn.h"
#include "smtp/smtp_mx.h"
#include "smtp/smtp_outbound.h"
#include "smtp/smtp_parse.h"
#include "smtp/smtp_queue.h"
#include "smtp/smtp_queue_item.h"
#include "test.h"

#define MIN_MS (60ull * 1000)

static void
test_backoff_doubles_to_the_cap(void)
{
	static const struct {
		unsigned attempts;
		uint64_t want;
	} cases[] = {
	        {0, 5 * MIN_MS},    {1, 5 * MIN_MS},      {2, 10 * MIN_MS},  {3, 20 * MIN_MS},
	        {4, 40 * MIN_MS},   {5, 80 * MIN_MS},     {6, 160 * MIN_MS}, {7, 240 * MIN_MS},
	        {50, 240 * MIN_MS}, {1000, 240 * MIN_MS},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_int_eq(i,
		            smtp_outbound_backoff_ms(cases[i].attempts, 5 * MIN_MS, 240 * MIN_MS),
		            cases[i].want);
}

static uint32_t
lcg(void *arg)
{
	uint32_t *s = arg;

	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

static void
test_mx_order_sorts_and_shuffles_equals(void)
{
	bool b_first = false, c_first = false;

	for (uint32_t seed = 1; seed < 200; seed++) {
		struct smtp_mx_record v[4] = {{20, "c"}, {10, "a"}, {20, "b"}, {30, "d"}};
		uint32_t state = seed * 2654435761u;
		smtp_mx_order(v, 4, lcg, &state);
		test_str_eq(seed, v[0].name, "a");
		test_str_eq(seed, v[3].name, "d");
		test_int_eq(seed, v[1].pref, 20);
		test_int_eq(seed, v[2].pref, 20);
		b_first |= strcmp(v[1].name, "b") == 0;
		c_first |= strcmp(v[1].name, "c") == 0;
	}
	test_assert(-1, b_first && c_first); /* both orders of the equal pair */
}

static char *
queue_one(const char *dir, char id_out[40])
{
	struct smtp_queue *q;
	struct smtp_queue_msg *m;
	char *err = NULL;
	struct smtp_mail_params mp = {
	        .body = SMTP_BODY_8BITMIME, .ret = SMTP_RET_HDRS, .envid = "env 1"};
	struct smtp_queue_rcpt r[2] = {
	        {"bob@a.example", SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY, "rfc822",
	         "b+x@a.example"},
	        {"carol@b.example", 0, NULL, NULL},
	};
	struct smtp_envelope env = {"alice@local", "alice@local", &mp, r, 2, false, false};

	if (smtp_queue_open(dir, &q, &err) < 0 || smtp_queue_msg_new(q, &m) < 0)
		abort();
	smtp_queue_msg_write(m, "Subject: x\n\nbody\n", 17);
	if (smtp_queue_msg_commit(m, &env, id_out) < 0)
		abort();
	smtp_queue_msg_free(&m);
	smtp_queue_close(&q);
	return xasprintf("%s/queue", dir);
}

static void
test_queue_item_round_trip(void)
{
	char tmpl[] = "/tmp/tern-unit-queue-XXXXXX", id[40];
	char *dir = mkdtemp(tmpl);
	char *qdir = queue_one(dir, id);
	struct smtp_queue_item *it;

	test_int_eq(-1, smtp_queue_item_read(qdir, id, &it), 0);
	test_str_eq(-1, it->sender, "alice@local");
	test_int_eq(-1, it->body, SMTP_BODY_8BITMIME);
	test_int_eq(-1, it->ret, SMTP_RET_HDRS);
	test_str_eq(-1, it->envid, "env 1");
	test_int_eq(-1, it->n_rcpts, 2);
	test_str_eq(0, it->rcpts[0].orcpt, "b+x@a.example");
	test_int_eq(0, it->rcpts[0].notify, SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY);
	test_int_eq(1, it->rcpts[1].state, SMTP_RCPT_PENDING);
	test_int_eq(-1, smtp_queue_item_next(qdir, id), 0);

	smtp_queue_item_set(&it->rcpts[0], SMTP_RCPT_DELIVERED, 250, "2.0.0 ok\r\nx", "mx1");
	smtp_queue_item_set(&it->rcpts[1], SMTP_RCPT_PENDING, 451, "4.3.0 later", NULL);
	it->attempts = 3;
	it->next = 1234567;
	test_int_eq(-1, smtp_queue_item_save(it), 0);
	smtp_queue_item_free(&it);

	test_int_eq(-1, smtp_queue_item_read(qdir, id, &it), 0);
	test_int_eq(-1, it->attempts, 3);
	test_int_eq(-1, it->next, 1234567);
	test_int_eq(0, it->rcpts[0].state, SMTP_RCPT_DELIVERED);
	test_str_eq(0, it->rcpts[0].last, "250 2.0.0 ok??x (mx1)"); /* no line breaks kept */
	test_str_eq(1, it->rcpts[1].last, "451 4.3.0 later");
	smtp_queue_item_free(&it);
	test_int_eq(-1, smtp_queue_item_next(qdir, id), 1234567);

	/* The listing's state: deferred while its next attempt is ahead. */
	struct smtp_queue_entry *v;
	size_t n;
	char *err = NULL;
	test_int_eq(-1, smtp_queue_list(dir, &v, &n, &err), 0);
	test_int_eq(-1, n, 1);
	test_int_eq(-1, v[0].attempts, 3);
	test_int_eq(-1, v[0].state, SMTP_QUEUE_STATE_QUEUED); /* 1234567 is long past */
	smtp_queue_entries_free(&v, n);
	test_int_eq(-1, smtp_queue_item_read(qdir, id, &it), 0);
	it->next = time(NULL) + 3600;
	test_int_eq(-1, smtp_queue_item_save(it), 0);
	smtp_queue_item_free(&it);
	test_int_eq(-1, smtp_queue_list(dir, &v, &n, &err), 0);
	test_int_eq(-1, v[0].state, SMTP_QUEUE_STATE_DEFERRED);
	test_str_eq(-1, smtp_queue_state_name(v[0].state), "deferred");
	smtp_queue_entries_free(&v, n);
	test_int_eq(-1, smtp_queue_control_all(dir, SMTP_QUEUE_HOLD, &n, &err), 0);
	test_int_eq(-1, n, 1);
	test_int_eq(-1, smtp_queue_list(dir, &v, &n, &err), 0);
	test_int_eq(-1, v[0].state, SMTP_QUEUE_STATE_HELD);
	smtp_queue_entries_free(&v, n);
	test_int_eq(-1, smtp_queue_control_parse("release"), SMTP_QUEUE_RELEASE);
	test_int_eq(-1, smtp_queue_control_parse("bounce"), -1);
	test_str_eq(-1, smtp_queue_control_name(SMTP_QUEUE_DELETE), "delete");

	test_int_eq(-1, smtp_queue_control(dir, id, SMTP_QUEUE_HOLD, &err), 0);
	test_assert(-1, smtp_queue_is_held(qdir, id));
	test_int_eq(-1, smtp_queue_control(dir, id, SMTP_QUEUE_RELEASE, &err), 0);
	test_assert(-1, !smtp_queue_is_held(qdir, id));
	test_int_eq(-1, smtp_queue_control(dir, id, SMTP_QUEUE_DELETE, &err), 0);
	test_int_eq(-1, smtp_queue_item_read(qdir, id, &it), -1);
	test_int_eq(-1, smtp_queue_control(dir, id, SMTP_QUEUE_RETRY, &err), -1);
	free(err);
	test_int_eq(-1, smtp_queue_control(dir, "../x", SMTP_QUEUE_DELETE, &err), -1);
	free(err);

	char *cmd = xasprintf("rm -rf %s", dir);
	test_int_eq(-1, system(cmd), 0);
	free(cmd);
	free(qdir);
}

static int
to_buf(void *arg, const void *data, size_t len)
{
	buf_append(arg, data, len);
	return 0;
}

static void
test_dsn_report(void)
{
	char tmpl[] = "/tmp/tern-unit-dsn-XXXXXX";
	int fd = mkstemp(tmpl);
	const char *orig = "Subject: hi\r\nFrom: a@local\r\n\r\nbody line\r\n";
	struct smtp_dsn_rcpt r[2] = {
	        {"bob@a.example", "rfc822", "b@a.example", SMTP_DSN_FAILED,
	         "550 5.1.1 no such user (mx1.a.example)"},
	        {"carol@b.example", NULL, NULL, SMTP_DSN_FAILED, "451 connection lost"},
	};
	struct smtp_dsn d = {"mx.local", "a@local", "abc", "env1", 0, 86400, true, fd, r, 2};
	struct buf b;

	test_int_eq(-1, write(fd, orig, strlen(orig)), (ssize_t)strlen(orig));
	buf_init(&b);
	test_int_eq(-1, smtp_dsn_write(&d, to_buf, &b), 0);
	buf_putc(&b, '\0');
	const char *s = b.data;
	test_assert(0, strstr(s, "report-type=delivery-status") != NULL);
	test_assert(1, strstr(s, "Reporting-MTA: dns; mx.local\r\n") != NULL);
	test_assert(2, strstr(s, "Original-Envelope-Id: env1\r\n") != NULL);
	test_assert(3, strstr(s, "Original-Recipient: rfc822;b@a.example\r\n"
	                         "Final-Recipient: rfc822;bob@a.example\r\nAction: failed\r\n"
	                         "Status: 5.1.1\r\nRemote-MTA: dns; mx1.a.example\r\n"
	                         "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n") != NULL);
	/* No enhanced code: the class alone. */
	test_assert(4, strstr(s, "Final-Recipient: rfc822;carol@b.example\r\nAction: failed\r\n"
	                         "Status: 4.0.0\r\nDiagnostic-Code: smtp; 451 connection lost") !=
	                       NULL);
	test_assert(5, strstr(s, "text/rfc822-headers\r\n\r\nSubject: hi\r\nFrom: a@local\r\n\r\n"
	                         "\r\n--") != NULL);
	test_assert(6, strstr(s, "body line") == NULL);
	buf_deinit(&b);

	d.headers_only = false;
	buf_init(&b);
	test_int_eq(-1, smtp_dsn_write(&d, to_buf, &b), 0);
	buf_putc(&b, '\0');
	test_assert(7, strstr(b.data, "message/rfc822\r\n\r\nSubject: hi") != NULL);
	test_assert(8, strstr(b.data, "body line\r\n") != NULL);
	buf_deinit(&b);
	close(fd);
	unlink(tmpl);
}

static void
test_dsn_wanted(void)
{
	static const struct {
		unsigned notify;
		enum smtp_dsn_action action;
		const char *sender;
		bool want;
	} cases[] = {
	        {0, SMTP_DSN_FAILED, "a@b", true},
	        {0, SMTP_DSN_RELAYED, "a@b", false},
	        {0, SMTP_DSN_FAILED, "", false}, /* never to <> */
	        {SMTP_NOTIFY_NEVER, SMTP_DSN_FAILED, "a@b", false},
	        {SMTP_NOTIFY_SUCCESS, SMTP_DSN_FAILED, "a@b", false},
	        {SMTP_NOTIFY_SUCCESS, SMTP_DSN_RELAYED, "a@b", true},
	        {SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY, SMTP_DSN_DELAYED, "a@b", true},
	        {SMTP_NOTIFY_FAILURE, SMTP_DSN_FAILED, "a@b", true},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_int_eq(i, smtp_dsn_wanted(cases[i].notify, cases[i].action, cases[i].sender),
		            cases[i].want);
}

static void
test_dkim_relaxed_canonicalization(void)
{
	/* RFC 6376 section 3.4.6's example, and edge cases. */
	static const struct {
		const char *in, *want;
	} headers[] =
	        {
	                {"A: X", "a:X"},
	                {"B : Y\t\r\n\tZ  ", "b:Y Z"},
	                {"Subject:", "subject:"},
	                {"To:  a@b ,\r\n  c@d", "to:a@b , c@d"},
	        },
	  bodies[] = {
	          {" C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n"},
	          {"", ""},
	          {"\r\n\r\n", ""},
	          {"x", "x\r\n"},
	          {"a\r\n\r\nb\r\n \r\n", "a\r\n\r\nb\r\n"},
	  };
	struct buf b;

	for (size_t i = 0; i < ARRAY_LEN(headers); i++) {
		buf_init(&b);
		smtp_dkim_relax_header(headers[i].in, strlen(headers[i].in), &b);
		buf_putc(&b, '\0');
		test_str_eq(i, b.data, headers[i].want);
		buf_deinit(&b);
	}
	for (size_t i = 0; i < ARRAY_LEN(bodies); i++) {
		buf_init(&b);
		smtp_dkim_relax_body(bodies[i].in, strlen(bodies[i].in), &b);
		buf_putc(&b, '\0');
		test_str_eq(i, b.data, bodies[i].want);
		buf_deinit(&b);
	}
}

int
main(void)
{
	TEST_RUN(test_backoff_doubles_to_the_cap);
	TEST_RUN(test_mx_order_sorts_and_shuffles_equals);
	TEST_RUN(test_queue_item_round_trip);
	TEST_RUN(test_dsn_report);
	TEST_RUN(test_dsn_wanted);
	TEST_RUN(test_dkim_relaxed_canonicalization);
	return TEST_DONE("test_smtp_outbound");
}
