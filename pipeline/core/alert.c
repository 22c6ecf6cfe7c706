/*
 * alert - the alert store: every alert this node sent, sealed at rest,
 * and its index (see alert.h for the layout and the commit protocol).
 *
 * Reads and writes spool/alerts/index and spool/alerts/ID.VERSION.
 *
 * SECURITY: an alert file holds the circumstances of a disappearance and
 * the requester's name; it is sealed with the node's data key and bound
 * to its name (AD "alert:ID.VERSION"). The index holds ids, ward, status
 * and times only; request-ids are kept as keyed hashes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alert.h"
#include "../util/clock.h"
#include "datakey.h"
#include "../lib/seal.h"
#include "sealidx.h"
#include "sealstore.h"
#include "../lib/xml.h"
#include "../util/fileio.h"
#include "../util/hashmap.h"
#include "../util/msg.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"

#define INDEX_REL    SPOOL_ALERTS "/index"
#define INDEX_AAD    "alerts-index"
#define INDEX_MAGIC  "mimamori-alerts 1"
#define INDEX_MAX    ((size_t)256 << 20)
#define ALERT_MAX    ((size_t)16 << 20)
#define SEEN_KEEP    (8 * 86400)

struct seen {
	char hash[65];
	time_t at;
};

struct alert_store {
	struct sealstore st;         /* entries, ids per year, notes, batches, lock */
	struct seen *seen;
	size_t nr_seen, alloc_seen;
	struct hashmap seen_map;     /* hash -> struct seen (by position + 1) */
	struct hashmap pending;      /* "ID.V" -> XML not yet committed */
	struct strlist pending_keys;
};

const char *alert_state_name(enum alert_state s)
{
	switch (s) {
	case ALERT_OPEN: return "open";
	case ALERT_CLOSED: return "closed";
	case ALERT_DESTROYED: return "destroyed";
	case ALERT_HELD: return "held";
	}
	return "?";
}

const char *alert_close_name(enum alert_close c)
{
	switch (c) {
	case ALERT_CLOSE_NONE: return "";
	case ALERT_FOUND: return "found";
	case ALERT_WITHDRAWN: return "withdrawn";
	case ALERT_EXPIRED: return "expired";
	}
	return "?";
}

void alert_init(struct alert *a)
{
	memset(a, 0, sizeof(*a));
	a->entry.hours_missing = -1;
}

void alert_release(struct alert *a)
{
	node_free(a->request);
	free(a->request_id);
	free(a->operator_fpr);
	free(a->police);
	strlist_clear(&a->recipients);
	strlist_clear(&a->message_ids);
	free(a->approved_by);
	strlist_clear(&a->caps);
	alert_init(a);
}

static void file_rel(struct strbuf *sb, const char *id, int version)
{
	strbuf_reset(sb);
	strbuf_addf(sb, SPOOL_ALERTS "/%s.%d", id, version);
}

static void file_aad(struct strbuf *sb, const char *id, int version)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "alert:%s.%d", id, version);
}

static struct alert_entry *entry_add(struct alert_store *st, const char *id)
{
	struct alert_entry *e = sealstore_entry_add(&st->st, id);

	e->hours_missing = -1;
	return e;
}

static const char *dash(const char *s)
{
	return s && *s ? s : "-";
}

static void copy_field(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", strcmp(src, "-") ? src : "");
}

static enum alert_close close_parse(const char *s)
{
	if (!strcmp(s, "found"))
		return ALERT_FOUND;
	if (!strcmp(s, "withdrawn"))
		return ALERT_WITHDRAWN;
	if (!strcmp(s, "expired"))
		return ALERT_EXPIRED;
	return ALERT_CLOSE_NONE;
}

/*
 * Index lines, tab-separated:
 *   Y year max
 *   A id version registration ward a|e o|c|d opened closed close-type
 *     missing-since found-at hours
 *   R hash time          (a request-id seen)
 *   N key value          (notes of the last commit: core/sealstore.c)
 */
