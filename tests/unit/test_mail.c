/*
 * test_mail - lib/mail.c: RFC 2047 words at every split point, ISO-2022-JP,
 * header injection, the composed headers, PGP/MIME signed and encrypted
 * mails round-tripped through the real gpg (and one made by python3's
 * email package and gpg itself), tampering, malformed structures, the
 * caps on header sections (size, nesting), and every transfer encoding
 * and charset of a request's text part.
 */
#include <time.h>
#include "unit.h"
#include "lib/gpg.h"
#include "lib/mail.h"
#include "lib/text.h"
#include "util/base64.h"
#include "util/strbuf.h"

static char home[PATH_MAX];

static const char jp[] =
	"見守り高齢者安心登録事業のお知らせ、行方不明者の情報提供をお願いします。"
	"紺色のジャンパー、灰色のズボンＡＢＣ😀を着用";

static const char request[] =
	"request-id: 2026-11-21-0001\n"
	"sent: 2026-11-21T09:40:00+09:00\n"
	"type: alert\n"
	"status: exercise\n"
	"clothing: 紺色のジャンパー、灰色のズボン\n"
	"notes: trailing space \n"
	"From the station = east exit\n"
	".\n"
	"long: 0123456789012345678901234567890123456789012345678901234567890123456789"
	"0123456789012345678901234567890123456789\n";

static int use_home(void)
{
	struct strbuf why = STRBUF_INIT;
	char cwd[PATH_MAX - 64];
	int ret;

	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	snprintf(home, sizeof(home), "%s/gnupg", cwd);
	mkdir(home, 0700);
	ret = gpg_init(home, &why);
	if (ret)
		fprintf(stderr, "  gpg_init: %s\n", why.buf);
	strbuf_release(&why);
	return ret;
}

static void done(void)
{
	char cmd[PATH_MAX + 64];

	gpg_release();
	snprintf(cmd, sizeof(cmd), "gpgconf --homedir '%s' --kill gpg-agent", home);
	CHECK_INT(system(cmd), 0);
	home[0] = '\0';
}

static int gen(const char *uid, struct strbuf *fpr)
{
	struct strbuf why = STRBUF_INIT;
	int ret = gpg_generate_key(uid, fpr, &why);

	if (ret)
		fprintf(stderr, "  gpg_generate_key: %s\n", why.buf);
	strbuf_release(&why);
	return ret;
}

/* The first n characters of the UTF-8 string s. */
static size_t prefix(const char *s, size_t n)
{
	size_t i = 0;

	while (n-- && s[i]) {
		i++;
		while ((s[i] & 0xc0) == 0x80)
			i++;
	}
	return i;
}

/*
 * Check an encoded header: every line at most 76 columns (the first
 * counting `used`), lines joined by CRLF + space, and every encoded word
 * alone a whole text in its charset (UTF-8 valid; ISO-2022-JP starting
 * and ending in ASCII). Returns the number of words.
 */
static int check_words(const char *enc, size_t used, const char *charset)
{
	const char *p = enc;
	size_t col = used;
	int words = 0;
	char pre[32];

	snprintf(pre, sizeof(pre), "=?%s?B?", charset);
	while (*p) {
		const char *e = strstr(p, "\r\n");
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *q = p;

		if (col + n > 76) {
			fprintf(stderr, "  line of %zu columns: '%.*s'\n", col + n, (int)n, p);
			unit_failed = 1;
		}
		while (q < p + n) {
			struct strbuf raw = STRBUF_INIT;
			const char *end;

			while (*q == ' ')
				q++;
			if (strncmp(q, pre, strlen(pre)))
				break;
			q += strlen(pre);
			end = strstr(q, "?=");
			CHECK(end && end <= p + n);
			if (!end)
				break;
			CHECK(!base64_decode(q, end - q, 1024, &raw));
			if (!strcmp(charset, "UTF-8")) {
				CHECK(text_is_utf8(raw.buf, raw.len));
			} else {
				CHECK(raw.len >= 6 && !memcmp(raw.buf + raw.len - 3, "\033(B", 3));
				CHECK(raw.buf[0] == '\033' || (unsigned char)raw.buf[0] < 0x80);
			}
			strbuf_release(&raw);
			words++;
			q = end + 2;
		}
		if (!e)
			break;
		CHECK_INT(e[2], ' ');
		p = e + 2;
		col = 0;
	}
	return words;
}

TEST(rfc2047_every_length)
{
	static const size_t useds[] = { 0, 6, 9, 40, 70 };
	struct strbuf in = STRBUF_INIT, enc = STRBUF_INIT, dec = STRBUF_INIT;
	size_t n, u;

	for (u = 0; u < sizeof(useds) / sizeof(useds[0]); u++) {
		for (n = 1; n <= 60; n++) {
			strbuf_reset(&in);
			strbuf_add(&in, jp, prefix(jp, n));
			strbuf_reset(&enc);
			strbuf_reset(&dec);
			CHECK(!mail_encode_header(in.buf, "UTF-8", useds[u], &enc));
			CHECK(check_words(enc.buf, useds[u], "UTF-8") >= 1);
			CHECK(!mail_decode_header(enc.buf, &dec));
			CHECK_STR(dec.buf, in.buf);
		}
	}
	/* plain ASCII stays as it is; ASCII that looks encoded does not */
	strbuf_reset(&enc);
	CHECK(!mail_encode_header("R2026-000123 found", "UTF-8", 9, &enc));
	CHECK_STR(enc.buf, "R2026-000123 found");
	strbuf_reset(&enc);
	CHECK(!mail_encode_header("=?UTF-8?B?QQ==?=", "UTF-8", 9, &enc));
	strbuf_reset(&dec);
	CHECK(!mail_decode_header(enc.buf, &dec));
	CHECK_STR(dec.buf, "=?UTF-8?B?QQ==?=");
	/* a Q word and words of other charsets decode too */
	strbuf_reset(&dec);
	CHECK(!mail_decode_header("=?UTF-8?Q?caf=C3=A9_ok?= =?ISO-2022-JP?B?GyRCP0A4TRsoQg==?=",
				  &dec));
	CHECK_STR(dec.buf, "café ok神戸");
	/* not UTF-8, or a line break: refused */
	strbuf_reset(&enc);
	CHECK_INT(mail_encode_header("a\xff", "UTF-8", 9, &enc), -1);
	CHECK_INT(mail_encode_header("a\r\nBcc: x", "UTF-8", 9, &enc), -1);
	CHECK_INT(mail_encode_header("a", "KOI8-R", 9, &enc), -1);
	CHECK_INT(enc.len, 0);
	strbuf_release(&in);
	strbuf_release(&enc);
	strbuf_release(&dec);
}

