/*
 * The top of libspool: spool_domain_init wires the domain layer (print, mail) into the
 * core's hooks, so that the core, which never calls up by name, still lets print
 * production act where the protocol needs it (a removed order's jobs leave the hot
 * folders).  Every program calls it once before it opens a spool.
 */
#include "spool.h"

void
spool_domain_init(void)
{
	spool_on_remove(spool_order_unpublish);
}
