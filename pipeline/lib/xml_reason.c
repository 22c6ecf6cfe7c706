/*
 * xml_reason - libxml2's schema errors rewritten as reasons (see the
 * SECURITY note of xml.c): a reason names the element and the attribute
 * and says what is wrong, in our words; a value is quoted only where
 * quotable[] allows it. The schemas' content models (xml.c) tell which
 * expected element is missing.
 */
#include <stdlib.h>
#include <string.h>
#include <libxml/xmlschemas.h>
#include "xml_int.h"
#include "../util/xalloc.h"


/* ------------------------------------------------------------------ */
/* Reasons                                                             */
/* ------------------------------------------------------------------ */

/*
 * Append at most max characters of s, with control characters and runs
 * of white space folded to one space, and "..." when it was cut.
 */
static void add_clean(struct strbuf *sb, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t chars = 0;
	int space = 0;

	for (; *p; p++) {
		if (*p <= ' ' || *p == 0x7f) {
			space = chars > 0;
			continue;
		}
		if ((*p & 0xc0) != 0x80) {	/* the first byte of a character */
			if (chars + space >= max) {
				strbuf_addstr(sb, "...");
				return;
			}
			if (space) {
				strbuf_addch(sb, ' ');
				chars++;
				space = 0;
			}
			chars++;
		}
		strbuf_addch(sb, *p);
	}
}

void xml_add_quoted(struct strbuf *sb, const char *s)
{
	strbuf_addch(sb, '\'');
	add_clean(sb, s ? s : "", QUOTE_CHARS);
	strbuf_addch(sb, '\'');
}

/* An element or attribute name from a document, cut short for a reason. */
char *xml_short_name(const char *name)
{
	struct strbuf sb = STRBUF_INIT;

	add_clean(&sb, name ? name : "", QUOTE_CHARS);
	return strbuf_detach(&sb, NULL);
}

/* Whether s is empty or only white space. */
int xml_blank(const char *s)
{
	for (; s && *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 0;
	return 1;
}

/* "{urn:x}name" -> "name" (a pointer into s). */
static const char *local_part(const char *s)
{
	const char *close;

	if (*s == '{' && (close = strchr(s, '}')))
		return close + 1;
	return s;
}

/*
 * libxml2's schema messages start with "Element '{ns}name': " or
 * "Element '{ns}name', attribute 'attr': ". Return the rest, and the
 * element and attribute names (malloc'ed, or NULL).
 */
static const char *split_message(const char *msg, char **elem, char **attr)
{
	const char *p = msg, *q;

	*elem = *attr = NULL;
	if (strncmp(p, "Element '", 9))
		return msg;
	p += 9;
	if (!(q = strchr(p, '\'')))
		return msg;
	*elem = xstrndup(local_part(p), q - local_part(p));
	p = q + 1;
	if (!strncmp(p, ", attribute '", 13)) {
		p += 13;
		if (!(q = strchr(p, '\'')))
			return msg;
		*attr = xstrndup(p, q - p);
		p = q + 1;
	}
	if (*p == ':')
		p++;
	while (*p == ' ')
		p++;
	return p;
}

/* The fallback: libxml2's own words, without namespace braces. */
void xml_add_message(struct strbuf *sb, const char *msg)
{
	struct strbuf tmp = STRBUF_INIT;
	const char *p;

	for (p = msg; *p; p++) {
		if (!strncmp(p, "{" MIMAMORI_NS "}", strlen(MIMAMORI_NS) + 2)) {
			p += strlen(MIMAMORI_NS) + 1;
			continue;
		}
		strbuf_addch(&tmp, *p);
	}
	strbuf_rtrim(&tmp);
	while (tmp.len && tmp.buf[tmp.len - 1] == '.')
		strbuf_setlen(&tmp, tmp.len - 1);
	add_clean(sb, tmp.buf, MESSAGE_CHARS);
	strbuf_release(&tmp);
}

/* "'female', 'male'" -> "female, male" */
static void add_set(struct strbuf *sb, const char *set)
{
	struct strbuf tmp = STRBUF_INIT;

	for (; *set; set++)
		if (*set != '\'')
			strbuf_addch(&tmp, *set);
	add_clean(sb, tmp.buf, MESSAGE_CHARS);
	strbuf_release(&tmp);
}

/* Up to five names as "<a>, <b> or <c>". */
static void add_names(struct strbuf *sb, char **names, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		if (i == 4 && nr > 5) {
			strbuf_addf(sb, " or %zu more", nr - 4);
			return;
		}
		if (i)
			strbuf_addstr(sb, i == nr - 1 ? " or " : ", ");
		strbuf_addf(sb, "<%s>", names[i]);
	}
}

