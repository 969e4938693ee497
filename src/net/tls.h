/* SPDX-License-Identifier: MIT */
/*
 * tls.h: the server's TLS context. TLS 1.2 and 1.3 only, forward-secret AEAD
 * ciphers, server cipher preference, no compression or renegotiation. A
 * struct net_tls is reference counted so a reload can replace it while
 * connections made with the old one finish.
 */
#ifndef TERN_NET_TLS_H
#define TERN_NET_TLS_H

struct net_tls;

/* Loads cert (PEM chain) and key. Returns NULL and a heap *error_out. */
struct net_tls *net_tls_new(const char *cert_path, const char *key_path, char **error_out);
void net_tls_ref(struct net_tls *t);
void net_tls_unref(struct net_tls **tp);
/* The SSL_CTX * (opaque here to keep OpenSSL out of most includes). */
void *net_tls_ctx(struct net_tls *t);

/*
 * Writes a new self-signed certificate and key (ECDSA P-256, 10 years, SAN
 * DNS:hostname, DNS:localhost, IP:127.0.0.1) for first runs and tests.
 * The key file is created 0600. Returns 0, or -1 with a heap *error_out.
 */
int net_tls_write_selfsigned(const char *hostname, const char *cert_path, const char *key_path,
			     char **error_out);

#endif
