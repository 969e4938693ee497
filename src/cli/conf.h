/* SPDX-License-Identifier: MIT */
/*
 * conf.h: tern.conf as the daemon and the admin commands see it: one struct
 * holding every module's settings, loaded from DIR/tern.conf. The key table
 * (conf.c) is the single source of docs/CONFIG.md (`tern config-keys`).
 */
#ifndef TERN_CLI_CONF_H
#define TERN_CLI_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/auth.h"
#include "http/http.h"
#include "imap/imap.h"
#include "pop3/pop3.h"
#include "net/net.h"
#include "smtp/smtp.h"
#include "smtp/smtp_outbound.h"
#include "store/store.h"

struct tern_conf {
	char *hostname;
	char *domain;
	char *listen;
	uint64_t port_base;
	char *user;
	int log_level;
	bool syslog;
	char *log_file; /* "" = stderr; relative to the data directory unless absolute */
	uint64_t shutdown_grace_ms;
	uint64_t slow_callback_ms;
	char *tls_cert, *tls_key; /* relative to the data directory unless absolute */
	char *tls_client_ca;      /* "" = no client certificates asked for */
	bool imap_enabled;
	uint64_t imap_port, imaps_port; /* 0: port_base + 143 / + 993 */
	bool smtp_enabled, submission_enabled, lmtp_enabled;
	uint64_t smtp_port;                         /* 0: port_base + 25 */
	uint64_t submission_port, submissions_port; /* 0: + 587 / + 465 */
	uint64_t lmtp_port;                         /* 0: + 24 */
	char *imap_metadata_admin;                  /* copied into imap.metadata_admin */
	char *lmtp_socket;                          /* "" = none; made absolute */
	bool pop3_enabled;
	uint64_t pop3_port, pop3s_port; /* 0: port_base + 110 / + 995 */
	uint64_t pop3_login_delay_ms;
	int pop3_expire; /* index in "never|0" */
	bool http_enabled;
	uint64_t http_port, https_port; /* 0: port_base + 80 / + 443 */
	uint64_t http_mta_sts_max_age_ms;
	char *imap_shared_login_separator; /* copied into imap.shared_login_separator */
	uint64_t auth_workers;
	uint64_t store_writers;
	uint64_t smtp_lookup_workers;
	uint64_t query_workers; /* 0: IMAP_CMD_OFF_LOOP commands run on the workers */
	bool sandbox;           /* Landlock and seccomp after start-up */
	struct net_settings net;
	struct imap_settings imap;
	struct smtp_settings smtp; /* hostname, default_domain borrowed from above */
	struct pop3_settings pop3;
	struct http_settings http; /* hostname and ports: see conf_http_settings() */
	struct auth_config auth;   /* .s is what sessions copy; oauth paths made absolute */
	struct store_settings store;
	bool delivery_enabled;
	char *relay_password_file;              /* "" = none; made absolute */
	char *delivery_ca_file;                 /* "" = none; made absolute */
	char *dns_trust_anchor_file;            /* "" = none; made absolute */
	char *dns_nameservers;                  /* "" = resolv.conf */
	char *hold_dir;                         /* DATA_DIR/tmp, for smtp.hold_dir (heap) */
	struct smtp_outbound_settings outbound; /* hostname, nameservers borrowed */
};

/* Loads DIR/tern.conf over the defaults. 0, or -1 with a heap "file:line: msg". */
int conf_load(const char *data_dir, struct tern_conf *conf, char **error_out);
void conf_free(struct tern_conf *conf);
/* Resolves a path from the config against the data directory (heap). */
char *conf_path(const char *data_dir, const char *path);
/* The HTTP settings with what autoconfiguration advertises filled in from
   conf (host name, the ports of the listeners that run); borrows conf. */
struct http_settings conf_http_settings(const struct tern_conf *conf);
/* Prints the key table as a Markdown table (docs/CONFIG.md). */
void conf_print_keys(void);
/* The same table as the tern.conf(5) manual page (roff). */
void conf_print_man(void);

#endif
