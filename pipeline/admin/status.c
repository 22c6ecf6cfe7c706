/*
 * status - the node at a glance, for the person who watches over it:
 * inputs waiting and claimed per stage, the mail queue, alerts, keys,
 * recent rejections; with --check only what needs a person, one
 * "attention: …" line each, and exit 75 when there is any (for cron or a
 * systemd timer), 0 otherwise.
 *
 * What needs a person:
 *   1. an input waiting in a stage's folder for more than STUCK_AFTER;
 *   2. a claim in work/STAGE/ older than STUCK_AFTER while the stage's
 *      lock (lock/STAGE) is free: the run that took it died;
 *   3. any deferred recipient in the mail queue;
 *   4. a key (the node's, an agency's, an operator's) missing, unusable,
 *      revoked, expired or expiring within CONFIG_KEY_WARN_DAYS;
 *   5. an alert store or keyring that cannot be read.
 * Ages and expiry dates are measured against the program's clock (--now
 * when given). An input's age counts from when it arrived in its folder
 * (its inode change time: rename and link set it); whether a lock is
 * held is asked now.
 *
 * Reads the spool's folders, the queue's envelopes and state logs (read
 * only: no lock is taken, nothing is rewritten), the alert store's index
 * and the keyring; writes one audit line (counts only, no names).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include "../commands.h"
#include "../core/alert.h"
#include "../core/audit.h"
#include "../util/clock.h"
#include "../lib/gpg.h"
#include "../core/queue.h"
#include "../deliver/deliver.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/strbuf.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"

#define STUCK_AFTER   (5 * 60)
#define REJECTED_SPAN (24 * 3600)

/* Where each stage's inputs wait and where it keeps those it claimed. */
struct stage_dirs {
	const char *stage;
	const char *waiting;   /* NULL: none in the spool */
	const char *claimed;   /* NULL: no claims */
	const char *lock;      /* held while the stage runs */
	int optional;          /* shown only when its folder exists */
};

static const struct stage_dirs stages[] = {
	{ "intake", SPOOL_INCOMING, SPOOL_WORK_INTAKE, "intake", 0 },
	{ "import", SPOOL_IMPORT, SPOOL_WORK_IMPORT, "import", 0 },
	{ "dispatch", SPOOL_INBOX_NEW, SPOOL_WORK_DISPATCH, "dispatch", 0 },
	{ "listmail", SPOOL_LISTBOX_NEW, SPOOL_WORK_LISTMAIL, "listmail", 1 },
	{ "fetch", NULL, SPOOL_WORK_FETCH, "fetch", 0 },
	/* export writes a bundle in work/export/ under the registry's lock */
	{ "export", NULL, SPOOL_WORK_EXPORT, "registry", 0 },
};

struct status {
	struct context *ctx;
	time_t now;
	int check;             /* --check: attention lines only */
	struct strbuf attention;
	size_t nr_attention;
	/* for the audit line */
	size_t waiting, claimed, stuck, messages, deferred, alerts_open, keys_bad,
	       rejected;
};

