#ifndef IMAP_H
#define IMAP_H
#include <stddef.h>
#include <stdint.h>
#include "../util/strbuf.h"

/*
 * The IMAP client: the libetpan wrapper (the only module that includes
 * libetpan's IMAP headers), as much of IMAP4rev1 as `fetch` needs: log
 * in, select a mailbox, list the unseen messages with their sizes, fetch
 * one message's bytes with a size cap, flag it, expunge.
 *
 * Plain LOGIN over a plain TCP connection (no STARTTLS): meant for an
 * IMAP server on the same host or a trusted network.
 *
 * Every function returns IMAP_OK (0) or one of the negative classes
 * below, with a one-line reason (no prefix) in `why`.
 */
enum imap_status {
	IMAP_OK = 0,
	IMAP_UNAVAILABLE = -1,  /* cannot connect, or no greeting */
	IMAP_REFUSED = -2,      /* the server said NO or BAD (login, select …) */
	IMAP_BROKEN = -3,       /* connection dropped, timed out or unparsable */
};

struct imap;

/* One message of imap_unseen(). */
struct imap_msg {
	uint32_t uid;
	size_t size;   /* RFC822.SIZE as the server reports it */
};

/*
 * Connect to host:port, with `timeout` seconds for every network wait.
 * SIGPIPE is ignored from then on (a dropped connection is an error, not
 * a signal). On success *out is a session to pass to imap_close().
 */
int imap_connect(struct imap **out, const char *host, int port, int timeout,
		 struct strbuf *why);
int imap_login(struct imap *im, const char *user, const char *password, struct strbuf *why);
/* SELECT mailbox; its UIDVALIDITY goes to *uidvalidity. */
int imap_select(struct imap *im, const char *mailbox, uint32_t *uidvalidity,
		struct strbuf *why);
/*
 * The messages neither \Seen nor \Deleted, by ascending UID, with their
 * sizes: *msgs (free() it) gets *nr entries.
 */
int imap_unseen(struct imap *im, struct imap_msg **msgs, size_t *nr, struct strbuf *why);
/*
 * BODY.PEEK[] of message uid (the \Seen flag is not set), or of its
 * header only when header_only, reading at most max + 1 bytes: a result
 * longer than max means the message is larger than max (out then holds
 * its first max + 1 bytes). out is replaced.
 */
int imap_fetch(struct imap *im, uint32_t uid, int header_only, size_t max,
	       struct strbuf *out, struct strbuf *why);
/* Add \Seen (and \Deleted when deleted) to message uid. */
int imap_flag(struct imap *im, uint32_t uid, int deleted, struct strbuf *why);
/*
 * Expunge the messages uids[0..nr) (UID EXPUNGE with UIDPLUS; without it,
 * a plain EXPUNGE, which also removes other messages flagged \Deleted).
 */
int imap_expunge(struct imap *im, const uint32_t *uids, size_t nr, struct strbuf *why);
/*
 * IDLE (RFC 2177) on the selected mailbox, for a caller that waits for
 * new mail: imap_idle_start() sends IDLE (IMAP_REFUSED when the server
 * does not offer it); imap_idle_fd() is the socket to poll() for
 * readability (something happened); imap_idle_done() ends the IDLE and
 * reads the server's answer. Restart it within 29 minutes (RFC 2177).
 */
int imap_idle_start(struct imap *im, struct strbuf *why);
int imap_idle_fd(struct imap *im);
int imap_idle_done(struct imap *im, struct strbuf *why);

/* LOGOUT (when the connection still stands) and free the session. */
void imap_close(struct imap *im);

#endif
