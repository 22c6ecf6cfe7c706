/*
 * csv - `mimamori import-csv FILE [--encoding utf-8|cp932] [-o DIR]`: a
 * register kept in a spreadsheet, as Excel and LibreOffice save CSV
 * (RFC 4180 quoting, CRLF or LF, UTF-8 with or without a BOM, or CP932),
 * one registration per row, each built and checked as a form is
 * (entry_build.c) and put into incoming/ for intake (or into DIR).
 *
 * Reads the CSV file and the photos it names; writes incoming/ (or DIR)
 * and the audit log. Prints "accepted ROW PATH" or "rejected ROW: REASON"
 * per row, ROW the spreadsheet's row number (the header is row 1).
 *
 * SECURITY: the file is untrusted: its size is capped before it is read
 * (64 MiB), it is converted to UTF-8 by iconv (lib/text.c) and refused
 * when that fails; fields (64 KiB), columns (200) and rows (100,000) are
 * capped while it is parsed, and the parser never reads past the end of
 * the buffer. A header that names a column we do not know refuses the
 * whole file (no data is silently dropped). Reasons name rows and
 * columns, never values; the audit log gets row numbers and paths only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include "entry.h"
#include "csv.h"
#include "../core/audit.h"
#include "../util/clock.h"
#include "../lib/text.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

void csv_init(struct csv *c, const char *buf, size_t len)
{
	c->p = buf;
	c->end = buf + len;
	c->row = 0;
}

void csv_record_clear(struct csv_record *r)
{
	size_t i;

	for (i = 0; i < r->nr; i++)
		strbuf_release(&r->fields[i]);
	free(r->fields);
	memset(r, 0, sizeof(*r));
}

static struct strbuf *new_field(struct csv_record *r)
{
	ALLOC_GROW(r->fields, r->nr + 1, r->alloc);
	strbuf_init(&r->fields[r->nr], 0);
	return &r->fields[r->nr++];
}

/* Add a byte to field f unless a cap was passed (then note it). */
static void add(struct strbuf *f, char ch, int *too_long)
{
	if (f->len < CSV_MAX_FIELD)
		strbuf_addch(f, ch);
	else
		*too_long = 1;
}

int csv_next(struct csv *c, struct csv_record *r, struct strbuf *why)
{
	const char *p = c->p, *end = c->end;
	int too_long = 0, too_many = 0, unclosed = 0;
	struct strbuf *f;

	csv_record_clear(r);
	if (p >= end)
		return 0;
	c->row++;
	f = new_field(r);
	for (;;) {
		if (p >= end)
			break;
		if (*p == '"' && f->len == 0) {
			/* A quoted field: "" is one quote; line breaks are data. */
			p++;
			for (;;) {
				if (p >= end) {
					unclosed = 1;
					break;
				}
				if (*p == '"') {
					if (p + 1 < end && p[1] == '"') {
						add(f, '"', &too_long);
						p += 2;
						continue;
					}
					p++;
					break;
				}
				add(f, *p++, &too_long);
			}
			/* Text after the closing quote is kept, as spreadsheets do. */
			continue;
		}
		if (*p == ',') {
			p++;
			/* Past the cap, the last field takes the rest (unused). */
			if (r->nr >= CSV_MAX_COLUMNS) {
				too_many = 1;
				strbuf_reset(f);
			} else {
				f = new_field(r);
			}
			continue;
		}
		if (*p == '\r' || *p == '\n') {
			if (*p == '\r' && p + 1 < end && p[1] == '\n')
				p++;
			p++;
			break;
		}
		add(f, *p++, &too_long);
	}
	c->p = p;
	if (unclosed)
		return strbuf_fail(why, "a quoted field is not closed");
	if (too_long)
		return strbuf_fail(why, "a field longer than %d bytes", CSV_MAX_FIELD);
	if (too_many)
		return strbuf_fail(why, "more than %d columns", CSV_MAX_COLUMNS);
	return 1;
}

/* Column number n (1-based) as a spreadsheet names it: A … Z, AA …. */
static void column_letters(size_t n, struct strbuf *out)
{
	char tmp[8];
	int i = 0;

	while (n && i < 7) {
		tmp[i++] = (char)('A' + (n - 1) % 26);
		n = (n - 1) / 26;
	}
	while (i)
		strbuf_addch(out, tmp[--i]);
}

/* NFKC, ASCII lower case, no spaces: how header names are compared. */
static void fold_header(const char *s, struct strbuf *out)
{
	struct strbuf nf = STRBUF_INIT;
	size_t i;

	if (!strncmp(s, "\xef\xbb\xbf", 3))
		s += 3;
	text_nfkc(s, &nf);
	for (i = 0; i < nf.len; i++) {
		char ch = nf.buf[i];

		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
			continue;
		strbuf_addch(out, (ch >= 'A' && ch <= 'Z') ? ch + 32 : ch);
	}
	strbuf_release(&nf);
}

