/*
 * exchange_state - what export and import keep in the registry about each
 * agency (exchange.h): sequence numbers written and acknowledged, the log
 * of bundles not yet acknowledged, and the origin and acknowledgement
 * marks of records. Used by export, import, `mimamori exchange`, show and
 * expire.
 *
 * No personal data: ids, numbers and days only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "exchange.h"
#include "../util/strbuf.h"
#include "../util/timeutil.h"

static void state_key(struct strbuf *sb, const char *prefix, const char *agency)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "%s:%s", prefix, agency);
}

const char *exchange_state_str(struct registry *reg, const char *prefix, const char *agency)
{
	struct strbuf key = STRBUF_INIT;
	const char *v;

	state_key(&key, prefix, agency);
	v = registry_state_get(reg, key.buf);
	strbuf_release(&key);
	return v;
}

void exchange_state_set_str(struct registry *reg, const char *prefix, const char *agency,
			    const char *value)
{
	struct strbuf key = STRBUF_INIT;

	state_key(&key, prefix, agency);
	if (value && value[0])
		registry_state_set(reg, key.buf, value);
	else
		registry_state_unset(reg, key.buf);
	strbuf_release(&key);
}

long exchange_state_long(struct registry *reg, const char *prefix, const char *agency)
{
	const char *v = exchange_state_str(reg, prefix, agency);

	return v ? atol(v) : 0;
}

void exchange_state_set_long(struct registry *reg, const char *prefix, const char *agency,
			     long n)
{
	char val[32];

	snprintf(val, sizeof(val), "%ld", n);
	exchange_state_set_str(reg, prefix, agency, val);
}

void exchange_mark_from(struct registry *reg, struct reg_entry *e, const char *agency)
{
	struct strbuf m = STRBUF_INIT;

	strbuf_addf(&m, "<from:%s>", agency);
	registry_mark_sent(reg, e, m.buf);
	strbuf_release(&m);
}

int exchange_is_from(const struct reg_entry *e, const char *agency)
{
	struct strbuf m = STRBUF_INIT;
	int r;

	if (!registry_was_sent(e, EXCHANGE_IMPORTED))
		return 0;
	strbuf_addf(&m, "<from:%s>", agency);
	r = registry_was_sent(e, m.buf) || !strstr(e->sent_to, "<from:");
	strbuf_release(&m);
	return r;
}

void exchange_mark_acked(struct registry *reg, struct reg_entry *e, const char *agency,
			 long day)
{
	struct strbuf m = STRBUF_INIT;
	char d[11];

	if (exchange_acked_on(e, agency) >= 0)
		return;
	date_format(day, d);
	strbuf_addf(&m, "<ack:%s:%s>", agency, d);
	registry_mark_sent(reg, e, m.buf);
	strbuf_release(&m);
}

long exchange_acked_on(const struct reg_entry *e, const char *agency)
{
	struct strbuf m = STRBUF_INIT;
	const char *p;
	long day = -1;

	strbuf_addf(&m, "<ack:%s:", agency);
	for (p = strstr(e->sent_to, m.buf); p; p = strstr(p + 1, m.buf)) {
		char d[11];

		if (p != e->sent_to && p[-1] != ',')
			continue;
		memcpy(d, p + m.len, 10);
		d[10] = '\0';
		if (strnlen(p + m.len, 11) >= 11 && p[m.len + 10] == '>' &&
		    date_parse(d, &day) == 0)
			break;
		day = -1;
	}
	strbuf_release(&m);
	return day;
}

long exchange_sent_seq(struct registry *reg, const char *agency, long n)
{
	const char *p = exchange_state_str(reg, "sent-log", agency);

	while (p && *p) {
		long ln, seq;
		char *end;

		ln = strtol(p, &end, 10);
		if (*end != ':')
			break;
		seq = strtol(end + 1, &end, 10);
		if (ln == n)
			return seq;
		p = strchr(end, ',');
		p = p ? p + 1 : NULL;
	}
	return -1;
}

void exchange_log_sent(struct registry *reg, const char *agency, long n, long seq, long day)
{
	const char *old = exchange_state_str(reg, "sent-log", agency);
	struct strbuf sb = STRBUF_INIT;

	if (exchange_sent_seq(reg, agency, n) >= 0)
		return;
	if (old && old[0])
		strbuf_addf(&sb, "%s,", old);
	strbuf_addf(&sb, "%ld:%ld:%ld", n, seq, day);
	exchange_state_set_str(reg, "sent-log", agency, sb.buf);
	strbuf_release(&sb);
}

/* The log without the bundles up to n. */
static void log_forget(struct registry *reg, const char *agency, long n)
{
	const char *p = exchange_state_str(reg, "sent-log", agency);
	struct strbuf sb = STRBUF_INIT;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (atol(p) > n) {
			if (sb.len)
				strbuf_addch(&sb, ',');
			strbuf_add(&sb, p, len);
		}
		p = comma ? comma + 1 : NULL;
	}
	exchange_state_set_str(reg, "sent-log", agency, sb.buf);
	strbuf_release(&sb);
}

int exchange_due_kind(const struct agency *a, const struct reg_entry *e)
{
	if (registry_was_sent(e, EXCHANGE_IMPORTED))
		return 0;
	if (e->state == REG_ACTIVE && exchange_in_scope(a, e))
		return 1;
	if (registry_was_sent(e, a->id))
		return 2;
	return 0;
}

void exchange_acknowledge(struct registry *reg, const struct agency *a, long n, long day)
{
	long seq = exchange_sent_seq(reg, a->id, n);
	size_t i, count = registry_count(reg);

	if (seq < 0 || n <= exchange_state_long(reg, "ack-n", a->id))
		return;
	exchange_state_set_long(reg, "ack-n", a->id, n);
	exchange_state_set_long(reg, "ack-seq", a->id, seq);
	exchange_state_set_long(reg, "ack-date", a->id, day);
	log_forget(reg, a->id, n);
	for (i = 0; i < count; i++) {
		struct reg_entry *e = registry_entry(reg, i);

		if (e->state != REG_ACTIVE && e->seq <= seq && registry_was_sent(e, a->id) &&
		    !registry_was_sent(e, EXCHANGE_IMPORTED))
			exchange_mark_acked(reg, e, a->id, day);
	}
}

void exchange_pending(struct registry *reg, const struct agency *a,
		      struct exchange_pending *p)
{
	long acked = exchange_state_long(reg, "ack-seq", a->id);
	size_t i, count = registry_count(reg);

	memset(p, 0, sizeof(*p));
	p->oldest_destroyed = -1;
	for (i = 0; i < count; i++) {
		const struct reg_entry *e = registry_entry(reg, i);
		int kind;

		if (e->seq <= acked)
			continue;
		kind = exchange_due_kind(a, e);
		if (kind == 1) {
			p->records++;
		} else if (kind == 2) {
			p->deletions++;
			if (e->state != REG_ACTIVE &&
			    (p->oldest_destroyed < 0 || e->destroyed < p->oldest_destroyed))
				p->oldest_destroyed = e->destroyed;
		}
	}
}
