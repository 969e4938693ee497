/* SPDX-License-Identifier: MIT */
/*
 * compress.c: COMPRESS=DEFLATE (RFC 4978) as a libevent filter bufferevent,
 * stacked on a connection's socket or TLS bufferevent the way STARTTLS
 * stacks OpenSSL's. The order of RFC 4978 section 3 (compress, then encrypt)
 * follows from the stacking: this filter is always on top.
 *
 *   protocol writes ─► filter output ─► deflate ─► TLS / socket ─► client
 *   protocol reads  ◄─ filter input  ◄─ inflate ◄─ TLS / socket ◄─ client
 *
 * Flushing: a response batch is whatever the protocol writes during one
 * callback. Writes are deflated with Z_NO_FLUSH as they come (one compressor
 * call per write, no copy), and a flush event made active on the first one
 * runs after the callback returns, when the output would otherwise wait: it
 * sync-flushes once for the whole batch. A FETCH that streams megabytes is
 * flushed each time it parks on a full output queue.
 *
 * Limits: the filter honours libevent's limits both ways: it inflates no
 * more than fits under the input high-water mark (a 1 KiB bomb does not
 * become 1 MiB in memory; the rest stays compressed below until the protocol
 * has read), and stops taking output while the layer below holds max_output.
 *
 * Idle: PARK_MS after the last byte either way, both zlib states are parked
 * (zstream.h), leaving only their compressed histories.
 */
#include "net/compress.h"

#include <stdbool.h>
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "lib/log.h"
#include "lib/util.h"
#include "net/zstream.h"

/* How long a connection must be quiet before its zlib states are parked:
   long enough that a client's next command after a reply usually finds
   them warm, short enough that IDLE clients spend almost all their time
   parked. */
#define PARK_MS 2000
/* Output per compressor call, and per decompressor call (below the limit). */
#define CHUNK (16 * 1024)

struct compress {
	struct bufferevent *bev; /* the filter */
	struct net_inflate *in;
	struct net_deflate *out;
	struct event *flush_ev; /* the batch's sync flush */
	struct event *park_ev;  /* idle timer */
	bool is_starved;        /* input stopped at the limit: more is below */
	bool is_failed;
};

static void
arm_park(struct compress *z)
{
	struct timeval tv = {PARK_MS / 1000, (PARK_MS % 1000) * 1000};

	evtimer_add(z->park_ev, &tv);
}

static enum bufferevent_filter_result
filter_in(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
          enum bufferevent_flush_mode mode, void *arg)
{
	struct compress *z = arg;
	size_t made_total = 0;

	if (z->is_failed)
		return BEV_ERROR;
	z->is_starved = false;
	while (evbuffer_get_length(src) > 0) {
		size_t room = CHUNK;
		if (limit >= 0) {
			if ((size_t)limit <= made_total) {
				z->is_starved = true;
				break;
			}
			room = MIN(room, (size_t)limit - made_total);
		}
		struct evbuffer_iovec in, out;
		if (evbuffer_peek(src, -1, NULL, &in, 1) < 1 ||
		    evbuffer_reserve_space(dst, (ev_ssize_t)room, &out, 1) < 1)
			break;
		size_t used, made;
		int rc = net_inflate_run(z->in, in.iov_base, in.iov_len, &used, out.iov_base,
		                         MIN(room, out.iov_len), &made);
		out.iov_len = made;
		evbuffer_commit_space(dst, &out, 1);
		evbuffer_drain(src, used);
		made_total += made;
		if (rc < 0) {
			log_info("net", "event=compress-error reason=\"invalid deflate stream\"");
			z->is_failed = true;
			bufferevent_trigger_event(z->bev, BEV_EVENT_ERROR | BEV_EVENT_READING,
			                          BEV_TRIG_DEFER_CALLBACKS);
			return BEV_ERROR;
		}
		if (used == 0 && made == 0)
			break; /* a partial block header: wait for more */
	}
	arm_park(z);
	return BEV_OK;
}

