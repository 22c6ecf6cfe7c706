/*
 * dispatch_auth - who sent a request: exactly one good signature by a
 * configured operator on the exact signed bytes (lib/gpg.c), the
 * Message-ID, and the form read into <request> with its defaults.
 */
#include <string.h>
#include <sysexits.h>
#include "../lib/mail.h"
#include "../lib/seal.h"
#include "../lib/xml.h"
#include "../util/msg.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"
#include "dispatch_int.h"

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
		req_reason(r, "not signed");
		return;
	}
	if (sigs->nr > 1) {
		req_reason(r, "%zu signatures (exactly one is required)", sigs->nr);
		return;
	}
	s = &sigs->sig[0];
	op = config_operator(&d->ctx->cfg, s->primary_fpr[0] ? s->primary_fpr : s->fpr);
	if (!op && !s->valid)
		op = operator_by_keyid(&d->ctx->cfg, s->fpr);
	if (!op) {
		/* An unknown key cannot be checked: it is no operator's either. */
		req_reason(r, "signed by key %s, which is not a configured operator's",
		       s->primary_fpr[0] ? s->primary_fpr : s->fpr);
		return;
	}
	if (!s->valid) {
		req_reason(r, "bad signature (%s)", s->status[0] ? s->status : "not valid");
		return;
	}
	r->op = op;
	r->signed_at = s->created;
}

/*
 * Authenticate raw and put the signed entity (a MIME entity: headers and
 * body) in entity. 0 when an operator signed it, -1 with reasons.
 */
int dispatch_authenticate(struct dispatch *d, struct req *r, const struct strbuf *raw,
			struct strbuf *entity)
{
	struct mail_in m, inner;
	struct gpg_sigs sigs = { NULL, 0, 0, 0 };
	struct strbuf why = STRBUF_INIT, plain = STRBUF_INIT;
	int encrypted = 0;

	mail_in_init(&m);
	mail_in_init(&inner);
	if (mail_parse(raw->buf, raw->len, &m, &why) < 0) {
		req_reason(r, "not a readable mail: %s", why.buf);
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
			req_reason(r, "cannot decrypt: %s", why.buf);
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
					req_reason(r, "inline PGP is not accepted: send the form as "
					       "PGP/MIME (RFC 3156)");
				else
					req_reason(r, "not signed (encrypted only)");
				goto out;
			}
			if (gpg_verify_detached(inner.signed_part.buf, inner.signed_part.len,
						inner.signature.buf, inner.signature.len, &sigs,
						&why) < 0) {
				req_reason(r, "cannot check the signature: %s", why.buf);
				goto out;
			}
			judge_sigs(d, r, &sigs);
			if (r->op)
				strbuf_addbuf(entity, &inner.signed_part);
		}
	} else if (m.kind == MAIL_SIGNED) {
		if (gpg_verify_detached(m.signed_part.buf, m.signed_part.len, m.signature.buf,
					m.signature.len, &sigs, &why) < 0) {
			req_reason(r, "cannot check the signature: %s", why.buf);
			goto out;
		}
		judge_sigs(d, r, &sigs);
		if (r->op)
			strbuf_addbuf(entity, &m.signed_part);
	} else if (m.inline_pgp) {
		req_reason(r, "inline PGP is not accepted: send the form as PGP/MIME (RFC 3156)");
	} else {
		req_reason(r, "not signed");
	}
	if (r->op) {
		r->reply_to = r->op;
		if (d->ctx->cfg.require_encrypted && !encrypted)
			req_reason(r, "not encrypted (this node requires encrypted requests)");
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
			req_reason(r, "%s", why.buf);
			listed = 1;
		}
		node_free(one);
	}
	if (!listed)
		req_reason(r, "%s", first);
	strbuf_release(&why);
}

/*
 * The signed entity's form or XML attachment -> r->request, validated.
 * A request whose fields fail the schema is left in r->request all the
 * same (-1), so that the other checks still run and every failure is
 * listed.
 */
int dispatch_read_request(struct dispatch *d, struct req *r, const struct strbuf *entity)
{
	struct mail_content c;
	struct strbuf why = STRBUF_INIT;
	struct node *req = NULL;
	int ret = -1;

	mail_content_init(&c);
	if (mail_entity_content(entity->buf, entity->len, &c, &why) < 0) {
		req_reason(r, "cannot read the signed part: %s", why.buf);
		goto out;
	}
	if (c.xml.len) {
		if (xml_parse(c.xml.buf, c.xml.len, MAIL_MAX_SIZE, XML_SCHEMA_REQUEST, &req,
			      &why) < 0) {
			req_reason(r, "request attachment: %s", why.buf);
			goto out;
		}
		if (strcmp(req->name, "request")) {
			req_reason(r, "request attachment: root is <%s>, not <request>", req->name);
			goto out;
		}
		fill_defaults(d, r, req, entity);
	} else {
		if (form_read(&c, &req, &r->ignored, &why) < 0) {
			req_reason(r, "%s", why.buf);
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