TEST(iso2022jp_subject_and_body)
{
	static const char subj[] = "【訓練】行方不明者の情報提供のお願い（中央区・灘区）本日午前七時ごろから";
	struct mail_out h = { 0 };
	struct mail_content c;
	struct strbuf enc = STRBUF_INIT, dec = STRBUF_INIT, out = STRBUF_INIT, why = STRBUF_INIT;
	size_t n, i;

	for (n = 1; n <= 36; n++) {
		struct strbuf in = STRBUF_INIT;

		strbuf_add(&in, subj, prefix(subj, n));
		strbuf_reset(&enc);
		strbuf_reset(&dec);
		CHECK(!mail_encode_header(in.buf, "ISO-2022-JP", 9, &enc));
		CHECK(check_words(enc.buf, 9, "ISO-2022-JP") >= 1);
		CHECK(!mail_decode_header(enc.buf, &dec));
		CHECK_STR(dec.buf, in.buf);
		strbuf_release(&in);
	}
	/* what JIS X 0208 cannot carry is refused */
	strbuf_reset(&enc);
	CHECK_INT(mail_encode_header("絵文字😀", "ISO-2022-JP", 9, &enc), -1);
	CHECK_INT(enc.len, 0);

	h.from_address = "alerts@example.jp";
	h.from_name = "高齢者安心登録事業";
	h.to = "undisclosed-recipients:;";
	h.subject = subj;
	h.iso2022jp = 1;
	h.date = 1795221600;  /* 2026-11-21T09:40:00+09:00 */
	h.message_id = "1.abc@example.jp";
	CHECK(!mail_compose_text(&h, "行方不明者の情報です。\n紺色のジャンパー\n", &out, NULL, &why));
	CHECK_CONTAINS(out.buf, "Content-Type: text/plain; charset=ISO-2022-JP\r\n");
	CHECK_CONTAINS(out.buf, "Content-Transfer-Encoding: 7bit\r\n");
	CHECK_CONTAINS(out.buf, "From: =?ISO-2022-JP?B?");
	for (i = 0; i < out.len; i++)
		CHECK((unsigned char)out.buf[i] < 0x80);
	mail_content_init(&c);
	CHECK(!mail_entity_content(out.buf, out.len, &c, &why));
	CHECK_STR(c.texts[0].text.buf, "行方不明者の情報です。\n紺色のジャンパー\n");
	mail_content_release(&c);
	/* a body it cannot carry: -1, nothing written */
	strbuf_reset(&out);
	CHECK_INT(mail_compose_text(&h, "😀\n", &out, NULL, &why), -1);
	CHECK_INT(out.len, 0);
	CHECK_CONTAINS(why.buf, "ISO-2022-JP");
	strbuf_release(&enc);
	strbuf_release(&dec);
	strbuf_release(&out);
	strbuf_release(&why);
}

TEST(compose_text_headers)
{
	struct mail_out h = { 0 };
	struct strbuf out = STRBUF_INIT, why = STRBUF_INIT, id = STRBUF_INIT;
	struct mail_in m;
	const char *order[] = { "From: ", "To: ", "Subject: ", "Date: ", "Message-ID: ",
				"In-Reply-To: ", "References: ", "MIME-Version: 1.0",
				"Content-Type: text/plain; charset=UTF-8",
				"Content-Transfer-Encoding: 8bit", "Auto-Submitted: auto-generated",
				NULL };
	const char *p, *last = NULL;
	size_t i;

	h.from_address = "alerts@example.jp";
	h.from_name = "高齢者安心登録事業";
	h.to = "alert@example.jp";
	h.subject = "【訓練】行方不明者の情報提供のお願い";
	h.in_reply_to = "1795221000.00ff@example.jp";
	h.references = "1795221000.00ff@example.jp 2.x@example.jp";
	h.date = 1795221600;
	h.auto_submitted = 1;
	CHECK(!mail_compose_text(&h, "本文\nline 2", &out, &id, &why));
	last = out.buf;
	for (i = 0; order[i]; i++) {
		char needle[128];

		snprintf(needle, sizeof(needle), "\n%s", order[i]);
		p = i ? strstr(out.buf, needle) : (strncmp(out.buf, order[0], 6) ? NULL : out.buf);
		CHECK(p && p >= last);
		if (p)
			last = p;
	}
	CHECK_CONTAINS(out.buf, "\r\nDate: Sat, 21 Nov 2026 09:40:00 +0900\r\n");
	CHECK_CONTAINS(out.buf, "\r\nIn-Reply-To: <1795221000.00ff@example.jp>\r\n");
	CHECK_CONTAINS(out.buf, "\r\nReferences: <1795221000.00ff@example.jp>\r\n <2.x@example.jp>\r\n");
	CHECK_CONTAINS(out.buf, "\r\n\r\n本文\r\nline 2\r\n");
	/* a fresh id: <UNIXTIME.RANDOMHEX@domain> */
	CHECK(strlen(id.buf) > 20 && strstr(id.buf, "@example.jp") &&
	      strspn(id.buf, "0123456789") >= 10 && id.buf[strspn(id.buf, "0123456789")] == '.');
	{
		char needle[200];

		snprintf(needle, sizeof(needle), "\r\nMessage-ID: <%s>\r\n", id.buf);
		CHECK_CONTAINS(out.buf, needle);
	}
	for (i = 0; i < out.len; i++)
		CHECK(out.buf[i] != '\n' || (i && out.buf[i - 1] == '\r'));
	/* what the parser makes of it */
	CHECK(!mail_parse(out.buf, out.len, &m, &why));
	CHECK_INT(m.kind, MAIL_PLAIN);
	CHECK_STR(m.subject, h.subject);
	CHECK_STR(m.from, "alerts@example.jp");
	CHECK_STR(m.message_id, id.buf);
	mail_in_release(&m);

	/* two mails, two ids */
	{
		struct strbuf id2 = STRBUF_INIT, out2 = STRBUF_INIT;

		CHECK(!mail_compose_text(&h, "x", &out2, &id2, &why));
		CHECK(strcmp(id.buf, id2.buf));
		strbuf_release(&id2);
		strbuf_release(&out2);
	}
	/* a line over 998 octets: base64 */
	{
		struct strbuf body = STRBUF_INIT, out2 = STRBUF_INIT;
		struct mail_content c;

		for (i = 0; i < 400; i++)
			strbuf_addstr(&body, "あ");
		strbuf_addch(&body, '\n');
		CHECK(!mail_compose_text(&h, body.buf, &out2, NULL, &why));
		CHECK_CONTAINS(out2.buf, "Content-Transfer-Encoding: base64\r\n");
		mail_content_init(&c);
		CHECK(!mail_entity_content(out2.buf, out2.len, &c, &why));
		CHECK_STR(c.texts[0].text.buf, body.buf);
		mail_content_release(&c);
		strbuf_release(&body);
		strbuf_release(&out2);
	}
	strbuf_release(&out);
	strbuf_release(&why);
	strbuf_release(&id);
}

