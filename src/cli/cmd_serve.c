/* SPDX-License-Identifier: MIT */
/*
 * cmd_serve.c: `tern serve`, the daemon. Order matters for safety:
 *   1. read tern.conf (refuse to start on any error, with file:line);
 *   2. load the TLS key and bind every port (may need root);
 *   3. drop to server.user if root, before any client byte is read;
 *   4. open the mail store and run the loops (job threads open accounts.db
 *      on first use).
 * Signals are events on the acceptor loop: SIGTERM/SIGINT stop (sessions
 * finish their command and get BYE), SIGHUP reloads config and certificate,
 * SIGUSR1 reopens the log file (server.log_file) after logrotate.
 *
 * Access watch: every second a job reads accounts.db's change log
 * (auth_changes_poll); when `tern user set/del` switched an account's
 * protocol off, the list of changed accounts is broadcast to every session
 * (net_server_broadcast), and the sessions of those accounts say BYE.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "auth/auth.h"
#include "cli/cli.h"
#include "cli/conf.h"
#include "http/http.h"
#include "imap/imap.h"
#include "pop3/pop3.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/version.h"
#include "net/jobs.h"
#include "net/net.h"
#include "net/sandbox.h"
#include "net/tls.h"
#include "session/session.h"
#include "smtp/smtp.h"
#include "smtp/smtp_outbound.h"
#include "smtp/smtp_queue.h"
#include "store/store.h"

/* How often the server looks for access changes made by the CLI. */
#define ACCESS_POLL_MS 1000

struct serve_state {
	const char *data_dir;
	struct tern_conf conf;
	struct net_server *net;
	struct imap_server *imap;
	struct pop3_server *pop3;
	struct http_server *http;
	struct smtp_server *smtp;
	struct auth_service *auth;
	struct net_jobs *jobs;
	struct event *poll_ev;
	bool poll_running;
	struct auth_changes *changes; /* the poll job's result */
	/* The collection of crash leftovers at start (collect_work). */
	struct store *store;
	_Atomic bool is_stopping;
	long orphans;
};

/*
 * The service table: every listener `tern serve` can open, one row each,
 * built from tern.conf. A protocol joins the server by adding its rows here
 * (its session_service comes from its module); net and the session core need
 * no change.
 */
struct service {
	const char *name; /* for the log: "imaps" */
	bool enabled;
	uint64_t port;
	const char *path; /* a Unix socket instead of listen:port, or NULL */
	bool implicit_tls;
	const struct session_service *svc;
};

#define MAX_SERVICES 16

static size_t
services_build(const struct serve_state *st, const struct tern_conf *conf, struct service *out)
{
	size_t n = 0;

	out[n++] = (struct service){"imap", conf->imap_enabled,           conf->imap_port, NULL,
	                            false,  imap_server_service(st->imap)};
	out[n++] = (struct service){"imaps", conf->imap_enabled,           conf->imaps_port, NULL,
	                            true,    imap_server_service(st->imap)};
	out[n++] = (struct service){"pop3", conf->pop3_enabled,           conf->pop3_port, NULL,
	                            false,  pop3_server_service(st->pop3)};
	out[n++] = (struct service){"pop3s", conf->pop3_enabled,           conf->pop3s_port, NULL,
	                            true,    pop3_server_service(st->pop3)};
	out[n++] = (struct service){"smtp",          conf->smtp_enabled,
	                            conf->smtp_port, NULL,
	                            false,           smtp_server_service(st->smtp, SMTP_ROLE_MX)};
	out[n++] = (struct service){"submission",
	                            conf->submission_enabled,
	                            conf->submission_port,
	                            NULL,
	                            false,
	                            smtp_server_service(st->smtp, SMTP_ROLE_SUBMISSION)};
	out[n++] = (struct service){"submissions",
	                            conf->submission_enabled,
	                            conf->submissions_port,
	                            NULL,
	                            true,
	                            smtp_server_service(st->smtp, SMTP_ROLE_SUBMISSION)};
	out[n++] = (struct service){"lmtp",          conf->lmtp_enabled,
	                            conf->lmtp_port, NULL,
	                            false,           smtp_server_service(st->smtp, SMTP_ROLE_LMTP)};
	out[n++] = (struct service){"lmtp-socket",
	                            conf->lmtp_enabled && conf->lmtp_socket[0] != '\0',
	                            0,
	                            conf->lmtp_socket,
	                            false,
	                            smtp_server_service(st->smtp, SMTP_ROLE_LMTP)};
	out[n++] = (struct service){"http", conf->http_enabled,           conf->http_port, NULL,
	                            false,  http_server_service(st->http)};
	out[n++] = (struct service){"https", conf->http_enabled,           conf->https_port, NULL,
	                            true,    http_server_service(st->http)};
	return n;
}

