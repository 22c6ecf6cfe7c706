/*
 * leakguard - the last check before an alert leaves: the rendered text
 * must not hold the person's identifying data (see leakguard.h for what
 * is searched for and how it is written).
 *
 * Reads a record (in memory) and rendered text; writes nothing. Every
 * value is folded once with text_fold_strict() when it is added; the
 * text is folded once per check, and once more in its address form
 * (丁目, 番地, 番, 号 and の removed) when an address is searched for.
 *
 * SECURITY: holds the person's identifying data while checking, and wipes
 * what it folded; reasons name kinds of data and fields, never values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "leakguard.h"
#include "../lib/seal.h"
#include "../lib/text.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

/* Text in the comparison form, with its separator marks (text.h). */
struct folded {
	struct strbuf text, seps;
};
#define FOLDED_INIT { STRBUF_INIT, STRBUF_INIT }

static void fold(const char *s, struct folded *f)
{
	text_fold_strict(s ? s : "", &f->text, &f->seps);
}

static void folded_release(struct folded *f)
{
	wipe(f->text.buf, f->text.len);
	strbuf_release(&f->text);
	strbuf_release(&f->seps);
}

/* The bytes of the UTF-8 character that starts with c. */
static size_t char_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	return 2;
}

/* Number of UTF-8 characters. */
static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * The address form of folded text: 丁目, 番地, 番, 号 and の are
 * separators (加納町6丁目5番1号 reads as 加納町6-5-1, folded 加納町651).
 */
static void address_form(const struct folded *in, struct folded *out)
{
	static const char *const marks[] = { "丁目", "番地", "番", "号", "の", NULL };
	const char *s = in->text.buf;
	size_t i = 0, len = in->text.len;
	int sep = 0;

	while (i < len) {
		const char *const *m;
		size_t k;

		for (m = marks; *m; m++)
			if (!strncmp(s + i, *m, strlen(*m)))
				break;
		if (*m) {
			i += strlen(*m);
			sep = 1;
			continue;
		}
		k = char_len((unsigned char)s[i]);
		if (i + k > len)
			k = len - i;
		strbuf_add(&out->text, s + i, k);
		strbuf_addch(&out->seps, sep || in->seps.buf[i]);
		while (--k > 0)
			strbuf_addch(&out->seps, 0);
		i += char_len((unsigned char)s[i]);
		sep = 0;
	}
}

void leakguard_release(struct leakguard *lg)
{
	size_t i;

	for (i = 0; i < lg->nr; i++) {
		wipe(lg->n[i].folded, lg->n[i].len);
		free(lg->n[i].folded);
	}
	for (i = 0; i < lg->nr_kinds; i++)
		free(lg->kinds[i]);
	free(lg->n);
	free(lg->kinds);
	lg->n = NULL;
	lg->kinds = NULL;
	lg->nr = lg->alloc = lg->nr_kinds = lg->alloc_kinds = 0;
}

static int kind_of(struct leakguard *lg, const char *what)
{
	size_t i;

	for (i = 0; i < lg->nr_kinds; i++)
		if (!strcmp(lg->kinds[i], what))
			return (int)i;
	ALLOC_GROW(lg->kinds, lg->nr_kinds + 1, lg->alloc_kinds);
	lg->kinds[lg->nr_kinds] = xstrdup(what);
	return (int)lg->nr_kinds++;
}

/* Needle flags. */
#define N_ADDRESS 1     /* compare with the address form of the text */
#define N_NUMBER 2      /* a number alone is a needle (phones, dates) */

/* Add a needle already folded (and in its address form for N_ADDRESS). */
static void add_folded(struct leakguard *lg, const char *what, const char *folded,
		       int flags)
{
	int kind, address = !!(flags & N_ADDRESS);
	size_t i, len = strlen(folded);

	if (chars(folded) < 2)
		return;
	if (!(flags & N_NUMBER) && strspn(folded, "0123456789") == len)
		return;  /* the number part of an address alone */
	kind = kind_of(lg, what);
	for (i = 0; i < lg->nr; i++)
		if (lg->n[i].kind == kind && lg->n[i].address == address &&
		    lg->n[i].len == len && !memcmp(lg->n[i].folded, folded, len))
			return;
	ALLOC_GROW(lg->n, lg->nr + 1, lg->alloc);
	lg->n[lg->nr].folded = xstrdup(folded);
	lg->n[lg->nr].len = len;
	lg->n[lg->nr].kind = kind;
	lg->n[lg->nr].address = address;
	lg->nr++;
}