TEST(header_injection_refused)
{
	static const char *const bad[] = { "x\r\nBcc: victim@example.jp", "x\nBcc: v@example.jp",
					   "x\rBcc: v@example.jp", "\n" };
	struct strbuf out = STRBUF_INIT, why = STRBUF_INIT;
	size_t i, f;

	CHECK(mail_header_safe("ok value 見守り"));
	CHECK(!mail_header_safe("a\rb"));
	CHECK(!mail_header_safe("a\nb"));
	CHECK(!mail_header_safe(NULL));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (f = 0; f < 7; f++) {
			struct mail_out h = { 0 };

			h.from_address = "alerts@example.jp";
			h.from_name = "sender";
			h.to = "undisclosed-recipients:;";
			h.subject = "subject";
			h.message_id = "1.2@example.jp";
			h.in_reply_to = "0.1@example.jp";
			h.references = "0.1@example.jp";
			switch (f) {
			case 0: h.subject = bad[i]; break;
			case 1: h.to = bad[i]; break;
			case 2: h.from_name = bad[i]; break;
			case 3: h.message_id = bad[i]; break;
			case 4: h.from_address = bad[i]; break;
			case 5: h.in_reply_to = bad[i]; break;
			case 6: h.references = bad[i]; break;
			}
			strbuf_reset(&out);
			strbuf_reset(&why);
			CHECK_INT(mail_compose_text(&h, "body\n", &out, NULL, &why), -1);
			CHECK(out.len == 0 && why.len > 0);
			CHECK(mail_compose_pgp(&h, "body\n", "0123456789ABCDEF0123456789ABCDEF01234567",
					       NULL, &out, NULL, &why) == -1);
			CHECK_INT(out.len, 0);
		}
	}
	/* NUL: a C string ends there, so "a\0Bcc" is just "a" (nothing follows) */
	strbuf_release(&out);
	strbuf_release(&why);
}

static void check_good_sig(const struct mail_in *m, const char *fpr)
{
	struct strbuf why = STRBUF_INIT;
	struct gpg_sigs sigs;

	memset(&sigs, 0, sizeof(sigs));
	CHECK(!gpg_verify_detached(m->signed_part.buf, m->signed_part.len, m->signature.buf,
				   m->signature.len, &sigs, &why));
	CHECK_INT(sigs.nr, 1);
	if (sigs.nr == 1) {
		CHECK(sigs.sig[0].valid);
		CHECK_STR(sigs.sig[0].primary_fpr, fpr);
	}
	gpg_sigs_release(&sigs);
	strbuf_release(&why);
}

static int sig_bad(const struct mail_in *m)
{
	struct strbuf why = STRBUF_INIT;
	struct gpg_sigs sigs;
	int bad;

	memset(&sigs, 0, sizeof(sigs));
	bad = gpg_verify_detached(m->signed_part.buf, m->signed_part.len, m->signature.buf,
				  m->signature.len, &sigs, &why) < 0 ||
	      sigs.nr != 1 || !sigs.sig[0].valid;
	gpg_sigs_release(&sigs);
	strbuf_release(&why);
	return bad;
}

static void compose_signed(const char *signer, const char *const *to, struct strbuf *out)
{
	struct mail_out h = { 0 };
	struct strbuf why = STRBUF_INIT;

	h.from_address = "ops@vendor.example.jp";
	h.from_name = "運用担当";
	h.to = "requests@example.jp";
	h.subject = "【訓練】request 2026-11-21-0001";
	if (mail_compose_pgp(&h, request, signer, to, out, NULL, &why)) {
		fprintf(stderr, "  mail_compose_pgp: %s\n", why.buf);
		unit_failed = 1;
	}
	strbuf_release(&why);
}

/* s with every CRLF made LF (a mail as a Unix MTA stores it). */
static void to_lf(const struct strbuf *s, struct strbuf *out)
{
	size_t i;

	for (i = 0; i < s->len; i++)
		if (!(s->buf[i] == '\r' && i + 1 < s->len && s->buf[i + 1] == '\n'))
			strbuf_addch(out, s->buf[i]);
}

