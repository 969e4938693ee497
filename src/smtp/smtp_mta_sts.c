/* SPDX-License-Identifier: MIT */
/*
 * smtp_mta_sts.c: MTA-STS policies (smtp_mta_sts.h): the TXT and policy
 * parsers, MX matching, the cache file and the HTTPS fetch on libcurl.
 *
 * The cache file DATA_DIR/mta-sts/DOMAIN is one line "tern-mta-sts 1
 * FETCHED ID" and the policy text as served; written to a temporary name
 * and renamed, so a reader sees the old file or the new one. Delivery
 * threads may fetch the same domain at once: the last rename wins, and
 * both wrote a valid policy.
 */
#include "smtp/smtp_mta_sts.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <unbound.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"
#include "smtp/smtp_https.h"
#include "smtp/smtp_mx.h"

#define RR_TXT         16
#define RCODE_SERVFAIL 2

/* ---- parsers ---- */

int
smtp_sts_txt_parse(const char *txt, char id_out[33])
{
	/* sts-text-record = sts-version 1*(sts-field-delim sts-field) [delim] */
	if (strncmp(txt, "v=STSv1", 7) != 0)
		return -1;
	const char *p = txt + 7;
	bool has_id = false;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != ';')
			return -1;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break; /* the optional final delimiter */
		const char *name = p;
		while (isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.')
			p++;
		if (p == name || *p != '=')
			return -1;
		size_t name_len = (size_t)(p - name);
		const char *value = ++p;
		while (*p > 0x20 && *p < 0x7f && *p != '=' && *p != ';')
			p++;
		size_t value_len = (size_t)(p - value);
		if (value_len == 0)
			return -1;
		if (name_len == 2 && memcmp(name, "id", 2) == 0 && !has_id) {
			if (value_len > 32)
				return -1;
			for (size_t i = 0; i < value_len; i++)
				if (!isalnum((unsigned char)value[i]))
					return -1;
			memcpy(id_out, value, value_len);
			id_out[value_len] = '\0';
			has_id = true;
		}
	}
	return has_id ? 0 : -1;
}

/* An mx pattern: ["*."] Domain, letters, digits, '-' and dots. */
static bool
is_mx_pattern(const char *v, size_t len)
{
	size_t i = 0;

	if (len >= 2 && v[0] == '*' && v[1] == '.')
		i = 2;
	if (i == len || len > 253 || v[i] == '.' || v[len - 1] == '.')
		return false;
	for (; i < len; i++)
		if (!(isalnum((unsigned char)v[i]) || v[i] == '-' || v[i] == '.'))
			return false;
	return true;
}

int
smtp_sts_policy_parse(const char *text, size_t len, struct smtp_sts_policy *out)
{
	bool has_version = false, has_mode = false, has_age = false;
	struct smtp_sts_policy p = {0};

	for (size_t i = 0; i < len;) {
		size_t end = i;
		while (end < len && text[end] != '\n')
			end++;
		size_t line_end = end;
		if (line_end > i && text[line_end - 1] == '\r')
			line_end--;
		const char *line = text + i;
		size_t n = line_end - i;
		i = end + 1;
		while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
			n--; /* sts-policy-field *WSP */
		if (n == 0)
			continue;
		const char *colon = memchr(line, ':', n);
		if (colon == NULL)
			return -1;
		size_t key_len = (size_t)(colon - line);
		const char *v = colon + 1;
		while (v < line + n && (*v == ' ' || *v == '\t'))
			v++;
		size_t v_len = (size_t)(line + n - v);
#define KEY(k) (key_len == sizeof(k) - 1 && memcmp(line, k, key_len) == 0)
		/* A repeated field other than mx: the first counts (section 3.2). */
		if (KEY("version") && !has_version) {
			if (v_len != 5 || memcmp(v, "STSv1", 5) != 0)
				return -1;
			has_version = true;
		} else if (KEY("mode") && !has_mode) {
			if (v_len == 7 && memcmp(v, "enforce", 7) == 0)
				p.mode = SMTP_STS_ENFORCE;
			else if (v_len == 7 && memcmp(v, "testing", 7) == 0)
				p.mode = SMTP_STS_TESTING;
			else if (v_len == 4 && memcmp(v, "none", 4) == 0)
				p.mode = SMTP_STS_NONE;
			else
				return -1;
			has_mode = true;
		} else if (KEY("max_age") && !has_age) {
			uint64_t age = 0;
			if (v_len == 0 || v_len > 10)
				return -1;
			for (size_t k = 0; k < v_len; k++) {
				if (!isdigit((unsigned char)v[k]))
					return -1;
				age = age * 10 + (uint64_t)(v[k] - '0');
			}
			p.max_age = age > SMTP_STS_MAX_AGE ? SMTP_STS_MAX_AGE : age;
			has_age = true;
		} else if (KEY("mx")) {
			if (v_len > 1 && v[v_len - 1] == '.')
				v_len--; /* a root dot is no part of the match */
			if (!is_mx_pattern(v, v_len))
				return -1;
			if (p.n_mx < SMTP_STS_MAX_MX) {
				char *dst = p.mx[p.n_mx++];
				for (size_t k = 0; k < v_len; k++)
					dst[k] = (char)tolower((unsigned char)v[k]);
				dst[v_len] = '\0';
			}
		}
#undef KEY
		/* Other fields are extensions: ignored. */
	}
	if (!has_version || !has_mode || !has_age || (p.n_mx == 0 && p.mode != SMTP_STS_NONE))
		return -1;
	memcpy(p.id, out->id, sizeof(p.id));
	p.fetched = out->fetched;
	*out = p;
	return 0;
}

