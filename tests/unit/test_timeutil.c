/*
 * Dates, durations, ages and RFC 3339 instants.
 */
#include "unit.h"
#include "util/timeutil.h"

TEST(dates_round_trip)
{
	long d;
	char s[11];

	CHECK_INT(date_parse("2026-11-21", &d), 0);
	date_format(d, s);
	CHECK_STR(s, "2026-11-21");
	CHECK(date_parse("1970-01-01", &d) == 0 && d == 0);
	CHECK_INT(date_parse("2028-02-29", &d), 0);
	CHECK(date_parse("2026-02-29", &d) < 0);
	CHECK(date_parse("2026-13-01", &d) < 0);
	CHECK(date_parse("2026-1-01", &d) < 0);
	CHECK(date_parse("2026-01-01x", &d) < 0);
}

/* Every day of two centuries formats to what parses back to it. */
TEST(dates_round_trip_every_day)
{
	long d, first, last, back;
	char s[11];
	int bad = 0;

	CHECK(date_parse("1900-01-01", &first) == 0 && date_parse("2100-12-31", &last) == 0);
	for (d = first; d <= last && bad < 3; d++) {
		date_format(d, s);
		if (strlen(s) != 10 || date_parse(s, &back) < 0 || back != d) {
			fprintf(stderr, "  day %ld: '%s'\n", d, s);
			bad++;
		}
	}
	CHECK(!bad);
	date_format(first, s);
	CHECK_STR(s, "1900-01-01");
	date_format(last, s);
	CHECK_STR(s, "2100-12-31");
}

TEST(durations_add_calendar_units)
{
	long d, out;
	char s[11];

	date_parse("2026-03-01", &d);
	CHECK_INT(date_add_duration(d, "P2Y", 1, &out), 0);
	date_format(out, s);
	CHECK_STR(s, "2028-03-01");
	CHECK_INT(date_add_duration(d, "P60D", -1, &out), 0);
	date_format(out, s);
	CHECK_STR(s, "2025-12-31");
	date_parse("2028-02-29", &d);
	CHECK_INT(date_add_duration(d, "P1Y", 1, &out), 0);
	date_format(out, s);
	CHECK_STR(s, "2029-02-28");
	CHECK(date_add_duration(d, "2Y", 1, &out) < 0);
	CHECK(date_add_duration(d, "P", 1, &out) < 0);
	CHECK(date_add_duration(d, "PT1H", 1, &out) < 0);
}

TEST(ages)
{
	long b, on;

	date_parse("1941-04-01", &b);
	date_parse("2026-03-31", &on);
	CHECK_INT(age_years(b, on), 84);
	date_parse("2026-04-01", &on);
	CHECK_INT(age_years(b, on), 85);
}

TEST(instants)
{
	time_t t, u;
	char s[26];

	CHECK_INT(datetime_parse("2026-11-21T09:40:00+09:00", &t), 0);
	CHECK_INT(datetime_parse("2026-11-21T00:40:00Z", &u), 0);
	CHECK_INT(t, u);
	datetime_format(t, s);
	CHECK_STR(s, "2026-11-21T09:40:00+09:00");
	CHECK_INT(date_of(t), date_of(u));
	CHECK_INT(datetime_parse("2026-11-21T23:30:00Z", &t), 0);
	datetime_format(t, s);
	CHECK_STR(s, "2026-11-22T08:30:00+09:00");
	CHECK(datetime_parse("2026-11-21 09:40", &t) < 0);
	CHECK(datetime_parse("2026-11-21T25:40:00Z", &t) < 0);
}

UNIT_MAIN(T(dates_round_trip), T(dates_round_trip_every_day), T(durations_add_calendar_units), T(ages), T(instants))