TEST(pgp_signed_round_trip)
{
	struct strbuf fpr = STRBUF_INIT, mail = STRBUF_INIT, why = STRBUF_INIT, lf = STRBUF_INIT;
	struct mail_in m, m2;
	struct mail_content c;

	CHECK(!use_home());
	CHECK(!gen("Operator <ops@vendor.example.jp>", &fpr));
	compose_signed(fpr.buf, NULL, &mail);
	CHECK_CONTAINS(mail.buf, "Content-Type: multipart/signed; micalg=pgp-sha");
	CHECK_CONTAINS(mail.buf, "protocol=\"application/pgp-signature\"");
	CHECK(!strstr(mail.buf, "紺色"));  /* quoted-printable: 7-bit on the wire */
	CHECK(!mail_parse(mail.buf, mail.len, &m, &why));
	CHECK_INT(m.kind, MAIL_SIGNED);
	CHECK_STR(m.subject, "【訓練】request 2026-11-21-0001");
	CHECK(!strncmp(m.signed_part.buf, "Content-Type: text/plain; charset=UTF-8\r\n", 41));
	CHECK_CONTAINS(m.signature.buf, "-----BEGIN PGP SIGNATURE-----");
	check_good_sig(&m, fpr.buf);
	mail_content_init(&c);
	CHECK(!mail_entity_content(m.signed_part.buf, m.signed_part.len, &c, &why));
	CHECK_STR(c.texts[0].text.buf, request);
	CHECK_INT(c.xml.len, 0);
	mail_content_release(&c);

	/* stored with LF line ends: the same signed bytes come back */
	to_lf(&mail, &lf);
	CHECK(!mail_parse(lf.buf, lf.len, &m2, &why));
	CHECK_INT(m2.kind, MAIL_SIGNED);
	CHECK(m2.signed_part.len == m.signed_part.len &&
	      !memcmp(m2.signed_part.buf, m.signed_part.buf, m.signed_part.len));
	check_good_sig(&m2, fpr.buf);
	mail_in_release(&m2);

	/* as an MTA delivers it: trace headers on top, still the same signed bytes */
	{
		struct strbuf trace = STRBUF_INIT;

		strbuf_addstr(&trace, "Return-Path: <ops@vendor.example.jp>\r\n"
			      "Delivered-To: requests@example.jp\r\n"
			      "Received: from localhost (localhost [127.0.0.1])\r\n"
			      "\tby mx.example.jp (Postfix) with ESMTP id 4ABC\r\n"
			      "\tfor <requests@example.jp>; Sat, 21 Nov 2026 09:40:01 +0900\r\n");
		strbuf_addbuf(&trace, &mail);
		CHECK(!mail_parse(trace.buf, trace.len, &m2, &why));
		CHECK_INT(m2.kind, MAIL_SIGNED);
		CHECK_STR(m2.from, "ops@vendor.example.jp");
		check_good_sig(&m2, fpr.buf);
		mail_in_release(&m2);
		strbuf_release(&trace);
	}

	/* one byte of the signed part changed: the signature fails */
	{
		char *p = strstr(m.signed_part.buf, "alert");

		CHECK(p != NULL);
		if (p)
			*p = 'A';
		CHECK(sig_bad(&m));
	}
	/* and in the mail itself */
	{
		char *p = strstr(mail.buf, "type: alert");

		CHECK(p != NULL);
		if (p)
			p[6] = 'A';
		CHECK(!mail_parse(mail.buf, mail.len, &m2, &why));
		CHECK_INT(m2.kind, MAIL_SIGNED);
		CHECK(sig_bad(&m2));
		mail_in_release(&m2);
	}
	mail_in_release(&m);
	done();
	strbuf_release(&fpr);
	strbuf_release(&mail);
	strbuf_release(&why);
	strbuf_release(&lf);
}

TEST(pgp_encrypted_round_trip)
{
	struct strbuf op = STRBUF_INIT, node = STRBUF_INIT, mail = STRBUF_INIT;
	struct strbuf why = STRBUF_INIT, pt = STRBUF_INIT;
	struct mail_in m, inner;
	struct mail_content c;
	struct gpg_sigs sigs;
	const char *to[2];

	CHECK(!use_home());
	CHECK(!gen("Operator <ops@vendor.example.jp>", &op));
	CHECK(!gen("Council <council@example.jp>", &node));
	to[0] = node.buf;
	to[1] = NULL;
	compose_signed(op.buf, to, &mail);
	CHECK_CONTAINS(mail.buf, "Content-Type: multipart/encrypted;");
	CHECK_CONTAINS(mail.buf, "-----BEGIN PGP MESSAGE-----");
	CHECK(!strstr(mail.buf, "request-id"));
	CHECK(!mail_parse(mail.buf, mail.len, &m, &why));
	CHECK_INT(m.kind, MAIL_ENCRYPTED);
	memset(&sigs, 0, sizeof(sigs));
	CHECK(!gpg_decrypt(m.encrypted.buf, m.encrypted.len, &pt, &sigs, &why));
	CHECK(sigs.nr == 0);   /* signed inside, not by the encryption */
	CHECK(sigs.integrity_ok);
	gpg_sigs_release(&sigs);
	CHECK(!mail_parse(pt.buf, pt.len, &inner, &why));
	CHECK_INT(inner.kind, MAIL_SIGNED);
	check_good_sig(&inner, op.buf);
	mail_content_init(&c);
	CHECK(!mail_entity_content(inner.signed_part.buf, inner.signed_part.len, &c, &why));
	CHECK_STR(c.texts[0].text.buf, request);
	mail_content_release(&c);
	mail_in_release(&inner);
	mail_in_release(&m);
	done();
	strbuf_release(&op);
	strbuf_release(&node);
	strbuf_release(&mail);
	strbuf_release(&why);
	strbuf_release(&pt);
}

