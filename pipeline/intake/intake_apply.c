/*
 * intake_apply - what a registration, change, cancellation or renewal
 * does to the registry, with the rules the schema cannot express: known
 * wards and centers, guardians' certificates, consent or ordinance
 * clause, photo size and type, duplicates, validity.
 *
 * SECURITY: reads documents from center staff; they were parsed and
 * validated by lib/xml.c, but every reference (ward, center, id) is
 * checked here against the configuration and the registry. Reasons quote
 * ward, center and registration ids (the schema holds them to the shape
 * of an id) and a document's own dates, never a field of the person, the
 * requesters, the care or the intake: a duplicate names the registration
 * it duplicates, not the name-kana and birth date that matched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "intake.h"
#include "../util/base64.h"
#include "../util/timeutil.h"

/* The order of a record's children (schemas/registration.xsd). */
static const char *const record_order[] = {
	"basis", "ordinance-clause", "applicant", "person", "requesters", "care",
	"consent", "intake", NULL,
};

static int order_of(const char *name)
{
	int i;

	for (i = 0; record_order[i]; i++)
		if (!strcmp(record_order[i], name))
			return i;
	return i;
}

/* Put section into record in place of the one of its name, keeping order. */
static void replace_section(struct node *record, const struct node *section)
{
	struct node *old = node_child(record, section->name), *copy = node_copy(section);
	struct node *c, *prev = NULL;
	int want = order_of(section->name);

	if (old)
		node_remove(old);
	for (c = record->child; c && order_of(c->name) < want; c = c->next)
		prev = c;
	copy->parent = record;
	if (prev) {
		copy->next = prev->next;
		prev->next = copy;
	} else {
		copy->next = record->child;
		record->child = copy;
	}
	if (!copy->next)
		record->last = copy;
}

static int check_date(const struct node *doc, const char *path, const char *what,
		      long today, long *out, struct strbuf *why)
{
	const char *s = path ? node_text(doc, path) : NULL;

	if (!s || date_parse(s, out) < 0) {
		strbuf_addf(why, "bad <%s> '%s'", what, s ? s : "");
		return -1;
	}
	if (*out > today) {
		strbuf_addf(why, "<%s> %s is in the future", what, s);
		return -1;
	}
	return 0;
}

/* Base64 characters enough for the longest magic number below (9 bytes). */
#define PHOTO_HEAD_CHARS 12

static int check_photo(const struct node *person, struct strbuf *why)
{
	const struct node *photo = node_child(person, "photo");
	struct strbuf head = STRBUF_INIT;
	const char *type;
	size_t len, size, head_len, chars = 0;
	int ok;

	if (!photo)
		return 0;
	type = node_attr(photo, "type");
	len = photo->text ? strlen(photo->text) : 0;
	/* What the schema's xs:base64Binary would say (see intake.c). */
	if (!photo->text || !base64_xsd_size(photo->text, len, &size)) {
		strbuf_addstr(why, "<photo>: not valid base64 (xs:base64Binary)");
		return -1;
	}
	if (size > INTAKE_MAX_PHOTO) {
		strbuf_addf(why, "<photo>: larger than %u bytes", INTAKE_MAX_PHOTO);
		return -1;
	}
	/* Valid base64: its first bytes are all the type check needs. */
	for (head_len = 0; head_len < len && chars < PHOTO_HEAD_CHARS; head_len++)
		if (!strchr(" \t\r\n", photo->text[head_len]))
			chars++;
	base64_decode(photo->text, head_len, PHOTO_HEAD_CHARS, &head);
	if (type && !strcmp(type, "image/jpeg"))
		ok = head.len >= 3 && !memcmp(head.buf, "\xff\xd8\xff", 3);
	else if (type && !strcmp(type, "image/png"))
		ok = head.len >= 8 && !memcmp(head.buf, "\x89PNG\r\n\x1a\n", 8);
	else
		ok = 0;
	strbuf_release(&head);
	if (!ok) {
		strbuf_addf(why, "<photo>: not a %s image", type ? type : "JPEG or PNG");
		return -1;
	}
	return 0;
}

static int check_person(struct registry *reg, const struct config *cfg,
			const struct node *person, const char *self_id, long today,
			struct strbuf *why)
{
	const char *ward = node_attr(node_child(person, "address"), "ward");
	const char *kana = node_text(person, "name-kana");
	const char *birth = node_text(person, "birth-date");
	struct reg_entry *dup;
	long bd;

