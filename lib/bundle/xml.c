/*
 * The one parser of untrusted XML in libspool.  Everything that comes from outside
 * (a bundle's order.xml and upload.xml, a printer's job.xml) goes through it, so the
 * rules of ../shared/DEPENDENCIES.md hold in one place: XML_PARSE_NONET and nothing
 * that loads or substitutes, an external entity loader that loads nothing, and no
 * DOCTYPE, refused from the SAX event where it starts so that not even its internal
 * subset is read (a quadratic entity blow-up needs no loop and no network).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include "../core/internal.h"
#include "xml.h"

void
xml_message(char *dst, size_t len, const char *s)
{
	size_t i = 0;

	for (; s != NULL && *s != '\0' && i + 1 < len; s++)
		dst[i++] = (*s >= 0x20 && *s < 0x7f) ? *s : *s == '\n' ? ' ' : '?';
	while (i > 0 && dst[i - 1] == ' ')
		i--;
	dst[i] = '\0';
}

struct parse {
	int nerr;
	int doctype;
	int line;
	char msg[160];
};

static void
on_error(void *arg, xmlErrorPtr e)
{
	struct parse *p = arg;

	if (e == NULL || e->level < XML_ERR_ERROR || p->nerr++ > 0)
		return;
	p->line = e->line;
	xml_message(p->msg, sizeof p->msg, e->message);
}

/* The SAX event of <!DOCTYPE: stop right there, before its internal subset is read. */
static void
on_doctype(void *ctx, const xmlChar *name, const xmlChar *external, const xmlChar *system)
{
	xmlParserCtxtPtr c = ctx;
	struct parse *p = c->_private;

	(void)name;
	(void)external;
	(void)system;
	p->doctype = 1;
	p->line = c->input != NULL ? c->input->line : 0;
	xmlStopParser(c);
}

static xmlParserInputPtr
no_entities(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url;
	(void)id;
	(void)ctxt;
	return NULL;
}

xmlDocPtr
xml_hostile(const char *buf, size_t len, const char *name, size_t max, int notwf,
    struct spool_err *err)
{
	xmlStructuredErrorFunc old_fn = xmlStructuredError;
	void *old_ctx = xmlStructuredErrorContext;
	xmlExternalEntityLoader old_loader;
	struct parse p = { .nerr = 0 };
	xmlParserCtxtPtr c;
	xmlDocPtr doc;
	int opts = XML_PARSE_NONET | XML_PARSE_BIG_LINES, wf;

#if LIBXML_VERSION >= 21300
	opts |= XML_PARSE_NO_XXE;
#endif
	if (len > max || len > (size_t)INT32_MAX) {
		failerr(err, EFBIG, "%s: over %zu bytes", name, max);
		return NULL;
	}
	if (len == 0) {
		failerr(err, notwf, "%s: not well-formed at line 1: the file is empty", name);
		return NULL;
	}
	if ((c = xmlCreateMemoryParserCtxt(buf, (int)len)) == NULL) {
		failerr(err, ENOMEM, "%s: out of memory", name);
		return NULL;
	}
	xmlCtxtUseOptions(c, opts);
	c->_private = &p;
	c->sax->internalSubset = on_doctype;
	old_loader = xmlGetExternalEntityLoader();
	xmlSetExternalEntityLoader(no_entities);
	xmlSetStructuredErrorFunc(&p, on_error);
	xmlParseDocument(c);
	xmlSetStructuredErrorFunc(old_ctx, old_fn);
	xmlSetExternalEntityLoader(old_loader);
	doc = c->myDoc;
	c->myDoc = NULL;
	wf = c->wellFormed;
	xmlFreeParserCtxt(c);
	if (p.doctype || (doc != NULL && xmlGetIntSubset(doc) != NULL)) {
		xmlFreeDoc(doc);
		failerr(err, EINVAL, "%s:%d: a DOCTYPE is not allowed", name, p.line);
		return NULL;
	}
	if (doc == NULL || !wf || p.nerr > 0) {
		xmlFreeDoc(doc);
		failerr(err, notwf, "%s: not well-formed at line %d: %s", name, p.line,
		    p.nerr > 0 ? p.msg : "parse error");
		return NULL;
	}
	/* what a schema check says of it names the file */
	if (doc->URL == NULL)
		doc->URL = xmlStrdup((const xmlChar *)name);
	return doc;
}

