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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>
#include "text.h"
#include "../util/strbuf.h"

/*
 * Most of what is checked is ASCII (markup, dates, a photo's base64): it
 * is skipped 8 bytes at a time, and u8_check() sees only each run of
 * bytes above 0x7f. No character goes on past an ASCII byte, so each run
 * starts on a character, and one cut short ends its run as it would end
 * the whole text: the first bad byte is the one u8_check() finds in all.
 */
static int ascii8(const uint8_t *p)
{
	uint64_t word;

	memcpy(&word, p, sizeof(word));
	return !(word & 0x8080808080808080ULL);
}

const char *text_utf8_bad(const char *s, size_t len)
{
	const char *nul = memchr(s, '\0', len);
	const uint8_t *p = (const uint8_t *)s, *q, *bad;
	const uint8_t *end = p + (nul ? (size_t)(nul - s) : len);

	while (p < end) {
		while (end - p >= 8 && ascii8(p))
			p += 8;
		while (p < end && *p < 0x80)
			p++;
		for (q = p; q < end && *q >= 0x80; q++)
			;
		if (q > p && (bad = u8_check(p, (size_t)(q - p))))
			return (const char *)bad;
		p = q;
	}
	return nul;
}

int text_is_utf8(const char *s, size_t len)
{
	return text_utf8_bad(s, len) == NULL;
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

/*
 * The strict form (text_fold_strict()): what is removed, and whether its
 * removal separates what stands on either side of it. Zero-width
 * characters and variation selectors are invisible, so their removal
 * separates nothing; spaces and punctuation do.
 */
enum strict_class { KEEP, INVISIBLE, SEPARATOR };

static enum strict_class strict_class(ucs4_t c)
{
	switch (c) {
	case 0x200b: case 0x200c: case 0x200d:  /* zero-width space, (non-)joiner */
	case 0x2060: case 0xfeff:               /* word joiner, zero-width no-break space */
		return INVISIBLE;
	case '.': case 0x3002: case 0x2024:     /* dots: full stop, ideographic, leader */
	case 0x00b7: case 0x0387: case 0x2027:  /* middle dots */
	case 0x2219: case 0x22c5: case 0x30fb:
	case '/': case 0x2044: case 0x2215:     /* slashes */
	case 0x29f8:
	case '_':                               /* underscore */
	case ',': case 0x3001:                  /* commas */
	case '(': case ')':                     /* as in 078(000)0001 */
		return SEPARATOR;
	}
	if ((c >= 0xfe00 && c <= 0xfe0f) || (c >= 0xe0100 && c <= 0xe01ef))
		return INVISIBLE;               /* variation selectors */
	if (uc_is_property_white_space(c) || uc_is_property_dash(c))
		return SEPARATOR;
	if (uc_is_property_default_ignorable_code_point(c))
		return INVISIBLE;
	return KEEP;
}

/* 0-9 for the kanji digits 〇一二三四五六七八九, 10 for 十, -1 otherwise. */
static int kanji_digit(ucs4_t c)
{
	switch (c) {
	case 0x3007: return 0;
	case 0x4e00: return 1;
	case 0x4e8c: return 2;
	case 0x4e09: return 3;
	case 0x56db: return 4;
	case 0x4e94: return 5;
	case 0x516d: return 6;
	case 0x4e03: return 7;
	case 0x516b: return 8;
	case 0x4e5d: return 9;
	case 0x5341: return 10;
	}
	return -1;
}

static int is_hiragana(ucs4_t c)
{
	return (c >= 0x3041 && c <= 0x3096) || (c >= 0x309d && c <= 0x309f) || c == 0x30fc;
}

/* Where text_fold_strict() writes: the text and its separator marks. */
struct strict_out {
	struct strbuf *out, *seps;
	int sep;        /* a separator was removed since the last character */
	ucs4_t last;    /* the last character written, 0 at the start */
};

static void strict_put(struct strict_out *o, ucs4_t c)
{
	uint8_t u[6];
	int k = u8_uctomb(u, c, sizeof(u));

	if (k <= 0)
		return;
	strbuf_add(o->out, u, (size_t)k);
	if (o->seps) {
		strbuf_addch(o->seps, o->sep);
		while (--k > 0)
			strbuf_addch(o->seps, 0);
	}
	o->sep = 0;
	o->last = c;
}

static void strict_number(struct strict_out *o, int n)
{
	char buf[16];
	int i, len = snprintf(buf, sizeof(buf), "%d", n);

	for (i = 0; i < len; i++)
		strict_put(o, (ucs4_t)buf[i]);
}

/*
 * A run of kanji numbers, read as in dates: digits alone one by one
 * (一九四一 → 1941), 十 with a digit before for the tens and after for the
 * units (十 → 10, 十六 → 16, 二十 → 20, 三十一 → 31).
 */
static void strict_kanji_run(struct strict_out *o, const int *v, size_t n)
{
	size_t i = 0;

	while (i < n) {
		int tens = -1, units = 0;

		if (v[i] < 10 && i + 1 < n && v[i + 1] == 10) {
			tens = v[i];
			i += 2;
		} else if (v[i] == 10) {
			tens = 1;
			i++;
		}
		if (tens < 0) {
			strict_number(o, v[i++]);
			continue;
		}
		if (i < n && v[i] < 10 && !(i + 1 < n && v[i + 1] == 10))
			units = v[i++];
		strict_number(o, tens * 10 + units);
	}
}

void text_fold_strict(const char *s, struct strbuf *out, struct strbuf *seps)
{
	struct strbuf n = STRBUF_INIT;
	struct strict_out o = { out, seps, 0, 0 };
	const uint8_t *p, *end;
	int run[64];
	size_t nrun = 0;

	nfkc_len(s, strlen(s), &n);
	p = (const uint8_t *)n.buf;
	end = p + n.len;
	while (p < end) {
		ucs4_t c;
		int k = u8_mbtouc(&c, p, (size_t)(end - p));
		enum strict_class cl;

		if (k <= 0)
			break;
		p += k;
		cl = strict_class(c);
		if (cl == INVISIBLE)
			continue;
		if (kanji_digit(c) >= 0 && nrun < sizeof(run) / sizeof(run[0])) {
			run[nrun++] = kanji_digit(c);
			continue;
		}
		if (nrun) {
			strict_kanji_run(&o, run, nrun);
			nrun = 0;
		}
		if (kanji_digit(c) >= 0) {
			/* A run longer than any number: the rest starts a new one. */
			run[nrun++] = kanji_digit(c);
			continue;
		}
		if (cl == SEPARATOR) {
			o.sep = 1;
			continue;
		}
		/* ー lengthens the kana before it; anywhere else it is a dash. */
		if (c == 0x30fc && !is_hiragana(o.last)) {
			o.sep = 1;
			continue;
		}
		if ((c >= 0x30a1 && c <= 0x30f6) || c == 0x30fd || c == 0x30fe)
			c -= 0x60;      /* katakana to hiragana */
		else if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		else if (c >= 0x80)
			c = uc_tolower(c);
		strict_put(&o, c);
	}
	if (nrun)
		strict_kanji_run(&o, run, nrun);
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
