/* SPDX-License-Identifier: MIT */
/*
 * smtp_dkim.c: DKIM signing (smtp_dkim.h). The message is ours (queued
 * by submission), but its bytes came from a client: header fields are
 * bounded (MAX_HEADER) and the signature only covers what is there.
 *
 *   signature = sign(key, relaxed(signed fields, bottom-most instance
 *               each) + relaxed(DKIM-Signature with "b=" empty, no CRLF))
 *   bh        = sha256(relaxed body)
 *
 * rsa-sha256 signs with RSASSA-PKCS1-v1_5 over SHA-256; ed25519-sha256
 * (RFC 8463 section 3) signs the SHA-256 hash of the same input with
 * PureEdDSA.
 */
#include "smtp/smtp_dkim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"

#define MAX_HEADER (1u << 20)
#define MAX_KEYS   4

const char *const smtp_dkim_signed_fields[] = {
        "from",
        "to",
        "cc",
        "subject",
        "date",
        "message-id",
        "reply-to",
        "in-reply-to",
        "references",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        /* TLS-RPT report mail (RFC 8460 section 5.3): which domain the
           report is about and who sends it, signed with the rest. */
        "tls-report-domain",
        "tls-report-submitter",
        NULL,
};

static bool
domain_is_safe(const char *d)
{
	size_t n = strlen(d);

	return n > 0 && n < 254 && d[0] != '.' && strstr(d, "..") == NULL &&
	       strspn(d, "abcdefghijklmnopqrstuvwxyz0123456789.-") == n;
}

static bool
selector_is_safe(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 64 && s[0] != '.' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

static char *
b64(const unsigned char *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* ---- canonicalization ---- */

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

void
smtp_dkim_relax_header(const char *field, size_t len, struct buf *out)
{
	const char *colon = memchr(field, ':', len);
	size_t name_end = colon != NULL ? (size_t)(colon - field) : len;

	while (name_end > 0 && is_wsp(field[name_end - 1]))
		name_end--;
	for (size_t i = 0; i < name_end; i++) {
		char c = field[i];
		buf_putc(out, c >= 'A' && c <= 'Z' ? (char)(c + 32) : c);
	}
	buf_putc(out, ':');
	if (colon == NULL)
		return;
	bool space = false, started = false;
	for (const char *p = colon + 1; p < field + len; p++) {
		if (*p == '\r' || *p == '\n')
			continue; /* unfolding */
		if (is_wsp(*p)) {
			space = true;
			continue;
		}
		if (space && started)
			buf_putc(out, ' ');
		space = false;
		started = true;
		buf_putc(out, *p);
	}
}

/* The body's relaxed form streams through this state. */
struct body_canon {
	EVP_MD_CTX *md; /* or NULL: append to out */
	struct buf *out;
	uint64_t empty_lines; /* held back: trailing ones are dropped */
	bool has_content, space;
};

static void
emit(struct body_canon *bc, const char *s, size_t n)
{
	if (bc->md != NULL)
		EVP_DigestUpdate(bc->md, s, n);
	else
		buf_append(bc->out, s, n);
}

static void
body_feed(struct body_canon *bc, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '\r')
			continue;
		if (c == '\n') {
			if (bc->has_content)
				emit(bc, "\r\n", 2);
			else
				bc->empty_lines++;
			bc->has_content = bc->space = false;
		} else if (is_wsp(c)) {
			bc->space = true;
		} else {
			if (!bc->has_content) {
				for (; bc->empty_lines > 0; bc->empty_lines--)
					emit(bc, "\r\n", 2);
				bc->has_content = true;
			}
			if (bc->space)
				emit(bc, " ", 1);
			bc->space = false;
			emit(bc, &c, 1);
		}
	}
}

static void
body_end(struct body_canon *bc)
{
	if (bc->has_content)
		emit(bc, "\r\n", 2);
}

void
smtp_dkim_relax_body(const char *body, size_t len, struct buf *out)
{
	struct body_canon bc = {.out = out};

	body_feed(&bc, body, len);
	body_end(&bc);
}

/* ---- keys ---- */

/* The TXT record's text for key (RFC 6376 section 3.6.1, RFC 8463 for
   ed25519), heap. */
static char *
record_txt(EVP_PKEY *key)
{
	bool is_rsa = EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA;
	unsigned char raw[64], *der = NULL;
	size_t raw_len = sizeof(raw);
	char *p, *txt;

	if (is_rsa) {
		int n = i2d_PUBKEY(key, &der);
		p = b64(der, n > 0 ? (size_t)n : 0);
		OPENSSL_free(der);
	} else {
		EVP_PKEY_get_raw_public_key(key, raw, &raw_len);
		p = b64(raw, raw_len);
	}
	txt = xasprintf("v=DKIM1; k=%s; p=%s", is_rsa ? "rsa" : "ed25519", p);
	free(p);
	return txt;
}

