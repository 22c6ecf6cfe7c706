/*
 * test_entry - the parts of the entry commands that read what people
 * write: dates of the paper form (eras and their boundaries, kanji
 * numerals, full-width digits), phone numbers, and the CSV reader
 * (RFC 4180 quoting, CRLF, caps).
 */
#include "unit.h"
#include "entry/entry.h"
#include "entry/csv.h"
#include "util/timeutil.h"

static const char *date_of_text(const char *s, char *out)
{
	long d;
	int r = entry_parse_date(s, &d);

	if (r == -1)
		return "unreadable";
	if (r == -2)
		return "no such date";
	date_format(d, out);
	return out;
}

#define CHECK_DATE(text, want) \
	do { \
		char b_[16]; \
		CHECK_STR(date_of_text(text, b_), want); \
	} while (0)

TEST(reads_dates_as_people_write_them)
{
	CHECK_DATE("1941-04-01", "1941-04-01");
	CHECK_DATE("1941/4/1", "1941-04-01");
	CHECK_DATE("1941.4.1", "1941-04-01");
	CHECK_DATE("19410401", "1941-04-01");
	CHECK_DATE("1941年4月1日", "1941-04-01");
	CHECK_DATE("１９４１年４月１日", "1941-04-01");
	CHECK_DATE("昭和16年4月1日", "1941-04-01");
	CHECK_DATE("昭和１６年４月１日", "1941-04-01");
	CHECK_DATE("昭和十六年四月一日", "1941-04-01");
	CHECK_DATE("昭和 16 年 4 月 1 日", "1941-04-01");
	CHECK_DATE("S16.4.1", "1941-04-01");
	CHECK_DATE("s16/4/1", "1941-04-01");
	CHECK_DATE("Ｓ１６．４．１", "1941-04-01");
	CHECK_DATE("昭和二十年十二月三十一日", "1945-12-31");
	CHECK_DATE("大正15年12月24日", "1926-12-24");
	CHECK_DATE("昭和元年12月25日", "1926-12-25");
	CHECK_DATE("明治45年7月29日", "1912-07-29");
	CHECK_DATE("大正元年7月30日", "1912-07-30");
	CHECK_DATE("M44.1.1", "1911-01-01");
	CHECK_DATE("T3.5.5", "1914-05-05");
}

TEST(era_boundaries_are_exact)
{
	CHECK_DATE("昭和64年1月7日", "1989-01-07");
	CHECK_DATE("昭和64年1月8日", "no such date");
	CHECK_DATE("平成元年1月8日", "1989-01-08");
	CHECK_DATE("平成元年1月7日", "no such date");
	CHECK_DATE("H1.1.8", "1989-01-08");
	CHECK_DATE("平成31年4月30日", "2019-04-30");
	CHECK_DATE("平成31年5月1日", "no such date");
	CHECK_DATE("令和元年5月1日", "2019-05-01");
	CHECK_DATE("令和元年4月30日", "no such date");
	CHECK_DATE("R8.3.1", "2026-03-01");
	CHECK_DATE("大正15年12月25日", "no such date");
	CHECK_DATE("明治45年7月30日", "no such date");
	CHECK_DATE("昭和0年1月1日", "no such date");
}

TEST(refuses_what_is_not_a_date)
{
	CHECK_DATE("1941-02-29", "no such date");
	CHECK_DATE("1940-02-29", "1940-02-29");
	CHECK_DATE("昭和16年2月30日", "no such date");
	CHECK_DATE("1941-13-01", "no such date");
	CHECK_DATE("", "unreadable");
	CHECK_DATE("昭和", "unreadable");
	CHECK_DATE("16.4.1", "unreadable");
	CHECK_DATE("1941年4月1日生", "unreadable");
	CHECK_DATE("昭和十十年1月1日", "unreadable");
	CHECK_DATE("99999-1-1", "unreadable");
	CHECK_DATE("\xff\xfe", "unreadable");
	CHECK_DATE("X16.4.1", "unreadable");
}

TEST(phones_become_ascii)
{
	struct strbuf out = STRBUF_INIT;

	CHECK_INT(entry_parse_phone("０７８ー０００ー０００１", &out), 0);
	CHECK_STR(out.buf, "078-000-0001");
	strbuf_reset(&out);
	CHECK_INT(entry_parse_phone("078－000‐0001", &out), 0);
	CHECK_STR(out.buf, "078-000-0001");
	strbuf_reset(&out);
	CHECK_INT(entry_parse_phone("(078) 000-0001", &out), 0);
	CHECK_STR(out.buf, "078-000-0001");
	strbuf_reset(&out);
	CHECK_INT(entry_parse_phone("09000000002", &out), 0);
	CHECK_STR(out.buf, "09000000002");
	strbuf_reset(&out);
	CHECK(entry_parse_phone("078-000", &out) < 0);
	CHECK(entry_parse_phone("なし", &out) < 0);
	CHECK(entry_parse_phone("178-000-0001", &out) < 0);
	CHECK_STR(out.buf, "");
	strbuf_release(&out);
}

