/*
 * dispatch_checks - every check of a request, all failures collected
 * into its reasons: times, the registration, the requester, the police
 * station, the area, replays.
 */
#include <stdlib.h>
#include <string.h>
#include "../lib/seal.h"
#include "../lib/text.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"
#include "dispatch_int.h"

/* ---------------------------------------------------------------- */
/* Checks                                                             */
/* ---------------------------------------------------------------- */

const char *req_value(const struct req *r, const char *key)
{
	return node_text(r->request, key);
}

static void check_time(struct dispatch *d, struct req *r, const char *key, int required,
		       time_t *out)
{
	const char *v = req_value(r, key);
	time_t t;

	if (out)
		*out = 0;
	if (!v) {
		if (required)
			req_reason(r, "missing '%s'", key);
		return;
	}
	if (datetime_parse(v, &t) < 0) {
		req_reason(r, "'%s' is not a date and time", key);
		return;
	}
	if (t > d->now + MAX_SKEW)
		req_reason(r, "'%s' is in the future", key);
	if (out)
		*out = t;
}

static void check_registration(struct dispatch *d, struct req *r)
{
	const char *id = req_value(r, "registration");
	const char *kana = req_value(r, "name-kana"), *birth = req_value(r, "birth-date");
	struct reg_entry *e;
	char date[11];

	if (id) {
		e = registry_find(d->reg, id);
		if (!e) {
			req_reason(r, "unknown registration '%s'", id);
			return;
		}
	} else if (kana && birth) {
		e = registry_find_person(d->reg, kana, birth);
		if (!e) {
			req_reason(r, "no active registration with that name-kana and birth-date");
			return;
		}
	} else {
		req_reason(r, "missing 'registration' (or 'name-kana' with 'birth-date')");
		return;
	}
	if (e->state != REG_ACTIVE) {
		if (!strcmp(e->reason, "expired"))
			req_reason(r, "registration %s has expired", e->id);
		else
			req_reason(r, "registration %s was cancelled", e->id);
		return;
	}
	if (d->today >= e->expires) {
		date_format(e->expires, date);
		req_reason(r, "registration %s expired on %s", e->id, date);
		return;
	}
	if (registry_load(d->reg, e, &r->record) < 0) {
		req_reason(r, "registration %s cannot be read", e->id);
		return;
	}
	r->entry = e;
}

static void check_requester(struct req *r)
{
	const struct node *reqs = node_child(r->record, "requesters"), *q;
	const char *name = req_value(r, "requester-name");
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	int listed = 0, match = 0;

	for (q = reqs ? node_child(reqs, "requester") : NULL; q; q = node_next_same(q)) {
		const char *n = node_text(q, "name");

		if (!n)
			continue;
		listed = 1;
		if (!name)
			continue;
		strbuf_reset(&a);
		strbuf_reset(&b);
		text_fold(n, &a);
		text_fold(name, &b);
		if (!strcmp(a.buf, b.buf))
			match = 1;
	}
	if (listed && !name)
		req_reason(r, "missing 'requester-name' (the registration lists its requesters)");
	else if (listed && !match)
		req_reason(r, "'requester-name' is not one of the registration's requesters");
	strbuf_release(&a);
	strbuf_release(&b);
}

static void check_police(struct dispatch *d, struct req *r, int required)
{
	const char *v = req_value(r, "police-station");
	const struct agency *a;

	if (!v) {
		if (required)
			req_reason(r, "missing 'police-station'");
		return;
	}
	a = config_agency(&d->ctx->cfg, v);
	if (!a)
		a = config_agency_by_name(&d->ctx->cfg, v);
	if (!a || a->kind != AGENCY_POLICE) {
		req_reason(r, "'police-station' is not a configured police station");
		return;
	}
	r->police = a;
}

void req_area(const struct req *r, struct wards *w)
{
	const char *v = req_value(r, "area");
	char *copy, *tok, *save = NULL;

	memset(w, 0, sizeof(*w));
	if (!v || !strcmp(v, "*")) {
		w->all = 1;
		return;
	}
	copy = xstrdup(v);
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		strlist_add(&w->ids, tok);
	strlist_sort(&w->ids);
	free(copy);
}

static void check_area(struct dispatch *d, struct req *r)
{
	struct wards w;
	size_t i;

	req_area(r, &w);
	for (i = 0; i < w.ids.nr; i++)
		if (!strlist_has(&d->ctx->cfg.wards, w.ids.items[i]))
			req_reason(r, "unknown ward '%s' in 'area'", w.ids.items[i]);
	strlist_clear(&w.ids);
}

/*
 * Every request an operator signed is remembered, accepted or rejected,
 * by its request-id or, when none can be read, by the first 32 hex
 * digits of the SHA-256 of the signed entity; one seen before is a
 * replay.
 */
