/*
 * xml - the libxml2 wrapper (see xml.h): parse a document from memory,
 * validate it against one of our schemas, and hand back a node tree.
 * Reads the schema files under the schema folder (each compiled once per
 * process); writes nothing.
 *
 * SECURITY: this module parses untrusted input: registrations from center
 * staff, records from other agencies, requests from operators' mail. The
 * order of the checks matters:
 *
 *  1. the size is checked before anything else is done with the bytes;
 *  2. the whole buffer must be valid UTF-8 without NUL bytes, and an XML
 *     declaration may only name UTF-8 (libxml2 is told the encoding, so it
 *     never converts from another one);
 *  3. a DOCTYPE (or entity declaration) in the prolog is refused before
 *     libxml2 sees the document; should one slip past that scan, the
 *     parser's SAX hooks stop it at the DOCTYPE, before any entity is
 *     declared, and a document with a DTD is refused after parsing;
 *  4. libxml2 runs without XML_PARSE_NOENT, DTDLOAD, DTDATTR, DTDVALID,
 *     XINCLUDE and HUGE, with NONET, and with an external entity loader
 *     that refuses everything (schemas excepted, while they are compiled);
 *  5. errors go to a structured handler that keeps the first one; nothing
 *     is printed.
 *
 * Reasons carry no personal data. A reason names the element (and the
 * attribute) and says what is wrong with it: `<birth-date>: not a valid
 * date`, `<sex>: not one of female, male`. The value itself is quoted only
 * for the elements and attributes listed in quotable[] (ids, dates and
 * kinds of a document, never a field of a person, a requester, the care or
 * the intake), and for every element of the configuration and of bundle
 * manifests, which hold no personal data. libxml2's own words are used
 * only where they cannot hold text of the document: a document that is
 * not well-formed is described by the error's code and its line, naming
 * only elements the schema declares. A quoted value is short and
 * cleaned up, so that no control character and no long text reaches a
 * reason file, a reply or stderr.
 *
 * Not thread-safe: libxml2's error handlers and the compiled schemas are
 * process-wide, as the pipeline is single-threaded.
 */
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include "text.h"
#include "xml_int.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

#define XS_NS "http://www.w3.org/2001/XMLSchema"
#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"

/*
 * No NOENT, DTDLOAD, DTDATTR, DTDVALID, XINCLUDE or HUGE, ever: see the
 * SECURITY note above. CDATA sections are merged into text.
 */
#define PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES | XML_PARSE_IGNORE_ENC)


static const char *schema_files[XML_SCHEMA_MAX] = {
	[XML_SCHEMA_CONFIG] = "config.xsd",
	[XML_SCHEMA_REGISTRATION] = "registration.xsd",
	[XML_SCHEMA_REQUEST] = "request.xsd",
	[XML_SCHEMA_MANIFEST] = "manifest.xsd",
};

static struct schema schemas[XML_SCHEMA_MAX];
static char *schema_dir;
static int initialised;
static int loading_schema;
static __thread int doctype_seen;
static xmlExternalEntityLoader default_loader;

/* The first error libxml2 reported (to this thread): xml_int.h. */
__thread struct xml_capture xml_cap;

static void capture_reset(void)
{
	free(xml_cap.message);
	free(xml_cap.str1);
	free(xml_cap.str2);
	memset(&xml_cap, 0, sizeof(xml_cap));
}

static void on_error(void *data, xmlErrorPtr e)
{
	if (xml_cap.set || !e || e->level < XML_ERR_ERROR)
		return;
	xml_cap.set = 1;
	xml_cap.domain = e->domain;
	xml_cap.code = e->code;
	xml_cap.line = e->line;
	xml_cap.node = e->node;
	xml_cap.message = xstrdup(e->message ? e->message : "");
	xml_cap.str1 = e->str1 ? xstrdup(e->str1) : NULL;
	xml_cap.str2 = e->str2 ? xstrdup(e->str2) : NULL;
}

static void on_generic_error(void *data, const char *fmt, ...)
{
	/* Everything goes through on_error(); never print. */
}

