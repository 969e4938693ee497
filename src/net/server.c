/* SPDX-License-Identifier: MIT */
/*
 * server.c: the acceptor, the worker threads and the connection lifecycle.
 *
 * Flow: the acceptor's evconnlistener accepts a socket, checks the total and
 * per-IP limits, and queues the fd to a worker (round-robin), waking it with
 * event_active() (thread-safe once evthread_use_pthreads() ran). The worker
 * wraps the fd in a bufferevent (OpenSSL-wrapped for implicit TLS) and calls
 * the protocol's accept. From then on everything about the connection happens
 * on that worker.
 *
 * Connection states: open -> closing (net_conn_close: reading stopped, output
 * draining) -> freed (conn_free: protocol's closed(), bufferevent freed). A
 * peer EOF, an error or a timeout in any state goes straight to freed.
 *
 * Shutdown: net_server_stop() closes the listeners and asks each worker to
 * call every session's shutdown(); a worker's loop ends when its last
 * connection is freed or the grace period ends.
 *
 * Broadcast: net_server_broadcast() queues one message on every worker (the
 * same mutex-guarded queue pattern as adoption) and wakes it; the worker
 * hands it to each connection's protocol->notify and drops its reference.
 */
#include "net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "lib/util.h"
#include "lib/log.h"
#include "net/compress.h"
#include "net/iplimit.h"
#include "net/tls.h"

/* A read buffer this full stops reading until the protocol consumes it. */
#define NET_READ_HIGH_WATER (256 * 1024)
#define NET_MAX_SINGLE_WRITE                                                                       \
	(256 * 1024) /* bytes per write(2); a socket buffer takes about this                       \
	              */

struct net_listener {
	struct net_server *srv;
	struct evconnlistener *evl;
	struct net_listener_spec spec;
	char *address;
};

struct pending_fd {
	struct pending_fd *next;
	int fd;
	struct sockaddr_storage addr;
	struct net_listener *listener;
};

struct broadcast {
	void *msg;
	void (*release)(void *msg);
	_Atomic size_t pending; /* workers yet to deliver it */
};

struct broadcast_item {
	struct broadcast_item *next;
	struct broadcast *b;
};

struct net_worker {
	struct net_server *srv;
	pthread_t thread;
	struct event_base *base;
	struct event *adopt_ev;              /* fds queued by the acceptor */
	struct event *notify_ev;             /* broadcasts queued by the acceptor */
	struct broadcast_item *notify_queue; /* guarded by lock */
	struct event *stop_ev;
	struct event *grace_ev;
	pthread_mutex_t lock; /* guards queue */
	struct pending_fd *queue;
	struct net_conn *conns; /* this worker's connections */
	size_t nconns;
	bool stopping;
	uint64_t grace_ms;
};

struct net_server {
	struct event_base *base; /* the acceptor's loop, on the caller's thread */
	struct net_listener *listeners;
	size_t nlisteners;
	struct net_worker *workers;
	size_t nworkers;
	size_t next_worker;
	pthread_mutex_t lock; /* guards tls and settings */
	struct net_tls *tls;
	struct net_settings settings;
	struct net_iplimit *iplimit;
	_Atomic size_t total;
	bool stopping;
	struct event *memory_ev;  /* samples the resident size (acceptor loop) */
	atomic_bool memory_short; /* over settings.max_memory at the last sample */
};

struct net_conn {
	struct net_worker *w;
	struct net_conn *prev, *next;
	struct bufferevent *bev;
	const struct net_protocol *proto;
	void *session;
	struct event *close_ev;
	uint64_t timeout_ms;
	size_t max_output;
	size_t read_limit; /* input buffered before reading stops */
	char peer[INET6_ADDRSTRLEN];
	uint16_t local_port;
	unsigned close_polls;
	bool is_tls, is_loopback, is_closing, is_paused, is_compressed;
};

static void conn_free(struct net_conn *c);

/* ---- connections ---- */

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct net_conn *c = arg;

	if (!c->is_closing)
		c->proto->input(c->session);
}

/* Bytes not yet handed to the kernel: with STARTTLS or COMPRESS, each
   filter's own output and those of the bufferevents below it. */
static size_t
conn_unsent(struct net_conn *c)
{
	size_t n = 0;

	for (struct bufferevent *b = c->bev; b != NULL; b = bufferevent_get_underlying(b))
		n += evbuffer_get_length(bufferevent_get_output(b));
	return n;
}

