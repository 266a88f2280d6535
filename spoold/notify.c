/*
 * Notifications: the notify action and the reminders compose a message from a
 * template and spool it into outbox/new/ (libspool does the composing and the safe
 * publish); the mailer (mailer.c), in a child process, sends what is there.  A mail
 * that cannot be composed (mail is off, a bad address, a broken template) is said in
 * the order's history and the order goes on: a notification never holds an order.
 * A message is named after the event it tells of (the visit and the action's step,
 * or the reminder), so a notify that runs again after a crash queues no second one.
 * A message that cannot be written (a full disk) is not a mail that cannot be sent:
 * notify says so apart (-2), and the look that wanted it stops and is done again.
 *
 * The mailer starts only after the sync that covers the moves its mails tell of,
 * so no customer hears of a state that a crash could take back.  It is not killed
 * with spoold: a session under way finishes and files its messages, and the lock it
 * holds (run/mailer.lock) keeps the next spoold's mailer from sending them again.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "mailer.h"
#include "spoold.h"

#define MAIL_RETRY_SPAWN 10   /* seconds before trying again when fork fails */

/* What a mail tells of the order besides its id: from orders/<id>/order.xml. */
struct about {
	char items[SPOOL_FIELD_MAX + 1];     /* the items' ids, comma-separated: {item_id} */
	char email[SPOOL_FIELD_MAX + 1];     /* {customer_email} */
	char billing[SPOOL_LINES_MAX * (SPOOL_FIELD_MAX + 1)];   /* {customer_address} */
	char shipping[SPOOL_LINES_MAX * (SPOOL_FIELD_MAX + 1)];  /* {shipping_address} */
	char url[1024], order_url[1024];     /* {details_url}, {order_url} */
};

/* An address's lines, one per line, bounded. */
static void
address(char *buf, size_t len, char lines[][SPOOL_FIELD_MAX + 1], int n)
{
	size_t used = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < n && used + strlen(lines[i]) + 2 < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i > 0 ? "\n" : "",
		    lines[i]);
}

/* Fill a from the order's bundle (what cannot be read stays empty) and the URLs. */
static void
order_about(struct daemon *d, const char *id, const char *item, struct about *a)
{
	const struct spool_mail_conf *mc = d->conf->mail;
	struct spool_bundle *b;
	struct spool_err err;
	size_t used = 0;
	const char *one;
	int i;

	memset(a, 0, sizeof *a);
	if (spool_order_load(d->sp, id, &b, &err) == 0) {
		for (i = 0; item == NULL && i < b->nitems &&
		    used + strlen(b->items[i].id) + 3 < sizeof a->items; i++)
			used += (size_t)snprintf(a->items + used, sizeof a->items - used, "%s%s",
			    i > 0 ? ", " : "", b->items[i].id);
		snprintf(a->email, sizeof a->email, "%s", b->order.email);
		address(a->billing, sizeof a->billing, b->billing, b->nbilling);
		address(a->shipping, sizeof a->shipping, b->shipping, b->nshipping);
		spool_bundle_free(b);
	}
	if (item != NULL)
		snprintf(a->items, sizeof a->items, "%s", item);
	one = strchr(a->items, ',') == NULL && a->items[0] != '\0' ? a->items : NULL;
	if (mc->details_url != NULL &&
	    spool_mail_url(mc->details_url, id, one, a->url, sizeof a->url) < 0)
		a->url[0] = '\0';
	if (mc->order_url != NULL &&
	    spool_mail_url(mc->order_url, id, one, a->order_url, sizeof a->order_url) < 0)
		a->order_url[0] = '\0';
}

/*
 * Who gets a mail to the audience, and the order (o) it tells of; -1: nobody (why).
 * state may be where the order goes rather than where it is (a printer's failure is
 * told before the move): the order file is read from where the order is.
 */