static xmlParserInputPtr refuse_loader(const char *url, const char *id,
				       xmlParserCtxtPtr ctxt)
{
	/* Our own schema files (and what they include), never the network. */
	if (loading_schema && url && !strstr(url, "://"))
		return default_loader(url, id, ctxt);
	if (loading_schema && url && !strncmp(url, "file:///", 8))
		return default_loader(url, id, ctxt);
	return NULL;
}

static void xml_init(void)
{
	if (initialised)
		return;
	xmlInitParser();
	if (!default_loader)
		default_loader = xmlGetExternalEntityLoader();
	xmlSetExternalEntityLoader(refuse_loader);
	initialised = 1;
}

/* Set before every use: other code may have changed them. */
static void errors_to_capture(void)
{
	capture_reset();
	xmlSetStructuredErrorFunc(NULL, on_error);
	xmlSetGenericErrorFunc(NULL, on_generic_error);
}

void xml_set_schema_dir(const char *dir)
{
	free(schema_dir);
	schema_dir = xstrdup(dir);
	xml_init();
}

/* ------------------------------------------------------------------ */
/* Schemas                                                             */
/* ------------------------------------------------------------------ */

static int is_xs(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       !strcmp((const char *)n->ns->href, XS_NS) &&
	       !strcmp((const char *)n->name, name);
}

static int min_occurs_zero(xmlNodePtr n)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)"minOccurs");
	int zero = v && !strcmp((const char *)v, "0");

	xmlFree(v);
	return zero;
}

/* The attribute's value after any "prefix:", malloc'ed; NULL if absent. */
static char *prop_local(xmlNodePtr n, const char *name)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	const char *colon;
	char *res;

	if (!v)
		return NULL;
	colon = strchr((const char *)v, ':');
	res = xstrdup(colon ? colon + 1 : (const char *)v);
	xmlFree(v);
	return res;
}

static void model_add(struct schema *s, const char *parent, const char *child,
		      int optional)
{
	struct strbuf key = STRBUF_INIT;

	strbuf_addf(&key, "%s\t%s", parent, child);
	strlist_add(optional ? &s->optional : &s->required, key.buf);
	strlist_add(&s->names, child);
	strbuf_release(&key);
}

/* Record the child elements a content model declares, with their optionality. */
static void model_walk(struct schema *s, const char *parent, xmlNodePtr n, int optional)
{
	xmlNodePtr c;

	for (c = n->children; c; c = c->next) {
		int opt = optional || min_occurs_zero(c);

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_xs(c, "element")) {
			char *name = prop_local(c, "name");

			if (!name)
				name = prop_local(c, "ref");
			if (name)
				model_add(s, parent, name, opt);
			free(name);
		} else if (is_xs(c, "sequence") || is_xs(c, "all") ||
			   is_xs(c, "complexContent") || is_xs(c, "extension") ||
			   is_xs(c, "restriction")) {
			model_walk(s, parent, c, opt);
		} else if (is_xs(c, "choice")) {
			model_walk(s, parent, c, 1);
		}
	}
}

static xmlNodePtr find_complex_type(xmlNodePtr root, const char *name)
{
	xmlNodePtr c;

	for (c = root->children; c; c = c->next) {
		if (is_xs(c, "complexType")) {
			char *n = prop_local(c, "name");
			int match = n && !strcmp(n, name);

			free(n);
			if (match)
				return c;
		}
	}
	return NULL;
}

/* For every element declaration in the schema document, walk its content model. */
static void model_scan(struct schema *s, xmlNodePtr root, xmlNodePtr n)
{
	xmlNodePtr c;

	for (c = n->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_xs(c, "element")) {
			char *name = prop_local(c, "name"), *type = prop_local(c, "type");
			xmlNodePtr ct = NULL, k;

			for (k = c->children; k; k = k->next)
				if (is_xs(k, "complexType"))
					ct = k;
			if (!ct && type)
				ct = find_complex_type(root, type);
			if (name)
				strlist_add(&s->names, name);
			if (name && ct)
				model_walk(s, name, ct, 0);
			free(name);
			free(type);
		}
		model_scan(s, root, c);
	}
}

