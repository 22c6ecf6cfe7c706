/*
 * registry - the node's records, sealed at rest, and their index (see
 * registry.h for the on-disk layout and the commit protocol).
 *
 * SECURITY: holds decrypted records in memory one at a time; the index
 * holds no name or address in clear (it is sealed, and persons are found
 * by a keyed hash of their folded name-kana and birth date).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "registry.h"
#include "datakey.h"
#include "../lib/seal.h"
#include "sealidx.h"
#include "sealstore.h"
#include "../lib/text.h"
#include "../lib/xml.h"
#include "../util/fileio.h"
#include "../util/hashmap.h"
#include "../util/msg.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"

#define INDEX_REL   SPOOL_REGISTRY "/index"
#define INDEX_AAD   "index"
#define INDEX_MAGIC "mimamori-index 1"
#define INDEX_MAX   ((size_t)1 << 30)
#define RECORD_MAX  (16 << 20)

struct registry {
	struct sealstore st;        /* entries, ids per year, notes, batch, lock */
	struct hashmap by_person;   /* active entries by e->person */
	long seq;
	struct strlist state;       /* "key\tvalue", persistent */
	struct index_writer {
		size_t next;        /* the next entry to write */
		int started;
	} writer;
	struct hashmap atoms;       /* the strings entries share (see registry.h) */
	struct strlist atom_list;   /* their storage */
	struct strbuf scratch;      /* a record being written: kept for its room */
	int write_behind;           /* registry_write_behind() */
};

/* The registry's one copy of s. */
static const char *atom(struct registry *reg, const char *s)
{
	const char *a;

	if (!*s)
		return "";
	a = hashmap_get(&reg->atoms, s);
	if (a)
		return a;
	strlist_add(&reg->atom_list, s);
	a = reg->atom_list.items[reg->atom_list.nr - 1];
	hashmap_put(&reg->atoms, a, (void *)a);
	return a;
}

static void record_rel(struct strbuf *sb, const char *id, int version)
{
	strbuf_reset(sb);
	strbuf_addf(sb, SPOOL_RECORDS "/%s.%d", id, version);
}

static void record_aad(struct strbuf *sb, const char *id, int version)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "record:%s.%d", id, version);
}

static void person_key(const struct registry *reg, const char *kana, const char *birth,
		       char *hex)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "person");
	strbuf_addch(&sb, '\0');
	text_fold(kana ? kana : "", &sb);
	strbuf_addch(&sb, '\0');
	strbuf_addstr(&sb, birth ? birth : "");
	sealidx_keyed_hex(reg->st.key, &sb, hex);
	strbuf_release(&sb);
}

static struct reg_entry *entry_add(struct registry *reg, const char *id)
{
	struct reg_entry *e = sealstore_entry_add(&reg->st, id);

	e->renewed = e->reminded = e->destroyed = -1;
	e->ward = e->center = e->sent_to = "";
	return e;
}

static void format_date(long d, char *out)
{
	if (d < 0)
		strcpy(out, "-");
	else
		date_format(d, out);
}

static int parse_date_field(const char *s, long *d)
{
	if (!strcmp(s, "-")) {
		*d = -1;
		return 0;
	}
	return date_parse(s, d);
}

/* One tab-led field; "-" for an empty string. */
static void add_field(struct strbuf *out, const char *s)
{
	strbuf_addch(out, '\t');
	strbuf_addstr(out, *s ? s : "-");
}

static void add_number(struct strbuf *out, long n)
{
	char digits[24], *p = digits + sizeof(digits);
	unsigned long u = n < 0 ? -(unsigned long)n : (unsigned long)n;

	*--p = '\0';
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (n < 0)
		*--p = '-';
	add_field(out, p);
}

static void add_date(struct strbuf *out, long d)
{
	char buf[11];

	format_date(d, buf);
	add_field(out, buf);
}

/*
 * Index lines, tab-separated:
 *   E id version state seq registered expires renewed reminded ward center
 *     sex no-broadcast person destroyed reason sent-to
 *   S key value
 *   N key value          (notes: core/sealstore.c)
 *
 * Written at every commit: at 100,000 records it is the largest cost of
 * a commit, hence fields appended one by one rather than with printf.
 */