int csv_header_key(const char *name)
{
	struct strbuf f = STRBUF_INIT, k = STRBUF_INIT;
	int i, found = -1;

	fold_header(name, &f);
	for (i = 0; i < ENTRY_NKEYS && found < 0; i++) {
		strbuf_reset(&k);
		fold_header(entry_columns[i], &k);
		if (!strcmp(f.buf, k.buf) || !strcmp(f.buf, entry_keys[i]))
			found = i;
	}
	strbuf_release(&f);
	strbuf_release(&k);
	return found;
}

/* The header row: map[column] = key or -1 (a column without a name). */
static int read_header(const struct csv_record *r, int *map, struct strbuf *why)
{
	struct strbuf l = STRBUF_INIT;
	int seen[ENTRY_NKEYS] = { 0 };
	size_t i;
	int k, bad = 0;

	for (i = 0; i < r->nr; i++) {
		struct strbuf t = STRBUF_INIT;

		strbuf_addbuf(&t, &r->fields[i]);
		strbuf_trim(&t);
		map[i] = -1;
		if (t.len) {
			k = csv_header_key(t.buf);
			strbuf_reset(&l);
			column_letters(i + 1, &l);
			if (k < 0) {
				strbuf_addf(why, "%sunknown column %zu (%s) in the header row",
					    why->len ? "; " : "", i + 1, l.buf);
				bad = 1;
			} else if (seen[k]) {
				strbuf_addf(why, "%scolumn %zu (%s) repeats %s (%s)",
					    why->len ? "; " : "", i + 1, l.buf, entry_columns[k],
					    entry_keys[k]);
				bad = 1;
			} else {
				seen[k] = 1;
				map[i] = k;
			}
		}
		strbuf_release(&t);
	}
	for (k = 0; k < ENTRY_NKEYS; k++) {
		if ((entry_flags[k] & ENTRY_REQUIRED_COLUMN) && !seen[k]) {
			strbuf_addf(why, "%smissing column %s (%s)", why->len ? "; " : "",
				    entry_columns[k], entry_keys[k]);
			bad = 1;
		}
	}
	strbuf_release(&l);
	return bad ? -1 : 0;
}

/* The file's stem as a safe start of file names ("register" for 名簿.csv). */
static void stem_of(const char *file, struct strbuf *out)
{
	const char *base = path_basename(file), *dot = strrchr(base, '.');
	const char *p;

	if (!dot || dot == base)
		dot = base + strlen(base);
	for (p = base; p < dot && out->len < 60; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || ((*p == '-' || *p == '_') && out->len))
			strbuf_addch(out, *p);
	if (!out->len)
		strbuf_addstr(out, "register");
}

/* The file's text in UTF-8 into out. 0, or -1 with the reason in why. */
static int decode(const struct strbuf *raw, const char *encoding, struct strbuf *out,
		  struct strbuf *why)
{
	const char *s = raw->buf;
	size_t len = raw->len;

	if (len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3) &&
	    (!encoding || !strcasecmp(encoding, "utf-8"))) {
		s += 3;
		len -= 3;
	}
	if (!encoding && text_is_utf8(s, len))
		encoding = "utf-8";
	if (!encoding)
		encoding = "cp932";
	if (!strcasecmp(encoding, "utf-8")) {
		if (!text_is_utf8(s, len))
			return strbuf_fail(why, "not valid UTF-8 (try --encoding cp932)");
		strbuf_add(out, s, len);
		return 0;
	}
	if (text_to_utf8("CP932", s, len, out) < 0 || memchr(out->buf, '\0', out->len))
		return strbuf_fail(why, "neither UTF-8 nor CP932 (Shift_JIS) text");
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: mimamori import-csv FILE [--encoding utf-8|cp932] [-o DIR]\n");
	return EX_USAGE;
}

/* Whether the record holds nothing but empty fields (a blank row). */
static int blank_record(const struct csv_record *r)
{
	size_t i, j;

	for (i = 0; i < r->nr; i++)
		for (j = 0; j < r->fields[i].len; j++)
			if (!strchr(" \t\r\n", r->fields[i].buf[j]))
				return 0;
	return 1;
}

