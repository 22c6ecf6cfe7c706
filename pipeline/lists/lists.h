#ifndef LISTS_H
#define LISTS_H
#include <stddef.h>
#include <time.h>
#include "../commands.h"
#include "../core/config.h"
#include "../core/spool.h"
#include "../util/strbuf.h"

/*
 * The helpers' lists (mimamori-listmail(1), mimamori-members(1)): the
 * sealed member store, the lists' command addresses and confirmation
 * tokens, the listmail stage (subscriptions, bounces, probes) and the
 * reach of an alert per list.
 *
 * Files: lists_store.c (the store), lists_addr.c (command addresses,
 * tokens, a list's members for dispatch), lists_members.c (`members`),
 * lists_mail.c (the stage), lists_bounce.c (DSNs, scores, probes),
 * lists_send.c (the mails listmail sends), lists_reach.c (`show
 * ALERT-ID`).
 */

/* ---------------------------------------------------------------- store */

/*
 * spool/members/index, sealed with the node's data key (AD
 * "members-index"), one tab-separated line per member, per pending
 * confirmation and per note of the last commit. Written whole at each
 * commit (spool_commit through core/sealidx.c), under the lock
 * "members". No address is in clear anywhere else in the spool but the
 * mail queue and listbox/.
 */
#define LISTS_INDEX_REL    SPOOL_MEMBERS "/index"

/* What a member is stored as; pending is worked out from the pledge. */
enum lmember_state { LM_MEMBER, LM_DISABLED, LM_REMOVED };
/* What a member is, as `members list` says it. */
enum lmember_shown { LMS_PENDING, LMS_ACTIVE, LMS_DISABLED, LMS_REMOVED };

#define LISTS_TOKEN_LEN 24       /* hex digits of a confirmation or probe token */
#define LISTS_BOUNCE_DAYS 7      /* bounces older than this no longer count */
#define LISTS_BOUNCE_MAX 7       /* at most one bounce a day is kept */
#define LISTS_SCORE_PROBE 10     /* score (in halves) at which a probe goes: 5 */
#define LISTS_PROBE_DAYS 7       /* a probe not bounced within this resets the score */
#define LISTS_CONFIRM_DAYS 7     /* a confirmation token's life */

struct lbounce {
	long day;
	int halves;                  /* 2: hard (5.x.x), 1: soft (4.x.x) */
};

struct lmember {
	char *list;                  /* the list's id */
	char *address;
	char *name;                  /* "" when none */
	enum lmember_state state;
	long pledge;                 /* date, -1: none */
	int iso2022jp;
	long added;                  /* date */
	struct lbounce bounces[LISTS_BOUNCE_MAX];
	int nr_bounces;
	char probe[LISTS_TOKEN_LEN + 1];  /* "" when no probe is out */
	long probe_day;
	char last_status[16];        /* the last bounce's status code, "" none */
};

/* A confirmation waiting for its reply. */
struct lconfirm {
	char token[LISTS_TOKEN_LEN + 1];
	char *list;
	char action;                 /* 's' subscribe, 'u' unsubscribe */
	char *address;
	long expires;                /* last valid date */
};

struct lstore;

/*
 * Open the member store; for_write takes the lock "members" until
 * lstore_close(). The data key is unwrapped (one gpg operation a
 * process). -1 (reported) when it cannot be read.
 */
int lstore_open(struct lstore **st, const struct config *cfg, const struct spool *sp,
		int for_write);
void lstore_close(struct lstore *st);

size_t lstore_count(const struct lstore *st);
struct lmember *lstore_member(struct lstore *st, size_t i);
/* The member of list with address (any state, compared without case), or NULL. */
struct lmember *lstore_find(struct lstore *st, const char *list, const char *address);
/* Add a member (state LM_MEMBER, today's date); returns it. */
struct lmember *lstore_add(struct lstore *st, const char *list, const char *address,
			   const char *name, long today);
/* What a member is today, on its list (community lists ask for a pledge). */
enum lmember_shown lstore_shown(const struct config *cfg, const struct lmember *m,
				long today);
const char *lstore_shown_name(enum lmember_shown s);
/* The score of m's bounces (in halves) that still count today. */
int lstore_score(const struct lmember *m, long today);

/* Confirmations: find by token and list; add; drop. */
struct lconfirm *lstore_confirm_find(struct lstore *st, const char *list, const char *token);
struct lconfirm *lstore_confirm_same(struct lstore *st, const char *list, char action,
				     const char *address, long today);
void lstore_confirm_add(struct lstore *st, const char *token, const char *list, char action,
			const char *address, long expires);
