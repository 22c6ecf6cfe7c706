/*
 * mail - mail messages in and out: takes request mail apart with libetpan
 * (the only module that includes <libetpan/...>) and composes every mail
 * the program sends (alerts, replies, request mail), plain or PGP/MIME
 * (RFC 3156). Works on memory only; the keyring is used through core/gpg.c.
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
 * they count is decided by the caller with core/gpg.c. Anything that is
 * not a well-formed PGP/MIME structure is MAIL_PLAIN. The composer refuses
 * CR, LF and NUL in every header value, so no field can add a header.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/random.h>
#include <libetpan/libetpan.h>
#include "mail.h"
#include "clock.h"
#include "gpg.h"
#include "seal.h"
#include "text.h"
#include "../util/base64.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

#define MAX_DEPTH 8       /* multipart levels mail_entity_content() descends */
#define MAX_PARTS 64      /* parts of one multipart */
#define MAX_BOUNDARY 70   /* RFC 2046 */
#define LINE_MAX_OCTETS 998

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

static void add_crlf(struct strbuf *out, const char *s, size_t len)
{
	size_t i;

	strbuf_grow(out, len + len / 32);
	for (i = 0; i < len; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			strbuf_addch(out, '\r');
		strbuf_addch(out, s[i]);
	}
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
	add_crlf(&m->signed_part, parts[0].p, parts[0].len);
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

/* ---------------------------------------------------------------- headers */

int mail_header_safe(const char *s)
{
	if (!s)
		return 0;
	return !strpbrk(s, "\r\n");
}

/* Printable ASCII only (no controls, no 8-bit). */
static int is_printable_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

static int utf8_char_len(const unsigned char *s)
{
	if (*s < 0x80)
		return 1;
	if ((*s & 0xe0) == 0xc0)
		return 2;
	if ((*s & 0xf0) == 0xe0)
		return 3;
	return 4;
}

static size_t b64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

/*
 * The longest run of whole characters from s (at most len bytes) whose
 * encoded word fits in room columns; its ISO-2022-JP form in jis when
 * charset is ISO-2022-JP. 0 when not even one character fits; -1 when a
 * character cannot be written in ISO-2022-JP.
 */
static long word_fit(const char *s, size_t len, int jis, size_t room, struct strbuf *jisbuf)
{
	size_t take = 0, overhead = jis ? 18 : 12;

	strbuf_reset(jisbuf);
	while (take < len) {
		size_t n = take + utf8_char_len((const unsigned char *)s + take);
		size_t bytes = n;

		if (n > len)
			n = len;
		if (jis) {
			struct strbuf tmp = STRBUF_INIT;

			if (text_to_iso2022jp(s, n, &tmp) < 0) {
				strbuf_release(&tmp);
				return -1;
			}
			bytes = tmp.len;
			if (overhead + b64_len(bytes) > room) {
				strbuf_release(&tmp);
				break;
			}
			strbuf_reset(jisbuf);
			strbuf_addbuf(jisbuf, &tmp);
			strbuf_release(&tmp);
		} else if (overhead + b64_len(bytes) > room) {
			break;
		}
		take = n;
	}
	return (long)take;
}

int mail_encode_header(const char *value, const char *charset, size_t used,
		       struct strbuf *out)
{
	struct strbuf jisbuf = STRBUF_INIT, tmp = STRBUF_INIT;
	size_t len, pos = 0, col = used, oldlen = out->len;
	int jis;

	if (!value || !mail_header_safe(value) || !charset)
		return -1;
	if (!strcasecmp(charset, "UTF-8"))
		jis = 0;
	else if (!strcasecmp(charset, "ISO-2022-JP"))
		jis = 1;
	else
		return -1;
	len = strlen(value);
	if (!text_is_utf8(value, len))
		return -1;
	if (is_printable_ascii(value) && !strstr(value, "=?") && used + len <= 76) {
		strbuf_addstr(out, value);
		return 0;
	}
	while (pos < len) {
		size_t room = 76 - (col < 76 ? col : 76);
		long take = word_fit(value + pos, len - pos, jis, room > 75 ? 75 : room, &jisbuf);

		if (take < 0)
			goto fail;
		if (!take) {
			if (col <= 1)   /* cannot happen: one character always fits a line */
				goto fail;
			strbuf_addstr(out, "\r\n ");
			col = 1;
			continue;
		}
		strbuf_addstr(out, jis ? "=?ISO-2022-JP?B?" : "=?UTF-8?B?");
		strbuf_reset(&tmp);
		if (jis)
			base64_encode(jisbuf.buf, jisbuf.len, 0, &tmp);
		else
			base64_encode(value + pos, take, 0, &tmp);
		strbuf_addbuf(out, &tmp);
		strbuf_addstr(out, "?=");
		pos += take;
		if (pos < len) {
			strbuf_addstr(out, "\r\n ");
			col = 1;
		}
	}
	strbuf_release(&jisbuf);
	strbuf_release(&tmp);
	return 0;
fail:
	strbuf_setlen(out, oldlen);
	strbuf_release(&jisbuf);
	strbuf_release(&tmp);
	return -1;
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

/* ---------------------------------------------------------------- composing */

static void add_random_hex(struct strbuf *out, size_t bytes)
{
	unsigned char r[32];
	size_t got = 0;

	if (bytes > sizeof(r))
		bytes = sizeof(r);
	while (got < bytes) {
		ssize_t n = getrandom(r + got, bytes - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			msg_fatal("cannot read random bytes: %s", strerror(errno));
		}
		got += n;
	}
	strbuf_add_hex(out, r, bytes);
}

static void add_date(struct strbuf *out, time_t t)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t jst = t + 9 * 3600;
	struct tm tm;

	gmtime_r(&jst, &tm);
	strbuf_addf(out, "%s, %d %s %04d %02d:%02d:%02d +0900", days[tm.tm_wday], tm.tm_mday,
		    months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* A message id (no <>, no white space) or an address (no <>, no white space). */
static int is_token(const char *s)
{
	if (!s || !*s || !is_printable_ascii(s))
		return 0;
	return !strpbrk(s, " <>\"(),;\\");
}

/* Phrase specials (RFC 5322): a display name holding one must be quoted. */
static int needs_quotes(const char *s)
{
	return strpbrk(s, "()<>[]:;@\\,.\"") != NULL;
}

static int header_check(const struct mail_out *h, struct strbuf *why)
{
	const char *refs;

	if (!mail_header_safe(h->from_address) || !is_token(h->from_address) ||
	    !strchr(h->from_address, '@'))
		return strbuf_fail(why, "bad From address '%s'", h->from_address ? h->from_address : "");
	if (h->from_name && !mail_header_safe(h->from_name))
		return strbuf_fail(why, "the sender name holds a line break");
	if (!h->to || !*h->to || !mail_header_safe(h->to) || !is_printable_ascii(h->to))
		return strbuf_fail(why, "bad To value");
	if (h->subject && !mail_header_safe(h->subject))
		return strbuf_fail(why, "the subject holds a line break");
	if (h->message_id && (!mail_header_safe(h->message_id) || !is_token(h->message_id)))
		return strbuf_fail(why, "bad Message-ID");
	if (h->in_reply_to && (!mail_header_safe(h->in_reply_to) || !is_token(h->in_reply_to)))
		return strbuf_fail(why, "bad In-Reply-To");
	refs = h->references;
	if (refs && (!mail_header_safe(refs) || !*refs || !is_printable_ascii(refs) ||
		     strpbrk(refs, "<>\"(),;\\")))
		return strbuf_fail(why, "bad References");
	return 0;
}

static void add_id_list(struct strbuf *out, const char *s)
{
	int first = 1;

	while (*s) {
		size_t n;

		while (*s == ' ' || *s == '\t')
			s++;
		n = strcspn(s, " \t");
		if (!n)
			break;
		strbuf_addf(out, "%s<%.*s>", first ? "" : "\r\n ", (int)n, s);
		first = 0;
		s += n;
	}
}

/*
 * The header block from From to MIME-Version, then the given Content-Type
 * (and Content-Transfer-Encoding when cte is not NULL), Auto-Submitted,
 * and the empty line.
 */
static int add_headers(const struct mail_out *h, const char *ctype, const char *cte,
		       struct strbuf *out, struct strbuf *msgid, struct strbuf *why)
{
	const char *cs = h->iso2022jp ? "ISO-2022-JP" : "UTF-8";
	struct strbuf id = STRBUF_INIT;
	size_t oldlen = out->len;

	if (header_check(h, why))
		return -1;
	strbuf_addstr(out, "From: ");
	if (h->from_name && *h->from_name) {
		if (is_printable_ascii(h->from_name) && !strstr(h->from_name, "=?") &&
		    !needs_quotes(h->from_name)) {
			strbuf_addstr(out, h->from_name);
		} else if (is_printable_ascii(h->from_name) && !strstr(h->from_name, "=?")) {
			const char *p;

			strbuf_addch(out, '"');
			for (p = h->from_name; *p; p++) {
				if (*p == '"' || *p == '\\')
					strbuf_addch(out, '\\');
				strbuf_addch(out, *p);
			}
			strbuf_addch(out, '"');
		} else if (mail_encode_header(h->from_name, cs, 6, out) < 0) {
			strbuf_setlen(out, oldlen);
			return strbuf_fail(why, "the sender name cannot be written in %s", cs);
		}
		strbuf_addf(out, " <%s>\r\n", h->from_address);
	} else {
		strbuf_addf(out, "%s\r\n", h->from_address);
	}
	strbuf_addf(out, "To: %s\r\n", h->to);
	strbuf_addstr(out, "Subject: ");
	if (mail_encode_header(h->subject ? h->subject : "", cs, 9, out) < 0) {
		strbuf_setlen(out, oldlen);
		return strbuf_fail(why, "the subject cannot be written in %s", cs);
	}
	strbuf_addstr(out, "\r\nDate: ");
	add_date(out, h->date ? h->date : clock_now());
	if (h->message_id) {
		strbuf_addstr(&id, h->message_id);
	} else {
		strbuf_addf(&id, "%lld.", (long long)clock_now());
		add_random_hex(&id, 8);
		strbuf_addf(&id, "@%s", strchr(h->from_address, '@') + 1);
	}
	strbuf_addf(out, "\r\nMessage-ID: <%s>\r\n", id.buf);
	if (h->in_reply_to)
		strbuf_addf(out, "In-Reply-To: <%s>\r\n", h->in_reply_to);
	if (h->references) {
		strbuf_addstr(out, "References: ");
		add_id_list(out, h->references);
		strbuf_addstr(out, "\r\n");
	}
	strbuf_addf(out, "MIME-Version: 1.0\r\nContent-Type: %s\r\n", ctype);
	if (cte)
		strbuf_addf(out, "Content-Transfer-Encoding: %s\r\n", cte);
	if (h->auto_submitted)
		strbuf_addstr(out, "Auto-Submitted: auto-generated\r\n");
	strbuf_addstr(out, "\r\n");
	if (msgid)
		strbuf_addbuf(msgid, &id);
	strbuf_release(&id);
	return 0;
}

/* Body with every line end made CRLF (lone CR dropped), ending in CRLF. */
static void body_crlf(const char *s, size_t len, struct strbuf *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r')
			continue;
		if (s[i] == '\n')
			strbuf_addch(out, '\r');
		strbuf_addch(out, s[i]);
	}
	if (len && out->len && out->buf[out->len - 1] != '\n')
		strbuf_addstr(out, "\r\n");
}

static size_t longest_line(const struct strbuf *sb)
{
	size_t i, start = 0, max = 0;

	for (i = 0; i <= sb->len; i++) {
		if (i == sb->len || sb->buf[i] == '\n') {
			size_t n = i - start;

			if (n && sb->buf[i - 1] == '\r')
				n--;
			if (n > max)
				max = n;
			start = i + 1;
		}
	}
	return max;
}

int mail_compose_text(const struct mail_out *h, const char *body, struct strbuf *out,
		      struct strbuf *msgid, struct strbuf *why)
{
	struct strbuf text = STRBUF_INIT, crlf = STRBUF_INIT, b64 = STRBUF_INIT;
	size_t oldlen = out->len, len = body ? strlen(body) : 0;
	const char *cte;
	int ret = -1;

	if (!body || !text_is_utf8(body, len)) {
		strbuf_fail(why, "the body is not UTF-8");
		goto done;
	}
	if (h->iso2022jp) {
		if (text_to_iso2022jp(body, len, &text) < 0) {
			strbuf_fail(why, "the body cannot be written in ISO-2022-JP");
			goto done;
		}
	} else {
		strbuf_add(&text, body, len);
	}
	body_crlf(text.buf, text.len, &crlf);
	cte = h->iso2022jp ? "7bit" : "8bit";
	if (longest_line(&crlf) > LINE_MAX_OCTETS) {
		cte = "base64";
		base64_encode(crlf.buf, crlf.len, 1, &b64);
		strbuf_addstr(&b64, "\r\n");
		strbuf_reset(&crlf);
		strbuf_addbuf(&crlf, &b64);
	}
	if (add_headers(h, h->iso2022jp ? "text/plain; charset=ISO-2022-JP" :
			"text/plain; charset=UTF-8", cte, out, msgid, why))
		goto done;
	strbuf_addbuf(out, &crlf);
	ret = 0;
done:
	if (ret)
		strbuf_setlen(out, oldlen);
	strbuf_release(&text);
	strbuf_release(&crlf);
	strbuf_release(&b64);
	return ret;
}

/*
 * Quoted-printable (RFC 2045 §6.7) with CRLF line ends, lines of at most
 * 76 characters; "From " at a line start, trailing white space and every
 * non-ASCII byte encoded, so no transport can alter what was signed.
 */
static void qp_encode(const char *s, size_t len, struct strbuf *out)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - s) : len, le = end, col = 0, k;

		if (le > i && s[le - 1] == '\r')
			le--;
		for (k = i; k < le; k++) {
			unsigned char c = s[k];
			int enc = c == '=' || c > 126 || (c < 32 && c != '\t') ||
				  ((c == ' ' || c == '\t') && k + 1 == le) ||
				  (col == 0 && (c == '.' || (c == 'F' && le - k >= 5 &&
							     !memcmp(s + k, "From ", 5))));
			size_t w = enc ? 3 : 1;

			if (col + w > 75) {
				strbuf_addstr(out, "=\r\n");
				col = 0;
				if (c == '.' || (c == 'F' && le - k >= 5 && !memcmp(s + k, "From ", 5)))
					enc = 1, w = 3;
			}
			if (enc)
				strbuf_addf(out, "=%02X", c);
			else
				strbuf_addch(out, c);
			col += w;
		}
		strbuf_addstr(out, "\r\n");
		i = end + 1;
	}
}

