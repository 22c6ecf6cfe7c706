/*
 * timeutil - civil dates and RFC 3339 instants, without the C library's
 * locale and time-zone state (the program's dates are Japanese dates).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "timeutil.h"

/* Howard Hinnant's days_from_civil / civil_from_days. */
long date_from_ymd(int y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void date_split(long z, int *y, int *m, int *d)
{
	long era, doe, yoe, doy, mp, yy;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

static int days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dm[m - 1];
}

static int digits(const char *s, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int parse_ymd(const char *s, int *y, int *m, int *d)
{
	if (digits(s, 4, y) || s[4] != '-' || digits(s + 5, 2, m) || s[7] != '-' ||
	    digits(s + 8, 2, d))
		return -1;
	if (*y < 1800 || *m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m))
		return -1;
	return 0;
}

int date_parse(const char *s, long *days)
{
	int y, m, d;

	if (strlen(s) != 10 || parse_ymd(s, &y, &m, &d))
		return -1;
	*days = date_from_ymd(y, m, d);
	return 0;
}

void date_format(long days, char *out)
{
	int y, m, d;
	char buf[48];

	date_split(days, &y, &m, &d);
	if (y < 0) {
		snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y % 10000, m, d);
		memcpy(out, buf, 10);
		out[10] = '\0';
		return;
	}
	/* Digit by digit: the registry writes four of these per person at
	 * every commit. */
	y %= 10000;
	out[0] = (char)('0' + y / 1000);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	out[5] = (char)('0' + m / 10);
	out[6] = (char)('0' + m % 10);
	out[7] = '-';
	out[8] = (char)('0' + d / 10);
	out[9] = (char)('0' + d % 10);
	out[10] = '\0';
}

int date_add_duration(long days, const char *dur, int sign, long *out)
{
	long years = 0, months = 0, ndays = 0;
	const char *p = dur;
	int y, m, d, any = 0;

	if (*p++ != 'P')
		return -1;
	while (*p) {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p || v < 0 || v > 100000)
			return -1;
		switch (*end) {
		case 'Y': years += v; break;
		case 'M': months += v; break;
		case 'W': ndays += 7 * v; break;
		case 'D': ndays += v; break;
		default: return -1;
		}
		any = 1;
		p = end + 1;
	}
	if (!any)
		return -1;
	date_split(days, &y, &m, &d);
	months += 12 * years;
	{
		long total = (long)y * 12 + (m - 1) + sign * months;

		y = (int)(total / 12);
		m = (int)(total % 12) + 1;
	}
	if (d > days_in_month(y, m))
		d = days_in_month(y, m);
	*out = date_from_ymd(y, m, d) + sign * ndays;
	return 0;
}

int age_years(long birth, long on)
{
	int by, bm, bd, oy, om, od, age;

	date_split(birth, &by, &bm, &bd);
	date_split(on, &oy, &om, &od);
	age = oy - by;
	if (om < bm || (om == bm && od < bd))
		age--;
	return age;
}

int datetime_parse(const char *s, time_t *t)
{
	int y, m, d, hh, mm, ss = 0, oh, om, sign;
	const char *p;
	long long secs;

	if (strlen(s) < 16 || parse_ymd(s, &y, &m, &d) || (s[10] != 'T' && s[10] != ' '))
		return -1;
	if (digits(s + 11, 2, &hh) || s[13] != ':' || digits(s + 14, 2, &mm))
		return -1;
	p = s + 16;
	if (*p == ':') {
		if (digits(p + 1, 2, &ss))
			return -1;
		p += 3;
		if (*p == '.') {
			p++;
			while (isdigit((unsigned char)*p))
				p++;
		}
	}
	if (hh > 23 || mm > 59 || ss > 60)
		return -1;
	if (*p == 'Z' && !p[1]) {
		oh = om = 0;
		sign = 1;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && !digits(p + 1, 2, &oh) &&
		   p[3] == ':' && !digits(p + 4, 2, &om) && oh < 24 && om < 60) {
		sign = *p == '+' ? 1 : -1;
	} else {
		return -1;
	}
	secs = (long long)date_from_ymd(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
	secs -= sign * (oh * 3600 + om * 60);
	*t = (time_t)secs;
	return 0;
}

void datetime_format(time_t t, char *out)
{
	long long s = (long long)t + JST_OFFSET;
	long days = (long)(s >= 0 ? s / 86400 : (s - 86399) / 86400);
	long rem = (long)(s - (long long)days * 86400);
	int y, m, d;

	char buf[96];

	date_split(days, &y, &m, &d);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02ld:%02ld:%02ld+09:00", y % 10000, m, d,
		 rem / 3600, rem / 60 % 60, rem % 60);
	memcpy(out, buf, 25);
	out[25] = '\0';
}

void datetime_format_utc(time_t t, char *out)
{
	long long s = (long long)t;
	long days = (long)(s >= 0 ? s / 86400 : (s - 86399) / 86400);
	long rem = (long)(s - (long long)days * 86400);
	int y, m, d;

	char buf[96];

	date_split(days, &y, &m, &d);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02ld:%02ld:%02ldZ", y % 10000, m, d,
		 rem / 3600, rem / 60 % 60, rem % 60);
	memcpy(out, buf, 20);
	out[20] = '\0';
}

long date_of(time_t t)
{
	long long s = (long long)t + JST_OFFSET;

	return (long)(s >= 0 ? s / 86400 : (s - 86399) / 86400);
}