static int
recipient(struct daemon *d, const char *id, int state, const char *audience,
    struct spool_order *o, const char **to, const char **to_name, char *why, size_t whylen)
{
	const struct spool_mail_conf *mc = d->conf->mail;
	struct spool_err err;
	int at;

	if (spool_order_read(d->sp, id, state, o, &err) < 0 &&
	    (spool_locate(d->sp, id, &at) != 1 || spool_order_read(d->sp, id, at, o, &err) < 0)) {
		if (strcmp(audience, "customer") == 0) {
			snprintf(why, whylen, "%s", err.msg);
			return -1;
		}
		o->customer[0] = o->email[0] = '\0';
	}
	if (strcmp(audience, "customer") == 0) {
		*to = o->email;
		*to_name = o->customer[0] != '\0' ? o->customer : NULL;
	} else
		*to = strcmp(audience, "admin") == 0 ? mc->admin : mc->superuser;
	if (*to == NULL || (*to)[0] == '\0') {
		snprintf(why, whylen, "no address for the %s", audience);
		return -1;
	}
	if (!spool_mail_addr_ok(*to)) {
		snprintf(why, whylen, "the %s's address '%.80s' is not a plain address", audience,
		    *to);
		return -1;
	}
	return 0;
}

/* Render template tmpl (and its HTML part, if it has one) and compose the message. */
static int
compose(struct daemon *d, const char *tmpl, const struct spool_mail_var *vars, size_t nvars,
    const char *to, const char *to_name, char **msg, size_t *mlen, struct spool_err *err)
{
	const struct spool_mail_conf *mc = d->conf->mail;
	char *text = NULL, *html = NULL, *subject = NULL, *body = NULL, *hbody = NULL;
	char where[512], host[256];
	size_t len, hlen;
	int r = -1, rootfd = spool_dirfd(d->sp, SPOOL_DIR_ROOT), h;

	if (spool_mail_template_read(d->conf, rootfd, tmpl, &text, &len, where, sizeof where,
	    err) < 0 ||
	    spool_mail_render(where, text, len, vars, nvars, &subject, &body, err) < 0 ||
	    (h = spool_mail_html_read(d->conf, rootfd, tmpl, &html, &hlen, where, sizeof where,
	    err)) < 0 ||
	    (h == 1 && spool_mail_render_html(where, html, hlen, vars, nvars, &hbody, err) < 0))
		goto out;
	mail_hostname(mc, host, sizeof host);
	r = spool_mail_compose(&(struct spool_mail){ .from = mc->from, .to = to,
	    .to_name = to_name, .reply_to = mc->reply_to, .subject = subject, .body = body,
	    .html = hbody, .date = time(NULL), .domain = mc->domain != NULL ? mc->domain : host },
	    msg, mlen, err);
out:
	free(text);
	free(html);
	free(subject);
	free(body);
	free(hbody);
	return r;
}

