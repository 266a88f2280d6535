/*
 * libspool: the on-disk format of a spool, and the only code that knows it.
 *
 * The contract is the one of spool-layout(5): the directory that holds an order file
 * is the order's state, order files are only ever moved with rename(2), and every
 * file appears whole.  Every function here returns 0 (or a count) on success and -1
 * with errno set on failure.  Where errno alone would not tell a person what went
 * wrong, the caller passes a struct spool_err and gets one line back that names the
 * order, the file or the line.  The library never prints and never exits.
 *
 * The API comes in two layers, one header per concern (ARCHITECTURE.md): the core
 * (core/) knows the protocol; the domain layer (bundle/, print/, mail/, web/) stands on
 * it.  This header includes them all.
 *
 * Ownership: a pointer returned through an out-parameter belongs to the caller and is
 * released with the matching *_free function; pointers inside struct spool_conf belong
 * to the conf.
 */
#ifndef SPOOL_H
#define SPOOL_H

/* What these headers declare is the API: exported from libspool.so (lib/libspool.map);
 * the rest of the library is built hidden (-fvisibility=hidden). */
#pragma GCC visibility push(default)

/* the core: the protocol, and nothing of print or mail */
#include "core/base.h"
#include "core/text.h"
#include "core/conf.h"
#include "core/layout.h"
#include "core/names.h"
#include "core/publish.h"
#include "core/order.h"
#include "core/move.h"
#include "core/history.h"
#include "core/check.h"
#include "core/journal.h"
#include "core/node.h"
/* the domain layer, on the core */
#include "bundle/bundle.h"
#include "print/queue.h"
#include "print/stitch.h"
#include "print/invoice.h"
#include "print/jobxml.h"
#include "print/print.h"
#include "mail/mailconf.h"
#include "mail/mail.h"
#include "web/users.h"

/*
 * Wire the layers above the core into its hooks (lib/init.c).  Call it once, before
 * the first spool_open: without it, removing an order leaves its print jobs behind.
 */
void spool_domain_init(void);

#pragma GCC visibility pop

#endif
