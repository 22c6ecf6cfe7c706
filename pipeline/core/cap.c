/*
 * cap - the alert feed: CAP 1.2 documents and the Atom index in
 * spool/feed/ (cap.h).
 *
 * Reads the alert store's entries and files; writes spool/feed/ through
 * the store's batches (the documents before its index, removals after).
 *
 * SECURITY: the feed leaves the node for machine consumers. A document
 * is made of the alert mail's subject and body (the alert view, leak
 * guarded by dispatch before this runs), the police station from the
 * config and ward ids; values are XML-escaped by the node writer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cap.h"
#include "spool.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/node.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"

#define INDEX_REL SPOOL_FEED "/index.atom"

static void add(struct node *n, const char *name, const char *text)
{
	if (text && *text)
		node_add(n, name, text);
}

void cap_document(const struct cap_input *in, struct strbuf *out)
{
	struct node *root = node_new("alert"), *info, *area;
	struct strbuf refs = STRBUF_INIT, sb = STRBUF_INIT;
	int en = in->lang && !strcmp(in->lang, "en");
	size_t i;

	add(root, "identifier", in->identifier);
	add(root, "sender", in->sender);
	add(root, "sent", in->sent);
	add(root, "status", in->exercise ? "Exercise" : "Actual");
	add(root, "msgType", in->msg_type);
	add(root, "scope", "Restricted");
	add(root, "restriction", en ? "For the pledged helpers of the watching-over network only"
				    : "見守りネットワークの協力者に限る");
	if (in->exercise)
		add(root, "note", en ? "EXERCISE: nobody is missing" : "訓練: 実際の行方不明ではありません");
	for (i = 0; in->references && i < in->references->nr; i++) {
		if (refs.len)
			strbuf_addch(&refs, ' ');
		strbuf_addstr(&refs, in->references->items[i]);
	}
	add(root, "references", refs.buf);
	info = node_add(root, "info", NULL);
	add(info, "language", en ? "en-US" : "ja-JP");
	add(info, "category", "Rescue");
	add(info, "event", en ? "Missing elderly person" : "行方不明高齢者の捜索");
	add(info, "responseType", in->response_type);
	if (!strcmp(in->msg_type, "Cancel") ||
	    (in->response_type && !strcmp(in->response_type, "AllClear"))) {
		add(info, "urgency", "Past");
		add(info, "severity", "Minor");
	} else {
		add(info, "urgency", "Immediate");
		add(info, "severity", "Moderate");
	}
	add(info, "certainty", "Observed");
	add(info, "senderName", in->sender_name);
	add(info, "headline", in->headline);
	add(info, "description", in->description);
	if (in->police_name) {
		strbuf_addf(&sb, en ? "If you see this person, call %s%s%s." :
				      "見かけたら %s%s%s へご連絡ください。",
			    in->police_name, in->police_phone ? (en ? ", phone " : " 電話 ") : "",
			    in->police_phone ? in->police_phone : "");
		add(info, "instruction", sb.buf);
		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s%s%s", in->police_name, in->police_phone ? " " : "",
			    in->police_phone ? in->police_phone : "");
		add(info, "contact", sb.buf);
	}
	area = node_add(info, "area", NULL);
	strbuf_reset(&sb);
	if (in->area)
		strbuf_addf(&sb, en ? "wards: %s" : "区: %s", in->area);
	else
		strbuf_addstr(&sb, en ? "every ward" : "全域");
	add(area, "areaDesc", sb.buf);
	node_write_ns(root, CAP_NS, out);
	node_free(root);
	strbuf_release(&refs);
	strbuf_release(&sb);
}

/* Field k (0..3) of a "ID\tSENT\tTYPE\tHEADLINE" line, into out. */
static void cap_field(const char *line, int k, struct strbuf *out)
{
	const char *p = line, *e;

	strbuf_reset(out);
	while (k-- > 0 && p)
		p = (p = strchr(p, '\t')) ? p + 1 : NULL;
	if (!p)
		return;
	e = strchr(p, '\t');
	strbuf_add(out, p, e ? (size_t)(e - p) : strlen(p));
}

void cap_next(const struct alert *a, const char *sender, struct strbuf *id,
	      struct strlist *refs)
{
	struct strbuf f = STRBUF_INIT, ref = STRBUF_INIT;
	size_t i;

	strbuf_reset(id);
	strbuf_addf(id, "%s.%zu", a->entry.id, a->caps.nr + 1);
	for (i = 0; i < a->caps.nr; i++) {
		strbuf_reset(&ref);
		strbuf_addf(&ref, "%s,", sender);
		cap_field(a->caps.items[i], 0, &f);
		strbuf_addbuf(&ref, &f);
		strbuf_addch(&ref, ',');
		cap_field(a->caps.items[i], 1, &f);
		strbuf_addbuf(&ref, &f);
		strlist_add(refs, ref.buf);
	}
	strbuf_release(&f);
	strbuf_release(&ref);
}

