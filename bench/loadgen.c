/* SPDX-License-Identifier: MIT */
/*
 * loadgen.c: the event-driven load generator bench/run uses where no
 * standard tool drives the workload. One thread, one libevent loop, any
 * number of plain-TCP connections to a server on 127.0.0.1; every reply is
 * checked, and a wrong answer counts as a failure however fast it came.
 *
 *   loadgen idle -p IMAP_PORT -l LMTP_PORT -a ACCOUNTS -n CONNS [options]
 *     The idle fleet. CONNS connections, connection k logged in as account
 *     FIRST + k % ACCOUNTS: LOGIN, SELECT INBOX (its EXISTS remembered), IDLE
 *     (RFC 2177), at most -c of them setting up at once. When every one is
 *     idling it prints a "ready" line and waits for a line on stdin (the
 *     caller measures the server's memory meanwhile). Then it delivers one
 *     message to every account over LMTP (RFC 2033; transactions of up to
 *     100 recipients, RCPTs pipelined) and waits until every connection has
 *     seen its mailbox's EXISTS grow by one. "result" reports the time from
 *     the first MAIL to the last EXISTS, and per connection the time from
 *     the final dot of its account's message to its EXISTS (p50/p99).
 *
 *   loadgen pop3 -p POP3_PORT -a ACCOUNTS -m MESSAGES [options]
 *     Download and delete, one session per account, all at once: USER,
 *     PASS, STAT (must say MESSAGES), LIST, UIDL (one line per message),
 *     RETR of each (its octets, dot-unstuffed, must equal LIST's size),
 *     DELE of each, QUIT; then a second login whose STAT must say 0.
 *     "result" reports messages/s, MB/s and RETR, DELE and QUIT latency.
 *
 *   Options: -u FORMAT account names (default u%d@bench.test), -f FIRST
 *            the first account's number (1),
 *            -w PASSWORD (bench-password), -t SECONDS overall limit (600),
 *            -c N connections setting up at once (64).
 *
 * Output is "key=value" lines: "ready ..." (idle) and "result ...", then
 * "error ..." lines for the first failures. Exit status 0 when nothing
 * failed, 1 otherwise, 2 for bad arguments. Replies are read line by line
 * with EVBUFFER_EOL_CRLF_STRICT; a line longer than 64 KiB is a failure.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LOADGEN_MAX_LINE   65536
#define LOADGEN_MAX_ERRORS 10
/* Recipients per LMTP transaction: tern's smtp.max_recipients default and
   RFC 5321 section 4.5.3.1.8's minimum. */
#define LOADGEN_RCPT_BATCH 100

enum mode { MODE_IDLE, MODE_POP3 };

/* One connection's place in its script. IMAP: GREETING -> LOGIN -> SELECT
   -> IDLE_CONT -> IDLING -> NOTIFIED. POP3: GREETING -> USER -> PASS ->
   STAT -> LIST -> UIDL -> RETR/DELE per message -> QUIT, then VERIFY_*
   on a second connection. LMTP (the deliverer): GREETING -> LHLO -> MAIL
   -> RCPT -> DATA -> DOT -> next batch or QUIT. */
enum state {
	ST_GREETING,
	ST_LOGIN,
	ST_SELECT,
	ST_IDLE_CONT,
	ST_IDLING,
	ST_NOTIFIED,
	ST_USER,
	ST_PASS,
	ST_STAT,
	ST_LIST,
	ST_UIDL,
	ST_RETR_STATUS,
	ST_RETR_BODY,
	ST_DELE,
	ST_QUIT,
	ST_VERIFY_GREETING,
	ST_VERIFY_USER,
	ST_VERIFY_PASS,
	ST_VERIFY_STAT,
	ST_VERIFY_QUIT,
	ST_LHLO,
	ST_MAIL,
	ST_RCPT,
	ST_DATA,
	ST_DOT,
	ST_LMTP_QUIT,
	ST_DONE,
	ST_FAILED,
};

struct conn {
	struct bufferevent *bev;
	enum state state;
	int index;   /* connection number */
	int account; /* its number in the names, from -f */
	long exists; /* IMAP: EXISTS after SELECT */
	double started_ms, ready_ms, notified_ms;
	/* POP3 */
	long messages, msg, got_lines;
	long *sizes;
	long octets;
	double cmd_ms;
	/* LMTP */
	int batch_first, batch_count, replies;
};

