/*
 * test_text - UTF-8 checks, NFKC, the leak guard's folded form, digits,
 * and ISO-2022-JP conversion both ways. Memory only; writes no files.
 */
#include "unit.h"
#include "lib/text.h"
#include "util/strbuf.h"

static const char *nfkc(struct strbuf *sb, const char *s)
{
	strbuf_reset(sb);
	text_nfkc(s, sb);
	return sb->buf;
}

static const char *fold(struct strbuf *sb, const char *s)
{
	strbuf_reset(sb);
	text_fold(s, sb);
	return sb->buf;
}

static const char *strict(struct strbuf *sb, const char *s)
{
	strbuf_reset(sb);
	text_fold_strict(s, sb, NULL);
	return sb->buf;
}

static const char *digits(struct strbuf *sb, const char *s)
{
	strbuf_reset(sb);
	text_digits(s, sb);
	return sb->buf;
}

TEST(nfkc_makes_full_width_half_width)
{
	struct strbuf sb = STRBUF_INIT;

	CHECK_STR(nfkc(&sb, "０７８"), "078");
	CHECK_STR(nfkc(&sb, "ＡＢＣ"), "ABC");
	CHECK_STR(nfkc(&sb, "ｺｳﾍﾞ"), "コウベ");
	CHECK_STR(nfkc(&sb, "神戸　花子"), "神戸 花子");
	CHECK_STR(nfkc(&sb, ""), "");
	/* Invalid UTF-8 is copied as it is. */
	CHECK_STR(nfkc(&sb, "a\xe9z"), "a\xe9z");
	strbuf_release(&sb);
}

TEST(fold_removes_spaces_and_hyphens)
{
	struct strbuf sb = STRBUF_INIT;

	CHECK_STR(fold(&sb, "０７８−０００ ０００"), "078000000");
	CHECK_STR(fold(&sb, "078-000-0000"), "0780000000");
	CHECK_STR(fold(&sb, "078‐000‑0000‒1–2—3―4"), "07800000001234");
	CHECK_STR(fold(&sb, "こうべ　はなこ"), "こうべはなこ");
	CHECK_STR(fold(&sb, "こうべ\tはな\nこ "), "こうべはなこ");
	CHECK_STR(fold(&sb, "加納町６－５－１"), "加納町651");
	CHECK_STR(fold(&sb, "ＫＯＢＥ Hanako"), "kobehanako");
	CHECK_STR(fold(&sb, "ルーム ﾙｰﾑ"), "ルムルム");
	/* Not every dash-like letter: the kanji for "one" stays. */
	CHECK_STR(fold(&sb, "一丁目"), "一丁目");
	strbuf_release(&sb);
}

TEST(strict_fold_kana_kanji_numbers_punctuation)
{
	struct strbuf sb = STRBUF_INIT, seps = STRBUF_INIT;

	CHECK_STR(strict(&sb, "ｺｳﾍﾞ ﾊﾅｺ"), "こうべはなこ");
	CHECK_STR(strict(&sb, "コウベ・ハナコ"), "こうべはなこ");
	CHECK_STR(strict(&sb, "ＫＯＢＥ_Hanako"), "kobehanako");
	CHECK_STR(strict(&sb, "YŌKO"), "yōko");
	CHECK_STR(strict(&sb, "昭和十六年四月一日"), "昭和16年4月1日");
	CHECK_STR(strict(&sb, "一九四一年十二月三十一日"), "1941年12月31日");
	CHECK_STR(strict(&sb, "二十日 十日"), "20日10日");
	CHECK_STR(strict(&sb, "〇九〇／〇〇〇〇、〇〇〇一"), "09000000001");
	CHECK_STR(strict(&sb, "1941.04.01"), "19410401");
	CHECK_STR(strict(&sb, "078−000‐0001 ― 2"), "07800000012");
	/* Invisible characters go, and separate nothing. */
	CHECK_STR(strict(&sb, "神\u200b戸\ufeff花\u2060子\ufe00"), "神戸花子");
	CHECK_STR(strict(&sb, "葛\U000e0100飾"), "葛飾");
	/* ー lengthens kana, and is a dash after anything else. */
	CHECK_STR(strict(&sb, "カード ｶｰﾄﾞ"), "かーどかーど");
	CHECK_STR(strict(&sb, "090ー0000ー0001"), "09000000001");
	CHECK_STR(strict(&sb, "は-な-こ"), "はなこ");
	CHECK_STR(strict(&sb, "a\xe9z"), "a\xef\xbf\xbdz");   /* U+FFFD */
	/* Separator marks: where a space or a dash was removed. */
	strbuf_reset(&sb);
	text_fold_strict("4 1-x\u200by", &sb, &seps);
	CHECK_STR(sb.buf, "41xy");
	CHECK(seps.len == 4 && !seps.buf[0] && seps.buf[1] && seps.buf[2] && !seps.buf[3]);
	strbuf_release(&sb);
	strbuf_release(&seps);
}

TEST(digits_of_nfkc)
{
	struct strbuf sb = STRBUF_INIT;

	CHECK_STR(digits(&sb, "０７８-1"), "0781");
	CHECK_STR(digits(&sb, "０９０－００００－１２３４"), "09000001234");
	CHECK_STR(digits(&sb, "昭和16年4月1日"), "1641");
	CHECK_STR(digits(&sb, "なし"), "");
	strbuf_release(&sb);
}

