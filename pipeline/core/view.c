/*
 * view - what each audience may see of a record (see view.h). Every view
 * is a fresh tree copied from what a list names; nothing is dropped from a
 * copy, so nothing unnamed can slip through.
 *
 * SECURITY: this module is the boundary between the register and every
 * output; the alert view is what reaches hundreds of private helpers.
 */
#include <stdio.h>
#include <string.h>
#include "view.h"
#include "../util/timeutil.h"

static const char *const audience_names[AUDIENCE_MAX] = { "full", "police", "alert" };

/* Attributes of <record> that name and date it: every agency view has them. */
static const char *const record_attrs[] = { "id", "version", "registered", "expires",
					    "renewed", NULL };

/* What the police see below <record>. */
static const char *const police_children[] = { "person", NULL };

/* What an alert may say, from <person>, in this order. */
static const char *const alert_fields[] = { "usual-places", "previous-residences",
					    "features", "lost-before", NULL };

enum audience audience_of(enum agency_kind kind)
{
	return kind == AGENCY_POLICE ? AUDIENCE_POLICE : AUDIENCE_FULL;
}

const char *audience_name(enum audience a)
{
	return a < AUDIENCE_MAX ? audience_names[a] : "?";
}

int audience_parse(const char *name)
{
	int i = agency_kind_parse(name);

	if (i >= 0)
		return (int)audience_of((enum agency_kind)i);
	for (i = 0; i < AUDIENCE_MAX; i++)
		if (!strcmp(audience_names[i], name))
			return i;
	return -1;
}

static int listed(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (!strcmp(*list, name))
			return 1;
	return 0;
}

static struct node *record_shell(const struct node *record)
{
	struct node *v = node_new("record");
	const char *const *a;

	for (a = record_attrs; *a; a++)
		if (node_attr(record, *a))
			node_set_attr(v, *a, node_attr(record, *a));
	return v;
}

static struct node *police_view(const struct node *record)
{
	struct node *v = record_shell(record);
	const struct node *c;

	for (c = record->child; c; c = c->next)
		if (listed(police_children, c->name))
			node_append(v, node_copy(c));
	return v;
}

static struct node *alert_view(const struct node *record, long today)
{
	struct node *v = node_new("alert-view");
	const struct node *person = node_child(record, "person");
	const char *sex = node_text(person, "sex");
	const char *birth = node_text(person, "birth-date");
	const char *const *f;
	long bd;

	if (sex)
		node_add(v, "sex", sex);
	if (birth && date_parse(birth, &bd) == 0) {
		char age[16];

		snprintf(age, sizeof(age), "%d", age_years(bd, today));
		node_add(v, "age", age);
	}
	for (f = alert_fields; *f; f++) {
		const struct node *c = node_child(person, *f);

		if (c)
			node_append(v, node_copy(c));
	}
	return v;
}

struct node *view_make(const struct node *record, enum audience a, long today)
{
	switch (a) {
	case AUDIENCE_FULL:
		return node_copy(record);
	case AUDIENCE_POLICE:
		return police_view(record);
	case AUDIENCE_ALERT:
		return alert_view(record, today);
	default:
		return NULL;
	}
}

int view_within(const struct node *record, enum audience a, struct strbuf *why)
{
	const struct node_attr *at;
	const struct node *c;

	if (strcmp(record->name, "record")) {
		strbuf_addf(why, "<%s>", record->name);
		return 0;
	}
	if (a == AUDIENCE_FULL)
		return 1;
	if (a != AUDIENCE_POLICE) {
		strbuf_addstr(why, "<record>");
		return 0;
	}
	for (at = record->attrs; at; at = at->next)
		if (!listed(record_attrs, at->name)) {
			strbuf_addf(why, "<record %s=…>", at->name);
			return 0;
		}
	for (c = record->child; c; c = c->next)
		if (!listed(police_children, c->name)) {
			strbuf_addf(why, "<%s>", c->name);
			return 0;
		}
	return 1;
}