/* Deflates all of src into dst (flushing at the end when asked). */
static enum bufferevent_filter_result
deflate_into(struct compress *z, struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
             bool flush)
{
	size_t start = evbuffer_get_length(dst);

	for (;;) {
		struct evbuffer_iovec in = {NULL, 0}, out;
		size_t n_in = evbuffer_get_length(src);
		if (n_in == 0 && !flush)
			break;
		if (limit >= 0 && evbuffer_get_length(dst) - start >= (size_t)limit)
			break; /* the layer below is full; the rest waits in src */
		if (n_in > 0 && evbuffer_peek(src, -1, NULL, &in, 1) < 1)
			break;
		if (evbuffer_reserve_space(dst, CHUNK, &out, 1) < 1)
			return BEV_ERROR;
		size_t used, made;
		bool is_flushed;
		/* The flush applies to the last chunk only (zstream.c). */
		bool last = in.iov_len == n_in;
		int rc = net_deflate_run(z->out, in.iov_base, in.iov_len, &used, out.iov_base,
		                         out.iov_len, &made, flush && last, &is_flushed);
		out.iov_len = made;
		evbuffer_commit_space(dst, &out, 1);
		evbuffer_drain(src, used);
		if (rc < 0)
			return BEV_ERROR;
		if (n_in == used && (!flush || is_flushed))
			break;
	}
	return BEV_OK;
}

static enum bufferevent_filter_result
filter_out(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
           enum bufferevent_flush_mode mode, void *arg)
{
	struct compress *z = arg;
	bool flush = mode != BEV_NORMAL;

	if (!flush && evbuffer_get_length(src) > 0)
		event_active(z->flush_ev, EV_TIMEOUT, 0); /* once per batch: libevent
		                                              ignores a second call */
	arm_park(z);
	return deflate_into(z, src, dst, flush ? -1 : limit, flush);
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct compress *z = arg;

	bufferevent_flush(z->bev, EV_WRITE, BEV_FLUSH);
}

static void
park_cb(evutil_socket_t fd, short what, void *arg)
{
	struct compress *z = arg;

	/* Output not yet taken (the layer below is full) keeps the deflater
	   busy; look again later. */
	if (evbuffer_get_length(bufferevent_get_output(z->bev)) > 0) {
		arm_park(z);
		return;
	}
	net_deflate_park(z->out);
	net_inflate_park(z->in);
}

static void
compress_free(void *arg)
{
	struct compress *z = arg;

	event_free(z->flush_ev);
	event_free(z->park_ev);
	net_inflate_free(&z->in);
	net_deflate_free(&z->out);
	free(z);
}

/* The protocol drained the filter's input: if decoding stopped at the
   limit, carry on from what is still compressed below. */
static void
input_drained_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct compress *z = arg;

	if (info->n_deleted > 0 && z->is_starved)
		net_compress_kick(z->bev);
}

struct bufferevent *
net_compress_new(struct bufferevent *under)
{
	struct compress *z = xcalloc(1, sizeof(*z));
	struct event_base *base = bufferevent_get_base(under);

	z->in = net_inflate_new();
	z->out = net_deflate_new();
	z->flush_ev = event_new(base, -1, 0, flush_cb, z);
	z->park_ev = evtimer_new(base, park_cb, z);
	/* Not BEV_OPT_CLOSE_ON_FREE: UNAUTHENTICATE takes the filter off again
	   (RFC 8437 section 4.1) and the connection goes on below. */
	z->bev = bufferevent_filter_new(under, filter_in, filter_out, 0, compress_free, z);
	if (z->bev == NULL) {
		compress_free(z);
		return NULL;
	}
	evbuffer_add_cb(bufferevent_get_input(z->bev), input_drained_cb, z);
	/* What the client sent right after COMPRESS is already compressed and
	   may be waiting below: decode it on the next pass of the loop. */
	if (evbuffer_get_length(bufferevent_get_input(under)) > 0)
		net_compress_kick(z->bev);
	arm_park(z);
	return z->bev;
}

void
net_compress_kick(struct bufferevent *bev)
{
	struct bufferevent *under = bufferevent_get_underlying(bev);

	if (under != NULL && evbuffer_get_length(bufferevent_get_input(under)) > 0)
		bufferevent_trigger(under, EV_READ,
		                    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}
