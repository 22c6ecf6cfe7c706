#ifndef TIMEUTIL_H
#define TIMEUTIL_H
#include <time.h>

/*
 * Calendar dates are counted in days since 1970-01-01 (proleptic Gregorian)
 * and are dates in Japan (UTC+09:00, no daylight saving): the program's
 * dates (registration, expiry, "this month") are the dates its users live.
 */
#define JST_OFFSET (9 * 3600)

/* Strict YYYY-MM-DD. 0, or -1 when s is not a real date. */
int date_parse(const char *s, long *days);
/* YYYY-MM-DD into out (at least 11 bytes). */
void date_format(long days, char *out);
void date_split(long days, int *y, int *m, int *d);
long date_from_ymd(int y, int m, int d);
/*
 * Add an ISO 8601 duration of whole years, months, weeks and days
 * ("P2Y", "P60D", "P1Y6M") to a date; a day past the month's end is
 * clamped (2028-02-29 + P1Y = 2029-02-28). -1 when dur is not of that form.
 * sign is +1 or -1.
 */
int date_add_duration(long days, const char *dur, int sign, long *out);
/* Full years from birth to on (an age). */
int age_years(long birth, long on);

/*
 * RFC 3339 date-time with offset ("2026-11-21T09:40:00+09:00", "…Z");
 * seconds may be omitted. 0 or -1.
 */
int datetime_parse(const char *s, time_t *t);
/* RFC 3339 in +09:00 into out (at least 26 bytes). */
void datetime_format(time_t t, char *out);
/* RFC 3339 in UTC ("…Z") into out (at least 21 bytes). */
void datetime_format_utc(time_t t, char *out);
/* The Japanese date of an instant. */
long date_of(time_t t);

#endif