static void index_line(const struct reg_entry *e, struct strbuf *out)
{
	char c[2] = { e->sex, 0 };

	strbuf_addch(out, 'E');
	add_field(out, e->id);
	add_number(out, e->version);
	add_field(out, e->state == REG_ACTIVE ? "a" : "d");
	add_number(out, e->seq);
	add_date(out, e->registered);
	add_date(out, e->expires);
	add_date(out, e->renewed);
	add_date(out, e->reminded);
	add_field(out, e->ward);
	add_field(out, e->center);
	add_field(out, c);
	add_number(out, e->no_broadcast);
	add_field(out, e->person);
	add_date(out, e->destroyed);
	add_field(out, e->reason);
	add_field(out, e->sent_to);
	strbuf_addch(out, '\n');
}

/*
 * The index is sealed as it is written, 64 KB at a time (at 100,000
 * people it is 19 MB, which would otherwise be held whole once more at
 * every commit): where the writing is (struct registry's writer).
 */

static int index_fill(void *ctx, struct strbuf *out)
{
	struct registry *reg = ctx;
	struct index_writer *w = &reg->writer;
	size_t i;

	if (!w->started) {
		strbuf_addf(out, INDEX_MAGIC "\tseq=%ld\n", reg->seq);
		w->started = 1;
	}
	while (w->next < reg->st.nr && out->len < 65536)
		index_line(reg->st.entries[w->next++], out);
	if (w->next < reg->st.nr)
		return 1;
	for (i = 0; i < reg->state.nr; i++)
		strbuf_addf(out, "S\t%s\n", reg->state.items[i]);
	w->next = 0;
	w->started = 0;
	return 0;
}

static void copy_field(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", strcmp(src, "-") ? src : "");
}

static int parse_entry(struct registry *reg, char **f, int nf)
{
	struct reg_entry *e;

	if (nf != 17 || strcmp(f[0], "E") || (f[3][0] != 'a' && f[3][0] != 'd') ||
	    sealstore_find(&reg->st, f[1]))
		return -1;
	e = entry_add(reg, f[1]);
	e->version = atoi(f[2]);
	e->state = f[3][0] == 'a' ? REG_ACTIVE : REG_DESTROYED;
	e->seq = atol(f[4]);
	if (parse_date_field(f[5], &e->registered) || parse_date_field(f[6], &e->expires) ||
	    parse_date_field(f[7], &e->renewed) || parse_date_field(f[8], &e->reminded) ||
	    parse_date_field(f[14], &e->destroyed))
		return -1;
	e->ward = atom(reg, strcmp(f[9], "-") ? f[9] : "");
	e->center = atom(reg, strcmp(f[10], "-") ? f[10] : "");
	e->sex = f[11][0] == '-' ? 0 : f[11][0];
	e->no_broadcast = atoi(f[12]);
	copy_field(e->person, sizeof(e->person), f[13]);
	copy_field(e->reason, sizeof(e->reason), f[15]);
	e->sent_to = atom(reg, strcmp(f[16], "-") ? f[16] : "");
	if (e->state == REG_ACTIVE && e->person[0])
		hashmap_put(&reg->by_person, e->person, e);
	return 0;
}

static int index_header(void *ctx, const char *line)
{
	struct registry *reg = ctx;

	if (strncmp(line, INDEX_MAGIC "\tseq=", strlen(INDEX_MAGIC) + 5))
		return -1;
	reg->seq = atol(line + strlen(INDEX_MAGIC) + 5);
	return 0;
}

static int index_entry(void *ctx, char **f, int nf)
{
	struct registry *reg = ctx;

	if (nf == 3 && !strcmp(f[0], "S")) {
		sealidx_kv_add(&reg->state, f[1], f[2]);
		return 0;
	}
	return parse_entry(reg, f, nf);
}

/*
 * Whether records/ID.VERSION is the current version of an active record:
 * the others were written by a run interrupted before its index commit,
 * or are versions the index moved past before they were removed.
 */
static int record_named(void *ctx, const char *id, const char *version)
{
	struct registry *reg = ctx;
	struct reg_entry *e = version ? sealstore_find(&reg->st, id) : NULL;

	return e && e->state == REG_ACTIVE && e->version == atoi(version);
}

static const struct sealstore_ops registry_ops = {
	.what = "registry",
	.lock = "registry",
	.dir = SPOOL_RECORDS,
	.index_rel = INDEX_REL,
	.index_aad = INDEX_AAD,
	.index_max = INDEX_MAX,
	.entry_size = sizeof(struct reg_entry),
	.id_letter = 'R',
	.keep_notes = 0,
	.header = index_header,
	.line = index_entry,
	.fill = index_fill,
	.keep = record_named,
};