static int index_fill(void *ctx, struct strbuf *out)
{
	const struct alert_store *st = ctx;
	size_t i;
	time_t now = clock_now();

	strbuf_addstr(out, INDEX_MAGIC "\n");
	for (i = 0; i < st->st.years.nr; i++)
		strbuf_addf(out, "Y\t%d\t%ld\n", st->st.years.v[i].year,
			    st->st.years.v[i].max);
	for (i = 0; i < st->st.nr; i++) {
		const struct alert_entry *e = st->st.entries[i];

		strbuf_addf(out, "A\t%s\t%d\t%s\t%s\t%c\t%c\t%lld\t%lld\t%s\t%lld\t%lld\t%ld\n",
			    e->id, e->version, dash(e->registration), dash(e->ward),
			    e->exercise ? 'e' : 'a', "ocdh"[e->state], (long long)e->opened,
			    (long long)e->closed, dash(alert_close_name(e->close_type)),
			    (long long)e->missing_since, (long long)e->found_at,
			    e->hours_missing);
	}
	for (i = 0; i < st->nr_seen; i++) {
		/* The program's clock (--now), as every other rule. */
		if (st->seen[i].at + SEEN_KEEP < now)
			continue;
		strbuf_addf(out, "R\t%s\t%lld\n", st->seen[i].hash, (long long)st->seen[i].at);
	}
	return 0;
}

static int parse_entry(struct alert_store *st, char **f, int nf)
{
	struct alert_entry *e;

	if (nf != 13 || sealstore_find(&st->st, f[1]) || !strchr("ae", f[5][0]) ||
	    !strchr("ocdh", f[6][0]) || !f[5][0] || !f[6][0])
		return -1;
	e = entry_add(st, f[1]);
	e->version = atoi(f[2]);
	copy_field(e->registration, sizeof(e->registration), f[3]);
	copy_field(e->ward, sizeof(e->ward), f[4]);
	e->exercise = f[5][0] == 'e';
	e->state = f[6][0] == 'o' ? ALERT_OPEN : f[6][0] == 'c' ? ALERT_CLOSED :
		   f[6][0] == 'h' ? ALERT_HELD : ALERT_DESTROYED;
	e->opened = (time_t)atoll(f[7]);
	e->closed = (time_t)atoll(f[8]);
	e->close_type = close_parse(f[9]);
	e->missing_since = (time_t)atoll(f[10]);
	e->found_at = (time_t)atoll(f[11]);
	e->hours_missing = atol(f[12]);
	return 0;
}

static void seen_add(struct alert_store *st, const char *hash, time_t at)
{
	size_t pos = (size_t)hashmap_get(&st->seen_map, hash);

	if (pos) {
		st->seen[pos - 1].at = at;
		return;
	}
	ALLOC_GROW(st->seen, st->nr_seen + 1, st->alloc_seen);
	snprintf(st->seen[st->nr_seen].hash, sizeof(st->seen[0].hash), "%s", hash);
	st->seen[st->nr_seen].at = at;
	st->nr_seen++;
	/* The array may move: rebuild the map (keys point into it). */
	{
		size_t i;

		hashmap_clear(&st->seen_map);
		for (i = 0; i < st->nr_seen; i++)
			hashmap_put(&st->seen_map, st->seen[i].hash, (void *)(i + 1));
	}
}

static int index_header(void *ctx, const char *line)
{
	return strcmp(line, INDEX_MAGIC) ? -1 : 0;
}

static int index_line(void *ctx, char **f, int nf)
{
	struct alert_store *st = ctx;

	if (nf == 3 && !strcmp(f[0], "Y")) {
		sealidx_year_note(&st->st.years, atoi(f[1]), atol(f[2]));
		return 0;
	}
	if (nf == 3 && !strcmp(f[0], "R") && strlen(f[1]) == 64) {
		seen_add(st, f[1], (time_t)atoll(f[2]));
		return 0;
	}
	return strcmp(f[0], "A") ? -1 : parse_entry(st, f, nf);
}

