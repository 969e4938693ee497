/* SPDX-License-Identifier: MIT */
/*
 * gssapi_map.h: which account a Kerberos principal logs in to (SASL GSSAPI
 * and GS2-KRB5, docs/AUTH.md). Two rules, the explicit one first:
 *
 *   - the map file (auth.gssapi_map): lines "principal address", '#'
 *     comments: "alice/admin@EXAMPLE.ORG boss@example.org";
 *   - the realm rule (auth.gssapi_realms): "EXAMPLE.ORG=example.org ...":
 *     "alice@EXAMPLE.ORG" is "alice@example.org". Only a plain name maps
 *     so: a principal with an instance ("alice/admin@...") or an escaped
 *     character needs a line in the map file.
 *
 * Principals and realms compare exactly (Kerberos names are
 * case-sensitive); the address is lowercased later, as every login name
 * is. Pure: no Kerberos library, no I/O but reading the map file once.
 */
#ifndef TERN_AUTH_GSSAPI_MAP_H
#define TERN_AUTH_GSSAPI_MAP_H

struct auth_gssapi_map;

/*
 * Builds the rules from realms ("REALM=domain" pairs separated by spaces or
 * commas) and the map file at map_path ("" for none). Returns NULL with a
 * heap *error_out naming the file and line, or the bad pair.
 */
struct auth_gssapi_map *auth_gssapi_map_new(const char *realms, const char *map_path,
                                            char **error_out);
/* Same from the map file's text instead of a file (tests, fuzzing). */
struct auth_gssapi_map *auth_gssapi_map_parse(const char *realms, const char *text,
                                              const char *name, char **error_out);
void auth_gssapi_map_free(struct auth_gssapi_map **mp);

/* The address principal ("name[/instance]@REALM", as gss_display_name
   shows it) logs in as (heap), or NULL when no rule maps it. */
char *auth_gssapi_map_principal(const struct auth_gssapi_map *m, const char *principal);

#endif