static void
on_invalid(void *arg, xmlErrorPtr e)
{
	struct xml_invalid *v = arg;
	size_t n;

	if (e == NULL || v->line != 0 || v->msg[0] != '\0')
		return;
	v->line = e->line;
	snprintf(v->msg, sizeof v->msg, "%s", e->message != NULL ? e->message : "");
	n = strlen(v->msg);
	while (n > 0 && (v->msg[n - 1] == '\n' || v->msg[n - 1] == ' '))
		v->msg[--n] = '\0';
	if (v->msg[0] == '\0')
		snprintf(v->msg, sizeof v->msg, "error");
}

/*
 * The shipped schemas, compiled once per process: compiling one costs milliseconds,
 * more than checking a bundle with it, and spoold's submit helper checks many.  They
 * are few, never change, and stay for the life of the process.
 */
#define SCHEMAS_MAX 8
static struct {
	char name[64];
	xmlSchemaPtr schema;
} schemas[SCHEMAS_MAX];

static xmlSchemaPtr
schema_of(const char *xsd)
{
	xmlSchemaParserCtxtPtr pc;
	xmlSchemaPtr schema = NULL;
	const char *data;
	size_t len;
	int i;

	for (i = 0; i < SCHEMAS_MAX && schemas[i].schema != NULL; i++)
		if (strcmp(schemas[i].name, xsd) == 0)
			return schemas[i].schema;
	if ((data = spool_shipped(xsd, &len)) == NULL) {
		errno = ENOENT;
		return NULL;
	}
	if ((pc = xmlSchemaNewMemParserCtxt(data, (int)len)) != NULL)
		schema = xmlSchemaParse(pc);
	xmlSchemaFreeParserCtxt(pc);
	if (schema == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (i < SCHEMAS_MAX && strlen(xsd) < sizeof schemas[i].name) {
		snprintf(schemas[i].name, sizeof schemas[i].name, "%s", xsd);
		schemas[i].schema = schema;
	}
	return schema;
}

int
xml_valid(xmlDocPtr doc, const char *xsd, struct xml_invalid *v)
{
	xmlStructuredErrorFunc old_fn = xmlStructuredError;
	void *old_ctx = xmlStructuredErrorContext;
	xmlSchemaValidCtxtPtr vc = NULL;
	xmlSchemaPtr schema;
	int r = -1, i;

	memset(v, 0, sizeof *v);
	xmlSetStructuredErrorFunc(v, on_invalid);
	if ((schema = schema_of(xsd)) == NULL && errno == ENOENT)
		goto out;    /* not shipped */
	if (schema == NULL || (vc = xmlSchemaNewValidCtxt(schema)) == NULL) {
		v->schema = 1;
		errno = EINVAL;
		goto out;
	}
	xmlSchemaSetValidStructuredErrors(vc, on_invalid, v);
	if (xmlSchemaValidateDoc(vc, doc) != 0) {
		errno = EINVAL;
		goto out;
	}
	r = 0;
out:
	xmlSetStructuredErrorFunc(old_ctx, old_fn);
	xmlSchemaFreeValidCtxt(vc);
	/* one that could not be kept (the table is full) goes with this check */
	for (i = 0; i < SCHEMAS_MAX && schemas[i].schema != schema; i++)
		;
	if (schema != NULL && i == SCHEMAS_MAX)
		xmlSchemaFree(schema);
	return r;
}

/* The schema is the contract; the code only trusts what it says. */
xmlDocPtr
xml_load(const char *buf, size_t len, const char *name, size_t max, const char *xsd,
    struct spool_err *err)
{
	struct xml_invalid v;
	xmlDocPtr doc;

	if ((doc = xml_hostile(buf, len, name, max, EINVAL, err)) == NULL)
		return NULL;
	if (xml_valid(doc, xsd, &v) < 0) {
		if (errno == ENOENT)
			failerr(err, ENOENT, "schema %s is missing", xsd);
		else if (v.schema)
			failerr(err, EINVAL, "schema %s: %s", xsd, v.msg[0] ? v.msg : "cannot be compiled");
		else if (v.msg[0] != '\0')
			failerr(err, EINVAL, "%s:%d: %s", name, v.line, v.msg);
		else
			failerr(err, EINVAL, "does not match its schema");
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}