static void model_load(struct schema *s, const char *path)
{
	xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);

	if (doc && xmlDocGetRootElement(doc)) {
		xmlNodePtr root = xmlDocGetRootElement(doc);

		model_scan(s, root, root);
	}
	xmlFreeDoc(doc);
	strlist_sort(&s->required);
	strlist_sort(&s->optional);
	strlist_sort(&s->names);
}

static struct schema *schema_get(enum xml_schema which)
{
	struct schema *s = &schemas[which];
	xmlSchemaParserCtxtPtr pctxt;
	char *path;

	if (s->schema)
		return s;
	s->which = which;
	if (which <= XML_SCHEMA_NONE || which >= XML_SCHEMA_MAX)
		msg_panic("xml: bad schema %d", (int)which);
	if (!schema_dir)
		msg_panic("xml: schema folder not set");
	path = path_join(schema_dir, schema_files[which]);
	errors_to_capture();
	loading_schema = 1;
	pctxt = xmlSchemaNewParserCtxt(path);
	if (!pctxt)
		msg_fatal("out of memory");
	xmlSchemaSetParserStructuredErrors(pctxt, on_error, NULL);
	s->schema = xmlSchemaParse(pctxt);
	xmlSchemaFreeParserCtxt(pctxt);
	if (s->schema)
		model_load(s, path);
	loading_schema = 0;
	if (!s->schema) {
		struct strbuf msg = STRBUF_INIT;

		xml_add_message(&msg, xml_cap.set ? xml_cap.message : "unknown error");
		msg_die(EX_SOFTWARE, "cannot load schema '%s': %s", path, msg.buf);
	}
	free(path);
	return s;
}

void xml_prepare(enum xml_schema which)
{
	xml_init();
	schema_get(which);
}

/* ------------------------------------------------------------------ */
/* Checks before parsing                                               */
/* ------------------------------------------------------------------ */

/* How many bytes equal to c lie in [from, to). */
static size_t memchr_count(const unsigned char *from, const unsigned char *to, int c)
{
	size_t n = 0;

	for (; from < to; from++)
		n += *from == c;
	return n;
}