bool
smtp_sts_mx_matches(const struct smtp_sts_policy *p, const char *host)
{
	size_t hl = strlen(host);

	if (hl > 0 && host[hl - 1] == '.')
		hl--;
	for (size_t i = 0; i < p->n_mx; i++) {
		const char *pat = p->mx[i];
		if (pat[0] == '*' && pat[1] == '.') {
			/* Exactly one label before the suffix. */
			const char *dot = memchr(host, '.', hl);
			size_t suffix = strlen(pat + 1); /* ".example" */
			if (dot != NULL && dot != host && (size_t)(host + hl - dot) == suffix &&
			    strncasecmp(dot, pat + 1, suffix) == 0)
				return true;
		} else if (strlen(pat) == hl && strncasecmp(pat, host, hl) == 0) {
			return true;
		}
	}
	return false;
}

/* ---- cache ---- */

static char *
cache_path(const struct smtp_sts_settings *s, const char *domain)
{
	return xasprintf("%s/%s", s->cache_dir, domain);
}

/* 0 with the cached policy (whatever its age), -1 when there is none. */
static int
cache_read(const struct smtp_sts_settings *s, const char *domain, struct smtp_sts_policy *out)
{
	char *path = cache_path(s, domain);
	FILE *f = fopen(path, "re");
	free(path);
	if (f == NULL)
		return -1;
	char *text = xmalloc(SMTP_STS_MAX_POLICY + 128);
	size_t len = fread(text, 1, SMTP_STS_MAX_POLICY + 127, f);
	fclose(f);
	text[len] = '\0';
	long long fetched = 0;
	char id[33] = "";
	int used = 0;
	int rc = -1;
	if (sscanf(text, "tern-mta-sts 1 %lld %32[A-Za-z0-9]\n%n", &fetched, id, &used) == 2 &&
	    used > 0) {
		struct smtp_sts_policy p = {.fetched = (int64_t)fetched};
		memcpy(p.id, id, sizeof(p.id));
		if (smtp_sts_policy_parse(text + used, len - (size_t)used, &p) == 0) {
			*out = p;
			rc = 0;
		}
	}
	free(text);
	return rc;
}

static void
cache_write(const struct smtp_sts_settings *s, const char *domain, const struct smtp_sts_policy *p,
            const char *text, size_t len)
{
	char *path = cache_path(s, domain);
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)gettid());
	FILE *f;

	(void)mkdir(s->cache_dir, 0700);
	f = fopen(tmp, "we");
	if (f == NULL || fprintf(f, "tern-mta-sts 1 %lld %s\n", (long long)p->fetched, p->id) < 0 ||
	    fwrite(text, 1, len, f) != len || fclose(f) != 0 || rename(tmp, path) < 0) {
		log_warn("outbound", "event=mta-sts-cache-failed domain=%s err=\"%s\"", domain,
		         strerror(errno));
		if (f != NULL)
			(void)unlink(tmp);
	}
	free(tmp);
	free(path);
}

/* ---- the fetch hold-off (section 3.3) ---- */

/* "Implementers SHOULD limit further attempts to a period of five minutes
   or longer per version ID": after a failed fetch, DATA_DIR/mta-sts/
   DOMAIN_failed holds "ID TIME FAILURE", and no fetch for that id is
   made before TIME + FETCH_HOLDOFF_S. A file, not memory, so every
   delivery thread and a restarted server see it. '_' is no byte a
   validated domain has: the name cannot be another domain's cache file. */
#define FETCH_HOLDOFF_S 300