static int read_all(const char *text, struct csv_record *rows, int max, struct strbuf *why)
{
	struct csv c;
	int n = 0, r;

	csv_init(&c, text, strlen(text));
	while (n < max && (r = csv_next(&c, &rows[n], why)) != 0) {
		if (r < 0)
			return -1 - n;
		n++;
	}
	return n;
}

TEST(csv_reads_rfc4180)
{
	struct csv_record rows[4] = { { 0 } };
	struct strbuf why = STRBUF_INIT;
	int i;

	CHECK(read_all("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\r\nlines\"\r\n,,\n"
		       "last", rows, 4, &why) == 4);
	CHECK_INT(rows[0].nr, 3);
	CHECK_STR(rows[0].fields[2].buf, "c");
	CHECK_INT(rows[1].nr, 3);
	CHECK_STR(rows[1].fields[0].buf, "x, y");
	CHECK_STR(rows[1].fields[1].buf, "say \"hi\"");
	CHECK_STR(rows[1].fields[2].buf, "two\r\nlines");
	CHECK_INT(rows[2].nr, 3);
	CHECK_STR(rows[2].fields[1].buf, "");
	CHECK_INT(rows[3].nr, 1);
	CHECK_STR(rows[3].fields[0].buf, "last");
	for (i = 0; i < 4; i++)
		csv_record_clear(&rows[i]);
	strbuf_release(&why);
}

TEST(csv_counts_rows_not_lines)
{
	struct csv c;
	struct csv_record r = { 0 };
	struct strbuf why = STRBUF_INIT;
	const char *t = "h\n\"a\nb\nc\"\nnext\n";

	csv_init(&c, t, strlen(t));
	CHECK(csv_next(&c, &r, &why) == 1 && c.row == 1);
	CHECK(csv_next(&c, &r, &why) == 1 && c.row == 2);
	CHECK(csv_next(&c, &r, &why) == 1 && c.row == 3);
	CHECK_STR(r.fields[0].buf, "next");
	CHECK_INT(csv_next(&c, &r, &why), 0);
	csv_record_clear(&r);
	strbuf_release(&why);
}

TEST(csv_caps_and_unclosed_quotes)
{
	struct csv c;
	struct csv_record r = { 0 };
	struct strbuf why = STRBUF_INIT, big = STRBUF_INIT;
	size_t i;

	csv_init(&c, "\"never closed,a\nb", 17);
	CHECK(csv_next(&c, &r, &why) < 0);
	CHECK_CONTAINS(why.buf, "not closed");
	CHECK_INT(csv_next(&c, &r, &why), 0);
	strbuf_reset(&why);
	for (i = 0; i < CSV_MAX_FIELD + 10; i++)
		strbuf_addch(&big, 'x');
	strbuf_addstr(&big, "\nok\n");
	csv_init(&c, big.buf, big.len);
	CHECK(csv_next(&c, &r, &why) < 0);
	CHECK_CONTAINS(why.buf, "longer than");
	CHECK(strstr(why.buf, "xxx") == NULL);
	CHECK_INT(csv_next(&c, &r, &why), 1);
	CHECK_STR(r.fields[0].buf, "ok");
	strbuf_reset(&big);
	strbuf_reset(&why);
	for (i = 0; i < CSV_MAX_COLUMNS + 5; i++)
		strbuf_addch(&big, ',');
	csv_init(&c, big.buf, big.len);
	CHECK(csv_next(&c, &r, &why) < 0);
	CHECK_CONTAINS(why.buf, "columns");
	csv_record_clear(&r);
	strbuf_release(&why);
	strbuf_release(&big);
}

TEST(csv_headers_in_japanese_or_as_keys)
{
	CHECK_INT(csv_header_key("氏名"), E_NAME);
	CHECK_INT(csv_header_key(" 電話(自宅) "), E_PHONE_HOME);
	CHECK_INT(csv_header_key("電話（自宅）"), E_PHONE_HOME);
	CHECK_INT(csv_header_key("\xef\xbb\xbf氏名"), E_NAME);
	CHECK_INT(csv_header_key("birth-date"), E_BIRTH_DATE);
	CHECK_INT(csv_header_key("Birth-Date"), E_BIRTH_DATE);
	CHECK_INT(csv_header_key("依頼者２電話"), E_REQUESTER_2_PHONE);
	CHECK_INT(csv_header_key("好きな色"), -1);
}

UNIT_MAIN(T(reads_dates_as_people_write_them), T(era_boundaries_are_exact),
	  T(refuses_what_is_not_a_date), T(phones_become_ascii), T(csv_reads_rfc4180),
	  T(csv_counts_rows_not_lines), T(csv_caps_and_unclosed_quotes),
	  T(csv_headers_in_japanese_or_as_keys))
