/* SPDX-License-Identifier: MIT */
/*
 * config.c: the tern.conf reader. Loads into a scratch copy of the settings
 * struct and copies it over the caller's only when the whole file parsed, so a
 * reload (SIGHUP) with a typo keeps the running configuration.
 */
#include "lib/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"

static const struct config_key *
find_key(const struct config_key *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int
parse_scaled(const char *v, const struct config_key *k, uint64_t *out, const char **error_out)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} sizes[] = {{"", 1},
	             {"k", 1024},
	             {"kb", 1024},
	             {"m", 1024 * 1024},
	             {"mb", 1024 * 1024},
	             {"g", 1024ull * 1024 * 1024},
	             {"gb", 1024ull * 1024 * 1024}},
	  durations[] = {{"", 1000},     {"ms", 1},      {"s", 1000},    {"m", 60000},
	                 {"min", 60000}, {"h", 3600000}, {"d", 86400000}};
	const char *p = v;
	uint64_t num = 0;

	if (!isdigit((unsigned char)*p)) {
		*error_out = "expected a number";
		return -1;
	}
	for (; isdigit((unsigned char)*p); p++) {
		if (num > (UINT64_MAX - 9) / 10) {
			*error_out = "number too large";
			return -1;
		}
		num = num * 10 + (uint64_t)(*p - '0');
	}
	while (*p == ' ')
		p++;
	if (k->type == CONFIG_UINT) {
		if (*p != '\0') {
			*error_out = "expected a whole number";
			return -1;
		}
		*out = num;
	} else {
		const bool is_size = k->type == CONFIG_SIZE;
		size_t count = is_size ? ARRAY_LEN(sizes) : ARRAY_LEN(durations);
		size_t i;
		for (i = 0; i < count; i++) {
			const char *s = is_size ? sizes[i].suffix : durations[i].suffix;
			if (strcasecmp(p, s) == 0)
				break;
		}
		if (i == count) {
			*error_out = is_size ? "bad size suffix (use k, m or g)"
			                     : "bad duration suffix (use ms, s, m, h or d)";
			return -1;
		}
		uint64_t mult = is_size ? sizes[i].mult : durations[i].mult;
		if (num != 0 && mult > UINT64_MAX / num) {
			*error_out = "value too large";
			return -1;
		}
		*out = num * mult;
	}
	if ((k->min != 0 || k->max != 0) && (*out < k->min || *out > k->max)) {
		*error_out = "value out of range";
		return -1;
	}
	return 0;
}

static int
parse_enum(const char *v, const char *choices, int *out)
{
	int idx = 0;
	const char *c = choices;

	while (*c != '\0') {
		size_t len = strcspn(c, "|");
		if (strlen(v) == len && strncasecmp(v, c, len) == 0) {
			*out = idx;
			return 0;
		}
		c += len;
		if (*c == '|')
			c++;
		idx++;
	}
	return -1;
}

int
config_parse_value(const struct config_key *k, const char *v, void *dst, const char **error_out)
{
	char *field = (char *)dst + k->offset;

	switch (k->type) {
	case CONFIG_STRING: {
		char **sp = (char **)(void *)field;
		free(*sp);
		*sp = xstrdup(v);
		return 0;
	}
	case CONFIG_BOOL: {
		bool b;
		if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 ||
		    strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0)
			b = true;
		else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 ||
		         strcasecmp(v, "off") == 0 || strcmp(v, "0") == 0)
			b = false;
		else {
			*error_out = "expected yes or no";
			return -1;
		}
		memcpy(field, &b, sizeof(b));
		return 0;
	}
	case CONFIG_ENUM: {
		int idx;
		if (parse_enum(v, k->choices, &idx) < 0) {
			*error_out = "value not one of the choices";
			return -1;
		}
		memcpy(field, &idx, sizeof(idx));
		return 0;
	}
	case CONFIG_UINT:
	case CONFIG_SIZE:
	case CONFIG_DURATION: {
		uint64_t u;
		if (parse_scaled(v, k, &u, error_out) < 0)
			return -1;
		memcpy(field, &u, sizeof(u));
		return 0;
	}
	}
	*error_out = "unknown key type";
	return -1;
}

void
config_defaults(const struct config_key *keys, size_t n, void *dst)
{
	for (size_t i = 0; i < n; i++) {
		const char *err;
		if (keys[i].type == CONFIG_STRING)
			*(char **)(void *)((char *)dst + keys[i].offset) = NULL;
		if (config_parse_value(&keys[i], keys[i].def, dst, &err) < 0) {
			fprintf(stderr, "tern: bad default for %s: %s\n", keys[i].name, err);
			abort();
		}
	}
}

void
config_free(const struct config_key *keys, size_t n, void *dst)
{
	for (size_t i = 0; i < n; i++) {
		if (keys[i].type == CONFIG_STRING) {
			char **sp = (char **)(void *)((char *)dst + keys[i].offset);
			free(*sp);
			*sp = NULL;
		}
	}
}

static char *
trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* The scratch copy's strings are those of dst duplicated, so freeing either
   never frees the other's. */
static void
dup_strings(const struct config_key *keys, size_t n, void *copy)
{
	for (size_t i = 0; i < n; i++) {
		if (keys[i].type == CONFIG_STRING) {
			char **sp = (char **)(void *)((char *)copy + keys[i].offset);
			if (*sp != NULL)
				*sp = xstrdup(*sp);
		}
	}
}

int
config_load(const char *path, const struct config_key *keys, size_t n, void *dst, char **error_out)
{
	size_t size = 0;
	for (size_t i = 0; i < n; i++) {
		size_t end = keys[i].offset +
		             (keys[i].type == CONFIG_STRING ? sizeof(char *) : sizeof(uint64_t));
		if (end > size)
			size = end;
	}
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		*error_out = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	void *copy = xmalloc(size);
	memcpy(copy, dst, size);
	dup_strings(keys, n, copy);

	char section[128] = "";
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	int rc = 0;
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		char *s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');
			if (end == NULL || end[1] != '\0' ||
			    end - s - 1 >= (long)sizeof(section) - 1) {
				*error_out = xasprintf("%s:%u: bad section header", path, lineno);
				rc = -1;
				break;
			}
			*end = '\0';
			snprintf(section, sizeof(section), "%s", trim(s + 1));
			continue;
		}
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			*error_out = xasprintf("%s:%u: expected key = value", path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		char *name = trim(s), *value = trim(eq + 1);
		size_t vlen = strlen(value);
		if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
			value[vlen - 1] = '\0';
			value++;
		}
		char *full = section[0] != '\0' ? xasprintf("%s.%s", section, name) : xstrdup(name);
		const struct config_key *k = find_key(keys, n, full);
		const char *err;
		if (k == NULL) {
			*error_out = xasprintf("%s:%u: unknown key '%s'", path, lineno, full);
			rc = -1;
		} else if (config_parse_value(k, value, copy, &err) < 0) {
			*error_out = xasprintf("%s:%u: %s: %s", path, lineno, full, err);
			rc = -1;
		}
		free(full);
		if (rc < 0)
			break;
	}
	free(line);
	fclose(f);
	if (rc == 0) {
		config_free(keys, n, dst);
		memcpy(dst, copy, size);
	} else {
		config_free(keys, n, copy);
	}
	free(copy);
	return rc;
}