static void attention(struct status *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void attention(struct status *st, const char *fmt, ...)
{
	va_list ap;

	strbuf_addstr(&st->attention, "attention: ");
	va_start(ap, fmt);
	strbuf_vaddf(&st->attention, fmt, ap);
	va_end(ap);
	strbuf_addch(&st->attention, '\n');
	st->nr_attention++;
}

/* A length of time in words: "3 minutes", "2 hours", "4 days". */
static const char *age_text(time_t secs, char *buf, size_t len)
{
	if (secs < 60)
		snprintf(buf, len, "less than a minute");
	else if (secs < 2 * 3600)
		snprintf(buf, len, "%lld minute%s", (long long)secs / 60, secs < 120 ? "" : "s");
	else if (secs < 2 * 86400)
		snprintf(buf, len, "%lld hours", (long long)secs / 3600);
	else
		snprintf(buf, len, "%lld days", (long long)secs / 86400);
	return buf;
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* The files of a spool folder, each with the time it arrived there. */
struct scan {
	size_t nr;
	size_t old;            /* older than STUCK_AFTER */
	time_t oldest;         /* arrival of the oldest, 0 when none */
	char *oldest_name;
	int exists;
};

static void scan_dir(struct status *st, const char *rel, struct scan *sc)
{
	struct strlist names = STRLIST_INIT;
	char *dir = spool_path(&st->ctx->spool, rel);
	struct stat dst;
	size_t i;

	memset(sc, 0, sizeof(*sc));
	sc->exists = !stat(dir, &dst) && S_ISDIR(dst.st_mode);
	dir_list(dir, &names, 0);
	for (i = 0; i < names.nr; i++) {
		char *path = path_join(dir, names.items[i]);
		struct stat s;

		if (!lstat(path, &s)) {
			sc->nr++;
			if (st->now - s.st_ctime > STUCK_AFTER)
				sc->old++;
			if (!sc->oldest || s.st_ctime < sc->oldest) {
				sc->oldest = s.st_ctime;
				free(sc->oldest_name);
				sc->oldest_name = xstrdup(names.items[i]);
			}
		}
		free(path);
	}
	strlist_clear(&names);
	free(dir);
}

static void scan_release(struct scan *sc)
{
	free(sc->oldest_name);
}

static void show_stage(struct status *st, const struct stage_dirs *sd, struct strbuf *out)
{
	struct scan w, c;
	char age[32];

	memset(&w, 0, sizeof(w));
	memset(&c, 0, sizeof(c));
	if (sd->waiting)
		scan_dir(st, sd->waiting, &w);
	if (sd->claimed)
		scan_dir(st, sd->claimed, &c);
	if (sd->optional && !w.exists && !c.nr)
		goto out;
	strbuf_addf(out, "%s:", sd->stage);
	if (sd->waiting)
		strbuf_addf(out, " %zu waiting in %s/,", w.nr, sd->waiting);
	strbuf_addf(out, " %zu claimed in %s/", c.nr, sd->claimed);
	if (c.nr && spool_lock_busy(&st->ctx->spool, sd->lock))
		strbuf_addf(out, " (%s is running)", sd->stage);
	strbuf_addch(out, '\n');
	st->waiting += w.nr;
	st->claimed += c.nr;
	if (w.old) {
		attention(st, "%s: %zu %s waiting in %s/ for more than 5 minutes "
			  "(the oldest, '%s', for %s)", sd->stage, w.old,
			  plural(w.old, "input", "inputs"), sd->waiting, w.oldest_name,
			  age_text(st->now - w.oldest, age, sizeof(age)));
		st->stuck += w.old;
	}
	if (c.old && !spool_lock_busy(&st->ctx->spool, sd->lock)) {
		attention(st, "%s: %zu %s in %s/ older than 5 minutes and no %s running "
			  "(the oldest, '%s', claimed %s ago; the next run takes it up)",
			  sd->stage, c.old, plural(c.old, "claim", "claims"), sd->claimed,
			  sd->stage, c.oldest_name, age_text(st->now - c.oldest, age, sizeof(age)));
		st->stuck += c.old;
	}
out:
	scan_release(&w);
	scan_release(&c);
}

/* The mail queue, read without a lock (qentry_peek()). */
static void show_queue(struct status *st, struct strbuf *out)
{
	struct strlist qids = STRLIST_INIT;
	struct strbuf why = STRBUF_INIT;
	char *dir = spool_path(&st->ctx->spool, SPOOL_QUEUE_ENV);
	size_t i, j, rcpts = 0, fresh = 0, deferred_msgs = 0;
	time_t oldest = 0, oldest_deferred = 0;
	char *oldest_deferred_qid = NULL;
	char when[32], age[32];

	dir_list(dir, &qids, 0);
	for (i = 0; i < qids.nr; i++) {
		struct qentry e;
		size_t d = 0;

		strbuf_reset(&why);
		if (qentry_peek(&st->ctx->spool, qids.items[i], &e, &why)) {
			/* gone since the listing, or broken: deliver says so */
			qentry_release(&e);
			continue;
		}
		st->messages++;
		rcpts += e.nr;
		for (j = 0; j < e.nr; j++) {
			if (e.rcpts[j].status == RCPT_DEFERRED)
				d++;
			else if (e.rcpts[j].status == RCPT_NEW)
				fresh++;
		}
		if (!oldest || e.queued < oldest)
			oldest = e.queued;
		if (d) {
			st->deferred += d;
			deferred_msgs++;
			if (!oldest_deferred || e.queued < oldest_deferred) {
				oldest_deferred = e.queued;
				free(oldest_deferred_qid);
				oldest_deferred_qid = xstrdup(e.qid);
			}
		}
		qentry_release(&e);
	}
	strbuf_addf(out, "queue: %zu %s, %zu %s (%zu deferred, %zu not tried yet)",
		    st->messages, plural(st->messages, "message", "messages"), rcpts,
		    plural(rcpts, "recipient", "recipients"), st->deferred, fresh);
	if (oldest) {
		datetime_format(oldest, when);
		strbuf_addf(out, ", the oldest queued %s (%s ago)", when,
			    age_text(st->now > oldest ? st->now - oldest : 0, age, sizeof(age)));
	}
	strbuf_addch(out, '\n');
	if (st->deferred)
		attention(st, "queue: %zu %s deferred in %zu %s (the oldest, queue/%s, "
			  "queued %s ago; deliver retries, and fails them 24 hours after "
			  "queueing)", st->deferred, plural(st->deferred, "recipient", "recipients"),
			  deferred_msgs, plural(deferred_msgs, "message", "messages"),
			  oldest_deferred_qid,
			  age_text(st->now > oldest_deferred ? st->now - oldest_deferred : 0,
				   age, sizeof(age)));
	free(oldest_deferred_qid);
	free(dir);
	strlist_clear(&qids);
	strbuf_release(&why);
}

static void show_alerts(struct status *st, int keyring_ok, struct strbuf *out)
{
	struct alert_store *as;
	size_t i, n;

	if (!keyring_ok) {
		strbuf_addstr(out, "alerts: unknown (no keyring to open the alert store)\n");
		return;
	}
	if (alert_store_open(&as, &st->ctx->cfg, &st->ctx->spool, 0) < 0) {
		strbuf_addstr(out, "alerts: unknown (the alert store cannot be read)\n");
		attention(st, "alerts: the alert store cannot be read (see the message above)");
		return;
	}
	n = alert_count(as);
	for (i = 0; i < n; i++)
		if (alert_entry(as, i)->state == ALERT_OPEN)
			st->alerts_open++;
	alert_store_close(as);
	/* No alert is held for approval yet: every alert goes out when
	 * dispatched. Held alerts, and the rule that names one held for more
	 * than 30 minutes, come with the approval step. */
	strbuf_addf(out, "alerts: %zu open, 0 held for approval\n", st->alerts_open);
}

/* One key: attention when it cannot be used, or soon cannot. */
static int check_key(struct status *st, const char *what, const char *fpr, int own)
{
	struct strbuf why = STRBUF_INIT;
	struct gpg_key_life life;
	char d[11];
	int bad = 1;

	if (gpg_key_life(fpr, &life, &why) < 0) {
		attention(st, "key: %s: %s", what, why.buf);
	} else if (life.revoked) {
		attention(st, "key: %s: key %s has been revoked", what, fpr);
	} else if (life.expired || (life.expires && life.expires <= st->now)) {
		date_format(date_of(life.expires), d);
		attention(st, "key: %s: key %s expired on %s", what, fpr, d);
	} else if (life.expires &&
		   life.expires - st->now < (time_t)CONFIG_KEY_WARN_DAYS * 86400) {
		date_format(date_of(life.expires), d);
		attention(st, "key: %s: key %s expires on %s, in %lld %s", what, fpr, d,
			  (long long)((life.expires - st->now + 86399) / 86400),
			  (life.expires - st->now + 86399) / 86400 == 1 ? "day" : "days");
	} else if (gpg_key_check(fpr, own, &why) < 0) {
		attention(st, "key: %s: %s", what, why.buf);
	} else {
		bad = 0;
	}
	st->keys_bad += bad;
	strbuf_release(&why);
	return bad;
}

static void show_keys(struct status *st, int keyring_ok, struct strbuf *out)
{
	const struct config *cfg = &st->ctx->cfg;
	struct strbuf what = STRBUF_INIT;
	size_t i;

	if (!keyring_ok) {
		strbuf_addstr(out, "keys: unknown (no keyring)\n");
		return;
	}
	strbuf_addf(&what, "node '%s'", cfg->self->id);
	check_key(st, what.buf, cfg->self->key, 1);
	for (i = 0; i < cfg->nr_agencies; i++) {
		if (&cfg->agencies[i] == cfg->self)
			continue;
		strbuf_reset(&what);
		strbuf_addf(&what, "agency '%s'", cfg->agencies[i].id);
		check_key(st, what.buf, cfg->agencies[i].key, 0);
	}
	for (i = 0; i < cfg->nr_operators; i++) {
		strbuf_reset(&what);
		strbuf_addf(&what, "operator '%s'", cfg->operators[i].address);
		check_key(st, what.buf, cfg->operators[i].key, 0);
	}
	strbuf_addf(out, "keys: %zu checked (node, %zu %s, %zu %s): %zu to see to "
		    "(expired, revoked, unusable or expiring within %d days)\n",
		    cfg->nr_agencies + cfg->nr_operators, cfg->nr_agencies - 1,
		    plural(cfg->nr_agencies - 1, "agency", "agencies"), cfg->nr_operators,
		    plural(cfg->nr_operators, "operator", "operators"), st->keys_bad,
		    CONFIG_KEY_WARN_DAYS);
	strbuf_release(&what);
}

/* rejected/NAME.reason written within the last 24 hours (its mtime). */
static void show_rejected(struct status *st, struct strbuf *out)
{
	struct strlist names = STRLIST_INIT;
	char *dir = spool_path(&st->ctx->spool, SPOOL_REJECTED);
	size_t i, len;

	dir_list(dir, &names, 0);
	for (i = 0; i < names.nr; i++) {
		char *path;
		struct stat s;

		len = strlen(names.items[i]);
		if (len < 8 || strcmp(names.items[i] + len - 7, ".reason"))
			continue;
		path = path_join(dir, names.items[i]);
		if (!lstat(path, &s) && s.st_mtime <= st->now &&
		    st->now - s.st_mtime < REJECTED_SPAN)
			st->rejected++;
		free(path);
	}
	strbuf_addf(out, "rejected: %zu in the last 24 hours (rejected/*.reason say why)\n",
		    st->rejected);
	strlist_clear(&names);
	free(dir);
}

int cmd_status(int argc, char **argv, struct context *ctx)
{
	struct strbuf out = STRBUF_INIT, why = STRBUF_INIT;
	struct status st;
	char when[32];
	int keyring_ok, i;
	size_t k;

	memset(&st, 0, sizeof(st));
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--check")) {
			st.check = 1;
		} else {
			fprintf(stderr, "usage: mimamori status [--check]\n");
			return EX_USAGE;
		}
	}
	st.ctx = ctx;
	st.now = clock_now();
	strbuf_init(&st.attention, 0);

	keyring_ok = gpg_init(ctx->cfg.gnupg_home, &why) == 0;
	if (!keyring_ok)
		attention(&st, "keyring: cannot use gnupg home '%s': %s", ctx->cfg.gnupg_home,
			  why.buf);
	datetime_format(st.now, when);
	strbuf_addf(&out, "node %s (%s) at %s, spool %s\n", ctx->cfg.self->id,
		    agency_kind_name(ctx->cfg.self->kind), when, ctx->spool.root);
	for (k = 0; k < sizeof(stages) / sizeof(stages[0]); k++)
		show_stage(&st, &stages[k], &out);
	show_queue(&st, &out);
	show_alerts(&st, keyring_ok, &out);
	/* Receipts for changes sent to agencies do not exist yet. */
	strbuf_addstr(&out, "agencies: unacknowledged changes are not tracked yet\n");
	show_keys(&st, keyring_ok, &out);
	show_rejected(&st, &out);

	if (!st.check)
		fputs(out.buf, stdout);
	fputs(st.attention.buf, stdout);
	if (!st.check && !st.nr_attention)
		puts("nothing needs a person");
	audit_add("status", "check=%d waiting=%zu claimed=%zu stuck=%zu messages=%zu "
		  "deferred=%zu alerts-open=%zu keys-attention=%zu rejected-24h=%zu "
		  "attention=%zu", st.check, st.waiting, st.claimed, st.stuck, st.messages,
		  st.deferred, st.alerts_open, st.keys_bad, st.rejected, st.nr_attention);
	strbuf_release(&out);
	strbuf_release(&why);
	strbuf_release(&st.attention);
	if (fflush(stdout) != 0)
		return error_errno("cannot write the status"), EX_IOERR;
	return st.check && st.nr_attention ? EX_TEMPFAIL : 0;
}
