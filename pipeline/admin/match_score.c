/*
 * match_score - the scoring of `match` (match_score.h): one record's
 * person section against the description of an unidentified person.
 *
 * Reads a decrypted record tree; writes nothing. The description's words
 * describe an unidentified person, not a registered one: they are
 * compared here and never logged.
 */
#include <stdlib.h>
#include <string.h>
#include "match_score.h"
#include "../lib/text.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"

/* Japanese words for the coded feature values, so that "杖" finds "cane". */
static const struct {
	const char *value, *words;
} feature_words[] = {
	{ "obese", "肥満 太っている" },
	{ "slightly-obese", "やや肥満 太め ぽっちゃり" },
	{ "medium", "中肉 普通" },
	{ "thin", "やせ 痩せ 細身" },
	{ "triangle", "三角" },
	{ "inverted-triangle", "逆三角" },
	{ "round", "丸顔 丸" },
	{ "square", "四角 角ばった" },
	{ "oval", "面長 卵型" },
	{ "fair", "色白" },
	{ "pale", "青白い" },
	{ "dark", "色黒 日焼け" },
	{ "ruddy", "赤ら顔" },
	{ "full-dentures", "総入れ歯 入れ歯" },
	{ "partial-dentures", "部分入れ歯 入れ歯" },
	{ "cane", "杖 つえ" },
	{ "unaided", "自力歩行" },
};

void match_query_add_words(struct match_query *q, const char *text)
{
	char *copy = xstrdup(text), *w, *save = NULL;

	for (w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
		struct strbuf f = STRBUF_INIT;

		text_fold(w, &f);
		if (f.len)
			strlist_add(&q->words, f.buf);
		strbuf_release(&f);
	}
	free(copy);
}

void match_query_release(struct match_query *q)
{
	strlist_clear(&q->words);
}

int match_parse_range(const char *s, int *lo, int *hi)
{
	char *end;
	long a, b;

	if (!s || !*s || *s < '0' || *s > '9')
		return -1;
	a = strtol(s, &end, 10);
	if (*end == '-') {
		if (end[1] < '0' || end[1] > '9')
			return -1;
		b = strtol(end + 1, &end, 10);
	} else {
		b = a;
	}
	if (*end || a > b || b > 1000)
		return -1;
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}

/* Every text under n (and the Japanese words of coded values), folded. */
static void add_texts(const struct node *n, struct strbuf *hay)
{
	const struct node *c;
	size_t i;

	if (n->text) {
		text_fold(n->text, hay);
		strbuf_addch(hay, '\n');
		for (i = 0; i < sizeof(feature_words) / sizeof(feature_words[0]); i++) {
			if (!strcmp(n->text, feature_words[i].value)) {
				text_fold(feature_words[i].words, hay);
				strbuf_addch(hay, '\n');
			}
		}
	}
	for (c = n->child; c; c = c->next)
		add_texts(c, hay);
}

/* Points for a value against a range: 2 in it, 1 within slack, else 0. */
static int in_range(long v, int lo, int hi, int slack)
{
	if (v >= lo && v <= hi)
		return 2;
	if (v >= lo - slack && v <= hi + slack)
		return 1;
	return 0;
}

static void what_add(struct strbuf *what, const char *s)
{
	if (what->len)
		strbuf_addch(what, ',');
	strbuf_addstr(what, s);
}

int match_score(const struct match_query *q, const struct node *record, long today,
		struct strbuf *what)
{
	const struct node *person = node_child(record, "person"), *n;
	const char *sex, *birth, *height, *ward;
	struct strbuf hay = STRBUF_INIT;
	static const char *const searched[] = { "features", "usual-places",
						"previous-residences", "lost-before" };
	long born;
	size_t i;
	int score = 0, r;

	if (!person)
		return -1;
	sex = node_text(person, "sex");
	if (q->sex && (!sex || sex[0] != q->sex))
		return -1;
	birth = node_text(person, "birth-date");
	if (q->age_min >= 0 && birth && date_parse(birth, &born) == 0) {
		r = in_range(age_years(born, today), q->age_min, q->age_max, 3);
		if (r == 2) {
			score += 3;
			what_add(what, "age");
		} else if (r == 1) {
			score += 1;
			what_add(what, "age~");
		}
	}
	height = node_text(person, "features/height-cm");
	if (q->height_min >= 0 && height) {
		r = in_range(atol(height), q->height_min, q->height_max, 3);
		if (r == 2) {
			score += 2;
			what_add(what, "height");
		} else if (r == 1) {
			score += 1;
			what_add(what, "height~");
		}
	}
	ward = node_attr(node_child(person, "address"), "ward");
	if (q->ward && ward && !strcmp(q->ward, ward)) {
		score += 1;
		what_add(what, "ward");
	}
	if (q->words.nr) {
		for (i = 0; i < sizeof(searched) / sizeof(searched[0]); i++)
			if ((n = node_child(person, searched[i])))
				add_texts(n, &hay);
		for (i = 0; i < q->words.nr; i++) {
			if (hay.len && strstr(hay.buf, q->words.items[i])) {
				struct strbuf w = STRBUF_INIT;

				score += 2;
				strbuf_addf(&w, "word:%s", q->words.items[i]);
				what_add(what, w.buf);
				strbuf_release(&w);
			}
		}
	}
	strbuf_release(&hay);
	return score;
}