#define MAX_EXPECTED 64

/* The names in "Expected is ( {ns}a, {ns}b )"; returns how many. */
static size_t parse_expected(const char *msg, char **names)
{
	const char *p = strstr(msg, "Expected is ");
	size_t nr = 0;

	if (!p || !(p = strchr(p, '(')))
		return 0;
	p++;
	while (nr < MAX_EXPECTED) {
		const char *end;

		while (*p == ' ')
			p++;
		if (!*p || *p == ')')
			break;
		end = p + strcspn(p, ", )");
		if (end > p) {
			const char *name = local_part(p);

			if (name < end)
				names[nr++] = xstrndup(name, end - name);
		}
		p = end;
		if (*p == ',')
			p++;
	}
	return nr;
}

static int model_has(const struct strlist *l, const char *parent, const char *child)
{
	struct strbuf key = STRBUF_INIT;
	int has;

	strbuf_addf(&key, "%s\t%s", parent, child);
	has = strlist_has(l, key.buf);
	strbuf_release(&key);
	return has;
}

/* Whether child can be left out of parent, by every declaration of it. */
static int always_optional(const struct schema *s, const char *parent, const char *child)
{
	return model_has(&s->optional, parent, child) &&
	       !model_has(&s->required, parent, child);
}

static int is_child(const struct schema *s, const char *parent, const char *child)
{
	return model_has(&s->optional, parent, child) ||
	       model_has(&s->required, parent, child);
}

/* Whether an earlier sibling of n has its name (n is repeated or misplaced). */
static int repeated(xmlNodePtr n)
{
	xmlNodePtr p;

	for (p = n->prev; p; p = p->prev)
		if (p->type == XML_ELEMENT_NODE && xmlStrEqual(p->name, n->name))
			return 1;
	return 0;
}

/* Whether a later sibling of n is named name (the two are out of order). */
static int comes_later(xmlNodePtr n, const char *name)
{
	xmlNodePtr p;

	for (p = n->next; p; p = p->next)
		if (p->type == XML_ELEMENT_NODE && xmlStrEqual(p->name, (const xmlChar *)name))
			return 1;
	return 0;
}

/*
 * "Missing child element(s). Expected is ( ... )" on the parent, or
 * "This element is not expected. Expected is ( ... )" on the element found
 * instead.
 */
static void reason_content(const struct schema *s, const char *elem, const char *rest,
			   struct strbuf *why)
{
	char *names[MAX_EXPECTED], *needed[MAX_EXPECTED];
	size_t nr = parse_expected(rest, names), nr_needed = 0, i;
	int missing = !!strstr(rest, "Missing child");
	const char *parent = elem;
	xmlNodePtr found = NULL;

	if (!missing) {
		parent = NULL;
		if (xml_cap.node && xml_cap.node->type == XML_ELEMENT_NODE)
			found = xml_cap.node;
		if (found && found->parent && found->parent->type == XML_ELEMENT_NODE)
			parent = (const char *)found->parent->name;
	}
	for (i = 0; i < nr; i++)
		if (!parent || !always_optional(s, parent, names[i]))
			needed[nr_needed++] = names[i];

	if (found && (!found->ns || !found->ns->href ||
		      strcmp((const char *)found->ns->href, MIMAMORI_NS))) {
		strbuf_addf(why, "<%s>: not in namespace " MIMAMORI_NS, elem);
		goto out;
	}

	if (missing && nr) {
		strbuf_addstr(why, "missing ");
		if (nr_needed)
			add_names(why, needed, nr_needed);
		else
			add_names(why, names, nr);
		strbuf_addf(why, " in <%s>", elem);
	} else if (!missing && parent && nr_needed == 1 && !repeated(found) &&
		   is_child(s, parent, elem)) {
		if (comes_later(found, needed[0]))
			strbuf_addf(why, "<%s> must come before <%s> in <%s>", needed[0],
				    elem, parent);
		else
			strbuf_addf(why, "missing <%s> in <%s> (found <%s>)", needed[0],
				    parent, elem);
	} else if (!missing && parent) {
		strbuf_addf(why, "unexpected <%s> in <%s>", elem, parent);
		if (nr) {
			strbuf_addstr(why, " (expected ");
			add_names(why, names, nr);
			strbuf_addch(why, ')');
		}
	} else {
		xml_add_message(why, xml_cap.message);
	}
out:
	for (i = 0; i < nr; i++)
		free(names[i]);
}

