/*
 * libspool's one parser of untrusted XML (order.xml, upload.xml, a printer's
 * job.xml).  Internal: its callers add their size limits and their own wording.
 */
#ifndef SPOOL_XML_H
#define SPOOL_XML_H

#include <stddef.h>

#include <libxml/tree.h>

struct spool_err;

/*
 * Parse name's text buf with no network, no DTD, no entity substitution, no external
 * entity loader, and no DOCTYPE at all: the parse stops at "<!DOCTYPE", before any
 * entity is declared.  Returns the document, or NULL and -1 semantics in errno/err:
 * EFBIG over max bytes, EINVAL "NAME:LINE: a DOCTYPE is not allowed", ENOMEM, and for
 * a document that is not well-formed (or empty) the caller's notwf errno with "NAME:
 * not well-formed at line N: ...".  libxml2's error handlers are process-wide; the
 * ones in place before are put back.
 */
xmlDocPtr xml_hostile(const char *buf, size_t len, const char *name, size_t max, int notwf,
    struct spool_err *err);

/* The first complaint of a schema check: its line and libxml2's message, trimmed. */
struct xml_invalid {
	int schema;         /* 1: the schema itself did not compile */
	int line;
	char msg[400];      /* "" if libxml2 said nothing */
};

/*
 * Check doc against the compiled-in schema xsd ("schemas/order.xsd"): 0, or -1 with
 * errno ENOENT (no such schema) or EINVAL and *v saying why.  The error handlers in
 * place before are put back.
 */
int xml_valid(xmlDocPtr doc, const char *xsd, struct xml_invalid *v);

/*
 * xml_hostile (a document that is not well-formed gives EINVAL), then xml_valid against
 * xsd, with the complaint in err: "NAME:LINE: libxml2's message", or "schema XSD is
 * missing" (ENOENT) or "schema XSD: ..." when the schema itself fails.
 */
xmlDocPtr xml_load(const char *buf, size_t len, const char *name, size_t max,
    const char *xsd, struct spool_err *err);

/* libxml2's message, as one line of printable ASCII (it may quote the input). */
void xml_message(char *dst, size_t len, const char *s);

#endif
