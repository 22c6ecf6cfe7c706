/*
 * dispatch - operator requests in inbox/new, alerts and replies queued.
 *
 * For each message in inbox/new: claim it (rename to work/dispatch/
 * TOKEN-NAME), authenticate it (PGP/MIME, exactly one good signature by a
 * configured operator, checked by lib/gpg.c on the exact signed bytes),
 * read the form (or the XML attachment) into <request> (schemas/
 * request.xsd), run every check (mimamori-dispatch(1)) collecting all
 * failures, render the mails from the alert view only (render.c), run the
 * leak guard, and queue the alert copies (one per charset) and the reply
 * to the operator.
 *
 * No wedge. A request that cannot be finished for a reason of its own
 * (its operator's key expired or revoked, a reply that cannot be
 * encrypted, an alert it names that cannot be read) is rejected, or
 * finished without the reply, with that reason; the run goes on. Only a
 * failure of the node (disk 74, gpg-agent 69, templates 78) stops it, and
 * leaves the input claimed for the next run. Every request an operator
 * signed is remembered, accepted or rejected, so that a replay of it is
 * rejected.
 *
 * Crash safety. One commit per request, with the alert store's index as
 * the commit point: the alert file and the queued messages (queue/msg/)
 * are made durable first, then the index with the note "dispatch:TOKEN ->
 * accepted|rejected …" (holding the queue envelopes), then the envelopes
 * (queue/env/, the queue's own commit point) and the removal of the
 * claimed input (or its move to rejected/). A run that finds a claimed
 * input looks its token up in the notes of the last commit: a noted one
 * is finished (missing envelopes written from the note), any other is
 * processed again from the start; nothing was queued for it, since a
 * message without its envelope is never sent. So after kill -9 at any
 * instant each request ends accepted once or rejected once.
 *
 * Reads inbox/new, the registry (read only), the alert store; writes the
 * alert store, queue/, rejected/, audit/.
 *
 * SECURITY: parses mail from anyone (lib/mail.c takes it apart, after
 * capping its header sections; this file decides; a mail over 1 MiB is
 * refused from fstat, unread). Nothing from a request reaches a header: subjects come
 * from templates with the alert id only; values in bodies lose their
 * control characters. Replies go to the operator's configured address
 * and key, never to the From: of the request. Reasons name fields, never
 * a person's data.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "dispatch.h"
#include "../commands.h"
#include "../core/alert.h"
#include "../core/audit.h"
#include "../util/clock.h"
#include "../core/datakey.h"
#include "../core/supervise.h"
#include "../lib/gpg.h"
#include "../core/leakguard.h"
#include "../lib/mail.h"
#include "../core/queue.h"
#include "../core/registry.h"
#include "../lib/seal.h"
#include "../lib/text.h"
#include "../core/view.h"
#include "../lib/xml.h"
#include "../util/base64.h"
#include "../util/fileio.h"
#include "../util/hashmap.h"
#include "../util/msg.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"

#define WORK_DIR    SPOOL_WORK "/dispatch"
#define INBOX_NEW   SPOOL_INBOX "/new"
#define MAX_AGE     (24 * 3600)
#define MAX_SKEW    300        /* seconds a clock may be ahead */
#define NOTE_PREFIX "dispatch:"
/* The worker's limits (core/supervise.h). */
#define DISPATCH_MEM_MIB 256
#define INPUT_SECONDS    60

struct dispatch {
	struct context *ctx;
	struct registry *reg;
	struct alert_store *st;
	const char *lang;
	long today;
	time_t now;
	size_t accepted, rejected;
	/*
	 * A failure of the node itself: the run stops and leaves the input
	 * where it was. io_error: the disk (74); node_error: any other exit
	 * code (69 gpg-agent down, 78 the installation). Nothing a request
	 * holds ever sets them: a request is rejected or finished instead.
	 */
	int io_error, node_error;
};

/* One message to queue. */
struct outmsg {
	struct strbuf data;
	struct strlist rcpts;
	const char *alert_id;
	const char *report;
};

/* One claimed request. */
struct req {
	char token[SPOOL_TOKEN_LEN + 1];
	char *name;               /* as it was in inbox/new */
	char *rel;                /* work/dispatch/TOKEN-NAME */
	struct strbuf reasons;    /* "; "-separated */
	const struct operator *op;        /* the verified signer */
	const struct operator *reply_to;  /* who is told, or NULL */
	char *rid;                /* the id the signer's request is remembered by */
	char *msgid;              /* the request's Message-ID, when well-formed */
	time_t signed_at;         /* the signature's creation time */
	size_t ignored;           /* greeting and signature lines left out */
	int replay;               /* rid was seen before */
	struct node *request;
	struct node *record;
	struct reg_entry *entry;
	struct alert_entry *open;         /* the open alert (update/found/withdraw) */
	const struct agency *police;
	const char *type;
	int exercise;
	struct alert alert;       /* the alert made or changed */
	size_t nr_rcpts;
	struct outmsg *out;
	size_t nr_out, alloc_out;
};

