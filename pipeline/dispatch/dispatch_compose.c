/*
 * dispatch_compose - what a request sends: its recipients, the alert or
 * notice mails from the alert view only (render.c), the leak guard over
 * them, and the reply to the operator.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "../core/audit.h"
#include "../core/cap.h"
#include "../core/leakguard.h"
#include "../core/photo.h"
#include "../lib/mail.h"
#include "../lib/seal.h"
#include "../core/view.h"
#include "../util/base64.h"
#include "../util/hashmap.h"
#include "../util/msg.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"
#include "dispatch_int.h"
#include "../lists/lists.h"

/* ---------------------------------------------------------------- */
/* Recipients and mails                                               */
/* ---------------------------------------------------------------- */

/*
 * The copies of an alert: one per (list, charset), each with its list's
 * List-Id, List-Unsubscribe and envelope sender ID+bounces@DOMAIN
 * (lists/lists.h). A recipient goes in the copy of the first list (in
 * the config's order) that gives it the alert. A recipient of an open
 * alert who is no longer an active member anywhere (a list or the config
 * changed) gets its updates in a copy without a list (l NULL), unless
 * the member store has them disabled or removed.
 *
 * When the registration's photo may be sent (consent photo="yes" and a
 * photo), the lists marked photo="yes" are taken first: an address on
 * such a list and on another gets the copy with the photo, once.
 */
struct copy {
	const struct list *l;       /* NULL: no list */
	struct strlist utf, iso;    /* recipients, by charset asked for */
};

struct copies {
	struct copy *v;
	size_t nr, alloc;
	struct strlist all;         /* every recipient, once */
};

static struct copy *copy_of(struct copies *c, const struct list *l)
{
	size_t i;

	for (i = 0; i < c->nr; i++)
		if (c->v[i].l == l)
			return &c->v[i];
	ALLOC_GROW(c->v, c->nr + 1, c->alloc);
	memset(&c->v[c->nr], 0, sizeof(c->v[0]));
	c->v[c->nr].l = l;
	return &c->v[c->nr++];
}

static void copies_release(struct copies *c)
{
	size_t i;

	for (i = 0; i < c->nr; i++) {
		strlist_clear(&c->v[i].utf);
		strlist_clear(&c->v[i].iso);
	}
	free(c->v);
	strlist_clear(&c->all);
	memset(c, 0, sizeof(*c));
}

static void lower_key(const char *a, struct strbuf *k)
{
	strbuf_reset(k);
	for (; *a; a++)
		strbuf_addch(k, tolower((unsigned char)*a));
}

/* Whether the family allowed the photo and the record has one. */
static int photo_allowed(const struct node *record)
{
	const char *yes = node_attr(node_child(record, "consent"), "photo");

	return yes && !strcmp(yes, "yes") && node_text(record, "person/photo");
}

/*
 * Group addresses into copies. With want (the recipients of an open
 * alert) only those, else every member of every list meeting the area.
 */
static void group_recipients(struct dispatch *d, struct req *r, const struct strlist *want,
			     struct copies *out, size_t *lists, const char **last)
{
	const struct config *cfg = &d->ctx->cfg;
	struct wards area;
	struct hashmap seen = HASHMAP_INIT, wanted = HASHMAP_INIT;
	struct strlist keys = STRLIST_INIT;
	struct strbuf k = STRBUF_INIT;
	struct lstore *st = NULL;
	const struct list **order;
	size_t i, j, pass, nr_order = 0;
	int photo_first = photo_allowed(r->record);

