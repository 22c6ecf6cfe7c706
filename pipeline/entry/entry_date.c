/*
 * entry_date - dates and phone numbers as the paper 登録届 and the
 * centers' spreadsheets write them, into the ISO dates and ASCII numbers
 * of registration documents (see entry.h).
 *
 * Reads and writes nothing.
 *
 * SECURITY: parses values typed by center staff or read from a CSV file:
 * every value is bounded (NFKC output is scanned with a pointer that
 * never passes its end; numbers have at most 4 digits), and nothing of a
 * value is ever quoted back.
 */
#include <string.h>
#include "entry.h"
#include "../lib/text.h"
#include "../util/timeutil.h"

struct era {
	const char *kanji;     /* 昭和 */
	const char *abbrev;    /* 昭 */
	char initial;          /* S */
	int y, m, d;           /* its first day */
};

/*
 * The eras of the modern calendar with their first days. 明治 is read as
 * starting on 1 January 1868 (the era was proclaimed retroactive to the
 * new year); days before 1873 are read in the Gregorian calendar.
 */
static const struct era eras[] = {
	{ "明治", "明", 'M', 1868, 1, 1 },
	{ "大正", "大", 'T', 1912, 7, 30 },
	{ "昭和", "昭", 'S', 1926, 12, 25 },
	{ "平成", "平", 'H', 1989, 1, 8 },
	{ "令和", "令", 'R', 2019, 5, 1 },
};
#define NR_ERAS (sizeof(eras) / sizeof(eras[0]))

static const char *const kanji_digits[] = {
	"〇", "一", "二", "三", "四", "五", "六", "七", "八", "九",
};

static int starts(const char *p, const char *end, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(end - p) >= n && !memcmp(p, s, n);
}

/* A kanji digit at *p: its value, *p moved past it; else -1. */
static int kanji_digit(const char **p, const char *end)
{
	int i;

	if (starts(*p, end, "零")) {
		*p += strlen("零");
		return 0;
	}
	for (i = 0; i < 10; i++) {
		if (starts(*p, end, kanji_digits[i])) {
			*p += strlen(kanji_digits[i]);
			return i;
		}
	}
	return -1;
}

/*
 * A number at *p: ASCII digits (at most 4), or kanji numerals read as
 * dates write them (十六 16, 二十 20, 三十一 31, 一九四一 1941), or 元 (1)
 * when gan is set. Its value, *p moved past it; -1 when there is none.
 */
static int read_number(const char **p, const char *end, int gan)
{
	const char *s = *p;
	int v = 0, n = 0, tens = -1, d;

	while (s < end && *s >= '0' && *s <= '9' && n < 5) {
		v = v * 10 + (*s++ - '0');
		n++;
	}
	if (n) {
		if (n > 4)
			return -1;
		*p = s;
		return v;
	}
	if (gan && starts(s, end, "元")) {
		*p = s + strlen("元");
		return 1;
	}
	for (;;) {
		if (starts(s, end, "十")) {
			if (tens >= 0)
				return -1;
			tens = n ? v : 1;
			if (n > 1 || tens > 9)
				return -1;
			v = 0;
			n = 0;
			s += strlen("十");
			continue;
		}
		d = kanji_digit(&s, end);
		if (d < 0)
			break;
		if (++n > 4)
			return -1;
		v = v * 10 + d;
	}
	if (tens >= 0) {
		if (n > 1)
			return -1;
		v += tens * 10;
	} else if (!n) {
		return -1;
	}
	*p = s;
	return v;
}

/* One of the separators between year, month and day; moves past it. */
static int separator(const char **p, const char *end, const char *kanji)
{
	if (*p < end && (**p == '-' || **p == '/' || **p == '.')) {
		(*p)++;
		return 1;
	}
	if (starts(*p, end, kanji)) {
		*p += strlen(kanji);
		return 1;
	}
	return 0;
}

/* A real day y-m-d into *days: 0, or -2. */
static int real_day(int y, int m, int d, long *days)
{
	int yy, mm, dd;

	if (y < 1 || m < 1 || m > 12 || d < 1 || d > 31)
		return -2;
	*days = date_from_ymd(y, m, d);
	date_split(*days, &yy, &mm, &dd);
	return (yy == y && mm == m && dd == d) ? 0 : -2;
}

