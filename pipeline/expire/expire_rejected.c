/*
 * expire_rejected - step 5 of expire (see expire_int.h): remove from
 * rejected/ every input, with its reason, retention/@rejected after it was
 * rejected on the program's clock, so that the data of a record destroyed
 * since does not outlive it there by more than that.
 *
 * Reads the rejection times spool_reject() wrote to work/rejected/NAME
 * (an input rejected before they were written: its reason file's mtime);
 * removes rejected/NAME, rejected/NAME.reason and work/rejected/NAME, in
 * that order, so a run killed in between leaves the time for the next
 * run to finish with. Audits each removal by file name, never contents.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "expire_int.h"
#include "../core/audit.h"
#include "../util/clock.h"
#include "../util/msg.h"
#include "../util/strbuf.h"
#include "../util/timeutil.h"

#define REASON_SUFFIX ".reason"

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && !strcmp(s + n - m, suffix);
}

/* When rejected/NAME was rejected (a date), or -1 when nothing says. */
static long rejected_on(const struct spool *sp, const char *name)
{
	struct strbuf rel = STRBUF_INIT, text = STRBUF_INIT;
	char *path;
	struct stat st;
	time_t t;
	long day = -1;

	strbuf_addf(&rel, SPOOL_REJECTED_AT "/%s", name);
	path = spool_path(sp, rel.buf);
	if (strbuf_read_file(&text, path, 256) >= 0) {
		strbuf_trim(&text);
		if (datetime_parse(text.buf, &t) == 0)
			day = date_of(t);
	}
	free(path);
	if (day < 0) {
		strbuf_reset(&rel);
		strbuf_addf(&rel, SPOOL_REJECTED "/%s" REASON_SUFFIX, name);
		path = spool_path(sp, rel.buf);
		if (stat(path, &st) == 0)
			day = date_of(st.st_mtime);
		free(path);
	}
	strbuf_release(&rel);
	strbuf_release(&text);
	return day;
}

static int remove_rel(const struct spool *sp, const char *fmt, const char *name)
{
	struct strbuf rel = STRBUF_INIT;
	char *path;
	int ret = 0;

	strbuf_addf(&rel, fmt, name);
	path = spool_path(sp, rel.buf);
	if (unlink(path) < 0 && errno != ENOENT)
		ret = error_errno("cannot remove '%s'", rel.buf);
	free(path);
	strbuf_release(&rel);
	return ret;
}

int expire_rejected(struct context *ctx, size_t *removed)
{
	const struct spool *sp = &ctx->spool;
	struct strlist names = STRLIST_INIT;
	char *dir = spool_path(sp, SPOOL_REJECTED);
	long today = clock_today();
	size_t i;
	int ret = 0;

	*removed = 0;
	dir_list(dir, &names, 1);
	for (i = 0; i < names.nr && !ret; i++) {
		const char *name = names.items[i];
		struct strbuf input = STRBUF_INIT;
		long day, until;
		char date[11];

		/* NAME.reason goes with NAME, or alone when NAME never arrived. */
		if (has_suffix(name, REASON_SUFFIX)) {
			strbuf_add(&input, name, strlen(name) - strlen(REASON_SUFFIX));
			if (strlist_has(&names, input.buf)) {
				strbuf_release(&input);
				continue;
			}
		} else {
			strbuf_addstr(&input, name);
		}
		day = rejected_on(sp, input.buf);
		if (day < 0 || date_add_duration(day, ctx->cfg.rejected, 1, &until) < 0 ||
		    today < until) {
			strbuf_release(&input);
			continue;
		}
		if (remove_rel(sp, SPOOL_REJECTED "/%s", input.buf) < 0 ||
		    remove_rel(sp, SPOOL_REJECTED "/%s" REASON_SUFFIX, input.buf) < 0 ||
		    remove_rel(sp, SPOOL_REJECTED_AT "/%s", input.buf) < 0) {
			ret = -1;
		} else {
			date_format(day, date);
			printf("removed " SPOOL_REJECTED "/%s rejected %s\n", input.buf, date);
			audit_add("remove", "input=" SPOOL_REJECTED "/%s rejected=%s", input.buf,
				  date);
			(*removed)++;
		}
		strbuf_release(&input);
	}
	strlist_clear(&names);
	/* Times left by a run killed before its input reached rejected/. */
	free(dir);
	dir = spool_path(sp, SPOOL_REJECTED_AT);
	dir_list(dir, &names, 1);
	for (i = 0; i < names.nr && !ret; i++) {
		struct strbuf rel = STRBUF_INIT;
		char *p;
		long day = rejected_on(sp, names.items[i]), until;
		int gone;

		strbuf_addf(&rel, SPOOL_REJECTED "/%s", names.items[i]);
		p = spool_path(sp, rel.buf);
		gone = access(p, F_OK) < 0;
		free(p);
		strbuf_addstr(&rel, REASON_SUFFIX);
		p = spool_path(sp, rel.buf);
		gone = gone && access(p, F_OK) < 0;
		free(p);
		strbuf_release(&rel);
		if (gone && day >= 0 &&
		    date_add_duration(day, ctx->cfg.rejected, 1, &until) == 0 && today >= until)
			ret = remove_rel(sp, SPOOL_REJECTED_AT "/%s", names.items[i]);
	}
	if (*removed) {
		fsync_dir(dir);
		free(dir);
		dir = spool_path(sp, SPOOL_REJECTED);
		fsync_dir(dir);
	}
	strlist_clear(&names);
	free(dir);
	return ret;
}
