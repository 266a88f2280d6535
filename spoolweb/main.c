/*
 * spoolweb: the back office on the web, for admins and printers, as thin as spoolctl
 * on libspool.  libmicrohttpd answers on one thread of its own (so the handlers never
 * run at once and share the spools without locks); this thread only waits for a
 * signal to stop.  It will not run as root: it runs as its own user in the spools'
 * group, as spoolweb@.service sets up.  See spoolweb(8).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web.h"

#define SPOOLS_MAX 16
#define SYNOPSIS "spoolweb -d SPOOL [-d SPOOL ...] [-l ADDR:PORT] [--tls-cert FILE --tls-key FILE]"
#define CSP "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " \
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("spoolweb: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

/* One request's state between libmicrohttpd's calls: the body as it arrives. */
struct conn {
	char *body;
	size_t len;
	int too_big;
	int nul;      /* the raw URI encodes a NUL, which decoding would cut the path at */
};

/*
 * Sees the URI before libmicrohttpd decodes it: "job.xml%00.pdf" must not become
 * "job.xml".  It marks the request with a static sentinel, not an allocation, as a
 * request that dies before its handler runs is never reported as completed.
 */
static char nul_uri;

static void *
uri_seen(void *cls, const char *uri, struct MHD_Connection *c)
{
	(void)cls;
	(void)c;
	return uri != NULL && strstr(uri, "%00") != NULL ? &nul_uri : NULL;
}

static enum MHD_Result
query_arg(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	struct req *q = cls;

	(void)kind;
	if (q->nargs < WEB_ARGS_MAX && k != NULL) {
		q->args[q->nargs].k = k;
		q->args[q->nargs++].v = v != NULL ? v : "";
	}
	return MHD_YES;
}

static const char *
peer(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	snprintf(buf, len, "?");
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return buf;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
		    (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
		    (socklen_t)len);
	return buf;
}

static void
add_headers(struct MHD_Response *m, const struct req *q, const struct resp *r, int tls)
{
	MHD_add_response_header(m, "Content-Type", r->ctype);
	MHD_add_response_header(m, "Content-Security-Policy", CSP);
	MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(m, "X-Frame-Options", "DENY");
	MHD_add_response_header(m, "Referrer-Policy", "same-origin");
	MHD_add_response_header(m, "Cache-Control", strncmp(q->path, "/static/", 8) == 0 ?
	    "max-age=3600" : "no-store");
	if (tls)
		MHD_add_response_header(m, "Strict-Transport-Security", "max-age=31536000");
	if (r->location[0] != '\0')
		MHD_add_response_header(m, "Location", r->location);
	if (r->cookie[0] != '\0')
		MHD_add_response_header(m, "Set-Cookie", r->cookie);
	if (r->disposition[0] != '\0')
		MHD_add_response_header(m, "Content-Disposition", r->disposition);
	if (r->etag[0] != '\0')
		MHD_add_response_header(m, "ETag", r->etag);
	if (r->retry_after > 0) {
		char s[16];

		snprintf(s, sizeof s, "%d", r->retry_after);
		MHD_add_response_header(m, "Retry-After", s);
	}
}