static int feed_dir(const struct spool *sp)
{
	char *dir = spool_path(sp, SPOOL_FEED);
	int ret = mkdir_p(dir, 0700);

	if (ret < 0)
		error_errno("cannot create '%s'", dir);
	free(dir);
	return ret;
}

int feed_put(struct alert_store *st, const struct spool *sp, struct alert *a,
	     const char *id, const char *sent, const char *msg_type, const char *headline,
	     const struct strbuf *doc)
{
	struct strbuf rel = STRBUF_INIT, line = STRBUF_INIT;
	const char *p;
	int ret;

	if (feed_dir(sp) < 0)
		return -1;
	strbuf_addf(&rel, SPOOL_FEED "/%s.xml", id);
	ret = spool_batch_write(alert_batch(st), rel.buf, doc->buf, doc->len);
	strbuf_addf(&line, "%s\t%s\t%s\t", id, sent, msg_type);
	/* The headline is one line of the index: no tab, no newline. */
	for (p = headline; *p; p++)
		strbuf_addch(&line, (*p == '\t' || *p == '\n' || *p == '\r') ? ' ' : *p);
	if (!ret)
		strlist_add(&a->caps, line.buf);
	strbuf_release(&rel);
	strbuf_release(&line);
	return ret;
}

int feed_index(struct alert_store *st, const struct config *cfg, const struct spool *sp,
	       time_t now)
{
	struct node *root = node_new("feed"), *e, *n;
	struct strbuf out = STRBUF_INIT, f = STRBUF_INIT, sb = STRBUF_INIT;
	char when[32];
	size_t i, count = alert_count(st);
	int ret = -1;

	if (feed_dir(sp) < 0)
		goto out;
	strbuf_addf(&sb, "urn:mimamori:feed:%s", cfg->sender_address);
	add(root, "id", sb.buf);
	add(root, "title", cfg->sender_name ? cfg->sender_name : cfg->sender_address);
	datetime_format(now, when);
	add(root, "updated", when);
	n = node_add(root, "author", NULL);
	add(n, "name", cfg->sender_name ? cfg->sender_name : cfg->sender_address);
	for (i = 0; i < count; i++) {
		struct alert_entry *ent = alert_entry(st, i);
		struct alert a;
		const char *last;

		if (ent->state != ALERT_OPEN)
			continue;
		if (alert_load(st, ent, &a) < 0)
			goto out;
		if (!a.caps.nr) {
			alert_release(&a);
			continue;
		}
		last = a.caps.items[a.caps.nr - 1];
		e = node_add(root, "entry", NULL);
		cap_field(last, 0, &f);
		strbuf_reset(&sb);
		strbuf_addf(&sb, "urn:mimamori:cap:%s:%s", cfg->sender_address, f.buf);
		add(e, "id", sb.buf);
		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s.xml", f.buf);
		cap_field(last, 3, &f);
		add(e, "title", f.buf);
		cap_field(last, 1, &f);
		add(e, "updated", f.buf);
		n = node_add(e, "link", NULL);
		node_set_attr(n, "rel", "alternate");
		node_set_attr(n, "type", "application/cap+xml");
		node_set_attr(n, "href", sb.buf);
		cap_field(last, 2, &f);
		strbuf_reset(&sb);
		strbuf_addf(&sb, "CAP 1.2 %s %s", f.buf, ent->exercise ? "Exercise" : "Actual");
		add(e, "summary", sb.buf);
		alert_release(&a);
	}
	node_write_ns(root, ATOM_NS, &out);
	ret = spool_batch_write(alert_batch(st), INDEX_REL, out.buf, out.len);
out:
	node_free(root);
	strbuf_release(&out);
	strbuf_release(&f);
	strbuf_release(&sb);
	return ret;
}

size_t feed_forget(struct alert_store *st, const struct spool *sp)
{
	struct strlist names = STRLIST_INIT;
	char *dir = spool_path(sp, SPOOL_FEED);
	size_t i, n = 0;

	dir_list(dir, &names, 0);
	for (i = 0; i < names.nr; i++) {
		const char *name = names.items[i], *dot = strchr(name, '.');
		struct strbuf id = STRBUF_INIT, rel = STRBUF_INIT;
		const struct alert_entry *e;

		if (!dot || !strcmp(name, "index.atom"))
			continue;
		strbuf_add(&id, name, (size_t)(dot - name));
		e = alert_find(st, id.buf);
		if (!e || e->state == ALERT_DESTROYED) {
			strbuf_addf(&rel, SPOOL_FEED "/%s", name);
			spool_batch_unlink(alert_after_commit(st), rel.buf);
			n++;
		}
		strbuf_release(&id);
		strbuf_release(&rel);
	}
	strlist_clear(&names);
	free(dir);
	return n;
}