size_t
smtp_dkim_records(const char *data_dir, const char *domain,
                  void (*fn)(const char *selector, const char *txt, void *arg), void *arg)
{
	if (!domain_is_safe(domain))
		return 0;
	char *ddir = xasprintf("%s/dkim/%s", data_dir, domain);
	DIR *d = opendir(ddir);
	struct dirent *de;
	size_t n = 0;

	while (d != NULL && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len <= 4 || strcmp(de->d_name + len - 4, ".pem") != 0 || de->d_name[0] == '.')
			continue;
		char *path = xasprintf("%s/%s", ddir, de->d_name);
		FILE *f = fopen(path, "r");
		EVP_PKEY *key = f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
		if (key != NULL) {
			char *selector = xstrndup(de->d_name, len - 4), *txt = record_txt(key);
			fn(selector, txt, arg);
			free(selector);
			free(txt);
			n++;
		}
		EVP_PKEY_free(key);
		if (f != NULL)
			fclose(f);
		free(path);
	}
	if (d != NULL)
		closedir(d);
	free(ddir);
	return n;
}

int
smtp_dkim_keygen(const char *data_dir, const char *domain, const char *selector, const char *type,
                 struct buf *out, char **error_out)
{
	bool is_rsa = strcmp(type, "rsa") == 0;

	if (!domain_is_safe(domain) || !selector_is_safe(selector)) {
		*error_out = xstrdup(
		        "dkim: a lowercase domain and a selector of letters, digits, - and _");
		return -1;
	}
	if (!is_rsa && strcmp(type, "ed25519") != 0) {
		*error_out = xasprintf("dkim: unknown key type '%s' (rsa or ed25519)", type);
		return -1;
	}
	char *dir = xasprintf("%s/dkim", data_dir), *ddir = xasprintf("%s/%s", dir, domain);
	char *path = xasprintf("%s/%s.pem", ddir, selector);
	EVP_PKEY *key = NULL;
	FILE *f = NULL;
	int rc = -1, fd = -1;

	mkdir(dir, 0750);
	mkdir(ddir, 0750);
	key = is_rsa ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
	             : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (key == NULL) {
		*error_out = xstrdup("dkim: key generation failed");
		goto out;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		*error_out = xasprintf("dkim: %s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1 || fflush(f) != 0 ||
	    fsync(fileno(f)) != 0) {
		*error_out = xasprintf("dkim: cannot write %s", path);
		unlink(path);
		goto out;
	}
	char *txt = record_txt(key);
	buf_printf(out, "%s._domainkey.%s. TXT \"%s\"\n", selector, domain, txt);
	free(txt);
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	if (fd >= 0)
		close(fd);
	EVP_PKEY_free(key);
	free(dir);
	free(ddir);
	free(path);
	return rc;
}

/* ---- signing ---- */

struct field {
	const char *start;
	size_t len; /* without the final CRLF */
};

/* Reads the header (up to the empty line) into hdr and returns where the
   body starts in the file; -1 when unreadable or too large. */
static off_t
read_header(int fd, struct buf *hdr)
{
	char chunk[8192];
	off_t off = 0;

	for (;;) {
		ssize_t n = pread(fd, chunk, sizeof(chunk), off);
		if (n < 0)
			return -1;
		size_t old = hdr->len;
		buf_append(hdr, chunk, (size_t)n);
		/* Search from a little before the new bytes for CRLF CRLF. */
		size_t from = old >= 3 ? old - 3 : 0;
		for (size_t i = from; i + 3 < hdr->len; i++) {
			if (memcmp(hdr->data + i, "\r\n\r\n", 4) == 0) {
				hdr->len = i + 2;
				return (off_t)(i + 4);
			}
		}
		if (n == 0) /* no body at all */
			return off;
		off += n;
		if (hdr->len > MAX_HEADER)
			return -1;
	}
}

static size_t
split_fields(const struct buf *hdr, struct field *v, size_t cap)
{
	size_t n = 0;
	const char *p = hdr->data, *end = hdr->data + hdr->len;

	while (p < end && n < cap) {
		const char *s = p;
		for (;;) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			p = nl != NULL ? nl + 1 : end;
			if (p >= end || !is_wsp(*p))
				break;
		}
		size_t len = (size_t)(p - s);
		while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
			len--;
		v[n++] = (struct field){s, len};
	}
	return n;
}

static bool
field_is(const struct field *f, const char *name)
{
	size_t n = strlen(name);

	if (f->len <= n || strncasecmp(f->start, name, n) != 0)
		return false;
	for (size_t i = n; i < f->len; i++) {
		if (f->start[i] == ':')
			return true;
		if (!is_wsp(f->start[i]))
			return false;
	}
	return false;
}

