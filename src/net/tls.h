/* SPDX-License-Identifier: MIT */
/*
 * tls.h: the server's TLS context. TLS 1.2 and 1.3 only, forward-secret AEAD
 * ciphers, server cipher preference, no compression or renegotiation. A
 * struct net_tls is reference counted so a reload can replace it while
 * connections made with the old one finish.
 */
#ifndef TERN_NET_TLS_H
#define TERN_NET_TLS_H

#include <stddef.h>

struct net_tls;

/* Loads cert (PEM chain) and key. Returns NULL and a heap *error_out. */
struct net_tls *net_tls_new(const char *cert_path, const char *key_path, char **error_out);
void net_tls_ref(struct net_tls *t);
void net_tls_unref(struct net_tls **tp);
/* Asks clients for a certificate issued by a CA in ca_file (PEM) without
   requiring one: a connection without, or with an unverified one, simply
   has no client identity (net_tls_peer_email). 0, or -1 with heap *error_out. */
int net_tls_set_client_ca(struct net_tls *t, const char *ca_file, char **error_out);
/* The SSL_CTX * (opaque here to keep OpenSSL out of most includes). */
void *net_tls_ctx(struct net_tls *t);

/*
 * Writes a new self-signed certificate and key (ECDSA P-256, 10 years, SAN
 * DNS:hostname, DNS:localhost, IP:127.0.0.1) for first runs and tests.
 * The key file is created 0600. Returns 0, or -1 with a heap *error_out.
 */
int net_tls_write_selfsigned(const char *hostname, const char *cert_path, const char *key_path,
                             char **error_out);

/*
 * Channel bindings of an established TLS session (ssl is an SSL *), for
 * SCRAM-PLUS. tls-exporter (RFC 9266): 32 bytes exported with the label
 * "EXPORTER-Channel-Binding" and an empty context, defined for TLS 1.3 only
 * (TLS 1.2 without extended master secret makes it unsafe): -1 otherwise.
 * tls-server-end-point (RFC 5929 section 4.1): the hash of our certificate
 * with its signature's hash, SHA-256 for MD5 and SHA-1; *len is in: the
 * room in out, out: the length. Both return 0 or -1.
 */
int net_tls_cb_exporter(void *ssl, unsigned char out[32]);
int net_tls_cb_endpoint(void *ssl, unsigned char *out, size_t *len);
/* The email address of a client certificate that verified against the
   client CA (subjectAltName rfc822Name, else the subject's emailAddress):
   0, or -1 when there is none. */
int net_tls_peer_email(void *ssl, char *out, size_t len);
/* The protocol version ("TLSv1.3") and the cipher suite's IANA name
   ("TLS_AES_256_GCM_SHA384") of an established session, for trace headers
   (RFC 8314 section 4.3). Static strings; "" when unknown. */
void net_tls_describe(void *ssl, const char **version_out, const char **cipher_out);

#endif