/* True when the listeners conf asks for differ from the running ones. */
static bool
services_changed(const struct serve_state *st, const struct tern_conf *conf)
{
	struct service now[MAX_SERVICES], next[MAX_SERVICES];
	size_t n = services_build(st, &st->conf, now), m = services_build(st, conf, next);

	if (strcmp(conf->listen, st->conf.listen) != 0 || n != m)
		return true;
	for (size_t i = 0; i < n; i++)
		if (now[i].enabled != next[i].enabled || now[i].port != next[i].port ||
		    (now[i].path != NULL && strcmp(now[i].path, next[i].path) != 0))
			return true;
	return false;
}

static struct net_tls *
load_tls(const char *data_dir, const struct tern_conf *conf, char **error_out)
{
	char *cert = conf_path(data_dir, conf->tls_cert), *key = conf_path(data_dir, conf->tls_key);
	struct net_tls *tls = net_tls_new(cert, key, error_out);

	free(cert);
	free(key);
	if (tls != NULL && conf->tls_client_ca[0] != '\0' &&
	    net_tls_set_client_ca(tls, conf->tls_client_ca, error_out) < 0)
		net_tls_unref(&tls);
	return tls;
}

static int
drop_privileges(const char *user, const char *data_dir)
{
	if (geteuid() != 0 || user[0] == '\0')
		return 0;
	struct passwd *pw = getpwnam(user);
	if (pw == NULL)
		return cli_fail("server.user: no such user '%s'", user);
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		return cli_fail("cannot switch to user %s: %s", user, strerror(errno));
	if (setuid(0) == 0)
		return cli_fail("privilege drop to %s did not hold", user);
	if (access(data_dir, R_OK | W_OK | X_OK) < 0)
		return cli_fail("%s is not writable by %s: chown it", data_dir, user);
	log_info("server", "event=privileges-dropped user=%s uid=%u", user, (unsigned)pw->pw_uid);
	return 0;
}

/* What the server reads late, outside its own files: the resolver's and
   TLS's configuration, shared objects loaded on first use (NSS, gconv,
   OpenSSL providers), time zones, its own /proc entries, /etc/passwd for
   server.user. */
static const char *const system_ro[] = {
        "/etc/ssl",
        "/usr/share/ca-certificates",
        "/etc/resolv.conf",
        "/etc/hosts",
        "/etc/nsswitch.conf",
        "/etc/gai.conf",
        "/etc/services",
        "/etc/host.conf",
        "/etc/localtime",
        "/usr/share/zoneinfo",
        "/etc/passwd",
        "/etc/group",
        "/usr/lib",
        "/lib",
        "/lib64",
        "/proc",
        "/dev/urandom",
        "/etc/krb5.conf",
        "/etc/krb5.conf.d",
        "/etc/gss",
        "/etc/gssapi_mech.conf", /* libgssglue, GNU SASL's GSS-API */
};

/* The files one tern.conf names (absolute, or relative to the data
   directory: then inside it, already allowed), and those the environment
   names for Kerberos. */
