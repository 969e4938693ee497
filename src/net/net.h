/* SPDX-License-Identifier: MIT */
/*
 * net.h: listeners, worker threads and connections. Bytes, not protocols.
 *
 * The daemon runs one acceptor (the main thread's event loop) and N worker
 * threads, each with its own libevent loop. A connection is handed to a worker
 * round-robin and lives there for its life, so a protocol session never needs
 * a lock for its own state. Each protocol registers a struct net_protocol; net
 * calls it, and nothing below calls back into a protocol any other way.
 *
 * TLS: implicit-TLS listeners wrap the socket at once; a plaintext listener can
 * be upgraded with net_conn_starttls(). TLS 1.2+ only. The certificate is
 * re-read on net_server_reload() (SIGHUP); live connections keep theirs.
 */
#ifndef TERN_NET_H
#define TERN_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

struct evbuffer;
struct event_base;
struct net_conn;
struct net_server;
struct net_tls;

/* Limits and timeouts; all may change on reload. */
struct net_settings {
	uint64_t workers;                /* 0 = one per core */
	uint64_t max_connections;        /* total, all listeners */
	uint64_t max_connections_per_ip; /* per source address */
	uint64_t max_output;             /* bytes queued before a writer must wait */
	/* Resident memory of the process over which it is short of memory
	   (net_server_is_memory_short); 0 = no limit. */
	uint64_t max_memory;
};

/* What a protocol gives net. Every callback runs on the connection's worker. */
struct net_protocol {
	const char *name; /* "imap": for logs */
	/* A new connection: returns the session (never NULL). May write a greeting. */
	void *(*accept)(struct net_conn *conn, void *protocol_arg);
	/* Bytes arrived in net_conn_input(). */
	void (*input)(void *session);
	/* The output queue fell below net_settings.max_output / 4: write more. */
	void (*drained)(void *session);
	/* The read timeout set with net_conn_set_timeout() expired. */
	void (*timeout)(void *session);
	/* The server is stopping: finish, say goodbye, net_conn_close(). */
	void (*shutdown)(void *session);
	/* The connection is gone (closed by either side): free the session.
	   net_conn is still valid during the call, not after. */
	void (*closed)(void *session);
	/* A message from net_server_broadcast() (optional). What it means is
	   between the sender and the protocol (e.g. "these accounts lost
	   access": auth_changes); the session may close itself. The message
	   is borrowed for the call. */
	void (*notify)(void *session, void *msg);
};

struct net_listener_spec {
	const char *address; /* "127.0.0.1", "::1", "0.0.0.0", or a Unix socket's
	                        absolute path (peer "unix", counted as loopback) */
	uint16_t port;
	bool implicit_tls;
	const struct net_protocol *protocol;
	void *protocol_arg;
	const char *name; /* for messages ("imaps", "submission"); NULL: the protocol's */
};

/* Creates the server: binds every listener now (as root if need be). Returns
   NULL with *error_out (static or heap? heap, caller frees) on failure. */
struct net_server *net_server_new(const struct net_settings *settings,
                                  const struct net_listener_spec *listeners, size_t n,
                                  struct net_tls *tls, char **error_out);
/* Starts the workers and runs the acceptor loop until net_server_stop().
   Returns when every worker has finished. */
void net_server_run(struct net_server *srv);
/* Async-signal-unsafe; call from the acceptor loop (signal events run there).
   Stops accepting, asks every session to shut down, and makes run() return
   once connections are gone or grace_ms passed. */
void net_server_stop(struct net_server *srv, uint64_t grace_ms);
/* Applies new limits and TLS (NULL = keep); takes ownership of tls. */
void net_server_reload(struct net_server *srv, const struct net_settings *settings,
                       struct net_tls *tls);
struct event_base *net_server_base(struct net_server *srv);
void net_server_free(struct net_server **srvp);
/*
 * Calls protocol->notify(session, msg) for every open connection of every
 * worker, on that worker's thread, then release(msg) once, after the last
 * worker is done (on whichever worker finished last). From any thread (the
 * queues are locked, the wake-up is event_active). This is how a change made outside the server (an
 * administrator switching a protocol off) reaches live sessions without net knowing what it is
 * about.
 */
void net_server_broadcast(struct net_server *srv, void *msg, void (*release)(void *msg));
/* Whether the process's resident memory passed net_settings.max_memory at
   the last look (every 250 ms, and at each reload). Protocols then refuse
   new connections with a temporary error and turn big commands away. Any
   thread. */
bool net_server_is_memory_short(struct net_server *srv);
/* Number of live connections (for tests and metrics). */
size_t net_server_connections(struct net_server *srv);

/* Connection verbs: only from the connection's worker thread. */
struct evbuffer *net_conn_input(struct net_conn *c);
void net_conn_write(struct net_conn *c, const void *data, size_t len);
/* net_conn_write() of a heap block (malloc) the caller gives away: queued
   without a copy and freed by net once sent or when the connection goes. */
void net_conn_write_take(struct net_conn *c, void *data, size_t len);
void net_conn_printf(struct net_conn *c, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Bytes queued for the client and not yet sent. */
size_t net_conn_output_pending(struct net_conn *c);
/* True when the writer should stop and wait for the drained callback. */
bool net_conn_output_full(struct net_conn *c);
/* Stops (or resumes) reading: a session busy with a command leaves later
   pipelined input unread until it is done. */
void net_conn_pause_input(struct net_conn *c, bool paused);
/* Input bytes buffered before reading stops until the protocol consumes
   some (256 KiB by default; 0 restores that). A connection not yet logged in
   needs only a few KiB. */
void net_conn_set_read_limit(struct net_conn *c, size_t bytes);
/* Read timeout; 0 disables. */
void net_conn_set_timeout(struct net_conn *c, uint64_t ms);
/*
 * Starts TLS on a plaintext connection after the caller queued its "go ahead"
 * reply; that reply goes out in plaintext first. Input already buffered is
 * discarded (RFC 3207 section 4.2, RFC 9051 section 6.2.1: nothing sent before
 * the handshake may be acted on). Returns -1 if TLS is not configured.
 */
int net_conn_starttls(struct net_conn *c);
bool net_conn_is_tls(const struct net_conn *c);
/*
 * Turns on COMPRESS=DEFLATE (RFC 4978) after the caller queued its OK,
 * which goes out uncompressed: everything written later is deflated (and
 * flushed at the end of each callback's batch), everything read later is
 * inflated, above TLS when TLS is on. Bytes the client sent after the
 * command are already compressed and are decoded, not dropped. Returns -1
 * if compression is already on.
 */
int net_conn_compress(struct net_conn *c);
/* Ends compression after the caller queued its last compressed reply (RFC
   8437 section 4.1): that reply is flushed out compressed, and bytes read
   from now on are plain. Input the filter had already decoded is dropped.
   No-op when not compressed. */
void net_conn_uncompress(struct net_conn *c);
bool net_conn_is_compressed(const struct net_conn *c);
/* True for 127.0.0.0/8 and ::1. */
bool net_conn_is_loopback(const struct net_conn *c);
const char *net_conn_peer(const struct net_conn *c); /* "198.51.100.7" */
uint16_t net_conn_local_port(const struct net_conn *c);
struct event_base *net_conn_base(struct net_conn *c);
/* The server the connection belongs to (for net_server_broadcast). */
struct net_server *net_conn_server(struct net_conn *c);
/* The TLS session (SSL *), for channel binding; NULL on plaintext. */
void *net_conn_ssl(struct net_conn *c);
/* Flushes what is queued, then closes; the closed callback follows later,
   never from inside this call. */
void net_conn_close(struct net_conn *c);

#endif