/*
 * A length facet on an element's value: libxml2 gives the length in str1
 * and the limit in str2, not the value.
 */
static void reason_length(const char *elem, struct strbuf *why)
{
	const char *what = "wrong length", *bound = ", exactly ";

	strbuf_addf(why, "<%s>: ", elem);
	if (xml_cap.str1 && !strcmp(xml_cap.str1, "0")) {
		strbuf_addstr(why, "empty");
		return;
	}
	if (xml_cap.code == XML_SCHEMAV_CVC_MINLENGTH_VALID)
		what = "too short", bound = ", at least ";
	else if (xml_cap.code == XML_SCHEMAV_CVC_MAXLENGTH_VALID)
		what = "too long", bound = ", at most ";
	strbuf_addstr(why, what);
	if (xml_cap.str1 && xml_cap.str2) {
		strbuf_addstr(why, " (length ");
		add_clean(why, xml_cap.str1, QUOTE_CHARS);
		strbuf_addstr(why, bound);
		add_clean(why, xml_cap.str2, QUOTE_CHARS);
		strbuf_addch(why, ')');
	}
}

/*
 * The values a reason may quote, as "PARENT/ELEMENT" or "ELEMENT@ATTRIBUTE":
 * the ids, dates and kinds of registration documents and requests. A field
 * of a person, a requester, the care or the intake is never listed, nor
 * free text: what is not here is never quoted (see the opening comment).
 */
static const char *const quotable[] = {
	/* registration.xsd */
	"registration/basis", "record/basis",
	"applicant@kind", "applicant@guardian",
	"consent@date", "consent@share", "consent@broadcast", "consent@signed-by",
	"change/id", "change/date", "renewal/id", "renewal/date",
	"cancellation/id", "cancellation/date", "cancellation/reason",
	"record@id", "record@version", "record@registered", "record@expires",
	"record@renewed",
	/* request.xsd */
	"request/request-id", "request/sent", "request/type", "request/status",
	"request/registration", "request/police-station", "request/police-report-at",
	"request/missing-since", "request/found-at", "request/area",
	NULL
};

/* Whether the reason about elem (or its attribute attr) may quote the value. */
static int may_quote(const struct schema *s, const char *elem, const char *attr)
{
	struct strbuf key = STRBUF_INIT;
	xmlNodePtr n = xml_cap.node;
	int i, found = 0;

	if (s->which == XML_SCHEMA_CONFIG || s->which == XML_SCHEMA_MANIFEST)
		return 1;
	if (!elem)
		return 0;
	if (attr) {
		strbuf_addf(&key, "%s@%s", elem, attr);
	} else {
		if (!n || n->type != XML_ELEMENT_NODE)
			return 0;
		if (!n->parent || n->parent->type != XML_ELEMENT_NODE || !n->parent->name)
			return 0;
		strbuf_addf(&key, "%s/%s", (const char *)n->parent->name, elem);
	}
	for (i = 0; quotable[i] && !found; i++)
		found = !strcmp(quotable[i], key.buf);
	strbuf_release(&key);
	return found;
}

struct words {
	const char *what;
	const char *words;
};

/* What a value that is not of the type is, by the type's local name. */
static const struct words type_words[] = {
	{ "date", "not a valid date" },
	{ "dateTime", "not a valid date and time" },
	{ "decimal", "not a number" },
	{ "height", "not a number" },
	{ "weight", "not a number" },
	{ "shoe-size", "not a number" },
	{ "integer", "not a whole number" },
	{ "nonNegativeInteger", "not a whole number of 0 or more" },
	{ "positiveInteger", "not a whole number of 1 or more" },
	{ "base64Binary", "not valid base64" },
	{ "photo-data", "not valid base64" },
	{ "record-id", "not a registration id (R2026-000123)" },
	{ "ward-id", "not a ward id" },
	{ "agency-id", "not an agency id" },
	{ NULL, NULL }
};

/* What a value that does not match one of our schemas' patterns is. */
static const struct words pattern_words[] = {
	{ "[0-9]{4}-[0-9]{2}-[0-9]{2}", "not a valid date (YYYY-MM-DD)" },
	{ "R[0-9]{4}-[0-9]{6}", "not a registration id (R2026-000123)" },
	{ "R\\d{4}-\\d{6}", "not a registration id (R2026-000123)" },
	{ "[A-Za-z0-9][A-Za-z0-9._\\-]{0,30}", "not a ward id" },
	{ "[A-Za-z0-9][A-Za-z0-9._\\-]{0,62}", "not an agency id" },
	{ "[A-Za-z0-9][A-Za-z0-9._:\\-]{0,63}", "not a request id" },
	{ "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2})?(Z|[+\\-]\\d{2}:\\d{2})",
	  "not a date and time (2026-06-01T09:30+09:00)" },
	{ "[^\\p{Cc}]*\\S[^\\p{Cc}]*", "blank, or holds a control character" },
	{ "[a-z0-9\\-]+( [a-z0-9\\-]+)*|\\*", "not ward ids separated by spaces, or *" },
	{ NULL, NULL }
};