#define SANDBOX_OWNED 24
static void
sandbox_conf_paths(const char *data_dir, const struct tern_conf *conf, struct net_sandbox_paths *p,
                   char **owned, size_t *n_owned)
{
	const char *files[] = {conf->tls_cert,
	                       conf->tls_key,
	                       conf->tls_client_ca,
	                       conf->auth.oauth_hs256_secret_file,
	                       conf->auth.oauth_public_keys_file,
	                       conf->auth.gssapi_keytab,
	                       conf->auth.gssapi_map,
	                       conf->relay_password_file,
	                       conf->delivery_ca_file,
	                       conf->dns_trust_anchor_file,
	                       conf->smtp.mailauth_psl};
	size_t n_ro = 0, n_rw = 0;

	p->rw[n_rw++] = data_dir;
	p->rw[n_rw++] = "/dev/null";
	if (conf->log_file[0] != '\0') {
		/* The file and, for SIGUSR1 after logrotate, its directory. */
		char *log = owned[(*n_owned)++] = conf_path(data_dir, conf->log_file);
		char *dir = owned[(*n_owned)++] = xstrdup(log);
		char *slash = strrchr(dir, '/');
		if (slash != NULL && slash != dir)
			*slash = '\0';
		p->rw[n_rw++] = dir;
	}
	if (conf->lmtp_enabled && conf->lmtp_socket[0] != '\0') {
		/* Bound after the confinement: its directory (made absolute). */
		char *dir = owned[(*n_owned)++] = xstrdup(conf->lmtp_socket);
		char *slash = strrchr(dir, '/');
		if (slash != NULL && slash != dir)
			*slash = '\0';
		p->rw[n_rw++] = dir;
	}
	for (size_t i = 0; i < ARRAY_LEN(system_ro); i++)
		p->ro[n_ro++] = system_ro[i];
	for (size_t i = 0; i < ARRAY_LEN(files); i++)
		if (files[i] != NULL && files[i][0] != '\0')
			p->ro[n_ro++] = owned[(*n_owned)++] = conf_path(data_dir, files[i]);
	/* Kerberos reads its profile late, at the first login: the files the
	   environment names instead of /etc's (KRB5_CONFIG is a ':' list). */
	const char *mech_conf = getenv("GSSAPI_MECH_CONF");
	if (mech_conf != NULL && mech_conf[0] != '\0')
		p->ro[n_ro++] = mech_conf;
	const char *krb5_config = getenv("KRB5_CONFIG");
	while (krb5_config != NULL && *krb5_config != '\0' && n_ro < ARRAY_LEN(p->ro) - 1 &&
	       *n_owned < SANDBOX_OWNED) {
		size_t len = strcspn(krb5_config, ":");
		if (len > 0)
			p->ro[n_ro++] = owned[(*n_owned)++] = xstrndup(krb5_config, len);
		krb5_config += len + (krb5_config[len] == ':');
	}
}

/* Step 1 (before any thread starts: Landlock binds the threads created
   after it). Returns the ABI in effect, 0 unsupported, -1 failed. */
static int
sandbox_files(const char *data_dir, const struct tern_conf *conf)
{
	struct net_sandbox_paths paths = {0};
	char *owned[SANDBOX_OWNED];
	size_t n_owned = 0;

	sandbox_conf_paths(data_dir, conf, &paths, owned, &n_owned);
	int abi = net_sandbox_landlock(&paths);
	if (abi < 0)
		log_warn("server", "event=landlock-failed err=\"%s\"", strerror(errno));
	for (size_t i = 0; i < n_owned; i++)
		free(owned[i]);
	return abi;
}

/* A test hook (tests/integration/test_sandbox.py): once confined, try to
   create the file TERN_SANDBOX_PROBE names and say what happened. */