/* Answer q as web_handle says, with the headers every answer carries. */
static enum MHD_Result
answer(struct web *w, struct MHD_Connection *c, struct req *q)
{
	struct MHD_Response *m;
	struct resp r;
	enum MHD_Result ok;

	if (resp_init(&r) < 0)
		return MHD_NO;
	web_handle(w, q, &r);
	resp_finish(q, &r);
	resp_done(&r);
	if (r.fd >= 0)
		m = MHD_create_response_from_fd64((uint64_t)r.size, r.fd);
	else
		m = MHD_create_response_from_buffer(r.head_only ? 0 : r.len, r.body,
		    MHD_RESPMEM_MUST_COPY);
	free(r.body);
	if (m == NULL) {
		if (r.fd >= 0)
			close(r.fd);
		return MHD_NO;
	}
	add_headers(m, q, &r, w->tls);
	ok = MHD_queue_response(c, (unsigned)r.status, m);
	MHD_destroy_response(m);
	return ok;
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *data, size_t *size, void **con_cls)
{
	struct web *w = cls;
	struct conn *k = *con_cls;
	struct req q = { 0 };
	char addr[INET6_ADDRSTRLEN + 1], *nb;

	(void)version;
	if (k == NULL || *con_cls == &nul_uri) {
		if ((k = calloc(1, sizeof *k)) == NULL)
			return MHD_NO;
		k->nul = *con_cls == &nul_uri;
		*con_cls = k;
		return MHD_YES;
	}
	if (*size != 0) {
		if (k->too_big || k->len + *size > WEB_BODY_MAX)
			k->too_big = 1;
		else if ((nb = realloc(k->body, k->len + *size + 1)) == NULL)
			k->too_big = 1;
		else {
			memcpy(nb + k->len, data, *size);
			k->body = nb;
			k->len += *size;
			k->body[k->len] = '\0';
		}
		*size = 0;
		return MHD_YES;
	}
	q.method = method;
	q.path = url;
	q.now = time(NULL);
	q.addr = peer(c, addr, sizeof addr);
	q.cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, WEB_COOKIE);
	q.csrf = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
	q.ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	q.etag = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_arg, &q);
	if (k->nul) {
		q.refused = 400;
		web_log("refused 400 %s %s from %s: an encoded NUL in the address", method, url,
		    q.addr);
	} else if (k->too_big) {
		q.refused = 413;
		web_log("refused 413 %s %s from %s: a body over %d bytes", method, url, q.addr,
		    WEB_BODY_MAX);
	}
	q.body = k->body != NULL ? k->body : (char[1]){ 0 };
	q.blen = k->len;
	return answer(w, c, &q);
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct conn *k = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (k != NULL && *con_cls != &nul_uri) {
		free(k->body);
		free(k);
	}
	*con_cls = NULL;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	(void)cls;
	vsnprintf(buf, sizeof buf, fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	web_log("%s", buf);
}

/* "127.0.0.1:8631" or "[::1]:8631" into sa. */
static int
listen_addr(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)(void *)ss;
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon = strrchr(s, ':');
	long port;
	char *end;
	size_t n;

	if (colon == NULL || (port = strtol(colon + 1, &end, 10)) <= 0 || port > 65535 || *end)
		return -1;
	n = (size_t)(colon - s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof host)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		return 0;
	}
	return -1;
}

/* A PEM file, whole, NUL-terminated; the process exits if it cannot be read. */
static char *
pem(const char *path)
{
	struct stat st;
	char *buf;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0)
		die(SPOOL_EX_CONFIG, "cannot read %s: %s", path, strerror(errno));
	if (st.st_size > 1024 * 1024 || (buf = malloc((size_t)st.st_size + 1)) == NULL ||
	    read(fd, buf, (size_t)st.st_size) != st.st_size)
		die(SPOOL_EX_CONFIG, "cannot read %s", path);
	buf[st.st_size] = '\0';
	close(fd);
	return buf;
}

struct opts {
	const char *dirs[SPOOLS_MAX];
	int ndirs;
	const char *listen, *cert, *key;
};

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "spool", required_argument, NULL, 'd' }, { "listen", required_argument, NULL, 'l' },
		{ "tls-cert", required_argument, NULL, 'c' }, { "tls-key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' }, { 0 } };
	int c;

	o->listen = "127.0.0.1:8631";
	while ((c = getopt_long(argc, argv, "d:l:hV", longs, NULL)) != -1)
		switch (c) {
		case 'd':
			if (o->ndirs == SPOOLS_MAX)
				die(SPOOL_EX_USAGE, "at most %d spools", SPOOLS_MAX);
			o->dirs[o->ndirs++] = optarg;
			break;
		case 'l': o->listen = optarg; break;
		case 'c': o->cert = optarg; break;
		case 'k': o->key = optarg; break;
		case 'h':
			printf("usage: %s\nThe web back office of spool, for admins and printers; "
			    "see spoolweb(8).\n", SYNOPSIS);
			exit(0);
		case 'V':
			printf("spoolweb %s\n", SPOOL_VERSION);
			exit(0);
		default:
			die(SPOOL_EX_USAGE, "usage: %s", SYNOPSIS);
		}
	if (optind != argc || o->ndirs == 0 || (o->cert == NULL) != (o->key == NULL))
		die(SPOOL_EX_USAGE, "usage: %s", SYNOPSIS);
}