/* Closing: free once everything is sent. The underlying bufferevent of a
   filter has no callback of ours, so its draining is polled briefly. */
static void
conn_close_when_sent(struct net_conn *c)
{
	if (conn_unsent(c) == 0) {
		event_active(c->close_ev, EV_TIMEOUT, 0);
	} else if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		struct timeval tv = {0, 10000};
		evtimer_add(c->close_ev, &tv);
	}
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct net_conn *c = arg;

	if (c->is_closing) {
		conn_close_when_sent(c);
		return;
	}
	if (c->proto->drained != NULL)
		c->proto->drained(c->session);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct net_conn *c = arg;

	if (what & BEV_EVENT_CONNECTED)
		return; /* the TLS handshake finished */
	if ((what & BEV_EVENT_TIMEOUT) && !c->is_closing && c->proto->timeout != NULL) {
		/* The protocol says goodbye and closes; keep the write side alive. */
		bufferevent_enable(bev, EV_WRITE);
		c->proto->timeout(c->session);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		unsigned long e = bufferevent_get_openssl_error(bev);
		/* A client that just drops the connection (no close_notify) is an
		   ordinary goodbye, not a TLS problem (OpenSSL 3 reports it). */
		if (e != 0 && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			log_debug("net", "event=tls-eof ip=%s", c->peer);
		} else if (e != 0) {
			char buf[160];
			ERR_error_string_n(e, buf, sizeof(buf));
			log_info("net", "event=tls-error ip=%s err=\"%s\"", c->peer, buf);
		}
	}
	conn_free(c);
}

static void
conn_close_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_conn *c = arg;

	if (conn_unsent(c) == 0 || ++c->close_polls > 500) /* 5 s for a stuck peer */
		conn_free(c);
	else
		conn_close_when_sent(c);
}

static void
conn_apply_timeouts(struct net_conn *c)
{
	struct timeval tv = {(time_t)(c->timeout_ms / 1000),
	                     (suseconds_t)(c->timeout_ms % 1000) * 1000};

	bufferevent_set_timeouts(c->bev, c->timeout_ms ? &tv : NULL, c->timeout_ms ? &tv : NULL);
}

static void
conn_setup_bev(struct net_conn *c)
{
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, c->read_limit);
	bufferevent_setwatermark(c->bev, EV_WRITE, c->max_output / 4, 0);
	/* libevent writes at most 16 KiB per call by default: 220 writev(2)
	   for a 3.5 MB FETCH. Let one call take what the kernel will. */
	bufferevent_set_max_single_write(c->bev, NET_MAX_SINGLE_WRITE);
	conn_apply_timeouts(c);
	bufferevent_enable(c->bev, c->is_paused ? EV_WRITE : EV_READ | EV_WRITE);
}

static SSL *
new_ssl(struct net_server *srv)
{
	SSL *ssl = NULL;

	pthread_mutex_lock(&srv->lock);
	if (srv->tls != NULL)
		ssl = SSL_new(net_tls_ctx(srv->tls));
	pthread_mutex_unlock(&srv->lock);
	return ssl;
}

