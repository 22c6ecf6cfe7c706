/*
 * mail_parse - mail from outside taken apart with libetpan: request mail,
 * its PGP/MIME structure (RFC 3156), entities and encoded header words.
 * Works on memory only; signatures are checked by the caller with
 * lib/gpg.c. Mail we send is composed in mail_compose.c.
 *
 * SECURITY: mail_parse() and mail_entity_content() read mail from anyone.
 * Input is capped at MAIL_MAX_SIZE before anything looks at it, and every
 * header section, before libetpan sees it, at MAIL_MAX_FIELD bytes a
 * field, MAIL_MAX_HEADER in all and MAIL_MAX_NESTING levels of
 * parentheses (mail_header_check(); libetpan's comment parser recurses
 * once per level). Headers and parameters are parsed by libetpan; the
 * MIME structure is walked here, one level per call for mail_parse() and
 * at most MAX_DEPTH levels and MAX_PARTS parts per multipart for
 * mail_entity_content(), so no hostile nesting can exhaust the stack. The signed bytes are cut out of
 * the raw buffer between the boundary lines, never re-serialised; whether
 * they count is decided by the caller with lib/gpg.c. Anything that is
 * not a well-formed PGP/MIME structure is MAIL_PLAIN. mail_report_parse()
 * reads bounces (RFC 3464) the same way: one multipart level, parts cut
 * by split_multipart(), at most MAX_PARTS of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libetpan/libetpan.h>
#include "mail.h"
#include "seal.h"
#include "text.h"
#include "../util/xalloc.h"

#define MAX_DEPTH 8       /* multipart levels mail_entity_content() descends */
#define MAX_PARTS 64      /* parts of one multipart */
#define MAX_BOUNDARY 70   /* RFC 2046 */

/* ---------------------------------------------------------------- parsing */

/* One MIME entity: its header fields, as libetpan parsed them, and body. */
struct entity {
	const char *body;
	size_t body_len;
	struct mailimf_fields *imf;          /* NULL when there are no headers */
	struct mailmime_fields *mime;        /* NULL when no Content-* field */
	struct mailmime_content *ct;         /* NULL: default text/plain */
	int encoding;                        /* MAILMIME_MECHANISM_* */
};

static void entity_release(struct entity *e)
{
	if (e->mime)
		mailmime_fields_free(e->mime);
	if (e->imf)
		mailimf_fields_free(e->imf);
	memset(e, 0, sizeof(*e));
}

int mail_header_check(const char *buf, size_t len, struct strbuf *why)
{
	size_t pos = 0, field = 0;
	int depth = 0, quoted = 0, escaped = 0;

	while (pos < len) {
		const char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos, end = pos + n + (nl ? 1 : 0), i;

		if (n && line[n - 1] == '\r')
			n--;
		if (!n)
			break;          /* the empty line: the body follows */
		if (end > MAIL_MAX_HEADER)
			return strbuf_fail(why, "header too large: over %zu bytes",
					   MAIL_MAX_HEADER);
		if (line[0] == ' ' || line[0] == '\t') {
			field += n;     /* a folded line of the same field */
		} else {
			field = n;
			depth = quoted = escaped = 0;
		}
		for (i = 0; i < n; i++) {
			char c = line[i];

			if (escaped)
				escaped = 0;
			else if (c == '\\' && (quoted || depth))
				escaped = 1;
			else if (quoted)
				quoted = c != '"';
			else if (c == '"' && !depth)
				quoted = 1;
			else if (c == ')' && depth)
				depth--;
			else if (c == '(' && ++depth > MAIL_MAX_NESTING)
				return strbuf_fail(why, "header nested too deeply: parentheses "
						   "over %d levels", MAIL_MAX_NESTING);
		}
		if (field > MAIL_MAX_FIELD)
			return strbuf_fail(why, "header too large: a field over %zu bytes",
					   MAIL_MAX_FIELD);
		pos = end;
	}
	return 0;
}