/* Fold value and add it. */
static void add_value(struct leakguard *lg, const char *what, const char *value, int flags)
{
	struct folded f = FOLDED_INIT, a = FOLDED_INIT;

	if (!value)
		return;
	fold(value, &f);
	if (flags & N_ADDRESS) {
		address_form(&f, &a);
		add_folded(lg, what, a.text.buf, flags);
	} else {
		add_folded(lg, what, f.text.buf, flags);
	}
	folded_release(&f);
	folded_release(&a);
}

void leakguard_add_text(struct leakguard *lg, const char *what, const char *value)
{
	add_value(lg, what, value, 0);
}

void leakguard_add_phone(struct leakguard *lg, const char *what, const char *value)
{
	struct folded f = FOLDED_INIT;
	struct strbuf d = STRBUF_INIT, intl = STRBUF_INIT;
	size_t i;

	if (!value)
		return;
	fold(value, &f);
	for (i = 0; i < f.text.len; i++)
		if (f.text.buf[i] >= '0' && f.text.buf[i] <= '9')
			strbuf_addch(&d, f.text.buf[i]);
	if (d.len >= 6) {
		add_folded(lg, what, d.buf, N_NUMBER);
		if (d.buf[0] == '0') {
			/* Without the leading 0, and as dialled from abroad. */
			add_folded(lg, what, d.buf + 1, N_NUMBER);
			strbuf_addf(&intl, "+81%s", d.buf + 1);
			add_folded(lg, what, intl.buf, N_NUMBER);
		}
	}
	folded_release(&f);
	wipe(d.buf, d.len);
	wipe(intl.buf, intl.len);
	strbuf_release(&d);
	strbuf_release(&intl);
}

int leakguard_era(int y, int m, int d, const char **era, char *letter, int *year)
{
	static const struct {
		int y, m, d;
		const char *name;
		char letter;
	} eras[] = {
		{ 2019, 5, 1, "令和", 'R' },
		{ 1989, 1, 8, "平成", 'H' },
		{ 1926, 12, 25, "昭和", 'S' },
		{ 1912, 7, 30, "大正", 'T' },
		{ 1868, 1, 25, "明治", 'M' },
	};
	size_t i;
	long v = (long)y * 10000 + m * 100 + d;

	for (i = 0; i < sizeof(eras) / sizeof(eras[0]); i++) {
		if (v >= (long)eras[i].y * 10000 + eras[i].m * 100 + eras[i].d) {
			*era = eras[i].name;
			*letter = eras[i].letter;
			*year = y - eras[i].y + 1;
			return 0;
		}
	}
	return -1;
}

/*
 * Month and day after year, with and without zero padding, run together
 * (what 1941/4/1, 1941.04.01 and 1941-04-01 fold to) and with 年月日.
 */
static void add_month_day(struct leakguard *lg, const char *what, const char *year,
			  int m, int d)
{
	struct strbuf b = STRBUF_INIT;
	int pm, pd;

	for (pm = 0; pm < 2; pm++) {
		for (pd = 0; pd < 2; pd++) {
			strbuf_reset(&b);
			strbuf_addf(&b, pm ? "%s%02d" : "%s%d", year, m);
			strbuf_addf(&b, pd ? "%02d" : "%d", d);
			add_value(lg, what, b.buf, N_NUMBER);
			strbuf_reset(&b);
			strbuf_addf(&b, pm ? "%s年%02d月" : "%s年%d月", year, m);
			strbuf_addf(&b, pd ? "%02d日" : "%d日", d);
			add_value(lg, what, b.buf, N_NUMBER);
		}
	}
	strbuf_release(&b);
}