static void
conn_adopt(struct net_worker *w, struct pending_fd *p)
{
	struct net_server *srv = w->srv;
	struct net_listener *l = p->listener;
	struct net_conn *c = xcalloc(1, sizeof(*c));
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);

	c->w = w;
	net_addr_format(&p->addr, c->peer, sizeof(c->peer));
	if (p->addr.ss_family == AF_UNIX)
		c->is_loopback = true; /* a local socket: as trusted as 127.0.0.1 */
	else if (p->addr.ss_family == AF_INET6)
		c->is_loopback =
		        IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&p->addr)->sin6_addr);
	else
		c->is_loopback =
		        (ntohl(((struct sockaddr_in *)&p->addr)->sin_addr.s_addr) >> 24) == 127;
	if (getsockname(p->fd, (struct sockaddr *)&local, &llen) == 0)
		c->local_port = ntohs(local.ss_family == AF_INET6
		                              ? ((struct sockaddr_in6 *)&local)->sin6_port
		                              : ((struct sockaddr_in *)&local)->sin_port);
	pthread_mutex_lock(&srv->lock);
	c->max_output = srv->settings.max_output;
	pthread_mutex_unlock(&srv->lock);
	c->read_limit = NET_READ_HIGH_WATER;
	c->proto = l->spec.protocol;
	c->close_ev = evtimer_new(w->base, conn_close_cb, c);
	evutil_make_socket_nonblocking(p->fd);
	/* Output leaves in whole bufferevent flushes, never byte by byte, so
	   Nagle only delays a reply's last small segment (a tagged OK after a
	   FETCH's data) until the client's delayed ACK, up to 40 ms. */
	int one = 1;
	(void)setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (l->spec.implicit_tls) {
		SSL *ssl = new_ssl(srv);
		if (ssl == NULL) {
			log_error("net", "event=no-tls port=%u", l->spec.port);
			close(p->fd);
			event_free(c->close_ev);
			net_iplimit_release(srv->iplimit, c->peer);
			free(c);
			atomic_fetch_sub(&srv->total, 1);
			return;
		}
		c->bev = bufferevent_openssl_socket_new(
		        w->base, p->fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
		c->is_tls = true;
	} else {
		c->bev = bufferevent_socket_new(w->base, p->fd, BEV_OPT_CLOSE_ON_FREE);
	}
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	w->nconns++;
	conn_setup_bev(c);
	c->session = c->proto->accept(c, l->spec.protocol_arg);
	if (w->stopping && !c->is_closing && c->proto->shutdown != NULL)
		c->proto->shutdown(c->session);
}

static void
conn_free(struct net_conn *c)
{
	struct net_worker *w = c->w;
	struct net_server *srv = w->srv;

	c->proto->closed(c->session);
	net_iplimit_release(srv->iplimit, c->peer);
	if (c->is_compressed) { /* the filter does not own what is below */
		struct bufferevent *under = bufferevent_get_underlying(c->bev);
		bufferevent_free(c->bev);
		c->bev = under;
	}
	bufferevent_free(c->bev);
	event_free(c->close_ev);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	w->nconns--;
	free(c);
	atomic_fetch_sub(&srv->total, 1);
	if (w->stopping && w->nconns == 0)
		event_base_loopexit(w->base, NULL);
}

struct evbuffer *
net_conn_input(struct net_conn *c)
{
	return bufferevent_get_input(c->bev);
}

void
net_conn_write(struct net_conn *c, const void *data, size_t len)
{
	bufferevent_write(c->bev, data, len);
}

static void
free_sent(const void *data, size_t len, void *arg)
{
	free((void *)data);
}

void
net_conn_write_take(struct net_conn *c, void *data, size_t len)
{
	if (len == 0) {
		free(data);
		return;
	}
	if (evbuffer_add_reference(bufferevent_get_output(c->bev), data, len, free_sent, NULL) < 0)
		abort(); /* out of memory */
}

void
net_conn_printf(struct net_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(c->bev), fmt, ap);
	va_end(ap);
}

