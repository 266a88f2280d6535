/*
 * The mailer: sends outbox/new/ through the relay of [mail] with libesmtp, in a child
 * process of spoold.  See mailer.h.
 *
 * One SMTP session carries a batch of messages.  A message the relay accepts is
 * renamed into outbox/sent/ at once, from libesmtp's event callback, before the next
 * message goes out: a crash can repeat only the one message in flight, and no message
 * is offered twice in one run.  A temporary failure (4xx, no connection, a timeout,
 * TLS that is required and missing) leaves the message in new/ with its mtime set to
 * when it is due again, so `ls -l outbox/new` shows the schedule; the delay is the
 * message's age, at least [mail] retry and at most an hour, which doubles it from try
 * to try without keeping a count anywhere.  A permanent failure (5xx to the recipient
 * or the data), or a temporary one once the message is older than [mail] lifetime,
 * moves it to outbox/failed/ beside a one-line NAME.reason.
 *
 * libesmtp's pitfalls (DEPENDENCIES.md): smtp_start_session returns 0 only when it
 * cannot connect, so every message's own status decides; the statuses are read before
 * smtp_destroy_session; SIGPIPE is ignored while a session runs.  And one found here:
 * libesmtp 1.1.0 caches the TLS context it makes in a static variable but frees it with
 * the session, so a second STARTTLS session in one process uses freed memory.  Each
 * session gets its own context (smtp_starttls_set_ctx), which libesmtp then only
 * references.  And its loop takes the session tickets that a TLS 1.3 server sends
 * after the handshake for the start of a reply, and waits for the rest until the
 * timeout: so TLS stops at 1.2, where nothing comes after the handshake.
 */
#include <stddef.h>
#include <openssl/ssl.h>
#include <auth-client.h>
#include <libesmtp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "log.h"
#include "mailer.h"

#define BATCH_MAX 1000             /* messages in one session */
#define BATCH_BYTES (64L << 20)    /* and their bytes, read into memory */
#define MSG_MAX (10L << 20)        /* a bigger file in outbox/new/ fails */
#define ROUNDS_MAX 64              /* sessions in one run */
#define DELAY_MAX 3600             /* the backoff's cap */
#define TIMEOUT_MS 60000           /* every SMTP wait; spoold's job deadline is the backstop */
#define WHY_MAX 400
#define CHUNK (64 * 1024)
#define SENT_TRIES 30              /* seconds a delivered message waits for outbox/sent */

enum outcome { O_NONE, O_SENT, O_TEMP, O_PERM };

struct msg {
	char name[SPOOL_OUTBOX_NAME_MAX];
	char id[SPOOL_ID_MAX + 1];
	char rcpt[SPOOL_ADDR_MAX + 1];
	time_t created;
	char *data;
	size_t len, pos;           /* pos: where libesmtp reads next */
	smtp_message_t m;
	smtp_recipient_t r;
	enum outcome outcome;
	int moved;                 /* in sent/ already */
};

struct run {
	const struct spool_mail_conf *mc;
	time_t now;
	int newfd, sentfd, failedfd, tmpfd, runfd;    /* runfd: where run/reserve is */
	struct mailer_summary *sum;
	char *password;
	char problem[WHY_MAX];     /* what went wrong with the session, from the event callback */
	int synced_sent;           /* a rename into sent/ waits for the folders' fsync */
};

