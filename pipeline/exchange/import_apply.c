/*
 * import_apply - put what a bundle holds in the registry's uncommitted
 * batch (see import.c): records by version (an older version never
 * replaces a newer one), deletions, and, for a complete bundle, the
 * destruction of every record from its sender that it lacks; and the
 * receipts due to the sender. Nothing here commits: a bundle rejected
 * later is undone by reading the registry again.
 *
 * SECURITY: no record or deletion may touch a record this node
 * registered itself (one not marked EXCHANGE_IMPORTED); only sources may
 * send deletions. Reasons hold ids, never personal data.
 */
#include <stdlib.h>
#include <string.h>
#include "import_int.h"
#include "../lib/xml.h"
#include "../util/clock.h"
#include "../util/timeutil.h"

static void remember(struct bundle *b, struct hashmap *set, const char *id)
{
	strlist_add(&b->ids, id);
	hashmap_put(set, b->ids.items[b->ids.nr - 1], (void *)1);
}

/*
 * What the sender may not touch here: a record this node registered
 * itself (it was never imported) is this node's own, whoever asks.
 */
static int is_own(struct import *im, const char *id)
{
	struct reg_entry *e = registry_find(im->reg, id);

	return e && !registry_was_sent(e, EXCHANGE_IMPORTED);
}

/* Judge one checked record and put it in the registry (not yet committed). */
int import_take_record(struct import *im, struct bundle *b, const char *id,
		       struct record_check *rc)
{
	struct node *r = NULL;
	struct reg_entry *e;
	int ret = -1;

	b->nr_records++;
	if (import_record_verdict(b, id, rc, &r) < 0)
		goto out;
	if (is_own(im, id)) {
		bundle_reject(b, "record %s: registered by this node, not to be replaced", id);
		goto out;
	}
	e = registry_find(im->reg, id);
	remember(b, &b->sent, id);
	ret = 0;
	/* Records by version: a version we hold already, or a newer one (or
	 * destroyed at it), is left as it is. */
	if (e && e->version >= atoi(node_attr(r, "version")))
		goto out;
	e = registry_put(im->reg, r);
	registry_mark_sent(im->reg, e, EXCHANGE_IMPORTED);
	exchange_mark_from(im->reg, e, b->from->id);
	b->touched = 1;
	b->changed++;
out:
	node_free(r);
	return ret;
}

/* Parse deletions.xml into *dels; a non-source may send none. */
static int parse_deletions(struct bundle *b, const struct tar_file *f, struct node **dels)
{
	struct strbuf why = STRBUF_INIT;

	*dels = NULL;
	if (import_count_markup(f) > MANIFEST_MAX_MARKUP)
		return bundle_reject(b, "deletions.xml: more than %d elements", MANIFEST_MAX_MARKUP);
	if (xml_parse(f->data, f->len, BUNDLE_MAX_ENTRY, XML_SCHEMA_MANIFEST, dels, &why) < 0) {
		bundle_reject(b, "deletions.xml: %s", why.buf);
		strbuf_release(&why);
		return -1;
	}
	if (strcmp((*dels)->name, "deletions"))
		return bundle_reject(b, "deletions.xml: <%s> is not <deletions>", (*dels)->name);
	if (node_child(*dels, "deletion") && b->from && !b->from->source)
		return import_not_a_source(b);
	return 0;
}

/* Check the deletions and make them in the registry (not yet committed). */
int import_take_deletions(struct import *im, struct bundle *b, const struct tar_file *f)
{
	struct strbuf why = STRBUF_INIT;
	struct node *dels = NULL;
	const struct node *d;
	int ret = -1;

	if (parse_deletions(b, f, &dels) < 0)
		goto out;
	for (d = node_child(dels, "deletion"); d; d = node_next_same(d)) {
		const char *id = node_attr(d, "id");
		struct reg_entry *e = registry_find(im->reg, id);
		long date;

		b->nr_deletions++;
		if (hashmap_get(&b->sent, id)) {
			bundle_reject(b, "record %s is both sent and deleted", id);
			goto out;
		}
		if (is_own(im, id)) {
			bundle_reject(b, "deletion of record %s: registered by this node", id);
			goto out;
		}
		remember(b, &b->deleted, id);
		if (!e || e->state != REG_ACTIVE)
			continue;
		if (date_parse(node_attr(d, "date"), &date) < 0)
			date = clock_today();
		registry_destroy(im->reg, e, date, node_attr(d, "reason"));
		strbuf_reset(&why);
		strbuf_addf(&why, "%s reason=%s", e->id, e->reason);
		strlist_add(&b->destroyed, why.buf);
		b->touched = 1;
	}
	ret = 0;
out:
	node_free(dels);
	strbuf_release(&why);
	return ret;
}

/*
 * A complete bundle is all the sender holds for us: every record from it
 * that the bundle lacks is destroyed here.
 */
void import_reconcile(struct import *im, struct bundle *b)
{
	size_t i, n = registry_count(im->reg);
	struct strbuf sb = STRBUF_INIT;

	for (i = 0; i < n; i++) {
		struct reg_entry *e = registry_entry(im->reg, i);

		if (e->state != REG_ACTIVE || hashmap_get(&b->sent, e->id) ||
		    !exchange_is_from(e, b->from->id))
			continue;
		registry_destroy(im->reg, e, clock_today(), "other");
		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s reason=other", e->id);
		strlist_add(&b->destroyed, sb.buf);
		b->nr_deletions++;
	}
	strbuf_release(&sb);
}

/* Remember to acknowledge sequence n of agency a in our next bundle to it. */
void import_receipt_due(struct import *im, const struct agency *a, long n)
{
	const char *old = exchange_state_str(im->reg, "receipt-due", a->id);
	struct strbuf sb = STRBUF_INIT;

	/* The highest is what counts (bundles are cumulative): keep the list short. */
	if (old && old[0] && strlen(old) < 600)
		strbuf_addf(&sb, "%s,", old);
	strbuf_addf(&sb, "%ld", n);
	exchange_state_set_str(im->reg, "receipt-due", a->id, sb.buf);
	strbuf_release(&sb);
}
