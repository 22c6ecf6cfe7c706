/*
 * test_queue - the outgoing mail queue: queue_add()'s files (the format
 * other stages and tests rely on), and deliver's reading side: envelope
 * and state log read back, the last line winning, a partial last line
 * ignored and cut off, compaction, the retry schedule, outcomes by reply code, and
 * the Maildir names refused. Works in a spool/ folder in the test's own
 * directory.
 */
#include <fcntl.h>
#include <time.h>
#include "unit.h"
#include "util/clock.h"
#include "core/queue.h"
#include "core/spool.h"
#include "deliver/deliver.h"
#include "util/fileio.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

static char cwd[PATH_MAX];

static void setup(struct spool *sp)
{
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK_INT(mkdir("spool", 0700), 0);
	{
		char *root = path_join(cwd, "spool");

		CHECK_INT(spool_open(sp, root), 0);
		free(root);
	}
	CHECK_INT(queue_init(sp), 0);
}

static char *slurp(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	if (strbuf_read_file(&sb, path, 1 << 20) < 0)
		return NULL;
	return strbuf_detach(&sb, NULL);
}

static void spit(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0);
	CHECK_INT(write_full(fd, data, strlen(data)), 0);
	close(fd);
}

static int add(struct spool *sp, const char *const *rcpts, size_t n, char *qid)
{
	struct spool_batch b;
	struct queue_msg m;
	int ret;

	memset(&m, 0, sizeof(m));
	m.sender = "alerts@example.jp";
	m.rcpts = rcpts;
	m.nr_rcpts = n;
	m.alert_id = "A2026-000001";
	m.report = "ABCDEF";
	m.data = "Subject: x\r\n\r\nbody\r\n";
	m.len = strlen(m.data);
	spool_batch_init(&b, sp);
	ret = queue_add(&b, &m, qid);
	if (!ret)
		ret = spool_batch_commit(&b);
	spool_batch_release(&b);
	return ret;
}

TEST(add_writes_message_and_envelope)
{
	struct spool sp;
	const char *rcpts[] = { "a@example.jp", "b@example.jp", "a@example.jp" };
	char qid[QUEUE_QID_MAX], path[PATH_MAX];
	char *env, *msg;
	struct stat st;

	setup(&sp);
	clock_set(1795000000);
	CHECK_INT(add(&sp, rcpts, 3, qid), 0);
	snprintf(path, sizeof(path), "spool/queue/env/%s", qid);
	env = slurp(path);
	CHECK_STR(env, "sender alerts@example.jp\nqueued 1795000000\nalert A2026-000001\n"
		       "report ABCDEF\nrcpt a@example.jp\nrcpt b@example.jp\n");
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	snprintf(path, sizeof(path), "spool/queue/msg/%s", qid);
	msg = slurp(path);
	CHECK_STR(msg, "Subject: x\r\n\r\nbody\r\n");
	free(env);
	free(msg);
	spool_release(&sp);
}

TEST(add_refuses_a_recipient_with_a_space_or_newline)
{
	struct spool sp;
	const char *bad1[] = { "a b@example.jp" };
	const char *bad2[] = { "a@example.jp\nrcpt evil@example.jp" };
	char qid[QUEUE_QID_MAX];
	struct strlist l = STRLIST_INIT;

	setup(&sp);
	CHECK(add(&sp, bad1, 1, qid) < 0);
	CHECK(add(&sp, bad2, 1, qid) < 0);
	CHECK(dir_list("spool/queue/env", &l, 1) == 0 && l.nr == 0);
	strlist_clear(&l);
	spool_release(&sp);
}

