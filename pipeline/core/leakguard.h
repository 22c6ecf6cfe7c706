#ifndef LEAKGUARD_H
#define LEAKGUARD_H
#include "node.h"
#include "../util/strbuf.h"

/*
 * The leak guard (SPEC §7): before an alert or an update is queued, its
 * rendered text (subject and body, decoded) is searched for what must
 * never reach a helper: the person's name, name-kana, maiden name, birth
 * date (ISO, 1941/4/1, 1941年4月1日 and the Japanese era forms
 * 昭和16年4月1日, S16.4.1), every phone of the person, the requesters and
 * the care manager (digits only), and the address after its city/ward part.
 *
 * Both sides are folded with text_fold() (NFKC: full-width to half-width,
 * spaces and hyphens removed); phones are compared as digits within the
 * runs of digits of the text (separators such as "(", ")" and "." do not
 * break a run, anything else does).
 *
 * A hit is reported by the field's description ("the person's phone"),
 * never by its value.
 */
struct leak_needle {
	char *what;     /* "the person's name" */
	char *folded;   /* comparison form */
	int digits;     /* compare against digit runs */
};

struct leakguard {
	struct leak_needle *n;
	size_t nr, alloc;
};
#define LEAKGUARD_INIT { NULL, 0, 0 }
void leakguard_release(struct leakguard *lg);

/* Text to look for (ignored when its folded form is shorter than 2 characters). */
void leakguard_add_text(struct leakguard *lg, const char *what, const char *value);
/* A phone number (ignored when it has fewer than 6 digits). */
void leakguard_add_phone(struct leakguard *lg, const char *what, const char *value);
/* A date YYYY-MM-DD, in every written form listed above. */
void leakguard_add_date(struct leakguard *lg, const char *what, const char *iso);
/* An address: what follows its city or ward part (…市…区 → the rest). */
void leakguard_add_address(struct leakguard *lg, const char *what, const char *address);

/* Every needle of a <record>: person, requesters, care manager. */
void leakguard_add_record(struct leakguard *lg, const struct node *record);

/*
 * Search text. Returns the number of needles found; for each, a reason
 * "contains the person's name" is appended to why, separated by "; ".
 */
int leakguard_check(const struct leakguard *lg, const char *text, struct strbuf *why);

/* Japanese era form of a date: era (明治 大正 昭和 平成 令和), its letter and
 * year; -1 before Meiji. */
int leakguard_era(int y, int m, int d, const char **era, char *letter, int *year);

#endif