struct samples {
	double *v;
	size_t n, cap;
};

static struct {
	enum mode mode;
	int port, lmtp_port, accounts, first, conns, concurrency, timeout_s;
	long messages;
	const char *user_format, *password;
	struct event_base *base;
	struct conn *c;
	int started, settled, failed, errors_shown;
	double t0_ms, deliver_ms, first_mail_ms;
	double *dot_ms; /* per account: when its message's final dot went out */
	int notified;
	struct conn lmtp;
	struct event *stdin_ev, *timer;
	struct samples setup, notify, retr, dele, quit;
	long retr_bytes, retr_count;
} g = {
        .concurrency = 64,
        .first = 1,
        .timeout_s = 600,
        .user_format = "u%d@bench.test",
        .password = "bench-password",
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
samples_add(struct samples *s, double v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (s->v == NULL)
			abort();
	}
	s->v[s->n++] = v;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The q-quantile (0..1) of s, nearest rank; 0 when empty. */
static double
samples_quantile(struct samples *s, double q)
{
	if (s->n == 0)
		return 0;
	qsort(s->v, s->n, sizeof(*s->v), cmp_double);
	size_t i = (size_t)(q * (double)(s->n - 1) + 0.5);
	return s->v[i < s->n ? i : s->n - 1];
}

static const char *
account_name(int account)
{
	static char name[256];

	/* The format comes from the command line and holds one %d. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(name, sizeof(name), g.user_format, account);
#pragma GCC diagnostic pop
	return name;
}

static void
send_fmt(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(c->bev), fmt, ap);
	va_end(ap);
}

static void check_finished(void);
static void start_next(void);

/* Marks c failed with a reason (the first few are printed) and closes it. */
static void
fail(struct conn *c, const char *what, const char *line)
{
	if (g.errors_shown++ < LOADGEN_MAX_ERRORS)
		printf("error conn=%d account=%d state=%d %s: %.200s\n", c->index, c->account,
		       (int)c->state, what, line ? line : "");
	if (c->state != ST_FAILED) {
		g.failed++;
		if (c->state < ST_IDLING && g.mode == MODE_IDLE && c != &g.lmtp)
			g.settled++;
	}
	c->state = ST_FAILED;
	if (c->bev != NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	if (c == &g.lmtp) {
		/* Without the delivery nobody is notified: stop now. */
		event_base_loopexit(g.base, NULL);
		return;
	}
	start_next();
	check_finished();
}

static void on_read(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);

static int
conn_open(struct conn *c, int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->bev = bufferevent_socket_new(g.base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		return -1;
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		bufferevent_free(c->bev);
		c->bev = NULL;
		return -1;
	}
	int one = 1;
	setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

/* Starts connections until -c are setting up at once or all are started. */
static void
start_next(void)
{
	while (g.started < g.conns && g.started - g.settled < g.concurrency) {
		struct conn *c = &g.c[g.started];
		c->index = g.started;
		c->account = g.first + g.started % g.accounts;
		c->state = ST_GREETING;
		c->started_ms = now_ms();
		g.started++;
		if (conn_open(c, g.port) < 0)
			fail(c, "connect", strerror(errno));
	}
}

/* ---- IMAP: the idle fleet ---- */

static bool
has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* "* N EXISTS" gives N, anything else -1. */
static long
exists_of(const char *line)
{
	char *end;

	if (!has_prefix(line, "* "))
		return -1;
	long n = strtol(line + 2, &end, 10);
	return end != line + 2 && strcmp(end, " EXISTS") == 0 ? n : -1;
}

static void
imap_line(struct conn *c, const char *line)
{
	switch (c->state) {
	case ST_GREETING:
		if (!has_prefix(line, "* OK"))
			return fail(c, "greeting", line);
		send_fmt(c, "a LOGIN \"%s\" \"%s\"\r\n", account_name(c->account), g.password);
		c->state = ST_LOGIN;
		return;
	case ST_LOGIN:
		if (has_prefix(line, "* "))
			return;
		if (!has_prefix(line, "a OK"))
			return fail(c, "LOGIN", line);
		send_fmt(c, "b SELECT INBOX\r\n");
		c->state = ST_SELECT;
		c->exists = -1;
		return;
	case ST_SELECT: {
		long n = exists_of(line);
		if (n >= 0)
			c->exists = n;
		if (has_prefix(line, "* "))
			return;
		if (!has_prefix(line, "b OK") || c->exists < 0)
			return fail(c, "SELECT", line);
		send_fmt(c, "c IDLE\r\n");
		c->state = ST_IDLE_CONT;
		return;
	}
	case ST_IDLE_CONT:
		if (exists_of(line) >= 0)
			c->exists = exists_of(line);
		if (has_prefix(line, "* "))
			return;
		if (!has_prefix(line, "+"))
			return fail(c, "IDLE", line);
		c->state = ST_IDLING;
		c->ready_ms = now_ms();
		samples_add(&g.setup, c->ready_ms - c->started_ms);
		g.settled++;
		start_next();
		check_finished();
		return;
	case ST_IDLING: {
		long n = exists_of(line);
		if (n < 0) {
			/* RECENT, FETCH, "* OK Still here" keep-alives: fine. */
			if (has_prefix(line, "* "))
				return;
			return fail(c, "in IDLE", line);
		}
		if (g.deliver_ms == 0)
			return fail(c, "EXISTS before any delivery", line);
		if (n != c->exists + 1)
			return fail(c, "EXISTS is not the count plus one", line);
		c->notified_ms = now_ms();
		c->state = ST_NOTIFIED;
		samples_add(&g.notify, c->notified_ms - g.dot_ms[c->account - g.first]);
		g.notified++;
		check_finished();
		return;
	}
	case ST_NOTIFIED:
		if (has_prefix(line, "* ") && exists_of(line) < 0)
			return;
		return fail(c, "after EXISTS", line);
	default:
		return fail(c, "unexpected", line);
	}
}

/* ---- LMTP: one message to every account ---- */

static void
lmtp_batch(struct conn *c)
{
	c->batch_count = g.first + g.accounts - c->batch_first;
	if (c->batch_count > LOADGEN_RCPT_BATCH)
		c->batch_count = LOADGEN_RCPT_BATCH;
	if (c->batch_count <= 0) {
		send_fmt(c, "QUIT\r\n");
		c->state = ST_LMTP_QUIT;
		return;
	}
	if (g.first_mail_ms == 0)
		g.first_mail_ms = now_ms();
	send_fmt(c, "MAIL FROM:<fleet@example.org>\r\n");
	for (int i = 0; i < c->batch_count; i++)
		send_fmt(c, "RCPT TO:<%s>\r\n", account_name(c->batch_first + i));
	c->state = ST_MAIL;
	c->replies = 0;
}

static void
lmtp_line(struct conn *c, const char *line)
{
	bool last = strlen(line) < 4 || line[3] != '-';
	int code = atoi(line);

	if (!last)
		return; /* a multi-line reply's first lines */
	switch (c->state) {
	case ST_GREETING:
		if (code != 220)
			return fail(c, "LMTP greeting", line);
		send_fmt(c, "LHLO loadgen.example\r\n");
		c->state = ST_LHLO;
		return;
	case ST_LHLO:
		if (code != 250)
			return fail(c, "LHLO", line);
		c->batch_first = g.first;
		return lmtp_batch(c);
	case ST_MAIL:
		if (code != 250)
			return fail(c, "MAIL", line);
		c->state = ST_RCPT;
		return;
	case ST_RCPT:
		if (code != 250)
			return fail(c, "RCPT", line);
		if (++c->replies < c->batch_count)
			return;
		send_fmt(c, "DATA\r\n");
		c->state = ST_DATA;
		return;
	case ST_DATA:
		if (code != 354)
			return fail(c, "DATA", line);
		send_fmt(
		        c,
		        "From: <fleet@example.org>\r\nTo: <fleet@bench.test>\r\n"
		        "Subject: the idle fleet's delivery\r\nMessage-ID: <fleet.%d@example.org>\r\n"
		        "\r\nOne message for every account.\r\n.\r\n",
		        c->batch_first);
		for (int i = 0; i < c->batch_count; i++)
			g.dot_ms[c->batch_first - g.first + i] = now_ms();
		c->state = ST_DOT;
		c->replies = 0;
		return;
	case ST_DOT:
		/* RFC 2033 section 4.2: one reply per recipient, in RCPT order. */
		if (code != 250)
			return fail(c, "after the final dot", line);
		if (++c->replies < c->batch_count)
			return;
		c->batch_first += c->batch_count;
		return lmtp_batch(c);
	case ST_LMTP_QUIT:
		c->state = ST_DONE;
		bufferevent_free(c->bev);
		c->bev = NULL;
		g.deliver_ms = g.deliver_ms > 0 ? g.deliver_ms : now_ms();
		return;
	default:
		return fail(c, "LMTP unexpected", line);
	}
}

static void
deliver_begin(void)
{
	g.lmtp.index = -1;
	g.lmtp.state = ST_GREETING;
	/* Any nonzero marks "delivery under way" for imap_line; the real time
	   of the first MAIL goes to first_mail_ms. */
	g.deliver_ms = -1;
	if (conn_open(&g.lmtp, g.lmtp_port) < 0)
		fail(&g.lmtp, "LMTP connect", strerror(errno));
}

static void
on_stdin(evutil_socket_t fd, short what, void *arg)
{
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf));

	(void)n;
	event_del(g.stdin_ev);
	deliver_begin();
}

/* ---- POP3: download and delete ---- */

static void
pop3_retr_next(struct conn *c)
{
	c->msg++;
	c->cmd_ms = now_ms();
	if (c->msg > c->messages) {
		send_fmt(c, "QUIT\r\n");
		c->state = ST_QUIT;
		return;
	}
	send_fmt(c, "RETR %ld\r\n", c->msg);
	c->state = ST_RETR_STATUS;
	c->octets = 0;
}

static void
pop3_line(struct conn *c, const char *line, size_t len)
{
	bool ok = has_prefix(line, "+OK");

	switch (c->state) {
	case ST_GREETING:
	case ST_VERIFY_GREETING:
		if (!ok)
			return fail(c, "greeting", line);
		send_fmt(c, "USER %s\r\n", account_name(c->account));
		c->state = c->state == ST_GREETING ? ST_USER : ST_VERIFY_USER;
		return;
	case ST_USER:
	case ST_VERIFY_USER:
		if (!ok)
			return fail(c, "USER", line);
		send_fmt(c, "PASS %s\r\n", g.password);
		c->state = c->state == ST_USER ? ST_PASS : ST_VERIFY_PASS;
		return;
	case ST_PASS:
	case ST_VERIFY_PASS:
		if (!ok)
			return fail(c, "PASS", line);
		send_fmt(c, "STAT\r\n");
		c->state = c->state == ST_PASS ? ST_STAT : ST_VERIFY_STAT;
		return;
	case ST_STAT: {
		long n = -1;
		if (!ok || sscanf(line, "+OK %ld", &n) != 1 || n != g.messages)
			return fail(c, "STAT (wrong count)", line);
		c->messages = n;
		c->sizes = calloc((size_t)n + 1, sizeof(*c->sizes));
		send_fmt(c, "LIST\r\n");
		c->state = ST_LIST;
		c->got_lines = -1;
		return;
	}
	case ST_LIST:
	case ST_UIDL:
		if (c->got_lines < 0) {
			if (!ok)
				return fail(c, c->state == ST_LIST ? "LIST" : "UIDL", line);
			c->got_lines = 0;
			return;
		}
		if (strcmp(line, ".") == 0) {
			if (c->got_lines != c->messages)
				return fail(c, "LIST/UIDL line count", line);
			if (c->state == ST_LIST) {
				send_fmt(c, "UIDL\r\n");
				c->state = ST_UIDL;
				c->got_lines = -1;
				return;
			}
			c->msg = 0;
			return pop3_retr_next(c);
		} else {
			long n, size;
			char uid[80];
			c->got_lines++;
			if (c->state == ST_LIST) {
				if (sscanf(line, "%ld %ld", &n, &size) != 2 || n != c->got_lines)
					return fail(c, "LIST line", line);
				c->sizes[n] = size;
			} else if (sscanf(line, "%ld %79s", &n, uid) != 2 || n != c->got_lines) {
				return fail(c, "UIDL line", line);
			}
		}
		return;
	case ST_RETR_STATUS:
		if (!ok)
			return fail(c, "RETR", line);
		c->state = ST_RETR_BODY;
		return;
	case ST_RETR_BODY:
		if (strcmp(line, ".") == 0) {
			if (c->octets != c->sizes[c->msg])
				return fail(c, "RETR octets differ from LIST's size", line);
			samples_add(&g.retr, now_ms() - c->cmd_ms);
			g.retr_bytes += c->octets;
			g.retr_count++;
			c->cmd_ms = now_ms();
			send_fmt(c, "DELE %ld\r\n", c->msg);
			c->state = ST_DELE;
			return;
		}
		/* RFC 1939 section 3: a line starting with "." is byte-stuffed. */
		c->octets += (long)len + 2 - (line[0] == '.' ? 1 : 0);
		return;
	case ST_DELE:
		if (!ok)
			return fail(c, "DELE", line);
		samples_add(&g.dele, now_ms() - c->cmd_ms);
		return pop3_retr_next(c);
	case ST_QUIT:
		if (!ok)
			return fail(c, "QUIT", line);
		samples_add(&g.quit, now_ms() - c->cmd_ms);
		bufferevent_free(c->bev);
		c->bev = NULL;
		/* A second session must find the maildrop empty. */
		c->state = ST_VERIFY_GREETING;
		if (conn_open(c, g.port) < 0)
			fail(c, "connect", strerror(errno));
		return;
	case ST_VERIFY_STAT:
		if (!has_prefix(line, "+OK 0 "))
			return fail(c, "STAT after QUIT (messages left)", line);
		send_fmt(c, "QUIT\r\n");
		c->state = ST_VERIFY_QUIT;
		return;
	case ST_VERIFY_QUIT:
		if (!ok)
			return fail(c, "second QUIT", line);
		bufferevent_free(c->bev);
		c->bev = NULL;
		c->state = ST_DONE;
		g.settled++;
		start_next();
		check_finished();
		return;
	default:
		return fail(c, "unexpected", line);
	}
}

/* ---- the loop ---- */

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (c->bev == bev) {
		size_t len;
		char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF_STRICT);
		if (line == NULL) {
			if (evbuffer_get_length(in) > LOADGEN_MAX_LINE)
				fail(c, "line too long", NULL);
			return;
		}
		if (c == &g.lmtp)
			lmtp_line(c, line);
		else if (g.mode == MODE_IDLE)
			imap_line(c, line);
		else
			pop3_line(c, line, len);
		free(line);
	}
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (what & BEV_EVENT_CONNECTED)
		return;
	fail(c, (what & BEV_EVENT_EOF) ? "connection closed" : "connection error",
	     evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

static void
print_ready(void)
{
	printf("ready conns=%d failed=%d setup_s=%.3f setup_p50_ms=%.2f setup_p99_ms=%.2f\n",
	       g.conns - g.failed, g.failed, (now_ms() - g.t0_ms) / 1000,
	       samples_quantile(&g.setup, 0.5), samples_quantile(&g.setup, 0.99));
	fflush(stdout);
}

static void
check_finished(void)
{
	if (g.mode == MODE_IDLE) {
		if (g.deliver_ms == 0 && g.settled == g.conns && g.stdin_ev == NULL) {
			print_ready();
			g.stdin_ev = event_new(g.base, 0, EV_READ, on_stdin, NULL);
			event_add(g.stdin_ev, NULL);
			return;
		}
		if (g.deliver_ms != 0 && g.notified + g.failed >= g.conns)
			event_base_loopexit(g.base, NULL);
	} else if (g.settled + g.failed >= g.conns) {
		event_base_loopexit(g.base, NULL);
	}
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	printf("error timeout after %d s: %d of %d connections finished\n", g.timeout_s,
	       g.mode == MODE_IDLE ? g.notified : g.settled, g.conns);
	g.failed++;
	event_base_loopexit(g.base, NULL);
}

static void
usage(void)
{
	fprintf(stderr,
	        "usage: loadgen idle -p IMAP_PORT -l LMTP_PORT -a ACCOUNTS -n CONNS\n"
	        "       loadgen pop3 -p POP3_PORT -a ACCOUNTS -m MESSAGES\n"
	        "       options: -u FORMAT -f FIRST -w PASSWORD -t SECONDS -c CONCURRENCY\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "idle") == 0)
		g.mode = MODE_IDLE;
	else if (strcmp(argv[1], "pop3") == 0)
		g.mode = MODE_POP3;
	else
		usage();
	int opt;
	optind = 2;
	while ((opt = getopt(argc, argv, "p:l:a:f:n:m:u:w:t:c:")) != -1) {
		switch (opt) {
		case 'p':
			g.port = atoi(optarg);
			break;
		case 'l':
			g.lmtp_port = atoi(optarg);
			break;
		case 'a':
			g.accounts = atoi(optarg);
			break;
		case 'f':
			g.first = atoi(optarg);
			break;
		case 'n':
			g.conns = atoi(optarg);
			break;
		case 'm':
			g.messages = atol(optarg);
			break;
		case 'u':
			g.user_format = optarg;
			break;
		case 'w':
			g.password = optarg;
			break;
		case 't':
			g.timeout_s = atoi(optarg);
			break;
		case 'c':
			g.concurrency = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	const char *pct = strchr(g.user_format, '%');
	if (pct == NULL || pct[1] != 'd' || strchr(pct + 1, '%') != NULL)
		usage(); /* exactly one %d */
	if (g.mode == MODE_POP3)
		g.conns = g.accounts;
	if (g.port <= 0 || g.accounts <= 0 || g.conns <= 0 || g.concurrency <= 0 ||
	    (g.mode == MODE_IDLE && g.lmtp_port <= 0) || (g.mode == MODE_POP3 && g.messages <= 0))
		usage();

	/* Each connection is one descriptor: take the hard limit. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (g.mode == MODE_POP3)
		g.concurrency = g.conns;
	g.c = calloc((size_t)g.conns, sizeof(*g.c));
	g.dot_ms = calloc((size_t)g.accounts + 1, sizeof(*g.dot_ms));
	g.base = event_base_new();
	if (g.c == NULL || g.dot_ms == NULL || g.base == NULL)
		abort();
	struct timeval tv = {.tv_sec = g.timeout_s};
	g.timer = evtimer_new(g.base, on_timeout, NULL);
	evtimer_add(g.timer, &tv);
	g.t0_ms = now_ms();
	start_next();
	event_base_dispatch(g.base);
	double elapsed_s = (now_ms() - g.t0_ms) / 1000;

	if (g.mode == MODE_IDLE) {
		double last = 0;
		for (int i = 0; i < g.conns; i++)
			if (g.c[i].state == ST_NOTIFIED && g.c[i].notified_ms > last)
				last = g.c[i].notified_ms;
		printf("result conns=%d accounts=%d notified=%d failed=%d "
		       "deliver_to_last_exists_ms=%.2f notify_p50_ms=%.2f notify_p99_ms=%.2f\n",
		       g.conns, g.accounts, g.notified, g.failed,
		       last > 0 && g.first_mail_ms > 0 ? last - g.first_mail_ms : 0,
		       samples_quantile(&g.notify, 0.5), samples_quantile(&g.notify, 0.99));
	} else {
		printf("result sessions=%d messages=%ld bytes=%ld failed=%d total_s=%.3f "
		       "msg_per_s=%.1f mb_per_s=%.2f retr_p50_ms=%.3f retr_p99_ms=%.3f "
		       "dele_p50_ms=%.3f dele_p99_ms=%.3f quit_p50_ms=%.2f quit_max_ms=%.2f\n",
		       g.conns, g.retr_count, g.retr_bytes, g.failed, elapsed_s,
		       (double)g.retr_count / elapsed_s, (double)g.retr_bytes / elapsed_s / 1e6,
		       samples_quantile(&g.retr, 0.5), samples_quantile(&g.retr, 0.99),
		       samples_quantile(&g.dele, 0.5), samples_quantile(&g.dele, 0.99),
		       samples_quantile(&g.quit, 0.5), samples_quantile(&g.quit, 1.0));
	}
	return g.failed == 0 ? 0 : 1;
}