	if (lstore_open(&st, cfg, &d->ctx->spool, 0) < 0)
		st = NULL;   /* reported; the config's members still get it */
	if (want) {
		for (i = 0; i < want->nr; i++) {
			lower_key(want->items[i], &k);
			strlist_add(&keys, k.buf);
			hashmap_put(&wanted, keys.items[keys.nr - 1], want->items[i]);
		}
	} else {
		req_area(r, &area);
	}
	/* The photo lists first when the photo goes, then the others, in config order. */
	order = xcalloc(cfg->nr_lists + 1, sizeof(*order));
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < cfg->nr_lists; i++)
			if (!pass == (photo_first && cfg->lists[i].photo))
				order[nr_order++] = &cfg->lists[i];
	for (i = 0; i < nr_order; i++) {
		const struct list *l = order[i];
		struct lmembers m = { NULL, 0, 0 };
		size_t n = 0;

		if (!want && !wards_meet(&l->wards, &area))
			continue;
		if (!want && r->entry->no_broadcast && l->audience != LIST_AGENCY)
			continue;
		lists_members_of(cfg, st, l, d->today, &m);
		for (j = 0; j < m.nr; j++) {
			lower_key(m.v[j].address, &k);
			if (hashmap_get(&seen, k.buf) || (want && !hashmap_get(&wanted, k.buf)))
				continue;
			strlist_add(&keys, k.buf);
			hashmap_put(&seen, keys.items[keys.nr - 1], (void *)1);
			strlist_add(m.v[j].iso2022jp ? &copy_of(out, l)->iso : &copy_of(out, l)->utf,
				    m.v[j].address);
			strlist_add(&out->all, m.v[j].address);
			n++;
		}
		if (n) {
			(*lists)++;
			*last = l->address;
		}
		lists_members_release(&m);
	}
	for (i = 0; want && i < want->nr; i++) {
		size_t x;
		int gone = 0;

		lower_key(want->items[i], &k);
		if (hashmap_get(&seen, k.buf))
			continue;
		for (x = 0; st && x < cfg->nr_lists; x++) {
			struct lmember *lm = lstore_find(st, cfg->lists[x].id, want->items[i]);

			if (lm && lm->state != LM_MEMBER)
				gone = 1;
		}
		if (gone)
			continue;
		strlist_add(&copy_of(out, NULL)->utf, want->items[i]);
		strlist_add(&out->all, want->items[i]);
	}
	for (i = 0; i < out->nr; i++) {
		strlist_sort(&out->v[i].utf);
		strlist_sort(&out->v[i].iso);
	}
	strlist_sort(&out->all);
	if (!want)
		strlist_clear(&area.ids);
	free(order);
	hashmap_clear(&seen);
	hashmap_clear(&wanted);
	strlist_clear(&keys);
	strbuf_release(&k);
	lstore_close(st);
}

/*
 * Every member who gets the alert, in copies; in *to the To: of a copy
 * without a list (a copy on a list names the list's address).
 */
static void alert_recipients(struct dispatch *d, struct req *r, struct copies *c,
			     const char **to)
{
	size_t lists = 0;
	const char *last = NULL;

	group_recipients(d, r, NULL, c, &lists, &last);
	*to = lists == 1 && last ? last : "undisclosed-recipients:;";
}

/* One value a template may put into the text, labelled "<name>". */
static void add_source(struct leak_source **src, size_t *alloc, struct strlist *labels,
		       const char *name, const char *text)
{
	struct strbuf l = STRBUF_INIT;

	if (!text)
		return;
	strbuf_addf(&l, "<%s>", name);
	strlist_add(labels, l.buf);
	strbuf_release(&l);
	ALLOC_GROW(*src, labels->nr, *alloc);
	(*src)[labels->nr - 1].where = labels->items[labels->nr - 1];
	(*src)[labels->nr - 1].text = text;
}

/*
 * The values a template may put into the text, each with the field it
 * came from ("<notes>"), so that the leak guard can say where a hit is:
 * the request's circumstances and the alert view's fields. labels holds
 * the labels (one per source); *src (to free) points into labels, r and
 * view.
 */
static void leak_sources(const struct req *r, const struct node *view,
			 struct leak_source **src, struct strlist *labels)
{
	static const char *const circ[] = { "last-seen", "clothing", "belongings", "notes",
					    NULL };
	static const char *const seen[] = { "usual-places", "previous-residences",
					    "lost-before", NULL };
	const char *const *k;
	const struct node *f = node_child(view, "features"), *c;
	size_t alloc = 0;

	for (k = circ; *k; k++)
		add_source(src, &alloc, labels, *k, req_value(r, *k));
	for (k = seen; *k; k++)
		add_source(src, &alloc, labels, *k, node_text(view, *k));
	for (c = f ? f->child : NULL; c; c = c->next)
		add_source(src, &alloc, labels, c->name, c->text);
}

