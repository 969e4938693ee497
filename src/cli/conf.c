/* SPDX-License-Identifier: MIT */
/*
 * conf.c: the tern.conf key table. Every key the server reads is here with
 * its type, default and one line of documentation; lib/config.c does the
 * parsing and reports "file:line: message" for anything else.
 */
#include "cli/conf.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"
#include "lib/log.h"
#include "lib/util.h"
#include "smtp/smtp_mailauth.h"

#define F(field) offsetof(struct tern_conf, field)
#define DAY_MS   (86400000ull)

static const struct config_key keys[] = {
        {"server.hostname", CONFIG_STRING, F(hostname), "localhost", 0, 0, NULL,
         "Name the server gives itself (greeting, certificate)."},
        {"server.domain", CONFIG_STRING, F(domain), "localhost", 0, 0, NULL,
         "Default mail domain (the test account of `tern init`)."},
        {"server.listen", CONFIG_STRING, F(listen), "127.0.0.1", 0, 0, NULL,
         "Address every listener binds to (\"0.0.0.0\", \"::\" for all)."},
        {"server.port_base", CONFIG_UINT, F(port_base), "10000", 0, 60000, NULL,
         "Added to the standard ports (143, 993, ...) for ports left at 0; 0 gives the standard ports."},
        {"server.user", CONFIG_STRING, F(user), "", 0, 0, NULL,
         "When started as root, switch to this user after binding the ports (empty: stay)."},
        {"server.log_level", CONFIG_ENUM, F(log_level), "info", 0, 0, "debug|info|warn|error",
         "Least severe log level written."},
        {"server.syslog", CONFIG_BOOL, F(syslog), "no", 0, 0, NULL,
         "Also log to syslog (facility mail)."},
        {"server.log_file", CONFIG_STRING, F(log_file), "", 0, 0, NULL,
         "Log to this file (relative to the data directory or absolute) instead of stderr; SIGUSR1 reopens it (logrotate)."},
        {"server.workers", CONFIG_UINT, F(net.workers), "0", 0, 256, NULL,
         "Event-loop threads; 0 = one per core. Read at start only."},
        {"server.shutdown_grace", CONFIG_DURATION, F(shutdown_grace_ms), "10s", 0, DAY_MS, NULL,
         "On SIGTERM, how long running commands get before the process exits."},
        {"server.sandbox", CONFIG_BOOL, F(sandbox), "yes", 0, 0, NULL,
         "After start-up, confine the server: Landlock limits file access to the data directory, log file, certificates and system files read late; a seccomp allow-list limits system calls. Each where the kernel supports it; the log says which took effect. Read at start only."},
        {"server.query_workers", CONFIG_UINT, F(query_workers), "2", 0, 256, NULL,
         "Threads that run commands whose cost grows with the mailbox (IMAP SEARCH, SORT, THREAD, STORE, COPY, MOVE, EXPUNGE, LIST, CONVERT), off the event loops; 0 = on them. Read at start only."},
        {"server.slow_callback", CONFIG_DURATION, F(slow_callback_ms), "100ms", 0, DAY_MS, NULL,
         "An event-loop callback taking this long is logged with its sid and command; 0 = off."},
        {"tls.cert", CONFIG_STRING, F(tls_cert), "tls/cert.pem", 0, 0, NULL,
         "PEM certificate chain, relative to the data directory or absolute."},
        {"tls.key", CONFIG_STRING, F(tls_key), "tls/key.pem", 0, 0, NULL,
         "PEM private key. Re-read with the certificate on SIGHUP."},
        {"tls.client_ca", CONFIG_STRING, F(tls_client_ca), "", 0, 0, NULL,
         "PEM CA certificates for client certificates (SASL EXTERNAL); empty: none asked for."},
        {"limits.max_connections", CONFIG_UINT, F(net.max_connections), "10000", 1, 10000000, NULL,
         "Connections open at once, all listeners together."},
        {"limits.max_connections_per_ip", CONFIG_UINT, F(net.max_connections_per_ip), "100", 0,
         10000000, NULL, "Connections open at once from one address; 0 = no limit."},
        {"limits.max_output", CONFIG_SIZE, F(net.max_output), "1m", 4096, 1ull << 30, NULL,
         "Bytes queued to a slow client before the server waits for it to read."},
        {"limits.max_memory", CONFIG_SIZE, F(net.max_memory), "0", 0, 1ull << 50, NULL,
         "Resident memory of the server over which it refuses new connections with a temporary error (IMAP BYE [UNAVAILABLE], POP3 -ERR [SYS/TEMP], SMTP 421 4.3.2, HTTP 503) and answers big IMAP commands NO [UNAVAILABLE]; sampled every 250 ms; 0 = no limit."},
        {"imap.enabled", CONFIG_BOOL, F(imap_enabled), "yes", 0, 0, NULL,
         "Run the IMAP listeners."},
        {"imap.port", CONFIG_UINT, F(imap_port), "0", 0, 65535, NULL,
         "IMAP with STARTTLS; 0 = port_base + 143."},
        {"imap.tls_port", CONFIG_UINT, F(imaps_port), "0", 0, 65535, NULL,
         "IMAP over implicit TLS; 0 = port_base + 993."},
        {"imap.max_line", CONFIG_SIZE, F(imap.max_line), "64k", 1024, 16ull << 20, NULL,
         "Longest command line, literals excluded (RFC 2683 section 3.2.1.5 asks for at least 8000)."},
        {"imap.max_literal", CONFIG_SIZE, F(imap.max_literal), "64m", 1024, 4ull << 30, NULL,
         "Largest literal, and so the largest message APPEND accepts."},
        {"imap.max_line_before_login", CONFIG_SIZE, F(imap.max_line_before_login), "32k", 1024,
         16ull << 20, NULL,
         "Longest command line before login: the largest ID RFC 2971 section 3.3 allows (30 fields of 1024 octets), LOGIN, AUTHENTICATE with an OAUTHBEARER token."},
        {"imap.max_literal_before_login", CONFIG_SIZE, F(imap.max_literal_before_login), "8k", 256,
         16ull << 20, NULL, "Literal bytes one command may carry before login (LOGIN needs few)."},
        {"imap.max_command_literals", CONFIG_SIZE, F(imap.max_command_literals), "1m", 1024,
         4ull << 30, NULL,
         "Literal bytes one command may hold in memory; APPEND messages stream to disk instead."},
        {"imap.max_session_memory", CONFIG_SIZE, F(imap.max_session_memory), "64m", 0, 16ull << 30,
         NULL,
         "Working memory a session's command may take (SEARCH, SORT and THREAD sets, CONVERT conversions, beside its literals); more is NO [LIMIT] (CONVERT: an error for the item); 0 = no limit."},
        {"imap.login_timeout", CONFIG_DURATION, F(imap.login_timeout_ms), "60s", 1000, DAY_MS, NULL,
         "Time allowed from connect to login, however the client trickles its bytes."},
        {"imap.idle_timeout", CONFIG_DURATION, F(imap.idle_timeout_ms), "30m", 1000, DAY_MS, NULL,
         "Idle time allowed after login (RFC 9051 section 5.4: at least 30 minutes)."},
        {"imap.shared_login_separator", CONFIG_STRING, F(imap_shared_login_separator), "/", 0, 0,
         NULL,
         "LOGIN as ADDRESS<sep>MAILBOX with ADDRESS's password opens a mailbox shared with "
         "ADDRESS as its INBOX (for clients that cannot browse namespaces); \"\" = off."},
        {"imap.max_bad_commands", CONFIG_UINT, F(imap.max_bad_commands), "20", 1, 100000, NULL,
         "Invalid commands in a row before the server says BYE."},
        {"imap.convert_max_messages", CONFIG_UINT, F(imap.convert_max_messages), "100", 1, 1000000,
         NULL,
         "Messages one CONVERT may convert (RFC 5259 section 8.5); more is NO [MAXCONVERTMESSAGES n]."},
        {"imap.convert_max_parts", CONFIG_UINT, F(imap.convert_max_parts), "10", 1, 64, NULL,
         "Body parts of a message one CONVERT may convert (RFC 5259 section 8.5); more is NO [MAXCONVERTPARTS n]."},
        {"imap.literal_minus", CONFIG_BOOL, F(imap.literal_minus), "no", 0, 0, NULL,
         "Advertise LITERAL- instead of LITERAL+: non-synchronising literals over 4096 bytes "
         "get BAD [TOOBIG] (RFC 7888 section 5)."},
        {"imap.user_setquota", CONFIG_BOOL, F(imap.user_setquota), "no", 0, 0, NULL,
         "Users may set their own quota with SETQUOTA (RFC 9208); otherwise only an "
         "administrator logged in as the user through a master login may."},
        {"imap.metadata_max_size", CONFIG_SIZE, F(imap.metadata_max_size), "64k", 1024, 16ull << 20,
         NULL,
         "Largest METADATA value (RFC 5464; at least 1024): larger is NO [METADATA MAXSIZE]."},
        {"imap.metadata_max_entries", CONFIG_UINT, F(imap.metadata_max_entries), "100", 10, 1000000,
         NULL,
         "METADATA entries per mailbox, and on the server, per account (at least 10): more is NO "
         "[METADATA TOOMANY]."},
        {"imap.annotation_max_size", CONFIG_SIZE, F(imap.annotation_max_size), "64k", 1024,
         16ull << 20, NULL,
         "Largest message annotation value (ANNOTATE, RFC 5257; at least 1024): larger is NO "
         "[ANNOTATE TOOBIG]; SELECT announces it as [ANNOTATIONS n]."},
        {"imap.annotation_max_entries", CONFIG_UINT, F(imap.annotation_max_entries), "100", 4,
         1000000, NULL,
         "Annotations per message a user sees (each entry's value.shared and that user's "
         "value.priv count one each; at least 4): more is NO [ANNOTATE TOOMANY]."},
        {"imap.metadata_private", CONFIG_BOOL, F(imap.metadata_private), "yes", 0, 0, NULL,
         "Users may set /private METADATA entries; no: NO [METADATA NOPRIVATE]."},
        {"imap.metadata_admin", CONFIG_STRING, F(imap_metadata_admin), "", 0, 0, NULL,
         "The server's /shared/admin METADATA entry, a URI (mailto:postmaster@example.org); "
         "empty: none."},
        {"pop3.enabled", CONFIG_BOOL, F(pop3_enabled), "yes", 0, 0, NULL,
         "Run the POP3 listeners."},
        {"pop3.port", CONFIG_UINT, F(pop3_port), "0", 0, 65535, NULL,
         "POP3 with STLS; 0 = port_base + 110."},
        {"pop3.tls_port", CONFIG_UINT, F(pop3s_port), "0", 0, 65535, NULL,
         "POP3 over implicit TLS; 0 = port_base + 995."},
        {"pop3.login_timeout", CONFIG_DURATION, F(pop3.login_timeout_ms), "60s", 1000, DAY_MS, NULL,
         "Time allowed from connect to login, however the client trickles its bytes."},
        {"pop3.idle_timeout", CONFIG_DURATION, F(pop3.idle_timeout_ms), "10m", 600000, DAY_MS, NULL,
         "Idle time allowed after login (RFC 1939 section 3: at least 10 minutes)."},
        {"pop3.max_bad_commands", CONFIG_UINT, F(pop3.max_bad_commands), "20", 1, 100000, NULL,
         "Invalid commands in a row before the server ends the session."},
        {"pop3.login_delay", CONFIG_DURATION, F(pop3_login_delay_ms), "0", 0, DAY_MS, NULL,
         "Shortest time between two POP3 logins of one account (RFC 2449 LOGIN-DELAY); 0 = any."},
        {"pop3.expire", CONFIG_ENUM, F(pop3_expire), "never", 0, 0, "never|0",
         "RFC 2449 EXPIRE: never, or 0 (messages read with RETR are removed at QUIT)."},
        {"pop3.retr_sets_seen", CONFIG_BOOL, F(pop3.retr_sets_seen), "no", 0, 0, NULL,
         "Messages read with RETR get \\Seen for IMAP clients (applied at QUIT)."},
        {"http.enabled", CONFIG_BOOL, F(http_enabled), "yes", 0, 0, NULL,
         "Run the HTTP listeners (autoconfiguration, MTA-STS, /metrics, admin API and page)."},
        {"http.port", CONFIG_UINT, F(http_port), "0", 0, 65535, NULL, "HTTP; 0 = port_base + 80."},
        {"http.tls_port", CONFIG_UINT, F(https_port), "0", 0, 65535, NULL,
         "HTTPS (implicit TLS, the tls.* certificate); 0 = port_base + 443."},
        {"http.timeout", CONFIG_DURATION, F(http.timeout_ms), "30s", 1000, DAY_MS, NULL,
         "Idle time allowed while a request arrives and between requests of a connection."},
        {"http.max_line", CONFIG_SIZE, F(http.max_line), "8k", 256, 1ull << 20, NULL,
         "Longest request line or header field line (414 or 431 beyond)."},
        {"http.max_head", CONFIG_SIZE, F(http.max_head), "64k", 1024, 16ull << 20, NULL,
         "All header field lines of a request together (431 beyond)."},
        {"http.max_body", CONFIG_SIZE, F(http.max_body), "1m", 0, 1ull << 30, NULL,
         "Largest request body (413 beyond)."},
        {"http.metrics", CONFIG_ENUM, F(http.metrics_access), "loopback", 0, 0,
         "never|loopback|any", "Who may read /metrics: nobody, loopback clients, or anyone."},
        {"http.metrics_top", CONFIG_UINT, F(http.metrics_top), "10", 0, 1000, NULL,
         "/metrics lists this many of the largest accounts (storage, messages); 0 = none."},
        {"http.usage_interval", CONFIG_DURATION, F(http.usage_interval_ms), "5m", 1000, DAY_MS,
         NULL,
         "How old the store census behind /metrics' store figures may get before a "
         "scrape starts a new one (in the background)."},
        {"http.sign_mobileconfig", CONFIG_BOOL, F(http.sign_mobileconfig), "yes", 0, 0, NULL,
         "Sign Apple .mobileconfig profiles (CMS) with the tls.cert certificate and key, so "
         "devices show who made them; no: unsigned."},
        {"http.mta_sts_mode", CONFIG_ENUM, F(http.mta_sts_mode), "testing", 0, 0,
         "none|testing|enforce", "The mode of the MTA-STS policy served (RFC 8461)."},
        {"http.mta_sts_max_age", CONFIG_DURATION, F(http_mta_sts_max_age_ms), "7d", 86400000,
         31557600000ull, NULL, "How long senders may cache the MTA-STS policy."},
        {"smtp.enabled", CONFIG_BOOL, F(smtp_enabled), "yes", 0, 0, NULL,
         "Run the SMTP (MX) listener: mail for the local domains only."},
        {"smtp.port", CONFIG_UINT, F(smtp_port), "0", 0, 65535, NULL,
         "SMTP with STARTTLS (MX role); 0 = port_base + 25."},
        {"smtp.domains", CONFIG_STRING, F(smtp.domains), "", 0, 0, NULL,
         "Local mail domains, space-separated; empty: server.domain. Mail for others is refused (no relay)."},
        {"smtp.max_line", CONFIG_SIZE, F(smtp.max_line), "16k", 512, 1ull << 20, NULL,
         "Longest command line (RFC 5321 asks for 512, RFC 4954 for 12288 with AUTH)."},
        {"smtp.max_message_size", CONFIG_SIZE, F(smtp.max_message_size), "64m", 1024, 4ull << 30,
         NULL,
         "Largest message (SIZE, refused at MAIL when declared bigger); at most store.max_message_size."},
        {"smtp.max_recipients", CONFIG_UINT, F(smtp.max_recipients), "100", 1, 100000, NULL,
         "Recipients per message; more get 452 4.5.3 (RFC 5321 asks for at least 100)."},
        {"smtp.max_errors", CONFIG_UINT, F(smtp.max_errors), "20", 1, 100000, NULL,
         "Bad commands per session before 421 and disconnect."},
        {"smtp.max_junk_commands", CONFIG_UINT, F(smtp.max_junk_commands), "50", 1, 100000, NULL,
         "NOOP, RSET, VRFY, EXPN and HELP without a MAIL before 421 and disconnect."},
        {"smtp.timeout", CONFIG_DURATION, F(smtp.timeout_ms), "5m", 1000, DAY_MS, NULL,
         "Idle time allowed for a client (RFC 5321 section 4.5.3.2: 5 minutes)."},
        {"smtp.quota_temporary", CONFIG_BOOL, F(smtp.quota_temporary), "yes", 0, 0, NULL,
         "Over quota answers 452 4.2.2 (the sender retries) rather than 552 5.2.2 (bounce)."},
        {"smtp.subaddress_separator", CONFIG_STRING, F(smtp.subaddress_separator), "+", 0, 0, NULL,
         "user+tag@domain delivers to user@domain; empty: no sub-addressing."},
        {"smtp.subaddress_folder", CONFIG_BOOL, F(smtp.subaddress_folder), "no", 0, 0, NULL,
         "Deliver user+tag@domain into folder \"tag\" when it exists (else INBOX)."},
        {"smtp.lookup_workers", CONFIG_UINT, F(smtp_lookup_workers), "2", 1, 256, NULL,
         "Threads that resolve MAIL's and RCPT's addresses (account, quota) for SMTP, submission "
         "and LMTP, apart from auth.workers' password checks: a login storm does not hold up "
         "deliveries. Read at start only."},
        {"mailauth.enabled", CONFIG_BOOL, F(smtp.mailauth), "yes", 0, 0, NULL,
         "Check SPF, DKIM and DMARC of mail arriving at the MX and prepend Authentication-Results (RFC 8601)."},
        {"mailauth.failure", CONFIG_ENUM, F(smtp.mailauth_failure), "dmarc", 0, 0,
         "dmarc|deliver|junk|reject",
         "What to do with mail failing DMARC: what the sender's p= asks (reject, quarantine into Junk, none), deliver, deliver into Junk, or reject (550 5.7.26)."},
        {"mailauth.domains", CONFIG_STRING, F(smtp.mailauth_domains), "", 0, 0, NULL,
         "Per recipient domain actions overriding mailauth.failure, \"DOMAIN:ACTION ...\"."},
        {"mailauth.public_suffix_list", CONFIG_STRING, F(smtp.mailauth_psl),
         "/usr/share/publicsuffix/public_suffix_list.dat", 0, 0, NULL,
         "The public suffix list DMARC finds organizational domains with (RFC 7489 section 3.2; Debian's publicsuffix); missing: each domain is its own."},
        {"submission.enabled", CONFIG_BOOL, F(submission_enabled), "yes", 0, 0, NULL,
         "Run the submission listeners (AUTH required, RFC 6409 and RFC 8314)."},
        {"submission.port", CONFIG_UINT, F(submission_port), "0", 0, 65535, NULL,
         "Submission with STARTTLS; 0 = port_base + 587."},
        {"submission.tls_port", CONFIG_UINT, F(submissions_port), "0", 0, 65535, NULL,
         "Submission over implicit TLS; 0 = port_base + 465."},
        {"submission.login_timeout", CONFIG_DURATION, F(smtp.login_timeout_ms), "60s", 1000, DAY_MS,
         NULL, "Time allowed from connect to AUTH, however the client trickles its bytes."},
        {"lmtp.enabled", CONFIG_BOOL, F(lmtp_enabled), "yes", 0, 0, NULL,
         "Run the LMTP listener (RFC 2033), for delivery from Postfix or Exim."},
        {"lmtp.port", CONFIG_UINT, F(lmtp_port), "0", 0, 65535, NULL,
         "LMTP over TCP; 0 = port_base + 24."},
        {"lmtp.socket", CONFIG_STRING, F(lmtp_socket), "", 0, 0, NULL,
         "Also LMTP on this Unix socket (relative to the data directory); empty: none."},
        {"delivery.enabled", CONFIG_BOOL, F(delivery_enabled), "yes", 0, 0, NULL,
         "Run the queue runner: deliver queued mail to remote hosts."},
        {"delivery.relayhost", CONFIG_STRING, F(outbound.relayhost), "", 0, 0, NULL,
         "Send all remote mail through this smarthost, HOST:PORT; empty: to each domain's MX."},
        {"delivery.relay_user", CONFIG_STRING, F(outbound.relay_user), "", 0, 0, NULL,
         "AUTH PLAIN/LOGIN name at the relayhost; empty: no AUTH."},
        {"delivery.relay_password_file", CONFIG_STRING, F(relay_password_file), "", 0, 0, NULL,
         "File holding the relayhost password (first line), relative to the data directory."},
        {"delivery.mx_port", CONFIG_UINT, F(outbound.mx_port), "25", 1, 65535, NULL,
         "Port used on remote MX hosts."},
        {"delivery.workers", CONFIG_UINT, F(outbound.workers), "4", 1, 256, NULL,
         "Deliveries running at once (threads)."},
        {"delivery.per_domain", CONFIG_UINT, F(outbound.per_domain), "2", 1, 1000, NULL,
         "Connections open at once to one destination domain (or the relayhost)."},
        {"delivery.mta_sts", CONFIG_BOOL, F(outbound.mta_sts), "yes", 0, 0, NULL,
         "Apply receivers' MTA-STS policies (RFC 8461): fetched over HTTPS, cached in DIR/mta-sts; enforce mode requires an MX of the policy and TLS with a valid certificate."},
        {"delivery.mta_sts_port", CONFIG_UINT, F(outbound.mta_sts_port), "443", 1, 65535, NULL,
         "Port of the MTA-STS policy hosts (https://mta-sts.DOMAIN); only tests use another."},
        {"delivery.ca_file", CONFIG_STRING, F(delivery_ca_file), "", 0, 0, NULL,
         "PEM file of CAs trusted beside the system's for remote MX, MTA-STS and TLS-RPT HTTPS certificates (relative to the data directory); empty: the system's only."},
        {"delivery.dane", CONFIG_BOOL, F(outbound.dane), "yes", 0, 0, NULL,
         "DANE (RFC 7672): an MX host with DNSSEC-validated TLSA records gets TLS verified against them, or no mail; needs dns.trust_anchor_file."},
        {"delivery.tlsrpt", CONFIG_BOOL, F(outbound.tlsrpt), "no", 0, 0, NULL,
         "TLS-RPT (RFC 8460): count each MX session's TLS outcome per recipient domain in DIR/tlsrpt.db and send each day's report to the domains that publish a _smtp._tls record (by mail and HTTPS POST), within the hour after the day ends (UTC). Off by default: reports name this server's MX sessions to others."},
        {"delivery.tlsrpt_organization", CONFIG_STRING, F(outbound.tlsrpt_organization), "", 0, 0,
         NULL, "organization-name of the TLS-RPT reports; empty: server.domain."},
        {"delivery.tlsrpt_contact", CONFIG_STRING, F(outbound.tlsrpt_contact), "", 0, 0, NULL,
         "contact-info of the TLS-RPT reports; empty: postmaster@DOMAIN (server.domain)."},
        {"delivery.tlsrpt_from", CONFIG_STRING, F(outbound.tlsrpt_from), "", 0, 0, NULL,
         "Sender (From: and envelope) of TLS-RPT report mail, DKIM-signed with its domain's keys; empty: noreply-tlsrpt@DOMAIN (server.domain)."},
        {"delivery.timeout", CONFIG_DURATION, F(outbound.timeout_ms), "2m", 1000, DAY_MS, NULL,
         "Each connect, read and write of a delivery."},
        {"queue.retry_first", CONFIG_DURATION, F(outbound.retry_first_ms), "5m", 1000, DAY_MS, NULL,
         "Wait after the first temporary failure; doubles with each further one."},
        {"queue.retry_max", CONFIG_DURATION, F(outbound.retry_max_ms), "4h", 1000, DAY_MS, NULL,
         "Longest wait between two attempts."},
        {"queue.max_age", CONFIG_DURATION, F(outbound.max_age_ms), "5d", 0, 365 * DAY_MS, NULL,
         "After this long in the queue a temporary failure becomes permanent."},
        {"queue.delay_warning", CONFIG_DURATION, F(outbound.delay_warning_ms), "4h", 0,
         365 * DAY_MS, NULL,
         "A message still undelivered after this gets one delay DSN (for NOTIFY=DELAY); 0 = none."},
        {"dns.nameservers", CONFIG_STRING, F(dns_nameservers), "", 0, 0, NULL,
         "Resolvers for MX, SPF, DKIM and DMARC lookups, \"IP[:PORT] ...\"; empty: those of /etc/resolv.conf."},
        {"dns.trust_anchor_file", CONFIG_STRING, F(dns_trust_anchor_file), "", 0, 0, NULL,
         "DNSSEC trust anchors (DS or DNSKEY records; Debian's dns-root-data has /usr/share/dns/root.key) for validating answers, as DANE needs; empty: nothing is validated. The resolvers must pass DNSSEC records through."},
        {"store.max_message_size", CONFIG_SIZE, F(store.max_message_size), "64m", 1024, 4ull << 30,
         NULL, "Largest message stored (after CRLF normalisation)."},
        {"store.quota_storage", CONFIG_SIZE, F(store.quota_storage), "0", 0, 0, NULL,
         "Storage quota given to new accounts, bytes; 0 = none."},
        {"store.quota_messages", CONFIG_UINT, F(store.quota_messages), "0", 0, 0, NULL,
         "Message-count quota given to new accounts; 0 = none."},
        {"store.quota_mailboxes", CONFIG_UINT, F(store.quota_mailboxes), "0", 0, 0, NULL,
         "Mailbox-count quota given to new accounts (RFC 9208 MAILBOX); 0 = none."},
        {"store.inline_max", CONFIG_SIZE, F(store.inline_max), "64k", 0, 16ull << 20, NULL,
         "Messages up to this size are stored inside index.db (one fsync per APPEND), larger ones as files; 0 = all files."},
        {"store.spool_memory", CONFIG_SIZE, F(store.spool_memory), "64m", 0, 1ull << 40, NULL,
         "Arriving messages small enough to be stored inline are held in memory, this much in all; past it, and with 0, each one over 4 KiB goes through a temporary file."},
        {"store.view_cache", CONFIG_SIZE, F(store.view_cache_bytes), "64m", 1024 * 1024, 1ull << 40,
         NULL, "Memory per account for mailbox views no session uses (LRU)."},
        {"store.max_idle_connections", CONFIG_UINT, F(store.max_idle_dbs), "256", 1, 1u << 20,
         NULL,
         "Database connections kept open unused, all accounts together (~200 KiB each); past it the least recently used closes at once instead of after idle_close."},
        {"store.account_linger", CONFIG_DURATION, F(store.linger_ms), "2m", 0, DAY_MS, NULL,
         "An account whose last session ended keeps its mailbox views this long, so a client that logs in again (webmail connects for each page) opens them warm; 0 = not at all."},
        {"store.account_linger_memory", CONFIG_SIZE, F(store.linger_bytes), "64m", 1024 * 1024,
         1ull << 40, NULL,
         "Memory for the views of all lingering accounts together; past it the least recently closed account goes."},
        {"store.sqlite_memory", CONFIG_SIZE, F(store.sqlite_memory), "64m", 0, 1ull << 40, NULL,
         "Memory for SQLite in all (page caches, schemas, statements): past it the page caches recycle pages instead of growing; 0 = no bound."},
        {"store.sqlite_mmap", CONFIG_SIZE, F(store.sqlite_mmap), "0", 0, 1ull << 40, NULL,
         "How much of each index.db a database connection maps into memory; 0 = none, pages are read into the page caches (store.sqlite_memory). Mapped pages are not copied, but count in the server's resident size (ImapTest's mix: 212 vs 122 MiB PSS at the same rate; webmail page loads 12% faster with 256m)."},
        {"store.idle_close", CONFIG_DURATION, F(store.pool_idle_ms), "30s", 1000, DAY_MS, NULL,
         "An account's database connection unused this long is closed (an account whose sessions only IDLE then costs a few KiB)."},
        {"auth.plaintext", CONFIG_ENUM, F(auth.s.plaintext), "loopback", 0, 0,
         "never|loopback|always",
         "Where passwords may be sent without TLS: never, only from loopback, or always."},
        {"auth.apop", CONFIG_BOOL, F(auth.s.apop), "no", 0, 0, NULL,
         "Keep each password's plaintext equivalent (from its next change or login) and offer POP3 APOP; whoever reads accounts.db can then log in as anyone."},
        {"auth.fail_delay", CONFIG_DURATION, F(auth.s.fail_delay_ms), "2s", 0, 60000, NULL,
         "How long the answer to a failed login waits (the first three failures in a row)."},
        {"auth.max_fail_delay", CONFIG_DURATION, F(auth.max_fail_delay_ms), "15s", 0, 300000, NULL,
         "After three failures the delay doubles with each failure, up to this."},
        {"auth.block_after_ip", CONFIG_UINT, F(auth.block_after_ip), "20", 0, 1000000, NULL,
         "Failed logins from one IP within fail_window that block it for block_time; 0 = never."},
        {"auth.block_after_account", CONFIG_UINT, F(auth.block_after_account), "50", 0, 1000000,
         NULL,
         "Failed logins on one account (from anywhere) that block it for block_time; 0 = never."},
        {"auth.block_time", CONFIG_DURATION, F(auth.block_time_ms), "15m", 1000, DAY_MS, NULL,
         "How long a blocked IP or account is refused."},
        {"auth.fail_window", CONFIG_DURATION, F(auth.fail_window_ms), "15m", 1000, DAY_MS, NULL,
         "Failures are forgotten after this long without another."},
        {"auth.cache_size", CONFIG_UINT, F(auth.cache_size), "100000", 0, 10000000, NULL,
         "Accounts whose last successful password login is remembered, so the next one costs an HMAC instead of a password hash; 0 = off (docs/AUTH.md)."},
        {"auth.cache_ttl", CONFIG_DURATION, F(auth.cache_ttl_ms), "1h", 0, DAY_MS, NULL,
         "How long a remembered login stays valid; 0 = off. A password change ends it at once."},
        {"auth.mechanisms", CONFIG_STRING, F(auth.mechanisms),
         "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-1-PLUS SCRAM-SHA-256 SCRAM-SHA-256-PLUS "
         "OAUTHBEARER XOAUTH2 GSSAPI GS2-KRB5",
         0, 0, NULL,
         "SASL mechanisms offered (also DIGEST-MD5, EXTERNAL, ANONYMOUS); see docs/AUTH.md."},
        {"auth.gssapi_keytab", CONFIG_STRING, F(auth.gssapi_keytab), "", 0, 0, NULL,
         "Kerberos keytab with the service keys (relative to the data directory or absolute); GSSAPI and GS2-KRB5 are offered while it is readable. Empty: off. The path is read at start only, the file at each login."},
        {"auth.gssapi_hostname", CONFIG_STRING, F(auth.gssapi_hostname), "", 0, 0, NULL,
         "Host part of the service principals (SERVICE/HOST@REALM); empty: server.hostname."},
        {"auth.gssapi_service_imap", CONFIG_STRING, F(auth.gssapi_service[AUTH_PROTO_IMAP]), "imap",
         0, 0, NULL,
         "Kerberos service name of IMAP (RFC 9051 section 6.2.2); empty: no Kerberos for IMAP."},
        {"auth.gssapi_service_pop3", CONFIG_STRING, F(auth.gssapi_service[AUTH_PROTO_POP3]), "pop",
         0, 0, NULL,
         "Kerberos service name of POP3 (RFC 5034 section 4); empty: no Kerberos for POP3."},
        {"auth.gssapi_service_smtp", CONFIG_STRING, F(auth.gssapi_service[AUTH_PROTO_SMTP]), "smtp",
         0, 0, NULL,
         "Kerberos service name of submission (RFC 4954 section 4); empty: no Kerberos for submission."},
        {"auth.gssapi_realms", CONFIG_STRING, F(auth.gssapi_realms), "", 0, 0, NULL,
         "Realms whose principals log in as accounts, \"REALM=domain ...\": name@REALM is the account name@domain."},
        {"auth.gssapi_map", CONFIG_STRING, F(auth.gssapi_map), "", 0, 0, NULL,
         "File of \"principal address\" lines, looked at before auth.gssapi_realms (relative to the data directory or absolute); the path is read at start only, the file again on SIGHUP."},
        {"auth.master_users", CONFIG_STRING, F(auth.master_users), "", 0, 0, NULL,
         "Accounts that may log in as any user with \"user*master\" and their own password."},
        {"auth.master_separator", CONFIG_STRING, F(auth.master_separator), "*", 0, 0, NULL,
         "Separates the user from the master user in a login name."},
        {"auth.anonymous_account", CONFIG_STRING, F(auth.anonymous_account), "", 0, 0, NULL,
         "Account that SASL ANONYMOUS logs in to; empty: ANONYMOUS is not offered."},
        {"auth.digest_realm", CONFIG_STRING, F(auth.digest_realm), "", 0, 0, NULL,
         "DIGEST-MD5 realm (empty: server.hostname); keys are made for it at passwd time."},
        {"auth.scram_iterations", CONFIG_UINT, F(auth.scram_iterations), "4096", 4096, 10000000,
         NULL, "PBKDF2 iterations for new SCRAM keys (RFC 7677: at least 4096)."},
        {"auth.workers", CONFIG_UINT, F(auth_workers), "2", 1, 256, NULL,
         "Threads that check passwords (slow by design), off the event loops."},
        {"store.writers", CONFIG_UINT, F(store_writers), "4", 1, 256, NULL,
         "Threads that commit arriving messages (fsync), off the event loops."},
        {"oauth.issuer", CONFIG_STRING, F(auth.oauth_issuer), "", 0, 0, NULL,
         "Required \"iss\" of bearer tokens (OAUTHBEARER, XOAUTH2); empty: not checked."},
        {"oauth.audience", CONFIG_STRING, F(auth.oauth_audience), "", 0, 0, NULL,
         "Value that must be in a token's \"aud\"; empty: not checked."},
        {"oauth.claim", CONFIG_STRING, F(auth.oauth_claim), "email", 0, 0, NULL,
         "Claim that names the account (its address)."},
        {"oauth.hs256_secret_file", CONFIG_STRING, F(auth.oauth_hs256_secret_file), "", 0, 0, NULL,
         "File holding the HS256 secret (at least 32 bytes); empty: no HS256."},
        {"oauth.public_keys_file", CONFIG_STRING, F(auth.oauth_public_keys_file), "", 0, 0, NULL,
         "PEM public keys (RSA for RS256, P-256 for ES256); empty: none. OAuth is offered when a key is set."},
        {"oauth.configuration_url", CONFIG_STRING, F(auth.oauth_configuration_url), "", 0, 0, NULL,
         "OpenID configuration URL given to clients in the RFC 7628 error."},
        {"oauth.leeway", CONFIG_DURATION, F(auth.oauth_leeway_ms), "60s", 0, 3600000, NULL,
         "Clock skew allowed on a token's exp and nbf."},
};

