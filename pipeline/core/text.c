/*
 * text - Unicode text over libunistring and iconv: UTF-8 checks, NFKC, the
 * folded form the leak guard and duplicate detection compare, and
 * conversion to and from ISO-2022-JP and other charsets. Works on memory
 * only; reads and writes no files.
 *
 * SECURITY: sees personal data (names, addresses, request text) and input
 * from outside (mail bodies in any charset). Invalid input never crashes
 * and never reaches iconv or the normaliser unchecked.
 */
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <uninorm.h>
#include <unistr.h>
#include "text.h"
#include "../util/strbuf.h"

int text_is_utf8(const char *s, size_t len)
{
	if (memchr(s, '\0', len))
		return 0;
	return u8_check((const uint8_t *)s, len) == NULL;
}

/* NFKC of s[0..len) appended to out; invalid UTF-8 is copied unchanged. */
static void nfkc_len(const char *s, size_t len, struct strbuf *out)
{
	uint8_t *res;
	size_t reslen = 0;

	if (!len)
		return;
	if (u8_check((const uint8_t *)s, len)) {
		strbuf_add(out, s, len);
		return;
	}
	res = u8_normalize(UNINORM_NFKC, (const uint8_t *)s, len, NULL, &reslen);
	if (!res) {
		/* Only ENOMEM is possible for valid input. */
		strbuf_add(out, s, len);
		return;
	}
	strbuf_add(out, res, reslen);
	free(res);
}

void text_nfkc(const char *s, struct strbuf *out)
{
	nfkc_len(s, strlen(s), out);
}

/*
 * Characters the comparison form drops: white space and the dashes and
 * long-vowel marks that people type interchangeably in phone numbers,
 * addresses and kana. Tested after NFKC, which has already turned U+3000,
 * U+00A0, U+FF0D, U+FF70 and the like into their plain forms; the
 * full-width forms are listed too for callers' clarity.
 */
static int is_folded_away(ucs4_t c)
{
	switch (c) {
	case ' ': case '\t': case '\n': case '\r': case '\v': case '\f':
	case 0x3000:            /* ideographic space */
	case 0x00a0:            /* no-break space */
	case '-':
	case 0x2010:            /* hyphen */
	case 0x2011:            /* non-breaking hyphen */
	case 0x2012:            /* figure dash */
	case 0x2013:            /* en dash */
	case 0x2014:            /* em dash */
	case 0x2015:            /* horizontal bar */
	case 0x2212:            /* minus sign */
	case 0x30fc:            /* katakana-hiragana prolonged sound mark */
	case 0xff0d:            /* full-width hyphen-minus */
	case 0xff70:            /* half-width prolonged sound mark */
		return 1;
	}
	return 0;
}

void text_fold(const char *s, struct strbuf *out)
{
	struct strbuf n = STRBUF_INIT;
	const uint8_t *p, *end;

	nfkc_len(s, strlen(s), &n);
	p = (const uint8_t *)n.buf;
	end = p + n.len;
	while (p < end) {
		ucs4_t c;
		int k = u8_mbtouc(&c, p, (size_t)(end - p));

		if (k <= 0)
			break;
		/* Invalid bytes (decoded as U+FFFD) are copied as they were. */
		if (c >= 'A' && c <= 'Z')
			strbuf_addch(out, (int)(c - 'A' + 'a'));
		else if (!is_folded_away(c))
			strbuf_add(out, p, (size_t)k);
		p += k;
	}
	strbuf_release(&n);
}

void text_digits(const char *s, struct strbuf *out)
{
	struct strbuf n = STRBUF_INIT;
	size_t i;

	nfkc_len(s, strlen(s), &n);
	for (i = 0; i < n.len; i++)
		if (n.buf[i] >= '0' && n.buf[i] <= '9')
			strbuf_addch(out, n.buf[i]);
	strbuf_release(&n);
}

/*
 * Run s[0..len) through cd into res, including the final call that puts
 * the output back into its initial shift state. 0, or -1 when the input
 * holds something the target cannot carry or is invalid.
 */
static int convert(iconv_t cd, const char *s, size_t len, struct strbuf *res)
{
	char *in = (char *)s;
	size_t inleft = len;
	int flushed = 0;

	strbuf_grow(res, len * 2 + 16);
	for (;;) {
		char *outp = res->buf + res->len;
		size_t outleft = res->alloc - res->len - 1;
		size_t r;

		if (!flushed && inleft)
			r = iconv(cd, &in, &inleft, &outp, &outleft);
		else
			r = iconv(cd, NULL, NULL, &outp, &outleft);
		strbuf_setlen(res, (size_t)(outp - res->buf));
		if (r == (size_t)-1) {
			if (errno == E2BIG) {
				strbuf_grow(res, res->alloc);
				continue;
			}
			return -1;  /* EILSEQ, or EINVAL: a truncated sequence */
		}
		if (!inleft && flushed)
			return 0;
		if (!inleft)
			flushed = 1;
	}
}

int text_to_iso2022jp(const char *s, size_t len, struct strbuf *out)
{
	struct strbuf res = STRBUF_INIT;
	iconv_t cd;
	int ret;

	if (!text_is_utf8(s, len))
		return -1;
	cd = iconv_open("ISO-2022-JP", "UTF-8");
	if (cd == (iconv_t)-1)
		return -1;
	ret = convert(cd, s, len, &res);
	iconv_close(cd);
	if (!ret)
		strbuf_addbuf(out, &res);
	strbuf_release(&res);
	return ret;
}

int text_to_utf8(const char *charset, const char *s, size_t len, struct strbuf *out)
{
	struct strbuf res = STRBUF_INIT;
	iconv_t cd;
	int ret;

	cd = iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1)
		return -1;  /* a charset iconv does not know */
	ret = convert(cd, s, len, &res);
	iconv_close(cd);
	if (!ret && u8_check((const uint8_t *)res.buf, res.len))
		ret = -1;
	if (!ret)
		strbuf_addbuf(out, &res);
	strbuf_release(&res);
	return ret;
}
