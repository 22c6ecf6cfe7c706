/*
 * leakguard - the last check before an alert leaves: the rendered text
 * must not hold the person's identifying data (see leakguard.h).
 *
 * Reads a record (in memory) and rendered text; writes nothing.
 *
 * SECURITY: holds the person's identifying data while checking; reasons
 * name fields, never their values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "leakguard.h"
#include "text.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

void leakguard_release(struct leakguard *lg)
{
	size_t i;

	for (i = 0; i < lg->nr; i++) {
		free(lg->n[i].what);
		free(lg->n[i].folded);
	}
	free(lg->n);
	lg->n = NULL;
	lg->nr = lg->alloc = 0;
}

static void add(struct leakguard *lg, const char *what, const char *folded, int digits)
{
	size_t i;

	for (i = 0; i < lg->nr; i++)
		if (lg->n[i].digits == digits && !strcmp(lg->n[i].folded, folded) &&
		    !strcmp(lg->n[i].what, what))
			return;
	ALLOC_GROW(lg->n, lg->nr + 1, lg->alloc);
	lg->n[lg->nr].what = xstrdup(what);
	lg->n[lg->nr].folded = xstrdup(folded);
	lg->n[lg->nr].digits = digits;
	lg->nr++;
}

/* Number of UTF-8 characters. */
static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

void leakguard_add_text(struct leakguard *lg, const char *what, const char *value)
{
	struct strbuf f = STRBUF_INIT;

	if (!value)
		return;
	text_fold(value, &f);
	if (chars(f.buf) >= 2)
		add(lg, what, f.buf, 0);
	strbuf_release(&f);
}

void leakguard_add_phone(struct leakguard *lg, const char *what, const char *value)
{
	struct strbuf d = STRBUF_INIT;

	if (!value)
		return;
	text_digits(value, &d);
	if (d.len >= 6)
		add(lg, what, d.buf, 1);
	strbuf_release(&d);
}

int leakguard_era(int y, int m, int d, const char **era, char *letter, int *year)
{
	static const struct {
		int y, m, d;
		const char *name;
		char letter;
	} eras[] = {
		{ 2019, 5, 1, "令和", 'R' },
		{ 1989, 1, 8, "平成", 'H' },
		{ 1926, 12, 25, "昭和", 'S' },
		{ 1912, 7, 30, "大正", 'T' },
		{ 1868, 1, 25, "明治", 'M' },
	};
	size_t i;
	long v = (long)y * 10000 + m * 100 + d;

	for (i = 0; i < sizeof(eras) / sizeof(eras[0]); i++) {
		if (v >= (long)eras[i].y * 10000 + eras[i].m * 100 + eras[i].d) {
			*era = eras[i].name;
			*letter = eras[i].letter;
			*year = y - eras[i].y + 1;
			return 0;
		}
	}
	return -1;
}

