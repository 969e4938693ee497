/* SPDX-License-Identifier: MIT */
/*
 * groups.h: named groups of accounts in accounts.db (table group_members),
 * the "$name" identifiers of IMAP ACLs (RFC 4314 section 2 leaves other
 * identifiers to the implementation). A group exists while it has members;
 * `tern group` edits them. Names: 1..64 of [A-Za-z0-9._-], matched
 * case-insensitively; members are account addresses, stored lowercased (an
 * address need not have an account yet).
 */
#ifndef TERN_AUTH_GROUPS_H
#define TERN_AUTH_GROUPS_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/accounts.h"

bool auth_group_name_is_valid(const char *name);
/* Adds address to group; already a member is success. INVALID, TEMP. */
int auth_group_member_add(struct auth_db *db, const char *group, const char *address,
                          enum auth_error *err_out);
/* Removes address from group (NULL: every member, i.e. the group); NOTFOUND
   when nothing was removed. */
int auth_group_member_del(struct auth_db *db, const char *group, const char *address,
                          enum auth_error *err_out);
/* Calls fn(group, address) for every membership, by group then address
   (group NULL: all groups); stops when fn returns non-zero. 0 or -1. */
int auth_group_foreach(struct auth_db *db, const char *group,
                       int (*fn)(const char *group, const char *address, void *arg), void *arg,
                       enum auth_error *err_out);
/* The groups address belongs to, a heap array of heap names (free with
   auth_groups_free). 0 or -1 (TEMP). */
int auth_groups_of(struct auth_db *db, const char *address, char ***groups_out, size_t *n_out,
                   enum auth_error *err_out);
void auth_groups_free(char **groups, size_t n);

#endif