static unsigned long crc24(const unsigned char *p, size_t len)
{
	unsigned long crc = 0xB704CEUL;
	int i;

	while (len--) {
		crc ^= (unsigned long)*p++ << 16;
		for (i = 0; i < 8; i++) {
			crc <<= 1;
			if (crc & 0x1000000UL)
				crc ^= 0x1864CFBUL;
		}
	}
	return crc & 0xFFFFFFUL;
}

/* OpenPGP ASCII armour (RFC 4880 §6.2) of a binary message, CRLF lines. */
static void armor(const struct strbuf *bin, struct strbuf *out)
{
	unsigned long crc = crc24((const unsigned char *)bin->buf, bin->len);
	unsigned char c[3] = { (crc >> 16) & 0xff, (crc >> 8) & 0xff, crc & 0xff };

	strbuf_addstr(out, "-----BEGIN PGP MESSAGE-----\r\n\r\n");
	base64_encode(bin->buf, bin->len, 1, out);
	strbuf_addstr(out, "\r\n=");
	base64_encode(c, 3, 0, out);
	strbuf_addstr(out, "\r\n-----END PGP MESSAGE-----\r\n");
}

static void new_boundary(struct strbuf *b)
{
	/* "=_" never occurs in quoted-printable, base64 or armour. */
	strbuf_addstr(b, "=_mimamori_");
	add_random_hex(b, 12);
}

