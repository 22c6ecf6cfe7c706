/*
 * match - rank the active records this node holds against the
 * description of an unidentified person (mimamori-match(1); scoring in
 * match_score.h), for the police and the custodian: prints
 * "ID SCORE WHAT-MATCHED" best first, and the name only with
 * --show-names.
 *
 * Reads the registry (every active record is decrypted, scored and
 * wiped); writes only the audit log, which records which criteria were
 * given and how many results there were, never the description's words
 * (they describe an unidentified person) nor any name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "match_score.h"
#include "../commands.h"
#include "../core/audit.h"
#include "../util/clock.h"
#include "../core/registry.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

struct hit {
	const struct reg_entry *e;
	int score;
	char *what;
	char *name;   /* with --show-names only */
};

static int by_score(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	if (x->score != y->score)
		return y->score - x->score;
	return strcmp(x->e->id, y->e->id);
}

static int usage(void)
{
	fprintf(stderr, "usage: mimamori match [--sex female|male] [--age A-B] [--height A-B] "
			"[--ward W] [--text WORDS] [--show-names] [--limit N]\n");
	return EX_USAGE;
}

int cmd_match(int argc, char **argv, struct context *ctx)
{
	struct match_query q = MATCH_QUERY_INIT;
	struct registry *reg;
	struct hit *hits = NULL;
	struct strbuf criteria = STRBUF_INIT;
	size_t nr = 0, alloc = 0, i, n, shown;
	long today = clock_today(), limit = 20;
	int show_names = 0, ret = 0, failed = 0;

	for (i = 1; i < (size_t)argc; i++) {
		const char *opt = argv[i], *val = i + 1 < (size_t)argc ? argv[i + 1] : NULL;

		if (!strcmp(opt, "--show-names")) {
			show_names = 1;
			continue;
		}
		if (!val)
			return usage();
		i++;
		if (!strcmp(opt, "--sex")) {
			if (strcmp(val, "female") && strcmp(val, "male")) {
				error("--sex: '%s' is not one of female, male", val);
				return EX_USAGE;
			}
			q.sex = val[0];
		} else if (!strcmp(opt, "--age")) {
			if (match_parse_range(val, &q.age_min, &q.age_max) < 0) {
				error("--age: '%s' is not a range like 75-85", val);
				return EX_USAGE;
			}
		} else if (!strcmp(opt, "--height")) {
			if (match_parse_range(val, &q.height_min, &q.height_max) < 0) {
				error("--height: '%s' is not a range like 145-155", val);
				return EX_USAGE;
			}
		} else if (!strcmp(opt, "--ward")) {
			q.ward = val;
		} else if (!strcmp(opt, "--text")) {
			match_query_add_words(&q, val);
		} else if (!strcmp(opt, "--limit")) {
			char *end;

			limit = strtol(val, &end, 10);
			if (*end || limit < 1) {
				error("--limit: '%s' is not a positive number", val);
				return EX_USAGE;
			}
		} else {
			return usage();
		}
	}
	if (q.sex)
		strbuf_addstr(&criteria, "sex,");
	if (q.age_min >= 0)
		strbuf_addstr(&criteria, "age,");
	if (q.height_min >= 0)
		strbuf_addstr(&criteria, "height,");
	if (q.ward)
		strbuf_addstr(&criteria, "ward,");
	if (q.words.nr)
		strbuf_addstr(&criteria, "text,");
	if (!criteria.len) {
		error("no description: give at least one of --sex --age --height --ward --text");
		match_query_release(&q);
		return EX_USAGE;
	}
	strbuf_setlen(&criteria, criteria.len - 1);

	if (registry_open(&reg, &ctx->cfg, &ctx->spool, 0) < 0) {
		match_query_release(&q);
		strbuf_release(&criteria);
		return EX_SOFTWARE;
	}
	n = registry_count(reg);
	for (i = 0; i < n; i++) {
		const struct reg_entry *e = registry_entry(reg, i);
		struct strbuf what = STRBUF_INIT;
		struct node *record;
		int score;

		if (e->state != REG_ACTIVE || e->expires <= today)
			continue;
		/* Sex is in the index: no need to decrypt a record it excludes. */
		if (q.sex && e->sex && e->sex != q.sex)
			continue;
		if (registry_load(reg, e, &record) < 0) {
			failed++;
			continue;
		}
		score = match_score(&q, record, today, &what);
		if (score > 0 || (score == 0 && q.words.nr == 0 && q.age_min < 0 &&
				  q.height_min < 0 && !q.ward)) {
			ALLOC_GROW(hits, nr + 1, alloc);
			hits[nr].e = e;
			hits[nr].score = score;
			hits[nr].what = strbuf_detach(&what, NULL);
			hits[nr].name = NULL;
			if (show_names) {
				struct strbuf name = STRBUF_INIT;
				const char *nm = node_text(record, "person/name");
				const char *kana = node_text(record, "person/name-kana");

				strbuf_addf(&name, "%s (%s)", nm ? nm : "?", kana ? kana : "?");
				hits[nr].name = strbuf_detach(&name, NULL);
			}
			nr++;
		}
		strbuf_release(&what);
		node_free(record);
	}
	if (nr)
		qsort(hits, nr, sizeof(*hits), by_score);
	shown = nr < (size_t)limit ? nr : (size_t)limit;
	for (i = 0; i < shown; i++) {
		printf("%s %d %s", hits[i].e->id, hits[i].score,
		       hits[i].what[0] ? hits[i].what : "-");
		if (hits[i].name)
			printf(" %s", hits[i].name);
		putchar('\n');
	}
	fflush(stdout);
	audit_add("match", "criteria=%s words=%zu candidates=%zu shown=%zu show-names=%d",
		  criteria.buf, q.words.nr, nr, shown, show_names);
	if (failed) {
		error("%d records could not be read", failed);
		ret = EX_SOFTWARE;
	}
	for (i = 0; i < nr; i++) {
		free(hits[i].what);
		free(hits[i].name);
	}
	free(hits);
	registry_close(reg);
	match_query_release(&q);
	strbuf_release(&criteria);
	return ret;
}
