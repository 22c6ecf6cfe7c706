/*
 * queue - adding messages to the outgoing mail queue (see queue.h for the
 * layout). The sending side is the deliver stage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "queue.h"
#include "../util/base64.h"
#include "../util/clock.h"
#include "../lib/seal.h"
#include "../util/fileio.h"
#include "../util/hashmap.h"
#include "../util/msg.h"
#include "../util/strbuf.h"
#include "../util/xalloc.h"

int queue_init(const struct spool *sp)
{
	static const char *const dirs[] = { SPOOL_QUEUE, SPOOL_QUEUE_MSG, SPOOL_QUEUE_ENV,
					    SPOOL_QUEUE_STATE };
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char *p = spool_path(sp, dirs[i]);
		int bad = mkdir(p, 0700) < 0 && errno != EEXIST;

		if (bad)
			error_errno("cannot create '%s'", p);
		free(p);
		if (bad)
			return -1;
	}
	return 0;
}

/* Whether s can stand on one envelope line. */
static int envelope_safe(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return 0;
	return 1;
}

void queue_new_qid(char *qid)
{
	unsigned char raw[8];
	struct strbuf hex = STRBUF_INIT;
	struct tm tm;
	time_t now = time(NULL);

	random_nonce(raw, sizeof(raw));
	strbuf_add_hex(&hex, raw, sizeof(raw));
	gmtime_r(&now, &tm);
	snprintf(qid, QUEUE_QID_MAX, "%04d%02d%02dT%02d%02d%02d-%s", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, hex.buf);
	strbuf_release(&hex);
}

int queue_envelope(const struct queue_msg *m, struct strbuf *env)
{
	struct hashmap seen = HASHMAP_INIT;
	size_t i;
	int ret = -1;

	if (!envelope_safe(m->sender) || (m->alert_id && !envelope_safe(m->alert_id)) ||
	    (m->report && !envelope_safe(m->report)) || (m->list && !envelope_safe(m->list)))
		goto out;
	strbuf_addf(env, "sender %s\nqueued %lld\n", m->sender, (long long)clock_now());
	if (m->alert_id)
		strbuf_addf(env, "alert %s\n", m->alert_id);
	if (m->report)
		strbuf_addf(env, "report %s\n", m->report);
	if (m->list)
		strbuf_addf(env, "list %s\n", m->list);
	if (m->verp)
		strbuf_addstr(env, "verp yes\n");
	for (i = 0; i < m->nr_rcpts; i++) {
		if (!envelope_safe(m->rcpts[i]))
			goto out;
		if (hashmap_get(&seen, m->rcpts[i]))
			continue;
		hashmap_put(&seen, m->rcpts[i], (void *)m->rcpts[i]);
		strbuf_addf(env, "rcpt %s\n", m->rcpts[i]);
	}
	ret = 0;
out:
	hashmap_clear(&seen);
	if (ret)
		error("queue: an envelope address or id is empty or holds a space or control "
		      "character");
	return ret;
}

int queue_add(struct spool_batch *b, const struct queue_msg *m, char *qid)
{
	struct strbuf env = STRBUF_INIT, rel = STRBUF_INIT;
	int ret = -1;

	if (queue_envelope(m, &env) < 0)
		goto out;
	queue_new_qid(qid);
	strbuf_addf(&rel, SPOOL_QUEUE_MSG "/%s", qid);
	if (spool_batch_write(b, rel.buf, m->data, m->len) < 0)
		goto out;
	strbuf_reset(&rel);
	strbuf_addf(&rel, SPOOL_QUEUE_ENV "/%s", qid);
	if (spool_batch_write(b, rel.buf, env.buf, env.len) < 0)
		goto out;
	ret = 0;
out:
	strbuf_release(&env);
	strbuf_release(&rel);
	return ret;
}

int queue_finish_envelopes(const struct spool *sp, const char *queued)
{
	const char *p = queued;
	int ret = 0;

	while (*p) {
		const char *start = p, *end = strchr(p, ' '), *eq;
		struct strbuf qid = STRBUF_INIT, env = STRBUF_INIT, rel = STRBUF_INIT;

		if (!end)
			end = start + strlen(start);
		p = *end ? end + 1 : end;
		eq = memchr(start, '=', (size_t)(end - start));
		if (!eq || eq == start)
			continue;
		strbuf_add(&qid, start, (size_t)(eq - start));
		strbuf_addf(&rel, SPOOL_QUEUE_MSG "/%s", qid.buf);
		if (spool_exists(sp, rel.buf) &&
		    base64_decode(eq + 1, (size_t)(end - eq - 1), QUEUE_ENV_MAX, &env) == 0) {
			strbuf_reset(&rel);
			strbuf_addf(&rel, SPOOL_QUEUE_ENV "/%s", qid.buf);
			if (!spool_exists(sp, rel.buf) &&
			    spool_commit(sp, rel.buf, env.buf, env.len) < 0)
				ret = -1;
		}
		strbuf_release(&qid);
		strbuf_release(&env);
		strbuf_release(&rel);
	}
	return ret;
}