/*
 * Split buf into its header block and body (the first empty line ends the
 * headers) and parse the header fields. -1 with a reason only when the
 * header section is over the caps of mail_header_check() (libetpan never
 * sees it then); an entity whose headers libetpan cannot read has none
 * (text/plain, 7bit).
 */
static int entity_parse(const char *buf, size_t len, struct entity *e, struct strbuf *why)
{
	size_t pos = 0, hdr_len = len, idx = 0;
	clistiter *it;

	memset(e, 0, sizeof(*e));
	e->encoding = MAILMIME_MECHANISM_7BIT;
	e->body = buf + len;
	if (mail_header_check(buf, len, why) < 0)
		return -1;
	while (pos < len) {
		const char *nl;

		if (buf[pos] == '\n' || (buf[pos] == '\r' && pos + 1 < len && buf[pos + 1] == '\n')) {
			hdr_len = pos;
			pos += buf[pos] == '\r' ? 2 : 1;
			e->body = buf + pos;
			e->body_len = len - pos;
			break;
		}
		nl = memchr(buf + pos, '\n', len - pos);
		if (!nl)
			break;
		pos = nl - buf + 1;
	}
	if (!hdr_len)
		return 0;
	if (mailimf_fields_parse(buf, hdr_len, &idx, &e->imf) != MAILIMF_NO_ERROR) {
		e->imf = NULL;
		return 0;
	}
	if (mailmime_fields_parse(e->imf, &e->mime) != MAILIMF_NO_ERROR) {
		e->mime = NULL;
		return 0;
	}
	for (it = clist_begin(e->mime->fld_list); it; it = clist_next(it)) {
		struct mailmime_field *f = clist_content(it);

		if (f->fld_type == MAILMIME_FIELD_TYPE && !e->ct)
			e->ct = f->fld_data.fld_content;
		else if (f->fld_type == MAILMIME_FIELD_TRANSFER_ENCODING && f->fld_data.fld_encoding)
			e->encoding = f->fld_data.fld_encoding->enc_type;
	}
	return 0;
}

static const char *ct_type(const struct mailmime_content *ct)
{
	const struct mailmime_type *t;

	if (!ct)
		return "text";
	t = ct->ct_type;
	if (!t)
		return "";
	if (t->tp_type == MAILMIME_TYPE_DISCRETE_TYPE && t->tp_data.tp_discrete_type) {
		switch (t->tp_data.tp_discrete_type->dt_type) {
		case MAILMIME_DISCRETE_TYPE_TEXT: return "text";
		case MAILMIME_DISCRETE_TYPE_IMAGE: return "image";
		case MAILMIME_DISCRETE_TYPE_AUDIO: return "audio";
		case MAILMIME_DISCRETE_TYPE_VIDEO: return "video";
		case MAILMIME_DISCRETE_TYPE_APPLICATION: return "application";
		case MAILMIME_DISCRETE_TYPE_EXTENSION:
			return t->tp_data.tp_discrete_type->dt_extension ?
				t->tp_data.tp_discrete_type->dt_extension : "";
		}
	} else if (t->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE && t->tp_data.tp_composite_type) {
		switch (t->tp_data.tp_composite_type->ct_type) {
		case MAILMIME_COMPOSITE_TYPE_MESSAGE: return "message";
		case MAILMIME_COMPOSITE_TYPE_MULTIPART: return "multipart";
		case MAILMIME_COMPOSITE_TYPE_EXTENSION:
			return t->tp_data.tp_composite_type->ct_token ?
				t->tp_data.tp_composite_type->ct_token : "";
		}
	}
	return "";
}

/* Whether the entity's type is type/sub (sub NULL: any subtype). */
static int ct_is(const struct mailmime_content *ct, const char *type, const char *sub)
{
	if (strcasecmp(ct_type(ct), type))
		return 0;
	if (!sub)
		return 1;
	if (!ct)
		return !strcasecmp(sub, "plain");
	return ct->ct_subtype && !strcasecmp(ct->ct_subtype, sub);
}