int mail_compose_pgp(const struct mail_out *h, const char *body, const char *signer_fpr,
		     const char *const *encrypt_to, struct strbuf *out, struct strbuf *msgid,
		     struct strbuf *why)
{
	struct strbuf entity = STRBUF_INIT, sig = STRBUF_INIT, ctype = STRBUF_INIT;
	struct strbuf mp = STRBUF_INIT, bin = STRBUF_INIT, b = STRBUF_INIT;
	struct mail_out plain = *h;
	size_t oldlen = out->len;
	const char *hash;
	int ret = -1;

	plain.iso2022jp = 0;
	if (!body || !text_is_utf8(body, strlen(body))) {
		strbuf_fail(why, "the body is not UTF-8");
		goto done;
	}
	if (header_check(&plain, why))
		goto done;
	strbuf_addstr(&entity, "Content-Type: text/plain; charset=UTF-8\r\n"
		      "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	qp_encode(body, strlen(body), &entity);
	if (gpg_sign_detached(signer_fpr, entity.buf, entity.len, &sig, why))
		goto done;
	hash = gpg_last_sign_hash();
	new_boundary(&b);
	strbuf_addf(&ctype, "multipart/signed; micalg=pgp-%s;\r\n"
		    " protocol=\"application/pgp-signature\";\r\n boundary=\"%s\"",
		    hash ? hash : "sha256", b.buf);
	strbuf_addf(&mp, "This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n"
		    "--%s\r\n", b.buf);
	strbuf_addbuf(&mp, &entity);
	strbuf_addf(&mp, "\r\n--%s\r\n"
		    "Content-Type: application/pgp-signature; name=\"signature.asc\"\r\n"
		    "Content-Description: OpenPGP digital signature\r\n"
		    "Content-Disposition: attachment; filename=\"signature.asc\"\r\n\r\n",
		    b.buf);
	add_crlf(&mp, sig.buf, sig.len);
	if (!sig.len || sig.buf[sig.len - 1] != '\n')
		strbuf_addstr(&mp, "\r\n");
	strbuf_addf(&mp, "\r\n--%s--\r\n", b.buf);

	if (encrypt_to) {
		struct strbuf inner = STRBUF_INIT;

		strbuf_addf(&inner, "Content-Type: %s\r\n\r\n", ctype.buf);
		strbuf_addbuf(&inner, &mp);
		ret = gpg_encrypt(encrypt_to, NULL, inner.buf, inner.len, &bin, why);
		strbuf_release(&inner);
		if (ret)
			goto done;
		ret = -1;
		strbuf_reset(&b);
		new_boundary(&b);
		strbuf_reset(&ctype);
		strbuf_addf(&ctype, "multipart/encrypted;\r\n"
			    " protocol=\"application/pgp-encrypted\";\r\n boundary=\"%s\"", b.buf);
		strbuf_reset(&mp);
		strbuf_addf(&mp, "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n"
			    "--%s\r\n"
			    "Content-Type: application/pgp-encrypted\r\n"
			    "Content-Description: PGP/MIME version identification\r\n\r\n"
			    "Version: 1\r\n\r\n"
			    "--%s\r\n"
			    "Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n"
			    "Content-Description: OpenPGP encrypted message\r\n"
			    "Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n",
			    b.buf, b.buf);
		armor(&bin, &mp);
		strbuf_addf(&mp, "\r\n--%s--\r\n", b.buf);
	}
	if (add_headers(&plain, ctype.buf, NULL, out, msgid, why))
		goto done;
	strbuf_addbuf(out, &mp);
	ret = 0;
done:
	if (ret)
		strbuf_setlen(out, oldlen);
	strbuf_release(&entity);
	strbuf_release(&sig);
	strbuf_release(&ctype);
	strbuf_release(&mp);
	strbuf_release(&bin);
	strbuf_release(&b);
	return ret;
}