static void
open_spools(struct web *w, const struct opts *o)
{
	struct spool_err err;
	const char *base;
	char *p;
	int i, k;

	if ((w->spools = calloc((size_t)o->ndirs, sizeof *w->spools)) == NULL)
		die(SPOOL_EX_TEMPFAIL, "out of memory");
	spool_domain_init();
	for (i = 0; i < o->ndirs; i++) {
		struct web_spool *ws = &w->spools[i];

		if (realpath(o->dirs[i], ws->path) == NULL)
			die(SPOOL_EX_CONFIG, "%s: %s", o->dirs[i], strerror(errno));
		base = (p = strrchr(ws->path, '/')) != NULL && p[1] != '\0' ? p + 1 : ws->path;
		snprintf(ws->name, sizeof ws->name, "%.255s", base);
		for (k = 0; k < i; k++)
			if (strcmp(w->spools[k].name, ws->name) == 0)
				die(SPOOL_EX_USAGE, "two spools named %s: the API tells them apart by "
				    "their folders' names", ws->name);
		if (spool_open(ws->path, 0, &ws->sp, &err) < 0)
			die(SPOOL_EX_CONFIG, "%s: %s", ws->path, err.msg);
		w->nspools++;
	}
}

int
main(int argc, char **argv)
{
	static struct web w;
	struct sockaddr_storage ss;
	struct MHD_Daemon *d;
	struct opts o = { 0 };
	char *cert = NULL, *key = NULL;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	sigset_t set;
	int sig, i;

	parse_opts(argc, argv, &o);
	if (geteuid() == 0)
		die(SPOOL_EX_REFUSED, "will not run as root: run it as its own user in the spool's "
		    "group (spoolweb@.service does)");
	if (listen_addr(o.listen, &ss) < 0)
		die(SPOOL_EX_USAGE, "-l %s: not ADDR:PORT (127.0.0.1:8631, [::1]:8631)", o.listen);
	if (o.cert != NULL) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
			die(SPOOL_EX_CONFIG, "this libmicrohttpd has no TLS");
		cert = pem(o.cert);
		key = pem(o.key);
		flags |= MHD_USE_TLS;
		w.tls = 1;
	}
	umask(007);
	open_spools(&w, &o);
	w.started = time(NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* blocked before the server's thread starts, so that only this thread takes them */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	d = MHD_start_daemon(flags, 0, NULL, NULL, access_cb, &w,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_URI_LOG_CALLBACK, uri_seen, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, 30u,
	    MHD_OPTION_CONNECTION_LIMIT, 256u,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, 64u,
	    cert != NULL ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
	    MHD_OPTION_HTTPS_MEM_KEY, key,
	    MHD_OPTION_END);
	if (d == NULL)
		die(SPOOL_EX_TEMPFAIL, "cannot listen on %s", o.listen);
	web_log("listening on %s%s for %d spool%s", o.listen, w.tls ? " (TLS)" : "", w.nspools,
	    w.nspools == 1 ? "" : "s");
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		;
	web_log("stopping on signal %d", sig);
	MHD_stop_daemon(d);
	for (i = 0; i < w.nspools; i++)
		spool_close(w.spools[i].sp);
	free(w.spools);
	free(cert);
	free(key);
	return 0;
}
