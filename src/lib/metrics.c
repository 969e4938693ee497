/* SPDX-License-Identifier: MIT */
/*
 * metrics.c: the series table behind metrics.h and its Prometheus text
 * rendering. A slot goes EMPTY -> CLAIMED (one thread writes the key) ->
 * READY (key immutable from then on); readers of a CLAIMED slot wait for it,
 * which is a few stores long. Nothing is ever removed, so a series'
 * address is stable and an update is one atomic add.
 */
#include "lib/metrics.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/util.h"

#define SLOTS     1024 /* commands x protocols fit with room; a power of two */
#define LABEL_MAX 32

/* Upper bounds of the latency buckets, microseconds: 100 us to 10 s covers a
   cached FETCH to a SEARCH over a big mailbox. */
static const uint64_t bucket_us[] = {100,    500,    1000,    5000,    10000,   50000,
                                     100000, 500000, 1000000, 5000000, 10000000};
#define BUCKETS (ARRAY_LEN(bucket_us))

enum { SLOT_EMPTY, SLOT_CLAIMED, SLOT_READY };
enum kind { COUNTER, GAUGE, HISTOGRAM };

static const struct {
	const char *name;
	enum kind kind;
	const char *labels[3];
	const char *help;
} families[METRICS_FAMILIES] = {
        [METRICS_SESSIONS_TOTAL] = {"tern_sessions_total",
                                    COUNTER,
                                    {"proto"},
                                    "Connections accepted, by protocol."},
        [METRICS_SESSIONS_ACTIVE] = {"tern_sessions_active",
                                     GAUGE,
                                     {"proto"},
                                     "Connections open now, by protocol."},
        [METRICS_LOGINS_TOTAL] = {"tern_logins_total",
                                  COUNTER,
                                  {"proto", "result", "mechanism"},
                                  "Login attempts, by protocol, result and SASL mechanism."},
        [METRICS_COMMAND_SECONDS] = {"tern_command_duration_seconds",
                                     HISTOGRAM,
                                     {"proto", "command"},
                                     "Command latency from its line to its final reply."},
        [METRICS_TLS_TOTAL] = {"tern_tls_sessions_total",
                               COUNTER,
                               {"version"},
                               "Sessions that logged in over TLS, by TLS version."},
        [METRICS_HTTP_REQUESTS] = {"tern_http_requests_total",
                                   COUNTER,
                                   {"route", "code"},
                                   "HTTP requests, by route and status code."},
        [METRICS_THROTTLED_TOTAL] = {"tern_throttled_total",
                                     COUNTER,
                                     {"proto"},
                                     "Logins refused because the IP or account is blocked."},
        [METRICS_DELIVERIES_TOTAL] = {"tern_deliveries_total",
                                      COUNTER,
                                      {"proto", "result"},
                                      "Recipients of messages received: delivered to a "
                                      "mailbox, queued for a remote host, or failed."},
        [METRICS_OUTBOUND_TOTAL] = {"tern_outbound_deliveries_total",
                                    COUNTER,
                                    {"result"},
                                    "Remote recipients the queue runner tried: delivered, "
                                    "deferred (a temporary failure) or failed (bounced)."},
        [METRICS_QUEUE_MESSAGES] = {"tern_queue_messages",
                                    GAUGE,
                                    {"state"},
                                    "Messages in the outbound queue at the runner's last look, "
                                    "by state: queued (due), active, deferred, held."},
        [METRICS_BLOCKS_TOTAL] = {"tern_throttle_blocks_total",
                                  COUNTER,
                                  {"kind"},
                                  "Blocks started by failed logins, for an IP or an account "
                                  "(auth.block_after_ip, auth.block_after_account)."},
        [METRICS_LOGIN_CACHE] = {"tern_auth_cache_total",
                                 COUNTER,
                                 {"result"},
                                 "Password checks of the login cache (auth.cache_size): "
                                 "hit (no hash computed) or miss."},
};

struct series {
	_Atomic int state;
	enum metrics_family family;
	char labels[3][LABEL_MAX];
	_Atomic int64_t value; /* counter, gauge; a histogram's count */
	_Atomic uint64_t sum_us;
	_Atomic uint64_t buckets[BUCKETS];
};

static struct series table[SLOTS];
static _Atomic uint64_t dropped;