static void one_row(struct entry_out *out, const struct csv_record *r, const int *map,
		    size_t ncols, long row, const char *dir, const char *stem)
{
	char *vals[ENTRY_NKEYS] = { NULL };
	struct strbuf why = STRBUF_INIT, label = STRBUF_INIT, what = STRBUF_INIT;
	struct strbuf name = STRBUF_INIT, l = STRBUF_INIT;
	struct node *doc = NULL;
	size_t i;

	strbuf_addf(&label, "%ld", row);
	strbuf_addf(&what, "row=%ld", row);
	for (i = 0; i < r->nr; i++) {
		int blank = strspn(r->fields[i].buf, " \t\r\n") == r->fields[i].len;

		if (i < ncols && map[i] >= 0) {
			vals[map[i]] = r->fields[i].buf;
		} else if (!blank) {
			strbuf_reset(&l);
			column_letters(i + 1, &l);
			strbuf_addf(&why, "%sa value in column %zu (%s), which has no name in "
				    "the header row", why.len ? "; " : "", i + 1, l.buf);
		}
	}
	for (i = 0; i < ENTRY_NKEYS; i++) {
		if (vals[i] && !text_is_utf8(vals[i], strlen(vals[i]))) {
			strbuf_addf(&why, "%s%s (%s): not text", why.len ? "; " : "",
				    entry_columns[i], entry_keys[i]);
			vals[i] = NULL;
		}
	}
	if (!why.len &&
	    entry_build(&out->ctx->cfg, vals, dir, ENTRY_CSV, clock_today(), &doc, &why) == 0) {
		strbuf_addf(&name, "%s-%06ld.xml", stem, row);
		entry_out_add(out, label.buf, name.buf, doc);
	} else {
		entry_out_reject(out, label.buf, what.buf, why.buf);
	}
	node_free(doc);
	strbuf_release(&why);
	strbuf_release(&label);
	strbuf_release(&what);
	strbuf_release(&name);
	strbuf_release(&l);
}

int cmd_import_csv(int argc, char **argv, struct context *ctx)
{
	struct strbuf raw = STRBUF_INIT, text = STRBUF_INIT, why = STRBUF_INIT;
	struct strbuf stem = STRBUF_INIT;
	struct csv_record rec = { 0 };
	struct entry_out out;
	struct csv c;
	const char *file = NULL, *encoding = NULL, *odir = NULL;
	int *map = NULL, i, r, ret = 0;
	size_t ncols;
	long rows = 0;
	char *dir = NULL;
	struct stat st;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--encoding") && i + 1 < argc)
			encoding = argv[++i];
		else if (!strcmp(argv[i], "-o") && i + 1 < argc)
			odir = argv[++i];
		else if (!file && (argv[i][0] != '-' || !argv[i][1]))
			file = argv[i];
		else
			return usage();
	}
	if (!file)
		return usage();
	if (encoding && strcasecmp(encoding, "utf-8") && strcasecmp(encoding, "cp932"))
		return usage();
	/* The cap from the file's size, before a byte of it is read. */
	if (stat(file, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > CSV_MAX_FILE) {
		error("'%s': larger than %d MiB: split the file", file, CSV_MAX_FILE >> 20);
		return EX_DATAERR;
	}
	if (strbuf_read_file(&raw, file, CSV_MAX_FILE) < 0) {
		strbuf_release(&raw);
		if (errno == EFBIG) {
			error("'%s': larger than %d MiB: split the file", file, CSV_MAX_FILE >> 20);
			return EX_DATAERR;
		}
		error_errno("cannot read '%s'", file);
		return EX_NOINPUT;
	}
	if (decode(&raw, encoding, &text, &why) < 0) {
		error("'%s': %s", file, why.buf);
		ret = EX_DATAERR;
		goto done;
	}
	strbuf_release(&raw);
	csv_init(&c, text.buf, text.len);
	r = csv_next(&c, &rec, &why);
	if (r <= 0) {
		error("'%s': %s", file, r < 0 ? why.buf : "empty: no header row");
		ret = EX_DATAERR;
		goto done;
	}
	ncols = rec.nr;
	map = xcalloc(ncols, sizeof(*map));
	if (read_header(&rec, map, &why) < 0) {
		error("'%s': %s; nothing was imported", file, why.buf);
		audit_add("reject", "row=1 header=bad");
		ret = EX_DATAERR;
		goto done;
	}
	dir = path_dirname(file);
	stem_of(file, &stem);
	entry_out_init(&out, ctx, odir);
	while (!out.failed) {
		char label[24];

		strbuf_reset(&why);
		r = csv_next(&c, &rec, &why);
		if (r == 0)
			break;
		if (r < 0) {
			char what[32];

			snprintf(label, sizeof(label), "%ld", c.row);
			snprintf(what, sizeof(what), "row=%ld", c.row);
			entry_out_reject(&out, label, what, why.buf);
			continue;
		}
		if (blank_record(&rec))
			continue;
		if (++rows > CSV_MAX_ROWS) {
			error("'%s': more than %d rows: the rest (from row %ld) was not read; "
			      "split the file", file, CSV_MAX_ROWS, c.row);
			ret = EX_DATAERR;
			break;
		}
		one_row(&out, &rec, map, ncols, c.row, dir, stem.buf);
	}
	r = entry_out_finish(&out);
	if (r)
		ret = r;
done:
	csv_record_clear(&rec);
	free(map);
	free(dir);
	strbuf_release(&raw);
	strbuf_release(&text);
	strbuf_release(&why);
	strbuf_release(&stem);
	return ret;
}
