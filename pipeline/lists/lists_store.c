/*
 * lists_store - the sealed member store (lists.h): members of the
 * helpers' lists who joined by mail or were added with `members`, their
 * bounces and probes, confirmations waiting for their reply, and the
 * notes of the last commit (for listmail's claims).
 *
 * On disk: spool/members/index, sealed with the node's data key under
 * the AD "members-index" (core/sealidx.c, lib/seal.c), written whole at
 * each commit by spool_commit (tmp, fsync, rename, fsync of the folder):
 *
 *   mimamori-members 1
 *   M LIST ADDRESS NAME STATE PLEDGE CHARSET ADDED BOUNCES PROBE PROBE-DAY STATUS
 *   C TOKEN LIST ACTION ADDRESS EXPIRES
 *   N KEY VALUE
 *
 * tab-separated; dates are day numbers (-1: none); BOUNCES is
 * "DAY:HALVES,…" or "-". lstore_commit() makes lstore_batch() durable,
 * then the index (the commit point), then lstore_after().
 *
 * SECURITY: holds members' addresses and names in memory; they are in
 * clear nowhere in the spool but in the mail queue and listbox/. Names
 * and addresses never hold a tab, CR or LF here (lists_address_ok(),
 * clean_field()).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lists.h"
#include "../core/datakey.h"
#include "../core/sealidx.h"
#include "../lib/seal.h"
#include "../util/fileio.h"
#include "../util/hashmap.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

#define INDEX_AAD   "members-index"
#define INDEX_MAGIC "mimamori-members 1"
#define INDEX_MAX   ((size_t)256 << 20)

struct lstore {
	const struct config *cfg;
	const struct spool *sp;
	const unsigned char *key;
	int lockfd;
	struct lmember **m;
	size_t nr, alloc;
	struct hashmap by_key;       /* "list\naddress" (lower case) -> member */
	struct strlist keys;         /* their storage */
	struct lconfirm **c;
	size_t nr_c, alloc_c;
	struct strlist notes, new_notes;
	struct spool_batch batch, after;
};

static void member_key(const char *list, const char *address, struct strbuf *sb)
{
	const char *p;

	strbuf_reset(sb);
	strbuf_addf(sb, "%s\n", list);
	for (p = address; *p; p++)
		strbuf_addch(sb, tolower((unsigned char)*p));
}

static void index_member(struct lstore *st, struct lmember *m)
{
	struct strbuf k = STRBUF_INIT;

	member_key(m->list, m->address, &k);
	strlist_add(&st->keys, k.buf);
	hashmap_put(&st->by_key, st->keys.items[st->keys.nr - 1], m);
	strbuf_release(&k);
}