TEST(load_reads_state_last_line_wins_partial_line_ignored)
{
	struct spool sp;
	struct qentry e;
	struct strbuf why = STRBUF_INIT, lines = STRBUF_INIT;
	char *st;

	setup(&sp);
	spit("spool/queue/msg/Q", "x\r\n");
	spit("spool/queue/env/Q", "sender s@example.jp\nqueued 1000\nreport F\n"
				  "rcpt a@example.jp\nrcpt b@example.jp\nrcpt c@example.jp\n"
				  "rcpt a@example.jp\n");
	spit("spool/queue/state/Q", "1000\ta@example.jp\tdeferred\t450 busy\n"
				    "1100\ta@example.jp\tdeferred\t450 busy\n"
				    "1200\tb@example.jp\tfailed\t550 no such user\n"
				    "1300\tz@example.jp\tsent\t250 not a recipient\n"
				    "1400\tc@example.jp\tsen");
	CHECK_INT(qentry_load(&sp, "Q", &e, &why), 0);
	CHECK_INT(e.nr, 3);
	CHECK_STR(e.sender, "s@example.jp");
	CHECK_INT(e.queued, 1000);
	CHECK_STR(e.report, "F");
	CHECK(e.rcpts[0].status == RCPT_DEFERRED && e.rcpts[0].last == 1100);
	CHECK_INT(e.rcpts[1].status, RCPT_FAILED);
	CHECK_STR(e.rcpts[1].reply, "550 no such user");
	CHECK(e.rcpts[2].status == RCPT_NEW);   /* the partial line does not count */
	/* The next append cuts the partial line first. */
	rcpt_record(&e, &e.rcpts[2], 250, "250 ok", 1500, &lines);
	CHECK_INT(state_append(&sp, &e, &lines), 0);
	st = slurp("spool/queue/state/Q");
	CHECK_CONTAINS(st, "250 not a recipient\n1500\tc@example.jp\tsent\t250 ok\n");
	CHECK(st && !strstr(st, "\tsen\n") && !strstr(st, "sen1500"));
	free(st);
	qentry_release(&e);
	strbuf_release(&why);
	strbuf_release(&lines);
	spool_release(&sp);
}

TEST(load_says_why_an_entry_is_unusable)
{
	struct spool sp;
	struct qentry e;
	struct strbuf why = STRBUF_INIT;

	setup(&sp);
	spit("spool/queue/env/N", "sender s@example.jp\nrcpt a@example.jp\n");
	CHECK_INT(qentry_load(&sp, "N", &e, &why), 1);
	CHECK_STR(why.buf, "envelope without its message");
	qentry_release(&e);
	strbuf_reset(&why);
	spit("spool/queue/msg/R", "x");
	spit("spool/queue/env/R", "sender s@example.jp\nqueued 1\n");
	CHECK_INT(qentry_load(&sp, "R", &e, &why), 1);
	CHECK_STR(why.buf, "envelope without a recipient");
	qentry_release(&e);
	strbuf_release(&why);
	spool_release(&sp);
}

TEST(retry_waits_as_long_as_the_message_was_queued)
{
	struct qentry e;
	struct rcpt r;
	static const time_t age[] = { 0, 30, 60, 120, 960, 1799, 1800, 7200 };
	static const time_t want[] = { 60, 60, 60, 120, 960, 1799, 1800, 1800 };
	unsigned i;

	memset(&e, 0, sizeof(e));
	memset(&r, 0, sizeof(r));
	e.queued = 10000;
	r.status = RCPT_DEFERRED;
	for (i = 0; i < 8; i++) {
		r.last = e.queued + age[i];
		CHECK_INT(rcpt_next_try(&e, &r), r.last + want[i]);
	}
	r.last = e.queued + 120;
	CHECK(!rcpt_due(&e, &r, r.last + 119));
	CHECK(rcpt_due(&e, &r, r.last + 120));
	r.status = RCPT_SENT;
	CHECK(!rcpt_due(&e, &r, 99999999));
	r.status = RCPT_NEW;
	CHECK(rcpt_due(&e, &r, 0));
}

TEST(a_long_state_log_is_compacted)
{
	struct spool sp;
	struct qentry e;
	struct strbuf why = STRBUF_INIT, log = STRBUF_INIT;
	char *st;
	int i;

	setup(&sp);
	spit("spool/queue/msg/C", "x\r\n");
	spit("spool/queue/env/C", "sender s@example.jp\nqueued 1000\n"
				  "rcpt a@example.jp\nrcpt b@example.jp\nrcpt c@example.jp\n");
	for (i = 0; i < 30; i++)
		strbuf_addf(&log, "%d\ta@example.jp\tdeferred\t450 busy\n", 1000 + i * 60);
	strbuf_addstr(&log, "3000\tb@example.jp\tfailed\t550 no\n");
	strbuf_addstr(&log, "3100\ta@example.jp\tsent\t250 ok\n");
	strbuf_addstr(&log, "3200\tc@example.jp\tdeferred\t451 later\n3300\tc@ex");
	spit("spool/queue/state/C", log.buf);
	CHECK_INT(qentry_load(&sp, "C", &e, &why), 0);
	st = slurp("spool/queue/state/C");
	CHECK_STR(st, "3100\ta@example.jp\tsent\t(compacted)\n"
		      "3000\tb@example.jp\tfailed\t550 no\n"
		      "3200\tc@example.jp\tdeferred\t(compacted)\n");
	CHECK(e.rcpts[2].status == RCPT_DEFERRED && e.rcpts[2].last == 3200);
	CHECK(st && e.state_len == strlen(st));
	free(st);
	qentry_release(&e);
	/* Read back: the same outcomes. */
	CHECK_INT(qentry_load(&sp, "C", &e, &why), 0);
	CHECK(e.rcpts[0].status == RCPT_SENT && e.rcpts[1].status == RCPT_FAILED &&
	      e.rcpts[2].status == RCPT_DEFERRED && e.rcpts[2].last == 3200);
	CHECK_STR(e.rcpts[1].reply, "550 no");
	qentry_release(&e);
	strbuf_release(&why);
	strbuf_release(&log);
	spool_release(&sp);
}