static void
sandbox_probe(void)
{
	const char *path = getenv("TERN_SANDBOX_PROBE");

	if (path == NULL)
		return;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
		unlink(path);
		log_info("server", "event=sandbox-probe result=created");
	} else {
		log_info("server", "event=sandbox-probe result=refused err=\"%s\"",
		         strerror(errno));
	}
}

/* DIR/admin.token: a fresh random token each start, readable by the
   service user only, that `tern status` sends as an administrator's. */
static char *
write_admin_token(const char *data_dir, struct http_server *http)
{
	char *path = xasprintf("%s/%s", data_dir, CLI_ADMIN_TOKEN_FILE);
	char *token = cli_random_hex(32);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0 || write(fd, token, strlen(token)) != (ssize_t)strlen(token)) {
		log_warn("server", "event=admin-token-failed path=%s err=\"%s\"", path,
		         strerror(errno));
		free(path);
		path = NULL;
	} else {
		http_server_set_local_token(http, token);
	}
	if (fd >= 0)
		close(fd);
	explicit_bzero(token, strlen(token));
	free(token);
	return path;
}

static void
release_changes(void *msg)
{
	struct auth_changes *c = msg;

	auth_changes_unref(&c);
}

static void
poll_work(void *arg)
{
	struct serve_state *st = arg;

	st->changes = auth_changes_poll(st->auth);
}

static void
poll_done(void *arg)
{
	struct serve_state *st = arg;

	st->poll_running = false;
	if (st->changes != NULL && st->net != NULL)
		net_server_broadcast(st->net, st->changes, release_changes);
	else
		auth_changes_unref(&st->changes);
	st->changes = NULL;
}

static void
on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct serve_state *st = arg;

	if (st->poll_running)
		return;
	st->poll_running = true;
	net_jobs_submit(st->jobs, net_server_base(st->net), poll_work, poll_done, st);
}

/* Orphan blobs and temp files a crash left: collected by the server itself,
   in the background, so they never wait for `tern check --repair`. */
static void
collect_work(void *arg)
{
	struct serve_state *st = arg;

	st->orphans = store_collect_orphans(st->store, &st->is_stopping);
}

static void
collect_done(void *arg)
{
	struct serve_state *st = arg;

	if (st->orphans < 0)
		log_warn("server", "event=collect-failed");
	else
		log_info("server", "event=orphans-collected files=%ld", st->orphans);
}

static void
on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct serve_state *st = arg;

	st->is_stopping = true;
	event_del(st->poll_ev);
	log_info("server", "event=stopping signal=%s", sig == SIGTERM ? "TERM" : "INT");
	net_server_stop(st->net, st->conf.shutdown_grace_ms);
}

/* Opens (or reopens) the configured log file; "" is stderr. */
static int
open_log(const char *data_dir, const struct tern_conf *conf)
{
	char *path = conf->log_file[0] != '\0' ? conf_path(data_dir, conf->log_file) : xstrdup("");
	int rc = log_open(path);

	if (rc < 0)
		log_error("server", "event=log-open-failed path=%s err=\"%s\"", path,
		          strerror(errno));
	free(path);
	return rc;
}

/* SIGUSR1: logrotate moved the file; write to a fresh one at the path. */
static void
on_reopen(evutil_socket_t sig, short what, void *arg)
{
	struct serve_state *st = arg;

	if (open_log(st->data_dir, &st->conf) == 0)
		log_info("server", "event=log-reopened");
}