static void reason(struct req *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void reason(struct req *r, const char *fmt, ...)
{
	va_list ap;

	if (r->reasons.len)
		strbuf_addstr(&r->reasons, "; ");
	va_start(ap, fmt);
	strbuf_vaddf(&r->reasons, fmt, ap);
	va_end(ap);
}

static struct outmsg *out_new(struct req *r)
{
	struct outmsg *o;

	ALLOC_GROW(r->out, r->nr_out + 1, r->alloc_out);
	o = &r->out[r->nr_out++];
	memset(o, 0, sizeof(*o));
	strbuf_init(&o->data, 0);
	return o;
}

static void req_release(struct req *r)
{
	size_t i;

	free(r->name);
	free(r->rel);
	free(r->rid);
	free(r->msgid);
	strbuf_release(&r->reasons);
	node_free(r->request);
	node_free(r->record);
	alert_release(&r->alert);
	for (i = 0; i < r->nr_out; i++) {
		if (r->out[i].data.len)
			wipe(r->out[i].data.buf, r->out[i].data.len);
		strbuf_release(&r->out[i].data);
		strlist_clear(&r->out[i].rcpts);
	}
	free(r->out);
	memset(r, 0, sizeof(*r));
}

/* ---------------------------------------------------------------- */
/* Authentication                                                     */
/* ---------------------------------------------------------------- */

static const struct operator *operator_by_address(const struct config *cfg, const char *addr)
{
	size_t i;

	if (!addr)
		return NULL;
	for (i = 0; i < cfg->nr_operators; i++)
		if (cfg->operators[i].address && !strcasecmp(cfg->operators[i].address, addr))
			return &cfg->operators[i];
	return NULL;
}

/*
 * The operator whose fingerprint ends with keyid (a bad signature names
 * only the key id): for the wording of the reason, never for trust.
 */
static const struct operator *operator_by_keyid(const struct config *cfg, const char *keyid)
{
	size_t i, n = strlen(keyid);

	if (n < 16)
		return NULL;
	for (i = 0; i < cfg->nr_operators; i++) {
		size_t k = strlen(cfg->operators[i].key);

		if (k >= n && !strcasecmp(cfg->operators[i].key + k - n, keyid))
			return &cfg->operators[i];
	}
	return NULL;
}

/*
 * A Message-ID a reply may name in In-Reply-To and References: "<a@b>"
 * of at most 250 bytes, printable ASCII without white space or specials
 * that could end the header value.
 */
static int msgid_ok(const char *id)
{
	const char *at = id ? strchr(id, '@') : NULL, *p;

	if (!at || at == id || !at[1] || strlen(id) + 2 > 250)
		return 0;
	for (p = id; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    strchr("<>\"(),;\\[]", *p))
			return 0;
	return 1;
}

/* Judge the signatures found; sets r->op when they are right. */
static void judge_sigs(struct dispatch *d, struct req *r, const struct gpg_sigs *sigs)
{
	const struct gpg_sig *s;
	const struct operator *op;

	if (sigs->nr == 0) {
		reason(r, "not signed");
		return;
	}
	if (sigs->nr > 1) {
		reason(r, "%zu signatures (exactly one is required)", sigs->nr);
		return;
	}
	s = &sigs->sig[0];
	op = config_operator(&d->ctx->cfg, s->primary_fpr[0] ? s->primary_fpr : s->fpr);
	if (!op && !s->valid)
		op = operator_by_keyid(&d->ctx->cfg, s->fpr);
	if (!op) {
		/* An unknown key cannot be checked: it is no operator's either. */
		reason(r, "signed by key %s, which is not a configured operator's",
		       s->primary_fpr[0] ? s->primary_fpr : s->fpr);
		return;
	}
	if (!s->valid) {
		reason(r, "bad signature (%s)", s->status[0] ? s->status : "not valid");
		return;
	}
	r->op = op;
	r->signed_at = s->created;
}

/*
 * Authenticate raw and put the signed entity (a MIME entity: headers and
 * body) in entity. 0 when an operator signed it, -1 with reasons.
 */
static int authenticate(struct dispatch *d, struct req *r, const struct strbuf *raw,
			struct strbuf *entity)
{
	struct mail_in m, inner;
	struct gpg_sigs sigs = { NULL, 0, 0, 0 };
	struct strbuf why = STRBUF_INIT, plain = STRBUF_INIT;
	int encrypted = 0;

	mail_in_init(&m);
	mail_in_init(&inner);
	if (mail_parse(raw->buf, raw->len, &m, &why) < 0) {
		reason(r, "not a readable mail: %s", why.buf);
		goto out;
	}
	r->reply_to = operator_by_address(&d->ctx->cfg, m.from);
	if (msgid_ok(m.message_id))
		r->msgid = xstrdup(m.message_id);
	if (m.kind == MAIL_ENCRYPTED) {
		encrypted = 1;
		if (gpg_decrypt(m.encrypted.buf, m.encrypted.len, &plain, &sigs, &why) < 0) {
			if (gpg_agent_down(d->ctx->cfg.self->key)) {
				/* The node's failure: left for the next run. */
				error("gpg-agent cannot be reached or started for '%s': "
				      "cannot decrypt inbox/new/%s", d->ctx->cfg.gnupg_home,
				      r->name);
				d->node_error = EX_UNAVAILABLE;
				goto out;
			}
			reason(r, "cannot decrypt: %s", why.buf);
			goto out;
		}
		if (sigs.nr) {
			/* Signed and encrypted in one (RFC 3156 §6.2). */
			judge_sigs(d, r, &sigs);
			if (r->op)
				strbuf_addbuf(entity, &plain);
		} else {
			strbuf_reset(&why);
			if (mail_parse(plain.buf, plain.len, &inner, &why) < 0 ||
			    inner.kind != MAIL_SIGNED) {
				if (inner.inline_pgp)
					reason(r, "inline PGP is not accepted: send the form as "
					       "PGP/MIME (RFC 3156)");
				else
					reason(r, "not signed (encrypted only)");
				goto out;
			}
			if (gpg_verify_detached(inner.signed_part.buf, inner.signed_part.len,
						inner.signature.buf, inner.signature.len, &sigs,
						&why) < 0) {
				reason(r, "cannot check the signature: %s", why.buf);
				goto out;
			}
			judge_sigs(d, r, &sigs);
			if (r->op)
				strbuf_addbuf(entity, &inner.signed_part);
		}
	} else if (m.kind == MAIL_SIGNED) {
		if (gpg_verify_detached(m.signed_part.buf, m.signed_part.len, m.signature.buf,
					m.signature.len, &sigs, &why) < 0) {
			reason(r, "cannot check the signature: %s", why.buf);
			goto out;
		}
		judge_sigs(d, r, &sigs);
		if (r->op)
			strbuf_addbuf(entity, &m.signed_part);
	} else if (m.inline_pgp) {
		reason(r, "inline PGP is not accepted: send the form as PGP/MIME (RFC 3156)");
	} else {
		reason(r, "not signed");
	}
	if (r->op) {
		r->reply_to = r->op;
		if (d->ctx->cfg.require_encrypted && !encrypted)
			reason(r, "not encrypted (this node requires encrypted requests)");
	}
out:
	if (plain.len)
		wipe(plain.buf, plain.len);
	strbuf_release(&plain);
	strbuf_release(&why);
	gpg_sigs_release(&sigs);
	mail_in_release(&m);
	mail_in_release(&inner);
	return r->op && !r->reasons.len ? 0 : -1;
}

/*
 * What the form may leave out (or leave empty): request-id (the first 32
 * hex digits of the SHA-256 of the signed entity) and sent (the
 * signature's creation time, but never later than now).
 */
static void fill_defaults(struct dispatch *d, struct req *r, struct node *req,
			  const struct strbuf *entity)
{
	static const char *const optional[] = { "request-id", "sent", NULL };
	const char *const *k;

	/* "request-id:" left empty in a copied form is left out. */
	for (k = optional; *k; k++) {
		struct node *n = node_child(req, *k);

		if (n && (!n->text || !n->text[0]))
			node_remove(n);
	}
	if (!node_child(req, "request-id")) {
		struct strbuf hex = STRBUF_INIT;

		sha256_hex(entity->buf, entity->len, &hex);
		strbuf_setlen(&hex, 32);
		node_add(req, "request-id", hex.buf);
		strbuf_release(&hex);
	}
	if (!node_child(req, "sent") && r->signed_at) {
		char when[32];

		datetime_format(r->signed_at > d->now ? d->now : r->signed_at, when);
		node_add(req, "sent", when);
	}
}

/*
 * The schema names only its first failure: each field is validated on
 * its own too (with a valid type and status beside it, the fields the
 * schema requires), so that every field that fails is listed. first is
 * the whole request's failure, listed when no single field explains it.
 */
static void schema_reasons(struct req *r, const struct node *req, const char *first)
{
	static const char *const required[][2] = { { "type", "alert" }, { "status", "actual" } };
	const struct node *c;
	struct strbuf why = STRBUF_INIT;
	int listed = 0;
	size_t k;

	for (c = req->child; c; c = c->next) {
		struct node *one = node_new("request");

		node_append(one, node_copy(c));
		for (k = 0; k < sizeof(required) / sizeof(required[0]); k++)
			if (strcmp(c->name, required[k][0]))
				node_add(one, required[k][0], required[k][1]);
		strbuf_reset(&why);
		if (xml_validate(one, XML_SCHEMA_REQUEST, &why) < 0) {
			reason(r, "%s", why.buf);
			listed = 1;
		}
		node_free(one);
	}
	if (!listed)
		reason(r, "%s", first);
	strbuf_release(&why);
}

/*
 * The signed entity's form or XML attachment -> r->request, validated.
 * A request whose fields fail the schema is left in r->request all the
 * same (-1), so that the other checks still run and every failure is
 * listed.
 */
static int read_request(struct dispatch *d, struct req *r, const struct strbuf *entity)
{
	struct mail_content c;
	struct strbuf why = STRBUF_INIT;
	struct node *req = NULL;
	int ret = -1;

	mail_content_init(&c);
	if (mail_entity_content(entity->buf, entity->len, &c, &why) < 0) {
		reason(r, "cannot read the signed part: %s", why.buf);
		goto out;
	}
	if (c.xml.len) {
		if (xml_parse(c.xml.buf, c.xml.len, MAIL_MAX_SIZE, XML_SCHEMA_REQUEST, &req,
			      &why) < 0) {
			reason(r, "request attachment: %s", why.buf);
			goto out;
		}
		if (strcmp(req->name, "request")) {
			reason(r, "request attachment: root is <%s>, not <request>", req->name);
			goto out;
		}
		fill_defaults(d, r, req, entity);
	} else {
		if (form_read(&c, &req, &r->ignored, &why) < 0) {
			reason(r, "%s", why.buf);
			goto out;
		}
		fill_defaults(d, r, req, entity);
		r->request = req;
		req = NULL;
		if (xml_validate(r->request, XML_SCHEMA_REQUEST, &why) < 0) {
			schema_reasons(r, r->request, why.buf);
			goto out;
		}
	}
	if (req) {
		r->request = req;
		req = NULL;
	}
	ret = 0;
out:
	node_free(req);
	strbuf_release(&why);
	mail_content_release(&c);
	return ret;
}

/* ---------------------------------------------------------------- */
/* Checks                                                             */
/* ---------------------------------------------------------------- */

static const char *rq(const struct req *r, const char *key)
{
	return node_text(r->request, key);
}

static void check_time(struct dispatch *d, struct req *r, const char *key, int required,
		       time_t *out)
{
	const char *v = rq(r, key);
	time_t t;

	if (out)
		*out = 0;
	if (!v) {
		if (required)
			reason(r, "missing '%s'", key);
		return;
	}
	if (datetime_parse(v, &t) < 0) {
		reason(r, "'%s' is not a date and time", key);
		return;
	}
	if (t > d->now + MAX_SKEW)
		reason(r, "'%s' is in the future", key);
	if (out)
		*out = t;
}

static void check_registration(struct dispatch *d, struct req *r)
{
	const char *id = rq(r, "registration");
	const char *kana = rq(r, "name-kana"), *birth = rq(r, "birth-date");
	struct reg_entry *e;
	char date[11];

	if (id) {
		e = registry_find(d->reg, id);
		if (!e) {
			reason(r, "unknown registration '%s'", id);
			return;
		}
	} else if (kana && birth) {
		e = registry_find_person(d->reg, kana, birth);
		if (!e) {
			reason(r, "no active registration with that name-kana and birth-date");
			return;
		}
	} else {
		reason(r, "missing 'registration' (or 'name-kana' with 'birth-date')");
		return;
	}
	if (e->state != REG_ACTIVE) {
		if (!strcmp(e->reason, "expired"))
			reason(r, "registration %s has expired", e->id);
		else
			reason(r, "registration %s was cancelled", e->id);
		return;
	}
	if (d->today >= e->expires) {
		date_format(e->expires, date);
		reason(r, "registration %s expired on %s", e->id, date);
		return;
	}
	if (registry_load(d->reg, e, &r->record) < 0) {
		reason(r, "registration %s cannot be read", e->id);
		return;
	}
	r->entry = e;
}

static void check_requester(struct req *r)
{
	const struct node *reqs = node_child(r->record, "requesters"), *q;
	const char *name = rq(r, "requester-name");
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
		reason(r, "missing 'requester-name' (the registration lists its requesters)");
	else if (listed && !match)
		reason(r, "'requester-name' is not one of the registration's requesters");
	strbuf_release(&a);
	strbuf_release(&b);
}

static void check_police(struct dispatch *d, struct req *r, int required)
{
	const char *v = rq(r, "police-station");
	const struct agency *a;

	if (!v) {
		if (required)
			reason(r, "missing 'police-station'");
		return;
	}
	a = config_agency(&d->ctx->cfg, v);
	if (!a)
		a = config_agency_by_name(&d->ctx->cfg, v);
	if (!a || a->kind != AGENCY_POLICE) {
		reason(r, "'police-station' is not a configured police station");
		return;
	}
	r->police = a;
}

static void area_of(const struct req *r, struct wards *w)
{
	const char *v = rq(r, "area");
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

	area_of(r, &w);
	for (i = 0; i < w.ids.nr; i++)
		if (!strlist_has(&d->ctx->cfg.wards, w.ids.items[i]))
			reason(r, "unknown ward '%s' in 'area'", w.ids.items[i]);
	strlist_clear(&w.ids);
}

/*
 * Every request an operator signed is remembered, accepted or rejected,
 * by its request-id or, when none can be read, by the first 32 hex
 * digits of the SHA-256 of the signed entity; one seen before is a
 * replay.
 */
static void check_replay(struct dispatch *d, struct req *r, const struct strbuf *entity)
{
	const char *id = r->request ? rq(r, "request-id") : NULL;
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
	reason(r, "replay of a request seen on %s", date);
	r->replay = 1;
}

static void run_checks(struct dispatch *d, struct req *r)
{
	int alert;
	time_t sent, missing;

	const char *status = rq(r, "status");
	int known;

	r->type = rq(r, "type");
	r->exercise = status && !strcmp(status, "exercise");
	alert = r->type && !strcmp(r->type, "alert");
	known = alert || (r->type && (!strcmp(r->type, "update") || !strcmp(r->type, "found") ||
				      !strcmp(r->type, "withdraw")));
	check_time(d, r, "sent", 1, &sent);
	if (sent && sent < d->now - MAX_AGE)
		reason(r, "'sent' is more than 24 hours old");
	check_registration(d, r);
	if (r->record)
		check_requester(r);
	check_police(d, r, alert);
	check_time(d, r, "police-report-at", alert, NULL);
	check_time(d, r, "missing-since", alert, &missing);
	check_time(d, r, "found-at", 0, NULL);
	if (alert && !rq(r, "last-seen"))
		reason(r, "missing 'last-seen'");
	check_area(d, r);
	if (r->entry && known) {
		r->open = alert_find_open(d->st, r->entry->id);
		if (alert && r->open)
			reason(r, "an alert is already open for this registration (%s)",
			       r->open->id);
		if (!alert && !r->open)
			reason(r, "no alert is open for this registration");
	}
}

/* ---------------------------------------------------------------- */
/* Recipients and mails                                               */
/* ---------------------------------------------------------------- */

/* Members by address (the first listing of an address wins). */
static void member_map(const struct config *cfg, struct hashmap *map)
{
	size_t i, j;

	for (i = 0; i < cfg->nr_lists; i++)
		for (j = 0; j < cfg->lists[i].nr_members; j++) {
			struct member *m = &cfg->lists[i].members[j];

			if (!hashmap_get(map, m->address))
				hashmap_put(map, m->address, m);
		}
}

/* Every member who gets the alert; the To: header in *to. */
static void alert_recipients(struct dispatch *d, struct req *r, struct strlist *rcpts,
			     const char **to)
{
	const struct config *cfg = &d->ctx->cfg;
	struct wards area;
	struct hashmap seen = HASHMAP_INIT;
	size_t i, j, lists = 0;
	const char *last = NULL;

	area_of(r, &area);
	for (i = 0; i < cfg->nr_lists; i++) {
		const struct list *l = &cfg->lists[i];

		if (!wards_meet(&l->wards, &area))
			continue;
		if (r->entry->no_broadcast && l->audience != LIST_AGENCY)
			continue;
		for (j = 0; j < l->nr_members; j++) {
			const struct member *m = &l->members[j];

			if (l->audience == LIST_COMMUNITY && !member_pledged(m, d->today))
				continue;
			if (hashmap_get(&seen, m->address))
				continue;
			hashmap_put(&seen, m->address, (void *)m);
			strlist_add(rcpts, m->address);
		}
		if (l->nr_members) {
			lists++;
			last = l->address;
		}
	}
	strlist_sort(rcpts);
	strlist_clear(&area.ids);
	hashmap_clear(&seen);
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
		add_source(src, &alloc, labels, *k, rq(r, *k));
	for (k = seen; *k; k++)
		add_source(src, &alloc, labels, *k, node_text(view, *k));
	for (c = f ? f->child : NULL; c; c = c->next)
		add_source(src, &alloc, labels, c->name, c->text);
}

/*
 * Compose the alert (or notice) for rcpts, one copy per charset, leak
 * guard first. 0, or -1 with a reason.
 */
static int compose_alert(struct dispatch *d, struct req *r, const char *tpl,
			 const struct strlist *rcpts, const char *to, const char *refs)
{
	const struct config *cfg = &d->ctx->cfg;
	struct render_input in;
	struct strbuf subject = STRBUF_INIT, body = STRBUF_INIT, why = STRBUF_INIT,
		      msgid = STRBUF_INIT;
	struct leakguard lg = LEAKGUARD_INIT;
	struct leak_source *src = NULL;
	struct strlist labels = STRLIST_INIT;
	struct node *view = view_make(r->record, AUDIENCE_ALERT, d->today);
	struct strlist iso_rcpts = STRLIST_INIT, utf_rcpts = STRLIST_INIT;
	struct strbuf iso_data = STRBUF_INIT, utf_data = STRBUF_INIT;
	struct hashmap members = HASHMAP_INIT;
	struct mail_out h;
	size_t i;
	int ret = -1;

	memset(&in, 0, sizeof(in));
	in.view = view;
	in.request = r->request;
	in.police = r->police;
	in.alert_id = r->alert.entry.id;
	in.exercise = r->exercise;
	if (render_mail(d->ctx->home, tpl, d->lang, &in, &subject, &body, &why) < 0) {
		/* The templates are the installation's, not the request's. */
		error("%s", why.buf);
		d->node_error = EX_CONFIG;
		goto out;
	}
	leakguard_add_record(&lg, r->record);
	/* Whoever asked, listed in the record or not. */
	leakguard_add_text(&lg, "the requester's name", rq(r, "requester-name"));
	leakguard_add_phone(&lg, "the requester's phone", rq(r, "requester-phone"));
	leak_sources(r, view, &src, &labels);
	strbuf_reset(&why);
	if (leakguard_check_mail(&lg, subject.buf, body.buf, src, labels.nr, &why)) {
		reason(r, "leak guard: the %s text contains %s", tpl, why.buf);
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
	member_map(cfg, &members);
	for (i = 0; i < rcpts->nr; i++) {
		const struct member *m = hashmap_get(&members, rcpts->items[i]);

		strlist_add(m && m->iso2022jp ? &iso_rcpts : &utf_rcpts, rcpts->items[i]);
	}
	/* One Message-ID for every copy: they are one message in two charsets. */
	if (iso_rcpts.nr) {
		h.iso2022jp = 1;
		strbuf_reset(&why);
		if (mail_compose_text(&h, body.buf, &iso_data, &msgid, &why) < 0) {
			/* ISO-2022-JP cannot carry this text: UTF-8 for them too. */
			for (i = 0; i < iso_rcpts.nr; i++)
				strlist_add(&utf_rcpts, iso_rcpts.items[i]);
			strlist_clear(&iso_rcpts);
			strbuf_reset(&msgid);
		}
	}
	if (utf_rcpts.nr) {
		h.iso2022jp = 0;
		h.message_id = msgid.len ? msgid.buf : NULL;
		strbuf_reset(&why);
		if (mail_compose_text(&h, body.buf, &utf_data, msgid.len ? NULL : &msgid,
				      &why) < 0) {
			reason(r, "cannot compose the %s mail: %s", tpl, why.buf);
			goto out;
		}
	}
	if (iso_rcpts.nr) {
		struct outmsg *o = out_new(r);

		strbuf_addbuf(&o->data, &iso_data);
		for (i = 0; i < iso_rcpts.nr; i++)
			strlist_add(&o->rcpts, iso_rcpts.items[i]);
	}
	if (utf_rcpts.nr) {
		struct outmsg *o = out_new(r);

		strbuf_addbuf(&o->data, &utf_data);
		for (i = 0; i < utf_rcpts.nr; i++)
			strlist_add(&o->rcpts, utf_rcpts.items[i]);
	}
	for (i = 0; i < r->nr_out; i++) {
		r->out[i].alert_id = r->alert.entry.id;
		r->out[i].report = r->op->key;
	}
	if (msgid.len)
		strlist_add(&r->alert.message_ids, msgid.buf);
	r->nr_rcpts = rcpts->nr;
	ret = 0;
out:
	node_free(view);
	leakguard_release(&lg);
	free(src);
	strlist_clear(&labels);
	strbuf_release(&subject);
	strbuf_release(&body);
	strbuf_release(&why);
	strbuf_release(&msgid);
	strlist_clear(&iso_rcpts);
	strlist_clear(&utf_rcpts);
	hashmap_clear(&members);
	strbuf_release(&iso_data);
	strbuf_release(&utf_data);
	return ret;
}

/* Build the alert (type alert) or the notice and the alert's new state. */
static int make_mails(struct dispatch *d, struct req *r)
{
	struct strlist rcpts = STRLIST_INIT;
	const char *to = "undisclosed-recipients:;";
	int ret = -1;

	if (!strcmp(r->type, "alert")) {
		time_t ms = 0;

		alert_new(d->st, d->now, &r->alert);
		snprintf(r->alert.entry.registration, sizeof(r->alert.entry.registration), "%s",
			 r->entry->id);
		snprintf(r->alert.entry.ward, sizeof(r->alert.entry.ward), "%s", r->entry->ward);
		r->alert.entry.exercise = r->exercise;
		datetime_parse(rq(r, "missing-since"), &ms);
		r->alert.entry.missing_since = ms;
		r->alert.request = node_copy(r->request);
		r->alert.request_id = xstrdup(rq(r, "request-id"));
		r->alert.operator_fpr = xstrdup(r->op->key);
		r->alert.police = xstrdup(r->police->id);
		alert_recipients(d, r, &rcpts, &to);
		if (!rcpts.nr) {
			reason(r, "no list member may receive this alert");
			goto out;
		}
		if (compose_alert(d, r, "alert", &rcpts, to, NULL) < 0)
			goto out;
		strlist_clear(&r->alert.recipients);
		{
			size_t i;

			for (i = 0; i < rcpts.nr; i++)
				strlist_add(&r->alert.recipients, rcpts.items[i]);
		}
	} else {
		const char *tpl = r->type;
		char *first;

		if (alert_load(d->st, r->open, &r->alert) < 0) {
			/* Its own record, not the node: this request only. */
			reason(r, "alert %s cannot be read", r->open->id);
			goto out;
		}
		r->exercise = r->alert.entry.exercise;
		if (!r->police)
			r->police = config_agency(&d->ctx->cfg, r->alert.police ? r->alert.police : "");
		first = r->alert.message_ids.nr ? xstrdup(r->alert.message_ids.items[0]) : NULL;
		if (compose_alert(d, r, tpl, &r->alert.recipients, to, first) < 0) {
			free(first);
			goto out;
		}
		free(first);
		if (!strcmp(r->type, "found") || !strcmp(r->type, "withdraw")) {
			time_t at = d->now;

			if (rq(r, "found-at"))
				datetime_parse(rq(r, "found-at"), &at);
			alert_close(d->st, &r->alert.entry,
				    !strcmp(r->type, "found") ? ALERT_FOUND : ALERT_WITHDRAWN,
				    at);
		}
	}
	ret = 0;
out:
	strlist_clear(&rcpts);
	return ret;
}

/*
 * The reply cannot be made for a reason of the request's own (its
 * operator's key expired, was revoked, cannot be encrypted to): the
 * request is finished without it, the reason says so, and for an
 * accepted request stderr and the audit log do.
 */
static void no_reply(struct req *r, int accepted, const char *why)
{
	if (accepted) {
		msg_warn("no reply to '%s' for inbox/new/%s: %s", r->reply_to->address, r->name,
			 why);
		audit_add("no-reply", "input=" INBOX_NEW "/%s operator=%s", r->name,
			  r->reply_to->key);
	} else {
		reason(r, "no reply sent to the operator: %s", why);
	}
	r->reply_to = NULL;
}

/* Whether id is a request-id as schemas/request.xsd allows it. */
static int rid_ok(const char *id)
{
	size_t i;

	if (!id || !id[0] || strlen(id) > 64 || !isalnum((unsigned char)id[0]))
		return 0;
	for (i = 1; id[i]; i++)
		if (!isalnum((unsigned char)id[i]) && !strchr("._:-", id[i]))
			return 0;
	return 1;
}

/*
 * The reply to the operator (signed by the node, encrypted to the
 * operator). -1 only when the node cannot make it (templates, gpg-agent).
 */
static int make_reply(struct dispatch *d, struct req *r, int accepted)
{
	const struct config *cfg = &d->ctx->cfg;
	struct strbuf subject = STRBUF_INIT, body = STRBUF_INIT, why = STRBUF_INIT,
		      count = STRBUF_INIT, reasons = STRBUF_INIT, input = STRBUF_INIT,
		      ignored = STRBUF_INIT;
	const char *rid = r->request ? rq(r, "request-id") : NULL;
	const char *closed = NULL;
	const char *enc[2];
	struct mail_out h;
	struct outmsg *o;
	int ret = -1;
	const char *p, *q;

	if (!r->reply_to)
		return 0;
	/* Into the subject only as the schema allows it. */
	if (!rid_ok(rid))
		rid = rid_ok(r->rid) ? r->rid : NULL;
	strbuf_addf(&count, "%zu", r->nr_rcpts);
	if (r->ignored)
		strbuf_addf(&ignored, "無視した行 / lines ignored (greeting, signature): %zu",
			    r->ignored);
	for (p = r->reasons.buf; *p; p = q) {
		q = strstr(p, "; ");
		strbuf_addstr(&reasons, "- ");
		strbuf_add(&reasons, p, q ? (size_t)(q - p) : strlen(p));
		strbuf_addch(&reasons, '\n');
		q = q ? q + 2 : p + strlen(p);
	}
	for (p = r->name; *p; p++)
		strbuf_addch(&input, (*p > ' ' && *p < 0x7f) ? *p : '?');
	if (accepted && r->alert.entry.state == ALERT_CLOSED)
		closed = "closed";
	{
		const char *pairs[] = {
			"request-id", rid ? rid : "-",
			"type", r->type ? r->type : "-",
			"status", r->exercise ? "exercise" : "actual",
			"exercise-mark", r->exercise ? "【訓練】" : "",
			"alert-id", r->alert.entry.id,
			"recipients", count.buf,
			"closed", closed ? "アラートを終了しました / the alert is closed" : NULL,
			"reasons", reasons.buf,
			"input", input.buf,
			"ignored", ignored.len ? ignored.buf : NULL,
			NULL, NULL
		};

		if (render_pairs(d->ctx->home, accepted ? "reply-accepted" : "reply-rejected",
				 "ja", pairs, &subject, &body, &why) < 0) {
			error("%s", why.buf);
			d->node_error = EX_CONFIG;
			goto out;
		}
	}
	memset(&h, 0, sizeof(h));
	h.from_address = cfg->sender_address;
	h.from_name = cfg->sender_name;
	h.to = r->reply_to->address;
	h.subject = subject.buf;
	h.auto_submitted = 1;
	h.in_reply_to = r->msgid;
	h.references = r->msgid;
	enc[0] = r->reply_to->key;
	enc[1] = NULL;
	o = out_new(r);
	strbuf_reset(&why);
	if (mail_compose_pgp(&h, body.buf, cfg->self->key, enc, &o->data, NULL, &why) < 0) {
		r->nr_out--;
		strbuf_release(&o->data);
		if (gpg_agent_down(cfg->self->key)) {
			error("gpg-agent cannot be reached or started for '%s': the reply to "
			      "'%s' cannot be signed; the request is left for the next run",
			      cfg->gnupg_home, r->reply_to->address);
			d->node_error = EX_UNAVAILABLE;
			goto out;
		}
		no_reply(r, accepted, why.buf);
		ret = 0;
		goto out;
	}
	strlist_add(&o->rcpts, r->reply_to->address);
	o->alert_id = accepted ? r->alert.entry.id : NULL;
	ret = 0;
out:
	strbuf_release(&subject);
	strbuf_release(&body);
	strbuf_release(&why);
	strbuf_release(&count);
	strbuf_release(&reasons);
	strbuf_release(&input);
	strbuf_release(&ignored);
	return ret;
}

/* ---------------------------------------------------------------- */
/* Queueing and the commit                                            */
/* ---------------------------------------------------------------- */

/*
 * Stage every message: queue/msg/QID in the store's batch (before the
 * index), queue/env/QID after it; the note gets " QID=BASE64(ENV)" each.
 */
static int stage_messages(struct dispatch *d, struct req *r, struct strbuf *note)
{
	const struct config *cfg = &d->ctx->cfg;
	size_t i;

	for (i = 0; i < r->nr_out; i++) {
		struct outmsg *o = &r->out[i];
		struct strbuf env = STRBUF_INIT, rel = STRBUF_INIT;
		char qid[QUEUE_QID_MAX];
		struct queue_msg m = { cfg->sender_address, (const char *const *)o->rcpts.items,
				       o->rcpts.nr, o->alert_id, o->report, NULL, 0 };

		if (queue_envelope(&m, &env) < 0) {
			strbuf_release(&env);
			return -1;
		}
		queue_new_qid(qid);
		strbuf_addf(&rel, SPOOL_QUEUE_MSG "/%s", qid);
		if (spool_batch_write(alert_batch(d->st), rel.buf, o->data.buf, o->data.len) < 0)
			goto fail;
		strbuf_reset(&rel);
		strbuf_addf(&rel, SPOOL_QUEUE_ENV "/%s", qid);
		if (spool_batch_write(alert_after_commit(d->st), rel.buf, env.buf, env.len) < 0)
			goto fail;
		strbuf_addf(note, " %s=", qid);
		base64_encode(env.buf, env.len, 0, note);
		strbuf_release(&env);
		strbuf_release(&rel);
		continue;
fail:
		strbuf_release(&env);
		strbuf_release(&rel);
		return -1;
	}
	return 0;
}

/* After a crash: write the envelopes the note holds whose message is there. */
static int finish_envelopes(struct dispatch *d, const char *note)
{
	const char *p = strchr(note, ' ');
	int ret = 0;

	while (p && *p) {
		const char *start = p + 1, *eq = strchr(start, '='), *end;
		struct strbuf qid = STRBUF_INIT, env = STRBUF_INIT, rel = STRBUF_INIT;
		char *path;
		struct stat stb;

		end = strchr(start, ' ');
		if (!end)
			end = start + strlen(start);
		p = *end ? end : NULL;
		if (!eq || eq > end)
			continue;
		strbuf_add(&qid, start, (size_t)(eq - start));
		strbuf_addf(&rel, SPOOL_QUEUE_MSG "/%s", qid.buf);
		path = spool_path(&d->ctx->spool, rel.buf);
		if (stat(path, &stb) == 0 &&
		    base64_decode(eq + 1, (size_t)(end - eq - 1), 1 << 24, &env) == 0) {
			free(path);
			strbuf_reset(&rel);
			strbuf_addf(&rel, SPOOL_QUEUE_ENV "/%s", qid.buf);
			path = spool_path(&d->ctx->spool, rel.buf);
			if (stat(path, &stb) < 0 &&
			    spool_commit(&d->ctx->spool, rel.buf, env.buf, env.len) < 0)
				ret = -1;
		}
		free(path);
		strbuf_release(&qid);
		strbuf_release(&env);
		strbuf_release(&rel);
	}
	return ret;
}

static void print_result(struct dispatch *d, const char *name, const char *note)
{
	if (!strncmp(note, "accepted ", 9)) {
		char id[24] = "", n[24] = "";

		sscanf(note + 9, "%23s %23s", id, n);
		printf("accepted " INBOX_NEW "/%s %s %s\n", name, id, n);
		audit_add("accept", "input=" INBOX_NEW "/%s alert=%s recipients=%s", name, id, n);
		d->accepted++;
	} else {
		const char *b = note + 9, *e = strchr(b, ' ');
		struct strbuf why = STRBUF_INIT;

		base64_decode(b, e ? (size_t)(e - b) : strlen(b), 1 << 20, &why);
		printf("rejected " INBOX_NEW "/%s: %s\n", name, why.buf);
		audit_add("reject", "input=" INBOX_NEW "/%s", name);
		strbuf_release(&why);
		d->rejected++;
	}
	fflush(stdout);
}

/* Finish a request whose commit is done: envelopes, then the input. */
static int finish(struct dispatch *d, const char *token, const char *name, const char *rel,
		  const char *note)
{
	if (finish_envelopes(d, note) < 0)
		return -1;
	if (!strncmp(note, "rejected ", 9)) {
		const char *b = note + 9, *e = strchr(b, ' ');
		struct strbuf why = STRBUF_INIT;
		char *path = spool_path(&d->ctx->spool, rel);
		struct stat stb;
		int ret = 0;

		base64_decode(b, e ? (size_t)(e - b) : strlen(b), 1 << 20, &why);
		if (lstat(path, &stb) == 0 &&
		    spool_reject(&d->ctx->spool, rel, name, why.buf, NULL) < 0)
			ret = -1;
		free(path);
		strbuf_release(&why);
		if (ret < 0)
			return -1;
	} else {
		spool_claim_done(&d->ctx->spool, rel);
	}
	(void)token;
	return 0;
}

static int commit(struct dispatch *d, struct req *r, int accepted)
{
	struct strbuf note = STRBUF_INIT, key = STRBUF_INIT;
	int ret = -1;

	/* Accepted or rejected, with the commit; the first time is kept. */
	if (r->rid && !r->replay)
		alert_request_mark(d->st, r->op->key, r->rid, d->now);
	if (accepted) {
		if (alert_put(d->st, &r->alert) < 0)
			goto out;
		strbuf_addf(&note, "accepted %s %zu", r->alert.entry.id, r->nr_rcpts);
	} else {
		strbuf_addstr(&note, "rejected ");
		base64_encode(r->reasons.buf, r->reasons.len, 0, &note);
	}
	if (stage_messages(d, r, &note) < 0)
		goto out;
	if (accepted)
		spool_batch_unlink(alert_after_commit(d->st), r->rel);
	strbuf_addf(&key, NOTE_PREFIX "%s", r->token);
	alert_note(d->st, key.buf, note.buf);
	if (alert_commit(d->st) < 0)
		goto out;
	if (!accepted && finish(d, r->token, r->name, r->rel, note.buf) < 0)
		goto out;
	if (accepted) {
		audit_add("queued", "alert=%s type=%s messages=%zu recipients=%zu",
			  r->alert.entry.id, r->type, r->nr_out - (r->reply_to ? 1 : 0),
			  r->nr_rcpts);
		if (r->alert.entry.state == ALERT_CLOSED)
			audit_add("closed", "alert=%s type=%s", r->alert.entry.id,
				  alert_close_name(r->alert.entry.close_type));
	}
	print_result(d, r->name, note.buf);
	ret = 0;
out:
	strbuf_release(&note);
	strbuf_release(&key);
	return ret;
}

/* ---------------------------------------------------------------- */
/* One request                                                        */
/* ---------------------------------------------------------------- */

static void process(struct dispatch *d, struct req *r)
{
	struct strbuf raw = STRBUF_INIT, entity = STRBUF_INIT;
	char *path = spool_path(&d->ctx->spool, r->rel);
	struct stat st;
	int fd, accepted = 0;

	strbuf_addf(&raw, INBOX_NEW "/%s", r->name);
	inflight_begin(r->rel, raw.buf, 0);
	strbuf_reset(&raw);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && (size_t)st.st_size > MAIL_MAX_SIZE) {
		/* Refused unread. */
		reason(r, "too large (over %zu bytes)", MAIL_MAX_SIZE);
	} else if (fd < 0 || strbuf_read_fd(&raw, fd, MAIL_MAX_SIZE) < 0) {
		if (errno == EFBIG)
			reason(r, "too large (over %zu bytes)", MAIL_MAX_SIZE);
		else
			reason(r, "cannot read: %s", strerror(errno));
	} else {
		int signed_ok = authenticate(d, r, &raw, &entity) == 0;
		int ok = signed_ok && read_request(d, r, &entity) == 0;

		if (r->op)
			check_replay(d, r, &entity);
		/* A field that fails the schema hides none of the other checks. */
		if (signed_ok && r->request)
			run_checks(d, r);
		if (ok && !r->reasons.len && make_mails(d, r) == 0 && !r->reasons.len)
			accepted = 1;
	}
	if (fd >= 0)
		close(fd);
	if (d->io_error || d->node_error)
		goto out;
	if (!accepted) {
		/* Nothing for the helpers: only the reply. */
		size_t i;

		for (i = 0; i < r->nr_out; i++) {
			strbuf_release(&r->out[i].data);
			strlist_clear(&r->out[i].rcpts);
		}
		r->nr_out = 0;
		r->nr_rcpts = 0;
	}
	if (make_reply(d, r, accepted) < 0)
		goto out;
	inflight_end();
	if (commit(d, r, accepted) < 0)
		d->io_error = 1;
out:
	inflight_end();
	if (raw.len)
		wipe(raw.buf, raw.len);
	if (entity.len)
		wipe(entity.buf, entity.len);
	strbuf_release(&raw);
	strbuf_release(&entity);
	free(path);
}

static void req_setup(struct req *r, const char *token, const char *name)
{
	struct strbuf rel = STRBUF_INIT;

	memset(r, 0, sizeof(*r));
	memcpy(r->token, token, SPOOL_TOKEN_LEN + 1);
	r->name = xstrdup(name);
	strbuf_addf(&rel, WORK_DIR "/%s-%s", token, name);
	r->rel = strbuf_detach(&rel, NULL);
	strbuf_init(&r->reasons, 0);
	alert_init(&r->alert);
}

/* Claim inbox/new/NAME; 0, or -1 when another process took it first. */
static int claim(struct dispatch *d, struct req *r, const char *name)
{
	char token[SPOOL_TOKEN_LEN + 1];

	spool_claim_token(token);
	req_setup(r, token, name);
	if (spool_claim(&d->ctx->spool, INBOX_NEW, name, r->rel) < 0) {
		req_release(r);
		return -1;
	}
	return 0;
}

/*
 * Claimed inputs left by a killed run (names, listed before this run
 * claims anything): pass 0 finishes the one the last commit noted (its
 * note goes with the next commit); pass 1, after the inputs that arrived
 * since, processes the others again from the start.
 */
static void recover(struct dispatch *d, const struct strlist *names, int pass)
{
	size_t i;

	for (i = 0; i < names->nr && !d->io_error && !d->node_error; i++) {
		const char *name, *note;
		char token[SPOOL_TOKEN_LEN + 1];
		struct strbuf key = STRBUF_INIT;
		struct req r;

		name = spool_claim_name(names->items[i], token);
		if (!name)
			continue;
		strbuf_addf(&key, NOTE_PREFIX "%s", token);
		note = alert_note_get(d->st, key.buf);
		strbuf_release(&key);
		if ((note == NULL) != (pass == 1))
			continue;
		req_setup(&r, token, name);
		if (note) {
			if (finish(d, token, r.name, r.rel, note) < 0)
				d->io_error = 1;
			else
				print_result(d, r.name, note);
		} else {
			process(d, &r);
		}
		audit_flush();
		req_release(&r);
	}
}

static int dispatch_run(int argc, char **argv, struct context *ctx)
{
	struct dispatch d;
	struct strlist names = STRLIST_INIT, claimed = STRLIST_INIT;
	char *dir;
	size_t i;
	int lock, ret = 0;

	memset(&d, 0, sizeof(d));
	d.ctx = ctx;
	d.lang = "ja";
	for (i = 1; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "--lang") && i + 1 < (size_t)argc &&
		    (!strcmp(argv[i + 1], "ja") || !strcmp(argv[i + 1], "en"))) {
			d.lang = argv[++i];
		} else {
			fprintf(stderr, "usage: mimamori dispatch [--lang ja|en]\n");
			return EX_USAGE;
		}
	}
	d.now = clock_now();
	d.today = clock_today();
	audit_begin(&ctx->spool, "dispatch");
	if (queue_init(&ctx->spool) < 0)
		return EX_IOERR;
	dir = spool_path(&ctx->spool, WORK_DIR);
	if (mkdir_p(dir, 0700) < 0) {
		error_errno("cannot create '%s'", WORK_DIR);
		free(dir);
		return EX_IOERR;
	}
	free(dir);
	dir = spool_path(&ctx->spool, INBOX_NEW);
	mkdir_p(dir, 0700);
	free(dir);
	lock = spool_lock(&ctx->spool, "dispatch");
	if (lock < 0)
		return EX_IOERR;
	if (registry_open(&d.reg, &ctx->cfg, &ctx->spool, 0) < 0 ||
	    alert_store_open(&d.st, &ctx->cfg, &ctx->spool, 1) < 0) {
		registry_close(d.reg);
		spool_unlock(lock);
		return EX_SOFTWARE;
	}
	dir = spool_path(&ctx->spool, WORK_DIR);
	dir_list(dir, &claimed, 1);
	free(dir);
	recover(&d, &claimed, 0);
	dir = spool_path(&ctx->spool, INBOX_NEW);
	if (dir_list(dir, &names, 0) < 0)
		ret = error_errno("cannot list '%s'", dir);
	free(dir);
	for (i = 0; i < names.nr && !d.io_error && !d.node_error; i++) {
		struct req r;

		if (!name_is_safe(names.items[i]) || claim(&d, &r, names.items[i]) < 0)
			continue;
		process(&d, &r);
		if (audit_flush() < 0)
			d.io_error = 1;
		req_release(&r);
	}
	recover(&d, &claimed, 1);
	strlist_clear(&claimed);
	audit_add("done", "accepted=%zu rejected=%zu", d.accepted, d.rejected);
	if (audit_flush() < 0)
		d.io_error = 1;
	strlist_clear(&names);
	alert_store_close(d.st);
	registry_close(d.reg);
	spool_unlock(lock);
	if (d.io_error || ret < 0)
		return EX_IOERR;
	return d.node_error;
}