void leakguard_add_date(struct leakguard *lg, const char *what, const char *iso)
{
	int y, m, d, ey, i;
	const char *era;
	char letter, year[64];

	if (!iso || sscanf(iso, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return;
	snprintf(year, sizeof(year), "%d", y);
	add_month_day(lg, what, year, m, d);
	snprintf(year, sizeof(year), "%02d", y % 100);
	add_month_day(lg, what, year, m, d);
	if (leakguard_era(y, m, d, &era, &letter, &ey) < 0)
		return;
	/* 昭和16, 昭16 (its first kanji), S16 and S016 … and 元 for year 1. */
	for (i = 0; i < 2; i++) {
		const char *e = era;
		size_t elen = i ? char_len((unsigned char)*era) : strlen(era);

		snprintf(year, sizeof(year), "%.*s%d", (int)elen, e, ey);
		add_month_day(lg, what, year, m, d);
		if (ey == 1) {
			snprintf(year, sizeof(year), "%.*s元", (int)elen, e);
			add_month_day(lg, what, year, m, d);
		}
	}
	snprintf(year, sizeof(year), "%c%d", letter, ey);
	add_month_day(lg, what, year, m, d);
	snprintf(year, sizeof(year), "%c%02d", letter, ey);
	add_month_day(lg, what, year, m, d);
}

void leakguard_add_address(struct leakguard *lg, const char *what, const char *address)
{
	static const char *const marks[] = { "区", "市", "郡", "町", "村", NULL };
	const char *const *mk;
	struct strbuf n = STRBUF_INIT;
	const char *rest = NULL;
	size_t street;

	if (!address)
		return;
	text_nfkc(address, &n);  /* U+3000 becomes a space */
	/* The first of 区, then 市 …: "神戸市中央区加納町6-5-1" -> "加納町6-5-1". */
	for (mk = marks; *mk && !rest; mk++) {
		const char *p = strstr(n.buf, *mk);

		if (p && p[strlen(*mk)])
			rest = p + strlen(*mk);
	}
	if (!rest)
		rest = n.buf;
	add_value(lg, what, rest, N_ADDRESS);
	/* The street and number without the building ("加納町6-5-1"). */
	street = strcspn(rest, " \t");
	if (street && rest[street] && strpbrk(rest, "0123456789")) {
		char *s = xstrndup(rest, street);

		add_value(lg, what, s, N_ADDRESS);
		wipe(s, street);
		free(s);
	}
	wipe(n.buf, n.len);
	strbuf_release(&n);
}

/*
 * Hepburn romaji. Long vowels and ん before b, m, p are written as a
 * marker byte in the pattern, then expanded into every spelling.
 */
enum { LONG_O = 1, LONG_U, LONG_A, LONG_E, LONG_I, N_OR_M };

static const char *const spellings[][6] = {
	[LONG_O] = { "ou", "oo", "o", "\xc5\x8d", "oh", NULL },   /* ō */
	[LONG_U] = { "uu", "u", "\xc5\xab", NULL },               /* ū */
	[LONG_A] = { "aa", "a", "\xc4\x81", NULL },               /* ā */
	[LONG_E] = { "ee", "e", "\xc4\x93", NULL },               /* ē */
	[LONG_I] = { "ii", "i", "\xc4\xab", NULL },               /* ī */
	[N_OR_M] = { "n", "m", NULL },
};

/* U+3041 ぁ to U+3096 ゖ; NULL for っ, which doubles what follows. */
static const char *const hiragana[] = {
	"a", "a", "i", "i", "u", "u", "e", "e", "o", "o",                 /* ぁ-お */
	"ka", "ga", "ki", "gi", "ku", "gu", "ke", "ge", "ko", "go",       /* か-ご */
	"sa", "za", "shi", "ji", "su", "zu", "se", "ze", "so", "zo",      /* さ-ぞ */
	"ta", "da", "chi", "ji", NULL, "tsu", "zu", "te", "de", "to", "do", /* た-ど */
	"na", "ni", "nu", "ne", "no",                                     /* な-の */
	"ha", "ba", "pa", "hi", "bi", "pi", "fu", "bu", "pu",              /* は-ぷ */
	"he", "be", "pe", "ho", "bo", "po",                               /* へ-ぽ */
	"ma", "mi", "mu", "me", "mo",                                     /* ま-も */
	"ya", "ya", "yu", "yu", "yo", "yo",                               /* ゃ-よ */
	"ra", "ri", "ru", "re", "ro",                                     /* ら-ろ */
	"wa", "wa", "i", "e", "o", "n", "vu", "ka", "ke",                 /* ゎ-ゖ */
};

static int is_vowel(int c)
{
	return c == 'a' || c == 'i' || c == 'u' || c == 'e' || c == 'o';
}

static int long_marker(int vowel)
{
	switch (vowel) {
	case 'o': return LONG_O;
	case 'u': return LONG_U;
	case 'a': return LONG_A;
	case 'e': return LONG_E;
	}
	return LONG_I;
}

/* The romaji pattern of hiragana kana; -1 for anything else. */
static int romaji_pattern(const char *kana, struct strbuf *pat)
{
	const unsigned char *p = (const unsigned char *)kana;
	int sokuon = 0;
	size_t n_at = (size_t)-1;

	while (*p) {
		unsigned c;
		const char *syl;
		char buf[8];
		size_t k = char_len(*p);
		int last = pat->len ? (unsigned char)pat->buf[pat->len - 1] : 0;

		if (k != 3 || !p[1] || !p[2])
			return -1;
		c = ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
		p += 3;
		if (c == 0x30fc) {              /* ー lengthens the vowel before it */
			if (is_vowel(last))
				pat->buf[pat->len - 1] = (char)long_marker(last);
			continue;
		}
		if (c < 0x3041 || c > 0x3096)
			return -1;
		if (c == 0x3063) {              /* っ */
			sokuon = 1;
			continue;
		}
		syl = hiragana[c - 0x3041];
		/* Small ぁぃぅぇぉ change the vowel before them (ふぁ fa). */
		if ((c == 0x3041 || c == 0x3043 || c == 0x3045 || c == 0x3047 ||
		     c == 0x3049) && is_vowel(last)) {
			pat->buf[pat->len - 1] = syl[0];
			continue;
		}
		/* Small ゃゅょ after an i-syllable: きゃ kya, しゃ sha, じゃ ja. */
		if ((c == 0x3083 || c == 0x3085 || c == 0x3087) && last == 'i' &&
		    pat->len >= 2) {
			int before = (unsigned char)pat->buf[pat->len - 2];

			strbuf_setlen(pat, pat->len - 1);
			if (before != 'h' && before != 'j')
				strbuf_addch(pat, 'y');
			strbuf_addch(pat, syl[1]);
			continue;
		}
		/* おう, おお, うう, ああ, ええ: one long vowel. */
		if (!syl[1] && (c == 0x3046 || c == 0x304a || c == 0x3042 || c == 0x3048) &&
		    is_vowel(last) && !sokuon &&
		    (syl[0] == last || (last == 'o' && syl[0] == 'u'))) {
			pat->buf[pat->len - 1] = (char)long_marker(last);
			continue;
		}
		snprintf(buf, sizeof(buf), "%s", syl);
		if (sokuon && !is_vowel(buf[0]))
			strbuf_addch(pat, buf[0] == 'c' ? 't' : buf[0]);
		sokuon = 0;
		if ((buf[0] == 'b' || buf[0] == 'm' || buf[0] == 'p') && pat->len &&
		    n_at == pat->len - 1)
			pat->buf[n_at] = N_OR_M;
		n_at = c == 0x3093 ? pat->len : (size_t)-1;
		strbuf_addstr(pat, buf);
	}
	return 0;
}

static void romaji_expand(const char *pat, struct strbuf *cur, struct strlist *out,
			  size_t max, size_t *made)
{
	size_t keep = cur->len;
	const char *const *alt;

	if (*made >= max)
		return;
	while (*pat && (unsigned char)*pat > N_OR_M)
		strbuf_addch(cur, *pat++);
	if (!*pat) {
		strlist_add(out, cur->buf);
		(*made)++;
		strbuf_setlen(cur, keep);
		return;
	}
	for (alt = spellings[(unsigned char)*pat]; *alt; alt++) {
		size_t here = cur->len;

		strbuf_addstr(cur, *alt);
		romaji_expand(pat + 1, cur, out, max, made);
		strbuf_setlen(cur, here);
	}
	strbuf_setlen(cur, keep);
}

int leakguard_romaji(const char *kana, struct strlist *out, size_t max)
{
	struct strbuf pat = STRBUF_INIT, cur = STRBUF_INIT;
	size_t made = 0;
	int ret = romaji_pattern(kana, &pat);

	if (!ret && pat.len)
		romaji_expand(pat.buf, &cur, out, max, &made);
	strbuf_release(&pat);
	strbuf_release(&cur);
	return ret;
}

#define ROMAJI_MAX 16

static const char *const honorifics[] = { "さん", "様", "さま", "氏", "君", "くん",
					  "ちゃん", NULL };
static const char *const honorifics_latin[] = { "san", "sama", "chan", "kun", NULL };

/* Folded family name followed by each honorific. */
static void add_with_honorifics(struct leakguard *lg, const char *what, const char *folded,
				const char *const *hon)
{
	struct strbuf b = STRBUF_INIT;

	for (; *hon && *folded; hon++) {
		strbuf_reset(&b);
		strbuf_addf(&b, "%s%s", folded, *hon);
		add_folded(lg, what, b.buf, 0);
	}
	wipe(b.buf, b.len);
	strbuf_release(&b);
}

/* Split NFKC(name) at its first space into folded family and given names. */
static void split_name(const char *name, struct folded *family, struct folded *given)
{
	struct strbuf n = STRBUF_INIT;
	char *sp;

	text_nfkc(name, &n);
	sp = strpbrk(n.buf, " \t");
	if (sp) {
		*sp = '\0';
		fold(n.buf, family);
		fold(sp + 1, given);
	}
	wipe(n.buf, n.len);
	strbuf_release(&n);
}

static void add_romaji(struct leakguard *lg, const char *whose, const char *family,
		       const char *given)
{
	struct strlist fam = STRLIST_INIT, giv = STRLIST_INIT;
	struct strbuf what = STRBUF_INIT, b = STRBUF_INIT;
	size_t i, j;

	leakguard_romaji(family, &fam, ROMAJI_MAX);
	if (chars(given) >= 2)
		leakguard_romaji(given, &giv, ROMAJI_MAX);
	strbuf_addf(&what, "%s given name in romaji", whose);
	for (i = 0; i < giv.nr; i++) {
		add_folded(lg, what.buf, giv.items[i], 0);
		add_with_honorifics(lg, what.buf, giv.items[i], honorifics_latin);
		for (j = 0; j < fam.nr; j++) {
			strbuf_reset(&b);
			strbuf_addf(&b, "%s%s", fam.items[j], giv.items[i]);
			add_folded(lg, what.buf, b.buf, 0);
			strbuf_reset(&b);
			strbuf_addf(&b, "%s%s", giv.items[i], fam.items[j]);
			add_folded(lg, what.buf, b.buf, 0);
		}
	}
	strbuf_reset(&what);
	strbuf_addf(&what, "%s family name with an honorific", whose);
	for (j = 0; j < fam.nr; j++)
		add_with_honorifics(lg, what.buf, fam.items[j], honorifics_latin);
	wipe(b.buf, b.len);
	strbuf_release(&b);
	strbuf_release(&what);
	strlist_clear(&fam);
	strlist_clear(&giv);
}

void leakguard_add_name(struct leakguard *lg, const char *whose, const char *name,
			const char *kana)
{
	struct folded fam = FOLDED_INIT, giv = FOLDED_INIT, kfam = FOLDED_INIT,
		      kgiv = FOLDED_INIT;
	struct strbuf what = STRBUF_INIT;

#define WHAT(fmt) (strbuf_reset(&what), strbuf_addf(&what, fmt, whose), what.buf)
	if (name) {
		leakguard_add_text(lg, WHAT("%s name"), name);
		split_name(name, &fam, &giv);
		if (chars(giv.text.buf) >= 2)
			add_folded(lg, WHAT("%s given name"), giv.text.buf, 0);
		add_with_honorifics(lg, WHAT("%s family name with an honorific"),
				    fam.text.buf, honorifics);
	}
	if (kana) {
		leakguard_add_text(lg, WHAT("%s name-kana"), kana);
		split_name(kana, &kfam, &kgiv);
		if (chars(kgiv.text.buf) >= 2)
			add_folded(lg, WHAT("%s given name in kana"), kgiv.text.buf, 0);
		add_with_honorifics(lg, WHAT("%s family name with an honorific"),
				    kfam.text.buf, honorifics);
		add_romaji(lg, whose, kfam.text.buf, kgiv.text.buf);
	}
#undef WHAT
	folded_release(&fam);
	folded_release(&giv);
	folded_release(&kfam);
	folded_release(&kgiv);
	strbuf_release(&what);
}

/* The diagnosis whole and every run of 4 of its characters. */
static void add_diagnosis(struct leakguard *lg, const char *what, const char *value)
{
	struct folded f = FOLDED_INIT;
	const char *s;

	if (!value)
		return;
	fold(value, &f);
	add_folded(lg, what, f.text.buf, 0);
	for (s = f.text.buf; *s; s += char_len((unsigned char)*s)) {
		const char *e = s;
		int i;
		char *run;

		for (i = 0; i < 4 && *e; i++)
			e += char_len((unsigned char)*e);
		if (i < 4)
			break;
		run = xstrndup(s, (size_t)(e - s));
		add_folded(lg, what, run, 0);
		wipe(run, strlen(run));
		free(run);
	}
	folded_release(&f);
}

static void add_phones(struct leakguard *lg, const struct node *parent, const char *what)
{
	const struct node *p;

	for (p = node_child(parent, "phone"); p; p = node_next_same(p))
		leakguard_add_phone(lg, what, p->text);
}

void leakguard_add_record(struct leakguard *lg, const struct node *record)
{
	const struct node *person = node_child(record, "person");
	const struct node *r, *reqs = node_child(record, "requesters");
	const struct node *cm = node_path(record, "care/care-manager");

	leakguard_add_name(lg, "the person's", node_text(person, "name"),
			   node_text(person, "name-kana"));
	leakguard_add_text(lg, "the person's maiden name", node_text(person, "maiden-name"));
	leakguard_add_date(lg, "the person's birth date", node_text(person, "birth-date"));
	leakguard_add_address(lg, "the person's address", node_text(person, "address"));
	add_phones(lg, person, "the person's phone");
	leakguard_add_text(lg, "the registration id", node_attr(record, "id"));
	for (r = reqs ? node_child(reqs, "requester") : NULL; r; r = node_next_same(r)) {
		leakguard_add_text(lg, "a requester's name", node_text(r, "name"));
		add_phones(lg, r, "a requester's phone");
	}
	if (cm) {
		leakguard_add_text(lg, "the care manager's name", node_text(cm, "name"));
		leakguard_add_text(lg, "the care manager's office", node_text(cm, "office"));
		add_phones(lg, cm, "the care manager's phone");
	}
	leakguard_add_text(lg, "the intake staff's name",
			   node_attr(node_child(record, "intake"), "staff"));
	add_diagnosis(lg, "the diagnosis", node_text(record, "care/diagnosis"));
}

/* 1 for an ASCII digit, 2 for an ASCII letter, 0 for anything else. */
static int run_class(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return 1;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return 2;
	return 0;
}

/*
 * Whether the needle is in t: a needle that begins (ends) with a digit
 * or a letter must not have one of the same class right before (after)
 * it, unless a separator stood between them.
 */
static int found(const struct folded *t, const struct leak_needle *n)
{
	const char *hay = t->text.buf, *p = hay;
	size_t len = t->text.len;
	int head = run_class((unsigned char)n->folded[0]);
	int tail = run_class((unsigned char)n->folded[n->len - 1]);

	while ((p = memmem(p, len - (size_t)(p - hay), n->folded, n->len))) {
		size_t at = (size_t)(p - hay), end = at + n->len;

		p++;
		if (head && at > 0 && !t->seps.buf[at] &&
		    run_class((unsigned char)hay[at - 1]) == head)
			continue;
		if (tail && end < len && !t->seps.buf[end] &&
		    run_class((unsigned char)hay[end]) == tail)
			continue;
		return 1;
	}
	return 0;
}

/* A text folded, with its address form when some needle needs it. */
struct searched {
	struct folded plain, address;
};

static void searched_init(struct searched *s, const struct leakguard *lg, const char *text)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	strbuf_init(&s->plain.text, 0);
	strbuf_init(&s->plain.seps, 0);
	strbuf_init(&s->address.text, 0);
	strbuf_init(&s->address.seps, 0);
	fold(text, &s->plain);
	for (i = 0; i < lg->nr; i++) {
		if (lg->n[i].address) {
			address_form(&s->plain, &s->address);
			break;
		}
	}
}

static void searched_release(struct searched *s)
{
	folded_release(&s->plain);
	folded_release(&s->address);
}

static int has_kind(const struct leakguard *lg, const struct searched *s, int kind)
{
	size_t i;

	for (i = 0; i < lg->nr; i++)
		if (lg->n[i].kind == kind &&
		    found(lg->n[i].address ? &s->address : &s->plain, &lg->n[i]))
			return 1;
	return 0;
}

/* Where kind is: the sources that hold it, else the subject or the body. */
static void say_where(const struct leakguard *lg, int kind, struct searched *src,
		      const struct leak_source *sources, size_t nr_src,
		      const struct searched *subject, struct strbuf *why)
{
	size_t j;
	int any = 0;

	for (j = 0; j < nr_src; j++) {
		if (!has_kind(lg, &src[j], kind))
			continue;
		strbuf_addstr(why, any ? ", " : " in ");
		strbuf_addstr(why, sources[j].where);
		any = 1;
	}
	if (!any)
		strbuf_addstr(why, subject && has_kind(lg, subject, kind) ? " in the subject"
									 : " in the body");
}

int leakguard_check_mail(const struct leakguard *lg, const char *subject, const char *body,
			 const struct leak_source *sources, size_t nr_src, struct strbuf *why)
{
	struct strbuf all = STRBUF_INIT;
	struct searched text, subj, *src = NULL;
	char *hit = xcalloc(lg->nr_kinds + 1, 1);
	size_t i;
	int kinds = 0;

	if (subject) {
		strbuf_addstr(&all, subject);
		strbuf_addch(&all, '\n');
	}
	strbuf_addstr(&all, body);
	searched_init(&text, lg, all.buf);
	wipe(all.buf, all.len);
	strbuf_release(&all);
	for (i = 0; i < lg->nr; i++) {
		const struct leak_needle *n = &lg->n[i];

		if (hit[n->kind] || !found(n->address ? &text.address : &text.plain, n))
			continue;
		hit[n->kind] = 1;
		kinds++;
	}
	if (kinds) {
		/* Only now, to say where: fold the subject and each source. */
		searched_init(&subj, lg, subject ? subject : "");
		src = xcalloc(nr_src + 1, sizeof(*src));
		for (i = 0; i < nr_src; i++)
			searched_init(&src[i], lg, sources[i].text ? sources[i].text : "");
		for (i = 0; i < lg->nr_kinds; i++) {
			if (!hit[i])
				continue;
			if (why->len)
				strbuf_addstr(why, "; ");
			strbuf_addstr(why, lg->kinds[i]);
			say_where(lg, (int)i, src, sources, nr_src, subject ? &subj : NULL, why);
		}
		for (i = 0; i < nr_src; i++)
			searched_release(&src[i]);
		free(src);
		searched_release(&subj);
	}
	searched_release(&text);
	free(hit);
	return kinds;
}

int leakguard_check(const struct leakguard *lg, const char *text, struct strbuf *why)
{
	return leakguard_check_mail(lg, NULL, text, NULL, 0, why);
}