static char *
holdoff_path(const struct smtp_sts_settings *s, const char *domain)
{
	return xasprintf("%s/%s_failed", s->cache_dir, domain);
}

/* True when a fetch of id failed less than FETCH_HOLDOFF_S ago, with the
   failure it had in *failure_out. */
static bool
is_held_off(const struct smtp_sts_settings *s, const char *domain, const char *id, int64_t now,
            enum smtp_sts_failure *failure_out)
{
	char *path = holdoff_path(s, domain);
	FILE *f = fopen(path, "re");
	char held[33];
	long long when;
	int failure;
	bool held_off = false;

	free(path);
	if (f == NULL)
		return false;
	if (fscanf(f, "%32s %lld %d", held, &when, &failure) == 3 && strcmp(held, id) == 0 &&
	    when <= now && now - when < FETCH_HOLDOFF_S && failure > SMTP_STS_OK &&
	    failure <= SMTP_STS_WEBPKI_INVALID) {
		*failure_out = (enum smtp_sts_failure)failure;
		held_off = true;
	}
	fclose(f);
	return held_off;
}

static void
holdoff_write(const struct smtp_sts_settings *s, const char *domain, const char *id, int64_t now,
              enum smtp_sts_failure failure)
{
	char *path = holdoff_path(s, domain);
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)gettid());
	FILE *f;

	(void)mkdir(s->cache_dir, 0700);
	f = fopen(tmp, "we");
	bool ok = f != NULL && fprintf(f, "%s %lld %d\n", id, (long long)now, (int)failure) >= 0;
	if (f != NULL && fclose(f) != 0)
		ok = false;
	if (!ok || rename(tmp, path) < 0) {
		log_warn("outbound", "event=mta-sts-cache-failed domain=%s err=\"%s\"", domain,
		         strerror(errno));
		(void)unlink(tmp);
	}
	free(tmp);
	free(path);
}

static void
holdoff_clear(const struct smtp_sts_settings *s, const char *domain)
{
	char *path = holdoff_path(s, domain);

	(void)unlink(path);
	free(path);
}

/* ---- DNS ---- */

/* 1 with the id of the one valid record, 0 when there is none (or
   several, section 3.1), -1 on a temporary failure. */
static int
txt_lookup(struct smtp_resolver *r, const char *domain, char id_out[33])
{
	char name[300];
	struct ub_result *res;
	int found = 0;

	snprintf(name, sizeof(name), "_mta-sts.%s", domain);
	if (smtp_resolver_query(r, name, RR_TXT, &res) < 0)
		return -1;
	if (res->rcode == RCODE_SERVFAIL) {
		ub_resolve_free(res);
		return -1;
	}
	for (int i = 0; res->havedata && res->data[i] != NULL; i++) {
		char txt[1024], id[33];
		if (smtp_dns_txt_join((const unsigned char *)res->data[i], (size_t)res->len[i], txt,
		                      sizeof(txt)) < 0 ||
		    strncmp(txt, "v=STSv1", 7) != 0)
			continue;
		if (found++ > 0 || smtp_sts_txt_parse(txt, id) < 0) {
			found = 2; /* several, or the one is invalid: none */
			continue;
		}
		memcpy(id_out, id, 33);
	}
	ub_resolve_free(res);
	return found == 1 ? 1 : 0;
}

/* ---- HTTPS ---- */

struct body {
	struct buf b;
	bool too_big;
};

static size_t
body_write(char *data, size_t size, size_t n, void *arg)
{
	struct body *body = arg;

	if (body->b.len + size * n > SMTP_STS_MAX_POLICY) {
		body->too_big = true;
		return 0; /* ends the transfer */
	}
	buf_append(&body->b, data, size * n);
	return size * n;
}

/* Section 3.3: GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt. 0 with
   the body in *text_out (heap), -1 with why logged and *failure_out set
   (a certificate that does not verify is RFC 8460's sts-webpki-invalid). */