static const char *ct_param(struct mailmime_content *ct, const char *name)
{
	clistiter *it;

	if (!ct || !ct->ct_parameters)
		return NULL;
	for (it = clist_begin(ct->ct_parameters); it; it = clist_next(it)) {
		struct mailmime_parameter *p = clist_content(it);

		if (p->pa_name && p->pa_value && !strcasecmp(p->pa_name, name))
			return p->pa_value;
	}
	return NULL;
}

struct part {
	const char *p;
	size_t len;
};

/*
 * Cut a multipart body into its parts at the boundary lines (RFC 2046
 * §5.1.1: "--" boundary, optional white space, line end; the line end
 * before a boundary line belongs to it). Each part is left exactly as it
 * stands. -1 when the boundary is unusable, when there are more than max
 * parts, or when the closing boundary is missing (a truncated mail).
 */
static int split_multipart(const char *body, size_t len, const char *boundary,
			   struct part *parts, size_t max, size_t *nr)
{
	size_t blen = boundary ? strlen(boundary) : 0, pos = 0;
	const char *open = NULL;

	*nr = 0;
	if (!blen || blen > MAX_BOUNDARY)
		return -1;
	while (pos < len) {
		const char *s = body + pos, *nl = memchr(s, '\n', len - pos);
		size_t e = nl ? (size_t)(nl - body) : len, ce = e, k;
		int close = 0;

		if (ce > pos && body[ce - 1] == '\r')
			ce--;
		if (ce - pos >= 2 + blen && s[0] == '-' && s[1] == '-' &&
		    !memcmp(s + 2, boundary, blen)) {
			k = pos + 2 + blen;
			if (ce - k >= 2 && body[k] == '-' && body[k + 1] == '-') {
				close = 1;
				k += 2;
			}
			while (k < ce && (body[k] == ' ' || body[k] == '\t'))
				k++;
			if (k == ce) {
				if (open) {
					const char *end = s;

					if (end > open && end[-1] == '\n')
						end--;
					if (end > open && end[-1] == '\r')
						end--;
					if (*nr >= max)
						return -1;
					parts[*nr].p = open;
					parts[(*nr)++].len = end - open;
				}
				if (close)
					return open ? 0 : -1;
				open = nl ? nl + 1 : body + len;
			}
		}
		pos = e + 1;
	}
	return -1;
}

/* The content of a single-part entity with its transfer encoding undone. */
static int entity_decode(const struct entity *e, struct strbuf *out, struct strbuf *why)
{
	size_t idx = 0, rlen = 0;
	char *res = NULL;
	int enc = e->encoding;

	if (enc != MAILMIME_MECHANISM_BASE64 && enc != MAILMIME_MECHANISM_QUOTED_PRINTABLE) {
		strbuf_add(out, e->body, e->body_len);
		return 0;
	}
	if (!e->body_len)
		return 0;
	if (mailmime_part_parse(e->body, e->body_len, &idx, enc, &res, &rlen) != MAILIMF_NO_ERROR)
		return strbuf_fail(why, "cannot decode a %s part",
			    enc == MAILMIME_MECHANISM_BASE64 ? "base64" : "quoted-printable");
	strbuf_add(out, res, rlen);
	mmap_string_unref(res);
	return 0;
}

static void strip_crlf(struct strbuf *sb)
{
	size_t i, j;

	for (i = j = 0; i < sb->len; i++)
		if (sb->buf[i] != '\r' && sb->buf[i] != '\n')
			sb->buf[j++] = sb->buf[i];
	strbuf_setlen(sb, j);
}

void mail_in_init(struct mail_in *m)
{
	memset(m, 0, sizeof(*m));
	m->kind = MAIL_PLAIN;
	strbuf_init(&m->signed_part, 0);
	strbuf_init(&m->signature, 0);
	strbuf_init(&m->encrypted, 0);
}