static const char *words_for(const struct words *w, const char *what)
{
	for (; what && w->what; w++)
		if (!strcmp(w->what, what))
			return w->words;
	return NULL;
}

/*
 * The local name of the type in "... is not a valid value of the atomic
 * type '{ns}name'." (malloc'ed, or NULL). The value comes earlier in the
 * message, so the last " type '" is libxml2's; and the name is only ever
 * looked up in type_words[], never quoted.
 */
static char *message_type(const char *msg)
{
	const char *p, *last = NULL, *end;

	for (p = msg; (p = strstr(p, " type '")); p++)
		last = p;
	if (!last)
		return NULL;
	last += 7;
	if (!(end = strchr(last, '\'')))
		return NULL;
	last = local_part(last);
	if ((p = memchr(last, ':', end - last)))
		last = p + 1;
	return last < end ? xstrndup(last, end - last) : NULL;
}

/*
 * What is wrong with the value, in words that hold nothing of it; nothing
 * when we have no words for it.
 */
static void value_detail(struct strbuf *detail)
{
	const char *set = xml_cap.str2 ? xml_cap.str2 : "", *w = NULL;
	char *type;

	switch (xml_cap.code) {
	case XML_SCHEMAV_CVC_ENUMERATION_VALID:
		strbuf_addstr(detail, "not one of ");
		add_set(detail, set);
		return;
	case XML_SCHEMAV_CVC_MININCLUSIVE_VALID:
	case XML_SCHEMAV_CVC_MINEXCLUSIVE_VALID:
		strbuf_addstr(detail, "less than ");
		add_clean(detail, set, QUOTE_CHARS);
		return;
	case XML_SCHEMAV_CVC_MAXINCLUSIVE_VALID:
	case XML_SCHEMAV_CVC_MAXEXCLUSIVE_VALID:
		strbuf_addstr(detail, "more than ");
		add_clean(detail, set, QUOTE_CHARS);
		return;
	case XML_SCHEMAV_CVC_MINLENGTH_VALID:
		strbuf_addstr(detail, "too short");
		return;
	case XML_SCHEMAV_CVC_MAXLENGTH_VALID:
		strbuf_addstr(detail, "too long");
		return;
	case XML_SCHEMAV_CVC_LENGTH_VALID:
		strbuf_addstr(detail, "of the wrong length");
		return;
	case XML_SCHEMAV_CVC_PATTERN_VALID:
		w = words_for(pattern_words, xml_cap.str2);
		break;
	default:
		type = message_type(xml_cap.message);
		w = words_for(type_words, type);
		free(type);
		break;
	}
	if (w)
		strbuf_addstr(detail, w);
}

/*
 * A value that does not fit its type or a facet of it. Most reasons say
 * what is wrong without the value:
 *   <sex>: not one of female, male
 *   <birth-date>: not a valid date
 *   <phone>: bad attribute 'kind' (not one of home, mobile, work)
 * and a value may_quote() allows is quoted:
 *   <id>: 'R2026-1' is not a registration id (R2026-000123)
 *   <consent>: bad attribute 'share' value 'maybe' (not one of yes, no)
 */
static void reason_value(const struct schema *s, const char *elem, const char *attr,
			 struct strbuf *why)
{
	struct strbuf detail = STRBUF_INIT;
	const char *v = xml_cap.str1 ? xml_cap.str1 : "";
	int code = xml_cap.code, quote = may_quote(s, elem, attr);

	if (!attr && (code == XML_SCHEMAV_CVC_MINLENGTH_VALID ||
		      code == XML_SCHEMAV_CVC_MAXLENGTH_VALID ||
		      code == XML_SCHEMAV_CVC_LENGTH_VALID)) {
		reason_length(elem, why);
		return;
	}
	strbuf_addf(why, "<%s>: ", elem);
	if (xml_blank(v)) {
		if (attr)
			strbuf_addf(why, "empty attribute '%s'", attr);
		else
			strbuf_addstr(why, "empty");
		return;
	}
	value_detail(&detail);
	if (!detail.len && !quote)
		strbuf_addstr(&detail, code == XML_SCHEMAV_CVC_PATTERN_VALID ?
				       "not in the form required" : "not a valid value");
	if (attr) {
		strbuf_addf(why, "bad attribute '%s'", attr);
		if (quote) {
			strbuf_addstr(why, " value ");
			xml_add_quoted(why, v);
		}
		if (detail.len)
			strbuf_addf(why, " (%s)", detail.buf);
	} else {
		if (quote) {
			xml_add_quoted(why, v);
			strbuf_addstr(why, " is ");
		}
		strbuf_addstr(why, detail.len ? detail.buf : "not a valid value");
	}
	strbuf_release(&detail);
}