static void
label_copy(char *dst, const char *src)
{
	size_t i = 0;

	for (; src != NULL && src[i] != '\0' && i < LABEL_MAX - 1; i++) {
		char c = src[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
		dst[i] = ok ? c : '_';
	}
	dst[i] = '\0';
}

static uint32_t
hash_key(enum metrics_family f, char labels[3][LABEL_MAX])
{
	uint32_t h = 2166136261u ^ (uint32_t)f;

	for (int l = 0; l < 3; l++) {
		for (const char *p = labels[l]; *p != '\0'; p++)
			h = (h ^ (uint8_t)*p) * 16777619u;
		h = (h ^ 0xff) * 16777619u;
	}
	return h;
}

static bool
key_equal(const struct series *s, enum metrics_family f, char labels[3][LABEL_MAX])
{
	return s->family == f && memcmp(s->labels, labels, sizeof(s->labels)) == 0;
}

/* The series for (f, labels), created on first use; NULL when full. */
static struct series *
series_get(enum metrics_family f, const char *l1, const char *l2, const char *l3)
{
	char labels[3][LABEL_MAX];

	memset(labels, 0, sizeof(labels));
	label_copy(labels[0], l1);
	label_copy(labels[1], l2);
	label_copy(labels[2], l3);
	uint32_t h = hash_key(f, labels);
	for (uint32_t i = 0; i < SLOTS; i++) {
		struct series *s = &table[(h + i) & (SLOTS - 1)];
		int st = atomic_load_explicit(&s->state, memory_order_acquire);
		if (st == SLOT_EMPTY) {
			int expected = SLOT_EMPTY;
			if (atomic_compare_exchange_strong(&s->state, &expected, SLOT_CLAIMED)) {
				s->family = f;
				memcpy(s->labels, labels, sizeof(labels));
				atomic_store_explicit(&s->state, SLOT_READY, memory_order_release);
				return s;
			}
			st = expected;
		}
		while (st == SLOT_CLAIMED) {
			sched_yield();
			st = atomic_load_explicit(&s->state, memory_order_acquire);
		}
		if (key_equal(s, f, labels))
			return s;
	}
	atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
	return NULL;
}

void
metrics_add(enum metrics_family f, const char *l1, const char *l2, const char *l3, int64_t delta)
{
	struct series *s = series_get(f, l1, l2, l3);

	if (s != NULL)
		atomic_fetch_add_explicit(&s->value, delta, memory_order_relaxed);
}

void
metrics_observe(enum metrics_family f, const char *l1, const char *l2, uint64_t usec)
{
	struct series *s = series_get(f, l1, l2, NULL);

	if (s == NULL)
		return;
	for (size_t b = 0; b < BUCKETS; b++)
		if (usec <= bucket_us[b]) {
			atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
			break;
		}
	atomic_fetch_add_explicit(&s->sum_us, usec, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->value, 1, memory_order_relaxed);
}

int64_t
metrics_value(enum metrics_family f, const char *l1, const char *l2, const char *l3)
{
	char labels[3][LABEL_MAX];

	memset(labels, 0, sizeof(labels));
	label_copy(labels[0], l1);
	label_copy(labels[1], l2);
	label_copy(labels[2], l3);
	uint32_t h = hash_key(f, labels);
	for (uint32_t i = 0; i < SLOTS; i++) {
		const struct series *s = &table[(h + i) & (SLOTS - 1)];
		int st = atomic_load_explicit(&s->state, memory_order_acquire);
		if (st == SLOT_EMPTY)
			return 0;
		if (st == SLOT_READY && key_equal(s, f, labels))
			return atomic_load_explicit(&s->value, memory_order_relaxed);
	}
	return 0;
}

uint64_t
metrics_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* `{proto="imap",command="FETCH"` without the closing brace. */
static void
put_labels(struct buf *out, const struct series *s)
{
	const char *sep = "{";

	for (int l = 0; l < 3 && families[s->family].labels[l] != NULL; l++) {
		buf_printf(out, "%s%s=\"%s\"", sep, families[s->family].labels[l], s->labels[l]);
		sep = ",";
	}
	if (sep[0] == '{')
		buf_putc(out, '{');
}

static void
render_histogram(struct buf *out, const char *name, const struct series *s)
{
	uint64_t cumulative = 0;

	for (size_t b = 0; b < BUCKETS; b++) {
		cumulative += atomic_load_explicit(&s->buckets[b], memory_order_relaxed);
		buf_printf(out, "%s_bucket", name);
		put_labels(out, s);
		buf_printf(out, ",le=\"%g\"} %llu\n", (double)bucket_us[b] / 1e6,
		           (unsigned long long)cumulative);
	}
	/* The count is read last and may include observations made while the
	   buckets were read; +Inf must not be below the last bucket. */
	uint64_t count = (uint64_t)atomic_load_explicit(&s->value, memory_order_relaxed);
	count = MAX(count, cumulative);
	buf_printf(out, "%s_bucket", name);
	put_labels(out, s);
	buf_printf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)count);
	buf_printf(out, "%s_sum", name);
	put_labels(out, s);
	buf_printf(out, "} %.6f\n",
	           (double)atomic_load_explicit(&s->sum_us, memory_order_relaxed) / 1e6);
	buf_printf(out, "%s_count", name);
	put_labels(out, s);
	buf_printf(out, "} %llu\n", (unsigned long long)count);
}

void
metrics_render(struct buf *out)
{
	static const char *const kinds[] = {"counter", "gauge", "histogram"};

	for (int f = 0; f < METRICS_FAMILIES; f++) {
		const char *name = families[f].name;
		buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, families[f].help, name,
		           kinds[families[f].kind]);
		for (size_t i = 0; i < SLOTS; i++) {
			const struct series *s = &table[i];
			if (atomic_load_explicit(&s->state, memory_order_acquire) != SLOT_READY ||
			    s->family != (enum metrics_family)f)
				continue;
			if (families[f].kind == HISTOGRAM) {
				render_histogram(out, name, s);
				continue;
			}
			buf_puts(out, name);
			put_labels(out, s);
			buf_printf(
			        out, "} %lld\n",
			        (long long)atomic_load_explicit(&s->value, memory_order_relaxed));
		}
	}
	buf_printf(out,
	           "# HELP tern_metrics_dropped_total Updates lost because the series table is "
	           "full.\n# TYPE tern_metrics_dropped_total counter\n"
	           "tern_metrics_dropped_total %llu\n",
	           (unsigned long long)atomic_load_explicit(&dropped, memory_order_relaxed));
}
