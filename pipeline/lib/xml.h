#ifndef XML_H
#define XML_H
#include <stddef.h>
#include "../util/node.h"
#include "../util/strbuf.h"

/*
 * The libxml2 wrapper. The only module that includes <libxml/...>.
 *
 * SECURITY: parses documents from outside (center staff, other agencies,
 * operators). Documents are parsed from memory only, after their size was
 * checked; no DTD is loaded, no entity is substituted, the external entity
 * loader refuses everything, there is no network access, and a document
 * holding any DOCTYPE is refused before it is used. Text must be UTF-8.
 *
 * Schemas are compiled once per process and kept. xml_parse() may run on
 * several threads at once once the schema it uses was compiled by
 * xml_prepare() on the main thread.
 */

enum xml_schema {
	XML_SCHEMA_NONE = 0,
	XML_SCHEMA_CONFIG,          /* schemas/config.xsd */
	XML_SCHEMA_REGISTRATION,    /* schemas/registration.xsd */
	XML_SCHEMA_REQUEST,         /* schemas/request.xsd */
	XML_SCHEMA_MANIFEST,        /* schemas/manifest.xsd */
	XML_SCHEMA_MAX
};

/* Where the schemas/ folder is (set once, by main, before any parse). */
void xml_set_schema_dir(const char *dir);

/* Compile a schema now (before threads parse with it); dies if it cannot. */
void xml_prepare(enum xml_schema schema);

/*
 * Parse buf (len bytes, at most max_size, else refused) into a tree,
 * validated against schema when it is not XML_SCHEMA_NONE. The root must be
 * in the urn:mimamori:1 namespace.
 *
 * Returns 0 and sets *root; or -1 with a one-line reason in `why` (without
 * the file name), e.g. "missing <birth-date> in <person>",
 * "not well-formed XML (line 3): ...", "DOCTYPE not allowed",
 * "wrong namespace 'urn:x' (expected urn:mimamori:1)", "not UTF-8 (line 2)".
 * The reason never quotes a value of a person, requester, care or intake
 * field: "<birth-date>: not a valid date" (see xml.c's opening comment).
 */
int xml_parse(const char *buf, size_t len, size_t max_size, enum xml_schema schema,
	      struct node **root, struct strbuf *why);

/*
 * Like xml_parse(), but a document that fails the schema gets every
 * validation error libxml2 reports (up to 50), one reason per line of
 * why, as check-config prints them.
 */
int xml_parse_all(const char *buf, size_t len, size_t max_size, enum xml_schema schema,
		  struct node **root, struct strbuf *why);

/*
 * Like xml_parse(), but the text of the elements named `element` (in the
 * urn:mimamori:1 namespace; their type must be xs:base64Binary with
 * length facets only) is validated as if it were one byte of base64: the
 * caller checks it, with base64_is_xsd() and the lengths, while it decodes
 * it anyway. Intake does so for photos: libxml2's own check of their 60 KB
 * of base64 is a third of the cost of parsing a registration. The tree
 * holds the text as it was.
 */
int xml_parse_base64_unchecked(const char *buf, size_t len, size_t max_size,
			       enum xml_schema schema, const char *element, struct node **root,
			       struct strbuf *why);

/* Validate an existing tree (serialises and re-parses). Same results. */
int xml_validate(const struct node *root, enum xml_schema schema, struct strbuf *why);

/* Free the compiled schemas and libxml2's globals (at exit, for leak checks). */
void xml_cleanup(void);

#endif