/* Turn the captured validation error into a short reason naming the element. */
void xml_reason_schema(const struct schema *s, struct strbuf *why)
{
	char *elem = NULL, *attr = NULL;
	const char *rest = split_message(xml_cap.message, &elem, &attr);

	if (xml_cap.node && xml_cap.node->type == XML_ELEMENT_NODE && xml_cap.node->name) {
		free(elem);
		elem = xstrdup((const char *)xml_cap.node->name);
	}
	if (elem) {
		char *tmp = xml_short_name(elem);

		free(elem);
		elem = tmp;
	}
	if (attr) {
		char *tmp = xml_short_name(attr);

		free(attr);
		attr = tmp;
	}
	if (!elem) {
		if (may_quote(s, NULL, NULL))
			xml_add_message(why, xml_cap.message);
		else
			strbuf_addstr(why, "not valid");
		goto out;
	}
	switch (xml_cap.code) {
	case XML_SCHEMAV_ELEMENT_CONTENT:
		reason_content(s, elem, rest, why);
		break;
	case XML_SCHEMAV_CVC_ELT_1:
		strbuf_addf(why, "unexpected root element <%s>", elem);
		break;
	case XML_SCHEMAV_CVC_COMPLEX_TYPE_4:
		strbuf_addf(why, "<%s>: missing attribute ", elem);
		xml_add_quoted(why, xml_cap.str1 ? xml_cap.str1 : attr);
		break;
	case XML_SCHEMAV_CVC_COMPLEX_TYPE_3_2_1:
	case XML_SCHEMAV_CVC_COMPLEX_TYPE_3_2_2:
		strbuf_addf(why, "<%s>: unknown attribute ", elem);
		xml_add_quoted(why, xml_cap.str1 ? xml_cap.str1 : attr);
		break;
	case XML_SCHEMAV_CVC_COMPLEX_TYPE_2_1:
	case XML_SCHEMAV_CVC_COMPLEX_TYPE_2_3:
		strbuf_addf(why, "<%s>: text not allowed here", elem);
		break;
	case XML_SCHEMAV_CVC_TYPE_3_1_2:
	case XML_SCHEMAV_CVC_COMPLEX_TYPE_2_2:
		strbuf_addf(why, "<%s>: child elements not allowed", elem);
		break;
	case XML_SCHEMAV_CVC_DATATYPE_VALID_1_2_1:
	case XML_SCHEMAV_CVC_DATATYPE_VALID_1_2_2:
	case XML_SCHEMAV_CVC_DATATYPE_VALID_1_2_3:
	case XML_SCHEMAV_CVC_FACET_VALID:
	case XML_SCHEMAV_CVC_LENGTH_VALID:
	case XML_SCHEMAV_CVC_MINLENGTH_VALID:
	case XML_SCHEMAV_CVC_MAXLENGTH_VALID:
	case XML_SCHEMAV_CVC_MININCLUSIVE_VALID:
	case XML_SCHEMAV_CVC_MAXINCLUSIVE_VALID:
	case XML_SCHEMAV_CVC_MINEXCLUSIVE_VALID:
	case XML_SCHEMAV_CVC_MAXEXCLUSIVE_VALID:
	case XML_SCHEMAV_CVC_TOTALDIGITS_VALID:
	case XML_SCHEMAV_CVC_FRACTIONDIGITS_VALID:
	case XML_SCHEMAV_CVC_PATTERN_VALID:
	case XML_SCHEMAV_CVC_ENUMERATION_VALID:
	case XML_SCHEMAV_CVC_ATTRIBUTE_3:
		reason_value(s, elem, attr, why);
		break;
	default:
		/* libxml2's words may hold the value: only where it may be quoted. */
		strbuf_addf(why, "<%s>: ", elem);
		if (may_quote(s, elem, attr))
			xml_add_message(why, rest);
		else
			strbuf_addstr(why, "not valid");
		break;
	}
out:
	free(elem);
	free(attr);
}

