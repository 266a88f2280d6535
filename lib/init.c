/*
 * The top of libspool: spool_domain_init wires the domain layer (print, mail) into the
 * core's hooks, so that the core, which never calls up by name, still lets print
 * production act where the protocol needs it (a removed order's jobs leave the hot
 * folders), and the domain reads its own sections of spool.conf ([queue NAME],
 * [mail], [shop]).  Every program calls it once before it reads a spool.conf.
 */
#include "core/internal.h"

void
spool_domain_init(void)
{
	/* in the order spool.conf(5) lists them, which messages follow */
	static const struct spool_conf_section *const sections[] = { &spool_queue_section,
		&spool_product_section, &spool_mail_section, &spool_shop_section, NULL };

	spool_conf_sections(sections);
	spool_on_remove(spool_order_unpublish);
}
