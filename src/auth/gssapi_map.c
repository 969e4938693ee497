/* SPDX-License-Identifier: MIT */
/*
 * gssapi_map.c: Kerberos principal to account address (gssapi_map.h).
 *
 * The input of auth_gssapi_map_principal() is what the GSS-API library
 * displays for a principal it has authenticated (RFC 1964 section 2.1.1:
 * components separated by '/', the realm after '@', '\' escaping either
 * inside a component); the map file is the administrator's. Neither is
 * trusted to be well formed: an escape, an empty part or a second '@'
 * make a principal that only an exact line of the map file can map.
 */
#include "auth/gssapi_map.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

struct pair {
	char *key, *value;
};

struct auth_gssapi_map {
	struct pair *realms; /* realm -> domain */
	size_t nrealms;
	struct pair *names; /* principal -> address */
	size_t nnames;
};

static void
pairs_add(struct pair **v, size_t *n, const char *key, size_t klen, const char *value, size_t vlen)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n].key = xstrndup(key, klen);
	(*v)[*n].value = xstrndup(value, vlen);
	(*n)++;
}

void
auth_gssapi_map_free(struct auth_gssapi_map **mp)
{
	struct auth_gssapi_map *m = *mp;

	if (m == NULL)
		return;
	*mp = NULL;
	for (size_t i = 0; i < m->nrealms; i++) {
		free(m->realms[i].key);
		free(m->realms[i].value);
	}
	for (size_t i = 0; i < m->nnames; i++) {
		free(m->names[i].key);
		free(m->names[i].value);
	}
	free(m->realms);
	free(m->names);
	free(m);
}

/* A domain for an address: no '@', space or control character, not empty. */
static bool
domain_ok(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '@' || (unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return false;
	return true;
}

static int
parse_realms(struct auth_gssapi_map *m, const char *realms, char **error_out)
{
	const char *p = realms;

	while (*p != '\0') {
		p += strspn(p, " \t,");
		if (*p == '\0')
			break;
		size_t len = strcspn(p, " \t,");
		const char *eq = memchr(p, '=', len);
		if (eq == NULL || eq == p || !domain_ok(eq + 1, len - (size_t)(eq + 1 - p)) ||
		    memchr(p, '@', (size_t)(eq - p)) != NULL) {
			*error_out =
			        xasprintf("auth.gssapi_realms: expected REALM=domain, got '%.*s'",
			                  (int)len, p);
			return -1;
		}
		pairs_add(&m->realms, &m->nrealms, p, (size_t)(eq - p), eq + 1,
		          len - (size_t)(eq + 1 - p));
		p += len;
	}
	return 0;
}

static int
parse_lines(struct auth_gssapi_map *m, const char *text, const char *name, char **error_out)
{
	unsigned lineno = 0;

	for (const char *line = text; *line != '\0';) {
		size_t len = strcspn(line, "\n");
		const char *next = line[len] == '\n' ? line + len + 1 : line + len;
		lineno++;
		const char *hash = memchr(line, '#', len);
		if (hash != NULL)
			len = (size_t)(hash - line);
		const char *p = line, *end = line + len;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			end--;
		if (p < end) {
			size_t klen = strcspn(p, " \t");
			const char *v = p + klen;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			const char *at = v < end ? memchr(v, '@', (size_t)(end - v)) : NULL;
			if (klen >= (size_t)(end - p) || at == NULL || at == v ||
			    !domain_ok(at + 1, (size_t)(end - at - 1)) ||
			    strcspn(v, " \t") < (size_t)(end - v)) {
				*error_out = xasprintf("%s:%u: expected 'principal address'", name,
				                       lineno);
				return -1;
			}
			pairs_add(&m->names, &m->nnames, p, klen, v, (size_t)(end - v));
		}
		line = next;
	}
	return 0;
}

struct auth_gssapi_map *
auth_gssapi_map_parse(const char *realms, const char *text, const char *name, char **error_out)
{
	struct auth_gssapi_map *m = xcalloc(1, sizeof(*m));

	if (parse_realms(m, realms, error_out) < 0 ||
	    (text != NULL && parse_lines(m, text, name, error_out) < 0)) {
		auth_gssapi_map_free(&m);
		return NULL;
	}
	return m;
}

struct auth_gssapi_map *
auth_gssapi_map_new(const char *realms, const char *map_path, char **error_out)
{
	if (map_path == NULL || map_path[0] == '\0')
		return auth_gssapi_map_parse(realms, NULL, NULL, error_out);
	FILE *f = fopen(map_path, "re");
	if (f == NULL) {
		*error_out = xasprintf("auth.gssapi_map: %s: %s", map_path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *text = xmalloc(cap);
	size_t got;
	while ((got = fread(text + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n - 1 == 0)
			text = xrealloc(text, cap *= 2);
	}
	bool failed = ferror(f) != 0;
	fclose(f);
	text[n] = '\0';
	struct auth_gssapi_map *m = NULL;
	if (failed || memchr(text, '\0', n) != NULL)
		*error_out = xasprintf("auth.gssapi_map: %s: cannot read a text file", map_path);
	else
		m = auth_gssapi_map_parse(realms, text, map_path, error_out);
	free(text);
	return m;
}

char *
auth_gssapi_map_principal(const struct auth_gssapi_map *m, const char *principal)
{
	for (size_t i = 0; i < m->nnames; i++)
		if (strcmp(m->names[i].key, principal) == 0)
			return xstrdup(m->names[i].value);
	/* The realm rule takes "name@REALM" only: one '@', no instance, no
	   escape, nothing an address could not hold. */
	const char *at = strchr(principal, '@');
	if (at == NULL || at == principal || strchr(at + 1, '@') != NULL)
		return NULL;
	for (const char *c = principal; c < at; c++)
		if (*c == '/' || *c == '\\' || (unsigned char)*c <= ' ' || *c == 0x7f)
			return NULL;
	for (size_t i = 0; i < m->nrealms; i++)
		if (strcmp(m->realms[i].key, at + 1) == 0)
			return xasprintf("%.*s@%s", (int)(at - principal), principal,
			                 m->realms[i].value);
	return NULL;
}