/* A name as it may stand in a field: no tab or control character. */
static char *clean_field(const char *s)
{
	char *c = xstrdup(s ? s : ""), *p;

	for (p = c; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = ' ';
	return c;
}

static long num(const char *s)
{
	return strcmp(s, "-") ? strtol(s, NULL, 10) : -1;
}

static void parse_bounces(struct lmember *m, const char *s)
{
	while (isdigit((unsigned char)*s) && m->nr_bounces < LISTS_BOUNCE_MAX) {
		char *end;
		long day = strtol(s, &end, 10);

		if (*end != ':')
			return;
		m->bounces[m->nr_bounces].day = day;
		m->bounces[m->nr_bounces++].halves = (int)strtol(end + 1, &end, 10);
		if (*end != ',')
			return;
		s = end + 1;
	}
}

static int parse_line(struct lstore *st, char *line)
{
	char *f[16];
	int nf = sealidx_split(line, f, 16);

	if (!strcmp(f[0], "N") && nf == 3) {
		sealidx_kv_add(&st->notes, f[1], f[2]);
	} else if (!strcmp(f[0], "M") && nf == 12) {
		struct lmember *m = xcalloc(1, sizeof(*m));

		m->list = xstrdup(f[1]);
		m->address = xstrdup(f[2]);
		m->name = xstrdup(f[3]);
		m->state = !strcmp(f[4], "disabled") ? LM_DISABLED :
			   !strcmp(f[4], "removed") ? LM_REMOVED : LM_MEMBER;
		m->pledge = num(f[5]);
		m->iso2022jp = !strcmp(f[6], "iso-2022-jp");
		m->added = num(f[7]);
		parse_bounces(m, f[8]);
		if (strlen(f[9]) == LISTS_TOKEN_LEN)
			memcpy(m->probe, f[9], LISTS_TOKEN_LEN + 1);
		m->probe_day = num(f[10]);
		if (strcmp(f[11], "-"))
			snprintf(m->last_status, sizeof(m->last_status), "%s", f[11]);
		ALLOC_GROW(st->m, st->nr + 1, st->alloc);
		st->m[st->nr++] = m;
		index_member(st, m);
	} else if (!strcmp(f[0], "C") && nf == 6 && strlen(f[1]) == LISTS_TOKEN_LEN) {
		lstore_confirm_add(st, f[1], f[2], f[3][0], f[4], num(f[5]));
	} else {
		return error("member store: a damaged line");
	}
	return 0;
}

static int index_load(struct lstore *st)
{
	struct strbuf plain = STRBUF_INIT;
	char *p, *nl;
	int ret = sealidx_read(st->sp, st->key, LISTS_INDEX_REL, INDEX_AAD, INDEX_MAX, &plain);

	if (ret)
		return ret;
	p = plain.buf;
	nl = strchr(p, '\n');
	if (!nl || (size_t)(nl - p) != strlen(INDEX_MAGIC) || strncmp(p, INDEX_MAGIC, nl - p)) {
		ret = error("'%s': not a member store", LISTS_INDEX_REL);
		goto out;
	}
	for (p = nl + 1; *p && !ret; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		ret = parse_line(st, p);
	}
out:
	if (plain.len)
		wipe(plain.buf, plain.len);
	strbuf_release(&plain);
	return ret;
}

static void add_day(struct strbuf *sb, long d)
{
	if (d < 0)
		strbuf_addstr(sb, "\t-");
	else
		strbuf_addf(sb, "\t%ld", d);
}

static void index_text(const struct lstore *st, struct strbuf *out)
{
	static const char *const states[] = { "member", "disabled", "removed" };
	size_t i;
	int b;

	strbuf_addstr(out, INDEX_MAGIC "\n");
	for (i = 0; i < st->nr; i++) {
		const struct lmember *m = st->m[i];

		strbuf_addf(out, "M\t%s\t%s\t%s\t%s", m->list, m->address, m->name,
			    states[m->state]);
		add_day(out, m->pledge);
		strbuf_addstr(out, m->iso2022jp ? "\tiso-2022-jp" : "\t-");
		add_day(out, m->added);
		strbuf_addch(out, '\t');
		for (b = 0; b < m->nr_bounces; b++)
			strbuf_addf(out, "%s%ld:%d", b ? "," : "", m->bounces[b].day,
				    m->bounces[b].halves);
		if (!m->nr_bounces)
			strbuf_addch(out, '-');
		strbuf_addf(out, "\t%s", m->probe[0] ? m->probe : "-");
		add_day(out, m->probe_day);
		strbuf_addf(out, "\t%s\n", m->last_status[0] ? m->last_status : "-");
	}
	for (i = 0; i < st->nr_c; i++) {
		const struct lconfirm *c = st->c[i];

		strbuf_addf(out, "C\t%s\t%s\t%c\t%s\t%ld\n", c->token, c->list, c->action,
			    c->address, c->expires);
	}
	for (i = 0; i < st->new_notes.nr; i++)
		strbuf_addf(out, "N\t%s\n", st->new_notes.items[i]);
}

int lstore_open(struct lstore **stp, const struct config *cfg, const struct spool *sp,
		int for_write)
{
	struct lstore *st = xcalloc(1, sizeof(*st));
	char *dir = spool_path(sp, SPOOL_MEMBERS);
	int r;

	st->cfg = cfg;
	st->sp = sp;
	st->lockfd = -1;
	spool_batch_init(&st->batch, sp);
	spool_batch_init(&st->after, sp);
	*stp = NULL;
	if (mkdir_p(dir, 0700) < 0) {
		error_errno("cannot create '%s'", SPOOL_MEMBERS);
		goto fail;
	}
	if (for_write && (st->lockfd = spool_lock(sp, "members")) < 0)
		goto fail;
	if (datakey_get(cfg, sp, &st->key) < 0)
		goto fail;
	r = index_load(st);
	if (r < 0)
		goto fail;
	free(dir);
	*stp = st;
	return 0;
fail:
	free(dir);
	lstore_close(st);
	return -1;
}

static void member_free(struct lmember *m)
{
	free(m->list);
	free(m->address);
	free(m->name);
	free(m);
}

static void confirm_free(struct lconfirm *c)
{
	free(c->list);
	free(c->address);
	free(c);
}

void lstore_close(struct lstore *st)
{
	size_t i;

	if (!st)
		return;
	for (i = 0; i < st->nr; i++)
		member_free(st->m[i]);
	free(st->m);
	for (i = 0; i < st->nr_c; i++)
		confirm_free(st->c[i]);
	free(st->c);
	hashmap_clear(&st->by_key);
	strlist_clear(&st->keys);
	strlist_clear(&st->notes);
	strlist_clear(&st->new_notes);
	spool_batch_release(&st->batch);
	spool_batch_release(&st->after);
	if (st->lockfd >= 0)
		spool_unlock(st->lockfd);
	free(st);
}

size_t lstore_count(const struct lstore *st)
{
	return st->nr;
}

struct lmember *lstore_member(struct lstore *st, size_t i)
{
	return st->m[i];
}

struct lmember *lstore_find(struct lstore *st, const char *list, const char *address)
{
	struct strbuf k = STRBUF_INIT;
	struct lmember *m;

	member_key(list, address, &k);
	m = hashmap_get(&st->by_key, k.buf);
	strbuf_release(&k);
	return m;
}

struct lmember *lstore_add(struct lstore *st, const char *list, const char *address,
			   const char *name, long today)
{
	struct lmember *m = lstore_find(st, list, address);

	if (m)
		return m;
	m = xcalloc(1, sizeof(*m));
	m->list = xstrdup(list);
	m->address = xstrdup(address);
	m->name = clean_field(name);
	m->state = LM_MEMBER;
	m->pledge = -1;
	m->added = today;
	m->probe_day = -1;
	ALLOC_GROW(st->m, st->nr + 1, st->alloc);
	st->m[st->nr++] = m;
	index_member(st, m);
	return m;
}

enum lmember_shown lstore_shown(const struct config *cfg, const struct lmember *m, long today)
{
	size_t i;

	if (m->state == LM_DISABLED)
		return LMS_DISABLED;
	if (m->state == LM_REMOVED)
		return LMS_REMOVED;
	for (i = 0; i < cfg->nr_lists; i++)
		if (!strcmp(cfg->lists[i].id, m->list) &&
		    cfg->lists[i].audience == LIST_COMMUNITY &&
		    (m->pledge < 0 || m->pledge > today))
			return LMS_PENDING;
	return LMS_ACTIVE;
}

const char *lstore_shown_name(enum lmember_shown s)
{
	static const char *const names[] = { "pending", "active", "disabled", "removed" };

	return names[s];
}

int lstore_score(const struct lmember *m, long today)
{
	int b, score = 0;

	for (b = 0; b < m->nr_bounces; b++)
		if (today - m->bounces[b].day < LISTS_BOUNCE_DAYS)
			score += m->bounces[b].halves;
	return score;
}

struct lconfirm *lstore_confirm_find(struct lstore *st, const char *list, const char *token)
{
	size_t i;

	for (i = 0; i < st->nr_c; i++)
		if (!strcmp(st->c[i]->token, token) && !strcmp(st->c[i]->list, list))
			return st->c[i];
	return NULL;
}

struct lconfirm *lstore_confirm_same(struct lstore *st, const char *list, char action,
				     const char *address, long today)
{
	size_t i;

	for (i = 0; i < st->nr_c; i++) {
		struct lconfirm *c = st->c[i];

		if (c->action == action && !strcmp(c->list, list) &&
		    !strcasecmp(c->address, address) && c->expires >= today)
			return c;
	}
	return NULL;
}

void lstore_confirm_add(struct lstore *st, const char *token, const char *list, char action,
			const char *address, long expires)
{
	struct lconfirm *c = xcalloc(1, sizeof(*c));

	snprintf(c->token, sizeof(c->token), "%s", token);
	c->list = xstrdup(list);
	c->action = action;
	c->address = xstrdup(address);
	c->expires = expires;
	ALLOC_GROW(st->c, st->nr_c + 1, st->alloc_c);
	st->c[st->nr_c++] = c;
}

void lstore_confirm_drop(struct lstore *st, struct lconfirm *c)
{
	size_t i;

	for (i = 0; i < st->nr_c; i++)
		if (st->c[i] == c) {
			confirm_free(c);
			memmove(st->c + i, st->c + i + 1, (st->nr_c - i - 1) * sizeof(*st->c));
			st->nr_c--;
			return;
		}
}

void lstore_tidy(struct lstore *st, const struct config *cfg, long today)
{
	size_t i = 0;

	(void)cfg;
	while (i < st->nr_c)
		if (st->c[i]->expires < today)
			lstore_confirm_drop(st, st->c[i]);
		else
			i++;
}

void lstore_note(struct lstore *st, const char *key, const char *value)
{
	sealidx_kv_add(&st->new_notes, key, value);
}

const char *lstore_note_get(const struct lstore *st, const char *key)
{
	return sealidx_kv_get(&st->notes, key);
}

struct spool_batch *lstore_batch(struct lstore *st)
{
	return &st->batch;
}

struct spool_batch *lstore_after(struct lstore *st)
{
	return &st->after;
}

const unsigned char *lstore_key(const struct lstore *st)
{
	return st->key;
}

int lstore_commit(struct lstore *st)
{
	struct strbuf plain = STRBUF_INIT;

	if (spool_batch_commit(&st->batch) < 0)
		return -1;
	/* A commit without notes keeps the last ones (a crash may need them). */
	if (!st->new_notes.nr) {
		size_t i;

		for (i = 0; i < st->notes.nr; i++)
			strlist_add(&st->new_notes, st->notes.items[i]);
	}
	index_text(st, &plain);
	if (sealidx_commit(st->sp, st->key, LISTS_INDEX_REL, INDEX_AAD, &plain) < 0)
		return -1;
	sealidx_notes_rotate(&st->notes, &st->new_notes);
	return spool_batch_commit(&st->after);
}
