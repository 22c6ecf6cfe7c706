/*
 * test_alert - the alert store (core/alert.c): ids never reused, open
 * alerts by registration, load of the full alert, close and found hours,
 * destruction to a tombstone, request-id replay memory, notes, nothing in
 * clear on disk, leftovers of an interrupted run removed, and a lost
 * index refused.
 */
#include <time.h>
#include "unit.h"
#include "core/alert.h"
#include "util/clock.h"
#include "core/config.h"
#include "lib/gpg.h"
#include "lib/seal.h"
#include "core/spool.h"
#include "util/fileio.h"
#include "util/strbuf.h"
#include "unit_node.h"

static struct alert_entry *open_one(struct alert_store *st, const char *reg, time_t at,
				    char *id)
{
	struct alert a;
	struct node *req = node_new("request");

	alert_init(&a);
	alert_new(st, at, &a);
	snprintf(a.entry.registration, sizeof(a.entry.registration), "%s", reg);
	snprintf(a.entry.ward, sizeof(a.entry.ward), "chuo");
	a.entry.missing_since = at - 5 * 3600;
	node_add(req, "clothing", "紺色のジャンパー");
	a.request = req;
	a.request_id = strdup("req-1");
	a.operator_fpr = strdup("ABCDEF");
	a.police = strdup("police-ikuta");
	strlist_add(&a.recipients, "b@example.jp");
	strlist_add(&a.recipients, "a@example.jp");
	strlist_add(&a.message_ids, "1.x@example.jp");
	CHECK_INT(alert_put(st, &a), 0);
	snprintf(id, 24, "%s", a.entry.id);
	alert_release(&a);
	return alert_find(st, id);
}

