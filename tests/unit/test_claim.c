/*
 * test_claim - claim notes and left claims (core/claim.c): the note's
 * key and typed value (a reference, detail words, a reason, queued
 * messages), a value that is not a claim note refused, notes
 * found under their stage (and under the bare token, as written before
 * the notes were typed), the claims a killed run left listed with
 * their tokens, other files passed over, recovered in two passes, and
 * finished from their notes.
 */
#include "unit.h"
#include "core/claim.h"
#include "core/spool.h"
#include "util/fileio.h"
#include "util/strbuf.h"

/* A store's notes: "key\tvalue" lines. */
static const char *lookup(const void *ctx, const char *key)
{
	const char *const *l;
	size_t n = strlen(key);

	for (l = ctx; *l; l++)
		if (!strncmp(*l, key, n) && (*l)[n] == '\t')
			return *l + n + 1;
	return NULL;
}

TEST(notes)
{
	struct claim_note note = CLAIM_NOTE_INIT, back;
	struct strbuf key = STRBUF_INIT, value = STRBUF_INIT;
	static const char *const notes[] = {
		"intake:0123456789abcdef\taccepted R2026-000001",
		"fedcba9876543210\taccepted ward-chuo-12",
		"import:1111111111111111\trejected ***",
		"import:3333333333333333\trejected d2h5",
		NULL,
	};

	claim_note_key(&key, "intake", "0123456789abcdef");
	CHECK_STR(key.buf, "intake:0123456789abcdef");
	strcpy(note.ref, "R2026-000001");
	claim_note_format(&note, &value);
	CHECK_STR(value.buf, "accepted R2026-000001");
	CHECK_INT(claim_note_parse(value.buf, &back), 0);
	CHECK_INT(back.outcome, CLAIM_ACCEPTED);
	CHECK_STR(back.ref, "R2026-000001");
	CHECK_STR(back.detail, "");
	CHECK_STR(back.queued, "");
	claim_note_release(&back);
	CHECK_INT(claim_note_parse("accepted ", &back), -1);
	CHECK_INT(claim_note_parse("accepted", &back), -1);
	CHECK_INT(claim_note_parse("accepted a=b", &back), -1);
	CHECK_INT(claim_note_parse("accepted a  b", &back), -1);
	CHECK_INT(claim_note_parse("accepted a =b", &back), -1);
	CHECK_INT(claim_note_parse("rejected *", &back), -1);   /* not base64 */
	CHECK_INT(claim_note_parse("R2026-000001", &back), -1);
	CHECK_INT(claim_note_parse("held A2026-000001", &back), -1);

	CHECK_INT(claim_note_find(lookup, notes, "intake", "0123456789abcdef", &back), 1);
	CHECK_STR(back.ref, "R2026-000001");
	/* Another stage's note is not this one's. */
	CHECK_INT(claim_note_find(lookup, notes, "import", "0123456789abcdef", &back), 0);
	/* Keyed by the bare token: written before the notes were typed. */
	CHECK_INT(claim_note_find(lookup, notes, "import", "fedcba9876543210", &back), 1);
	CHECK_STR(back.ref, "ward-chuo-12");
	CHECK_INT(claim_note_find(lookup, notes, "import", "1111111111111111", &back), 0);
	CHECK_INT(claim_note_find(lookup, notes, "intake", "2222222222222222", &back), 0);
	CHECK_INT(claim_note_find(lookup, notes, "import", "3333333333333333", &back), 1);
	CHECK_INT(back.outcome, CLAIM_REJECTED);
	CHECK_STR(back.text.buf, "why");
	claim_note_release(&back);
	strbuf_release(&key);
	strbuf_release(&value);
}