/* Whether alerts/ID.VERSION is the current file of a kept alert. */
static int alert_named(void *ctx, const char *id, const char *version)
{
	struct alert_store *st = ctx;
	struct alert_entry *e;

	if (!version)
		return 0;
	e = sealstore_find(&st->st, id);
	return e && e->state != ALERT_DESTROYED && e->version == atoi(version);
}

/* A commit without notes (e.g. expire's) keeps those of the last one. */
static const struct sealstore_ops alert_ops = {
	.what = "alert",
	.lock = "alerts",
	.dir = SPOOL_ALERTS,
	.index_rel = INDEX_REL,
	.index_aad = INDEX_AAD,
	.index_max = INDEX_MAX,
	.entry_size = sizeof(struct alert_entry),
	.id_letter = 'A',
	.keep_notes = 1,
	.header = index_header,
	.line = index_line,
	.fill = index_fill,
	.keep = alert_named,
};

int alert_store_open(struct alert_store **stp, const struct config *cfg,
		     const struct spool *sp, int for_write)
{
	struct alert_store *st = xcalloc(1, sizeof(*st));

	*stp = NULL;
	if (sealstore_open(&st->st, &alert_ops, st, cfg, sp, for_write) < 0) {
		alert_store_close(st);
		return -1;
	}
	*stp = st;
	return 0;
}

void alert_store_close(struct alert_store *st)
{
	if (!st)
		return;
	sealstore_release(&st->st);
	free(st->seen);
	hashmap_clear(&st->seen_map);
	sealidx_pending_clear(&st->pending, &st->pending_keys);
	free(st);
}

size_t alert_count(const struct alert_store *st)
{
	return st->st.nr;
}

struct alert_entry *alert_entry(struct alert_store *st, size_t i)
{
	return i < st->st.nr ? st->st.entries[i] : NULL;
}

struct alert_entry *alert_find(struct alert_store *st, const char *id)
{
	return sealstore_find(&st->st, id);
}

struct alert_entry *alert_find_open(struct alert_store *st, const char *registration)
{
	size_t i;

	for (i = 0; i < st->st.nr; i++) {
		struct alert_entry *e = st->st.entries[i];

		if ((e->state == ALERT_OPEN || e->state == ALERT_HELD) &&
		    !strcmp(e->registration, registration))
			return e;
	}
	return NULL;
}

static void list_children(const struct node *root, const char *name, struct strlist *l)
{
	const struct node *n;

	for (n = node_child(root, name); n; n = node_next_same(n))
		if (n->text)
			strlist_add(l, n->text);
}

static char *attr_dup(const struct node *n, const char *name)
{
	const char *v = node_attr(n, name);

	return v ? xstrdup(v) : NULL;
}

static time_t attr_time(const struct node *n, const char *name)
{
	const char *v = node_attr(n, name);

	return v ? (time_t)atoll(v) : 0;
}

static void set_time(struct node *n, const char *name, time_t t)
{
	char buf[32];

	if (!t)
		return;
	snprintf(buf, sizeof(buf), "%lld", (long long)t);
	node_set_attr(n, name, buf);
}