int
conf_load(const char *data_dir, struct tern_conf *conf, char **error_out)
{
	char *path = xasprintf("%s/tern.conf", data_dir);

	/* Zeroed first: not every field has a key (conf->http's ports are set
	   only for the protocols that are on, conf_http_settings()), and the
	   callers' structs live on the stack. */
	*conf = (struct tern_conf){0};
	store_settings_defaults(&conf->store);
	config_defaults(keys, ARRAY_LEN(keys), conf);
	int rc = config_load(path, keys, ARRAY_LEN(keys), conf, error_out);
	free(path);
	if (rc < 0) {
		config_free(keys, ARRAY_LEN(keys), conf);
		return -1;
	}
	if (conf->imap_port == 0)
		conf->imap_port = conf->port_base + 143;
	if (conf->imaps_port == 0)
		conf->imaps_port = conf->port_base + 993;
	if (conf->pop3_port == 0)
		conf->pop3_port = conf->port_base + 110;
	if (conf->pop3s_port == 0)
		conf->pop3s_port = conf->port_base + 995;
	if (conf->http_port == 0)
		conf->http_port = conf->port_base + 80;
	if (conf->https_port == 0)
		conf->https_port = conf->port_base + 443;
	conf->http.mta_sts_max_age_s = conf->http_mta_sts_max_age_ms / 1000;
	conf->imap.tls_port = conf->imap_enabled ? (uint16_t)conf->imaps_port : 0;
	snprintf(conf->imap.metadata_admin, sizeof(conf->imap.metadata_admin), "%s",
	         conf->imap_metadata_admin);
	const char *sep = conf->imap_shared_login_separator;
	if (strlen(sep) >= sizeof(conf->imap.shared_login_separator) || strchr(sep, ' ') != NULL ||
	    strchr(sep, '@') != NULL) {
		*error_out =
		        xasprintf("%s/tern.conf: imap.shared_login_separator must be up to %zu "
		                  "characters, no space or '@'",
		                  data_dir, sizeof(conf->imap.shared_login_separator) - 1);
		config_free(keys, ARRAY_LEN(keys), conf);
		return -1;
	}
	snprintf(conf->imap.shared_login_separator, sizeof(conf->imap.shared_login_separator), "%s",
	         sep);
	conf->pop3.tls_port = conf->pop3_enabled ? (uint16_t)conf->pop3s_port : 0;
	conf->pop3.login_delay_s = (conf->pop3_login_delay_ms + 999) / 1000;
	conf->pop3.expire_days = conf->pop3_expire == 0 ? -1 : 0;
	if (conf->smtp_port == 0)
		conf->smtp_port = conf->port_base + 25;
	if (conf->submission_port == 0)
		conf->submission_port = conf->port_base + 587;
	if (conf->submissions_port == 0)
		conf->submissions_port = conf->port_base + 465;
	if (conf->lmtp_port == 0)
		conf->lmtp_port = conf->port_base + 24;
	conf->smtp.hostname = conf->hostname; /* borrowed */
	conf->smtp.default_domain = conf->domain;
	if (conf->smtp.max_message_size > conf->store.max_message_size)
		conf->smtp.max_message_size = conf->store.max_message_size;
	conf->auth.hostname = conf->hostname; /* borrowed, not a key of its own */
	conf->outbound.hostname = conf->hostname;
	conf->outbound.nameservers = conf->dns_nameservers;
	conf->smtp.nameservers = conf->dns_nameservers; /* borrowed */
	conf->outbound.relay_password = "";
	/* The TLS-RPT identity defaults to the mail domain (RFC 8460 section
	   4.1: who reports; section 5.3: who sends). */
	struct {
		const char **field;
		const char *local; /* NULL: the domain itself */
	} ids[] = {{&conf->outbound.tlsrpt_organization, NULL},
	           {&conf->outbound.tlsrpt_contact, "postmaster"},
	           {&conf->outbound.tlsrpt_from, "noreply-tlsrpt"}};
	for (size_t i = 0; i < ARRAY_LEN(ids); i++) {
		if ((*ids[i].field)[0] != '\0')
			continue;
		free((char *)*ids[i].field);
		*ids[i].field = ids[i].local != NULL ? xasprintf("%s@%s", ids[i].local, conf->domain)
		                                     : xstrdup(conf->domain);
	}
	char **paths[] = {&conf->auth.oauth_hs256_secret_file,
	                  &conf->auth.oauth_public_keys_file,
	                  &conf->auth.gssapi_keytab,
	                  &conf->auth.gssapi_map,
	                  &conf->tls_client_ca,
	                  &conf->lmtp_socket,
	                  &conf->relay_password_file,
	                  &conf->delivery_ca_file,
	                  &conf->dns_trust_anchor_file};
	for (size_t i = 0; i < ARRAY_LEN(paths); i++) {
		if ((*paths[i])[0] != '\0') {
			char *abs = conf_path(data_dir, *paths[i]);
			free(*paths[i]);
			*paths[i] = abs;
		}
	}
	if (conf->imap_port > 65535 || conf->imaps_port > 65535 || conf->pop3_port > 65535 ||
	    conf->pop3s_port > 65535 || conf->smtp_port > 65535 || conf->submission_port > 65535 ||
	    conf->submissions_port > 65535 || conf->lmtp_port > 65535 || conf->http_port > 65535 ||
	    conf->https_port > 65535) {
		*error_out = xasprintf("%s/tern.conf: port_base %llu puts ports past 65535",
		                       data_dir, (unsigned long long)conf->port_base);
		config_free(keys, ARRAY_LEN(keys), conf);
		return -1;
	}
	conf->outbound.ca_file = conf->delivery_ca_file; /* borrowed, made absolute */
	conf->outbound.trust_anchor_file = conf->dns_trust_anchor_file;
	conf->smtp.hold_dir = conf->hold_dir = conf_path(data_dir, "tmp");
	struct smtp_mailauth_policy policy = {0};
	char *perr = NULL;
	if (smtp_mailauth_policy_parse(conf->smtp.mailauth_domains, &policy, &perr) < 0) {
		*error_out = xasprintf("%s/tern.conf: %s", data_dir, perr);
		free(perr);
		conf_free(conf);
		return -1;
	}
	smtp_mailauth_policy_deinit(&policy);
	return 0;
}

