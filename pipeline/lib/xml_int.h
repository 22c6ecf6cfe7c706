#ifndef XML_INT_H
#define XML_INT_H
/*
 * What xml.c (parsing, validation, the node tree) and xml_reason.c
 * (libxml2's errors rewritten as reasons that name the element, never a
 * person's data) share. Nothing outside lib/xml*.c includes it.
 */
#include <libxml/tree.h>
#include "xml.h"
#include "../util/fileio.h"
#include "../util/strbuf.h"

/* How much of a value from a document a reason may quote. */
#define QUOTE_CHARS 40
#define MESSAGE_CHARS 200

/*
 * A compiled schema, and what its content models say about each child
 * element: "PARENT\tCHILD" is in `required` when some declaration of
 * CHILD inside PARENT must occur, in `optional` when some may be left out.
 * Used to tell which of the elements libxml2 expected is missing.
 */
struct schema {
	enum xml_schema which;
	xmlSchemaPtr schema;
	struct strlist required;
	struct strlist optional;
	struct strlist names;       /* every element name it declares */
};

/* The first error libxml2 reported (to this thread). */
struct xml_capture {
	int set;
	int domain;
	int code;
	int line;
	xmlNodePtr node;    /* schema errors: the element (doc still alive) */
	char *message;
	char *str1;
	char *str2;
};
extern __thread struct xml_capture xml_cap;

/* xml_reason.c */
void xml_add_quoted(struct strbuf *sb, const char *s);
char *xml_short_name(const char *name);
int xml_blank(const char *s);
void xml_add_message(struct strbuf *sb, const char *msg);
void xml_reason_schema(const struct schema *s, struct strbuf *why);

#endif