	if (!ward || !strlist_has(&cfg->wards, ward)) {
		strbuf_addf(why, "<address>: unknown ward '%s'", ward ? ward : "");
		return -1;
	}
	if (!birth || date_parse(birth, &bd) < 0) {
		strbuf_addstr(why, "<birth-date>: not a valid date");
		return -1;
	}
	if (bd > today) {
		strbuf_addstr(why, "<birth-date>: not a past date");
		return -1;
	}
	dup = registry_find_person(reg, kana, birth);
	if (dup && (!self_id || strcmp(dup->id, self_id))) {
		strbuf_addf(why, "duplicate: this person is already registered as %s", dup->id);
		return -1;
	}
	return 0;
}

int intake_check_document(const struct node *doc, struct strbuf *why)
{
	const struct node *person = node_child(doc, "person");

	return person ? check_photo(person, why) : 0;
}

static int check_intake(const struct config *cfg, const struct node *intake, long today,
			struct strbuf *why)
{
	const char *center = node_attr(intake, "center");
	const char *date = node_attr(intake, "interview-date");
	const struct agency *a = config_agency(cfg, center);
	long d;

	if (!a || a->kind != AGENCY_CARE_CENTER) {
		strbuf_addf(why, "<intake>: unknown care center '%s'", center ? center : "");
		return -1;
	}
	if (!date || date_parse(date, &d) < 0 || d > today) {
		strbuf_addstr(why, "<intake>: interview-date is not a past date");
		return -1;
	}
	return 0;
}

static int check_consent(const struct node *consent, long today, struct strbuf *why)
{
	const char *date = node_attr(consent, "date");
	long d;

	if (strcmp(node_attr(consent, "share") ?: "", "yes")) {
		strbuf_addstr(why, "<consent>: share is not \"yes\": the registration "
				   "cannot be shared and is refused");
		return -1;
	}
	if (!date || date_parse(date, &d) < 0 || d > today) {
		strbuf_addf(why, "<consent>: date '%s' is not a past date", date ? date : "");
		return -1;
	}
	return 0;
}

static int check_basis(const struct node *doc, long today, struct strbuf *why)
{
	const char *basis = node_text(doc, "basis");
	const struct node *app = node_child(doc, "applicant");
	const struct node *consent = node_child(doc, "consent");

	if (!strcmp(node_attr(app, "kind") ?: "", "guardian")) {
		if (!node_attr(app, "guardian")) {
			strbuf_addstr(why, "<applicant>: a guardian needs guardian=\"adult\" "
					   "or \"voluntary\"");
			return -1;
		}
		if (!node_text(app, "name")) {
			strbuf_addstr(why, "<applicant>: a guardian needs <name>");
			return -1;
		}
		if (!node_text(app, "certificate")) {
			strbuf_addstr(why, "<applicant>: a guardian needs <certificate> "
					   "(登記事項証明書)");
			return -1;
		}
	}
	if (basis && !strcmp(basis, "agency-sharing")) {
		if (!node_text(doc, "ordinance-clause")) {
			strbuf_addstr(why, "missing <ordinance-clause>: required with basis "
					   "agency-sharing");
			return -1;
		}
		return consent ? check_consent(consent, today, why) : 0;
	}
	if (!consent) {
		strbuf_addf(why, "missing <consent>: required with basis %s",
			    basis ? basis : "?");
		return -1;
	}
	return check_consent(consent, today, why);
}

static struct reg_entry *find_active(struct registry *reg, const struct node *doc,
				     long today, struct strbuf *why)
{
	const char *id = node_text(doc, "id");
	struct reg_entry *e = id ? registry_find(reg, id) : NULL;
	char d[11];

	if (!e) {
		strbuf_addf(why, "unknown registration '%s'", id ? id : "");
		return NULL;
	}
	if (e->state != REG_ACTIVE) {
		date_format(e->destroyed, d);
		strbuf_addf(why, "registration %s was destroyed on %s (%s)", e->id, d,
			    e->reason);
		return NULL;
	}
	if (e->expires >= 0 && today >= e->expires) {
		date_format(e->expires, d);
		strbuf_addf(why, "registration %s expired on %s", e->id, d);
		return NULL;
	}
	return e;
}

static void set_date_attr(struct node *n, const char *name, long d)
{
	char s[11];

	date_format(d, s);
	node_set_attr(n, name, s);
}

static void bump_version(struct node *record)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", atoi(node_attr(record, "version") ?: "0") + 1);
	node_set_attr(record, "version", v);
}