struct dispatch_call {
	int argc;
	char **argv;
	struct context *ctx;
};

static int dispatch_worker(void *arg)
{
	struct dispatch_call *c = arg;

	return dispatch_run(c->argc, c->argv, c->ctx);
}

/*
 * In a supervised worker (core/supervise.h): a mail that crashes, hangs
 * or exhausts the parser ends in rejected/, and the next is taken.
 */
int cmd_dispatch(int argc, char **argv, struct context *ctx)
{
	static const struct supervise_limits lim = { DISPATCH_MEM_MIB, INPUT_SECONDS, 0 };
	struct dispatch_call c = { argc, argv, ctx };
	const unsigned char *key;
	size_t i;

	/* Opened and looked up once here, the workers inherit them: watch
	 * runs dispatch often, and each gpg run costs about 10 ms. */
	if (datakey_get(&ctx->cfg, &ctx->spool, &key) < 0)
		return EX_SOFTWARE;
	gpg_key_warm(ctx->cfg.self->key, 1);
	gpg_key_warm(ctx->cfg.self->key, 0);
	for (i = 0; i < ctx->cfg.nr_operators; i++)
		gpg_key_warm(ctx->cfg.operators[i].key, 0);
	return supervise(&ctx->spool, "dispatch", &lim, dispatch_worker, &c);
}