TEST(store_load_close_destroy)
{
	struct alert_store *st = NULL;
	struct alert a;
	struct alert_entry *e;
	char id1[24], id2[24];
	time_t t = 1795222800; /* 2026-11-21T10:00+09:00 */
	struct strbuf raw = STRBUF_INIT;

	if (node_setup() < 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(alert_store_open(&st, &cfg, &sp, 1), 0);
	CHECK_INT(alert_count(st), 0);
	e = open_one(st, "R2026-000003", t, id1);
	CHECK_STR(id1, "A2026-000001");
	CHECK(alert_find_open(st, "R2026-000003") == e);
	CHECK(alert_find_open(st, "R2026-000004") == NULL);
	alert_note(st, "dispatch:tok", "accepted A2026-000001 2");
	CHECK_INT(alert_commit(st), 0);
	CHECK_STR(alert_note_get(st, "dispatch:tok"), "accepted A2026-000001 2");
	alert_store_close(st);

	/* Nothing in clear on disk. */
	CHECK_INT(strbuf_read_file(&raw, "spool/alerts/A2026-000001.1", 1 << 20), 0);
	CHECK(!memmem(raw.buf, raw.len, "example.jp", 10));
	strbuf_reset(&raw);
	CHECK_INT(strbuf_read_file(&raw, "spool/alerts/index", 1 << 20), 0);
	CHECK(!memmem(raw.buf, raw.len, "R2026", 5));

	CHECK_INT(alert_store_open(&st, &cfg, &sp, 1), 0);
	CHECK_INT(alert_count(st), 1);
	CHECK_STR(alert_note_get(st, "dispatch:tok"), "accepted A2026-000001 2");
	e = alert_find(st, "A2026-000001");
	CHECK(e && e->state == ALERT_OPEN);
	CHECK_INT(alert_load(st, e, &a), 0);
	CHECK_STR(a.entry.registration, "R2026-000003");
	CHECK_STR(a.request_id, "req-1");
	CHECK_STR(a.police, "police-ikuta");
	CHECK_INT(a.recipients.nr, 2);
	CHECK_STR(a.recipients.items[0], "a@example.jp");
	CHECK_STR(node_text(a.request, "clothing"), "紺色のジャンパー");

	/* found: closed with the hours missing; a new version of the file. */
	alert_close(st, &a.entry, ALERT_FOUND, t + 3600);
	strlist_add(&a.message_ids, "2.x@example.jp");
	CHECK_INT(alert_put(st, &a), 0);
	alert_release(&a);
	e = open_one(st, "R2026-000005", t, id2);
	CHECK_STR(id2, "A2026-000002");
	CHECK_INT(alert_commit(st), 0);
	/* A commit without notes keeps those of the commit before... */
	CHECK_STR(alert_note_get(st, "dispatch:tok"), "accepted A2026-000001 2");
	alert_note(st, "dispatch:tok2", "rejected x");
	CHECK_INT(alert_commit(st), 0);
	/* ...one with notes replaces them. */
	CHECK(alert_note_get(st, "dispatch:tok") == NULL);
	CHECK_STR(alert_note_get(st, "dispatch:tok2"), "rejected x");
	e = alert_find(st, "A2026-000001");
	CHECK(e->state == ALERT_CLOSED && e->close_type == ALERT_FOUND);
	CHECK(e->hours_missing == 6);
	CHECK(alert_find_open(st, "R2026-000003") == NULL);
	CHECK(access("spool/alerts/A2026-000001.1", F_OK) < 0);
	CHECK_INT(access("spool/alerts/A2026-000001.2", F_OK), 0);

	/* destroy: a tombstone only. */
	alert_destroy(st, e, t + 86400 * 31);
	CHECK_INT(alert_commit(st), 0);
	alert_store_close(st);
	CHECK(access("spool/alerts/A2026-000001.2", F_OK) < 0);
	CHECK_INT(alert_store_open(&st, &cfg, &sp, 1), 0);
	e = alert_find(st, "A2026-000001");
	CHECK(e && e->state == ALERT_DESTROYED && e->hours_missing == 6);
	CHECK_STR(e->registration, "R2026-000003");
	CHECK_STR(alert_close_name(e->close_type), "found");
	CHECK(alert_load(st, e, &a) < 0);
	alert_release(&a);
	alert_store_close(st);
	strbuf_release(&raw);
	node_teardown();
}

TEST(ids_never_reused_and_replays_remembered)
{
	struct alert_store *st = NULL;
	struct alert a;
	char id[24];
	time_t t = 1795222800;
	FILE *f;

	if (node_setup() < 0) {
		CHECK(0);
		return;
	}
	/* The store forgets request ids on the program's clock, never the real one. */
	clock_set(t);
	CHECK_INT(alert_store_open(&st, &cfg, &sp, 1), 0);
	/* A new alert not stored takes no id. */
	alert_init(&a);
	alert_new(st, t, &a);
	CHECK_STR(a.entry.id, "A2026-000001");
	alert_release(&a);
	open_one(st, "R2026-000001", t, id);
	CHECK_STR(id, "A2026-000001");
	CHECK(!alert_request_seen(st, "OPFPR", "r1"));
	alert_request_mark(st, "OPFPR", "r1", t);
	CHECK(alert_request_seen(st, "OPFPR", "r1"));
	CHECK(!alert_request_seen(st, "OTHER", "r1"));
	CHECK_INT(alert_commit(st), 0);
	alert_destroy(st, alert_find(st, id), t);
	CHECK_INT(alert_commit(st), 0);
	alert_store_close(st);

	/* A leftover file of an interrupted run is removed at open. */
	f = fopen("spool/alerts/A2026-000009.1", "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	CHECK_INT(alert_store_open(&st, &cfg, &sp, 1), 0);
	CHECK(access("spool/alerts/A2026-000009.1", F_OK) < 0);
	CHECK(alert_request_seen(st, "OPFPR", "r1"));
	open_one(st, "R2026-000001", t, id);
	CHECK_STR(id, "A2026-000002");
	/* A new year starts again at 1. */
	open_one(st, "R2026-000002", t + 86400 * 60, id);
	CHECK_STR(id, "A2027-000001");
	CHECK_INT(alert_commit(st), 0);
	alert_store_close(st);

	/* Remembered for 8 days, forgotten after. */
	clock_set(t + 8 * 86400 - 60);
	CHECK_INT(alert_store_open(&st, &cfg, &sp, 1), 0);
	CHECK(alert_request_seen(st, "OPFPR", "r1"));
	CHECK_INT(alert_commit(st), 0);
	alert_store_close(st);
	clock_set(t + 8 * 86400 + 60);
	CHECK_INT(alert_store_open(&st, &cfg, &sp, 1), 0);
	CHECK_INT(alert_commit(st), 0);
	alert_store_close(st);
	CHECK_INT(alert_store_open(&st, &cfg, &sp, 1), 0);
	CHECK(!alert_request_seen(st, "OPFPR", "r1"));
	alert_store_close(st);
	node_teardown();
}

/* Request-ids are kept eight days on the program's clock, with their time. */
TEST(replays_kept_eight_days)
{
	struct alert_store *st = NULL;
	time_t t = 1795222800;

	if (node_setup() < 0) {
		CHECK(0);
		return;
	}
	clock_set(t);
	CHECK_INT(alert_store_open(&st, &cfg, &sp, 1), 0);
	CHECK_INT(alert_request_seen(st, "OPFPR", "r1"), 0);
	alert_request_mark(st, "OPFPR", "r1", t);
	alert_request_mark(st, "OPFPR", "r2", t - 8 * 86400 - 1);
	CHECK_INT(alert_request_seen(st, "OPFPR", "r1"), t);
	CHECK_INT(alert_commit(st), 0);
	alert_store_close(st);
	/* 8 days later r1 is still there; r2, older, was dropped at the commit */
	clock_set(t + 8 * 86400);
	CHECK_INT(alert_store_open(&st, &cfg, &sp, 1), 0);
	CHECK_INT(alert_request_seen(st, "OPFPR", "r1"), t);
	CHECK_INT(alert_request_seen(st, "OPFPR", "r2"), 0);
	CHECK_INT(alert_commit(st), 0);
	alert_store_close(st);
	/* a second later it is gone too, however far the real time is */
	clock_set(t + 8 * 86400 + 1);
	CHECK_INT(alert_store_open(&st, &cfg, &sp, 1), 0);
	CHECK_INT(alert_commit(st), 0);
	alert_store_close(st);
	CHECK_INT(alert_store_open(&st, &cfg, &sp, 1), 0);
	CHECK_INT(alert_request_seen(st, "OPFPR", "r1"), 0);
	alert_store_close(st);
	node_teardown();
}

/*
 * The index lost while alert files exist: the store refuses to open
 * (for writing or reading) rather than start again, which would remove
 * every alert file and give their ids out again.
 */
TEST(lost_index)
{
	struct alert_store *st = NULL;
	struct alert a;
	char id[24];
	time_t t = 1795222800;

	if (node_setup() < 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(alert_store_open(&st, &cfg, &sp, 1), 0);
	open_one(st, "R2026-000003", t, id);
	CHECK_STR(id, "A2026-000001");
	CHECK_INT(alert_commit(st), 0);
	alert_store_close(st);
	CHECK_INT(unlink("spool/alerts/index"), 0);

	CHECK_INT(alert_store_open(&st, &cfg, &sp, 0), -1);
	alert_store_close(st);
	CHECK_INT(alert_store_open(&st, &cfg, &sp, 1), -1);
	if (st) {
		/* Opened anyway: the id counter must not start again. */
		alert_init(&a);
		alert_new(st, t, &a);
		CHECK(strcmp(a.entry.id, "A2026-000001") != 0);
		alert_release(&a);
		alert_store_close(st);
	}
	CHECK_INT(access("spool/alerts/A2026-000001.1", F_OK), 0);
	CHECK(access("spool/alerts/index", F_OK) < 0);
	node_teardown();
}

UNIT_MAIN(T(store_load_close_destroy), T(ids_never_reused_and_replays_remembered),
	  T(replays_kept_eight_days), T(lost_index))