size_t
net_conn_output_pending(struct net_conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

bool
net_conn_output_full(struct net_conn *c)
{
	return net_conn_output_pending(c) >= c->max_output;
}

void
net_conn_pause_input(struct net_conn *c, bool paused)
{
	c->is_paused = paused;
	if (c->is_closing)
		return;
	if (paused) {
		bufferevent_disable(c->bev, EV_READ);
	} else {
		bufferevent_enable(c->bev, EV_READ);
		/* Compressed bytes read before the pause wait below the filter,
		   and no new byte from the socket would wake them. */
		if (c->is_compressed)
			net_compress_kick(c->bev);
	}
}

void
net_conn_set_read_limit(struct net_conn *c, size_t bytes)
{
	c->read_limit = bytes ? bytes : NET_READ_HIGH_WATER;
	bufferevent_setwatermark(c->bev, EV_READ, 0, c->read_limit);
}

void
net_conn_set_timeout(struct net_conn *c, uint64_t ms)
{
	c->timeout_ms = ms;
	conn_apply_timeouts(c);
}

/* Puts filter on top of the connection's bufferevent. The one below keeps
   at most max_output queued (a filter stops taking output above it, so
   net_conn_output_full() on the top still means "the client is behind"),
   and loses its timeouts: the top's govern, and a login timeout left below
   would end a session that has since logged in. */
static void
conn_stack(struct net_conn *c, struct bufferevent *filter)
{
	bufferevent_setwatermark(c->bev, EV_WRITE, c->max_output / 4, c->max_output);
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	c->bev = filter;
	conn_setup_bev(c);
}

int
net_conn_starttls(struct net_conn *c)
{
	if (c->is_tls)
		return -1;
	SSL *ssl = new_ssl(c->w->srv);
	if (ssl == NULL)
		return -1;
	/* Plaintext pipelined after STARTTLS must never be read as if it came
	   over TLS (the CVE-2011-0411 class of bug). */
	struct evbuffer *in = bufferevent_get_input(c->bev);
	evbuffer_drain(in, evbuffer_get_length(in));
	struct bufferevent *tls = bufferevent_openssl_filter_new(
	        c->w->base, c->bev, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (tls == NULL) {
		SSL_free(ssl);
		return -1;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
	c->is_tls = true;
	conn_stack(c, tls);
	return 0;
}

int
net_conn_compress(struct net_conn *c)
{
	if (c->is_compressed)
		return -1;
	struct bufferevent *z = net_compress_new(c->bev);
	if (z == NULL)
		return -1;
	c->is_compressed = true;
	conn_stack(c, z);
	return 0;
}

void
net_conn_uncompress(struct net_conn *c)
{
	if (!c->is_compressed)
		return;
	struct bufferevent *under = bufferevent_get_underlying(c->bev);
	/* What was written, the OK included, leaves compressed and flushed. */
	bufferevent_flush(c->bev, EV_WRITE, BEV_FLUSH);
	size_t decoded = evbuffer_get_length(bufferevent_get_input(c->bev));
	if (decoded > 0) /* compressed after the last command: not allowed */
		log_info("net", "event=uncompress-dropped bytes=%zu ip=%s", decoded, c->peer);
	bufferevent_free(c->bev); /* unlinked now or when its callback returns */
	c->is_compressed = false;
	c->bev = under;
	conn_setup_bev(c);
}

bool
net_conn_is_compressed(const struct net_conn *c)
{
	return c->is_compressed;
}

bool
net_conn_is_tls(const struct net_conn *c)
{
	return c->is_tls;
}

bool
net_conn_is_loopback(const struct net_conn *c)
{
	return c->is_loopback;
}

const char *
net_conn_peer(const struct net_conn *c)
{
	return c->peer;
}

uint16_t
net_conn_local_port(const struct net_conn *c)
{
	return c->local_port;
}

struct net_server *
net_conn_server(struct net_conn *c)
{
	return c->w->srv;
}

struct event_base *
net_conn_base(struct net_conn *c)
{
	return c->w->base;
}

void *
net_conn_ssl(struct net_conn *c)
{
	if (!c->is_tls)
		return NULL;
	/* Under COMPRESS the TLS bufferevent is one level down. */
	for (struct bufferevent *b = c->bev; b != NULL; b = bufferevent_get_underlying(b)) {
		SSL *ssl = bufferevent_openssl_get_ssl(b);
		if (ssl != NULL)
			return ssl;
	}
	return NULL;
}

void
net_conn_close(struct net_conn *c)
{
	if (c->is_closing)
		return;
	c->is_closing = true;
	/* The goodbye may sit in the compressor: push it out now. */
	if (c->is_compressed)
		bufferevent_flush(c->bev, EV_WRITE, BEV_FLUSH);
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	conn_close_when_sent(c);
}

/* ---- workers ---- */

static void
worker_adopt_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_worker *w = arg;
	struct pending_fd *list;

	pthread_mutex_lock(&w->lock);
	list = w->queue;
	w->queue = NULL;
	pthread_mutex_unlock(&w->lock);
	/* The queue is LIFO; adopt in arrival order. */
	struct pending_fd *rev = NULL;
	while (list != NULL) {
		struct pending_fd *next = list->next;
		list->next = rev;
		rev = list;
		list = next;
	}
	while (rev != NULL) {
		struct pending_fd *next = rev->next;
		conn_adopt(w, rev);
		free(rev);
		rev = next;
	}
}

static void
broadcast_done(struct broadcast *b)
{
	if (atomic_fetch_sub(&b->pending, 1) == 1) {
		b->release(b->msg);
		free(b);
	}
}

static void
worker_notify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_worker *w = arg;
	struct broadcast_item *list, *rev = NULL;

	pthread_mutex_lock(&w->lock);
	list = w->notify_queue;
	w->notify_queue = NULL;
	pthread_mutex_unlock(&w->lock);
	while (list != NULL) { /* LIFO: deliver in the order sent */
		struct broadcast_item *next = list->next;
		list->next = rev;
		rev = list;
		list = next;
	}
	while (rev != NULL) {
		struct broadcast_item *next = rev->next;
		for (struct net_conn *c = w->conns, *cn; c != NULL; c = cn) {
			cn = c->next; /* notify may close c (freed later, not now) */
			if (!c->is_closing && c->proto->notify != NULL)
				c->proto->notify(c->session, rev->b->msg);
		}
		broadcast_done(rev->b);
		free(rev);
		rev = next;
	}
}

void
net_server_broadcast(struct net_server *srv, void *msg, void (*release)(void *msg))
{
	struct broadcast *b = xcalloc(1, sizeof(*b));

	b->msg = msg;
	b->release = release;
	atomic_init(&b->pending, srv->nworkers);
	for (size_t i = 0; i < srv->nworkers; i++) {
		struct net_worker *w = &srv->workers[i];
		struct broadcast_item *it = xcalloc(1, sizeof(*it));
		it->b = b;
		pthread_mutex_lock(&w->lock);
		it->next = w->notify_queue;
		w->notify_queue = it;
		pthread_mutex_unlock(&w->lock);
		event_active(w->notify_ev, EV_READ, 0);
	}
}

static void
worker_grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_worker *w = arg;

	log_warn("net", "event=shutdown-grace-expired connections=%zu", w->nconns);
	event_base_loopexit(w->base, NULL);
}

