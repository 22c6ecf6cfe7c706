#ifndef MATCH_SCORE_H
#define MATCH_SCORE_H
#include "../util/node.h"
#include "../util/fileio.h"
#include "../util/strbuf.h"

/*
 * The scoring of `match` (mimamori-match(1)): how well one record's
 * person section fits the description of an unidentified person.
 *
 *   sex given and different           excluded
 *   age within A-B                    +3   ("age")
 *   age outside A-B by 1-3 years      +1   ("age~")
 *   height within A-B cm              +2   ("height")
 *   height outside A-B by 1-3 cm      +1   ("height~")
 *   ward equal                        +1   ("ward")
 *   each word found in features,      +2   ("word:WORD")
 *     usual-places, previous-residences or lost-before, compared after
 *     text_fold() (NFKC, lowercase, no spaces or hyphens); feature values
 *     such as "cane" or "thin" are also searched in their Japanese words
 *
 * Age is counted from the birth date on `today`; a record without a birth
 * date or height gets nothing for that criterion.
 */
struct match_query {
	char sex;                  /* 'f', 'm', 0: any */
	int age_min, age_max;      /* -1: not given */
	int height_min, height_max;
	const char *ward;          /* NULL: not given */
	struct strlist words;      /* folded, not empty */
};
#define MATCH_QUERY_INIT { 0, -1, -1, -1, -1, NULL, STRLIST_INIT }

/* Add the words of text (split at spaces, folded) to q. */
void match_query_add_words(struct match_query *q, const char *text);
void match_query_release(struct match_query *q);

/*
 * The score of record (a <record> element with <person>) against q, and
 * the criteria met in what (comma-separated). -1 when excluded.
 */
int match_score(const struct match_query *q, const struct node *record, long today,
		struct strbuf *what);

/* Parse "A-B" (or "A" for A-A) of non-negative integers. 0 or -1. */
int match_parse_range(const char *s, int *lo, int *hi);

#endif
