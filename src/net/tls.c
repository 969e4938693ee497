/* SPDX-License-Identifier: MIT */
/*
 * tls.c: SSL_CTX construction and self-signed certificate generation, both
 * with OpenSSL 3. Policy follows RFC 8314 section 4 and current practice:
 * TLS 1.2 minimum; for 1.2 only ECDHE with AES-GCM or ChaCha20-Poly1305.
 */
#include "net/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lib/util.h"

struct net_tls {
	_Atomic int refs;
	SSL_CTX *ctx;
};

static char *
ssl_error(const char *what, const char *path)
{
	char detail[256];
	unsigned long e = ERR_peek_last_error();

	ERR_error_string_n(e, detail, sizeof(detail));
	ERR_clear_error();
	return xasprintf("%s%s%s: %s", what, path ? " " : "", path ? path : "", detail);
}

struct net_tls *
net_tls_new(const char *cert_path, const char *key_path, char **error_out)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		*error_out = ssl_error("SSL_CTX_new", NULL);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	                                 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS); /* idle sessions stay small */
	SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"tern", 4);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
		*error_out = ssl_error("cannot load certificate", cert_path);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		*error_out = ssl_error("cannot load key", key_path);
		SSL_CTX_free(ctx);
		return NULL;
	}
	struct net_tls *t = xcalloc(1, sizeof(*t));
	t->refs = 1;
	t->ctx = ctx;
	return t;
}

void
net_tls_ref(struct net_tls *t)
{
	atomic_fetch_add(&t->refs, 1);
}

void
net_tls_unref(struct net_tls **tp)
{
	struct net_tls *t = *tp;

	if (t == NULL)
		return;
	*tp = NULL;
	if (atomic_fetch_sub(&t->refs, 1) == 1) {
		SSL_CTX_free(t->ctx);
		free(t);
	}
}

/* Verification failures do not fail the handshake: the certificate is then
   simply not an identity (net_tls_peer_email checks the result). */
static int
accept_any_cert(int preverify_ok, X509_STORE_CTX *ctx)
{
	return 1;
}

int
net_tls_set_client_ca(struct net_tls *t, const char *ca_file, char **error_out)
{
	STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca_file);

	if (names == NULL || SSL_CTX_load_verify_locations(t->ctx, ca_file, NULL) != 1) {
		sk_X509_NAME_pop_free(names, X509_NAME_free);
		*error_out = ssl_error("cannot load client CA", ca_file);
		return -1;
	}
	SSL_CTX_set_client_CA_list(t->ctx, names);
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, accept_any_cert);
	return 0;
}

int
net_tls_cb_exporter(void *ssl, unsigned char out[32])
{
	static const char label[] = "EXPORTER-Channel-Binding";

	if (ssl == NULL || SSL_version(ssl) != TLS1_3_VERSION)
		return -1;
	return SSL_export_keying_material(ssl, out, 32, label, sizeof(label) - 1, NULL, 0, 1) == 1
	               ? 0
	               : -1;
}

int
net_tls_cb_endpoint(void *ssl, unsigned char *out, size_t *len)
{
	X509 *cert = ssl != NULL ? SSL_get_certificate(ssl) : NULL;
	int md_nid = NID_undef;
	unsigned int n = 0;

	if (cert == NULL || !OBJ_find_sigid_algs(X509_get_signature_nid(cert), &md_nid, NULL))
		return -1;
	const EVP_MD *md = md_nid == NID_md5 || md_nid == NID_sha1 ? EVP_sha256()
	                                                           : EVP_get_digestbynid(md_nid);
	if (md == NULL || (size_t)EVP_MD_get_size(md) > *len || X509_digest(cert, md, out, &n) != 1)
		return -1;
	*len = n;
	return 0;
}

int
net_tls_peer_email(void *ssl, char *out, size_t len)
{
	if (ssl == NULL || SSL_get_verify_result(ssl) != X509_V_OK)
		return -1;
	X509 *cert = SSL_get0_peer_certificate(ssl);
	if (cert == NULL)
		return -1;
	int rc = -1;
	GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; rc < 0 && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		if (g->type != GEN_EMAIL)
			continue;
		const unsigned char *d = ASN1_STRING_get0_data(g->d.rfc822Name);
		int dl = ASN1_STRING_length(g->d.rfc822Name);
		if (dl > 0 && (size_t)dl < len && memchr(d, '\0', (size_t)dl) == NULL) {
			memcpy(out, d, (size_t)dl);
			out[dl] = '\0';
			rc = 0;
		}
	}
	GENERAL_NAMES_free(sans);
	if (rc == 0)
		return 0;
	X509_NAME *subj = X509_get_subject_name(cert);
	int idx = X509_NAME_get_index_by_NID(subj, NID_pkcs9_emailAddress, -1);
	if (idx < 0)
		return -1;
	ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx));
	int dl = ASN1_STRING_length(v);
	const unsigned char *d = ASN1_STRING_get0_data(v);
	if (dl <= 0 || (size_t)dl >= len || memchr(d, '\0', (size_t)dl) != NULL)
		return -1;
	memcpy(out, d, (size_t)dl);
	out[dl] = '\0';
	return 0;
}

void *
net_tls_ctx(struct net_tls *t)
{
	return t->ctx;
}

static int
add_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (ext == NULL)
		return -1;
	int ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

int
net_tls_write_selfsigned(const char *hostname, const char *cert_path, const char *key_path,
                         char **error_out)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = X509_new();
	FILE *f = NULL;
	int rc = -1;
	char san[512];
	unsigned char serial[16];

	if (key == NULL || cert == NULL) {
		*error_out = ssl_error("key generation", NULL);
		goto out;
	}
	X509_set_version(cert, 2);
	if (RAND_bytes(serial, sizeof(serial)) != 1) {
		*error_out = ssl_error("RAND_bytes", NULL);
		goto out;
	}
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
	BN_free(bn);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 24 * 3600);
	X509_set_pubkey(cert, key);
	X509_NAME *name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"tern", -1, -1,
	                           0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)hostname, -1,
	                           -1, 0);
	X509_set_issuer_name(cert, name);
	snprintf(san, sizeof(san), "DNS:%s,DNS:localhost,IP:127.0.0.1,IP:::1", hostname);
	if (add_ext(cert, NID_subject_alt_name, san) < 0 ||
	    add_ext(cert, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(cert, NID_ext_key_usage, "serverAuth") < 0) {
		*error_out = ssl_error("certificate extensions", NULL);
		goto out;
	}
	if (X509_sign(cert, key, EVP_sha256()) == 0) {
		*error_out = ssl_error("X509_sign", NULL);
		goto out;
	}
	int fd = open(key_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		*error_out = xasprintf("%s: %s", key_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1 || fclose(f) != 0) {
		f = NULL;
		*error_out = xasprintf("cannot write %s", key_path);
		goto out;
	}
	if ((f = fopen(cert_path, "w")) == NULL) {
		*error_out = xasprintf("%s: %s", cert_path, strerror(errno));
		goto out;
	}
	if (PEM_write_X509(f, cert) != 1 || fclose(f) != 0) {
		f = NULL;
		*error_out = xasprintf("cannot write %s", cert_path);
		goto out;
	}
	f = NULL;
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

void
net_tls_describe(void *ssl, const char **version_out, const char **cipher_out)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	const char *name = c != NULL ? SSL_CIPHER_standard_name(c) : NULL;

	*version_out = SSL_get_version(ssl);
	*cipher_out = name != NULL ? name : "";
}
