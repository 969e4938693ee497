/* SPDX-License-Identifier: MIT */
/*
 * metrics.h: process-wide counters, gauges and latency histograms for
 * /metrics (Prometheus text format 0.0.4). Any thread bumps them without a
 * lock: a series (a family and up to three label values) lives in a fixed
 * open-addressing table, claimed once with a compare-and-swap and then only
 * added to atomically. Label values are cut to 31 bytes and any byte outside
 * [A-Za-z0-9_.-] becomes '_', so a client's string can never break the
 * output; callers still pass only names from their own tables where they
 * can (a command name from the command table, not from the wire). When the
 * table is full new series are counted in tern_metrics_dropped_total.
 */
#ifndef TERN_LIB_METRICS_H
#define TERN_LIB_METRICS_H

#include <stdint.h>

struct buf;

enum metrics_family {
	METRICS_SESSIONS_TOTAL,   /* counter {proto} */
	METRICS_SESSIONS_ACTIVE,  /* gauge {proto} */
	METRICS_LOGINS_TOTAL,     /* counter {proto,result,mechanism} */
	METRICS_COMMAND_SECONDS,  /* histogram {proto,command} */
	METRICS_TLS_TOTAL,        /* counter {version} */
	METRICS_HTTP_REQUESTS,    /* counter {route,code} */
	METRICS_THROTTLED_TOTAL,  /* counter {proto}: logins refused by throttling */
	METRICS_DELIVERIES_TOTAL, /* counter {proto,result}: recipients of accepted mail */
	METRICS_OUTBOUND_TOTAL,   /* counter {result}: the queue runner's recipients */
	METRICS_QUEUE_MESSAGES,   /* gauge {state}: messages in the outbound queue */
	METRICS_BLOCKS_TOTAL,     /* counter {kind}: IPs and accounts blocked by throttling */
	METRICS_LOGIN_CACHE,      /* counter {result}: password checks of the login cache */
	METRICS_FAMILIES
};

/* Adds n to a counter or delta to a gauge; l2 and l3 may be NULL when the
   family has fewer labels. */
void metrics_add(enum metrics_family f, const char *l1, const char *l2, const char *l3,
                 int64_t delta);
/* Records one observation of a histogram, in microseconds. */
void metrics_observe(enum metrics_family f, const char *l1, const char *l2, uint64_t usec);
/* The current value of a counter or gauge (a histogram's count); 0 when
   the series was never touched. */
int64_t metrics_value(enum metrics_family f, const char *l1, const char *l2, const char *l3);
/* Appends every family with its HELP and TYPE lines to out. Readers see each
   value atomically, not the table as one snapshot. */
void metrics_render(struct buf *out);
/* Microseconds on the monotonic clock, for latencies. */
uint64_t metrics_now_us(void);

#endif