static void
on_reload(evutil_socket_t sig, short what, void *arg)
{
	struct serve_state *st = arg;
	struct tern_conf conf;
	char *err = NULL;

	if (conf_load(st->data_dir, &conf, &err) < 0) {
		log_error("server", "event=reload-failed err=\"%s\"", err);
		free(err);
		return;
	}
	struct net_tls *tls = load_tls(st->data_dir, &conf, &err);
	if (tls == NULL) {
		log_error("server", "event=reload-failed err=\"%s\"", err);
		free(err);
		conf_free(&conf);
		return;
	}
	if (services_changed(st, &conf))
		log_warn("server",
		         "event=reload-partial reason=\"listeners change only on restart\"");
	/* KRB5_KTNAME was set at start (auth_gssapi_environment), and the
	   sandbox lets only the files named then be read: other paths wait for
	   a restart (their contents are re-read). */
	char **kept[] = {&conf.auth.gssapi_keytab, &conf.auth.gssapi_map};
	const char *started[] = {st->conf.auth.gssapi_keytab, st->conf.auth.gssapi_map};
	for (size_t i = 0; i < ARRAY_LEN(kept); i++) {
		if (strcmp(*kept[i], started[i]) == 0)
			continue;
		log_warn("server", "event=reload-partial reason=\"%s changes only on restart\"",
		         i == 0 ? "auth.gssapi_keytab" : "auth.gssapi_map");
		free(*kept[i]);
		*kept[i] = xstrdup(started[i]);
	}
	if (auth_service_reload(st->auth, &conf.auth, &err) < 0) {
		log_error("server", "event=reload-failed err=\"%s\"", err);
		free(err);
		net_tls_unref(&tls);
		conf_free(&conf);
		return;
	}
	log_configure(conf.log_level, conf.syslog);
	if (strcmp(conf.log_file, st->conf.log_file) != 0)
		open_log(st->data_dir, &conf);
	session_watchdog_configure(conf.slow_callback_ms);
	http_server_set_tls(st->http, tls);
	net_server_reload(st->net, &conf.net, tls);
	imap_server_reload(st->imap, &conf.imap, true);
	pop3_server_reload(st->pop3, &conf.pop3, true);
	smtp_server_reload(st->smtp, &conf.smtp, true);
	struct http_settings http = conf_http_settings(&conf);
	http_server_reload(st->http, &http);
	conf_free(&st->conf);
	st->conf = conf;
	log_info("server", "event=reloaded");
}

/* The queue runner, with the relayhost password read from its file. */
static struct smtp_outbound *
start_outbound(const char *data_dir, struct store *store, const struct tern_conf *conf)
{
	struct smtp_outbound_settings s = conf->outbound;
	char password[512] = "", *err = NULL;

	if (conf->relay_password_file[0] != '\0') {
		FILE *f = fopen(conf->relay_password_file, "r");
		if (f == NULL || fgets(password, sizeof(password), f) == NULL) {
			cli_fail("delivery.relay_password_file: %s: %s", conf->relay_password_file,
			         f == NULL ? strerror(errno) : "empty");
			if (f != NULL)
				fclose(f);
			return NULL;
		}
		fclose(f);
		password[strcspn(password, "\r\n")] = '\0';
	}
	s.relay_password = password;
	struct smtp_outbound *o = smtp_outbound_start(data_dir, store, &s, &err);
	explicit_bzero(password, sizeof(password));
	if (o == NULL) {
		cli_fail("%s", err);
		free(err);
	}
	return o;
}

