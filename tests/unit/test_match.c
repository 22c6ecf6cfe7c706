/*
 * match scoring (admin/match_score.h): exclusion by sex, points for age,
 * height, ward and words, the near misses, folding of the words.
 */
#include "unit.h"
#include "admin/match_score.h"
#include "util/timeutil.h"

static long today(void)
{
	long d;

	date_parse("2026-11-21", &d);
	return d;
}

/* A record: female, born 1941-04-01 (85 on 2026-11-21), 148 cm, chuo. */
static struct node *record(void)
{
	struct node *r = node_new("record"), *p, *f;

	node_set_attr(r, "id", "R2026-000001");
	p = node_add(r, "person", NULL);
	node_add(p, "name", "試験 花子");
	node_add(p, "sex", "female");
	node_add(p, "birth-date", "1941-04-01");
	node_set_attr(node_add(p, "address", "神戸市中央区"), "ward", "chuo");
	node_add(p, "usual-places", "三宮センター街の喫茶店");
	node_add(p, "previous-residences", "明石市");
	f = node_add(p, "features", NULL);
	node_add(f, "height-cm", "148");
	node_add(f, "gait", "cane");
	node_add(f, "marks", "右手の甲にほくろ");
	node_set_attr(node_add(p, "lost-before", "元町駅で保護"), "count", "1");
	return r;
}

static int score(struct match_query *q, struct strbuf *what)
{
	struct node *r = record();
	int s;

	strbuf_reset(what);
	s = match_score(q, r, today(), what);
	node_free(r);
	return s;
}

TEST(sex_mismatch_excludes)
{
	struct match_query q = MATCH_QUERY_INIT;
	struct strbuf what = STRBUF_INIT;

	q.sex = 'm';
	CHECK_INT(score(&q, &what), -1);
	q.sex = 'f';
	CHECK_INT(score(&q, &what), 0);
	strbuf_release(&what);
}

TEST(age_inside_near_and_far)
{
	struct match_query q = MATCH_QUERY_INIT;
	struct strbuf what = STRBUF_INIT;

	q.age_min = 80, q.age_max = 90;
	CHECK_INT(score(&q, &what), 3);
	CHECK_STR(what.buf, "age");
	q.age_min = 70, q.age_max = 82;   /* 85 is 3 years above */
	CHECK_INT(score(&q, &what), 1);
	CHECK_STR(what.buf, "age~");
	q.age_min = 70, q.age_max = 81;   /* 4 years: nothing */
	CHECK_INT(score(&q, &what), 0);
	CHECK_STR(what.buf, "");
	strbuf_release(&what);
}

TEST(height_and_ward)
{
	struct match_query q = MATCH_QUERY_INIT;
	struct strbuf what = STRBUF_INIT;

	q.height_min = 145, q.height_max = 150;
	q.ward = "chuo";
	CHECK_INT(score(&q, &what), 3);
	CHECK_STR(what.buf, "height,ward");
	q.height_min = 150, q.height_max = 160;  /* 2 cm short */
	q.ward = "nada";
	CHECK_INT(score(&q, &what), 1);
	CHECK_STR(what.buf, "height~");
	strbuf_release(&what);
}

TEST(words_are_folded_and_counted_once_each)
{
	struct match_query q = MATCH_QUERY_INIT;
	struct strbuf what = STRBUF_INIT;

	/* Full-width, a word in lost-before, a coded value's Japanese word, a miss. */
	match_query_add_words(&q, "ほくろ  元町 杖 ｾﾝﾀｰ 眼鏡");
	CHECK_INT(q.words.nr, 5);
	CHECK_INT(score(&q, &what), 8);
	CHECK_CONTAINS(what.buf, "word:ほくろ");
	CHECK_CONTAINS(what.buf, "word:元町");
	CHECK_CONTAINS(what.buf, "word:杖");
	CHECK_CONTAINS(what.buf, "word:センタ"); /* folded: no long-vowel mark */
	CHECK(!strstr(what.buf, "眼鏡"));
	match_query_release(&q);
	strbuf_release(&what);
}

TEST(name_and_address_are_not_searched)
{
	struct match_query q = MATCH_QUERY_INIT;
	struct strbuf what = STRBUF_INIT;

	match_query_add_words(&q, "花子 中央区");
	CHECK_INT(score(&q, &what), 0);
	match_query_release(&q);
	strbuf_release(&what);
}

TEST(ranges_parse)
{
	int lo, hi;

	CHECK(match_parse_range("75-85", &lo, &hi) == 0 && lo == 75 && hi == 85);
	CHECK(match_parse_range("150", &lo, &hi) == 0 && lo == 150 && hi == 150);
	CHECK(match_parse_range("85-75", &lo, &hi) < 0);
	CHECK(match_parse_range("-5", &lo, &hi) < 0);
	CHECK(match_parse_range("75-", &lo, &hi) < 0);
	CHECK(match_parse_range("7x", &lo, &hi) < 0);
	CHECK(match_parse_range("", &lo, &hi) < 0);
}

UNIT_MAIN(T(sex_mismatch_excludes), T(age_inside_near_and_far), T(height_and_ward),
	  T(words_are_folded_and_counted_once_each), T(name_and_address_are_not_searched),
	  T(ranges_parse))