static const char sig_mail_head[] =
	"From: a@example.jp\r\nSubject: s\r\nMIME-Version: 1.0\r\n";

static enum mail_kind kind_of(const char *buf, size_t len, int *ret)
{
	struct strbuf why = STRBUF_INIT;
	struct mail_in m;
	enum mail_kind k;

	*ret = mail_parse(buf, len, &m, &why);
	k = m.kind;
	mail_in_release(&m);
	strbuf_release(&why);
	return k;
}

TEST(malformed_is_plain)
{
	static const char *const ctypes[] = {
		/* no boundary */
		"multipart/signed; protocol=\"application/pgp-signature\"",
		/* no protocol, wrong protocol */
		"multipart/signed; boundary=\"b\"",
		"multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=\"b\"",
		/* encrypted without protocol */
		"multipart/encrypted; boundary=\"b\"",
	};
	static const char good_parts[] =
		"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
		"--b\r\nContent-Type: application/pgp-signature\r\n\r\nSIG\r\n--b--\r\n";
	static const char *const bodies[] = {
		/* one part */
		"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n",
		/* three parts */
		"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
		"--b\r\nContent-Type: application/pgp-signature\r\n\r\nSIG\r\n"
		"--b\r\nContent-Type: text/plain\r\n\r\nmore\r\n--b--\r\n",
		/* no closing boundary (truncated) */
		"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
		"--b\r\nContent-Type: application/pgp-signature\r\n\r\nSIG\r\n",
		/* second part not a signature */
		"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
		"--b\r\nContent-Type: text/plain\r\n\r\nSIG\r\n--b--\r\n",
		/* no parts at all */
		"just text\r\n",
		"",
	};
	struct strbuf mail = STRBUF_INIT;
	size_t i, cut;
	int ret;

	/* the good one first, so the others cannot pass by accident */
	strbuf_addf(&mail, "%sContent-Type: multipart/signed; protocol=\"application/"
		    "pgp-signature\"; boundary=\"b\"\r\n\r\n%s", sig_mail_head, good_parts);
	CHECK(kind_of(mail.buf, mail.len, &ret) == MAIL_SIGNED && ret == 0);
	for (i = 0; i < sizeof(ctypes) / sizeof(ctypes[0]); i++) {
		strbuf_reset(&mail);
		strbuf_addf(&mail, "%sContent-Type: %s\r\n\r\n%s", sig_mail_head, ctypes[i],
			    good_parts);
		CHECK(kind_of(mail.buf, mail.len, &ret) == MAIL_PLAIN && ret == 0);
	}
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		strbuf_reset(&mail);
		strbuf_addf(&mail, "%sContent-Type: multipart/signed; protocol=\"application/"
			    "pgp-signature\"; boundary=\"b\"\r\n\r\n%s", sig_mail_head, bodies[i]);
		CHECK(kind_of(mail.buf, mail.len, &ret) == MAIL_PLAIN && ret == 0);
	}
	/* a raw Shift_JIS subject: still UTF-8 (undecodable bytes become '?') */
	strbuf_reset(&mail);
	strbuf_addstr(&mail, "From: a@example.jp\r\nSubject: \x88\xcb\x97\x8a x\r\n\r\nbody\r\n");
	{
		struct strbuf why = STRBUF_INIT;
		struct mail_in m;

		CHECK(!mail_parse(mail.buf, mail.len, &m, &why));
		CHECK(m.subject && text_is_utf8(m.subject, strlen(m.subject)));
		CHECK_CONTAINS(m.subject, " x");
		mail_in_release(&m);
		strbuf_release(&why);
	}
	/* cut anywhere: never signed unless whole, never a crash */
	strbuf_reset(&mail);
	strbuf_addf(&mail, "%sContent-Type: multipart/signed; protocol=\"application/"
		    "pgp-signature\"; boundary=\"b\"\r\n\r\n%s", sig_mail_head, good_parts);
	for (cut = 0; cut < mail.len - 8; cut++) {
		enum mail_kind k = kind_of(mail.buf, cut, &ret);

		CHECK(ret == 0 && k == MAIL_PLAIN);
	}
	/* garbage bytes and NULs */
	{
		char junk[4096];

		for (i = 0; i < sizeof(junk); i++)
			junk[i] = (char)(i * 7919 % 251);
		kind_of(junk, sizeof(junk), &ret);
		CHECK_INT(ret, 0);
	}
	/* too large */
	{
		char *big = calloc(1, MAIL_MAX_SIZE + 1);

		CHECK(big && kind_of(big, MAIL_MAX_SIZE + 1, &ret) == MAIL_PLAIN && ret == -1);
		free(big);
	}
	strbuf_release(&mail);
}

/* mail_header_check() of s: 0, or -1 with a reason holding want. */
static int header_check_says(const char *s, size_t len, const char *want)
{
	struct strbuf why = STRBUF_INIT;
	int ret = mail_header_check(s, len, &why);

	if (ret < 0 && (!want || !strstr(why.buf, want))) {
		fprintf(stderr, "  unexpected reason '%s'\n", why.buf);
		ret = -2;
	}
	strbuf_release(&why);
	return ret;
}

static void add_repeat(struct strbuf *sb, const char *s, size_t n)
{
	while (n--)
		strbuf_addstr(sb, s);
}

/* "X-Pad: aaa", folded every 60 bytes, of len bytes unfolded, and CRLF. */
static void padded_field(struct strbuf *h, size_t len)
{
	size_t n = strlen("X-Pad: a");

	strbuf_addstr(h, "X-Pad: a");
	for (; n < len; n++) {
		if (n % 60 == 0)
			strbuf_addstr(h, "\r\n");
		strbuf_addch(h, n % 60 == 0 ? ' ' : 'a');
	}
	strbuf_addstr(h, "\r\n");
}