/* A stage's note: detail words, a reason, queued messages. */
TEST(notes_typed)
{
	struct claim_note n = CLAIM_NOTE_INIT, back;
	struct strbuf value = STRBUF_INIT;

	strcpy(n.ref, "A2026-000001");
	strcpy(n.detail, "7 held");
	claim_note_format(&n, &value);
	claim_note_queue(&value, "q1", "env one", 7);
	claim_note_queue(&value, "q2", "e", 1);
	CHECK_STR(value.buf, "accepted A2026-000001 7 held q1=ZW52IG9uZQ== q2=ZQ==");
	CHECK_INT(claim_note_parse(value.buf, &back), 0);
	CHECK_INT(back.outcome, CLAIM_ACCEPTED);
	CHECK_STR(back.ref, "A2026-000001");
	CHECK_STR(back.detail, "7 held");
	CHECK_STR(back.queued, "q1=ZW52IG9uZQ== q2=ZQ==");
	claim_note_release(&back);

	/* A reason of any bytes: spaces, '=', a line break. */
	n.outcome = CLAIM_REJECTED;
	strbuf_addstr(&n.text, "unknown registration; a=b\nnext");
	claim_note_format(&n, &value);
	CHECK_INT(claim_note_parse(value.buf, &back), 0);
	CHECK_INT(back.outcome, CLAIM_REJECTED);
	CHECK_STR(back.text.buf, "unknown registration; a=b\nnext");
	CHECK_STR(back.queued, "");
	claim_note_release(&back);

	/* Done with nothing to say, and one message queued. */
	n.outcome = CLAIM_DONE;
	strbuf_reset(&n.text);
	claim_note_format(&n, &value);
	CHECK_STR(value.buf, "done -");
	claim_note_queue(&value, "q3", "x", 1);
	CHECK_INT(claim_note_parse(value.buf, &back), 0);
	CHECK_INT(back.outcome, CLAIM_DONE);
	CHECK_INT((int)back.text.len, 0);
	CHECK_STR(back.queued, "q3=eA==");
	claim_note_release(&back);

	/* Anything but QID=ENV words after the text is not a note. */
	CHECK_INT(claim_note_parse("done - word", &back), -1);
	CHECK_INT(claim_note_parse("done - =x", &back), -1);
	claim_note_release(&n);
	strbuf_release(&value);
}

TEST(claims_left)
{
	struct spool sp;
	struct strbuf rel = STRBUF_INIT;
	struct claim_left *left;
	char cwd[PATH_MAX - 16], root[PATH_MAX];
	size_t nr;

	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	snprintf(root, sizeof(root), "%s/spool", cwd);
	CHECK_INT(spool_open(&sp, root), 0);
	CHECK_INT(claim_left_list(&sp, SPOOL_WORK_INTAKE, &left), 0);
	claim_left_free(left, 0);
	CHECK_INT(mkdir("spool/work/intake", 0700), 0);
	claim_rel(&rel, SPOOL_WORK_INTAKE, "bbbbbbbbbbbbbbbb", "r-2.xml");
	CHECK_STR(rel.buf, "work/intake/bbbbbbbbbbbbbbbb-r-2.xml");
	CHECK_INT(spool_commit(&sp, rel.buf, "2", 1), 0);
	claim_rel(&rel, SPOOL_WORK_INTAKE, "aaaaaaaaaaaaaaaa", "r-1.xml");
	CHECK_INT(spool_commit(&sp, rel.buf, "1", 1), 0);
	CHECK_INT(spool_commit(&sp, "work/intake/not-a-claim", "x", 1), 0);
	nr = claim_left_list(&sp, SPOOL_WORK_INTAKE, &left);
	CHECK_INT(nr, 2);
	if (nr == 2) {
		CHECK_STR(left[0].token, "aaaaaaaaaaaaaaaa");
		CHECK_STR(left[0].name, "r-1.xml");
		CHECK_STR(left[1].token, "bbbbbbbbbbbbbbbb");
		CHECK_STR(left[1].name, "r-2.xml");
	}
	claim_left_free(left, nr);
	strbuf_release(&rel);
	spool_release(&sp);
}

/* What claim_recover() asked for, in order. */
struct rec_log {
	struct strbuf log;
};

static void rec_finished(void *ctx, const struct claim_left *c, const struct claim_note *n)
{
	struct rec_log *l = ctx;

	strbuf_addf(&l->log, "finished %s %s %d; ", c->token, c->name, (int)n->outcome);
}

