/*
 * mail_compose - every mail the program sends (alerts, replies, request
 * mail), plain, plain with one attachment (multipart/mixed: the photo
 * some lists get) or PGP/MIME (RFC 3156), composed in memory; header fields
 * encoded as RFC 2047 words (UTF-8 or ISO-2022-JP). Our own code: no
 * libetpan here. Signatures come from lib/gpg.c.
 *
 * SECURITY: the composer refuses CR, LF and NUL in every header value, so
 * no field can add a header; bodies are checked as UTF-8 before encoding.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "mail.h"
#include "gpg.h"
#include "seal.h"
#include "text.h"
#include "../util/base64.h"
#include "../util/clock.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

#define LINE_MAX_OCTETS 998

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


/* ---------------------------------------------------------------- composing */

static void add_random_hex(struct strbuf *out, size_t bytes)
{
	unsigned char r[32];

	if (bytes > sizeof(r))
		bytes = sizeof(r);
	random_nonce(r, bytes);
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
	if (h->reply_to && (!mail_header_safe(h->reply_to) || !is_token(h->reply_to) ||
			    !strchr(h->reply_to, '@')))
		return strbuf_fail(why, "bad Reply-To address");
	if (h->list_id && (!mail_header_safe(h->list_id) || !is_token(h->list_id) ||
			   !*h->list_id))
		return strbuf_fail(why, "bad List-Id");
	if (h->list_unsubscribe && (!mail_header_safe(h->list_unsubscribe) ||
				    !is_token(h->list_unsubscribe) ||
				    !strchr(h->list_unsubscribe, '@')))
		return strbuf_fail(why, "bad List-Unsubscribe address");
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
	if (h->reply_to)
		strbuf_addf(out, "Reply-To: %s\r\n", h->reply_to);
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
	if (h->list_id)
		strbuf_addf(out, "List-Id: <%s>\r\n", h->list_id);
	if (h->list_unsubscribe)
		strbuf_addf(out, "List-Unsubscribe: <mailto:%s>\r\n", h->list_unsubscribe);
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

/*
 * The text of a text/plain part: body in the charset h asks for, CRLF
 * line ends, into crlf, its transfer encoding in *cte (base64 when a
 * line is over 998 octets). 0, or -1 with why.
 */
static int text_part(const struct mail_out *h, const char *body, struct strbuf *crlf,
		     const char **cte, struct strbuf *why)
{
	struct strbuf text = STRBUF_INIT, b64 = STRBUF_INIT;
	size_t len = body ? strlen(body) : 0;
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
	body_crlf(text.buf, text.len, crlf);
	*cte = h->iso2022jp ? "7bit" : "8bit";
	if (longest_line(crlf) > LINE_MAX_OCTETS) {
		*cte = "base64";
		base64_encode(crlf->buf, crlf->len, 1, &b64);
		strbuf_addstr(&b64, "\r\n");
		strbuf_reset(crlf);
		strbuf_addbuf(crlf, &b64);
	}
	ret = 0;
done:
	strbuf_release(&text);
	strbuf_release(&b64);
	return ret;
}

static const char *text_type(const struct mail_out *h)
{
	return h->iso2022jp ? "text/plain; charset=ISO-2022-JP" : "text/plain; charset=UTF-8";
}

int mail_compose_text(const struct mail_out *h, const char *body, struct strbuf *out,
		      struct strbuf *msgid, struct strbuf *why)
{
	struct strbuf crlf = STRBUF_INIT;
	size_t oldlen = out->len;
	const char *cte = NULL;
	int ret = -1;

	if (text_part(h, body, &crlf, &cte, why) < 0)
		goto done;
	if (add_headers(h, text_type(h), cte, out, msgid, why))
		goto done;
	strbuf_addbuf(out, &crlf);
	ret = 0;
done:
	if (ret)
		strbuf_setlen(out, oldlen);
	strbuf_release(&crlf);
	return ret;
}

/* A MIME type or a file name we write ourselves: a token, no quote or slash games. */
static int attachment_ok(const struct mail_attachment *a)
{
	const char *p;

	if (!a || !a->data || !a->len || !is_token(a->type) || !strchr(a->type, '/') ||
	    !is_token(a->filename) || strpbrk(a->filename, "/:=?'"))
		return 0;
	for (p = a->filename; *p; p++)
		if (*p == '%' || *p == '*')
			return 0;
	return 1;
}

static void new_boundary(struct strbuf *b);

int mail_compose_mixed(const struct mail_out *h, const char *body,
		       const struct mail_attachment *att, struct strbuf *out,
		       struct strbuf *msgid, struct strbuf *why)
{
	struct strbuf crlf = STRBUF_INIT, b = STRBUF_INIT, ctype = STRBUF_INIT,
		      mp = STRBUF_INIT;
	size_t oldlen = out->len;
	const char *cte = NULL;
	int ret = -1;

	if (!attachment_ok(att)) {
		strbuf_fail(why, "bad attachment");
		goto done;
	}
	if (text_part(h, body, &crlf, &cte, why) < 0)
		goto done;
	new_boundary(&b);
	strbuf_addf(&ctype, "multipart/mixed;\r\n boundary=\"%s\"", b.buf);
	strbuf_addf(&mp, "This is a multi-part message in MIME format.\r\n"
		    "--%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: %s\r\n\r\n",
		    b.buf, text_type(h), cte);
	strbuf_addbuf(&mp, &crlf);
	/* The line break before a boundary is the boundary's (RFC 2046 §5.1.1). */
	strbuf_addf(&mp, "\r\n--%s\r\nContent-Type: %s; name=\"%s\"\r\n"
		    "Content-Transfer-Encoding: base64\r\n"
		    "Content-Disposition: attachment; filename=\"%s\"\r\n\r\n",
		    b.buf, att->type, att->filename, att->filename);
	base64_encode(att->data, att->len, 1, &mp);
	strbuf_addf(&mp, "\r\n--%s--\r\n", b.buf);
	if (add_headers(h, ctype.buf, NULL, out, msgid, why))
		goto done;
	strbuf_addbuf(out, &mp);
	ret = 0;
done:
	if (ret)
		strbuf_setlen(out, oldlen);
	strbuf_release(&crlf);
	strbuf_release(&b);
	strbuf_release(&ctype);
	strbuf_release(&mp);
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
	strbuf_add_crlf(&mp, sig.buf, sig.len);
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