void mail_in_release(struct mail_in *m)
{
	free(m->from);
	free(m->message_id);
	free(m->subject);
	strbuf_release(&m->signed_part);
	strbuf_release(&m->signature);
	strbuf_release(&m->encrypted);
	mail_in_init(m);
}

static void take_headers(const struct entity *e, struct mail_in *m)
{
	struct mailimf_single_fields single;

	if (!e->imf)
		return;
	mailimf_single_fields_init(&single, e->imf);
	if (single.fld_from && single.fld_from->frm_mb_list &&
	    single.fld_from->frm_mb_list->mb_list) {
		clistiter *it = clist_begin(single.fld_from->frm_mb_list->mb_list);
		struct mailimf_mailbox *mb = it ? clist_content(it) : NULL;

		if (mb && mb->mb_addr_spec)
			m->from = xstrdup(mb->mb_addr_spec);
	}
	if (single.fld_message_id && single.fld_message_id->mid_value)
		m->message_id = xstrdup(single.fld_message_id->mid_value);
	if (single.fld_subject && single.fld_subject->sbj_value) {
		struct strbuf s = STRBUF_INIT;

		if (mail_decode_header(single.fld_subject->sbj_value, &s) < 0) {
			size_t i;

			/* undecodable: the ASCII of it, so the subject is still UTF-8 */
			strbuf_reset(&s);
			strbuf_addstr(&s, single.fld_subject->sbj_value);
			strip_crlf(&s);
			for (i = 0; i < s.len; i++)
				if ((unsigned char)s.buf[i] >= 0x80 || (unsigned char)s.buf[i] < 0x20)
					s.buf[i] = '?';
		}
		m->subject = strbuf_detach(&s, NULL);
	}
}

/* Fill m from a well-formed multipart/signed (RFC 3156 §5) or leave it. */
static int take_signed(const struct entity *top, struct mail_in *m, struct strbuf *why)
{
	struct part parts[2];
	struct entity sig;
	size_t nr;
	const char *proto = ct_param(top->ct, "protocol");
	int ret;

	if (!proto || strcasecmp(proto, "application/pgp-signature"))
		return 0;
	if (split_multipart(top->body, top->body_len, ct_param(top->ct, "boundary"), parts, 2,
			    &nr) || nr != 2)
		return 0;
	if (entity_parse(parts[1].p, parts[1].len, &sig, why) < 0)
		return -1;
	if (!ct_is(sig.ct, "application", "pgp-signature")) {
		entity_release(&sig);
		return 0;
	}
	ret = entity_decode(&sig, &m->signature, why);
	entity_release(&sig);
	if (ret)
		return -1;
	strbuf_add_crlf(&m->signed_part, parts[0].p, parts[0].len);
	m->kind = MAIL_SIGNED;
	return 0;
}

/* Fill m from a well-formed multipart/encrypted (RFC 3156 §4) or leave it. */
static int take_encrypted(const struct entity *top, struct mail_in *m, struct strbuf *why)
{
	struct part parts[2];
	struct entity ver, data;
	size_t nr;
	const char *proto = ct_param(top->ct, "protocol");
	int ret = 0;

	if (!proto || strcasecmp(proto, "application/pgp-encrypted"))
		return 0;
	if (split_multipart(top->body, top->body_len, ct_param(top->ct, "boundary"), parts, 2,
			    &nr) || nr != 2)
		return 0;
	if (entity_parse(parts[0].p, parts[0].len, &ver, why) < 0)
		return -1;
	if (entity_parse(parts[1].p, parts[1].len, &data, why) < 0) {
		entity_release(&ver);
		return -1;
	}
	if (ct_is(ver.ct, "application", "pgp-encrypted") &&
	    ct_is(data.ct, "application", "octet-stream")) {
		ret = entity_decode(&data, &m->encrypted, why);
		if (!ret)
			m->kind = MAIL_ENCRYPTED;
	}
	entity_release(&ver);
	entity_release(&data);
	return ret;
}

