/*
 * test_leakguard - the leak guard (core/leakguard.c): a corpus of the
 * ways a person's identifying data can be written into an alert (every
 * one must be caught, with the kind of data named and never the value)
 * and of innocent texts that must pass, then the reasons' places and
 * the romaji and era helpers. Synthetic data only (神戸 花子, born
 * 1941-04-01). Memory only; writes no files.
 */
#include "unit.h"
#include "core/leakguard.h"
#include "util/node.h"
#include "util/strbuf.h"

static struct node *record(void)
{
	struct node *r = node_new("record"), *p = node_add(r, "person", NULL), *q, *cm;

	node_set_attr(r, "id", "R2026-000003");
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
	cm = node_add(r, "care", NULL);
	node_add(cm, "diagnosis", "アルツハイマー型認知症");
	cm = node_add(cm, "care-manager", NULL);
	node_add(cm, "office", "中央みまもり居宅介護支援事業所");
	node_add(cm, "name", "須磨 一郎");
	node_add(cm, "phone", "078-000-0004");
	node_set_attr(node_add(r, "intake", NULL), "staff", "垂水 さくら");
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

/* A leak and the kind of data its reason must name. */
struct leak {
	const char *text, *kind;
};

#define NAME "the person's name"
#define KANA "the person's name-kana"
#define GIVEN "the person's given name"
#define GIVEN_KANA "the person's given name in kana"
#define ROMAJI "the person's given name in romaji"
#define FAMILY "the person's family name with an honorific"
#define MAIDEN "the person's maiden name"
#define BIRTH "the person's birth date"
#define PHONE "the person's phone"
#define ADDRESS "the person's address"
#define REG "the registration id"
#define REQ_NAME "a requester's name"
#define REQ_PHONE "a requester's phone"
#define CM_NAME "the care manager's name"
#define CM_OFFICE "the care manager's office"
#define CM_PHONE "the care manager's phone"
#define STAFF "the intake staff's name"
#define DIAG "the diagnosis"

static const struct leak leaks[] = {
	/* The name and name-kana whole, in every script and spacing. */
	{ "お名前は神戸花子さん", NAME },
	{ "神戸　花子", NAME },
	{ "神 戸 花 子", NAME },
	{ "神\u200b戸花子", NAME },                  /* zero-width space */
	{ "神戸\ufeff花\u2060子", NAME },            /* BOM, word joiner */
	{ "神戸花\ufe00子", NAME },                  /* variation selector */
	{ "神戸・花子", NAME },
	{ "神戸_花子", NAME },
	{ "神戸/花子", NAME },
	{ "神戸－花子", NAME },
	{ "神戸、花子", NAME },
	{ "こうべ　はなこ", KANA },
	{ "コウベ ハナコ", KANA },
	{ "ｺｳﾍﾞ ﾊﾅｺ", KANA },
	{ "こ・う・べ・は・な・こ", KANA },
	{ "コウベ－ハナコ", KANA },
	{ "ｺｳﾍﾞﾊﾅｺ様", KANA },
	/* The given name and its kana alone. */
	{ "花子さんを探しています", GIVEN },
	{ "花子", GIVEN },
	{ "花　子", GIVEN },
	{ "はなこ", GIVEN_KANA },
	{ "ハナコ", GIVEN_KANA },
	{ "ﾊﾅｺ", GIVEN_KANA },
	{ "ハ・ナ・コ", GIVEN_KANA },
	{ "は\u200bな\u200bこ", GIVEN_KANA },
	{ "はなちゃん、はなこちゃん", GIVEN_KANA },
	/* Romaji. */
	{ "Hanako", ROMAJI },
	{ "HANAKO", ROMAJI },
	{ "ＨＡＮＡＫＯ", ROMAJI },
	{ "Kobe Hanako", ROMAJI },
	{ "KOBE HANAKO", ROMAJI },
	{ "Hanako Kobe", ROMAJI },
	{ "Hanako Koube", ROMAJI },
	{ "KobeHanako", ROMAJI },
	{ "Hanako-san", ROMAJI },
	{ "hanakosan", ROMAJI },
	{ "Hanako.Kobe@example.jp", ROMAJI },
	{ "h-a-n-a-k-o", ROMAJI },
	/* The family name with an honorific. */
	{ "神戸さん", FAMILY },
	{ "神戸様", FAMILY },
	{ "神戸氏", FAMILY },
	{ "神戸君", FAMILY },
	{ "神戸くん", FAMILY },
	{ "神戸ちゃん", FAMILY },
	{ "神戸 さん", FAMILY },
	{ "こうべさん", FAMILY },
	{ "コウベサン", FAMILY },
	{ "ｺｳﾍﾞさま", FAMILY },
	{ "Kobe-san", FAMILY },
	{ "Kōbe-sama", FAMILY },
	/* The maiden name. */
	{ "旧姓 山田", MAIDEN },
	{ "旧姓は山　田", MAIDEN },
	/* The birth date in every common form. */
	{ "19410401", BIRTH },
	{ "1941-04-01", BIRTH },
	{ "1941/4/1", BIRTH },
	{ "1941/04/01", BIRTH },
	{ "1941.4.1", BIRTH },
	{ "1941.04.01", BIRTH },
	{ "1941年4月1日", BIRTH },
	{ "1941年04月01日", BIRTH },
	{ "1941年 4月 1日生まれ", BIRTH },
	{ "１９４１－０４－０１", BIRTH },
	{ "一九四一年四月一日", BIRTH },
	{ "41/4/1生", BIRTH },
	{ "41.04.01", BIRTH },
	{ "'41年4月1日", BIRTH },
	{ "昭和16年4月1日", BIRTH },
	{ "昭和十六年四月一日", BIRTH },
	{ "昭和１６年４月１日", BIRTH },
	{ "昭和16.4.1", BIRTH },
	{ "昭16/4/1", BIRTH },
	{ "S16.4.1", BIRTH },
	{ "s16.4.1", BIRTH },
	{ "S16/04/01", BIRTH },
	{ "S16-4-1", BIRTH },
	{ "Ｓ１６．４．１", BIRTH },
	{ "生年月日 S.16.4.1", BIRTH },
	/* Every phone, with any separators, in full width or kanji. */
	{ "連絡先 090-0000-0001", PHONE },
	{ "連絡先 ０９０－００００－０００１", PHONE },
	{ "(078) 000 0001", PHONE },
	{ "078/000/0001", PHONE },
	{ "078・000・0001", PHONE },
	{ "〇七八・〇〇〇・〇〇〇一", PHONE },
	{ "〇九〇ー〇〇〇〇ー〇〇〇一", PHONE },
	{ "090ー0000ー0001", PHONE },
	{ "0900000\u200b0001", PHONE },
	{ "+81-90-0000-0001", PHONE },
	{ "電話 78-000-0001", PHONE },
	{ "08011112222", REQ_PHONE },
	{ "080.1111.2222", REQ_PHONE },
	{ "ケアマネ 078-000-0004", CM_PHONE },
	/* The address after its city and ward. */
	{ "加納町6-5-1の自宅前", ADDRESS },
	{ "加納町6丁目5番1号", ADDRESS },
	{ "加納町六丁目五番一号", ADDRESS },
	{ "加納町6丁目5番地の1", ADDRESS },
	{ "加納町６－５－１", ADDRESS },
	{ "加納町6ー5ー1", ADDRESS },
	{ "加納町6の5の1", ADDRESS },
	{ "加納町 6-5-1 見守りハイツ101号", ADDRESS },
	{ "中央区加納町6・5・1", ADDRESS },
	/* The registration id. */
	{ "登録番号 R2026-000003", REG },
	{ "r2026000003", REG },
	{ "Ｒ２０２６－０００００３", REG },
	/* Requesters, care manager and its office, intake staff. */
	{ "長男の神戸太郎さん", REQ_NAME },
	{ "依頼者 神戸　太郎", REQ_NAME },
	{ "担当 須磨一郎", CM_NAME },
	{ "須磨 一郎", CM_NAME },
	{ "中央みまもり居宅介護支援事業所に連絡", CM_OFFICE },
	{ "中央 みまもり 居宅介護支援事業所", CM_OFFICE },
	{ "受付 垂水さくら", STAFF },
	{ "垂水・さくら", STAFF },
	/* The diagnosis and runs of 4 of its characters. */
	{ "診断: アルツハイマー型認知症", DIAG },
	{ "アルツハイマー", DIAG },
	{ "ｱﾙﾂﾊｲﾏｰ", DIAG },
	{ "あるつはいまー", DIAG },
	{ "型認知症の方です", DIAG },
	{ "マー型認知", DIAG },
	{ "ハイマー型", DIAG },
};

/* Texts that must pass. */
static const char *const innocents[] = {
	"女性、85歳。三宮センター街 東口付近で見失う。",
	"JR神戸駅の改札付近",
	"神戸市中央区",
	"神戸駅から神戸空港行き",
	"JR KOBE Station",
	"Last seen near Kobe Station and Yokohama",
	"紺色のジャンパー、灰色のズボン、白い運動靴",
	"茶色の手提げかばん、花柄の帽子",
	"07:00ごろ自宅を出た",
	"2026年11月21日 7時00分ごろ",
	"2026-11-21T09:30:00+09:00",
	"1941年に建てられた駅舎",
	"昭和16年ごろの写真",
	"4月1日に転居",
	"2041年4月1日",
	"生田警察署 電話 078-000-9110",
	"身長148cm、体重45kg、靴22.5cm",
	"85歳の女性",
	"加納町付近、中央区加納町の公園",
	"6-5-1",
	"アルツ",
	"認知症の疑い",
	"花柄のスカーフ",
	"山手幹線沿い",
	"田んぼ沿いの道",
	"カード入れ",
	"電話 078-414-1234",
	"平成16年4月10日",
	"S16.4.10",
	"A2026-000003",
	"こんにちは、ありがとうございます",
	"花屋の前、子ども連れ",
};

TEST(corpus)
{
	struct strbuf why = STRBUF_INIT;
	size_t i, nleaks = 0, ninnocent = 0, caught = 0, passed = 0;

	for (i = 0; i < sizeof(leaks) / sizeof(leaks[0]); i++) {
		nleaks++;
		if (hits(leaks[i].text, &why) < 1) {
			fprintf(stderr, "  not caught: '%s' (%s)\n", leaks[i].text, leaks[i].kind);
			unit_failed = 1;
			continue;
		}
		if (!strstr(why.buf, leaks[i].kind)) {
			fprintf(stderr, "  '%s': '%s' does not name %s\n", leaks[i].text,
				why.buf, leaks[i].kind);
			unit_failed = 1;
			continue;
		}
		caught++;
	}
	for (i = 0; i < sizeof(innocents) / sizeof(innocents[0]); i++) {
		ninnocent++;
		if (hits(innocents[i], &why)) {
			fprintf(stderr, "  held: '%s': %s\n", innocents[i], why.buf);
			unit_failed = 1;
			continue;
		}
		passed++;
	}
	printf("# leak corpus: %zu of %zu leaks caught, %zu of %zu innocent texts passed\n",
	       caught, nleaks, passed, ninnocent);
	CHECK(nleaks >= 100);
	CHECK(ninnocent >= 20);
	strbuf_release(&why);
}

TEST(reasons_never_hold_values)
{
	static const char *const values[] = { "神戸", "花子", "はなこ", "hanako", "1941",
					      "0900000", "加納町", "R2026", "アルツ", NULL };
	struct strbuf why = STRBUF_INIT;
	const char *const *v;
	size_t i;

	for (i = 0; i < sizeof(leaks) / sizeof(leaks[0]); i++) {
		hits(leaks[i].text, &why);
		for (v = values; *v; v++)
			if (strstr(why.buf, *v)) {
				fprintf(stderr, "  '%s' in the reason '%s'\n", *v, why.buf);
				unit_failed = 1;
			}
	}
	strbuf_release(&why);
}

TEST(reasons_say_where)
{
	struct leakguard lg = LEAKGUARD_INIT;
	struct node *r = record();
	struct strbuf why = STRBUF_INIT;
	const struct leak_source src[] = {
		{ "<last-seen>", "三宮センター街" },
		{ "<notes>", "花子さんは 090-0000-0001 を持っています" },
	};

	leakguard_add_record(&lg, r);
	CHECK(leakguard_check_mail(&lg, "行方不明（A2026-000001）",
				   "場所: 三宮センター街\n備考: 花子さんは 090-0000-0001 を持っています\n",
				   src, 2, &why) == 2);
	CHECK_STR(why.buf, "the person's given name in <notes>; the person's phone in <notes>");
	/* Not from any source: the subject or the body. */
	strbuf_reset(&why);
	CHECK(leakguard_check_mail(&lg, "神戸花子さん", "本文", src, 2, &why) >= 1);
	CHECK_CONTAINS(why.buf, "the person's name in the subject");
	strbuf_reset(&why);
	CHECK_INT(leakguard_check_mail(&lg, "件名", "S16.4.1", src, 2, &why), 1);
	CHECK_STR(why.buf, "the person's birth date in the body");
	/* A source alone, not in the text, is no hit. */
	strbuf_reset(&why);
	CHECK_INT(leakguard_check_mail(&lg, "件名", "本文", src, 2, &why), 0);
	CHECK_STR(why.buf, "");
	leakguard_release(&lg);
	node_free(r);
	strbuf_release(&why);
}

TEST(romaji)
{
	struct strlist l = STRLIST_INIT;

	CHECK_INT(leakguard_romaji("ようこ", &l, 16), 0);
	strlist_sort(&l);
	CHECK(l.nr == 5 && strlist_has(&l, "youko") && strlist_has(&l, "yoko") &&
	      strlist_has(&l, "yooko") && strlist_has(&l, "yohko") &&
	      strlist_has(&l, "y\xc5\x8dko"));
	strlist_clear(&l);
	CHECK_INT(leakguard_romaji("しょうへい", &l, 16), 0);
	strlist_sort(&l);
	CHECK(strlist_has(&l, "shouhei") && strlist_has(&l, "shohei"));
	strlist_clear(&l);
	CHECK(leakguard_romaji("きっちゃん", &l, 16) == 0 && l.nr == 1);
	CHECK_STR(l.items[0], "kitchan");
	strlist_clear(&l);
	CHECK_INT(leakguard_romaji("じゅんぺい", &l, 16), 0);
	strlist_sort(&l);
	CHECK(l.nr == 2 && strlist_has(&l, "junpei") && strlist_has(&l, "jumpei"));
	strlist_clear(&l);
	CHECK_INT(leakguard_romaji("ゆーこ", &l, 16), 0);
	strlist_sort(&l);
	CHECK(strlist_has(&l, "yuuko") && strlist_has(&l, "yuko"));
	strlist_clear(&l);
	CHECK(leakguard_romaji("花子", &l, 16) < 0 && l.nr == 0);
	strlist_clear(&l);
}

TEST(long_vowels_of_a_given_name)
{
	struct leakguard lg = LEAKGUARD_INIT;
	struct strbuf why = STRBUF_INIT;
	static const char *const forms[] = { "Youko", "Yoko", "Yōko", "YOHKO", "yooko-san",
					     "Kobe Yoko", NULL };
	const char *const *f;

	leakguard_add_name(&lg, "the person's", "神戸 洋子", "こうべ ようこ");
	for (f = forms; *f; f++) {
		strbuf_reset(&why);
		CHECK(leakguard_check(&lg, *f, &why) >= 1);
		CHECK_CONTAINS(why.buf, "the person's given name in romaji");
	}
	strbuf_reset(&why);
	CHECK_INT(leakguard_check(&lg, "Yokohama", &why), 0);
	CHECK_INT(leakguard_check(&lg, "Tokyo", &why), 0);
	leakguard_release(&lg);
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

TEST(first_year_of_an_era)
{
	struct leakguard lg = LEAKGUARD_INIT;
	struct strbuf why = STRBUF_INIT;

	leakguard_add_date(&lg, "the person's birth date", "1926-12-30");
	CHECK_INT(leakguard_check(&lg, "昭和元年12月30日", &why), 1);
	CHECK_INT(leakguard_check(&lg, "昭和一年十二月三十日", &why), 1);
	CHECK_INT(leakguard_check(&lg, "S1.12.30", &why), 1);
	leakguard_release(&lg);
	strbuf_release(&why);
}

UNIT_MAIN(T(corpus), T(reasons_never_hold_values), T(reasons_say_where), T(romaji),
	  T(long_vowels_of_a_given_name), T(eras), T(first_year_of_an_era))