/* One line of printable ASCII from a server's answer or an error text. */
static void
tidy(char *dst, size_t len, const char *src)
{
	size_t n = 0;

	for (; src != NULL && *src != '\0' && n + 1 < len; src++) {
		unsigned char c = (unsigned char)*src;
		if (c < 0x20 || c > 0x7e)
			c = ' ';
		if (c == ' ' && (n == 0 || dst[n - 1] == ' '))
			continue;
		dst[n++] = (char)c;
	}
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

static void
close_all(const int *fd, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (fd[i] >= 0)
			close(fd[i]);
}

static int
opendir_at(int at, const char *name)
{
	return openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* ---- a message's fate --------------------------------------------------- */

/*
 * Delivered: into sent/ at once, so that it is never sent again.  A full disk can
 * refuse even a rename (sent/ needs a new block now and then): spoold's reserve is
 * given back a piece at a time and the rename tried again for a while, since a
 * message left in new/ after the relay took it would reach its reader twice.
 */
static void
sent(struct run *r, struct msg *g)
{
	int tries = 0;

	while (renameat(r->newfd, g->name, r->sentfd, g->name) < 0) {
		if ((errno != ENOSPC && errno != EDQUOT && errno != EIO) || tries++ == SENT_TRIES) {
			r->sum->errors++;
			log_order(LOG_L_WARN, g->id, "mail %s to %s was delivered but cannot be moved "
			    "to %s: %s; it may be sent again", g->name, g->rcpt,
			    SPOOL_NAME(SPOOL_F_OUTBOX_SENT, NULL), strerror(errno));
			return;
		}
		if (tries == 1)
			log_order(LOG_L_WARN, g->id, "mail %s to %s was delivered, and the disk refuses "
			    "to move it to %s (%s): trying again", g->name, g->rcpt,
			    SPOOL_NAME(SPOOL_F_OUTBOX_SENT, NULL), strerror(errno));
		if (spool_reserve_give(r->runfd, 1LL << 20) <= 0)
			sleep(1);
	}
	if (tries > 0)
		log_order(LOG_L_INFO, g->id, "mail %s is in %s now", g->name,
		    SPOOL_NAME(SPOOL_F_OUTBOX_SENT, NULL));
	g->moved = 1;
	r->synced_sent = 0;
}

/* To outbox/failed/ beside NAME.reason (written first: a failed mail always has one). */
static void
failed(struct run *r, struct msg *g, const char *why)
{
	char rname[SPOOL_OUTBOX_NAME_MAX + 16], line[WHY_MAX + 2];
	int n;

	spool_name(SPOOL_F_REASON, g->name, rname, sizeof rname);
	n = snprintf(line, sizeof line, "%s\n", why);
	if (spool_publish(r->failedfd, rname, r->tmpfd, line, (size_t)n,
	    &(struct spool_pub){ .flags = SPOOL_PUB_NOSYNCDIR }) < 0)
		goto fail;
	if (renameat(r->newfd, g->name, r->failedfd, g->name) < 0) {
		int saved = errno;
		unlinkat(r->failedfd, rname, 0);
		errno = saved;
		goto fail;
	}
	if (spool_fsync_dir(r->failedfd) < 0 || spool_fsync_dir(r->newfd) < 0) {
fail:
		r->sum->errors++;
		log_order(LOG_L_WARN, g->id, "mail %s to %s failed (%s), and cannot be moved to "
		    "%s: %s", g->name, g->rcpt[0] ? g->rcpt : "?", why,
		    SPOOL_NAME(SPOOL_F_OUTBOX_FAILED, NULL), strerror(errno));
		return;
	}
	r->sum->failed++;
	/* the name may be one that broke the grammar, with anything in it */
	log_order(LOG_L_WARN, g->id, "mail %s to %s failed: %s",
	    g->name, g->rcpt[0] ? g->rcpt : "?", why);
}

/* Try again later: the mtime says when, or it fails once it has lived too long. */
static void
deferred(struct run *r, struct msg *g, const char *why)
{
	const struct spool_mail_conf *mc = r->mc;
	long retry = mc->retry > 0 ? mc->retry : 60, age = (long)(r->now - g->created), delay;
	char text[WHY_MAX + 64], when[32];
	struct timespec ts[2];
	time_t due;
	int fd;

	if (age < 0)
		age = 0;
	if (age >= mc->lifetime) {
		snprintf(text, sizeof text, "undelivered after %ldd %ldh: %s", age / 86400,
		    age % 86400 / 3600, why);
		failed(r, g, text);
		return;
	}
	delay = age < retry ? retry : age > DELAY_MAX ? DELAY_MAX : age;
	due = r->now + delay;
	/* the last try comes when the lifetime ends, not up to an hour later */
	if (due > g->created + mc->lifetime)
		due = g->created + mc->lifetime;
	ts[0] = (struct timespec){ 0, UTIME_OMIT };
	ts[1] = (struct timespec){ due, 0 };
	fd = openat(r->newfd, g->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || futimens(fd, ts) < 0) {
		r->sum->errors++;
		log_order(LOG_L_WARN, g->id, "mail %s to %s deferred (%s), but its due time cannot "
		    "be set: %s", g->name, g->rcpt, why, strerror(errno));
	} else {
		r->sum->deferred++;
		log_order(LOG_L_INFO, g->id, "mail %s to %s deferred until %s: %s", g->name, g->rcpt,
		    spool_time_fmt(due, when, sizeof when), why);
	}
	if (fd >= 0)
		close(fd);
}

/* ---- reading outbox/new/ ------------------------------------------------ */

/* The whole file with CRLF line ends (libesmtp sends what it gets); -1 with errno. */
static int
load(struct run *r, struct msg *g)
{
	struct stat st;
	char *buf = NULL, *out;
	size_t len = 0, lf = 0, i, j;
	ssize_t n;
	int fd;

	if ((fd = openat(r->newfd, g->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode) || st.st_size > MSG_MAX) {
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	fd = -1;
	if (len == 0 || memchr(buf, '\0', len) != NULL) {
		errno = EBADMSG;
		goto fail;
	}
	for (i = 0; i < len; i++)
		if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))
			lf++;
	lf += buf[len - 1] != '\n';
	if (lf > 0) {
		/* written by hand with bare line feeds: made canonical, and ended */
		if ((out = malloc(len + 2 * lf + 1)) == NULL)
			goto fail;
		for (i = j = 0; i < len; i++) {
			if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))
				out[j++] = '\r';
			out[j++] = buf[i];
		}
		if (buf[len - 1] != '\n') {
			if (buf[len - 1] != '\r')
				out[j++] = '\r';
			out[j++] = '\n';
		}
		free(buf);
		buf = out;
		len = j;
	}
	buf[len] = '\0';
	g->data = buf;
	g->len = len;
	return 0;
fail:
	free(buf);
	if (fd >= 0) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return -1;
}