int alert_load(struct alert_store *st, const struct alert_entry *e, struct alert *a)
{
	struct strbuf rel = STRBUF_INIT, aad = STRBUF_INIT;
	struct node *root = NULL, *req;
	int ret = -1;

	alert_init(a);
	if (e->state == ALERT_DESTROYED)
		return error("alert '%s' was destroyed", e->id);
	file_rel(&rel, e->id, e->version);
	file_aad(&aad, e->id, e->version);
	if (sealidx_item_load(st->st.sp, st->st.key, "alert", rel.buf, aad.buf,
			      hashmap_get(&st->pending, aad.buf + 6), ALERT_MAX, &root) < 0)
		goto out;
	a->entry = *e;
	a->request_id = attr_dup(root, "request-id");
	a->operator_fpr = attr_dup(root, "operator");
	a->police = attr_dup(root, "police");
	list_children(root, "recipient", &a->recipients);
	strlist_sort(&a->recipients);
	list_children(root, "message-id", &a->message_ids);
	a->sent_at = attr_time(root, "sent-at");
	a->approved_by = attr_dup(root, "approved-by");
	a->approved_at = attr_time(root, "approved-at");
	a->widened_at = attr_time(root, "widened-at");
	{
		const struct node *c;

		for (c = node_child(root, "cap"); c; c = node_next_same(c)) {
			struct strbuf sb = STRBUF_INIT;

			strbuf_addf(&sb, "%s\t%s\t%s\t%s", dash(node_attr(c, "id")),
				    dash(node_attr(c, "sent")), dash(node_attr(c, "type")),
				    dash(node_attr(c, "headline")));
			strlist_add(&a->caps, sb.buf);
			strbuf_release(&sb);
		}
	}
	req = node_child(root, "request");
	if (req)
		a->request = node_copy(req);
	ret = 0;
out:
	node_free(root);
	strbuf_release(&rel);
	strbuf_release(&aad);
	return ret;
}

void alert_new(struct alert_store *st, time_t opened, struct alert *a)
{
	int y, m, d;
	long max;

	date_split(date_of(opened), &y, &m, &d);
	max = sealstore_next_serial(&st->st, y) - 1;
	memset(&a->entry, 0, sizeof(a->entry));
	/* Taken (and never reused) when alert_put() stores it. */
	snprintf(a->entry.id, sizeof(a->entry.id), "A%04d-%06d", y % 10000,
		 (int)((max + 1) % 1000000));
	a->entry.state = ALERT_OPEN;
	a->entry.opened = opened;
	a->entry.hours_missing = -1;
}

int alert_put(struct alert_store *st, const struct alert *a)
{
	struct strbuf xml = STRBUF_INIT, sealed = STRBUF_INIT, rel = STRBUF_INIT,
		      aad = STRBUF_INIT;
	struct alert_entry *e = alert_find(st, a->entry.id);
	struct node *root = node_new("alert");
	size_t i;
	int ret = -1, version;

	node_set_attr(root, "id", a->entry.id);
	if (a->request_id)
		node_set_attr(root, "request-id", a->request_id);
	if (a->operator_fpr)
		node_set_attr(root, "operator", a->operator_fpr);
	if (a->police)
		node_set_attr(root, "police", a->police);
	if (a->request)
		node_append(root, node_copy(a->request));
	for (i = 0; i < a->recipients.nr; i++)
		node_add(root, "recipient", a->recipients.items[i]);
	for (i = 0; i < a->message_ids.nr; i++)
		node_add(root, "message-id", a->message_ids.items[i]);
	set_time(root, "sent-at", a->sent_at);
	if (a->approved_by)
		node_set_attr(root, "approved-by", a->approved_by);
	set_time(root, "approved-at", a->approved_at);
	set_time(root, "widened-at", a->widened_at);
	for (i = 0; i < a->caps.nr; i++) {
		struct node *c = node_add(root, "cap", NULL);
		char *copy = xstrdup(a->caps.items[i]), *f[4], *p = copy;
		int k;

		for (k = 0; k < 4; k++) {
			f[k] = p;
			p = p ? strchr(p, '\t') : NULL;
			if (p)
				*p++ = '\0';
		}
		node_set_attr(c, "id", f[0]);
		if (f[1])
			node_set_attr(c, "sent", f[1]);
		if (f[2])
			node_set_attr(c, "type", f[2]);
		if (f[3])
			node_set_attr(c, "headline", f[3]);
		free(copy);
	}
	node_write(root, &xml);

	version = e ? e->version + 1 : 1;
	file_rel(&rel, a->entry.id, version);
	file_aad(&aad, a->entry.id, version);
	if (seal(st->st.key, aad.buf, xml.buf, xml.len, &sealed) < 0 ||
	    spool_batch_write(&st->st.batch, rel.buf, sealed.buf, sealed.len) < 0)
		goto out;
	if (e && e->state != ALERT_DESTROYED) {
		struct strbuf old = STRBUF_INIT;

		file_rel(&old, e->id, e->version);
		sealstore_obsolete(&st->st, old.buf);
		strbuf_release(&old);
	}
	if (!e)
		e = entry_add(st, a->entry.id);
	*e = a->entry;
	e->version = version;
	strlist_add(&st->pending_keys, aad.buf + 6);
	hashmap_put(&st->pending, st->pending_keys.items[st->pending_keys.nr - 1],
		    xstrdup(xml.buf));
	ret = 0;
out:
	node_free(root);
	wipe(xml.buf, xml.len);
	strbuf_release(&xml);
	strbuf_release(&sealed);
	strbuf_release(&rel);
	strbuf_release(&aad);
	return ret;
}