/*
 * The registration's photo for the lists allowed to see it: decoded,
 * its metadata removed (core/photo.h), into *att (data in bytes). 1 when
 * there is one to send; 0 when there is none, the family did not allow
 * it, or it cannot be made fit (warned and audited: the alert goes
 * without it, never held for it).
 */
static int alert_photo(struct req *r, struct strbuf *bytes, struct mail_attachment *att)
{
	const struct node *p = node_path(r->record, "person/photo");
	struct strbuf raw = STRBUF_INIT, why = STRBUF_INIT;
	enum photo_type t;
	int ret = 0;

	if (!photo_allowed(r->record))
		return 0;
	if (base64_decode(p->text, strlen(p->text), PHOTO_MAX_SIZE, &raw) < 0) {
		strbuf_addstr(&why, "not base64 or too large");
		goto out;
	}
	t = photo_sniff((const unsigned char *)raw.buf, raw.len);
	if (t == PHOTO_NONE) {
		strbuf_addstr(&why, "neither JPEG nor PNG");
		goto out;
	}
	if (photo_strip((const unsigned char *)raw.buf, raw.len, bytes, &why) < 0)
		goto out;
	memset(att, 0, sizeof(*att));
	att->type = t == PHOTO_JPEG ? "image/jpeg" : "image/png";
	att->filename = t == PHOTO_JPEG ? "photo.jpg" : "photo.png";
	att->data = bytes->buf;
	att->len = bytes->len;
	ret = 1;
out:
	if (!ret) {
		msg_warn("alert %s: the photo is left out: %s", r->alert.entry.id, why.buf);
		audit_add("photo-left-out", "alert=%s", r->alert.entry.id);
	}
	wipe(raw.buf, raw.len);
	strbuf_release(&raw);
	strbuf_release(&why);
	return ret;
}

/* Queue one copy: data for rcpts, on list l (NULL: none). */
static void add_copy(struct req *r, const struct list *l, const struct strbuf *data,
		     const struct strlist *rcpts)
{
	struct outmsg *o;
	size_t i;

	if (!rcpts->nr)
		return;
	o = req_out_new(r);
	strbuf_addbuf(&o->data, data);
	for (i = 0; i < rcpts->nr; i++)
		strlist_add(&o->rcpts, rcpts->items[i]);
	if (l) {
		struct strbuf sender = STRBUF_INIT;

		lists_address(l, "bounces", &sender);
		o->sender = strbuf_detach(&sender, NULL);
		o->list = l->id;
		o->verp = 1;
	}
}

/* The CAP document of this mail (core/cap.h) into r->cap_doc. */
static void make_cap(struct dispatch *d, struct req *r, const char *subject,
		     const char *body)
{
	const struct config *cfg = &d->ctx->cfg;
	struct strlist refs = STRLIST_INIT;
	struct cap_input in;
	const char *area = r->widened ? NULL : req_value(r, "area");

	strbuf_reset(&r->cap_doc);
	cap_next(&r->alert, cfg->sender_address, &r->cap_id, &refs);
	datetime_format(d->now, r->cap_sent);
	strbuf_reset(&r->cap_headline);
	strbuf_addstr(&r->cap_headline, subject);
	memset(&in, 0, sizeof(in));
	in.sender = cfg->sender_address;
	in.sender_name = cfg->sender_name;
	in.identifier = r->cap_id.buf;
	in.sent = r->cap_sent;
	in.exercise = r->exercise;
	in.msg_type = r->cap_type;
	in.response_type = r->cap_response;
	in.references = &refs;
	in.lang = d->lang;
	in.headline = subject;
	in.description = body;
	in.police_name = r->police ? r->police->name : NULL;
	in.police_phone = r->police ? r->police->phone : NULL;
	in.area = area && strcmp(area, "*") ? area : NULL;
	cap_document(&in, &r->cap_doc);
	strlist_clear(&refs);
}

/*
 * Compose the alert (or notice) for the copies c, one per (list,
 * charset), leak guard first. 0, or -1 with a reason.
 */
