/*
 * test_claim - claim notes and left claims (core/claim.c): the note's
 * key and typed value, a value that is not a claim note refused, notes
 * found under their stage (and under the bare token, as written before
 * the notes were typed), and the claims a killed run left listed with
 * their tokens, other files passed over.
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
	struct claim_note note = { CLAIM_ACCEPTED, "R2026-000001" }, back;
	struct strbuf key = STRBUF_INIT, value = STRBUF_INIT;
	static const char *const notes[] = {
		"intake:0123456789abcdef\taccepted R2026-000001",
		"fedcba9876543210\taccepted ward-chuo-12",
		"import:1111111111111111\trejected something",
		NULL,
	};

	claim_note_key(&key, "intake", "0123456789abcdef");
	CHECK_STR(key.buf, "intake:0123456789abcdef");
	claim_note_format(&note, &value);
	CHECK_STR(value.buf, "accepted R2026-000001");
	CHECK_INT(claim_note_parse(value.buf, &back), 0);
	CHECK_INT(back.outcome, CLAIM_ACCEPTED);
	CHECK_STR(back.ref, "R2026-000001");
	CHECK_INT(claim_note_parse("accepted ", &back), -1);
	CHECK_INT(claim_note_parse("accepted a b", &back), -1);
	CHECK_INT(claim_note_parse("rejected x", &back), -1);
	CHECK_INT(claim_note_parse("R2026-000001", &back), -1);

	CHECK_INT(claim_note_find(lookup, notes, "intake", "0123456789abcdef", &back), 1);
	CHECK_STR(back.ref, "R2026-000001");
	/* Another stage's note is not this one's. */
	CHECK_INT(claim_note_find(lookup, notes, "import", "0123456789abcdef", &back), 0);
	/* Keyed by the bare token: written before the notes were typed. */
	CHECK_INT(claim_note_find(lookup, notes, "import", "fedcba9876543210", &back), 1);
	CHECK_STR(back.ref, "ward-chuo-12");
	CHECK_INT(claim_note_find(lookup, notes, "import", "1111111111111111", &back), 0);
	CHECK_INT(claim_note_find(lookup, notes, "intake", "2222222222222222", &back), 0);
	strbuf_release(&key);
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

UNIT_MAIN(T(notes), T(claims_left))