void lstore_confirm_drop(struct lstore *st, struct lconfirm *c);
/*
 * Forget confirmations past their date. Members of a list no longer
 * configured are kept (a list renamed by mistake loses no one); they get
 * nothing while no list has their list's id.
 */
void lstore_tidy(struct lstore *st, const struct config *cfg, long today);

/* Notes of a commit, as for the registry (core/registry.h). */
void lstore_note(struct lstore *st, const char *key, const char *value);
const char *lstore_note_get(const struct lstore *st, const char *key);
/* Files durable before the index, and after it. */
struct spool_batch *lstore_batch(struct lstore *st);
struct spool_batch *lstore_after(struct lstore *st);
/* Make it all durable: lstore_batch(), the index, lstore_after(). -1 (reported). */
int lstore_commit(struct lstore *st);
/* The data key (for tokens). */
const unsigned char *lstore_key(const struct lstore *st);

/* ------------------------------------------------------ addresses, tokens */

/* The parts of a command address ID+WHAT@DOMAIN. */
enum lcmd { LC_NONE, LC_SUBSCRIBE, LC_UNSUBSCRIBE, LC_CONFIRM, LC_BOUNCES, LC_PROBE };
struct lcommand {
	enum lcmd cmd;
	const struct list *list;
	char token[LISTS_TOKEN_LEN + 1];   /* confirm, probe */
	char *verp;                        /* bounces+USER=HOST: USER@HOST, or NULL */
};
/* Read a recipient address as a command address of a configured list. */
int lists_command(const struct config *cfg, const char *rcpt, struct lcommand *c);
void lcommand_release(struct lcommand *c);

/* The domain of a list's address; "ID+WHAT@DOMAIN" into out; "ID.DOMAIN". */
const char *lists_domain(const struct list *l);
void lists_address(const struct list *l, const char *what, struct strbuf *out);
void lists_list_id(const struct list *l, struct strbuf *out);

/* A token: the keyed hash (data key) of what it stands for, cut to LISTS_TOKEN_LEN. */
void lists_token(const unsigned char *key, const char *kind, const char *list, char action,
		 const char *address, long day, char *token);
/* Whether s is an address we may put on an envelope and in a header. */
int lists_address_ok(const char *s);

/*
 * The members of list l who get alerts today: the config's (community
 * lists: pledged) and the store's active ones (st may be NULL), each
 * address once. Appended to out as struct member pointers the caller
 * does not free; the store's are copied into *own (freed with
 * lists_members_release()).
 */
struct lmembers {
	struct member *v;
	size_t nr, alloc;
};
void lists_members_of(const struct config *cfg, struct lstore *st, const struct list *l,
		      long today, struct lmembers *out);
void lists_members_release(struct lmembers *m);

/* ---------------------------------------------------------- the stage */

int listmail_run(struct context *ctx);
int cmd_listmail(int argc, char **argv, struct context *ctx);
int cmd_members(int argc, char **argv, struct context *ctx);

/* ---------------------------------------------------------------- reach */

/*
 * Print the reach of alert id per list (reach/ID/ records of finished
 * copies, the queue's copies still going, the bounces listmail counted).
 * 0, or -1 when nothing is known of it.
 */
int lists_reach_show(const struct context *ctx, const char *alert_id, struct strbuf *out);
/*
 * An exercise's reply to its operator when it is done (mimamori-dispatch(1)):
 * dispatch notes, in the batch of its commit, the list copies (QIDs) of an
 * exercise alert in reach/ALERT-ID/drill ("drill ID", "operator FPR",
 * "copy QID" lines); once every one of them has its reach record (sent or
 * failed, none deferred), lists_reach_drills() queues one reply, signed
 * and encrypted to the operator, with per list the recipients, sent,
 * failed and the time to 90 % (the figures `show` prints, for those
 * copies), as queue/{msg,env}/drill-ALERT-ID, and renames the note to
 * reach/ALERT-ID/drill-done in the same commit: exactly once across a
 * kill. deliver calls it under its lock before and after its run; the
 * QIDs it queued are added to queued. 0, or -1 when the node cannot
 * (gpg-agent, disk, templates; left for the next run).
 */
#define LISTS_DRILL      "drill"
#define LISTS_DRILL_DONE "drill-done"
int lists_reach_drill_note(const struct spool *sp, struct spool_batch *b, const char *alert_id,
			   const char *operator_fpr, const struct strlist *copies);
int lists_reach_drills(struct context *ctx, struct strlist *queued);

/* Note a bounce of alert id on list (in batch b, named by token). */
int lists_reach_bounce(const struct spool *sp, struct spool_batch *b, const char *alert_id,
		       const char *list, const char *token);

#endif
