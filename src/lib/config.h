/* SPDX-License-Identifier: MIT */
/*
 * config.h: parser for tern.conf, a "key = value" file with optional
 * "[section]" headers that prefix the keys that follow ("[imap]" then
 * "max_line = 64k" sets "imap.max_line"). '#' starts a comment line.
 *
 * The parser is generic: the caller gives a table of known keys with a type,
 * a default and the offset of the field it fills in a settings struct. An
 * unknown key, a bad value or an unreadable file is an error reported as
 * "file:line: message", and nothing is applied.
 */
#ifndef TERN_LIB_CONFIG_H
#define TERN_LIB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum config_type {
	CONFIG_STRING,   /* char *, heap; "" allowed */
	CONFIG_UINT,     /* uint64_t in [min, max] */
	CONFIG_BOOL,     /* bool: yes/no, true/false, on/off, 1/0 */
	CONFIG_SIZE,     /* uint64_t bytes; suffixes k, m, g (powers of 1024) */
	CONFIG_DURATION, /* uint64_t milliseconds; suffixes ms, s, m, h, d; bare = s */
	CONFIG_ENUM,     /* int: index of the value in choices, a '|'-separated list */
};

struct config_key {
	const char *name; /* "section.key" */
	enum config_type type;
	size_t offset; /* of the field in the settings struct */
	const char *def;
	uint64_t min, max;   /* for UINT, SIZE, DURATION (0, 0 = no bound) */
	const char *choices; /* for ENUM */
	const char *doc;     /* one line for docs/CONFIG.md and --help */
};

/* Fills every field of dst with its default. Cannot fail (defaults are ours). */
void config_defaults(const struct config_key *keys, size_t n, void *dst);

/*
 * Reads path into dst (which should hold defaults first). Returns 0, or -1
 * with *error_out a heap "file:line: message" the caller frees; on failure
 * dst is unchanged.
 */
int config_load(const char *path, const struct config_key *keys, size_t n, void *dst,
                char **error_out);

/* Frees the strings config_defaults/config_load put in dst. */
void config_free(const struct config_key *keys, size_t n, void *dst);

/* Parses one value as key would; for tests and command-line overrides. */
int config_parse_value(const struct config_key *key, const char *value, void *dst,
                       const char **error_out);

#endif
