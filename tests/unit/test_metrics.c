/* SPDX-License-Identifier: MIT */
/*
 * test_metrics.c: lib/metrics.c: counters, gauges and histograms render in
 * the Prometheus text format, hostile label values cannot break a line, and
 * updates from several threads at once are all counted.
 */
#include <pthread.h>

#include "lib/buf.h"
#include "lib/metrics.h"
#include "test.h"

static char *
render(void)
{
	struct buf b;

	buf_init(&b);
	metrics_render(&b);
	return buf_steal(&b);
}

static void
test_counters_and_gauges(void)
{
	metrics_add(METRICS_SESSIONS_TOTAL, "imap", NULL, NULL, 2);
	metrics_add(METRICS_SESSIONS_TOTAL, "imap", NULL, NULL, 1);
	metrics_add(METRICS_SESSIONS_ACTIVE, "pop3", NULL, NULL, 1);
	metrics_add(METRICS_SESSIONS_ACTIVE, "pop3", NULL, NULL, -1);
	metrics_add(METRICS_LOGINS_TOTAL, "imap", "ok", "PLAIN", 1);
	char *out = render();
	test_assert(0, strstr(out, "# TYPE tern_sessions_total counter\n") != NULL);
	test_assert(0, strstr(out, "tern_sessions_total{proto=\"imap\"} 3\n") != NULL);
	test_assert(0, strstr(out, "tern_sessions_active{proto=\"pop3\"} 0\n") != NULL);
	test_assert(
	        0,
	        strstr(out,
	               "tern_logins_total{proto=\"imap\",result=\"ok\",mechanism=\"PLAIN\"} 1\n") !=
	                NULL);
	free(out);
}

static void
test_histogram(void)
{
	metrics_observe(METRICS_COMMAND_SECONDS, "imap", "FETCH", 50);       /* 0.0001 */
	metrics_observe(METRICS_COMMAND_SECONDS, "imap", "FETCH", 2000);     /* 0.005 */
	metrics_observe(METRICS_COMMAND_SECONDS, "imap", "FETCH", 60000000); /* +Inf only */
	char *out = render();
	const char *p = "tern_command_duration_seconds_bucket{proto=\"imap\",command=\"FETCH\",";
	char want[256];
	snprintf(want, sizeof(want), "%sle=\"0.0001\"} 1\n", p);
	test_assert(0, strstr(out, want) != NULL);
	snprintf(want, sizeof(want), "%sle=\"0.001\"} 1\n", p);
	test_assert(0, strstr(out, want) != NULL);
	snprintf(want, sizeof(want), "%sle=\"0.005\"} 2\n", p);
	test_assert(0, strstr(out, want) != NULL);
	snprintf(want, sizeof(want), "%sle=\"10\"} 2\n", p);
	test_assert(0, strstr(out, want) != NULL);
	snprintf(want, sizeof(want), "%sle=\"+Inf\"} 3\n", p);
	test_assert(0, strstr(out, want) != NULL);
	test_assert(
	        0,
	        strstr(out,
	               "tern_command_duration_seconds_count{proto=\"imap\",command=\"FETCH\"} 3\n") !=
	                NULL);
	test_assert(
	        0,
	        strstr(out,
	               "tern_command_duration_seconds_sum{proto=\"imap\",command=\"FETCH\"} 60.002050\n") !=
	                NULL);
	free(out);
}

static void
test_hostile_labels(void)
{
	metrics_add(METRICS_HTTP_REQUESTS, "a\"} 1\nevil{x=\"", "200", NULL, 1);
	char *out = render();
	test_assert(0, strstr(out, "evil{") == NULL);
	test_assert(0,
	            strstr(out,
	                   "tern_http_requests_total{route=\"a___1_evil_x__\",code=\"200\"} 1\n") !=
	                    NULL);
	free(out);
}

#define THREADS 4
#define ADDS    100000

static void *
adder(void *arg)
{
	for (int i = 0; i < ADDS; i++) {
		metrics_add(METRICS_THROTTLED_TOTAL, "smtp", NULL, NULL, 1);
		/* New series claimed concurrently too. */
		char name[16];
		snprintf(name, sizeof(name), "c%d", i % 50);
		metrics_observe(METRICS_COMMAND_SECONDS, "race", name, 1);
	}
	return arg;
}

static void
test_threads(void)
{
	pthread_t t[THREADS];

	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, adder, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	char *out = render();
	char want[128];
	snprintf(want, sizeof(want), "tern_throttled_total{proto=\"smtp\"} %d\n", THREADS * ADDS);
	test_assert(0, strstr(out, want) != NULL);
	snprintf(want, sizeof(want), "command=\"c7\"} %d\n", THREADS * ADDS / 50);
	test_assert(0, strstr(out, want) != NULL);
	/* Each series once: no key claimed two slots in the race. */
	const char *key = "tern_command_duration_seconds_count{proto=\"race\",command=\"c7\"}";
	int seen = 0;
	for (const char *p = strstr(out, key); p != NULL; p = strstr(p + 1, key))
		seen++;
	test_int_eq(0, seen, 1);
	test_assert(0, strstr(out, "tern_metrics_dropped_total 0\n") != NULL);
	free(out);
}

int
main(void)
{
	TEST_RUN(test_counters_and_gauges);
	TEST_RUN(test_histogram);
	TEST_RUN(test_hostile_labels);
	TEST_RUN(test_threads);
	return TEST_DONE("test_metrics");
}