static int check_utf8(const char *buf, size_t len, struct strbuf *why)
{
	const char *bad = text_utf8_bad(buf, len);
	size_t line = 1;

	if (!bad)
		return 0;
	/* The line is counted only for the message. */
	line += memchr_count((const unsigned char *)buf, (const unsigned char *)bad, '\n');
	strbuf_addf(why, "not UTF-8 (line %zu)", line);
	return -1;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int starts(const char *p, const char *end, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(end - p) >= n && !memcmp(p, s, n);
}

/* The encoding named by the XML declaration decl..end, if any, must be UTF-8. */
static int check_encoding(const char *decl, const char *end, struct strbuf *why)
{
	const char *p = memmem(decl, end - decl, "encoding", 8), *v;
	char quote;

	if (!p)
		return 0;
	p += 8;
	while (p < end && is_space(*p))
		p++;
	if (p >= end || *p++ != '=')
		return 0;	/* libxml2 will say what is wrong */
	while (p < end && is_space(*p))
		p++;
	if (p >= end || (*p != '"' && *p != '\''))
		return 0;
	quote = *p++;
	for (v = p; p < end && *p != quote; p++)
		;
	if (p - v == 5 && !strncasecmp(v, "UTF-8", 5))
		return 0;
	strbuf_addstr(why, "not UTF-8 (declared encoding ");
	{
		char *name = xstrndup(v, p - v);

		xml_add_quoted(why, name);
		free(name);
	}
	strbuf_addch(why, ')');
	return -1;
}

/*
 * Walk the prolog (XML declaration, comments, processing instructions)
 * up to the root element: refuse a DOCTYPE there before libxml2 reads
 * it. Anything malformed is left for libxml2 to report.
 */
static int check_prolog(const char *buf, size_t len, struct strbuf *why)
{
	const char *p = buf, *end = buf + len, *q;

	if (starts(p, end, "\xef\xbb\xbf"))
		p += 3;
	if (starts(p, end, "<?xml") && end - p > 5 && is_space(p[5])) {
		if (!(q = memmem(p, end - p, "?>", 2)))
			return 0;
		if (check_encoding(p + 5, q, why) < 0)
			return -1;
		p = q + 2;
	}
	for (;;) {
		while (p < end && is_space(*p))
			p++;
		if (starts(p, end, "<!--")) {
			if (!(q = memmem(p + 4, end - p - 4, "-->", 3)))
				return 0;
			p = q + 3;
		} else if (starts(p, end, "<?")) {
			if (!(q = memmem(p + 2, end - p - 2, "?>", 2)))
				return 0;
			p = q + 2;
		} else if (starts(p, end, "<!DOCTYPE") || starts(p, end, "<!ENTITY")) {
			strbuf_addstr(why, "DOCTYPE not allowed");
			return -1;
		} else {
			return 0;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */
/* ------------------------------------------------------------------ */

/* SAX hooks: a DOCTYPE or an entity declaration stops the parser at once. */
static void refuse_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
			  const xmlChar *system_id)
{
	doctype_seen = 1;
	xmlStopParser((xmlParserCtxtPtr)ctx);
}

static void refuse_entity(void *ctx, const xmlChar *name, int type,
			  const xmlChar *public_id, const xmlChar *system_id,
			  xmlChar *content)
{
	doctype_seen = 1;
	xmlStopParser((xmlParserCtxtPtr)ctx);
}

/*
 * What is wrong with a document that is not well-formed, by libxml2's
 * error code. libxml2's messages quote the text of the document (the
 * start of an unfinished comment or CDATA section, an entity's name, an
 * end tag), so they are never used; an element is named only when the
 * schema declares that name.
 */
static const struct {
	int code;
	const char *words;
} parse_words[] = {
	{ XML_ERR_DOCUMENT_EMPTY, "the document is empty" },
	{ XML_ERR_DOCUMENT_END, "more after the end of the root element" },
	{ XML_ERR_INVALID_HEX_CHARREF, "a character reference that is not valid" },
	{ XML_ERR_INVALID_DEC_CHARREF, "a character reference that is not valid" },
	{ XML_ERR_INVALID_CHARREF, "a character reference that is not valid" },
	{ XML_ERR_INVALID_CHAR, "a character that XML does not allow" },
	{ XML_ERR_ENTITYREF_SEMICOL_MISSING, "'&' not written as &amp;" },
	{ XML_ERR_UNDECLARED_ENTITY, "an entity that is not defined ('&' not written as &amp;?)" },
	{ XML_WAR_UNDECLARED_ENTITY, "an entity that is not defined ('&' not written as &amp;?)" },
	{ XML_ERR_LT_IN_ATTRIBUTE, "'<' in an attribute value" },
	{ XML_ERR_ATTRIBUTE_NOT_STARTED, "an attribute value without quotes" },
	{ XML_ERR_ATTRIBUTE_NOT_FINISHED, "an attribute value without its closing quote" },
	{ XML_ERR_ATTRIBUTE_WITHOUT_VALUE, "an attribute without a value" },
	{ XML_ERR_ATTRIBUTE_REDEFINED, "an attribute given twice" },
	{ XML_ERR_COMMENT_NOT_FINISHED, "a comment that is not closed" },
	{ XML_ERR_PI_NOT_FINISHED, "a processing instruction that is not closed" },
	{ XML_ERR_MISPLACED_CDATA_END, "']]>' in text" },
	{ XML_ERR_CDATA_NOT_FINISHED, "a CDATA section that is not closed" },
	{ XML_ERR_NAME_REQUIRED, "a name expected (a '&' not written as &amp;, or a '<' as &lt;?)" },
	{ XML_ERR_GT_REQUIRED, "a tag that is not closed with '>'" },
	{ XML_ERR_LTSLASH_REQUIRED, "an end tag expected" },
	{ XML_NS_ERR_UNDEFINED_NAMESPACE, "a namespace prefix that is not declared" },
	{ 0, NULL }
};

/* Whether name is an element name the schema s declares. */
static int declared(const struct schema *s, const char *name)
{
	return s && name && strlist_has(&s->names, name);
}

static void reason_parse(const struct schema *s, struct strbuf *why)
{
	const char *open = xml_cap.str1;
	int i;

	if (xml_cap.line > 0)
		strbuf_addf(why, " (line %d)", xml_cap.line);
	switch (xml_cap.code) {
	case XML_ERR_TAG_NAME_MISMATCH:
		if (declared(s, open))
			strbuf_addf(why, ": <%s> ends with another end tag", open);
		else
			strbuf_addstr(why, ": an end tag that does not match its start tag");
		return;
	case XML_ERR_TAG_NOT_FINISHED:
		if (declared(s, open))
			strbuf_addf(why, ": <%s> is not closed", open);
		else
			strbuf_addstr(why, ": an element that is not closed");
		return;
	}
	for (i = 0; parse_words[i].words; i++) {
		if (parse_words[i].code == xml_cap.code) {
			strbuf_addf(why, ": %s", parse_words[i].words);
			return;
		}
	}
}

static xmlDocPtr parse_doc(const char *buf, size_t len, enum xml_schema schema,
			   struct strbuf *why)
{
	const struct schema *s = schema != XML_SCHEMA_NONE ? schema_get(schema) : NULL;
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;

	errors_to_capture();
	doctype_seen = 0;
	ctxt = xmlNewParserCtxt();
	if (!ctxt || !ctxt->sax)
		msg_fatal("out of memory");
	ctxt->sax->internalSubset = refuse_subset;
	ctxt->sax->externalSubset = refuse_subset;
	ctxt->sax->entityDecl = refuse_entity;
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL, PARSE_OPTIONS);
	if (doctype_seen || (doc && (doc->intSubset || doc->extSubset))) {
		strbuf_addstr(why, "DOCTYPE not allowed");
		goto fail;
	}
	if (!doc || !ctxt->wellFormed) {
		strbuf_addstr(why, "not well-formed XML");
		if (xml_cap.set && xml_cap.code == XML_ERR_INTERNAL_ERROR &&
		    strstr(xml_cap.message, "Excessive depth"))
			strbuf_addf(why, " (line %d): nested too deeply", xml_cap.line);
		else if (xml_cap.set)
			reason_parse(s, why);
		goto fail;
	}
	if (!xmlDocGetRootElement(doc)) {
		strbuf_addstr(why, "not well-formed XML: no root element");
		goto fail;
	}
	xmlFreeParserCtxt(ctxt);
	return doc;
fail:
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return NULL;
}

static int check_namespace(xmlNodePtr root, struct strbuf *why)
{
	if (!root->ns || !root->ns->href || !*root->ns->href) {
		strbuf_addstr(why, "no namespace (expected " MIMAMORI_NS ")");
		return -1;
	}
	if (strcmp((const char *)root->ns->href, MIMAMORI_NS)) {
		strbuf_addstr(why, "wrong namespace ");
		xml_add_quoted(why, (const char *)root->ns->href);
		strbuf_addstr(why, " (expected " MIMAMORI_NS ")");
		return -1;
	}
	return 0;
}

/* xml_parse_all(): every validation error, one reason per line. */
static __thread int report_all;
static __thread struct strbuf all_reasons = STRBUF_INIT;
static __thread size_t nr_reasons;
#define MAX_REASONS 50

static void on_error_all(void *data, xmlErrorPtr e)
{
	struct strbuf line = STRBUF_INIT;

	if (!e || e->level < XML_ERR_ERROR || nr_reasons >= MAX_REASONS)
		return;
	capture_reset();
	on_error(data, e);
	xml_reason_schema(data, &line);
	if (all_reasons.len)
		strbuf_addch(&all_reasons, '\n');
	strbuf_addbuf(&all_reasons, &line);
	nr_reasons++;
	strbuf_release(&line);
}

/*
 * xml_parse_base64_unchecked(): the element whose text the schema does
 * not check, and the text nodes set aside while it validates.
 */
static __thread const char *unchecked;
struct set_aside {
	xmlNodePtr text;
	xmlChar *content;
};

/* A valid xs:base64Binary of one byte, for whatever length facets. */
static xmlChar placeholder[] = "AAAA";
static xmlChar nothing[] = "";

static void set_aside_texts(xmlNodePtr n, struct set_aside **v, size_t *nr, size_t *alloc)
{
	for (; n; n = n->next) {
		xmlNodePtr t;
		int first = 1;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!n->ns || !n->ns->href || strcmp((const char *)n->ns->href, MIMAMORI_NS) ||
		    strcmp((const char *)n->name, unchecked)) {
			set_aside_texts(n->children, v, nr, alloc);
			continue;
		}
		for (t = n->children; t; t = t->next) {
			if (t->type != XML_TEXT_NODE || !t->content)
				continue;
			ALLOC_GROW(*v, *nr + 1, *alloc);
			(*v)[*nr].text = t;
			(*v)[(*nr)++].content = t->content;
			t->content = first ? placeholder : nothing;
			first = 0;
		}
	}
}

static int validate_doc(xmlDocPtr doc, enum xml_schema which, struct strbuf *why)
{
	struct schema *s = schema_get(which);
	xmlSchemaValidCtxtPtr vctxt;
	int rc;

	errors_to_capture();
	vctxt = xmlSchemaNewValidCtxt(s->schema);
	if (!vctxt)
		msg_fatal("out of memory");
	strbuf_reset(&all_reasons);
	nr_reasons = 0;
	if (report_all)
		xmlSchemaSetValidStructuredErrors(vctxt, on_error_all, s);
	else
		xmlSchemaSetValidStructuredErrors(vctxt, on_error, NULL);
	if (unchecked) {
		struct set_aside *v = NULL;
		size_t nr = 0, alloc = 0, i;

		set_aside_texts(xmlDocGetRootElement(doc), &v, &nr, &alloc);
		rc = xmlSchemaValidateDoc(vctxt, doc);
		for (i = 0; i < nr; i++)
			v[i].text->content = v[i].content;
		free(v);
	} else {
		rc = xmlSchemaValidateDoc(vctxt, doc);
	}
	xmlSchemaFreeValidCtxt(vctxt);
	if (!rc)
		return 0;
	if (report_all && all_reasons.len)
		strbuf_addbuf(why, &all_reasons);
	else if (xml_cap.set)
		xml_reason_schema(s, why);
	else
		strbuf_addstr(why, "not valid (schema validation failed)");
	return -1;
}

/* "<name>: what" about element x of a document. */
static void element_reason(struct strbuf *why, xmlNodePtr x, const char *what)
{
	char *name = xml_short_name((const char *)x->name);

	strbuf_addf(why, "<%s>: %s", name, what);
	free(name);
}

static void attribute_reason(struct strbuf *why, xmlNodePtr x, xmlAttrPtr a)
{
	struct strbuf what = STRBUF_INIT, full = STRBUF_INIT;

	if (a->ns && a->ns->prefix)
		strbuf_addf(&full, "%s:", a->ns->prefix);
	strbuf_addstr(&full, (const char *)a->name);
	strbuf_addstr(&what, "attribute ");
	xml_add_quoted(&what, full.buf);
	strbuf_addstr(&what, " not allowed");
	element_reason(why, x, what.buf);
	strbuf_release(&what);
	strbuf_release(&full);
}

/* Build the node tree of element x (in our namespace, no mixed content). */
static struct node *to_node(xmlNodePtr x, struct node *parent, struct strbuf *why)
{
	struct strbuf text = STRBUF_INIT;
	struct node *n;
	xmlNodePtr c;
	xmlAttrPtr a;
	int elements = 0;

	if (!x->ns || !x->ns->href || strcmp((const char *)x->ns->href, MIMAMORI_NS)) {
		element_reason(why, x, "not in namespace " MIMAMORI_NS);
		return NULL;
	}
	n = parent ? node_add(parent, (const char *)x->name, NULL) :
		     node_new((const char *)x->name);
	for (a = x->properties; a; a = a->next) {
		xmlChar *v;

		if (a->ns) {
			/* xsi:schemaLocation is a hint we never follow: drop it. */
			if (a->ns->href && !strcmp((const char *)a->ns->href, XSI_NS) &&
			    (xmlStrEqual(a->name, (const xmlChar *)"schemaLocation") ||
			     xmlStrEqual(a->name, (const xmlChar *)"noNamespaceSchemaLocation")))
				continue;
			attribute_reason(why, x, a);
			goto fail;
		}
		v = xmlNodeListGetString(x->doc, a->children, 1);
		node_set_attr(n, (const char *)a->name, v ? (const char *)v : "");
		xmlFree(v);
	}
	for (c = x->children; c; c = c->next) {
		switch (c->type) {
		case XML_ELEMENT_NODE:
			elements = 1;
			if (!to_node(c, n, why))
				goto fail;
			break;
		case XML_TEXT_NODE:
		case XML_CDATA_SECTION_NODE:
			if (c->content)
				strbuf_addstr(&text, (const char *)c->content);
			break;
		case XML_COMMENT_NODE:
		case XML_PI_NODE:
			break;
		default:
			element_reason(why, x, "unexpected content");
			goto fail;
		}
	}
	if (elements && !xml_blank(text.buf)) {
		element_reason(why, x, "text mixed with elements");
		goto fail;
	}
	if (!elements && text.len)
		n->text = strbuf_detach(&text, NULL);
	strbuf_release(&text);
	return n;
fail:
	strbuf_release(&text);
	if (!parent)
		node_free(n);
	return NULL;
}

int xml_parse(const char *buf, size_t len, size_t max_size, enum xml_schema schema,
	      struct node **root, struct strbuf *why)
{
	xmlDocPtr doc;
	xmlNodePtr top;
	struct node *tree = NULL;

	*root = NULL;
	strbuf_reset(why);
	if (len > max_size || len > INT_MAX) {
		strbuf_addf(why, "too large (%zu bytes, limit %zu)", len,
			    max_size < INT_MAX ? max_size : (size_t)INT_MAX);
		return -1;
	}
	if (check_utf8(buf, len, why) < 0 || check_prolog(buf, len, why) < 0)
		return -1;
	xml_init();
	if (!(doc = parse_doc(buf, len, schema, why)))
		goto out;
	top = xmlDocGetRootElement(doc);
	if (check_namespace(top, why) < 0)
		goto out;
	if (schema != XML_SCHEMA_NONE && validate_doc(doc, schema, why) < 0)
		goto out;
	tree = to_node(top, NULL, why);
out:
	xmlFreeDoc(doc);
	capture_reset();
	if (!tree)
		return -1;
	*root = tree;
	return 0;
}

int xml_parse_all(const char *buf, size_t len, size_t max_size, enum xml_schema schema,
		  struct node **root, struct strbuf *why)
{
	int ret;

	report_all = 1;
	ret = xml_parse(buf, len, max_size, schema, root, why);
	report_all = 0;
	strbuf_release(&all_reasons);
	return ret;
}

int xml_parse_base64_unchecked(const char *buf, size_t len, size_t max_size,
			       enum xml_schema schema, const char *element, struct node **root,
			       struct strbuf *why)
{
	int ret;

	unchecked = element;
	ret = xml_parse(buf, len, max_size, schema, root, why);
	unchecked = NULL;
	return ret;
}

int xml_validate(const struct node *root, enum xml_schema schema, struct strbuf *why)
{
	struct strbuf out = STRBUF_INIT;
	struct node *copy = NULL;
	int ret;

	node_write(root, &out);
	ret = xml_parse(out.buf, out.len, out.len, schema, &copy, why);
	node_free(copy);
	strbuf_release(&out);
	return ret;
}

void xml_cleanup(void)
{
	int i;

	for (i = 0; i < XML_SCHEMA_MAX; i++) {
		if (schemas[i].schema)
			xmlSchemaFree(schemas[i].schema);
		strlist_clear(&schemas[i].required);
		strlist_clear(&schemas[i].optional);
		strlist_clear(&schemas[i].names);
		memset(&schemas[i], 0, sizeof(schemas[i]));
	}
	capture_reset();
	if (initialised) {
		xmlSetExternalEntityLoader(default_loader);
		xmlCleanupParser();
		initialised = 0;
	}
}
