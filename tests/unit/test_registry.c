/*
 * test_registry - the registry (core/registry.c): ids never reused, a
 * record stored, committed and read back, persons found by name-kana and
 * birth date, destruction to a tombstone, notes for one commit, state
 * values, nothing in clear on disk, leftovers of an interrupted run
 * removed, and a missing index refused when records exist.
 */
#include "unit.h"
#include "core/registry.h"
#include "util/fileio.h"
#include "util/node.h"
#include "util/timeutil.h"
#include "unit_node.h"

static long day(const char *s)
{
	long d = -1;

	date_parse(s, &d);
	return d;
}

/* A <record> for id (version 1 unless given) with a person. */
static struct node *record(const char *id, int version, const char *kana, const char *birth)
{
	struct node *r = node_new("record"), *p;
	char v[12];

	snprintf(v, sizeof(v), "%d", version);
	node_set_attr(r, "id", id);
	node_set_attr(r, "version", v);
	node_set_attr(r, "registered", "2026-04-01");
	node_set_attr(r, "expires", "2028-04-01");
	node_add(r, "basis", "consent");
	p = node_add(r, "person", NULL);
	node_add(p, "name", "見守 花子");
	node_add(p, "name-kana", kana);
	node_add(p, "birth-date", birth);
	node_add(p, "sex", "f");
	node_set_attr(node_add(p, "address", "中央区 1-1"), "ward", "chuo");
	return r;
}

static struct reg_entry *put(struct registry *reg, const char *id, int version,
			     const char *kana)
{
	struct node *r = record(id, version, kana, "1940-01-02");
	struct reg_entry *e = registry_put(reg, r);

	node_free(r);
	return e;
}

