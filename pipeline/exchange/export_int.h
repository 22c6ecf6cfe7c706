#ifndef EXPORT_INT_H
#define EXPORT_INT_H
#include "exchange.h"
#include "../commands.h"
#include "../lib/archive.h"
#include "../lib/gpg.h"
#include "../util/strbuf.h"

/*
 * What export.c (planning, state, recovery) and export_write.c (writing
 * the bundles as streams, all at once) share.
 */
struct export {
	struct context *ctx;
	struct registry *reg;
	struct strlist done;        /* work files to remove after the commit */
	long today;
	int key_error, io_error, agent_down;
	size_t bundles;
};

/* What one agency is due. */
struct pending {
	struct reg_entry **records;   /* sorted by id */
	size_t nr_records, alloc_records;
	struct reg_entry **deletions;
	size_t nr_deletions, alloc_deletions;
};

/* One bundle being written. */
struct export_out {
	const struct agency *a;
	long n, previous, seq;
	int full;
	struct pending p;
	struct strbuf receipts;       /* receipts.xml, empty for none */
	struct strbuf rel;            /* outgoing/<to>/<from>-<to>-<n>.tar.gpg */
	struct strbuf work;           /* its work file */
	struct strbuf tmp;            /* the temporary file it is written to */
	int fd;                       /* the temporary file */
	int in_fd;                    /* the plaintext, to the encrypting child */
	struct gpg_enc_stream *gs;
	struct tar_writer *tw;
	struct node *entries;         /* entries.xml, as the entries go out */
	size_t next;                  /* the next of p.records to write */
	int failed;                   /* the bundle is not kept */
	struct strbuf why;            /* why, when it is not gpg's outcome */
};

/*
 * Write the bundles of outs[0..nr-1]: once an agency's encryption has
 * started (its key usable), prepare() writes its work files (-1: it
 * fails); then every
 * agency's encryption runs at once in its own process while the records
 * are read once, in id order, each view made once per audience and
 * written to each bundle that holds it; nothing more than one record's
 * views is held. Each bundle ends committed at its rel, or failed (key,
 * I/O: reported, flags in ex set, its temporary file gone).
 */
void export_write(struct export *ex, struct export_out *outs, size_t nr,
		  int (*prepare)(struct export *, struct export_out *));

/* deletions.xml and the manifest's header of one bundle. */
void export_deletions_xml(struct export *ex, const struct pending *p, struct strbuf *out);

#endif