TEST(header_caps)
{
	static const char deep[] = "header nested too deeply", large[] = "header too large";
	struct strbuf h = STRBUF_INIT, why = STRBUF_INIT;
	struct mail_content c;
	struct mail_in m;
	size_t i;

	/* 32 levels are read, 33 are not */
	strbuf_addstr(&h, "From: a@example.jp ");
	add_repeat(&h, "(", 32);
	add_repeat(&h, ")", 32);
	strbuf_addstr(&h, "\r\n\r\n");
	CHECK_INT(header_check_says(h.buf, h.len, NULL), 0);
	strbuf_reset(&h);
	strbuf_addstr(&h, "From: a@example.jp ");
	add_repeat(&h, "(", 33);
	strbuf_addstr(&h, "\r\n\r\n");
	CHECK_INT(header_check_says(h.buf, h.len, deep), -1);
	/* closed comments do not add up; unbalanced ')' are not credit */
	strbuf_reset(&h);
	strbuf_addstr(&h, "From: ");
	add_repeat(&h, "(x)))", 100);
	add_repeat(&h, "(", 32);
	strbuf_addstr(&h, "\r\n\r\n");
	CHECK_INT(header_check_says(h.buf, h.len, NULL), 0);
	strbuf_addstr(&h, "X: ");
	add_repeat(&h, "(", 33);
	CHECK(header_check_says(h.buf, h.len, NULL) == 0);   /* in the body */
	/* not in a quoted string, even after an escaped quote */
	strbuf_reset(&h);
	strbuf_addstr(&h, "From: \"x\\\"");
	add_repeat(&h, "(", 40);
	strbuf_addstr(&h, "\" <a@example.jp>\r\n\r\n");
	CHECK_INT(header_check_says(h.buf, h.len, NULL), 0);
	/* an escaped backslash ends the quoted string */
	strbuf_reset(&h);
	strbuf_addstr(&h, "From: \"x\\\\\"");
	add_repeat(&h, "(", 40);
	strbuf_addstr(&h, "\r\n\r\n");
	CHECK_INT(header_check_says(h.buf, h.len, deep), -1);
	/* in a comment an escaped '(' does not count, and '"' quotes nothing */
	strbuf_reset(&h);
	strbuf_addstr(&h, "From: a@example.jp (");
	add_repeat(&h, "\\(", 40);
	strbuf_addstr(&h, ")\r\n\r\n");
	CHECK_INT(header_check_says(h.buf, h.len, NULL), 0);
	strbuf_reset(&h);
	strbuf_addstr(&h, "From: a@example.jp (\"");
	add_repeat(&h, "(", 32);
	strbuf_addstr(&h, "\r\n\r\n");
	CHECK_INT(header_check_says(h.buf, h.len, deep), -1);
	/* depth is per field, and a folded line is the same field */
	strbuf_reset(&h);
	for (i = 0; i < 3; i++) {
		strbuf_addstr(&h, "Comments: ");
		add_repeat(&h, "(", 20);
		strbuf_addstr(&h, "\r\n");
	}
	CHECK_INT(header_check_says(h.buf, h.len, NULL), 0);
	strbuf_addstr(&h, " ");
	add_repeat(&h, "(", 13);
	strbuf_addstr(&h, "\r\n");
	CHECK_INT(header_check_says(h.buf, h.len, deep), -1);
	/* a field of 100 KiB is read, one byte more (unfolded) is not */
	strbuf_reset(&h);
	padded_field(&h, MAIL_MAX_FIELD);
	strbuf_addstr(&h, "Subject: x\r\n\r\n");
	CHECK_INT(header_check_says(h.buf, h.len, NULL), 0);
	strbuf_reset(&h);
	padded_field(&h, MAIL_MAX_FIELD + 1);
	strbuf_addstr(&h, "Subject: x\r\n\r\n");
	CHECK_INT(header_check_says(h.buf, h.len, large), -1);
	/* 300 KiB of 10 KiB fields is not read; 250 KiB is */
	strbuf_reset(&h);
	for (i = 0; i < 25; i++) {
		strbuf_addf(&h, "X-Pad-%02zu: ", i);
		add_repeat(&h, "a", 10 * 1024 - 11);
		strbuf_addstr(&h, "\r\n");
	}
	CHECK_INT(header_check_says(h.buf, h.len, NULL), 0);
	for (; i < 30; i++) {
		strbuf_addf(&h, "X-Pad-%02zu: ", i);
		add_repeat(&h, "a", 10 * 1024 - 11);
		strbuf_addstr(&h, "\r\n");
	}
	CHECK_INT(header_check_says(h.buf, h.len, large), -1);
	/* no empty line: all of it is header */
	CHECK_INT(header_check_says(h.buf, h.len, large), -1);

	/* mail_parse(): 104,000 levels are refused before libetpan */
	strbuf_reset(&h);
	strbuf_addstr(&h, "From: ");
	add_repeat(&h, "(", 104000);
	strbuf_addstr(&h, "\r\nSubject: x\r\n\r\nhello\r\n");
	CHECK_INT(mail_parse(h.buf, h.len, &m, &why), -1);
	CHECK_CONTAINS(why.buf, deep);
	/* ... and in the headers of a part */
	strbuf_reset(&h);
	strbuf_reset(&why);
	strbuf_addf(&h, "%sContent-Type: multipart/signed; protocol=\"application/"
		    "pgp-signature\"; boundary=\"b\"\r\n\r\n"
		    "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
		    "--b\r\nContent-Type: application/pgp-signature ", sig_mail_head);
	add_repeat(&h, "(", 40);
	strbuf_addstr(&h, "\r\n\r\nSIG\r\n--b--\r\n");
	CHECK_INT(mail_parse(h.buf, h.len, &m, &why), -1);
	CHECK_CONTAINS(why.buf, deep);
	/* mail_entity_content(): in the entity and in a part of it */
	strbuf_reset(&h);
	strbuf_reset(&why);
	strbuf_addstr(&h, "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
		      "--b\r\nContent-Type: text/plain; x=");
	add_repeat(&h, "(", 40);
	strbuf_addstr(&h, "\r\n\r\nrequest-id: 1\r\n--b--\r\n");
	mail_content_init(&c);
	CHECK_INT(mail_entity_content(h.buf, h.len, &c, &why), -1);
	CHECK_CONTAINS(why.buf, deep);
	strbuf_reset(&why);
	i = (size_t)(strstr(h.buf, "--b\r\n") + 5 - h.buf);
	CHECK_INT(mail_entity_content(h.buf + i, h.len - i, &c, &why), -1);
	CHECK_CONTAINS(why.buf, deep);
	mail_content_release(&c);
	strbuf_release(&h);
	strbuf_release(&why);
}

