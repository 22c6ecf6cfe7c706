#ifndef SPOOL_H
#define SPOOL_H
#include <stddef.h>
#include "../util/strbuf.h"

struct pstream;

/*
 * The spool: folder names (the contract part in mimamori-spool(5) and the program's
 * own), atomic durable writes (spool_commit() for one file, a spool_batch
 * for many made durable together), locks, claims and rejections.
 *
 * Every file is written under spool/tmp/, flushed and renamed into place,
 * then its folder is fsynced: no reader ever sees a partial file. Files are
 * 0600, folders 0700.
 */

/* Contract folders. */
#define SPOOL_INCOMING  "incoming"
#define SPOOL_INBOX     "inbox"
#define SPOOL_LISTBOX   "listbox"           /* mail to the lists' command addresses */
#define SPOOL_IMPORT    "import"
#define SPOOL_OUTGOING  "outgoing"
#define SPOOL_REJECTED  "rejected"
#define SPOOL_MAIL      "mail"
#define SPOOL_AUDIT     "audit"
/* The program's own. */
#define SPOOL_REGISTRY  "registry"          /* index, data key, records/ */
#define SPOOL_RECORDS   "registry/records"  /* one sealed file per record version */
#define SPOOL_TMP       "tmp"               /* files being written */
#define SPOOL_WORK      "work"              /* work/<stage>/: claimed inputs */
#define SPOOL_REJECTED_AT "work/rejected"   /* NAME: when rejected/NAME was rejected */
#define SPOOL_LOCK      "lock"              /* lock/<name>: flock files */
#define SPOOL_INBOX_NEW   SPOOL_INBOX "/new"    /* Maildir: finished mails */
#define SPOOL_LISTBOX_NEW SPOOL_LISTBOX "/new"
#define SPOOL_ALERTS    "alerts"            /* index, ID.VERSION (core/alert.h) */
#define SPOOL_MEMBERS   "members"           /* the lists' member store (lists/lists.h) */
#define SPOOL_FETCH     "fetch"             /* fetch/state: what fetch took */
/*
 * The outgoing mail queue (core/queue.h): msg/QID the message, env/QID
 * its envelope, state/QID the delivery log.
 */
#define SPOOL_QUEUE       "queue"
#define SPOOL_QUEUE_MSG   "queue/msg"
#define SPOOL_QUEUE_ENV   "queue/env"
#define SPOOL_QUEUE_STATE "queue/state"
/*
 * reach/ALERT-ID/QID: what became of a list copy of an alert, written by
 * deliver when it finishes the copy (lists/lists.h, lists_reach_*); no
 * address in it, only counts and delays.
 */
#define SPOOL_REACH     "reach"
/* work/<stage>/: each stage's claimed inputs (TOKEN-NAME) and its own files. */
#define SPOOL_WORK_INTAKE   SPOOL_WORK "/intake"
#define SPOOL_WORK_IMPORT   SPOOL_WORK "/import"
#define SPOOL_WORK_DISPATCH SPOOL_WORK "/dispatch"
#define SPOOL_WORK_LISTMAIL SPOOL_WORK "/listmail"
#define SPOOL_WORK_FETCH    SPOOL_WORK "/fetch"
#define SPOOL_WORK_EXPORT   SPOOL_WORK "/export"   /* a bundle being made */
#define SPOOL_WORK_WIDEN    SPOOL_WORK "/widen"    /* dispatch's widenings */
#define SPOOL_WORK_INFLIGHT SPOOL_WORK "/inflight" /* core/supervise.c */
/*
 * work/bundles/BUNDLE: the record ids an exported bundle holds, for its
 * withdrawal by expire (exchange/exchange.h).
 */
#define SPOOL_WORK_BUNDLES  SPOOL_WORK "/bundles"
#define SPOOL_FEED      "feed"              /* CAP 1.2 documents, index.atom */

struct spool {
	char *root;  /* absolute */
};

/*
 * Open the spool at root, creating every folder above that is missing
 * (0700) and removing temporary files left by dead processes.
 */
int spool_open(struct spool *sp, const char *root);
void spool_release(struct spool *sp);

/* root + "/" + rel, freshly allocated. */
char *spool_path(const struct spool *sp, const char *rel);
/* Whether rel exists (as any kind of file; a symlink is not followed). */
int spool_exists(const struct spool *sp, const char *rel);

/*
 * Durably write data to rel (relative to the spool): temporary file under
 * tmp/, write, fsync, checked close, rename, fsync of the folder. The
 * folder of rel must exist. 0, or -1 (reported) with nothing left behind.
 */
int spool_commit(const struct spool *sp, const char *rel, const void *data, size_t len);
/*
 * The same for data made as it is written: produce(ctx, fd) writes the
 * whole content to fd (a new temporary file) and returns 0 or -1
 * (reported); then as spool_commit().
 */
int spool_commit_stream(const struct spool *sp, const char *rel,
			int (*produce)(void *ctx, int fd), void *ctx);
/*
 * The same in three steps, for several files written at once: open a new
 * temporary file (its name in tmp; -1 reported), write it, then commit it
 * to rel (fsync, checked close, rename, fsync of the folder; -1 reported,
 * nothing left behind) or abort it (closed and removed).
 */
int spool_stream_open(const struct spool *sp, struct strbuf *tmp);
int spool_stream_commit(const struct spool *sp, int fd, const char *tmp, const char *rel);
void spool_stream_abort(const struct spool *sp, int fd, const char *tmp);