int
cli_serve(const char *data_dir, int argc, char **argv)
{
	struct serve_state st = {.data_dir = data_dir};
	char *err = NULL;
	int rc = 1;
	struct net_tls *tls = NULL;
	struct auth_service *auth = NULL;
	struct net_jobs *jobs = NULL, *store_pool = NULL, *collect_pool = NULL, *query_pool = NULL,
	                *lookup_pool = NULL;
	struct store *store = NULL;
	struct smtp_queue *queue = NULL;
	struct smtp_outbound *outbound = NULL;
	struct event *ev_term = NULL, *ev_int = NULL, *ev_hup = NULL, *ev_usr1 = NULL;
	struct buf started; /* "imap=127.0.0.1:10143 ..." for the log */
	char *token_path = NULL;

	buf_init(&started);

	if (argc > 0)
		return cli_fail("serve takes no arguments (see tern serve --help)");
	if (conf_load(data_dir, &st.conf, &err) < 0) {
		cli_fail("%s", err);
		free(err);
		return 1;
	}
	log_configure(st.conf.log_level, st.conf.syslog);
	if (open_log(data_dir, &st.conf) < 0) {
		cli_fail("server.log_file: cannot open it: %s", strerror(errno));
		goto out;
	}
	session_watchdog_configure(st.conf.slow_callback_ms);
	signal(SIGPIPE, SIG_IGN);
	if ((tls = load_tls(data_dir, &st.conf, &err)) == NULL) {
		cli_fail("%s", err);
		goto out;
	}
	auth_gssapi_environment(data_dir, &st.conf.auth);
	int landlock = st.conf.sandbox ? sandbox_files(data_dir, &st.conf) : 0;
	/* accounts.db is opened lazily by the job threads, after the drop. */
	if ((auth = auth_service_new(data_dir, &st.conf.auth, &err)) == NULL) {
		cli_fail("%s", err);
		goto out;
	}
	jobs = net_jobs_new(st.conf.auth_workers);
	st.auth = auth;
	st.jobs = jobs;
	st.imap = imap_server_new(&st.conf.imap, auth, jobs, true);
	st.pop3 = pop3_server_new(&st.conf.pop3, auth, jobs, true);
	st.smtp = smtp_server_new(&st.conf.smtp, auth, jobs, true);
	struct http_settings http = conf_http_settings(&st.conf);
	st.http = http_server_new(&http);
	http_server_set_auth(st.http, auth, jobs);
	struct service services[MAX_SERVICES];
	struct net_listener_spec specs[MAX_SERVICES];
	size_t n_services = services_build(&st, &st.conf, services), n = 0;
	for (size_t i = 0; i < n_services; i++) {
		if (!services[i].enabled)
			continue;
		specs[n++] = (struct net_listener_spec){services[i].path != NULL ? services[i].path
		                                                                 : st.conf.listen,
		                                        (uint16_t)services[i].port,
		                                        services[i].implicit_tls,
		                                        &session_net_protocol,
		                                        (void *)services[i].svc,
		                                        services[i].name};
		if (services[i].path != NULL)
			buf_printf(&started, " %s=%s", services[i].name, services[i].path);
		else
			buf_printf(&started, " %s=%s:%llu", services[i].name, st.conf.listen,
			           (unsigned long long)services[i].port);
	}
	http_server_set_tls(st.http, tls);
	net_tls_ref(tls);
	st.net = net_server_new(&st.conf.net, specs, n, tls, &err);
	if (st.net == NULL) {
		net_tls_unref(&tls);
		/* The newcomer's usual first error: say what to do about it. */
		if (strstr(err, strerror(EADDRINUSE)) != NULL)
			cli_fail(
			        "%s\n  another program (or another tern) uses that port: stop it, "
			        "or set another port_base (or that service's port) in %s/tern.conf",
			        err, data_dir);
		else
			cli_fail("%s", err);
		goto out;
	}
	if (drop_privileges(st.conf.user, data_dir) != 0)
		goto out;
	/* After the drop, so the store's files belong to the service user. */
	enum store_error serr;
	if (store_open(data_dir, &st.conf.store, &store, &serr) < 0) {
		cli_fail("%s: cannot open the mail store: %s", data_dir, store_error_str(serr));
		goto out;
	}
	/* Changes other processes write (delivery, admin) reach the sessions. */
	if (store_watch_start(store, &serr) < 0)
		log_warn("server", "event=store-watch-failed err=\"%s\"", store_error_str(serr));
	store_pool = net_jobs_new(st.conf.store_writers);
	imap_server_set_store(st.imap, store, store_pool);
	if (st.conf.query_workers > 0) {
		query_pool = net_jobs_new(st.conf.query_workers);
		imap_server_set_query_pool(st.imap, query_pool);
	}
	pop3_server_set_store(st.pop3, store, store_pool);
	http_server_set_store(st.http, store, data_dir);
	token_path = write_admin_token(data_dir, st.http);
	if (smtp_queue_open(data_dir, &queue, &err) < 0) {
		cli_fail("%s", err);
		goto out;
	}
	lookup_pool = net_jobs_new(st.conf.smtp_lookup_workers);
	smtp_server_set_store(st.smtp, store, store_pool, lookup_pool, queue);
	if (st.conf.delivery_enabled &&
	    (outbound = start_outbound(data_dir, store, &st.conf)) == NULL)
		goto out;

	struct event_base *base = net_server_base(st.net);
	ev_term = evsignal_new(base, SIGTERM, on_stop, &st);
	ev_int = evsignal_new(base, SIGINT, on_stop, &st);
	ev_hup = evsignal_new(base, SIGHUP, on_reload, &st);
	event_add(ev_term, NULL);
	event_add(ev_int, NULL);
	event_add(ev_hup, NULL);
	ev_usr1 = evsignal_new(base, SIGUSR1, on_reopen, &st);
	event_add(ev_usr1, NULL);
	st.poll_ev = event_new(base, -1, EV_PERSIST, on_poll, &st);
	struct timeval poll_tv = {ACCESS_POLL_MS / 1000, (ACCESS_POLL_MS % 1000) * 1000};
	event_add(st.poll_ev, &poll_tv);
	on_poll(-1, 0, &st); /* notes where the change log is now */
	/* Step 2, every thread at once (TSYNC): the pools are running now. */
	int seccomp = st.conf.sandbox ? net_sandbox_seccomp() : 0;
	if (seccomp < 0)
		log_warn("server", "event=seccomp-failed err=\"%s\"", strerror(errno));
	if (st.conf.sandbox)
		log_info("server", "event=sandbox landlock=%s%d seccomp=%s",
		         landlock > 0 ? "abi" : "", landlock > 0 ? landlock : 0,
		         seccomp > 0 ? "on" : "off");
	else
		log_info("server", "event=sandbox landlock=off seccomp=off reason=server.sandbox");
	sandbox_probe();
	log_info("server", "event=started version=%s dir=%s%s", TERN_VERSION, data_dir,
	         started.data != NULL ? started.data : "");
	st.store = store;
	collect_pool = net_jobs_new(1);
	net_jobs_submit(collect_pool, base, collect_work, collect_done, &st);
	net_server_run(st.net);
	/* Only this thread takes signals (the others block them all); from
	   here on a second SIGTERM must not kill cleanup half-way, also once
	   freeing the signal events below restores the default actions. */
	sigset_t stop_signals;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGHUP);
	sigaddset(&stop_signals, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	log_info("server", "event=stopped");
	rc = 0;
out:
	if (ev_term != NULL) {
		event_free(ev_term);
		event_free(ev_int);
		event_free(ev_hup);
		event_free(ev_usr1);
	}
	st.is_stopping = true;
	net_jobs_free(&collect_pool);
	net_jobs_free(&jobs); /* may finish a poll: before the net is freed */
	net_jobs_free(&store_pool);
	net_jobs_free(&lookup_pool);
	/* Commands still running when the grace passed were cancelled as their
	   connections went (session_command_offload): this wait is short. */
	net_jobs_free(&query_pool);
	if (st.poll_ev != NULL)
		event_free(st.poll_ev);
	net_server_free(&st.net);
	imap_server_free(&st.imap);
	pop3_server_free(&st.pop3);
	http_server_free(&st.http);
	smtp_server_free(&st.smtp);
	smtp_outbound_stop(&outbound);
	smtp_queue_close(&queue);
	auth_service_free(&auth);
	store_close(&store);
	net_tls_unref(&tls);
	if (token_path != NULL)
		unlink(token_path);
	free(token_path);
	free(err);
	buf_deinit(&started);
	conf_free(&st.conf);
	return rc;
}