static int content_of(const char *path, struct mail_content *c, struct strbuf *why)
{
	struct strbuf buf = STRBUF_INIT;
	char full[PATH_MAX];
	int ret;

	snprintf(full, sizeof(full), "%s/tests/data/mail/%s", SRCDIR, path);
	if (strbuf_read_file(&buf, full, MAIL_MAX_SIZE + 1) < 0) {
		fprintf(stderr, "  cannot read %s\n", full);
		return -2;
	}
	mail_content_init(c);
	ret = mail_entity_content(buf.buf, buf.len, c, why);
	strbuf_release(&buf);
	return ret;
}

TEST(transfer_encodings_and_charsets)
{
	static const char *const files[] = { "qp-utf8.eml", "base64-utf8.eml",
					     "iso2022jp.eml", "shift-jis-base64.eml",
					     "mixed-xml.eml", "lf-8bit.eml", "flowed.eml",
					     "flowed-delsp.eml" };
	static const char want[] = "clothing: 紺色のジャンパー、灰色のズボン\n"
		"last-seen: 三宮センター街 東口付近\n";
	struct strbuf why = STRBUF_INIT;
	struct mail_content c;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		CHECK_INT(content_of(files[i], &c, &why), 0);
		CHECK_INT(c.nr_texts, 1);
		if (c.nr_texts < 1)
			continue;
		CHECK_INT(c.texts[0].flowed, !strncmp(files[i], "flowed", 6));
		mail_unflow(&c.texts[0], NULL, NULL);
		if (strcmp(c.texts[0].text.buf, want))
			fprintf(stderr, "  %s: got '%s'\n", files[i], c.texts[0].text.buf);
		CHECK_STR(c.texts[0].text.buf, want);
		if (!strcmp(files[i], "mixed-xml.eml"))
			CHECK_CONTAINS(c.xml.buf, "<request xmlns=\"urn:mimamori:1\">");
		else
			CHECK_INT(c.xml.len, 0);
		mail_content_release(&c);
	}
	/* a text part in a charset it does not hold: -1 with the reason */
	CHECK_INT(content_of("bad-utf8.eml", &c, &why), -1);
	CHECK_CONTAINS(why.buf, "UTF-8");
	CHECK_INT(c.nr_texts, 0);
	mail_content_release(&c);
	/* multiparts nested 200 deep: refused, no crash */
	{
		struct strbuf deep = STRBUF_INIT;

		for (i = 0; i < 200; i++)
			strbuf_addf(&deep, "Content-Type: multipart/mixed; boundary=\"b%zu\"\r\n\r\n"
				    "--b%zu\r\n", i, i);
		strbuf_addstr(&deep, "Content-Type: text/plain\r\n\r\nx\r\n");
		for (i = 200; i-- > 0;)
			strbuf_addf(&deep, "--b%zu--\r\n", i);
		mail_content_init(&c);
		CHECK_INT(mail_entity_content(deep.buf, deep.len, &c, &why), -1);
		CHECK_CONTAINS(why.buf, "nested");
		mail_content_release(&c);
		strbuf_release(&deep);
	}
	strbuf_release(&why);
}

/*
 * A mail made by other tools: python3's email package writes the
 * multipart/signed structure, gpg --detach-sign signs the part.
 */
TEST(interop_python_and_gpg)
{
	struct strbuf fpr = STRBUF_INIT, mail = STRBUF_INIT, why = STRBUF_INIT;
	struct mail_in m;
	struct mail_content c;
	char cmd[PATH_MAX * 3];

	CHECK(!use_home());
	CHECK(!gen("Operator <ops@vendor.example.jp>", &fpr));
	snprintf(cmd, sizeof(cmd), "GNUPGHOME='%s' python3 '%s/tests/data/mail/make-signed.py' "
		 "%s >python.eml", home, SRCDIR, fpr.buf);
	CHECK_INT(system(cmd), 0);
	CHECK_INT(strbuf_read_file(&mail, "python.eml", MAIL_MAX_SIZE), 0);
	CHECK(!mail_parse(mail.buf, mail.len, &m, &why));
	CHECK_INT(m.kind, MAIL_SIGNED);
	CHECK_STR(m.subject, "依頼 2026-11-21-0001");
	check_good_sig(&m, fpr.buf);
	mail_content_init(&c);
	CHECK(!mail_entity_content(m.signed_part.buf, m.signed_part.len, &c, &why));
	CHECK_CONTAINS(c.texts[0].text.buf, "clothing: 紺色のジャンパー\n");
	mail_content_release(&c);
	mail_in_release(&m);

	/* and ours, verified by gpg itself on the parts python3 takes apart */
	strbuf_reset(&mail);
	compose_signed(fpr.buf, NULL, &mail);
	{
		FILE *f = fopen("ours.eml", "wb");

		CHECK(f && fwrite(mail.buf, 1, mail.len, f) == mail.len);
		if (f)
			fclose(f);
	}
	snprintf(cmd, sizeof(cmd), "GNUPGHOME='%s' python3 '%s/tests/data/mail/verify-signed.py' "
		 "ours.eml %s >ours.txt 2>gpg.err", home, SRCDIR, fpr.buf);
	CHECK_INT(system(cmd), 0);
	strbuf_reset(&mail);
	CHECK_INT(strbuf_read_file(&mail, "ours.txt", MAIL_MAX_SIZE), 0);
	CHECK_STR(mail.buf, request);
	done();
	strbuf_release(&fpr);
	strbuf_release(&mail);
	strbuf_release(&why);
}

