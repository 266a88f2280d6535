/*
 * The [mail] section of spool.conf: the relay, the addresses and the templates of
 * notifications.  The core's config reader hands the section to this file through
 * its section table (spool_conf_sections), so the core knows nothing of mail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/internal.h"

/* A host name or IPv4 address: letters, digits, dots and hyphens. */
static int
host_ok(const char *v)
{
	size_t i;

	if (v[0] == '\0' || v[0] == '-' || v[0] == '.' || strlen(v) > 253)
		return 0;
	for (i = 0; v[i] != '\0'; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		    (v[i] >= '0' && v[i] <= '9') || v[i] == '.' || v[i] == '-'))
			return 0;
	return 1;
}

/* A details URL: printable ASCII without blanks, with {order_id} and maybe {item_id}. */
static int
url_ok(const char *v)
{
	const char *p;
	int order = 0;

	if (strlen(v) > 512)
		return 0;
	for (p = v; *p != '\0'; p++) {
		if (*p <= ' ' || *p > '~' || *p == '"' || *p == '<' || *p == '>' || *p == '}')
			return 0;
		if (*p != '{')
			continue;
		if (strncmp(p, "{order_id}", 10) == 0) {
			order = 1;
			p += 9;
		} else if (strncmp(p, "{item_id}", 9) == 0)
			p += 8;
		else
			return 0;
	}
	return order;
}

static int
init(struct spool_conf *c)
{
	if ((c->mail = calloc(1, sizeof *c->mail)) == NULL)
		return -1;
	c->mail->port = 25;
	c->mail->retry = 60;
	c->mail->lifetime = 5 * 86400;
	return 0;
}

static void
open_mail(struct spool_conf_reader *r, struct spool_conf *c, const char *arg)
{
	(void)arg;
	if (c->mail->line != 0)
		spool_conf_error(r, 0, NULL, "[mail] given twice (first on line %d)",
		    c->mail->line);
	c->mail->line = spool_conf_line(r);
}

/* The value of a key that holds a string, checked; NULL after an error. */
static char **
string_key(struct spool_conf_reader *r, struct spool_mail_conf *m, int i, const char *name,
    const char *v)
{
	char **const dst[] = { &m->relay, NULL, NULL, &m->user, &m->password_file, &m->from,
		&m->reply_to, &m->admin, &m->superuser, &m->details_url, &m->domain, NULL, NULL,
		&m->templates, &m->order_url, &m->helo };

	if ((i == 0 || i == 10 || i == 15) && !host_ok(v))
		spool_conf_error(r, 0, name, "'%s' is not a %s", v,
		    i == 0 ? "host name or address" : i == 10 ? "domain" : "host name");
	else if ((i == 3 || i == 4 || i == 13) && v[0] == '\0')
		spool_conf_error(r, 0, name, "must not be empty");
	else if (i >= 5 && i <= 8 && !spool_mail_addr_ok(v))
		spool_conf_error(r, 0, name, "'%s' is not a plain address (local@domain)", v);
	else if ((i == 9 || i == 14) && !url_ok(v))
		spool_conf_error(r, 0, name, "expected a URL of printable characters with "
		    "{order_id} (and maybe {item_id}), no blanks or other braces");
	else
		return dst[i];
	return NULL;
}

static void
key_mail(struct spool_conf_reader *r, struct spool_conf *c, const char *name, const char *v)
{
	struct spool_mail_conf *m = c->mail;
	static const char *const keys[] = { "relay", "port", "starttls", "user",
		"password_file", "from", "reply_to", "admin", "superuser", "details_url", "domain",
		"retry", "lifetime", "templates", "order_url", "helo", NULL };
	static const char *const tls[] = { "no", "yes", "required", NULL };
	char **dst;
	long n;
	int i, t;

	if ((i = spool_conf_key(r, keys, name, &m->seen, "[mail]")) < 0)
		return;
	switch (i) {
	case 1:
		if (spool_conf_number(v, 1, 65535, &n) < 0)
			spool_conf_error(r, 0, name, "expected a port from 1 to 65535");
		else
			m->port = (int)n;
		return;
	case 2:
		if ((t = spool_conf_choice(v, tls)) < 0)
			spool_conf_error(r, 0, name, "expected no, yes or required");
		else
			m->starttls = (enum spool_starttls)t;
		return;
	case 11:
		if (spool_duration_parse(v, &m->retry) < 0 || m->retry < 1 || m->retry > 3600)
			spool_conf_error(r, 0, name, "expected a duration from 1s to 1h");
		return;
	case 12:
		if (spool_duration_parse(v, &m->lifetime) < 0 || m->lifetime < 60)
			spool_conf_error(r, 0, name, "expected a duration of at least 1m");
		return;
	}
	if (i == 0 && strcmp(v, "none") == 0)
		return;
	if ((dst = string_key(r, m, i, name, v)) != NULL && spool_conf_setstr(dst, v) < 0)
		spool_conf_error(r, 0, name, "out of memory");
}

/* [mail] as a whole, and the addresses the workflow's notify actions need. */
static void
check_mail(struct spool_conf_reader *r, struct spool_conf *c)
{
	struct spool_mail_conf *m = c->mail;
	int i, j, line = m->line > 0 ? m->line : 1;

	if ((m->user == NULL) != (m->password_file == NULL))
		spool_conf_error(r, line, NULL, "[mail] needs user and password_file together");
	if (m->lifetime < m->retry)
		spool_conf_error(r, line, "lifetime", "is shorter than retry");
	if (m->relay == NULL)
		return;
	if (m->from == NULL)
		spool_conf_error(r, line, "from", "[mail] needs from when relay is set");
	for (i = 0; i < c->nstates; i++)
		for (j = 0; j < c->states[i].nactions; j++) {
			const struct spool_action *a = &c->states[i].actions[j];
			if (a->kind != SPOOL_ACT_NOTIFY)
				continue;
			if ((strcmp(a->argv[1], "admin") == 0 && m->admin == NULL) ||
			    (strcmp(a->argv[1], "superuser") == 0 && m->superuser == NULL))
				spool_conf_error(r, a->line, "action", "notify %s needs [mail] %s",
				    a->argv[1], a->argv[1]);
		}
}

static void
free_mail(struct spool_conf *c)
{
	struct spool_mail_conf *m = c->mail;

	if (m == NULL)
		return;
	free(m->relay);
	free(m->user);
	free(m->password_file);
	free(m->from);
	free(m->reply_to);
	free(m->admin);
	free(m->superuser);
	free(m->details_url);
	free(m->domain);
	free(m->templates);
	free(m->order_url);
	free(m->helo);
	free(m);
	c->mail = NULL;
}

const struct spool_conf_section spool_mail_section = {
	.name = "mail",
	.init = init,
	.open = open_mail,
	.key = key_mail,
	.check = check_mail,
	.free = free_mail,
};