struct http_settings
conf_http_settings(const struct tern_conf *conf)
{
	struct http_settings h = conf->http;

	h.hostname = conf->hostname;
	if (conf->imap_enabled) {
		h.imap_port = (uint16_t)conf->imap_port;
		h.imaps_port = (uint16_t)conf->imaps_port;
	}
	if (conf->pop3_enabled) {
		h.pop3_port = (uint16_t)conf->pop3_port;
		h.pop3s_port = (uint16_t)conf->pop3s_port;
	}
	if (conf->submission_enabled) {
		h.submission_port = (uint16_t)conf->submission_port;
		h.submissions_port = (uint16_t)conf->submissions_port;
	}
	return h;
}

void
conf_free(struct tern_conf *conf)
{
	config_free(keys, ARRAY_LEN(keys), conf);
	free(conf->hold_dir);
	conf->hold_dir = NULL;
}

char *
conf_path(const char *data_dir, const char *path)
{
	return path[0] == '/' ? xstrdup(path) : xasprintf("%s/%s", data_dir, path);
}

/* Text for roff: a leading '.' or '\'' would be a request, '\\' an escape. */
static void
roff_text(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\e", stdout);
		else if (*s == '-')
			fputs("\\-", stdout);
		else
			putchar(*s);
	}
}

