#ifndef SMTP_H
#define SMTP_H
#include <stddef.h>
#include "../util/strbuf.h"

/*
 * The SMTP client: the libetpan wrapper for sending (the only module that
 * includes libetpan's SMTP headers). One connection carries several mail
 * transactions; each recipient of a transaction gets its own outcome.
 *
 * When the server announces PIPELINING (RFC 2920), MAIL and every RCPT of
 * a transaction are sent as one group and their replies read after; else
 * one command at a time. The message is sent with libetpan's DATA
 * writer, which does the dot-stuffing (once: queued messages are never
 * stuffed) and adds the final CRLF "." CRLF.
 */

/* Most recipients in one transaction (Postfix's default recipient limit). */
#define SMTP_MAX_RCPTS 1000
/* Longest reply text kept (longer ones are cut). */
#define SMTP_TEXT_MAX 200

/* What happened to one recipient. */
struct smtp_reply {
	int code;                     /* 2xx, 4xx, 5xx; 0: connection lost or timed out */
	char text[SMTP_TEXT_MAX];     /* "550 5.1.1 no such user", printable ASCII */
};

struct smtp;

/*
 * Connect to host:port, read the greeting, say EHLO (HELO when EHLO is
 * refused). timeout is in seconds, for every read and write. NULL, with
 * the reason in why, when no session could be set up (a greeting other
 * than 220 included).
 */
struct smtp *smtp_open(const char *host, int port, int timeout, struct strbuf *why);

/* Whether the server announced PIPELINING and it is used. */
int smtp_pipelining(const struct smtp *s);

/*
 * One mail transaction: MAIL FROM sender, RCPT TO each of rcpts[0..n)
 * (n <= SMTP_MAX_RCPTS), and when one was accepted, DATA with data[0..len)
 * (CRLF line ends, not dot-stuffed). out[i] gets recipient i's outcome:
 * the RCPT reply when it was refused, else the reply to the end of DATA;
 * a refused MAIL or DATA gives its reply to every recipient.
 * Returns 0 when the connection can carry another transaction, -1 when it
 * is gone (lost, timed out or closed by a 421): recipients whose outcome
 * was not known then have code 0.
 */
int smtp_send(struct smtp *s, const char *sender, const char *const *rcpts, size_t n,
	      const void *data, size_t len, struct smtp_reply *out);

/* Whether the server announced XVERP (Postfix: a sender address per recipient). */
int smtp_xverp(const struct smtp *s);
/*
 * The same as smtp_send(), with "MAIL FROM:<sender> XVERP" when verp is
 * set and the server announced XVERP: the relay then makes each
 * recipient's bounce address LOCAL+USER=HOST@DOMAIN from the sender
 * LOCAL@DOMAIN.
 */
int smtp_send_verp(struct smtp *s, const char *sender, int verp, const char *const *rcpts,
		   size_t n, const void *data, size_t len, struct smtp_reply *out);

/* QUIT (when the connection is still up) and free. NULL is fine. */
void smtp_close(struct smtp *s);

#endif
