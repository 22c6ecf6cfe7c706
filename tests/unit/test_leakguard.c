/*
 * test_leakguard - the leak guard (core/leakguard.c): every written form
 * of the person's identifying data is found, in full-width and with
 * spaces or hyphens, and reasons name fields, never values.
 */
#include "unit.h"
#include "core/leakguard.h"
#include "core/node.h"
#include "util/strbuf.h"

static struct node *record(void)
{
	struct node *r = node_new("record"), *p = node_add(r, "person", NULL), *q;

	node_add(p, "name", "神戸 花子");
	node_add(p, "name-kana", "こうべ はなこ");
	node_add(p, "maiden-name", "山田");
	node_add(p, "birth-date", "1941-04-01");
	node_add(p, "address", "神戸市中央区加納町6-5-1 見守りハイツ101号");
	node_add(p, "phone", "078-000-0001");
	node_add(p, "phone", "090-0000-0001");
	q = node_add(node_add(r, "requesters", NULL), "requester", NULL);
	node_add(q, "name", "神戸 太郎");
	node_add(q, "phone", "080-1111-2222");
	node_add(node_add(r, "care", NULL), "diagnosis", "アルツハイマー型認知症");
	return r;
}

static int hits(const char *text, struct strbuf *why)
{
	struct leakguard lg = LEAKGUARD_INIT;
	struct node *r = record();
	int n;

	strbuf_reset(why);
	leakguard_add_record(&lg, r);
	n = leakguard_check(&lg, text, why);
	leakguard_release(&lg);
	node_free(r);
	return n;
}

TEST(clean_text_passes)
{
	struct strbuf why = STRBUF_INIT;

	CHECK(hits("女性、85歳。三宮センター街 東口付近で 2026-11-21 07:00 に見失う。"
		   "生田警察署 078-000-0110。身長148cm", &why) == 0);
	CHECK_STR(why.buf, "");
	strbuf_release(&why);
}

TEST(finds_names)
{
	struct strbuf why = STRBUF_INIT;

	CHECK(hits("お名前は神戸花子さん", &why) == 1);
	CHECK_STR(why.buf, "contains the person's name");
	CHECK(hits("こうべ　はなこ", &why) == 1);
	CHECK_STR(why.buf, "contains the person's name-kana");
	CHECK(hits("旧姓 山田", &why) == 1);
	CHECK_STR(why.buf, "contains the person's maiden name");
	CHECK(hits("依頼者 神戸　太郎", &why) == 1);
	CHECK(hits("診断: アルツハイマー型認知症", &why) == 1);
	CHECK_STR(why.buf, "contains the diagnosis");
	strbuf_release(&why);
}

TEST(finds_birth_date_in_every_form)
{
	struct strbuf why = STRBUF_INIT;
	static const char *const forms[] = {
		"1941-04-01", "1941/4/1", "1941/04/01", "1941年4月1日", "昭和16年4月1日",
		"S16.4.1", "s16.4.1", "昭和１６年４月１日", "１９４１－０４－０１", NULL
	};
	const char *const *f;

	for (f = forms; *f; f++) {
		CHECK(hits(*f, &why) >= 1);
		CHECK_CONTAINS(why.buf, "the person's birth date");
		CHECK(!strstr(why.buf, "1941"));
	}
	strbuf_release(&why);
}

TEST(finds_phones_in_any_spelling)
{
	struct strbuf why = STRBUF_INIT;

	CHECK(hits("連絡先 090-0000-0001", &why) == 1);
	CHECK_STR(why.buf, "contains the person's phone");
	CHECK(hits("連絡先 ０９０－００００－０００１", &why) == 1);
	CHECK(hits("連絡先 (078) 000 0001", &why) == 1);
	CHECK(hits("連絡先 08011112222", &why) == 1);
	CHECK_STR(why.buf, "contains a requester's phone");
	/* Digits of unrelated numbers do not run together. */
	CHECK(hits("090-0000 年 0001", &why) == 0);
	strbuf_release(&why);
}

TEST(finds_address_after_the_ward)
{
	struct strbuf why = STRBUF_INIT;

	CHECK(hits("加納町６－５－１見守りハイツ１０１号の前", &why) >= 1);
	CHECK_STR(why.buf, "contains the person's address");
	CHECK(hits("中央区加納町付近", &why) == 0);
	/* The street and number alone, without the building. */
	CHECK(hits("加納町6-5-1の自宅前", &why) == 1);
	CHECK_STR(why.buf, "contains the person's address");
	CHECK(hits("加納町６の自宅前", &why) == 0);
	strbuf_release(&why);
}

TEST(eras)
{
	const char *era;
	char l;
	int y;

	CHECK(leakguard_era(1941, 4, 1, &era, &l, &y) == 0 && l == 'S' && y == 16);
	CHECK_STR(era, "昭和");
	CHECK(leakguard_era(1926, 12, 24, &era, &l, &y) == 0 && l == 'T' && y == 15);
	CHECK(leakguard_era(1989, 1, 8, &era, &l, &y) == 0 && l == 'H' && y == 1);
	CHECK(leakguard_era(1912, 7, 29, &era, &l, &y) == 0 && l == 'M' && y == 45);
	CHECK(leakguard_era(1800, 1, 1, &era, &l, &y) < 0);
}

UNIT_MAIN(T(clean_text_passes), T(finds_names), T(finds_birth_date_in_every_form),
	  T(finds_phones_in_any_spelling), T(finds_address_after_the_ward), T(eras))