/* Whether a text/plain body is an inline PGP signed message. */
static int is_inline_pgp(const struct entity *e)
{
	static const char mark[] = "-----BEGIN PGP SIGNED MESSAGE-----";
	struct strbuf body = STRBUF_INIT, why = STRBUF_INIT;
	size_t i = 0;
	int ret = 0;

	if (entity_decode(e, &body, &why) == 0) {
		while (i < body.len && strchr(" \t\r\n", body.buf[i]))
			i++;
		ret = body.len - i >= sizeof(mark) - 1 &&
		      !memcmp(body.buf + i, mark, sizeof(mark) - 1);
	}
	strbuf_release(&body);
	strbuf_release(&why);
	return ret;
}

int mail_parse(const char *buf, size_t len, struct mail_in *m, struct strbuf *why)
{
	struct entity top;
	int ret = 0;

	mail_in_init(m);
	if (len > MAIL_MAX_SIZE)
		return strbuf_fail(why, "mail larger than %zu bytes", MAIL_MAX_SIZE);
	if (entity_parse(buf, len, &top, why) < 0)
		return -1;
	take_headers(&top, m);
	if (ct_is(top.ct, "text", "plain"))
		m->inline_pgp = is_inline_pgp(&top);
	if (ct_is(top.ct, "multipart", "signed"))
		ret = take_signed(&top, m, why);
	else if (ct_is(top.ct, "multipart", "encrypted"))
		ret = take_encrypted(&top, m, why);
	entity_release(&top);
	if (ret)
		mail_in_release(m);
	return ret;
}

void mail_content_init(struct mail_content *c)
{
	memset(c, 0, sizeof(*c));
	strbuf_init(&c->xml, 0);
}

void mail_content_release(struct mail_content *c)
{
	size_t i;

	for (i = 0; i < c->nr_texts; i++) {
		if (c->texts[i].text.len)
			wipe(c->texts[i].text.buf, c->texts[i].text.len);
		strbuf_release(&c->texts[i].text);
	}
	free(c->texts);
	strbuf_release(&c->xml);
	mail_content_init(c);
}

void mail_unflow(struct mail_text *t,
		 int (*fresh)(const char *line, size_t len, void *data), void *data)
{
	struct strbuf out = STRBUF_INIT, *text = &t->text;
	size_t pos = 0;
	int soft = 0;

	if (!t->flowed)
		return;
	while (pos < text->len) {
		const char *line = text->buf + pos, *nl = memchr(line, '\n', text->len - pos);
		size_t len = nl ? (size_t)(nl - line) : text->len - pos;
		int sig;

		pos += len + (nl ? 1 : 0);
		if (len && line[0] == ' ') {
			line++;
			len--;
		}
		sig = len == 3 && !memcmp(line, "-- ", 3);
		if (soft && (sig || (fresh && fresh(line, len, data)))) {
			/* Not joined: the soft break becomes a hard one. */
			strbuf_addch(&out, '\n');
		} else if (soft && t->delsp && out.len && out.buf[out.len - 1] == ' ') {
			strbuf_setlen(&out, out.len - 1);
		}
		soft = nl && len && line[len - 1] == ' ' && !sig;
		strbuf_add(&out, line, len);
		if (nl && !soft)
			strbuf_addch(&out, '\n');
	}
	if (soft)
		strbuf_addch(&out, '\n');
	if (text->len)
		wipe(text->buf, text->len);
	strbuf_reset(text);
	strbuf_addbuf(text, &out);
	wipe(out.buf, out.len);
	strbuf_release(&out);
	t->flowed = 0;
}

/* Whether the entity says Content-Disposition: attachment. */
static int is_attachment(const struct entity *e)
{
	clistiter *it;

	if (!e->mime)
		return 0;
	for (it = clist_begin(e->mime->fld_list); it; it = clist_next(it)) {
		struct mailmime_field *f = clist_content(it);

		if (f->fld_type == MAILMIME_FIELD_DISPOSITION && f->fld_data.fld_disposition &&
		    f->fld_data.fld_disposition->dsp_type &&
		    f->fld_data.fld_disposition->dsp_type->dsp_type ==
		    MAILMIME_DISPOSITION_TYPE_ATTACHMENT)
			return 1;
	}
	return 0;
}