static void
worker_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_worker *w = arg;
	struct timeval tv = {(time_t)(w->grace_ms / 1000),
	                     (suseconds_t)(w->grace_ms % 1000) * 1000};

	w->stopping = true;
	if (w->nconns == 0) {
		event_base_loopexit(w->base, NULL);
		return;
	}
	evtimer_add(w->grace_ev, &tv);
	for (struct net_conn *c = w->conns, *next; c != NULL; c = next) {
		next = c->next;
		if (c->is_closing)
			continue;
		if (c->proto->shutdown != NULL)
			c->proto->shutdown(c->session);
		else
			net_conn_close(c);
	}
}

static void *
worker_main(void *arg)
{
	struct net_worker *w = arg;

	thread_block_signals();

	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	while (w->conns != NULL)
		conn_free(w->conns);
	return NULL;
}

/* ---- the memory budget ---- */

#define MEMORY_SAMPLE_MS 250

/* Resident bytes of the process (/proc/self/statm: pages), or 0. */
static uint64_t
resident_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "re");
	unsigned long long size, resident;
	int n;

	if (f == NULL)
		return 0;
	n = fscanf(f, "%llu %llu", &size, &resident);
	fclose(f);
	return n == 2 ? (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

static void
memory_sample(struct net_server *srv)
{
	pthread_mutex_lock(&srv->lock);
	uint64_t max = srv->settings.max_memory;
	pthread_mutex_unlock(&srv->lock);
	uint64_t rss = max > 0 ? resident_bytes() : 0;
	bool is_short = max > 0 && rss > max;

	if (is_short && !atomic_load(&srv->memory_short))
		log_warn("net", "event=memory-short resident=%llu limit=%llu",
		         (unsigned long long)rss, (unsigned long long)max);
	else if (!is_short && atomic_load(&srv->memory_short))
		log_info("net", "event=memory-ok resident=%llu limit=%llu", (unsigned long long)rss,
		         (unsigned long long)max);
	atomic_store(&srv->memory_short, is_short);
}

static void
memory_cb(evutil_socket_t fd, short what, void *arg)
{
	memory_sample(arg);
}

bool
net_server_is_memory_short(struct net_server *srv)
{
	return atomic_load(&srv->memory_short);
}

/* ---- acceptor ---- */

static void
accept_cb(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *addr, int len, void *arg)
{
	struct net_listener *l = arg;
	struct net_server *srv = l->srv;
	uint64_t max_total, max_ip;

	pthread_mutex_lock(&srv->lock);
	max_total = srv->settings.max_connections;
	max_ip = srv->settings.max_connections_per_ip;
	pthread_mutex_unlock(&srv->lock);
	if (srv->stopping) {
		close(fd);
		return;
	}
	if (atomic_load(&srv->total) >= max_total) {
		log_warn("net", "event=refused reason=max-connections limit=%llu",
		         (unsigned long long)max_total);
		close(fd);
		return;
	}
	struct pending_fd *p = xcalloc(1, sizeof(*p));
	char ip[INET6_ADDRSTRLEN];
	memcpy(&p->addr, addr, MIN((size_t)len, sizeof(p->addr)));
	net_addr_format(&p->addr, ip, sizeof(ip));
	if (!net_iplimit_acquire(srv->iplimit, ip, max_ip)) {
		log_warn("net", "event=refused reason=max-connections-per-ip ip=%s limit=%llu", ip,
		         (unsigned long long)max_ip);
		close(fd);
		free(p);
		return;
	}
	atomic_fetch_add(&srv->total, 1);
	p->fd = fd;
	p->listener = l;
	struct net_worker *w = &srv->workers[srv->next_worker++ % srv->nworkers];
	pthread_mutex_lock(&w->lock);
	p->next = w->queue;
	w->queue = p;
	pthread_mutex_unlock(&w->lock);
	event_active(w->adopt_ev, EV_READ, 0);
}

static void
accept_error_cb(struct evconnlistener *evl, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();

	/* EMFILE and friends: log and keep going; the listener retries. */
	log_error("net", "event=accept-failed err=\"%s\"", evutil_socket_error_to_string(err));
}

/* A listener on a Unix socket (LMTP for a local MTA): the path replaces
   any stale socket a previous run left. */
static const char *
listener_name(const struct net_listener *l)
{
	return l->spec.name != NULL ? l->spec.name : l->spec.protocol->name;
}

static int
bind_unix(struct net_server *srv, struct net_listener *l, char **error_out)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	if (strlen(l->address) >= sizeof(sun.sun_path)) {
		*error_out = xasprintf("socket path too long: %s", l->address);
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", l->address);
	unlink(l->address);
	l->evl = evconnlistener_new_bind(srv->base, accept_cb, l,
	                                 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 1024,
	                                 (struct sockaddr *)&sun, sizeof(sun));
	if (l->evl == NULL) {
		*error_out = xasprintf("cannot listen on %s (%s): %s", l->address, listener_name(l),
		                       strerror(errno));
		return -1;
	}
	chmod(l->address, 0660);
	evconnlistener_set_error_cb(l->evl, accept_error_cb);
	return 0;
}

static int
bind_listener(struct net_server *srv, struct net_listener *l, char **error_out)
{
	struct sockaddr_storage ss;
	int slen = sizeof(ss);
	char spec[128];

	if (l->address[0] == '/')
		return bind_unix(srv, l, error_out);
	snprintf(spec, sizeof(spec), strchr(l->address, ':') ? "[%s]:%u" : "%s:%u", l->address,
	         l->spec.port);
	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &slen) < 0) {
		*error_out = xasprintf("bad listen address '%s'", l->address);
		return -1;
	}
	l->evl = evconnlistener_new_bind(srv->base, accept_cb, l,
	                                 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
	                                         LEV_OPT_CLOSE_ON_EXEC,
	                                 1024, (struct sockaddr *)&ss, slen);
	if (l->evl == NULL) {
		*error_out = xasprintf("cannot listen on %s (%s): %s", spec, listener_name(l),
		                       strerror(errno));
		return -1;
	}
	evconnlistener_set_error_cb(l->evl, accept_error_cb);
	return 0;
}

