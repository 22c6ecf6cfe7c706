/*
 * lists_reach - how many helpers an alert reached, per list, and how
 * fast: `show ALERT-ID` prints
 *
 *   list ID: N recipients, N sent, N failed, N deferred, N bounced; 50% in S s, 90% in S s, 100% in S s
 *
 * from the reach records deliver leaves for each finished list copy
 * (reach/ALERT-ID/QID: counts and the delays of each 2xx, no address),
 * the copies still in the queue (qentry_peek(), as `status` reads them),
 * and the bounces listmail counted (reach/ALERT-ID/b-TOKEN). Shares are
 * of the recipients; "-" for one not reached.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lists.h"
#include "../core/queue.h"
#include "../deliver/deliver.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

struct reach {
	char *list;
	size_t rcpts, sent, failed, deferred, bounced;
	long *delays;                 /* one per sent recipient */
	size_t nr_delays, alloc_delays;
};

struct reaches {
	struct reach *v;
	size_t nr, alloc;
};

static struct reach *reach_of(struct reaches *r, const char *list)
{
	size_t i;

	for (i = 0; i < r->nr; i++)
		if (!strcmp(r->v[i].list, list))
			return &r->v[i];
	ALLOC_GROW(r->v, r->nr + 1, r->alloc);
	memset(&r->v[r->nr], 0, sizeof(r->v[0]));
	r->v[r->nr].list = xstrdup(list);
	return &r->v[r->nr++];
}

static void add_delay(struct reach *r, long d, size_t count)
{
	while (count--) {
		ALLOC_GROW(r->delays, r->nr_delays + 1, r->alloc_delays);
		r->delays[r->nr_delays++] = d;
	}
}

/* A finished copy's record, or a bounce note. */
static void read_record(struct reaches *rs, const char *text)
{
	char list[128] = "";
	const char *p;
	size_t n;
	struct reach *r;

	if (sscanf(text, "bounce %127s", list) == 1) {
		reach_of(rs, list)->bounced++;
		return;
	}
	if (sscanf(text, "list %127s", list) != 1)
		return;
	r = reach_of(rs, list);
	if ((p = strstr(text, "\nrecipients ")) && sscanf(p, "\nrecipients %zu", &n) == 1)
		r->rcpts += n;
	if ((p = strstr(text, "\nsent ")) && sscanf(p, "\nsent %zu", &n) == 1)
		r->sent += n;
	if ((p = strstr(text, "\nfailed ")) && sscanf(p, "\nfailed %zu", &n) == 1)
		r->failed += n;
	if ((p = strstr(text, "\ndelays")) != NULL) {
		p += 7;
		while (*p == ' ') {
			char *end;
			long d = strtol(p + 1, &end, 10);

			if (*end != ':')
				break;
			n = strtoul(end + 1, &end, 10);
			add_delay(r, d, n);
			p = end;
		}
	}
}

/* The copies of alert_id still in the queue. */
static void read_queue(const struct context *ctx, const char *alert_id, struct reaches *rs)
{
	struct strlist envs = STRLIST_INIT;
	char *dir = spool_path(&ctx->spool, SPOOL_QUEUE_ENV);
	size_t i, j;

	dir_list(dir, &envs, 0);
	free(dir);
	for (i = 0; i < envs.nr; i++) {
		struct qentry e;
		struct strbuf why = STRBUF_INIT;
		struct reach *r;

		memset(&e, 0, sizeof(e));
		if (qentry_peek(&ctx->spool, envs.items[i], &e, &why) == 0 && e.alert && e.list &&
		    !strcmp(e.alert, alert_id)) {
			r = reach_of(rs, e.list);
			r->rcpts += e.nr;
			for (j = 0; j < e.nr; j++) {
				if (e.rcpts[j].status == RCPT_SENT) {
					r->sent++;
					add_delay(r, e.rcpts[j].last > e.queued ? e.rcpts[j].last - e.queued
										: 0, 1);
				} else if (e.rcpts[j].status == RCPT_FAILED) {
					r->failed++;
				} else if (e.rcpts[j].status == RCPT_DEFERRED) {
					r->deferred++;
				}
			}
		}
		qentry_release(&e);
		strbuf_release(&why);
	}
	strlist_clear(&envs);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

static void share(struct strbuf *out, const struct reach *r, int pct)
{
	size_t need = (r->rcpts * pct + 99) / 100;

	if (!need || r->nr_delays < need)
		strbuf_addf(out, "%d%% in -", pct);
	else
		strbuf_addf(out, "%d%% in %ld s", pct, r->delays[need - 1]);
}

int lists_reach_show(const struct context *ctx, const char *alert_id, struct strbuf *out)
{
	struct reaches rs = { NULL, 0, 0 };
	struct strlist files = STRLIST_INIT;
	struct strbuf rel = STRBUF_INIT;
	char *dir;
	size_t i;

	strbuf_addf(&rel, SPOOL_REACH "/%s", alert_id);
	dir = spool_path(&ctx->spool, rel.buf);
	dir_list(dir, &files, 0);
	for (i = 0; i < files.nr; i++) {
		struct strbuf text = STRBUF_INIT;
		char *path = path_join(dir, files.items[i]);

		if (strbuf_read_file(&text, path, 1 << 24) >= 0)
			read_record(&rs, text.buf);
		free(path);
		strbuf_release(&text);
	}
	free(dir);
	read_queue(ctx, alert_id, &rs);
	for (i = 0; i < rs.nr; i++) {
		struct reach *r = &rs.v[i];

		qsort(r->delays, r->nr_delays, sizeof(*r->delays), cmp_long);
		strbuf_addf(out, "list %s: %zu recipients, %zu sent, %zu failed, %zu deferred, "
			    "%zu bounced; ", r->list, r->rcpts, r->sent, r->failed, r->deferred,
			    r->bounced);
		share(out, r, 50);
		strbuf_addstr(out, ", ");
		share(out, r, 90);
		strbuf_addstr(out, ", ");
		share(out, r, 100);
		strbuf_addch(out, '\n');
		free(r->list);
		free(r->delays);
	}
	free(rs.v);
	strlist_clear(&files);
	strbuf_release(&rel);
	return 0;
}

int lists_reach_bounce(const struct spool *sp, struct spool_batch *b, const char *alert_id,
		       const char *list, const char *token)
{
	struct strbuf rel = STRBUF_INIT, text = STRBUF_INIT;
	char *dir;
	int ret;

	strbuf_addf(&rel, SPOOL_REACH "/%s", alert_id);
	dir = spool_path(sp, rel.buf);
	ret = mkdir_p(dir, 0700);
	if (ret < 0)
		error_errno("cannot create '%s'", rel.buf);
	free(dir);
	strbuf_addf(&rel, "/b-%s", token);
	strbuf_addf(&text, "bounce %s\n", list);
	if (!ret)
		ret = spool_batch_write(b, rel.buf, text.buf, text.len);
	strbuf_release(&rel);
	strbuf_release(&text);
	return ret;
}