static int compose_alert(struct dispatch *d, struct req *r, const char *tpl,
			 struct copies *c, const char *to, const char *refs)
{
	const struct config *cfg = &d->ctx->cfg;
	struct render_input in;
	struct strbuf subject = STRBUF_INIT, body = STRBUF_INIT, why = STRBUF_INIT,
		      msgid = STRBUF_INIT, data = STRBUF_INIT, list_id = STRBUF_INIT,
		      unsub = STRBUF_INIT;
	struct leakguard lg = LEAKGUARD_INIT;
	struct leak_source *src = NULL;
	struct strlist labels = STRLIST_INIT;
	struct node *view = view_make(r->record, AUDIENCE_ALERT, d->today);
	struct mail_out h;
	struct mail_attachment att;
	struct strbuf photo = STRBUF_INIT;
	size_t i, j, first_out = r->nr_out;
	int ret = -1, iso_ok = 1, with_photo = 0;

	memset(&in, 0, sizeof(in));
	in.view = view;
	in.request = r->request;
	in.police = r->police;
	in.alert_id = r->alert.entry.id;
	in.exercise = r->exercise;
	in.widened = r->widened;
	if (render_mail(d->ctx->home, tpl, d->lang, &in, &subject, &body, &why) < 0) {
		/* The templates are the installation's, not the request's. */
		error("%s", why.buf);
		d->node_error = EX_CONFIG;
		goto out;
	}
	leakguard_add_record(&lg, r->record);
	/* Whoever asked, listed in the record or not. */
	leakguard_add_text(&lg, "the requester's name", req_value(r, "requester-name"));
	leakguard_add_phone(&lg, "the requester's phone", req_value(r, "requester-phone"));
	leak_sources(r, view, &src, &labels);
	strbuf_reset(&why);
	if (leakguard_check_mail(&lg, subject.buf, body.buf, src, labels.nr, &why)) {
		req_reason(r, "leak guard: the %s text contains %s", tpl, why.buf);
		goto out;
	}
	memset(&h, 0, sizeof(h));
	h.from_address = cfg->sender_address;
	h.from_name = cfg->sender_name;
	h.to = to;
	h.subject = subject.buf;
	h.references = refs;
	h.in_reply_to = refs;
	h.auto_submitted = 1;
	/*
	 * One Message-ID for every copy: they are one message in several
	 * charsets and lists. ISO-2022-JP that cannot carry the text: UTF-8
	 * for its askers too.
	 */
	for (i = 0; i < c->nr; i++)
		if (c->v[i].iso.nr) {
			h.iso2022jp = 1;
			strbuf_reset(&why);
			if (mail_compose_text(&h, body.buf, &data, &msgid, &why) < 0)
				iso_ok = 0;
			strbuf_reset(&data);
			break;
		}
	if (!iso_ok) {
		strbuf_reset(&msgid);
		for (i = 0; i < c->nr; i++) {
			for (j = 0; j < c->v[i].iso.nr; j++)
				strlist_add(&c->v[i].utf, c->v[i].iso.items[j]);
			strlist_clear(&c->v[i].iso);
			strlist_sort(&c->v[i].utf);
		}
	}
	/* Alerts and updates only: found and withdraw carry no photo, nor does the feed. */
	for (i = 0; i < c->nr && !with_photo; i++)
		if (c->v[i].l && c->v[i].l->photo &&
		    (!strcmp(tpl, "alert") || !strcmp(tpl, "update")))
			with_photo = alert_photo(r, &photo, &att);
	for (i = 0; i < c->nr; i++) {
		const struct list *l = c->v[i].l;
		int cs;

		strbuf_reset(&list_id);
		strbuf_reset(&unsub);
		h.list_id = h.list_unsubscribe = NULL;
		/* Each copy names its own list (mimamori-dispatch(1), ALERT MAIL). */
		h.to = l ? l->address : to;
		if (l) {
			lists_list_id(l, &list_id);
			lists_address(l, "unsubscribe", &unsub);
			h.list_id = list_id.buf;
			h.list_unsubscribe = unsub.buf;
		}
		for (cs = 0; cs < 2; cs++) {
			const struct strlist *rc = cs ? &c->v[i].iso : &c->v[i].utf;

			if (!rc->nr)
				continue;
			h.iso2022jp = cs;
			h.message_id = msgid.len ? msgid.buf : NULL;
			strbuf_reset(&why);
			strbuf_reset(&data);
			if ((with_photo && l && l->photo
			     ? mail_compose_mixed(&h, body.buf, &att, &data,
						  msgid.len ? NULL : &msgid, &why)
			     : mail_compose_text(&h, body.buf, &data, msgid.len ? NULL : &msgid,
						 &why)) < 0) {
				req_reason(r, "cannot compose the %s mail: %s", tpl, why.buf);
				goto out;
			}
			add_copy(r, l, &data, rc);
		}
	}
	for (i = first_out; i < r->nr_out; i++) {
		r->out[i].alert_id = r->alert.entry.id;
		r->out[i].report = r->op->key;
	}
	if (msgid.len)
		strlist_add(&r->alert.message_ids, msgid.buf);
	r->nr_rcpts = c->all.nr;
	if (r->cap_type) {
		/* The feed's document: the same text, passed by the same guard. */
		make_cap(d, r, subject.buf, body.buf);
		strbuf_reset(&why);
		if (leakguard_check_mail(&lg, "", r->cap_doc.buf, src, labels.nr, &why)) {
			req_reason(r, "leak guard: the feed document contains %s", why.buf);
			goto out;
		}
	}
	ret = 0;
out:
	node_free(view);
	wipe(photo.buf, photo.len);
	strbuf_release(&photo);
	leakguard_release(&lg);
	free(src);
	strlist_clear(&labels);
	strbuf_release(&subject);
	strbuf_release(&body);
	strbuf_release(&why);
	strbuf_release(&msgid);
	strbuf_release(&data);
	strbuf_release(&list_id);
	strbuf_release(&unsub);
	return ret;
}

