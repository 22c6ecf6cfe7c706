/*
 * test_sealidx - what the sealed stores share (core/sealidx.c): a sealed
 * file read back only under its own key and name, nothing in clear on
 * disk, a missing file told from a damaged one, the cleaning of files an
 * index does not name, "key\tvalue" lists, notes rotation, serials per
 * year, keyed hashes.
 */
#include "unit.h"
#include "core/sealidx.h"
#include "core/spool.h"
#include "lib/seal.h"
#include "util/fileio.h"
#include "util/strbuf.h"

static struct spool sp;
static unsigned char key[SEAL_KEY_LEN], other[SEAL_KEY_LEN];

static int setup(void)
{
	char cwd[PATH_MAX - 16], root[PATH_MAX];

	seal_init();
	random_nonce(key, sizeof(key));
	random_nonce(other, sizeof(other));
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	snprintf(root, sizeof(root), "%s/spool", cwd);
	if (spool_open(&sp, root) < 0)
		return -1;
	return mkdir("spool/store", 0700);
}

TEST(commit_and_read)
{
	struct strbuf plain = STRBUF_INIT, raw = STRBUF_INIT;

	if (setup() < 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(sealidx_read(&sp, key, "store/index", "index", 1 << 20, &plain), 1);
	strbuf_addstr(&plain, "secret line\n");
	CHECK_INT(sealidx_commit(&sp, key, "store/index", "index", &plain), 0);
	CHECK_INT(plain.len, 0);
	CHECK_INT(strbuf_read_file(&raw, "spool/store/index", 1 << 20), 0);
	CHECK(!memmem(raw.buf, raw.len, "secret", 6));
	CHECK_INT(sealidx_read(&sp, key, "store/index", "index", 1 << 20, &plain), 0);
	CHECK_STR(plain.buf, "secret line\n");
	/* Another name or another key: refused, not a missing file. */
	CHECK_INT(sealidx_read(&sp, key, "store/index", "other", 1 << 20, &plain), -1);
	CHECK_INT(sealidx_read(&sp, other, "store/index", "index", 1 << 20, &plain), -1);
	strbuf_release(&plain);
	strbuf_release(&raw);
	spool_release(&sp);
}

static int fill_lines(void *ctx, struct strbuf *chunk)
{
	int *left = ctx;

	strbuf_addf(chunk, "line %d\n", *left);
	return --*left > 0;
}

TEST(commit_stream_and_item_load)
{
	struct strbuf plain = STRBUF_INIT;
	struct node *root = NULL;
	int left = 3;

	if (setup() < 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(sealidx_commit_stream(&sp, key, "store/index", "index", fill_lines, &left),
		  0);
	CHECK_INT(sealidx_read(&sp, key, "store/index", "index", 1 << 20, &plain), 0);
	CHECK_STR(plain.buf, "line 3\nline 2\nline 1\n");

	strbuf_reset(&plain);
	strbuf_addstr(&plain, "<alert xmlns=\"urn:mimamori:1\" id=\"A1\"><x>秘密</x></alert>");
	CHECK_INT(sealidx_commit(&sp, key, "store/A1.1", "alert:A1.1", &plain), 0);
	CHECK_INT(sealidx_item_load(&sp, key, "alert", "store/A1.1", "alert:A1.1", NULL,
				    1 << 20, &root), 0);
	CHECK_STR(node_text(root, "x"), "秘密");
	node_free(root);
	root = NULL;
	/* Bound to its name: the same file under another name is refused. */
	CHECK_INT(sealidx_item_load(&sp, key, "alert", "store/A1.1", "alert:A2.1", NULL,
				    1 << 20, &root), -1);
	CHECK(root == NULL);
	/* A pending (uncommitted) item is taken from memory, not the file. */
	CHECK_INT(sealidx_item_load(&sp, key, "alert", "store/A9.1", "alert:A9.1",
				    "<alert xmlns=\"urn:mimamori:1\"><x>new</x></alert>", 1 << 20, &root), 0);
	CHECK_STR(node_text(root, "x"), "new");
	node_free(root);
	strbuf_release(&plain);
	spool_release(&sp);
}

/* Keep "index" and "A.2"; anything else goes. */
static int keep_current(void *ctx, const char *id, const char *version)
{
	int *asked = ctx;

	(*asked)++;
	if (!version)
		return !strcmp(id, "index");
	return !strcmp(id, "A") && !strcmp(version, "2");
}

TEST(clean_and_remove)
{
	struct strlist files = STRLIST_INIT;
	int asked = 0;

	if (setup() < 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(spool_commit(&sp, "store/index", "i", 1), 0);
	CHECK_INT(spool_commit(&sp, "store/A.1", "old", 3), 0);
	CHECK_INT(spool_commit(&sp, "store/A.2", "cur", 3), 0);
	CHECK_INT(spool_commit(&sp, "store/B.1", "left", 4), 0);
	CHECK_INT(sealidx_clean(&sp, "store", keep_current, &asked), 0);
	CHECK_INT(asked, 4);
	CHECK_INT(spool_exists(&sp, "store/index"), 1);
	CHECK_INT(spool_exists(&sp, "store/A.2"), 1);
	CHECK_INT(spool_exists(&sp, "store/A.1"), 0);
	CHECK_INT(spool_exists(&sp, "store/B.1"), 0);

	strlist_add(&files, "store/A.2");
	strlist_add(&files, "store/never-was");
	sealidx_remove(&sp, "store", &files);
	CHECK_INT(files.nr, 0);
	CHECK_INT(spool_exists(&sp, "store/A.2"), 0);
	spool_release(&sp);
}

TEST(key_values_and_notes)
{
	struct strlist l = STRLIST_INIT, notes = STRLIST_INIT;
	char line[] = "E\tR2026-000001\t3\t\tlast";
	char *f[4];

	sealidx_kv_add(&l, "export-seq:ward-chuo", "12");
	sealidx_kv_add(&l, "export-seq", "7");
	CHECK_STR(sealidx_kv_get(&l, "export-seq"), "7");
	CHECK_STR(sealidx_kv_get(&l, "export-seq:ward-chuo"), "12");
	CHECK(sealidx_kv_get(&l, "export") == NULL);
	CHECK_INT(sealidx_kv_find(&l, "export-seq"), 1);
	CHECK_INT(sealidx_kv_find(&l, "nothing"), -1);

	sealidx_kv_add(&notes, "old", "x");
	sealidx_notes_rotate(&notes, &l);
	CHECK_INT(l.nr, 0);
	CHECK_INT(notes.nr, 2);
	CHECK(sealidx_kv_get(&notes, "old") == NULL);
	CHECK_STR(sealidx_kv_get(&notes, "export-seq"), "7");
	strlist_clear(&notes);

	/* At most max fields: the rest stays in the last. */
	CHECK_INT(sealidx_split(line, f, 4), 4);
	CHECK_STR(f[1], "R2026-000001");
	CHECK_STR(f[3], "");
	{
		char one[] = "alone";

		CHECK_INT(sealidx_split(one, f, 4), 1);
		CHECK_STR(f[0], "alone");
	}
}

TEST(years_and_keyed_hashes)
{
	struct sealidx_years y = { 0 };
	struct strbuf msg = STRBUF_INIT;
	char h1[65], h2[65], h3[65];

	CHECK_INT(sealidx_year_max(&y, 2026), 0);
	sealidx_year_note(&y, 2026, 3);
	sealidx_year_note(&y, 2026, 1);
	sealidx_year_note(&y, 2027, 9);
	CHECK_INT(sealidx_year_max(&y, 2026), 3);
	CHECK_INT(sealidx_year_max(&y, 2027), 9);
	CHECK_INT(sealidx_year_max(&y, 2025), 0);
	sealidx_years_release(&y);
	CHECK_INT(sealidx_year_max(&y, 2026), 0);

	seal_init();
	random_nonce(key, sizeof(key));
	random_nonce(other, sizeof(other));
	strbuf_addstr(&msg, "person");
	sealidx_keyed_hex(key, &msg, h1);
	sealidx_keyed_hex(key, &msg, h2);
	sealidx_keyed_hex(other, &msg, h3);
	CHECK_INT(strlen(h1), 64);
	CHECK_STR(h1, h2);
	CHECK(strcmp(h1, h3) != 0);
	strbuf_release(&msg);
}

UNIT_MAIN(T(commit_and_read), T(commit_stream_and_item_load), T(clean_and_remove),
	  T(key_values_and_notes), T(years_and_keyed_hashes))
