#ifndef ENTRY_CSV_H
#define ENTRY_CSV_H
#include <stddef.h>
#include "../util/strbuf.h"

/*
 * The CSV reader of import-csv (csv.c): RFC 4180 as spreadsheets write
 * it. Fields are separated by commas; a field that starts with a double
 * quote runs to the next lone double quote, "" inside it being one
 * quote, and may hold commas and line breaks; records end at CRLF, LF
 * or CR outside quotes. Text after a closing quote is kept (as Excel
 * reads it). The caps below are checked while reading.
 */
#define CSV_MAX_FILE    (64 << 20)   /* bytes, checked before reading */
#define CSV_MAX_FIELD   (64 << 10)   /* bytes of one field */
#define CSV_MAX_COLUMNS 200
#define CSV_MAX_ROWS    100000       /* data rows, the header not counted */

struct csv {
	const char *p, *end;
	long row;              /* the record last read: 1 is the first */
};

struct csv_record {
	struct strbuf *fields;
	size_t nr, alloc;
};

void csv_init(struct csv *c, const char *buf, size_t len);
/*
 * Read the next record into r (cleared first). 1 when one was read; 0 at
 * the end of the text; -1 when it breaks a cap or a quote is not closed
 * (the reason, without any of the text, in why; the reader has moved past
 * the record, so the next call reads the one after it).
 */
int csv_next(struct csv *c, struct csv_record *r, struct strbuf *why);
void csv_record_clear(struct csv_record *r);

/* The form key a header names (its Japanese column name or the key), or -1. */
int csv_header_key(const char *name);

#endif
