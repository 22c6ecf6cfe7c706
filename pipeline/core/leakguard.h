#ifndef LEAKGUARD_H
#define LEAKGUARD_H
#include <stddef.h>
#include "../util/node.h"
#include "../util/fileio.h"
#include "../util/strbuf.h"

/*
 * The leak guard: before an alert or an update is queued, its rendered
 * text (subject and body, decoded) is searched for what must never reach
 * a helper. The text and every value searched for ("needle") are folded
 * alike with text_fold_strict() (see text.h: NFKC, katakana to hiragana,
 * kanji numbers to digits, lower case, no spaces, dashes, dots, middle
 * dots, slashes, underscores, commas, zero-width characters or variation
 * selectors, parentheses). Searched for, from the record:
 *
 *  - the person's name and name-kana whole; the given name and its kana
 *    (after the first space) alone when 2 characters or more; the family
 *    name and its kana only followed by さん, 様, さま, 氏, 君, くん or
 *    ちゃん (so JR神戸駅 does not hold an alert for 神戸 花子); the given
 *    name's reading in Hepburn romaji, long vowels written ou, oo, o, oh
 *    or with a macron alike (ようこ: youko, yooko, yoko, yohko, yōko),
 *    alone, after or before the family name's, or with -san, -sama,
 *    -chan or -kun; the maiden name;
 *  - the birth date: 19410401, 1941/4/1, 1941.04.01, 1941年4月1日, with
 *    or without zero padding, two-digit years (41/4/1), and the era forms
 *    with the era in kanji, its first kanji or its initial (M T S H R)
 *    and the year as a number (元 for the first year): 昭和16年4月1日,
 *    S16.4.1, S16/04/01; written in kanji (昭和十六年四月一日) they fold
 *    to the same;
 *  - every phone of the person, the requesters and the care manager, as
 *    its digits, as its digits without the leading 0, and as +81…;
 *  - the address after its city and ward part, whole and without the
 *    building, with 丁目, 番地, 番, 号 and の read as separators in the
 *    address and in the text alike (加納町6丁目5番1号 = 加納町6-5-1);
 *    the number part alone is not searched;
 *  - the registration id; the names of the requesters, of the care
 *    manager and of its office, of the intake staff; the diagnosis and
 *    every run of 4 of its characters (so every longer run too).
 *
 * A needle that begins (ends) with a digit or a Latin letter matches
 * only where the text does not go on with another digit (letter) right
 * before (after) it: 41/4/1 is not found in 078-414-1234, nor "yoko" in
 * "Yokohama". A removed space or punctuation mark ends such a run.
 *
 * A hit is reported by the kind of data and where it was found ("the
 * person's given name in <notes>"), never by its value.
 */
struct leak_needle {
	char *folded;   /* comparison form */
	size_t len;
	int kind;       /* index into kinds */
	int address;    /* compare with the address form of the text */
};

struct leakguard {
	struct leak_needle *n;
	size_t nr, alloc;
	char **kinds;   /* "the person's given name" */
	size_t nr_kinds, alloc_kinds;
};
#define LEAKGUARD_INIT { NULL, 0, 0, NULL, 0, 0 }
void leakguard_release(struct leakguard *lg);

/*
 * Needles, each described by what (the kind of data). Values whose
 * folded form is shorter than 2 characters are ignored.
 */
/* Text to look for as a whole. */
void leakguard_add_text(struct leakguard *lg, const char *what, const char *value);
/* A phone number (ignored when it has fewer than 6 digits). */
void leakguard_add_phone(struct leakguard *lg, const char *what, const char *value);
/* A date YYYY-MM-DD, in every written form listed above. */
void leakguard_add_date(struct leakguard *lg, const char *what, const char *iso);
/* An address: what follows its city or ward part (…市…区 → the rest). */
void leakguard_add_address(struct leakguard *lg, const char *what, const char *address);
/*
 * A person's name and its kana ("神戸 花子", "こうべ はなこ", either may
 * be NULL): whole, given name alone, family name with an honorific,
 * romaji. whose is "the person's" and begins every kind of data.
 */
void leakguard_add_name(struct leakguard *lg, const char *whose, const char *name,
			const char *kana);

/* Every needle of a <record>, as listed above. */
void leakguard_add_record(struct leakguard *lg, const struct node *record);

/* Where a part of the rendered text came from: "<notes>" and its value. */
struct leak_source {
	const char *where;
	const char *text;
};

/*
 * Search the rendered mail: subject (may be NULL) and body, searched as
 * one text. Returns the number of kinds of data found; for each, a reason
 * "the person's given name in <notes>" is appended to why, separated by
 * "; ". Where: the sources (values that went into the text) that hold
 * it, else "the subject" or "the body". A source alone never makes a
 * hit: only what the text holds is reported.
 */
int leakguard_check_mail(const struct leakguard *lg, const char *subject, const char *body,
			 const struct leak_source *src, size_t nr_src, struct strbuf *why);

/* leakguard_check_mail() of a text without a subject or sources ("in the body"). */
int leakguard_check(const struct leakguard *lg, const char *text, struct strbuf *why);

/*
 * The Hepburn romaji of hiragana kana (after text_fold_strict()), every
 * way of writing its long vowels, each appended to out; at most max of
 * them. -1 when kana holds something else than hiragana.
 */
int leakguard_romaji(const char *kana, struct strlist *out, size_t max);

/* Japanese era form of a date: era (明治 大正 昭和 平成 令和), its letter and
 * year; -1 before Meiji. */
int leakguard_era(int y, int m, int d, const char **era, char *letter, int *year);

#endif