int registry_open(struct registry **regp, const struct config *cfg,
		  const struct spool *sp, int for_write)
{
	struct registry *reg = xcalloc(1, sizeof(*reg));

	strbuf_init(&reg->scratch, 0);
	*regp = NULL;
	if (sealstore_open(&reg->st, &registry_ops, reg, cfg, sp, for_write) < 0) {
		registry_close(reg);
		return -1;
	}
	strlist_sort(&reg->state);
	*regp = reg;
	return 0;
}

void registry_close(struct registry *reg)
{
	if (!reg)
		return;
	sealstore_release(&reg->st);
	hashmap_clear(&reg->by_person);
	hashmap_clear(&reg->atoms);
	strlist_clear(&reg->atom_list);
	strlist_clear(&reg->state);
	strbuf_release(&reg->scratch);
	free(reg);
}

size_t registry_count(const struct registry *reg)
{
	return reg->st.nr;
}

struct reg_entry *registry_entry(struct registry *reg, size_t i)
{
	return i < reg->st.nr ? reg->st.entries[i] : NULL;
}

struct reg_entry *registry_find(struct registry *reg, const char *id)
{
	return sealstore_find(&reg->st, id);
}

struct reg_entry *registry_find_person(struct registry *reg, const char *kana,
					const char *birth_date)
{
	char hex[65];

	person_key(reg, kana, birth_date, hex);
	return hashmap_get(&reg->by_person, hex);
}

int registry_load(struct registry *reg, const struct reg_entry *e, struct node **record)
{
	struct strbuf rel = STRBUF_INIT, aad = STRBUF_INIT;
	int ret;

	*record = NULL;
	if (e->state != REG_ACTIVE)
		return error("record '%s' was destroyed", e->id);
	record_rel(&rel, e->id, e->version);
	record_aad(&aad, e->id, e->version);
	/*
	 * One changed earlier in this batch is not in records/ yet: it is read
	 * back from the batch's temporary file (not kept in memory: a batch
	 * holds a thousand records).
	 */
	ret = sealidx_item_load(reg->st.sp, reg->st.key, "record",
				spool_batch_pending(&reg->st.batch, rel.buf) ?: rel.buf, aad.buf,
				NULL, RECORD_MAX, record);
	strbuf_release(&rel);
	strbuf_release(&aad);
	return ret;
}

void registry_new_id(struct registry *reg, long date, char *id, size_t idlen)
{
	int y, m, d;

	long n;

	date_split(date, &y, &m, &d);
	n = sealstore_next_serial(&reg->st, y);
	snprintf(id, idlen, "R%04d-%06ld", y, n);
	sealidx_year_note(&reg->st.years, y, n);
}

static void date_attr(const struct node *n, const char *name, long *out)
{
	const char *v = node_attr(n, name);

	if (!v || date_parse(v, out) < 0)
		*out = -1;
}

static void __attribute__((noreturn)) store_failed(struct registry *reg,
						  const struct reg_entry *e)
{
	/* Remove this batch's files first: on a full disk they would hold
	 * the space until the next run. */
	spool_batch_release(&reg->st.batch);
	msg_die(74, "cannot store record '%s'", e->id);
}

struct reg_entry *registry_put(struct registry *reg, const struct node *record)
{
	struct strbuf *xml = &reg->scratch, rel = STRBUF_INIT, aad = STRBUF_INIT;
	const char *id = node_attr(record, "id");
	const char *version = node_attr(record, "version");
	const struct node *person = node_child(record, "person");
	const char *basis = node_text(record, "basis");
	const char *broadcast = node_attr(node_child(record, "consent"), "broadcast");
	const char *sex = node_text(person, "sex");
	struct reg_entry *e;

	if (!id || !version)
		msg_panic("registry_put() without id or version");
	e = registry_find(reg, id);
	if (!e)
		e = entry_add(reg, id);
	if (e->state == REG_ACTIVE && e->version > 0) {
		record_rel(&rel, e->id, e->version);
		sealstore_obsolete(&reg->st, rel.buf);
		if (e->person[0])
			hashmap_remove(&reg->by_person, e->person);
	}
	e->state = REG_ACTIVE;
	e->version = atoi(version);
	e->seq = ++reg->seq;
	date_attr(record, "registered", &e->registered);
	date_attr(record, "expires", &e->expires);
	date_attr(record, "renewed", &e->renewed);
	e->ward = atom(reg, node_attr(node_child(person, "address"), "ward") ?: "");
	e->center = atom(reg, node_attr(node_child(record, "intake"), "center") ?: "");
	e->sex = sex ? sex[0] : 0;
	e->no_broadcast = !basis || !strcmp(basis, "agency-sharing") ||
			  (broadcast && !strcmp(broadcast, "no"));
	person_key(reg, node_text(person, "name-kana"), node_text(person, "birth-date"),
		   e->person);
	hashmap_put(&reg->by_person, e->person, e);
	e->destroyed = -1;
	e->reason[0] = '\0';