void
conf_print_man(void)
{
	const char *section = "";

	printf(".TH TERN.CONF 5 \"\" \"tern\" \"File Formats\"\n"
	       ".SH NAME\ntern.conf \\- configuration of the tern mail server\n"
	       ".SH DESCRIPTION\n"
	       "\\fBtern.conf\\fR lives in the data directory (\\fIDIR\\fR/tern.conf; "
	       "\\fI/var/lib/tern/tern.conf\\fR, a link to \\fI/etc/tern/tern.conf\\fR, after "
	       "\\fBmake install\\fR). It holds \\fB[section]\\fR headers and "
	       "\\fIkey\\fR = \\fIvalue\\fR lines; \\fB#\\fR starts a comment. Sizes take "
	       "k, m, g suffixes, durations ms, s, min, h, d. An unknown key or a bad value stops "
	       "\\fBtern serve\\fR with the file and line. SIGHUP reloads the file; listener "
	       "changes need a restart.\n");
	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		const struct config_key *k = &keys[i];
		const char *dot = strchr(k->name, '.');
		if (strncmp(section, k->name, (size_t)(dot - k->name + 1)) != 0) {
			printf(".SH [%.*s]\n", (int)(dot - k->name), k->name);
			section = k->name;
		}
		printf(".TP\n.B %s\n", dot + 1);
		roff_text(k->doc);
		printf(" Default: \\fB");
		roff_text(k->def[0] != '\0' ? k->def : "(empty)");
		printf("\\fR.");
		if (k->choices != NULL) {
			printf(" One of: ");
			roff_text(k->choices);
			printf(".");
		}
		printf("\n");
	}
	printf(".SH SEE ALSO\n.BR tern (8)\n");
}

void
conf_print_keys(void)
{
	const char *section = "";

	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		const struct config_key *k = &keys[i];
		const char *dot = strchr(k->name, '.');
		if (strncmp(section, k->name, (size_t)(dot - k->name + 1)) != 0) {
			printf("\n## [%.*s]\n\n| key | default | meaning |\n|---|---|---|\n",
			       (int)(dot - k->name), k->name);
			section = k->name;
		}
		printf("| `%s` | `%s` | %s", dot + 1, k->def, k->doc);
		if (k->choices != NULL) {
			/* A '|' would split the Markdown cell. */
			printf(" One of:");
			const char *c = k->choices;
			while (*c != '\0') {
				size_t n = strcspn(c, "|");
				printf(" `%.*s`", (int)n, c);
				c += n + (c[n] == '|');
			}
			printf(".");
		}
		printf(" |\n");
	}
}
