#ifndef VIEW_H
#define VIEW_H
#include "../util/node.h"
#include "config.h"

/*
 * Views: the one mechanism that decides what each audience sees of a
 * record (mimamori-design(7)). Every output — a bundle's records, an alert, a reply,
 * `show --as` — is built from a view; templates and archives only ever
 * receive one.
 *
 *  - full (city, custodian, ward office, care center, mail vendor): the
 *    whole record;
 *  - police: the record element with its id and dates, and `person' only;
 *  - alert: <alert-view> with sex, age (years, on the given date),
 *    usual-places, previous-residences, features and lost-before; nothing
 *    else (no name, kana, maiden name, birth date, address, phones,
 *    requesters, care, consent, intake, id).
 *
 * Views are built by copying what an audience may see (a list of what to
 * keep, never of what to drop), so a field added to the schema later stays
 * out of every view until it is named here.
 */
enum audience {
	AUDIENCE_FULL,
	AUDIENCE_POLICE,
	AUDIENCE_ALERT,
	AUDIENCE_MAX
};

enum audience audience_of(enum agency_kind kind);
/* "full", "police", "alert"; and parsing of those and of agency kinds. */
const char *audience_name(enum audience a);
/* An agency kind name or "alert" -> audience; -1 when unknown. */
int audience_parse(const char *name);

/* A new tree: the view of record for audience (today: the date for ages). */
struct node *view_make(const struct node *record, enum audience a, long today);

/*
 * Whether record (as received from another agency) holds nothing beyond
 * what audience a may see. 1 if so; 0 with the first offending element's
 * name in why ("<care>") otherwise.
 */
int view_within(const struct node *record, enum audience a, struct strbuf *why);

#endif