	strbuf_reset(xml);
	node_write(record, xml);
	record_rel(&rel, e->id, e->version);
	record_aad(&aad, e->id, e->version);
	/*
	 * No plaintext is left in the scratch buffer: written behind, the
	 * record is sealed into a buffer of its own, handed to the writer,
	 * and the scratch buffer wiped; else it is sealed in place.
	 */
	if (reg->write_behind) {
		char *sealed;
		size_t len;
		int r = seal_to(reg->st.key, aad.buf, xml->buf, xml->len, &sealed, &len);

		wipe(xml->buf, xml->len);
		strbuf_reset(xml);
		if (r < 0)
			store_failed(reg, e);
		spool_batch_create_async(&reg->st.batch, rel.buf, sealed, len);
	} else if (seal_in_place(reg->st.key, aad.buf, xml) < 0 ||
		   spool_batch_create(&reg->st.batch, rel.buf, xml->buf, xml->len) < 0) {
		store_failed(reg, e);
	}
	strbuf_release(&rel);
	strbuf_release(&aad);
	return e;
}

void registry_write_behind(struct registry *reg)
{
	reg->write_behind = 1;
}

int registry_destroy(struct registry *reg, struct reg_entry *e, long date, const char *reason)
{
	struct strbuf rel = STRBUF_INIT;

	if (e->state == REG_ACTIVE && e->version > 0) {
		record_rel(&rel, e->id, e->version);
		sealstore_obsolete(&reg->st, rel.buf);
	}
	if (e->person[0] && hashmap_get(&reg->by_person, e->person) == e)
		hashmap_remove(&reg->by_person, e->person);
	e->state = REG_DESTROYED;
	e->person[0] = '\0';
	e->destroyed = date;
	e->seq = ++reg->seq;
	snprintf(e->reason, sizeof(e->reason), "%s", reason);
	strbuf_release(&rel);
	return 0;
}

void registry_note(struct registry *reg, const char *key, const char *value)
{
	sealstore_note(&reg->st, key, value);
}

const char *registry_note_get(const struct registry *reg, const char *key)
{
	return sealstore_note_get(&reg->st, key);
}

const char *registry_state_get(const struct registry *reg, const char *key)
{
	return sealidx_kv_get(&reg->state, key);
}

void registry_state_set(struct registry *reg, const char *key, const char *value)
{
	struct strbuf sb = STRBUF_INIT;
	long i;

	if (strchr(key, '\t') || strchr(key, '\n') || strchr(value, '\t') ||
	    strchr(value, '\n'))
		msg_panic("registry_state_set() with a tab or newline");
	i = sealidx_kv_find(&reg->state, key);
	if (i < 0) {
		sealidx_kv_add(&reg->state, key, value);
		return;
	}
	strbuf_addf(&sb, "%s\t%s", key, value);
	free(reg->state.items[i]);
	reg->state.items[i] = strbuf_detach(&sb, NULL);
}

void registry_state_unset(struct registry *reg, const char *key)
{
	long i = sealidx_kv_find(&reg->state, key);

	if (i >= 0) {
		free(reg->state.items[i]);
		reg->state.items[i] = reg->state.items[--reg->state.nr];
	}
}

int registry_was_sent(const struct reg_entry *e, const char *agency)
{
	const char *p = e->sent_to;
	size_t len = strlen(agency);

	while ((p = strstr(p, agency))) {
		if ((p == e->sent_to || p[-1] == ',') && (p[len] == ',' || !p[len]))
			return 1;
		p += len;
	}
	return 0;
}

void registry_mark_sent(struct registry *reg, struct reg_entry *e, const char *agency)
{
	struct strbuf sb = STRBUF_INIT;

	if (registry_was_sent(e, agency))
		return;
	strbuf_addstr(&sb, e->sent_to);
	if (sb.len)
		strbuf_addch(&sb, ',');
	strbuf_addstr(&sb, agency);
	e->sent_to = atom(reg, sb.buf);
	strbuf_release(&sb);
}

int registry_commit(struct registry *reg)
{
	return sealstore_commit(&reg->st);
}

long registry_seq(const struct registry *reg)
{
	return reg->seq;
}