static void copy_recipients(struct alert *a, const struct strlist *rcpts)
{
	size_t i;

	strlist_clear(&a->recipients);
	for (i = 0; i < rcpts->nr; i++)
		strlist_add(&a->recipients, rcpts->items[i]);
	strlist_sort(&a->recipients);
}

/* A new alert: sent, or held for a second operator. */
static int new_alert(struct dispatch *d, struct req *r)
{
	struct copies c = { NULL, 0, 0, STRLIST_INIT };
	const char *to = "undisclosed-recipients:;";
	time_t ms = 0;
	int ret = -1;

	alert_new(d->st, d->now, &r->alert);
	snprintf(r->alert.entry.registration, sizeof(r->alert.entry.registration), "%s",
		 r->entry->id);
	snprintf(r->alert.entry.ward, sizeof(r->alert.entry.ward), "%s", r->entry->ward);
	r->alert.entry.exercise = r->exercise;
	datetime_parse(req_value(r, "missing-since"), &ms);
	r->alert.entry.missing_since = ms;
	r->alert.request = node_copy(r->request);
	r->alert.request_id = xstrdup(req_value(r, "request-id"));
	r->alert.operator_fpr = xstrdup(r->op->key);
	r->alert.police = xstrdup(r->police->id);
	/* Four eyes: an actual alert waits for another operator; a drill does not. */
	r->held = d->ctx->cfg.approval && !r->exercise;
	alert_recipients(d, r, &c, &to);
	if (!c.all.nr) {
		req_reason(r, "no list member may receive this alert");
		goto out;
	}
	if (!r->held) {
		r->cap_type = "Alert";
		r->cap_response = "Monitor";
	}
	/* Held or not, the leak guard runs now: a held alert is one that can be sent. */
	if (compose_alert(d, r, "alert", &c, to, NULL) < 0)
		goto out;
	if (r->held) {
		size_t i;

		for (i = 0; i < r->nr_out; i++) {
			wipe(r->out[i].data.buf, r->out[i].data.len);
			strbuf_release(&r->out[i].data);
			strlist_clear(&r->out[i].rcpts);
			free(r->out[i].sender);
		}
		r->nr_out = 0;
		r->nr_rcpts = 0;
		strlist_clear(&r->alert.message_ids);
		r->alert.entry.state = ALERT_HELD;
	} else {
		r->alert.sent_at = d->now;
		copy_recipients(&r->alert, &c.all);
	}
	ret = 0;
out:
	copies_release(&c);
	return ret;
}

/*
 * approve: the held alert (loaded by the checks into r->alert) is sent
 * as it was asked for, from its own request, to the lists as they are
 * now; the approving request is kept aside for the reply.
 */