static int apply_registration(struct registry *reg, const struct config *cfg,
			      struct node *doc, long today, char *id, size_t idlen,
			      struct strbuf *why)
{
	struct node *record;
	long expires;

	if (check_basis(doc, today, why) < 0 ||
	    check_person(reg, cfg, node_child(doc, "person"), NULL, today, why) < 0 ||
	    check_intake(cfg, node_child(doc, "intake"), today, why) < 0)
		return -1;
	if (date_add_duration(today, cfg->validity, 1, &expires) < 0) {
		strbuf_addf(why, "bad validity '%s' in the configuration", cfg->validity);
		return -1;
	}
	registry_new_id(reg, today, id, idlen);
	record = node_new("record");
	node_set_attr(record, "id", id);
	node_set_attr(record, "version", "1");
	set_date_attr(record, "registered", today);
	set_date_attr(record, "expires", expires);
	node_move_children(record, doc);
	registry_put(reg, record);
	/* The sections go back: the caller frees the document it made. */
	node_move_children(doc, record);
	node_free(record);
	return 0;
}

static int apply_change(struct registry *reg, const struct config *cfg,
			const struct node *doc, long today, struct strbuf *why)
{
	static const char *const sections[] = { "person", "requesters", "care", "intake",
						NULL };
	const char *const *s;
	struct reg_entry *e;
	struct node *record;
	long date;

	if (check_date(doc, "date", "date", today, &date, why) < 0 ||
	    !(e = find_active(reg, doc, today, why)))
		return -1;
	if (node_child(doc, "person") &&
	    check_person(reg, cfg, node_child(doc, "person"), e->id, today, why) < 0)
		return -1;
	if (node_child(doc, "intake") &&
	    check_intake(cfg, node_child(doc, "intake"), today, why) < 0)
		return -1;
	if (registry_load(reg, e, &record) < 0) {
		strbuf_addf(why, "cannot read registration %s", e->id);
		return -1;
	}
	for (s = sections; *s; s++)
		if (node_child(doc, *s))
			replace_section(record, node_child(doc, *s));
	bump_version(record);
	registry_put(reg, record);
	node_free(record);
	return 0;
}

static int apply_cancellation(struct registry *reg, const struct node *doc, long today,
			      struct strbuf *why)
{
	struct reg_entry *e;
	long date;

	if (check_date(doc, "date", "date", today, &date, why) < 0 ||
	    !(e = find_active(reg, doc, today, why)))
		return -1;
	return registry_destroy(reg, e, date, node_text(doc, "reason"));
}

static int apply_renewal(struct registry *reg, const struct config *cfg,
			 const struct node *doc, long today, struct strbuf *why)
{
	const struct node *consent = node_child(doc, "consent");
	struct reg_entry *e;
	struct node *record;
	long date, expires;

	if (check_date(doc, "date", "date", today, &date, why) < 0 ||
	    !(e = find_active(reg, doc, today, why)) ||
	    check_consent(consent, today, why) < 0)
		return -1;
	if (date_add_duration(date, cfg->validity, 1, &expires) < 0) {
		strbuf_addf(why, "bad validity '%s' in the configuration", cfg->validity);
		return -1;
	}
	if (registry_load(reg, e, &record) < 0) {
		strbuf_addf(why, "cannot read registration %s", e->id);
		return -1;
	}
	replace_section(record, consent);
	set_date_attr(record, "renewed", date);
	set_date_attr(record, "expires", expires);
	bump_version(record);
	registry_put(reg, record);
	node_free(record);
	return 0;
}

int intake_apply(struct registry *reg, const struct config *cfg, struct node *doc,
		 long today, char *id, size_t idlen, struct strbuf *why)
{
	const char *kind = doc->name;
	int ret;

	if (!strcmp(kind, "registration"))
		return apply_registration(reg, cfg, doc, today, id, idlen, why);
	snprintf(id, idlen, "%s", node_text(doc, "id") ?: "");
	if (!strcmp(kind, "change"))
		ret = apply_change(reg, cfg, doc, today, why);
	else if (!strcmp(kind, "cancellation"))
		ret = apply_cancellation(reg, doc, today, why);
	else if (!strcmp(kind, "renewal"))
		ret = apply_renewal(reg, cfg, doc, today, why);
	else {
		strbuf_addf(why, "unexpected root element <%s>", kind);
		ret = -1;
	}
	return ret;
}