static int
fetch(struct smtp_resolver *r, const struct smtp_sts_settings *s, const char *domain,
      char **text_out, size_t *len_out, enum smtp_sts_failure *failure_out)
{
	char host[300], url[400];
	struct body body = {0};
	struct smtp_https h;
	const char *why = NULL;
	long status = 0;
	char *ctype = NULL;
	int rc = -1;

	*failure_out = SMTP_STS_FETCH_ERROR;
	snprintf(host, sizeof(host), "mta-sts.%s", domain);
	buf_init(&body.b);
	if (smtp_https_init(&h, r, host, s->https_port, s->ca_file, s->timeout_ms, &why) < 0) {
		log_warn("outbound", "event=mta-sts-fetch-failed domain=%s err=\"%s: %s\"", domain,
		         host, why);
		goto out;
	}
	snprintf(url, sizeof(url), "https://%s:%u/.well-known/mta-sts.txt", host,
	         (unsigned)s->https_port);
	curl_easy_setopt(h.curl, CURLOPT_URL, url);
	curl_easy_setopt(h.curl, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(h.curl, CURLOPT_WRITEDATA, &body);
	CURLcode cc = curl_easy_perform(h.curl);
	if (cc != CURLE_OK) {
		if (cc == CURLE_PEER_FAILED_VERIFICATION)
			*failure_out = SMTP_STS_WEBPKI_INVALID;
		log_warn("outbound", "event=mta-sts-fetch-failed domain=%s err=\"%s\"", domain,
		         body.too_big ? "policy over 64 KiB"
		         : h.error[0] ? h.error
		                      : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h.curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(h.curl, CURLINFO_CONTENT_TYPE, &ctype);
	/* Section 3.3: only 200; section 3.2: text/plain, parameters ignored. */
	if (status != 200 || ctype == NULL || strncasecmp(ctype, "text/plain", 10) != 0 ||
	    (ctype[10] != '\0' && ctype[10] != ';' && ctype[10] != ' ')) {
		log_warn("outbound", "event=mta-sts-fetch-failed domain=%s err=\"HTTP %ld, %s\"",
		         domain, status, ctype != NULL ? ctype : "no Content-Type");
		goto out;
	}
	*len_out = body.b.len;
	*text_out = xstrndup(body.b.len ? body.b.data : "", body.b.len);
	*failure_out = SMTP_STS_OK;
	rc = 0;
out:
	buf_deinit(&body.b);
	smtp_https_deinit(&h);
	return rc;
}

/* ---- section 5.1 ---- */

static bool
is_fresh(const struct smtp_sts_policy *p, int64_t now)
{
	return p->fetched <= now && (uint64_t)(now - p->fetched) < p->max_age;
}

int
smtp_sts_policy_get(struct smtp_resolver *r, const struct smtp_sts_settings *s, const char *domain,
                    struct smtp_sts_policy *out, enum smtp_sts_failure *failure_out)
{
	struct smtp_sts_policy cached;
	char id[33] = "";
	int64_t now = (int64_t)time(NULL);

	*failure_out = SMTP_STS_OK;

	/* The domain names a file: only hostname bytes, no "..". */
	for (const char *c = domain; *c; c++)
		if (!(isalnum((unsigned char)*c) || *c == '-' || *c == '.'))
			return 0;
	if (domain[0] == '\0' || domain[0] == '.' || strstr(domain, "..") != NULL ||
	    strlen(domain) > 253)
		return 0;

	bool has_cache = cache_read(s, domain, &cached) == 0 && is_fresh(&cached, now);
	int txt = txt_lookup(r, domain, id);
	if (txt <= 0 || (has_cache && strcmp(cached.id, id) == 0)) {
		if (!has_cache)
			return 0;
		*out = cached; /* section 3.3: a live policy cannot be had */
		return 1;
	}
	char *text = NULL;
	size_t len = 0;
	struct smtp_sts_policy fresh = {.fetched = now};
	memcpy(fresh.id, id, sizeof(fresh.id));
	if (is_held_off(s, domain, id, now, failure_out)) {
		log_info("outbound", "event=mta-sts-fetch-held domain=%s id=%s", domain, id);
		if (!has_cache)
			return 0;
		*out = cached; /* as after a failed fetch */
		return 1;
	}
	if (fetch(r, s, domain, &text, &len, failure_out) == 0 &&
	    smtp_sts_policy_parse(text, len, &fresh) < 0) {
		log_warn("outbound", "event=mta-sts-fetch-failed domain=%s err=\"not a policy\"",
		         domain);
		*failure_out = SMTP_STS_POLICY_INVALID;
		free(text);
		text = NULL;
	}
	if (text == NULL) {
		holdoff_write(s, domain, id, now, *failure_out);
		if (!has_cache)
			return 0;
		*out = cached;
		return 1;
	}
	holdoff_clear(s, domain);
	cache_write(s, domain, &fresh, text, len);
	free(text);
	log_info("outbound", "event=mta-sts-policy domain=%s id=%s mode=%s mx=%zu max_age=%llu",
	         domain, fresh.id,
	         fresh.mode == SMTP_STS_ENFORCE   ? "enforce"
	         : fresh.mode == SMTP_STS_TESTING ? "testing"
	                                          : "none",
	         fresh.n_mx, (unsigned long long)fresh.max_age);
	*out = fresh;
	return 1;
}