void dispatch_check_replay(struct dispatch *d, struct req *r, const struct strbuf *entity)
{
	const char *id = r->request ? req_value(r, "request-id") : NULL;
	struct strbuf hex = STRBUF_INIT;
	time_t at;
	char date[11];

	if (id && *id) {
		r->rid = xstrdup(id);
	} else {
		sha256_hex(entity->buf, entity->len, &hex);
		strbuf_setlen(&hex, 32);
		r->rid = strbuf_detach(&hex, NULL);
	}
	at = alert_request_seen(d->st, r->op->key, r->rid);
	if (!at)
		return;
	date_format(date_of(at), date);
	req_reason(r, "replay of a request seen on %s", date);
	r->replay = 1;
}

/*
 * approve: another configured operator than the one who asked, for a
 * held alert, within APPROVAL_WINDOW of the hold; the registration still
 * valid. Loads the alert into r->alert.
 */
static void check_approve(struct dispatch *d, struct req *r)
{
	const char *id = req_value(r, "alert"), *status = req_value(r, "status");
	struct alert_entry *e;

	if (req_value(r, "registration") || req_value(r, "name-kana") ||
	    req_value(r, "birth-date"))
		req_reason(r, "'approve' names the alert, not a registration");
	if (!id) {
		req_reason(r, "missing 'alert'");
		return;
	}
	e = alert_find(d->st, id);
	if (!e) {
		req_reason(r, "unknown alert '%s'", id);
		return;
	}
	if (e->state != ALERT_HELD) {
		req_reason(r, "alert %s is not waiting for approval (it is %s%s)", e->id,
			   e->exercise ? "an exercise, " : "", alert_state_name(e->state));
		return;
	}
	if (status && strcmp(status, "actual"))
		req_reason(r, "'status' is %s but alert %s is actual", status, e->id);
	if (d->now > e->opened + APPROVAL_WINDOW) {
		char when[32];

		datetime_format(e->opened, when);
		req_reason(r, "alert %s was held at %s: approvals are taken for 2 hours only",
			   e->id, when);
		return;
	}
	if (alert_load(d->st, e, &r->alert) < 0) {
		req_reason(r, "alert %s cannot be read", e->id);
		return;
	}
	if (r->alert.operator_fpr && !strcmp(r->alert.operator_fpr, r->op->key)) {
		req_reason(r, "alert %s was asked for by the same operator: a second operator "
			   "must approve it", e->id);
		return;
	}
	r->open = e;
	/* The registration must still be valid, as for the alert itself. */
	node_add(r->request, "registration", e->registration);
	check_registration(d, r);
	node_remove(node_child(r->request, "registration"));
	r->police = config_agency(&d->ctx->cfg, r->alert.police ? r->alert.police : "");
	if (!r->police)
		req_reason(r, "alert %s: its police station is no longer configured", e->id);
}

void dispatch_checks(struct dispatch *d, struct req *r)
{
	int alert, approve;
	time_t sent, missing;
	const char *status = req_value(r, "status");
	int known;

	r->type = req_value(r, "type");
	r->exercise = status && !strcmp(status, "exercise");
	alert = r->type && !strcmp(r->type, "alert");
	approve = r->type && !strcmp(r->type, "approve");
	known = alert || (r->type && (!strcmp(r->type, "update") || !strcmp(r->type, "found") ||
				      !strcmp(r->type, "withdraw")));
	check_time(d, r, "sent", 1, &sent);
	if (sent && sent < d->now - MAX_AGE)
		req_reason(r, "'sent' is more than 24 hours old");
	if (alert && !status)
		req_reason(r, "missing 'status' (actual or exercise)");
	if (!approve && req_value(r, "alert"))
		req_reason(r, "'alert' is only for type 'approve'");
	if (approve) {
		check_approve(d, r);
		return;
	}
	check_registration(d, r);
	if (r->record)
		check_requester(r);
	check_police(d, r, alert);
	check_time(d, r, "police-report-at", alert, NULL);
	check_time(d, r, "missing-since", alert, &missing);
	check_time(d, r, "found-at", 0, NULL);
	if (alert && !req_value(r, "last-seen"))
		req_reason(r, "missing 'last-seen'");
	check_area(d, r);
	if (r->entry && known) {
		r->open = alert_find_open(d->st, r->entry->id);
		if (alert && r->open)
			req_reason(r, "an alert is already open for this registration (%s%s)",
				   r->open->id, r->open->state == ALERT_HELD ? ", held" : "");
		if (!alert && !r->open)
			req_reason(r, "no alert is open for this registration");
		/* The alert's own status applies; one given must match it. */
		if (!alert && r->open && status &&
		    !!strcmp(status, "exercise") == !!r->open->exercise)
			req_reason(r, "'status' is %s but alert %s is %s", status, r->open->id,
				   r->open->exercise ? "exercise" : "actual");
	}
}
