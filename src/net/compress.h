/* SPDX-License-Identifier: MIT */
/*
 * compress.h: a DEFLATE filter bufferevent for a connection (RFC 4978), used
 * by net_conn_compress() in server.c only. See compress.c.
 */
#ifndef TERN_NET_COMPRESS_H
#define TERN_NET_COMPRESS_H

struct bufferevent;

/*
 * Stacks a filter on under (which stays the caller's: free the filter, then
 * under):
 * what is written to the returned bufferevent leaves deflated, what arrives
 * is inflated. Bytes already waiting in under's input are the client's first
 * compressed ones and are decoded too. A corrupt client stream reaches the
 * filter's event callback as BEV_EVENT_ERROR (from the loop, not from inside
 * a read), so the owner frees the connection as for any broken socket.
 * Returns NULL if libevent refuses.
 */
struct bufferevent *net_compress_new(struct bufferevent *under);
/* Input left below the filter (the filter stopped at a limit, or reading was
   paused) is decoded on the next loop pass. */
void net_compress_kick(struct bufferevent *bev);

#endif