static int approve_alert(struct dispatch *d, struct req *r)
{
	struct copies c = { NULL, 0, 0, STRLIST_INIT };
	const char *to = "undisclosed-recipients:;";
	struct node *approval = r->request;
	int ret = -1;

	r->request = r->alert.request;
	r->exercise = 0;
	r->cap_type = "Alert";
	r->cap_response = "Monitor";
	alert_recipients(d, r, &c, &to);
	if (!c.all.nr)
		req_reason(r, "no list member may receive this alert");
	else if (compose_alert(d, r, "alert", &c, to, NULL) == 0)
		ret = 0;
	r->request = approval;
	if (ret < 0)
		goto out;
	copy_recipients(&r->alert, &c.all);
	r->alert.entry.state = ALERT_OPEN;
	r->alert.sent_at = d->now;
	r->alert.approved_at = d->now;
	free(r->alert.approved_by);
	r->alert.approved_by = xstrdup(r->op->key);
out:
	copies_release(&c);
	return ret;
}

/* A notice to rcpts (everyone reached, or the widening's new ones), by list. */
static int notice(struct dispatch *d, struct req *r, const char *tpl,
		  const struct strlist *rcpts)
{
	struct copies c = { NULL, 0, 0, STRLIST_INIT };
	const char *to = "undisclosed-recipients:;";
	char *first = r->alert.message_ids.nr ? xstrdup(r->alert.message_ids.items[0]) : NULL;
	size_t lists = 0;
	const char *last = NULL;
	int ret;

	group_recipients(d, r, rcpts, &c, &lists, &last);
	ret = compose_alert(d, r, tpl, &c, to, first);
	free(first);
	copies_release(&c);
	return ret;
}

/* Build the alert (type alert) or the notice and the alert's new state. */
int dispatch_mails(struct dispatch *d, struct req *r)
{
	int closes = !strcmp(r->type, "found") || !strcmp(r->type, "withdraw");

	if (!strcmp(r->type, "alert"))
		return new_alert(d, r);
	if (!strcmp(r->type, "approve"))
		return approve_alert(d, r);
	if (alert_load(d->st, r->open, &r->alert) < 0) {
		/* Its own record, not the node: this request only. */
		req_reason(r, "alert %s cannot be read", r->open->id);
		return -1;
	}
	r->exercise = r->alert.entry.exercise;
	if (!r->police)
		r->police = config_agency(&d->ctx->cfg, r->alert.police ? r->alert.police : "");
	if (r->alert.entry.state == ALERT_HELD) {
		if (!closes) {
			req_reason(r, "alert %s is held until a second operator approves it",
				   r->alert.entry.id);
			return -1;
		}
		/* Nobody was told of it: dropped, and nobody is told now. */
		r->dropped = 1;
		r->nr_rcpts = 0;
	} else {
		if (!strcmp(r->type, "update")) {
			r->cap_type = "Update";
			r->cap_response = "Monitor";
		} else if (!strcmp(r->type, "found")) {
			r->cap_type = "Update";
			r->cap_response = "AllClear";
		} else {
			r->cap_type = "Cancel";
		}
		/* Everyone reached, the widening's recipients too. */
		if (notice(d, r, r->type, &r->alert.recipients) < 0)
			return -1;
	}
	if (closes) {
		time_t at = d->now;

		if (req_value(r, "found-at"))
			datetime_parse(req_value(r, "found-at"), &at);
		alert_close(d->st, &r->alert.entry,
			    !strcmp(r->type, "found") ? ALERT_FOUND : ALERT_WITHDRAWN, at);
	}
	return 0;
}

int dispatch_widen_mails(struct dispatch *d, struct req *r, const struct strlist *rcpts)
{
	r->cap_type = "Update";
	r->cap_response = "Monitor";
	return notice(d, r, "alert", rcpts);
}

/* Every member the alert of r would reach with its area every ward. */
void dispatch_all_recipients(struct dispatch *d, struct req *r, struct strlist *rcpts)
{
	struct copies c = { NULL, 0, 0, STRLIST_INIT };
	const char *to;
	size_t i;

	alert_recipients(d, r, &c, &to);
	for (i = 0; i < c.all.nr; i++)
		strlist_add(rcpts, c.all.items[i]);
	copies_release(&c);
}