TEST(outcome_by_reply_code_and_lifetime)
{
	struct qentry e;
	struct rcpt r[4];
	struct strbuf lines = STRBUF_INIT;

	memset(&e, 0, sizeof(e));
	memset(r, 0, sizeof(r));
	e.queued = 1000;
	r[0].addr = "a@x";
	r[1].addr = "b@x";
	r[2].addr = "c@x";
	r[3].addr = "d@x";
	rcpt_record(&e, &r[0], 250, "250 ok", 2000, &lines);
	rcpt_record(&e, &r[1], 550, "550 no", 2000, &lines);
	rcpt_record(&e, &r[2], 451, "451 later", 2000, &lines);
	rcpt_record(&e, &r[3], 0, "connection lost", 1000 + 24 * 3600, &lines);
	CHECK_INT(r[0].status, RCPT_SENT);
	CHECK_INT(r[1].status, RCPT_FAILED);
	CHECK(r[2].status == RCPT_DEFERRED && r[2].last == 2000);
	CHECK_INT(r[3].status, RCPT_FAILED);
	CHECK_CONTAINS(r[3].reply, "gave up 24 hours after queueing: connection lost");
	CHECK_STR(lines.buf, "2000\ta@x\tsent\t250 ok\n2000\tb@x\tfailed\t550 no\n"
			     "2000\tc@x\tdeferred\t451 later\n"
			     "87400\td@x\tfailed\tgave up 24 hours after queueing: "
			     "connection lost\n");
	free(r[1].reply);
	free(r[3].reply);
	strbuf_release(&lines);
}

TEST(maildir_refuses_addresses_that_are_not_folder_names)
{
	struct spool sp;
	struct strbuf t = STRBUF_INIT;
	struct strlist l = STRLIST_INIT;
	char *m;

	setup(&sp);
	CHECK_INT(maildir_deliver(&sp, "../x@example.jp", "a\r\n", 3, &t), 550);
	CHECK_INT(maildir_deliver(&sp, "a/b@example.jp", "a\r\n", 3, &t), 550);
	CHECK_INT(maildir_deliver(&sp, ".hidden", "a\r\n", 3, &t), 550);
	CHECK_INT(maildir_deliver(&sp, "", "a\r\n", 3, &t), 550);
	CHECK(dir_list("spool/mail", &l, 1) == 0 && l.nr == 0);
	strbuf_reset(&t);
	CHECK_INT(maildir_deliver(&sp, "ok@example.jp", "S: x\r\n\r\nbody\r\n", 15, &t), 250);
	CHECK_CONTAINS(t.buf, "250 2.0.0 delivered to mail/ok@example.jp/new/");
	CHECK(dir_list("spool/mail/ok@example.jp/new", &l, 1) == 0 && l.nr == 1);
	if (l.nr == 1) {
		char *p = path_join("spool/mail/ok@example.jp/new", l.items[0]);

		m = slurp(p);
		CHECK_STR(m, "S: x\n\nbody\n");
		free(m);
		free(p);
	}
	strlist_clear(&l);
	strbuf_release(&t);
	spool_release(&sp);
}

UNIT_MAIN(T(add_writes_message_and_envelope),
	  T(add_refuses_a_recipient_with_a_space_or_newline),
	  T(load_reads_state_last_line_wins_partial_line_ignored),
	  T(load_says_why_an_entry_is_unusable),
	  T(retry_waits_as_long_as_the_message_was_queued),
	  T(a_long_state_log_is_compacted),
	  T(outcome_by_reply_code_and_lifetime),
	  T(maildir_refuses_addresses_that_are_not_folder_names))