static void rec_redo(void *ctx, const struct claim_left *c)
{
	struct rec_log *l = ctx;

	strbuf_addf(&l->log, "redo %s %s; ", c->token, c->name);
}

static int rec_stop(void *ctx)
{
	(void)ctx;
	return 0;
}

/*
 * Pass 0 finishes the noted claims and marks them; pass 1 redoes only the
 * others, even once the notes are gone (a later commit replaced them).
 */
TEST(recover)
{
	static const char *const notes[] = {
		"dispatch:aaaaaaaaaaaaaaaa\taccepted A2026-000001 3",
		"dispatch:cccccccccccccccc\tnot a note",
		NULL,
	};
	static const char *const none[] = { NULL };
	struct claim_left left[3] = {
		{ "aaaaaaaaaaaaaaaa", (char *)"a", 0 },
		{ "bbbbbbbbbbbbbbbb", (char *)"b", 0 },
		{ "cccccccccccccccc", (char *)"c", 0 },
	};
	struct rec_log l = { STRBUF_INIT };
	struct claim_recovery r = { "dispatch", lookup, notes, &l, rec_finished, rec_redo,
				    rec_stop };

	claim_recover(&r, left, 3, 0);
	CHECK_STR(l.log.buf, "finished aaaaaaaaaaaaaaaa a 0; ");
	CHECK_INT(left[0].noted, 1);
	CHECK_INT(left[1].noted, 0);
	CHECK_INT(left[2].noted, 1);   /* noted, unreadable: left alone */
	strbuf_reset(&l.log);
	r.store = none;
	claim_recover(&r, left, 3, 1);
	CHECK_STR(l.log.buf, "redo bbbbbbbbbbbbbbbb b; ");
	strbuf_release(&l.log);
}

/* A rejected claim moves with its reason, an accepted one goes, a gone one is passed over. */
TEST(finish)
{
	struct spool sp;
	struct claim_note n = CLAIM_NOTE_INIT;
	struct strbuf got = STRBUF_INIT;
	char cwd[PATH_MAX - 16], root[PATH_MAX];
	struct stat st;

	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	snprintf(root, sizeof(root), "%s/spool", cwd);
	CHECK_INT(spool_open(&sp, root), 0);
	CHECK_INT(mkdir("spool/work/dispatch", 0700), 0);
	CHECK_INT(spool_commit(&sp, "work/dispatch/aaaaaaaaaaaaaaaa-m1", "1", 1), 0);
	CHECK_INT(spool_commit(&sp, "work/dispatch/bbbbbbbbbbbbbbbb-m2", "2", 1), 0);
	n.outcome = CLAIM_REJECTED;
	strbuf_addstr(&n.text, "unknown registration");
	CHECK_INT(claim_finish(&sp, "work/dispatch/aaaaaaaaaaaaaaaa-m1", "m1", &n), 0);
	CHECK_INT(stat("spool/work/dispatch/aaaaaaaaaaaaaaaa-m1", &st), -1);
	CHECK(strbuf_read_file(&got, "spool/rejected/m1.reason", 4096) >= 0);
	CHECK_STR(got.buf, "unknown registration\n");
	/* Again (a second crash after the move): nothing more. */
	CHECK_INT(claim_finish(&sp, "work/dispatch/aaaaaaaaaaaaaaaa-m1", "m1", &n), 0);
	CHECK_INT(stat("spool/rejected/m1.1", &st), -1);
	n.outcome = CLAIM_ACCEPTED;
	CHECK_INT(claim_finish(&sp, "work/dispatch/bbbbbbbbbbbbbbbb-m2", "m2", &n), 0);
	CHECK_INT(stat("spool/work/dispatch/bbbbbbbbbbbbbbbb-m2", &st), -1);
	CHECK_INT(stat("spool/rejected/m2", &st), -1);
	claim_note_release(&n);
	strbuf_release(&got);
	spool_release(&sp);
}

UNIT_MAIN(T(notes), T(notes_typed), T(claims_left), T(recover), T(finish))