int
notify(struct daemon *d, const char *id, int state, const char *tmpl, const char *audience,
    const char *message, const char *item, time_t when, const char *key, char *why,
    size_t whylen)
{
	const struct spool_mail_conf *mc = d->conf->mail;
	const struct spool_state *s = &d->conf->states[state];
	char code[16], name[SPOOL_OUTBOX_NAME_MAX];
	const char *to, *to_name = NULL;
	struct spool_order o;
	struct spool_err err;
	struct about *a;
	char *msg = NULL;
	size_t mlen;
	int r;

	if (wfailed(d))
		return -2;
	if (mc->relay == NULL) {
		snprintf(why, whylen, "mail is off (no relay in [mail])");
		return -1;
	}
	if (recipient(d, id, state, audience, &o, &to, &to_name, why, whylen) < 0)
		return -1;
	if ((a = malloc(sizeof *a)) == NULL) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	order_about(d, id, item, a);
	if (a->email[0] == '\0')
		snprintf(a->email, sizeof a->email, "%s", o.email);
	if (s->code >= 0)
		snprintf(code, sizeof code, "%d", s->code);
	else
		code[0] = '\0';
	{
		const struct spool_mail_var vars[] = {
			{ "order_id", id }, { "item_id", a->items }, { "status", s->display },
			{ "code", code }, { "message", message }, { "details_url", a->url },
			{ "customer", o.customer }, { "customer_email", a->email },
			{ "customer_address", a->billing }, { "shipping_address", a->shipping },
			{ "order_url", a->order_url },
		};
		r = compose(d, tmpl, vars, sizeof vars / sizeof vars[0], to, to_name, &msg, &mlen,
		    &err);
	}
	free(a);
	if (r < 0) {
		snprintf(why, whylen, "%s", err.msg);
		return -1;
	}
	if ((r = spool_outbox_put_once(d->sp, id, when, key, msg, mlen, name, sizeof name,
	    &err)) < 0) {
		int e = errno;

		snprintf(why, whylen, "%s", err.msg);
		free(msg);
		/* a name it cannot make is for good; anything else, a write to do again */
		return e == EINVAL || e == ENAMETOOLONG ? -1 :
		    wfail(d, e, "%s (mail %s to the %s)",
		    SPOOL_NAME(SPOOL_F_OUTBOX_NEW, NULL), tmpl, audience) - 1;
	}
	free(msg);
	/* the same event told again (its notify ran again after a crash): one mail */
	snprintf(why, whylen, "mail %s to the %s <%s> %s %s", tmpl, audience, to,
	    r == 1 ? "was queued already as" : "queued as", SPOOL_NAME(SPOOL_F_OUTBOX_NEW, name));
	d->mail_wanted = 1;
	d->mail_gen = d->sync_gen + 1;    /* the next sync covers what led to it */
	return 0;
}

/* The earliest due time in outbox/new/, or 0: what the mailer's own survey says. */
static time_t
outbox_next(struct daemon *d)
{
	int fd = openat(spool_dirfd(d->sp, SPOOL_DIR_OUTBOX), spool_basename(SPOOL_F_OUTBOX_NEW),
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	time_t next;

	if (fd < 0)
		return 0;
	next = mailer_next_due(fd, NULL);
	close(fd);
	return next;
}

/* Start the mailer if mail waits, its moves are durable, and none runs. */
void
mail_kick(struct daemon *d, time_t now)
{
	const struct spool_mail_conf *mc = d->conf->mail;
	struct mailer_summary sum;
	pid_t pid;

	if (mc->relay == NULL || d->mail_pid != 0 || d->terminating)
		return;
	if (!d->mail_wanted && (d->mail_next == 0 || d->mail_next > now))
		return;
	if (d->sync_done_gen < d->mail_gen)
		return;    /* sync_finished calls again */
	if ((pid = fork()) < 0) {
		log_warn("cannot start the mailer");
		d->mail_next = now + MAIL_RETRY_SPAWN;
		return;
	}
	if (pid == 0) {
		/* a process of its own: spoold's signals and its end do not cut a session */
		sigset_t none;
		lock_drop(d);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGINT, SIG_IGN);
		setpgid(0, 0);
		_exit(mailer_run(spool_dirfd(d->sp, SPOOL_DIR_ROOT), spool_node_dirfd(d->sp), mc,
		    time(NULL), &sum) < 0 ||
		    sum.errors > 0 ? 1 : 0);
	}
	d->mail_pid = pid;
	d->mail_wanted = 0;
	d->mail_next = 0;
}

/* The mailer has ended: when is the next message due? */
void
mail_done(struct daemon *d, int status)
{
	time_t now = time(NULL);

	d->mail_pid = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		log_warnx("the mailer %s; see the lines above",
		    WIFEXITED(status) ? "met errors" : "was killed");
	d->mail_next = outbox_next(d);
	if (d->mail_next != 0 && d->mail_next <= now)
		/* due already (new ones, or another mailer held the lock): in a moment */
		d->mail_next = now + 1;
}