void leakguard_add_date(struct leakguard *lg, const char *what, const char *iso)
{
	int y, m, d, ey;
	const char *era;
	char letter, buf[128];

	if (!iso || sscanf(iso, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return;
	leakguard_add_text(lg, what, iso);
	snprintf(buf, sizeof(buf), "%d/%d/%d", y, m, d);
	leakguard_add_text(lg, what, buf);
	snprintf(buf, sizeof(buf), "%d/%02d/%02d", y, m, d);
	leakguard_add_text(lg, what, buf);
	snprintf(buf, sizeof(buf), "%d.%d.%d", y, m, d);
	leakguard_add_text(lg, what, buf);
	snprintf(buf, sizeof(buf), "%d年%d月%d日", y, m, d);
	leakguard_add_text(lg, what, buf);
	if (leakguard_era(y, m, d, &era, &letter, &ey) < 0)
		return;
	snprintf(buf, sizeof(buf), "%s%d年%d月%d日", era, ey, m, d);
	leakguard_add_text(lg, what, buf);
	if (ey == 1) {
		snprintf(buf, sizeof(buf), "%s元年%d月%d日", era, m, d);
		leakguard_add_text(lg, what, buf);
	}
	snprintf(buf, sizeof(buf), "%c%d.%d.%d", letter, ey, m, d);
	leakguard_add_text(lg, what, buf);
	snprintf(buf, sizeof(buf), "%c%02d.%02d.%02d", letter, ey, m, d);
	leakguard_add_text(lg, what, buf);
	snprintf(buf, sizeof(buf), "%c%d/%d/%d", letter, ey, m, d);
	leakguard_add_text(lg, what, buf);
	snprintf(buf, sizeof(buf), "%s%d.%d.%d", era, ey, m, d);
	leakguard_add_text(lg, what, buf);
	snprintf(buf, sizeof(buf), "%s%d/%d/%d", era, ey, m, d);
	leakguard_add_text(lg, what, buf);
}

void leakguard_add_address(struct leakguard *lg, const char *what, const char *address)
{
	static const char *const marks[] = { "区", "市", "郡", "町", "村", NULL };
	const char *const *mk;
	const char *rest = NULL;

	if (!address)
		return;
	/* The first of 区, then 市 …: "神戸市中央区加納町6-5-1" -> "加納町6-5-1". */
	for (mk = marks; *mk && !rest; mk++) {
		const char *p = strstr(address, *mk);

		if (p && p[strlen(*mk)])
			rest = p + strlen(*mk);
	}
	if (!rest)
		rest = address;
	leakguard_add_text(lg, what, rest);
	/* The street and number without the building ("加納町6-5-1"),
	 * whether a space or a full-width space (U+3000) comes first. */
	{
		size_t n = strcspn(rest, " \t");
		const char *wide = strstr(rest, "\xe3\x80\x80");
		char *street;

		if (wide && (size_t)(wide - rest) < n)
			n = (size_t)(wide - rest);
		if (n == 0 || !rest[n])
			return;
		street = xstrndup(rest, n);
		if (strpbrk(street, "0123456789"))
			leakguard_add_text(lg, what, street);
		free(street);
	}
}

static void add_phones(struct leakguard *lg, const struct node *parent, const char *what)
{
	const struct node *p;

	for (p = node_child(parent, "phone"); p; p = node_next_same(p))
		leakguard_add_phone(lg, what, p->text);
}

void leakguard_add_record(struct leakguard *lg, const struct node *record)
{
	const struct node *person = node_child(record, "person");
	const struct node *r, *reqs = node_child(record, "requesters");
	const struct node *cm = node_path(record, "care/care-manager");

	leakguard_add_text(lg, "the person's name", node_text(person, "name"));
	leakguard_add_text(lg, "the person's name-kana", node_text(person, "name-kana"));
	leakguard_add_text(lg, "the person's maiden name", node_text(person, "maiden-name"));
	leakguard_add_date(lg, "the person's birth date", node_text(person, "birth-date"));
	leakguard_add_address(lg, "the person's address", node_text(person, "address"));
	add_phones(lg, person, "the person's phone");
	for (r = reqs ? node_child(reqs, "requester") : NULL; r; r = node_next_same(r)) {
		leakguard_add_text(lg, "a requester's name", node_text(r, "name"));
		add_phones(lg, r, "a requester's phone");
	}
	if (cm) {
		leakguard_add_text(lg, "the care manager's name", node_text(cm, "name"));
		add_phones(lg, cm, "the care manager's phone");
		leakguard_add_phone(lg, "the care manager's phone", node_text(cm, "phone"));
	}
	leakguard_add_text(lg, "the diagnosis", node_text(record, "care/diagnosis"));
}

/* The digit runs of folded text, separated by spaces. */
static void digit_runs(const char *s, struct strbuf *out)
{
	int in = 0;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			strbuf_addch(out, *s);
			in = 1;
		} else if (in && (*s == '(' || *s == ')' || *s == '.')) {
			continue;
		} else if (in) {
			strbuf_addch(out, ' ');
			in = 0;
		}
	}
}

int leakguard_check(const struct leakguard *lg, const char *text, struct strbuf *why)
{
	struct strbuf f = STRBUF_INIT, runs = STRBUF_INIT;
	struct strlist said = STRLIST_INIT;
	size_t i;
	int hits = 0;

	text_fold(text, &f);
	digit_runs(f.buf, &runs);
	for (i = 0; i < lg->nr; i++) {
		const struct leak_needle *n = &lg->n[i];

		if (!strstr(n->digits ? runs.buf : f.buf, n->folded))
			continue;
		hits++;
		strlist_sort(&said);
		if (strlist_has(&said, n->what))
			continue;
		strlist_add(&said, n->what);
		if (why->len)
			strbuf_addstr(why, "; ");
		strbuf_addf(why, "contains %s", n->what);
	}
	memset(f.buf, 0, f.len);
	strbuf_release(&f);
	strbuf_release(&runs);
	strlist_clear(&said);
	return hits;
}