static int
sign_with(EVP_PKEY *key, const char *domain, const char *selector, const struct field *fields,
          size_t n_fields, const char *bh, int64_t now, struct buf *out)
{
	bool is_rsa = EVP_PKEY_id(key) == EVP_PKEY_RSA;
	struct buf data, h, sig_field;
	int rc = -1;

	buf_init(&data);
	buf_init(&h);
	buf_init(&sig_field);
	/* h=: each name present once, its bottom-most instance signed. */
	for (size_t k = 0; smtp_dkim_signed_fields[k] != NULL; k++) {
		const char *name = smtp_dkim_signed_fields[k];
		for (size_t i = n_fields; i-- > 0;) {
			if (field_is(&fields[i], name)) {
				buf_printf(&h, "%s%s", h.len > 0 ? ":" : "", name);
				smtp_dkim_relax_header(fields[i].start, fields[i].len, &data);
				buf_puts(&data, "\r\n");
				break;
			}
		}
	}
	buf_printf(&sig_field,
	           "DKIM-Signature: v=1; a=%s; c=relaxed/relaxed; d=%s; s=%s; t=%lld; h=%s; "
	           "bh=%s; b=",
	           is_rsa ? "rsa-sha256" : "ed25519-sha256", domain, selector, (long long)now,
	           h.data, bh);
	smtp_dkim_relax_header(sig_field.data, sig_field.len, &data);

	unsigned char sig[1024], digest[32];
	size_t sig_len = sizeof(sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok;
	if (is_rsa) {
		ok = EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
		     EVP_DigestSign(ctx, sig, &sig_len, (unsigned char *)data.data, data.len) == 1;
	} else {
		unsigned int dl = 0;
		ok = EVP_Digest(data.data, data.len, digest, &dl, EVP_sha256(), NULL) == 1 &&
		     EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
		     EVP_DigestSign(ctx, sig, &sig_len, digest, dl) == 1;
	}
	EVP_MD_CTX_free(ctx);
	if (ok) {
		char *b = b64(sig, sig_len);
		buf_printf(out, "%s%s\r\n", sig_field.data, b);
		free(b);
		rc = 0;
	}
	buf_deinit(&data);
	buf_deinit(&h);
	buf_deinit(&sig_field);
	return rc;
}

static int
body_hash(int fd, off_t off, char **bh_out)
{
	struct body_canon bc = {.md = EVP_MD_CTX_new()};
	char chunk[16384];
	unsigned char digest[32];
	unsigned int dl = 0;
	int rc = -1;

	EVP_DigestInit_ex(bc.md, EVP_sha256(), NULL);
	for (;;) {
		ssize_t n = pread(fd, chunk, sizeof(chunk), off);
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		body_feed(&bc, chunk, (size_t)n);
		off += n;
	}
	body_end(&bc);
	EVP_DigestFinal_ex(bc.md, digest, &dl);
	*bh_out = b64(digest, dl);
	rc = 0;
out:
	EVP_MD_CTX_free(bc.md);
	return rc;
}

int
smtp_dkim_sign(const char *data_dir, const char *domain, int fd, int64_t now, struct buf *out)
{
	char lower[256];
	size_t n = strlen(domain);

	if (n == 0 || n >= sizeof(lower))
		return 0;
	for (size_t i = 0; i <= n; i++)
		lower[i] =
		        domain[i] >= 'A' && domain[i] <= 'Z' ? (char)(domain[i] + 32) : domain[i];
	if (!domain_is_safe(lower))
		return 0;
	char *ddir = xasprintf("%s/dkim/%s", data_dir, lower);
	DIR *d = opendir(ddir);
	struct dirent *de;
	struct buf hdr;
	struct field *fields = NULL;
	char *bh = NULL;
	int rc = 0, n_keys = 0;

	buf_init(&hdr);
	while (d != NULL && n_keys < MAX_KEYS && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".pem") != 0)
			continue;
		char selector[64];
		snprintf(selector, sizeof(selector), "%.*s", (int)(len - 4), de->d_name);
		if (!selector_is_safe(selector))
			continue;
		if (bh == NULL) {
			off_t body = read_header(fd, &hdr);
			if (body < 0 || body_hash(fd, body, &bh) < 0) {
				log_error("dkim", "event=sign-failed domain=%s err=unreadable",
				          lower);
				rc = -1;
				break;
			}
			fields = xcalloc(4096, sizeof(*fields));
		}
		size_t n_fields = split_fields(&hdr, fields, 4096);
		char *path = xasprintf("%s/%s", ddir, de->d_name);
		FILE *f = fopen(path, "r");
		EVP_PKEY *key = f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
		if (f != NULL)
			fclose(f);
		if (key == NULL ||
		    sign_with(key, lower, selector, fields, n_fields, bh, now, out) < 0) {
			log_error("dkim", "event=sign-failed domain=%s key=%s", lower, path);
			rc = -1;
		}
		n_keys++;
		EVP_PKEY_free(key);
		free(path);
	}
	if (d != NULL)
		closedir(d);
	free(fields);
	free(bh);
	buf_deinit(&hdr);
	free(ddir);
	return rc;
}