struct net_server *
net_server_new(const struct net_settings *settings, const struct net_listener_spec *specs, size_t n,
               struct net_tls *tls, char **error_out)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, (void (*)(void))evthread_use_pthreads);

	struct net_server *srv = xcalloc(1, sizeof(*srv));
	pthread_mutex_init(&srv->lock, NULL);
	srv->settings = *settings;
	srv->tls = tls;
	srv->iplimit = net_iplimit_new();
	srv->base = event_base_new();
	srv->nlisteners = n;
	srv->listeners = xcalloc(n ? n : 1, sizeof(*srv->listeners));
	for (size_t i = 0; i < n; i++) {
		struct net_listener *l = &srv->listeners[i];
		l->srv = srv;
		l->spec = specs[i];
		l->address = xstrdup(specs[i].address);
		if (specs[i].implicit_tls && tls == NULL) {
			*error_out = xasprintf("port %u needs TLS but no certificate is configured",
			                       specs[i].port);
			net_server_free(&srv);
			return NULL;
		}
		if (bind_listener(srv, l, error_out) < 0) {
			net_server_free(&srv);
			return NULL;
		}
	}
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	srv->nworkers = settings->workers ? settings->workers : (size_t)(cores > 0 ? cores : 1);
	srv->workers = xcalloc(srv->nworkers, sizeof(*srv->workers));
	for (size_t i = 0; i < srv->nworkers; i++) {
		struct net_worker *w = &srv->workers[i];
		w->srv = srv;
		w->base = event_base_new();
		pthread_mutex_init(&w->lock, NULL);
		w->adopt_ev = event_new(w->base, -1, 0, worker_adopt_cb, w);
		w->notify_ev = event_new(w->base, -1, 0, worker_notify_cb, w);
		w->stop_ev = event_new(w->base, -1, 0, worker_stop_cb, w);
		w->grace_ev = evtimer_new(w->base, worker_grace_cb, w);
	}
	srv->memory_ev = event_new(srv->base, -1, EV_PERSIST, memory_cb, srv);
	struct timeval tv = {0, MEMORY_SAMPLE_MS * 1000};
	event_add(srv->memory_ev, &tv);
	memory_sample(srv);
	return srv;
}