void alert_close(struct alert_store *st, struct alert_entry *e, enum alert_close type,
		 time_t at)
{
	(void)st;
	if (e->state != ALERT_OPEN && e->state != ALERT_HELD)
		return;
	e->state = ALERT_CLOSED;
	e->closed = at;
	e->close_type = type;
	if (type == ALERT_FOUND) {
		e->found_at = at;
		if (e->missing_since && at >= e->missing_since)
			e->hours_missing = (long)((at - e->missing_since) / 3600);
	}
}

void alert_destroy(struct alert_store *st, struct alert_entry *e, time_t at)
{
	struct strbuf rel = STRBUF_INIT;

	if (e->state == ALERT_DESTROYED)
		return;
	if (e->state == ALERT_OPEN || e->state == ALERT_HELD)
		alert_close(st, e, ALERT_EXPIRED, at);
	file_rel(&rel, e->id, e->version);
	sealstore_obsolete(&st->st, rel.buf);
	e->state = ALERT_DESTROYED;
	strbuf_release(&rel);
}

static void request_hash(const struct alert_store *st, const char *fpr, const char *id,
			 char *hex)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "request");
	strbuf_addch(&sb, '\0');
	strbuf_addstr(&sb, fpr);
	strbuf_addch(&sb, '\0');
	strbuf_addstr(&sb, id);
	sealidx_keyed_hex(st->st.key, &sb, hex);
	strbuf_release(&sb);
}

time_t alert_request_seen(const struct alert_store *st, const char *operator_fpr,
			  const char *request_id)
{
	char hex[65];
	size_t pos;

	request_hash(st, operator_fpr, request_id, hex);
	pos = (size_t)hashmap_get(&st->seen_map, hex);
	return pos ? st->seen[pos - 1].at : 0;
}

void alert_request_mark(struct alert_store *st, const char *operator_fpr,
			const char *request_id, time_t at)
{
	char hex[65];

	request_hash(st, operator_fpr, request_id, hex);
	seen_add(st, hex, at);
}

void alert_note(struct alert_store *st, const char *key, const char *value)
{
	sealstore_note(&st->st, key, value);
}

const char *alert_note_get(const struct alert_store *st, const char *key)
{
	return sealstore_note_get(&st->st, key);
}

struct spool_batch *alert_batch(struct alert_store *st)
{
	return &st->st.batch;
}

struct spool_batch *alert_after_commit(struct alert_store *st)
{
	return &st->st.after;
}

int alert_commit(struct alert_store *st)
{
	if (sealstore_commit(&st->st) < 0)
		return -1;
	sealidx_pending_clear(&st->pending, &st->pending_keys);
	return 0;
}
