/* SPDX-License-Identifier: MIT */
/*
 * imap_acl.h: what the ACL commands (RFC 4314 section 3: GETACL, SETACL,
 * DELETEACL, LISTRIGHTS, MYRIGHTS) share: their mailbox and identifier
 * arguments, and the owner's implicit entry.
 */
#ifndef TERN_IMAP_ACL_H
#define TERN_IMAP_ACL_H

#include <stdbool.h>

#include "imap/imap_namespace.h"

/* Reads argument i as a mailbox and resolves it; replies and returns false
   on failure. *name_out is the full (UTF-8) name, for replies. */
bool imap_acl_mailbox_arg(struct imap_cmd *cmd, size_t i, struct imap_box *box_out,
                          const char **name_out);
/*
 * Reads argument i as an identifier (RFC 4314 section 3), in the form the
 * store keeps: login names lowercased (accounts are stored so), "anyone",
 * "authenticated" and "$group" as given, each maybe "-"-prefixed. Replies
 * BAD and returns false for an empty or unusable one.
 */
bool imap_acl_identifier_arg(struct imap_cmd *cmd, size_t i, const char **id_out);
/* The owner of box's account as an identifier (its address), or NULL for
   the server-owned shared account. In the command arena. */
const char *imap_acl_owner(struct imap_session *s, const struct imap_box *box);

#endif