void
net_server_run(struct net_server *srv)
{
	for (size_t i = 0; i < srv->nworkers; i++)
		if (pthread_create(&srv->workers[i].thread, NULL, worker_main, &srv->workers[i]) !=
		    0) {
			log_error("net", "event=thread-create-failed err=\"%s\"", strerror(errno));
			abort();
		}
	event_base_loop(srv->base, EVLOOP_NO_EXIT_ON_EMPTY);
	for (size_t i = 0; i < srv->nworkers; i++)
		pthread_join(srv->workers[i].thread, NULL);
}

void
net_server_stop(struct net_server *srv, uint64_t grace_ms)
{
	if (srv->stopping)
		return;
	srv->stopping = true;
	for (size_t i = 0; i < srv->nlisteners; i++) {
		if (srv->listeners[i].evl != NULL) {
			evconnlistener_free(srv->listeners[i].evl);
			srv->listeners[i].evl = NULL;
		}
	}
	for (size_t i = 0; i < srv->nworkers; i++) {
		srv->workers[i].grace_ms = grace_ms;
		event_active(srv->workers[i].stop_ev, EV_READ, 0);
	}
	event_base_loopexit(srv->base, NULL);
}

void
net_server_reload(struct net_server *srv, const struct net_settings *settings, struct net_tls *tls)
{
	struct net_tls *old = NULL;

	pthread_mutex_lock(&srv->lock);
	/* The worker count is fixed at start. */
	uint64_t workers = srv->settings.workers;
	srv->settings = *settings;
	srv->settings.workers = workers;
	if (tls != NULL) {
		old = srv->tls;
		srv->tls = tls;
	}
	pthread_mutex_unlock(&srv->lock);
	net_tls_unref(&old);
	memory_sample(srv); /* a new limit applies now, not at the next tick */
}

struct event_base *
net_server_base(struct net_server *srv)
{
	return srv->base;
}

size_t
net_server_connections(struct net_server *srv)
{
	return atomic_load(&srv->total);
}

void
net_server_free(struct net_server **srvp)
{
	struct net_server *srv = *srvp;

	if (srv == NULL)
		return;
	*srvp = NULL;
	for (size_t i = 0; i < srv->nlisteners; i++) {
		if (srv->listeners[i].evl != NULL)
			evconnlistener_free(srv->listeners[i].evl);
		free(srv->listeners[i].address);
	}
	free(srv->listeners);
	for (size_t i = 0; i < srv->nworkers; i++) {
		struct net_worker *w = &srv->workers[i];
		while (w->queue != NULL) {
			struct pending_fd *p = w->queue;
			w->queue = p->next;
			close(p->fd);
			free(p);
		}
		while (w->notify_queue != NULL) {
			struct broadcast_item *it = w->notify_queue;
			w->notify_queue = it->next;
			broadcast_done(it->b);
			free(it);
		}
		event_free(w->adopt_ev);
		event_free(w->notify_ev);
		event_free(w->stop_ev);
		event_free(w->grace_ev);
		event_base_free(w->base);
		pthread_mutex_destroy(&w->lock);
	}
	free(srv->workers);
	if (srv->memory_ev != NULL)
		event_free(srv->memory_ev);
	net_iplimit_free(&srv->iplimit);
	net_tls_unref(&srv->tls);
	event_base_free(srv->base);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}