TEST(put_commit_load)
{
	struct registry *reg = NULL;
	struct reg_entry *e;
	struct node *r = NULL;
	struct strbuf raw = STRBUF_INIT;
	char id[24];

	if (node_setup() < 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(registry_open(&reg, &cfg, &sp, 1), 0);
	CHECK_INT(registry_count(reg), 0);
	registry_new_id(reg, day("2026-05-01"), id, sizeof(id));
	CHECK_STR(id, "R2026-000001");
	e = put(reg, id, 1, "みまもり はなこ");
	CHECK_STR(e->ward, "chuo");
	CHECK_INT(e->sex, 'f');
	CHECK_INT(e->no_broadcast, 0);
	/* Read back before the commit, from the batch. */
	CHECK_INT(registry_load(reg, e, &r), 0);
	CHECK_STR(node_text(r, "person/name"), "見守 花子");
	node_free(r);
	registry_note(reg, "intake:tok", "R2026-000001");
	registry_state_set(reg, "export-seq:ward-chuo", "3");
	CHECK_INT(registry_commit(reg), 0);
	registry_close(reg);

	CHECK_INT(strbuf_read_file(&raw, "spool/registry/records/R2026-000001.1", 1 << 20), 0);
	CHECK(!memmem(raw.buf, raw.len, "R2026", 5));
	CHECK(!memmem(raw.buf, raw.len, "chuo", 4));
	strbuf_reset(&raw);
	CHECK_INT(strbuf_read_file(&raw, "spool/registry/index", 1 << 20), 0);
	CHECK(!memmem(raw.buf, raw.len, "R2026", 5));

	CHECK_INT(registry_open(&reg, &cfg, &sp, 0), 0);
	CHECK_INT(registry_count(reg), 1);
	CHECK_STR(registry_note_get(reg, "intake:tok"), "R2026-000001");
	CHECK_STR(registry_state_get(reg, "export-seq:ward-chuo"), "3");
	e = registry_find_person(reg, "みまもり はなこ", "1940-01-02");
	CHECK(e != NULL && !strcmp(e->id, "R2026-000001"));
	CHECK(registry_find_person(reg, "みまもり はなこ", "1940-01-03") == NULL);
	CHECK_INT(registry_load(reg, registry_find(reg, "R2026-000001"), &r), 0);
	CHECK_STR(node_text(r, "person/name-kana"), "みまもり はなこ");
	node_free(r);
	registry_close(reg);
	strbuf_release(&raw);
	node_teardown();
}

TEST(versions_destroy_ids_notes_state)
{
	struct registry *reg = NULL;
	struct reg_entry *e;
	struct node *r = NULL;
	char id[24];

	if (node_setup() < 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(registry_open(&reg, &cfg, &sp, 1), 0);
	put(reg, "R2026-000001", 1, "いち");
	put(reg, "R2026-000002", 1, "に");
	CHECK_INT(registry_commit(reg), 0);
	/* A new version replaces the file of the old one. */
	put(reg, "R2026-000001", 2, "いち");
	CHECK_INT(registry_commit(reg), 0);
	CHECK(access("spool/registry/records/R2026-000001.1", F_OK) < 0);
	CHECK_INT(access("spool/registry/records/R2026-000001.2", F_OK), 0);
	/* Destroyed: a tombstone, its file gone, its id never given again. */
	e = registry_find(reg, "R2026-000002");
	CHECK_INT(registry_destroy(reg, e, day("2026-06-01"), "moved-out"), 0);
	registry_note(reg, "expire:x", "1");
	registry_state_set(reg, "k", "v");
	registry_state_set(reg, "k", "w");
	CHECK_INT(registry_commit(reg), 0);
	registry_close(reg);
	CHECK(access("spool/registry/records/R2026-000002.1", F_OK) < 0);

	CHECK_INT(registry_open(&reg, &cfg, &sp, 1), 0);
	e = registry_find(reg, "R2026-000002");
	CHECK(e && e->state == REG_DESTROYED);
	if (e) {
		CHECK_STR(e->reason, "moved-out");
		CHECK_INT(e->destroyed, day("2026-06-01"));
		CHECK(registry_load(reg, e, &r) < 0);
	}
	CHECK(registry_find_person(reg, "に", "1940-01-02") == NULL);
	registry_new_id(reg, day("2026-07-01"), id, sizeof(id));
	CHECK_STR(id, "R2026-000003");
	registry_new_id(reg, day("2027-01-01"), id, sizeof(id));
	CHECK_STR(id, "R2027-000001");
	CHECK_STR(registry_state_get(reg, "k"), "w");
	registry_state_unset(reg, "k");
	CHECK(registry_state_get(reg, "k") == NULL);
	/* Notes last one commit. */
	CHECK_STR(registry_note_get(reg, "expire:x"), "1");
	CHECK_INT(registry_commit(reg), 0);
	CHECK(registry_note_get(reg, "expire:x") == NULL);
	registry_close(reg);
	node_teardown();
}

TEST(leftovers_and_lost_index)
{
	struct registry *reg = NULL;

	if (node_setup() < 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(registry_open(&reg, &cfg, &sp, 1), 0);
	put(reg, "R2026-000001", 1, "いち");
	CHECK_INT(registry_commit(reg), 0);
	/* Written by a run killed before its index commit. */
	put(reg, "R2026-000002", 1, "に");
	registry_close(reg);
	CHECK_INT(spool_commit(&sp, "registry/records/R2026-000009.1", "x", 1), 0);
	CHECK_INT(registry_open(&reg, &cfg, &sp, 1), 0);
	CHECK_INT(registry_count(reg), 1);
	registry_close(reg);
	CHECK(access("spool/registry/records/R2026-000009.1", F_OK) < 0);
	CHECK(access("spool/registry/records/R2026-000002.1", F_OK) < 0);
	CHECK_INT(access("spool/registry/records/R2026-000001.1", F_OK), 0);

	/* The index lost while records exist: refused, nothing removed. */
	CHECK_INT(unlink("spool/registry/index"), 0);
	CHECK_INT(registry_open(&reg, &cfg, &sp, 1), -1);
	CHECK_INT(registry_open(&reg, &cfg, &sp, 0), -1);
	CHECK_INT(access("spool/registry/records/R2026-000001.1", F_OK), 0);
	CHECK(access("spool/registry/index", F_OK) < 0);
	node_teardown();
}

UNIT_MAIN(T(put_commit_load), T(versions_destroy_ids_notes_state),
	  T(leftovers_and_lost_index))