static const struct era *read_era(const char **p, const char *end)
{
	size_t i;

	for (i = 0; i < NR_ERAS; i++) {
		if (starts(*p, end, eras[i].kanji)) {
			*p += strlen(eras[i].kanji);
			return &eras[i];
		}
	}
	for (i = 0; i < NR_ERAS; i++) {
		if (starts(*p, end, eras[i].abbrev)) {
			*p += strlen(eras[i].abbrev);
			return &eras[i];
		}
		if (*p < end && (**p == eras[i].initial || **p == eras[i].initial + 32)) {
			(*p)++;
			return &eras[i];
		}
	}
	return NULL;
}

static int parse_folded(const char *s, const char *end, long *days)
{
	const char *p = s;
	const struct era *era = read_era(&p, end);
	int y, m, d, ret;

	if (!era && end - s == 8 && strspn(s, "0123456789") == 8) {
		/* 19410401 */
		y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
		m = (s[4] - '0') * 10 + (s[5] - '0');
		d = (s[6] - '0') * 10 + (s[7] - '0');
		return real_day(y, m, d, days);
	}
	y = read_number(&p, end, era != NULL);
	if (y < 0 || !separator(&p, end, "年"))
		return -1;
	m = read_number(&p, end, 0);
	if (m < 0 || !separator(&p, end, "月"))
		return -1;
	d = read_number(&p, end, 0);
	if (d < 0)
		return -1;
	if (starts(p, end, "日"))
		p += strlen("日");
	if (p != end)
		return -1;
	if (!era) {
		if (y < 1000)
			return -1;  /* a two-digit year says no era */
		return real_day(y, m, d, days);
	}
	if (y < 1 || y > 99)
		return -2;
	ret = real_day(era->y + y - 1, m, d, days);
	if (ret)
		return ret;
	if (*days < date_from_ymd(era->y, era->m, era->d))
		return -2;
	if (era + 1 < eras + NR_ERAS &&
	    *days >= date_from_ymd(era[1].y, era[1].m, era[1].d))
		return -2;
	return 0;
}

int entry_parse_date(const char *s, long *days)
{
	struct strbuf nf = STRBUF_INIT, sq = STRBUF_INIT;
	size_t i;
	int ret;

	if (!text_is_utf8(s, strlen(s)))
		return -1;
	text_nfkc(s, &nf);
	/* Spaces mean nothing in a date (昭和 16 年 4 月 1 日). */
	for (i = 0; i < nf.len; i++)
		if (nf.buf[i] != ' ' && nf.buf[i] != '\t')
			strbuf_addch(&sq, nf.buf[i]);
	ret = sq.len ? parse_folded(sq.buf, sq.buf + sq.len, days) : -1;
	strbuf_release(&nf);
	strbuf_release(&sq);
	return ret;
}

/* The hyphens people type in a phone number, after NFKC. */
static const char *const dashes[] = {
	"ー", "ｰ", "‐", "‑", "‒", "–", "—", "―", "−", "－", "﹣", NULL,
};

int entry_parse_phone(const char *s, struct strbuf *out)
{
	struct strbuf nf = STRBUF_INIT, res = STRBUF_INIT;
	const char *p, *end;
	int digits = 0, ok;

	if (!text_is_utf8(s, strlen(s)))
		return -1;
	text_nfkc(s, &nf);
	p = nf.buf;
	end = nf.buf + nf.len;
	while (p < end) {
		int dash = 0, i;

		if (*p >= '0' && *p <= '9') {
			strbuf_addch(&res, *p++);
			digits++;
			continue;
		}
		if (*p == '-' || *p == ' ' || *p == '(' || *p == ')') {
			dash = *p != '(' || res.len;
			p++;
		} else {
			for (i = 0; dashes[i]; i++) {
				if (starts(p, end, dashes[i])) {
					p += strlen(dashes[i]);
					dash = 1;
					break;
				}
			}
			if (!dashes[i]) {
				strbuf_release(&nf);
				strbuf_release(&res);
				return -1;
			}
		}
		if (dash && res.len && res.buf[res.len - 1] != '-')
			strbuf_addch(&res, '-');
	}
	while (res.len && res.buf[res.len - 1] == '-')
		strbuf_setlen(&res, res.len - 1);
	ok = (digits == 10 || digits == 11) && res.len && res.buf[0] == '0';
	if (ok)
		strbuf_addbuf(out, &res);
	strbuf_release(&nf);
	strbuf_release(&res);
	return ok ? 0 : -1;
}
