/* SPDX-License-Identifier: MIT */
/*
 * commands.c: every IMAP command, once: its name, handler and the states it
 * may run in. The dispatcher (session.c) enforces the states.
 */
#include <strings.h>

#include "imap/commands.h"
#include "imap/session.h"
#include "lib/util.h"

static const struct imap_command_def commands[] = {
	{"CAPABILITY", imap_cmd_capability, IMAP_STATE_ANY},
	{"NOOP", imap_cmd_noop, IMAP_STATE_ANY},
	{"LOGOUT", imap_cmd_logout, IMAP_STATE_ANY},
	{"ID", imap_cmd_id, IMAP_STATE_ANY},
	{"STARTTLS", imap_cmd_starttls, IMAP_STATE_NOT_AUTH},
	{"LOGIN", imap_cmd_login, IMAP_STATE_NOT_AUTH},
	{"AUTHENTICATE", imap_cmd_authenticate, IMAP_STATE_NOT_AUTH},
};

const struct imap_command_def *
imap_command_lookup(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(commands); i++)
		if (strcasecmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}