TEST(utf8_checks)
{
	CHECK(text_is_utf8("abc", 3));
	CHECK(text_is_utf8("神戸", strlen("神戸")));
	CHECK(text_is_utf8("", 0));
	CHECK(!text_is_utf8("\xe9", 1));             /* Latin-1 é alone */
	CHECK(!text_is_utf8("a\xe9z", 3));
	CHECK(!text_is_utf8("\xc0\xaf", 2));         /* overlong '/' */
	CHECK(!text_is_utf8("a\0b", 3));             /* NUL */
	CHECK(!text_is_utf8("\xed\xa0\x80", 3));     /* surrogate U+D800 */
	CHECK(!text_is_utf8("\xe7\xa5", 2));         /* truncated 神 */
	CHECK(!text_is_utf8("\xf4\x90\x80\x80", 4)); /* beyond U+10FFFF */
}

/* Where the first bad byte is: the XML parser's "not UTF-8 (line N)". */
TEST(utf8_first_bad_byte)
{
	const char *s = "神戸\nab\xc0\xafz", *nul = "ab\0\xe9";

	CHECK(text_utf8_bad(s, 6) == NULL);
	CHECK_INT(text_utf8_bad(s, strlen(s)) - s, 9);
	CHECK_INT(text_utf8_bad(nul, 4) - nul, 2);
	CHECK_INT(text_utf8_bad("a\xe7\xa5", 3) - "a\xe7\xa5", 1);
}

TEST(iso2022jp_round_trip)
{
	const char *s = "神戸市中央区 行方不明";
	struct strbuf jis = STRBUF_INIT, back = STRBUF_INIT;
	size_t i;

	CHECK_INT(text_to_iso2022jp(s, strlen(s), &jis), 0);
	CHECK(jis.len > 3 && !memcmp(jis.buf, "\033$B", 3));
	for (i = 0; i < jis.len; i++)
		CHECK((unsigned char)jis.buf[i] < 0x80);
	CHECK_INT(text_to_utf8("ISO-2022-JP", jis.buf, jis.len, &back), 0);
	CHECK_STR(back.buf, s);
	strbuf_release(&jis);
	strbuf_release(&back);
}

TEST(iso2022jp_ends_in_ascii)
{
	const char *s = "行方不明";
	struct strbuf jis = STRBUF_INIT;

	CHECK_INT(text_to_iso2022jp(s, strlen(s), &jis), 0);
	CHECK(jis.len > 6 && !memcmp(jis.buf + jis.len - 3, "\033(B", 3));
	/* Each line goes back to ASCII before its newline. */
	strbuf_reset(&jis);
	s = "神戸\n中央区\n";
	CHECK_INT(text_to_iso2022jp(s, strlen(s), &jis), 0);
	CHECK(strstr(jis.buf, "\033(B\n") != NULL);
	CHECK_INT(jis.buf[jis.len - 1], '\n');
	strbuf_reset(&jis);
	CHECK_INT(text_to_iso2022jp("plain", 5, &jis), 0);
	CHECK_STR(jis.buf, "plain");
	strbuf_release(&jis);
}

TEST(iso2022jp_refuses_what_it_cannot_carry)
{
	const char *bad[] = {
		"髙橋",             /* U+9AD9, not in JIS X 0208 */
		"山﨑",             /* U+FA11 */
		"見つかりました😀", /* emoji */
		"ｶﾀｶﾅ",             /* half-width katakana */
		"\xe9t\xe9",        /* not UTF-8 */
	};
	struct strbuf out = STRBUF_INIT;
	size_t i;

	strbuf_addstr(&out, "kept");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(text_to_iso2022jp(bad[i], strlen(bad[i]), &out) < 0);
	CHECK_STR(out.buf, "kept");  /* unchanged */
	strbuf_release(&out);
}

TEST(to_utf8_from_other_charsets)
{
	struct strbuf out = STRBUF_INIT;

	CHECK_INT(text_to_utf8("ISO-8859-1", "caf\xe9", 4, &out), 0);
	CHECK_STR(out.buf, "café");
	strbuf_reset(&out);
	CHECK_INT(text_to_utf8("Shift_JIS", "\x90\x5f\x8c\xcb", 4, &out), 0);
	CHECK_STR(out.buf, "神戸");
	strbuf_reset(&out);
	/* Truncated and invalid input, and a charset nobody knows. */
	CHECK(text_to_utf8("Shift_JIS", "\x90", 1, &out) < 0);
	CHECK(text_to_utf8("UTF-8", "\xc0\xaf", 2, &out) < 0);
	CHECK(text_to_utf8("x-no-such-charset", "a", 1, &out) < 0);
	CHECK_INT(out.len, 0);
	strbuf_release(&out);
}

UNIT_MAIN(T(nfkc_makes_full_width_half_width), T(fold_removes_spaces_and_hyphens),
	  T(strict_fold_kana_kanji_numbers_punctuation),
	  T(digits_of_nfkc), T(utf8_checks), T(utf8_first_bad_byte), T(iso2022jp_round_trip),
	  T(iso2022jp_ends_in_ascii), T(iso2022jp_refuses_what_it_cannot_carry),
	  T(to_utf8_from_other_charsets))