TEST(inline_pgp_is_recognised)
{
	static const char inl[] = "From: a@example.org\r\nContent-Type: text/plain\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n\r\n\r\n"
		"-----BEGIN PGP SIGNED MESSAGE-----\r\nHash: SHA256\r\n\r\ntype: alert\r\n";
	static const char plain[] = "From: a@example.org\r\n\r\ntype: alert\r\n"
		"-----BEGIN PGP SIGNED MESSAGE-----\r\n";
	struct mail_in m;
	struct strbuf why = STRBUF_INIT;

	CHECK_INT(mail_parse(inl, strlen(inl), &m, &why), 0);
	CHECK_INT(m.kind, MAIL_PLAIN);
	CHECK_INT(m.inline_pgp, 1);
	mail_in_release(&m);
	CHECK_INT(mail_parse(plain, strlen(plain), &m, &why), 0);
	CHECK_INT(m.inline_pgp, 0);
	mail_in_release(&m);
	strbuf_release(&why);
}

TEST(attachment_and_flowed_flags)
{
	static const char e[] = "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
		"--b\r\nContent-Type: text/plain; charset=UTF-8; format=flowed; delsp=yes\r\n\r\n"
		"hello \r\nworld\r\n"
		"--b\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n"
		"--b\r\nContent-Type: text/plain; name=form.txt\r\n"
		"Content-Disposition: attachment; filename=form.txt\r\n\r\ntype: alert\r\n"
		"--b--\r\n";
	struct mail_content c;
	struct strbuf why = STRBUF_INIT;

	mail_content_init(&c);
	CHECK_INT(mail_entity_content(e, strlen(e), &c, &why), 0);
	CHECK_INT(c.nr_texts, 2);
	if (c.nr_texts == 2) {
		CHECK(!c.texts[0].attachment && c.texts[0].flowed && c.texts[0].delsp);
		CHECK(c.texts[1].attachment && !c.texts[1].flowed);
		mail_unflow(&c.texts[0], NULL, NULL);
		CHECK_STR(c.texts[0].text.buf, "helloworld");
		CHECK_STR(c.texts[1].text.buf, "type: alert");
	}
	mail_content_release(&c);
	strbuf_release(&why);
}

TEST(compose_mixed_photo)
{
	static const unsigned char img[] = { 0xFF, 0xD8, 0xFF, 0xD9, 0x00, 0x80 };
	struct mail_attachment a = { "image/jpeg", "photo.jpg", img, sizeof(img) };
	struct mail_attachment bad = a;
	struct mail_out h = { 0 };
	struct strbuf out = STRBUF_INIT, why = STRBUF_INIT;
	struct mail_content c;

	h.from_address = "alerts@example.jp";
	h.to = "alert@example.jp";
	h.subject = "行方不明者の情報提供のお願い";
	h.date = 1795221600;
	h.message_id = "1.abc@example.jp";
	h.iso2022jp = 1;
	CHECK(!mail_compose_mixed(&h, "本文です。\n二行目\n", &a, &out, NULL, &why));
	CHECK_CONTAINS(out.buf, "\r\nContent-Type: multipart/mixed;\r\n boundary=\"=_mimamori_");
	CHECK_CONTAINS(out.buf, "Content-Type: text/plain; charset=ISO-2022-JP\r\n"
		       "Content-Transfer-Encoding: 7bit\r\n\r\n");
	CHECK_CONTAINS(out.buf, "Content-Type: image/jpeg; name=\"photo.jpg\"\r\n"
		       "Content-Transfer-Encoding: base64\r\n"
		       "Content-Disposition: attachment; filename=\"photo.jpg\"\r\n\r\n"
		       "/9j/2QCA\r\n--");
	/* the text part keeps its last line break before the boundary */
	CHECK_CONTAINS(out.buf, "\r\n\r\n--=_mimamori_");
	mail_content_init(&c);
	CHECK(!mail_entity_content(out.buf, out.len, &c, &why));
	CHECK(c.nr_texts == 1);
	if (c.nr_texts == 1)
		CHECK_STR(c.texts[0].text.buf, "本文です。\n二行目\n");
	mail_content_release(&c);
	/* a file name or type that is not a plain token: refused, nothing written */
	strbuf_reset(&out);
	bad.filename = "花子.jpg";
	CHECK(mail_compose_mixed(&h, "x\n", &bad, &out, NULL, &why) == -1 && !out.len);
	bad.filename = "a\"b.jpg";
	CHECK(mail_compose_mixed(&h, "x\n", &bad, &out, NULL, &why) == -1 && !out.len);
	bad.filename = "photo.jpg";
	bad.type = "image/jpeg\r\nBcc: x@example.jp";
	CHECK(mail_compose_mixed(&h, "x\n", &bad, &out, NULL, &why) == -1 && !out.len);
	bad.type = "image/jpeg";
	bad.len = 0;
	CHECK(mail_compose_mixed(&h, "x\n", &bad, &out, NULL, &why) == -1 && !out.len);
	strbuf_release(&out);
	strbuf_release(&why);
}

UNIT_MAIN(T(rfc2047_every_length), T(iso2022jp_subject_and_body), T(compose_text_headers),
	  T(header_injection_refused), T(pgp_signed_round_trip), T(pgp_encrypted_round_trip),
	  T(malformed_is_plain), T(header_caps), T(transfer_encodings_and_charsets), T(interop_python_and_gpg),
	  T(inline_pgp_is_recognised), T(attachment_and_flowed_flags), T(compose_mixed_photo))