static int text_part(const struct entity *e, struct mail_text *t, struct strbuf *why)
{
	struct strbuf raw = STRBUF_INIT, utf8 = STRBUF_INIT;
	const char *cs = ct_param(e->ct, "charset");
	const char *fmt = ct_param(e->ct, "format"), *delsp = ct_param(e->ct, "delsp");
	size_t i;
	int ret;

	if (!cs || !strcasecmp(cs, "us-ascii") || !strcasecmp(cs, "utf8"))
		cs = "UTF-8";
	ret = entity_decode(e, &raw, why);
	if (!ret && text_to_utf8(cs, raw.buf, raw.len, &utf8) < 0)
		ret = strbuf_fail(why, "the text is not valid %s", cs);
	if (!ret && !text_is_utf8(utf8.buf, utf8.len))
		ret = strbuf_fail(why, "the text is not valid %s", cs);
	if (!ret) {
		for (i = 0; i < utf8.len; i++)
			if (!(utf8.buf[i] == '\r' && i + 1 < utf8.len && utf8.buf[i + 1] == '\n'))
				strbuf_addch(&t->text, utf8.buf[i]);
		t->attachment = is_attachment(e);
		t->flowed = fmt && !strcasecmp(fmt, "flowed");
		t->delsp = t->flowed && delsp && !strcasecmp(delsp, "yes");
	}
	if (raw.len)
		wipe(raw.buf, raw.len);
	if (utf8.len)
		wipe(utf8.buf, utf8.len);
	strbuf_release(&raw);
	strbuf_release(&utf8);
	return ret;
}

static int walk(const char *buf, size_t len, int depth, int *have_xml,
		struct mail_content *c, struct strbuf *why)
{
	struct entity e;
	int ret = 0;

	if (entity_parse(buf, len, &e, why) < 0)
		return -1;
	if (ct_is(e.ct, "multipart", NULL)) {
		struct part parts[MAX_PARTS];
		size_t nr, i;

		if (depth >= MAX_DEPTH)
			ret = strbuf_fail(why, "MIME parts nested more than %d deep", MAX_DEPTH);
		else if (split_multipart(e.body, e.body_len, ct_param(e.ct, "boundary"), parts,
					 MAX_PARTS, &nr))
			ret = strbuf_fail(why, "malformed multipart (boundary, parts or end missing)");
		for (i = 0; !ret && i < nr; i++)
			ret = walk(parts[i].p, parts[i].len, depth + 1, have_xml, c, why);
	} else if (ct_is(e.ct, "text", "plain") && c->nr_texts < MAIL_MAX_TEXTS) {
		struct mail_text *t;

		ALLOC_GROW(c->texts, c->nr_texts + 1, c->alloc_texts);
		t = &c->texts[c->nr_texts++];
		memset(t, 0, sizeof(*t));
		strbuf_init(&t->text, 0);
		ret = text_part(&e, t, why);
	} else if ((ct_is(e.ct, "application", "xml") || ct_is(e.ct, "text", "xml")) &&
		   !*have_xml) {
		ret = entity_decode(&e, &c->xml, why);
		*have_xml = 1;
	}
	entity_release(&e);
	return ret;
}

int mail_entity_content(const char *buf, size_t len, struct mail_content *c,
			struct strbuf *why)
{
	int have_xml = 0, ret;

	if (len > MAIL_MAX_SIZE)
		return strbuf_fail(why, "mail larger than %zu bytes", MAIL_MAX_SIZE);
	ret = walk(buf, len, 0, &have_xml, c, why);
	if (ret)
		mail_content_release(c);
	return ret;
}


