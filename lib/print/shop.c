/*
 * The [shop] section of spool.conf: the shop's name, address, logo and footer lines,
 * which the invoices spool renders show.  The core's config reader hands the section
 * to this file through its section table (spool_conf_sections).
 */
#include <stdlib.h>
#include <string.h>

#include "../core/internal.h"

enum { K_NAME, K_ADDRESS, K_LOGO, K_FOOTER };

static void
open_shop(struct spool_conf_reader *r, struct spool_conf *c, const char *arg)
{
	(void)arg;
	if (c->shop != NULL) {
		spool_conf_error(r, 0, NULL, "[shop] given twice (first on line %d)", c->shop->line);
		return;
	}
	if ((c->shop = calloc(1, sizeof *c->shop)) == NULL) {
		spool_conf_error(r, 0, NULL, "out of memory");
		return;
	}
	c->shop->line = spool_conf_line(r);
}

/* address and footer: one line each time they are given, up to SPOOL_SHOP_LINES_MAX. */
static void
add_line(struct spool_conf_reader *r, char **lines, int *n, const char *name, const char *v)
{
	if (*n >= SPOOL_SHOP_LINES_MAX)
		spool_conf_error(r, 0, name, "more than %d lines", SPOOL_SHOP_LINES_MAX);
	else if ((lines[*n] = strdup(v)) == NULL)
		spool_conf_error(r, 0, name, "out of memory");
	else
		++*n;
}

static void
key_shop(struct spool_conf_reader *r, struct spool_conf *c, const char *name, const char *v)
{
	struct spool_shop *s = c->shop;
	static const char *const keys[] = { "name", "address", "logo", "footer",
		NULL };   /* in the order of K_* */
	int i;

	if (s == NULL)     /* [shop] given twice, said already */
		return;
	/* address and footer may be given again: each is one more line */
	s->seen &= ~(1u << K_ADDRESS | 1u << K_FOOTER);
	if ((i = spool_conf_key(r, keys, name, &s->seen, "[shop]")) < 0)
		return;
	if (v[0] == '\0') {
		spool_conf_error(r, 0, name, "must not be empty");
		return;
	}
	switch (i) {
	case K_NAME:
	case K_LOGO:
		if (spool_conf_setstr(i == K_NAME ? &s->name : &s->logo, v) < 0)
			spool_conf_error(r, 0, name, "out of memory");
		break;
	case K_ADDRESS:
		add_line(r, s->address, &s->naddress, name, v);
		break;
	case K_FOOTER:
		add_line(r, s->footer, &s->nfooter, name, v);
		break;
	}
}

static void
free_shop(struct spool_conf *c)
{
	struct spool_shop *s = c->shop;
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < s->naddress; i++)
		free(s->address[i]);
	for (i = 0; i < s->nfooter; i++)
		free(s->footer[i]);
	free(s->name);
	free(s->logo);
	free(s);
	c->shop = NULL;
}

const struct spool_conf_section spool_shop_section = {
	.name = "shop",
	.open = open_shop,
	.key = key_shop,
	.free = free_shop,
};