/*
 * A batch of writes, renames and unlinks made durable together, for stages
 * that handle many inputs: one syncfs() for all the data, then the renames
 * in order, then one fsync per folder touched. Operations are applied in
 * the order they were added.
 */
struct spool_batch {
	const struct spool *sp;
	struct batch_op *ops;
	size_t nr, alloc;
	struct pstream *writer;  /* spool_batch_create_async()'s thread, NULL when idle */
	int write_failed;        /* a file it was given could not be written (reported) */
};
void spool_batch_init(struct spool_batch *b, const struct spool *sp);
/* Write data to a temporary file now; it is renamed to rel at commit. */
int spool_batch_write(struct spool_batch *b, const char *rel, const void *data, size_t len);
/*
 * spool_batch_write() in two halves, for writing on several threads:
 * spool_tmp_write() writes data into a new temporary file, its name in
 * tmp (any thread; 0, or -1 reported); spool_batch_adopt() makes that
 * file the batch's, renamed to rel at commit (the batch's thread).
 */
int spool_tmp_write(const struct spool *sp, const void *data, size_t len, struct strbuf *tmp);
void spool_batch_adopt(struct spool_batch *b, const char *tmp, const char *rel);
/*
 * Write data to rel itself now, unsynced (made durable at commit, removed
 * if the batch is dropped). Only for a file whose name means nothing until
 * a later commit point names it, and that a reader never takes up before:
 * registry records, which the index names and whose unnamed leftovers the
 * registry removes when it opens. Saves the rename of a temporary file.
 */
int spool_batch_create(struct spool_batch *b, const char *rel, const void *data, size_t len);
/*
 * The same, written behind: data (malloc'ed, len bytes) is handed over and
 * the file is created on a thread of the batch's own while the caller
 * goes on (a few MiB at most are in flight: past that the caller waits,
 * writing too). A failure is reported once, on the caller's thread, and
 * makes the next spool_batch_commit() fail. Every file handed over is
 * written, or failed, before any other function of the batch goes on.
 */
void spool_batch_create_async(struct spool_batch *b, const char *rel, char *data, size_t len);
/* Rename (spool-relative paths) at commit. */
void spool_batch_rename(struct spool_batch *b, const char *from, const char *to);
/* Unlink at commit (a missing file is fine). */
void spool_batch_unlink(struct spool_batch *b, const char *rel);
/*
 * The temporary file (spool-relative) holding what the batch last wrote
 * for rel, or NULL: for reading back an item before the commit.
 */
const char *spool_batch_pending(struct spool_batch *b, const char *rel);
/* Make everything durable. 0, or -1 (reported). The batch is emptied. */
int spool_batch_commit(struct spool_batch *b);
/* Drop what was not committed (temporary files are removed). */
void spool_batch_release(struct spool_batch *b);

/*
 * Take the lock named name (lock/NAME), waiting for it. Returns a file
 * descriptor to pass to spool_unlock(), or -1 (reported). The lock goes
 * with the process, so a killed process never leaves one behind.
 */
int spool_lock(const struct spool *sp, const char *name);
void spool_unlock(int fd);
/*
 * Whether a running process holds lock NAME now: tried without waiting
 * and let go at once (a lock file never made is a free lock). For
 * `status`, telling a stage at work from claims a dead run left.
 */
int spool_lock_busy(const struct spool *sp, const char *name);
/*
 * From now on, spool_lock(name) returns a duplicate of fd, a lock this
 * process already holds (core/supervise.c: the worker shares its
 * supervisor's stage lock). NULL: no more.
 */
void spool_lock_share(const char *name, int fd);

/*
 * Move a rejected input into rejected/: first the time of the rejection
 * on the program's clock (work/rejected/NAME, one RFC 3339 line: expire
 * removes the input that long after; a file's mtime would not follow
 * --now), then rejected/NAME.reason with the reason and a final newline,
 * then the input itself as rejected/NAME (a name already taken gets ".1",
 * ".2" … before the extension). `from` is spool-relative. The name used
 * is put in `as` (may be NULL).
 */
int spool_reject(const struct spool *sp, const char *from, const char *name,
		 const char *reason, struct strbuf *as);

/*
 * Claims. A stage takes an input by renaming it to work/<stage>/TOKEN-NAME
 * (TOKEN: SPOOL_TOKEN_LEN random hex digits, new for each claim), notes the
 * token in the commit that applies it, and removes the claim after that
 * commit; a run that finds claims left by a killed run asks its commit
 * notes about their tokens.
 */
#define SPOOL_TOKEN_LEN 16
/* A new random claim token (SPOOL_TOKEN_LEN hex digits and a NUL). */
void spool_claim_token(char *token);
/*
 * Claim from_dir/NAME by renaming it to `to` (spool-relative paths). 0, or
 * -1 when it is gone (another process took it: silent) or could not be
 * renamed (reported).
 */
int spool_claim(const struct spool *sp, const char *from_dir, const char *name,
		const char *to);
/*
 * Whether file (a name in a work folder) is a claim TOKEN-NAME: then its
 * token is copied to token (SPOOL_TOKEN_LEN + 1 bytes) and NAME returned
 * (a pointer into file); otherwise NULL.
 */
const char *spool_claim_name(const char *file, char *token);
/*
 * Remove the claim rel once its commit is durable (a missing file is fine,
 * another failure is reported), then fsync its folder.
 */
void spool_claim_done(const struct spool *sp, const char *rel);

#endif