int mail_decode_header(const char *value, struct strbuf *out)
{
	size_t idx = 0, oldlen = out->len;
	char *res = NULL;

	if (!value)
		return -1;
	if (!*value)
		return 0;
	if (mailmime_encoded_phrase_parse("utf-8", value, strlen(value), &idx, "utf-8", &res) !=
	    MAILIMF_NO_ERROR || !res)
		return -1;
	strbuf_addstr(out, res);
	free(res);
	if (!text_is_utf8(out->buf + oldlen, out->len - oldlen)) {
		strbuf_setlen(out, oldlen);
		return -1;
	}
	{
		struct strbuf tail = STRBUF_INIT;

		strbuf_add(&tail, out->buf + oldlen, out->len - oldlen);
		strip_crlf(&tail);
		strbuf_setlen(out, oldlen);
		strbuf_addbuf(out, &tail);
		strbuf_release(&tail);
	}
	return 0;
}

/* ------------------------------------------------------------- reports */

void mail_report_init(struct mail_report *r)
{
	strbuf_init(&r->status, 0);
	r->returned_id = NULL;
}

void mail_report_release(struct mail_report *r)
{
	strbuf_release(&r->status);
	free(r->returned_id);
	r->returned_id = NULL;
}

int mail_report_parse(const char *buf, size_t len, struct mail_report *r, struct strbuf *why)
{
	struct entity top;
	struct part parts[MAX_PARTS];
	size_t nr = 0, i;
	int ret = 0, have = 0;

	mail_report_init(r);
	if (len > MAIL_MAX_SIZE)
		return strbuf_fail(why, "mail larger than %zu bytes", MAIL_MAX_SIZE);
	if (entity_parse(buf, len, &top, why) < 0)
		return -1;
	if (!ct_is(top.ct, "multipart", "report")) {
		entity_release(&top);
		return strbuf_fail(why, "not a delivery status notification (RFC 3464)");
	}
	if (split_multipart(top.body, top.body_len, ct_param(top.ct, "boundary"), parts,
			    MAX_PARTS, &nr)) {
		entity_release(&top);
		return strbuf_fail(why, "malformed multipart (boundary, parts or end missing)");
	}
	for (i = 0; !ret && i < nr; i++) {
		struct entity e;

		if (entity_parse(parts[i].p, parts[i].len, &e, why) < 0) {
			ret = -1;
			break;
		}
		if (ct_is(e.ct, "message", "delivery-status") && !have) {
			ret = entity_decode(&e, &r->status, why);
			have = 1;
		} else if ((ct_is(e.ct, "message", "rfc822") ||
			    ct_is(e.ct, "text", "rfc822-headers")) && !r->returned_id) {
			struct entity inner;
			struct mail_in m;

			/* The returned message's own header section, one level down. */
			mail_in_init(&m);
			if (entity_parse(e.body, e.body_len, &inner, why) == 0) {
				take_headers(&inner, &m);
				entity_release(&inner);
				r->returned_id = m.message_id;
				m.message_id = NULL;
			} else {
				strbuf_reset(why);
			}
			mail_in_release(&m);
		}
		entity_release(&e);
	}
	entity_release(&top);
	if (!ret && !have)
		ret = strbuf_fail(why, "a report without a message/delivery-status part");
	if (ret)
		mail_report_release(r);
	return ret;
}

int mail_header_get(const char *buf, size_t len, const char *name, struct strbuf *out,
		    struct strbuf *why)
{
	size_t pos = 0, nl_len = strlen(name);
	int found = 0;

	if (mail_header_check(buf, len, why) < 0)
		return -1;
	while (pos < len && buf[pos] != '\n' && buf[pos] != '\r') {
		const char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - line) : len - pos;

		if (found) {
			if (*line != ' ' && *line != '\t')
				break;
			strbuf_add(out, line, ll);
		} else if (ll > nl_len && line[nl_len] == ':' && !strncasecmp(line, name, nl_len)) {
			found = 1;
			strbuf_add(out, line + nl_len + 1, ll - nl_len - 1);
		}
		pos += ll + 1;
	}
	if (!found)
		return 1;
	strip_crlf(out);
	strbuf_trim(out);
	return 0;
}