static int
by_age(const void *a, const void *b)
{
	const struct msg *x = a, *y = b;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * The due messages of outbox/new/, oldest first, up to a batch, read into memory.
 * Those that can never be sent (a bad name, no To) fail here and are not in it.
 */
static int
collect(struct run *r, struct msg **out, int *full)
{
	struct msg *v = NULL, *g, bad;
	struct dirent *de;
	struct stat st;
	long bytes = 0;
	int n = 0, fd;
	DIR *d;

	*full = 0;
	if ((fd = dup(r->newfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewinddir(d);
	if ((v = calloc(BATCH_MAX, sizeof *v)) == NULL) {
		closedir(d);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;       /* ".", "..", and publish's temporary files */
		if (n == BATCH_MAX || bytes >= BATCH_BYTES) {
			*full = 1;
			break;
		}
		if (fstatat(r->newfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_mtime > r->now)
			continue;
		g = &v[n];
		memset(g, 0, sizeof *g);
		if (!spool_outbox_name_parse(de->d_name, g->id, &g->created) || !S_ISREG(st.st_mode)) {
			/* not ours to send; out of the way, with a reason, like corrupt/ */
			memset(&bad, 0, sizeof bad);
			snprintf(bad.id, sizeof bad.id, "spoold");
			if (strlen(de->d_name) >= sizeof bad.name || !S_ISREG(st.st_mode)) {
				log_warnx("%s: not an outbox message; left alone",
				    SPOOL_NAME(SPOOL_F_OUTBOX_NEW, de->d_name));
				continue;
			}
			memcpy(bad.name, de->d_name, strlen(de->d_name) + 1);
			log_warnx("%s: not an outbox message name",
			    SPOOL_NAME(SPOOL_F_OUTBOX_NEW, de->d_name));
			failed(r, &bad, "not an outbox message name (ID.UNIXTIME.UNIQUE.eml)");
			continue;
		}
		memcpy(g->name, de->d_name, strlen(de->d_name) + 1);   /* parsed: it fits */
		if (load(r, g) < 0) {
			char why[WHY_MAX];
			if (errno == ENOENT)
				continue;   /* moved meanwhile, by an admin or a purge */
			snprintf(why, sizeof why, "cannot read the message: %s", strerror(errno));
			if (errno == EIO || errno == ENOMEM || errno == EMFILE || errno == ENFILE)
				deferred(r, g, why);
			else
				failed(r, g, why);
			continue;
		}
		if (spool_mail_recipient(g->data, g->len, g->rcpt, sizeof g->rcpt) < 0) {
			failed(r, g, "no To header with one plain address");
			free(g->data);
			continue;
		}
		bytes += (long)g->len;
		n++;
	}
	closedir(d);
	qsort(v, (size_t)n, sizeof *v, by_age);
	*out = v;
	return n;
}

/* How many messages wait in outbox/new/ (newfd), and when the first is due (0: none). */
time_t
mailer_next_due(int newfd, int *left)
{
	struct dirent *de;
	struct stat st;
	time_t next = 0;
	DIR *d;
	int fd;

	if ((fd = dup(newfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (!spool_outbox_name_parse(de->d_name, NULL, NULL) ||
		    fstatat(newfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (left != NULL)
			(*left)++;
		if (next == 0 || st.st_mtime < next)
			next = st.st_mtime;
	}
	closedir(d);
	return next;
}

/* ---- the SMTP session ------------------------------------------------- */

static const char *
msg_cb(void **ctx, int *len, void *arg)
{
	struct msg *g = arg;
	size_t n;

	/* our own position, not ctx: libesmtp frees ctx with free() */
	(void)ctx;
	if (len == NULL) {
		g->pos = 0;
		return NULL;
	}
	n = g->len - g->pos;
	if (n > CHUNK)
		n = CHUNK;
	*len = (int)n;
	g->pos += n;
	return g->data + g->pos - n;
}

static int
delivered(struct msg *g)
{
	return smtp_message_transfer_status(g->m)->code / 100 == 2 &&
	    smtp_recipient_status(g->r)->code / 100 == 2;
}

static void
event_cb(smtp_session_t s, int ev, void *arg, ...)
{
	struct run *r = arg;
	smtp_message_t m;
	struct msg *g;
	va_list ap;
	int *ok;

	(void)s;
	va_start(ap, arg);
	switch (ev) {
	case SMTP_EV_MESSAGESENT:
		/* move it now, before the next message goes: never offered twice */
		m = va_arg(ap, smtp_message_t);
		g = smtp_message_get_application_data(m);
		if (g != NULL && g->outcome == O_NONE && delivered(g)) {
			g->outcome = O_SENT;
			sent(r, g);
		}
		break;
	case SMTP_EV_EXTNA_STARTTLS:
		snprintf(r->problem, sizeof r->problem,
		    "STARTTLS is required and the relay does not offer it");
		break;
	case SMTP_EV_INVALID_PEER_CERTIFICATE:
		(void)va_arg(ap, long);
		ok = va_arg(ap, int *);
		/* starttls = yes is opportunistic: encrypted, not verified; required verifies */
		*ok = r->mc->starttls != SPOOL_STARTTLS_REQUIRED;
		if (!*ok)
			snprintf(r->problem, sizeof r->problem,
			    "TLS: the relay's certificate does not verify");
		break;
	case SMTP_EV_NO_PEER_CERTIFICATE:
	case SMTP_EV_WRONG_PEER_CERTIFICATE:
		ok = va_arg(ap, int *);
		*ok = r->mc->starttls != SPOOL_STARTTLS_REQUIRED;
		if (!*ok)
			snprintf(r->problem, sizeof r->problem, "TLS: the relay's certificate %s",
			    ev == SMTP_EV_NO_PEER_CERTIFICATE ? "is missing" :
			    "does not name it");
		break;
	case SMTP_EV_WEAK_CIPHER:
		(void)va_arg(ap, int);
		ok = va_arg(ap, int *);
		*ok = 0;
		snprintf(r->problem, sizeof r->problem, "TLS: the cipher is too weak");
		break;
	case SMTP_EV_NO_CLIENT_CERTIFICATE:
		ok = va_arg(ap, int *);
		*ok = 1;
		break;
	case SMTP_EV_UNUSABLE_CLIENT_CERTIFICATE:
	case SMTP_EV_UNUSABLE_CA_LIST:
		snprintf(r->problem, sizeof r->problem, "TLS: unusable certificate files in "
		    "~/.authenticate");
		break;
	default:
		break;
	}
	va_end(ap);
}

static int
interact(auth_client_request_t req, char **result, int fields, void *arg)
{
	struct run *r = arg;
	int i;

	for (i = 0; i < fields; i++) {
		if (req[i].flags & AUTH_USER)
			result[i] = r->mc->user;
		else if (req[i].flags & AUTH_PASS)
			result[i] = r->password;
		else
			return 0;
	}
	return 1;
}

/* A password in clear text may go to a relay on this host, or over verified TLS. */
static int
plain_ok(const struct spool_mail_conf *mc)
{
	return mc->starttls == SPOOL_STARTTLS_REQUIRED || strcmp(mc->relay, "localhost") == 0 ||
	    strncmp(mc->relay, "127.", 4) == 0;
}

/* Why a message that was not delivered was not, and whether for good. */
static enum outcome
classify(struct run *r, struct msg *g, char *why, size_t len)
{
	const smtp_status_t *rp = smtp_reverse_path_status(g->m);
	const smtp_status_t *rs = smtp_recipient_status(g->r);
	const smtp_status_t *ts = smtp_message_transfer_status(g->m);
	char text[WHY_MAX / 2], buf[128];
	int e;

	/*
	 * MAIL FROM refused, even with 5xx, is about our sender or our login, not about
	 * the message: temporary, so the admin can mend the config before lifetime ends.
	 */
	if (rp->code >= 400) {
		tidy(text, sizeof text, rp->text);
		snprintf(why, len, "MAIL FROM refused: %d %s", rp->code, text);
		return O_TEMP;
	}
	if (rs->code >= 400) {
		tidy(text, sizeof text, rs->text);
		snprintf(why, len, "RCPT TO refused: %d %s", rs->code, text);
		return rs->code >= 500 ? O_PERM : O_TEMP;
	}
	if (ts->code >= 400) {
		tidy(text, sizeof text, ts->text);
		snprintf(why, len, "message refused: %d %s", ts->code, text);
		return ts->code >= 500 ? O_PERM : O_TEMP;
	}
	if (r->problem[0] != '\0')
		snprintf(why, len, "%s", r->problem);
	else if ((e = smtp_errno()) != 0) {
		tidy(text, sizeof text, smtp_strerror(e, buf, sizeof buf));
		snprintf(why, len, "relay %.100s:%d: %s", r->mc->relay, r->mc->port, text);
	} else
		snprintf(why, len, "relay %.100s:%d: the session ended before this message",
		    r->mc->relay, r->mc->port);
	return O_TEMP;
}

/* Each message's outcome, by what the relay said of it (or why there was no session). */
static void
statuses(struct run *r, struct msg *v, int n, int started, const char *setup_error)
{
	char why[WHY_MAX];
	int i;

	for (i = 0; i < n; i++) {
		struct msg *g = &v[i];
		enum outcome o;

		if (g->outcome == O_SENT)
			continue;
		if (started && g->m != NULL && delivered(g)) {
			/* accepted, but the callback did not see it: move it now */
			g->outcome = O_SENT;
			sent(r, g);
			continue;
		}
		if (!started || g->m == NULL) {
			snprintf(why, sizeof why, "%s", setup_error != NULL ? setup_error : r->problem);
			o = O_TEMP;
		} else
			o = classify(r, g, why, sizeof why);
		g->outcome = o;
		if (o == O_PERM)
			failed(r, g, why);
		else
			deferred(r, g, why);
	}
}

/*
 * This host's fully qualified name: what getaddrinfo gives as the canonical name of
 * gethostname's, else gethostname's itself.  Looked up once per process: it may ask
 * DNS, and notify asks for it at every mail.
 */
static const char *
fqdn(void)
{
	static char name[256];
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_flags = AI_CANONNAME }, *ai;

	if (name[0] != '\0')
		return name;
	if (gethostname(name, sizeof name) < 0 || name[0] == '\0')
		snprintf(name, sizeof name, "localhost");
	name[sizeof name - 1] = '\0';
	if (strchr(name, '.') == NULL && getaddrinfo(name, NULL, &hints, &ai) == 0) {
		if (ai->ai_canonname != NULL && strchr(ai->ai_canonname, '.') != NULL &&
		    strlen(ai->ai_canonname) < sizeof name)
			snprintf(name, sizeof name, "%s", ai->ai_canonname);
		freeaddrinfo(ai);
	}
	return name;
}

void
mail_hostname(const struct spool_mail_conf *mc, char *buf, size_t len)
{
	snprintf(buf, len, "%s", mc->helo != NULL ? mc->helo : fqdn());
}

/* One session for a batch; every message ends sent, deferred or failed. */
/* A libesmtp session to the relay with spool's timeouts; 0 with r->problem set if not. */
static int
session_create(struct run *r, smtp_session_t *sp)
{
	const struct spool_mail_conf *mc = r->mc;
	char hostport[300], buf[128], host[256];
	smtp_session_t s;
	int ok;

	snprintf(hostport, sizeof hostport, "%s:%d", mc->relay, mc->port);
	mail_hostname(mc, host, sizeof host);
	/* libesmtp would say the bare host name (uname's) in EHLO: RFC 5321 wants the FQDN */
	ok = (*sp = s = smtp_create_session()) != NULL && smtp_set_server(s, hostport) &&
	    smtp_set_hostname(s, host) &&
	    smtp_set_eventcb(s, event_cb, r) &&
	    smtp_starttls_enable(s, mc->starttls == SPOOL_STARTTLS_REQUIRED ?
	    Starttls_REQUIRED : mc->starttls == SPOOL_STARTTLS_YES ? Starttls_ENABLED :
	    Starttls_DISABLED);
	smtp_set_timeout(s, Timeout_GREETING | Timeout_OVERRIDE_RFC2822_MINIMUM, TIMEOUT_MS);
	smtp_set_timeout(s, Timeout_ENVELOPE | Timeout_OVERRIDE_RFC2822_MINIMUM, TIMEOUT_MS);
	smtp_set_timeout(s, Timeout_DATA | Timeout_OVERRIDE_RFC2822_MINIMUM, TIMEOUT_MS);
	smtp_set_timeout(s, Timeout_TRANSFER | Timeout_OVERRIDE_RFC2822_MINIMUM, TIMEOUT_MS);
	smtp_set_timeout(s, Timeout_DATA2 | Timeout_OVERRIDE_RFC2822_MINIMUM, TIMEOUT_MS);
	if (!ok)
		snprintf(r->problem, sizeof r->problem, "cannot set up libesmtp: %s",
		    smtp_strerror(smtp_errno(), buf, sizeof buf));
	return ok;
}

/* STARTTLS and AUTH as [mail] asks; 0 with r->problem set if they cannot be set up. */
static int
session_secure(struct run *r, smtp_session_t s, SSL_CTX **tls, auth_context_t *actx)
{
	const struct spool_mail_conf *mc = r->mc;
	int ok = 1;

	if (mc->starttls != SPOOL_STARTTLS_NO) {
		/* the system's CAs; whether a failed check matters is event_cb's to say */
		ok = (*tls = SSL_CTX_new(TLS_client_method())) != NULL &&
		    SSL_CTX_set_min_proto_version(*tls, TLS1_2_VERSION) &&
		    SSL_CTX_set_max_proto_version(*tls, TLS1_2_VERSION) &&
		    SSL_CTX_set_default_verify_paths(*tls) && smtp_starttls_set_ctx(s, *tls);
		if (!ok) {
			snprintf(r->problem, sizeof r->problem, "cannot set up TLS");
			return 0;
		}
	}
	if (mc->user != NULL) {
		auth_client_init();
		ok = (*actx = auth_create_context()) != NULL &&
		    auth_set_mechanism_flags(*actx, plain_ok(mc) ? AUTH_PLUGIN_PLAIN : 0, 0) &&
		    auth_set_interact_cb(*actx, interact, r) && smtp_auth_set_context(s, *actx);
		if (!ok)
			snprintf(r->problem, sizeof r->problem, "cannot set up AUTH");
	}
	return ok;
}

/* The renames into sent/ become durable together, then they are told. */
static void
sent_told(struct run *r, struct msg *v, int n)
{
	int i;

	if (!r->synced_sent) {
		if (spool_fsync_dir(r->sentfd) < 0 || spool_fsync_dir(r->newfd) < 0) {
			r->sum->errors++;
			log_warn("outbox: fsync");
		}
		r->synced_sent = 1;
	}
	for (i = 0; i < n; i++)
		if (v[i].outcome == O_SENT && v[i].moved) {
			r->sum->sent++;
			log_order(LOG_L_INFO, v[i].id, "mail %s to %s sent", v[i].name, v[i].rcpt);
		}
}

static void
session(struct run *r, struct msg *v, int n, const char *setup_error)
{
	const struct spool_mail_conf *mc = r->mc;
	auth_context_t actx = NULL;
	smtp_session_t s = NULL;
	SSL_CTX *tls = NULL;
	char text[WHY_MAX / 2], buf[128];
	int i, ok = setup_error == NULL, started = 0;

	r->problem[0] = '\0';
	ok = ok && session_create(r, &s) && session_secure(r, s, &tls, &actx);
	for (i = 0; ok && i < n; i++) {
		struct msg *g = &v[i];
		ok = (g->m = smtp_add_message(s)) != NULL &&
		    smtp_set_reverse_path(g->m, mc->from) &&
		    smtp_set_messagecb(g->m, msg_cb, g) &&
		    (g->r = smtp_add_recipient(g->m, g->rcpt)) != NULL;
		if (ok)
			smtp_message_set_application_data_release(g->m, g, NULL);
		else
			snprintf(r->problem, sizeof r->problem, "cannot add a message to libesmtp");
	}
	if (ok && !smtp_start_session(s)) {
		tidy(text, sizeof text, smtp_strerror(smtp_errno(), buf, sizeof buf));
		snprintf(r->problem, sizeof r->problem, "relay %.100s:%d: %s", mc->relay, mc->port,
		    text);
		ok = 0;
	} else
		started = ok;
	/* the statuses, before the session is destroyed */
	statuses(r, v, n, started, setup_error);
	if (s != NULL)
		smtp_destroy_session(s);
	SSL_CTX_free(tls);
	if (actx != NULL)
		auth_destroy_context(actx);
	if (mc->user != NULL && setup_error == NULL)
		auth_client_exit();
	sent_told(r, v, n);
}

/* The first line of password_file; malloc'd, or NULL with why set. */
static char *
read_password(int rootfd, const char *path, char *why, size_t len)
{
	char buf[1024], *p;
	ssize_t n;
	int fd;

	if ((fd = openat(rootfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		snprintf(why, len, "password_file %s: %s", path, strerror(errno));
		return NULL;
	}
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0) {
		snprintf(why, len, "password_file %s: %s", path, strerror(errno));
		return NULL;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		snprintf(why, len, "password_file %s: empty", path);
		return NULL;
	}
	p = strdup(buf);
	explicit_bzero(buf, sizeof buf);
	if (p == NULL)
		snprintf(why, len, "password_file %s: %s", path, strerror(errno));
	return p;
}

int
mailer_run(int rootfd, int reservefd, const struct spool_mail_conf *mc, time_t now,
    struct mailer_summary *sum)
{
	struct run r = { .mc = mc, .now = now, .sum = sum, .newfd = -1, .sentfd = -1,
		.failedfd = -1, .tmpfd = -1, .runfd = -1, .synced_sent = 1 };
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	char setup[WHY_MAX];
	struct msg *v;
	int outfd = -1, runfd = -1, lockfd = -1, rounds, n, full, errors, nsent, i, saved;
	int rc = -1;

	memset(sum, 0, sizeof *sum);
	if (mc->relay == NULL || mc->from == NULL)
		return 0;
	if ((outfd = opendir_at(rootfd, "outbox")) < 0 ||
	    (r.newfd = opendir_at(outfd, spool_basename(SPOOL_F_OUTBOX_NEW))) < 0 ||
	    (r.sentfd = opendir_at(outfd, spool_basename(SPOOL_F_OUTBOX_SENT))) < 0 ||
	    (r.failedfd = opendir_at(outfd, spool_basename(SPOOL_F_OUTBOX_FAILED))) < 0 ||
	    (r.tmpfd = opendir_at(rootfd, "tmp")) < 0 ||
	    (runfd = opendir_at(rootfd, "run")) < 0) {
		log_warn("mailer: cannot open the outbox");
		goto out;
	}
	r.runfd = reservefd >= 0 ? reservefd : runfd;
	/*
	 * One mailer at a time: two would offer the same message twice.  Read-only, as
	 * spoold's own lock, so that no file is held open for writing (a remount).
	 */
	lockfd = spool_lockfile(runfd, spool_basename(SPOOL_F_MAILER_LOCK));
	if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			log_warn("mailer: %s", SPOOL_NAME(SPOOL_F_MAILER_LOCK, NULL));
		goto out;
	}
	sigaction(SIGPIPE, &ign, &old);
	setup[0] = '\0';
	if (mc->user != NULL &&
	    (r.password = read_password(rootfd, mc->password_file, setup, sizeof setup)) == NULL)
		log_warnx("mailer: %s", setup);
	for (rounds = 0; rounds < ROUNDS_MAX; rounds++) {
		if ((n = collect(&r, &v, &full)) < 0) {
			log_warn("mailer: %s", SPOOL_NAME(SPOOL_F_OUTBOX_NEW, NULL));
			break;
		}
		errors = sum->errors;
		nsent = sum->sent;
		if (n > 0)
			session(&r, v, n, setup[0] != '\0' ? setup : NULL);
		for (i = 0; i < n; i++)
			free(v[i].data);
		free(v);
		/*
		 * Another session only after a full batch that went well: a message that could
		 * not be moved would otherwise be offered again in this run, and a relay that
		 * is down is down for the rest of the batch too.
		 */
		if (!full || n == 0 || sum->errors != errors || sum->sent == nsent)
			break;
	}
	sigaction(SIGPIPE, &old, NULL);
	sum->next_due = mailer_next_due(r.newfd, &sum->left);
	rc = 0;
out:
	saved = errno;
	if (r.password != NULL) {
		explicit_bzero(r.password, strlen(r.password));
		free(r.password);
	}
	close_all((int[]){ outfd, r.newfd, r.sentfd, r.failedfd, r.tmpfd, runfd, lockfd }, 7);
	errno = saved;
	return rc;
}
