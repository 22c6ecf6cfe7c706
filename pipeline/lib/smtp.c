/*
 * smtp - the SMTP client over libetpan's low-level mailsmtp API (see
 * smtp.h): connection, EHLO, per-recipient RCPT replies, pipelined
 * command groups written straight to the session's mailstream, DATA.
 *
 * Reads replies from the configured relay; writes nothing to disk.
 * SECURITY: the relay's reply text is kept only after every byte outside
 * printable ASCII is replaced, so it can stand on one line of the state
 * log. Envelope addresses come from the queue, which refuses spaces and
 * control characters, so no command can be split.
 */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libetpan/libetpan.h>
#include "smtp.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

struct smtp {
	mailsmtp *session;
	MMAPString *line;
	int pipelining;
	int xverp;       /* the server announced XVERP */
	int verp_now;    /* the current transaction asks for it */
	int alive;
};

/* Whether an EHLO reply text announces keyword (a line starting with it). */
static int ehlo_has(const char *reply, const char *keyword)
{
	size_t kl = strlen(keyword);
	const char *p = reply;

	while (p && *p) {
		while (*p == ' ' || *p == '\r' || *p == '\n')
			p++;
		if (!strncasecmp(p, keyword, kl) && (!p[kl] || strchr(" \r\n", p[kl])))
			return 1;
		p = strchr(p, '\n');
	}
	return 0;
}

/* Copy a reply into dst as printable ASCII, cut to SMTP_TEXT_MAX. */
static void set_text(char *dst, const char *src)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < SMTP_TEXT_MAX; i++) {
		unsigned char c = src[i];

		dst[i] = (c < ' ' || c > '~') ? ' ' : (char)c;
	}
	dst[i] = '\0';
}

static void set_reply(struct smtp_reply *r, int code, const char *text)
{
	r->code = code;
	set_text(r->text, text);
}

/* The reply libetpan read last, as "CODE text". */
static void session_reply(struct smtp *s, struct smtp_reply *r)
{
	char buf[SMTP_TEXT_MAX];
	const char *t = s->session->response ? s->session->response : "";

	snprintf(buf, sizeof(buf), "%d %s", s->session->response_code, t);
	set_reply(r, s->session->response_code, buf);
}

struct smtp *smtp_open(const char *host, int port, int timeout, struct strbuf *why)
{
	struct smtp *s = xcalloc(1, sizeof(*s));
	int r;

	/* A relay closing on us must be an error return, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	s->session = mailsmtp_new(0, NULL);
	if (!s->session)
		msg_fatal("out of memory");
	mailsmtp_set_timeout(s->session, timeout);
	r = mailsmtp_socket_connect(s->session, host, (uint16_t)port);
	if (r != MAILSMTP_NO_ERROR) {
		strbuf_addf(why, "cannot connect to %s:%d: %s", host, port,
			    mailsmtp_strerror(r));
		if (r != MAILSMTP_ERROR_STREAM && r != MAILSMTP_ERROR_CONNECTION_REFUSED &&
		    s->session->response_code > 0) {
			struct smtp_reply g;

			session_reply(s, &g);
			strbuf_addf(why, " (greeting %s)", g.text);
		}
		goto fail;
	}
	s->alive = 1;
	/* libetpan applies the session's timeout to the connect only; every
	 * later read would wait its own default of five minutes. */
	mailstream_low_set_timeout(mailstream_get_low(s->session->stream), timeout);
	r = mailesmtp_ehlo(s->session);
	if (r == MAILSMTP_ERROR_NOT_IMPLEMENTED || r == MAILSMTP_ERROR_ACTION_NOT_TAKEN ||
	    r == MAILSMTP_ERROR_UNEXPECTED_CODE)
		r = mailsmtp_helo(s->session);
	if (r != MAILSMTP_NO_ERROR) {
		strbuf_addf(why, "%s:%d refused EHLO and HELO: %s", host, port,
			    mailsmtp_strerror(r));
		goto fail;
	}
	s->pipelining = !!(s->session->esmtp & MAILSMTP_ESMTP_PIPELINING);
	/* libetpan knows no XVERP flag: the EHLO reply's lines say it. */
	s->xverp = s->session->response && ehlo_has(s->session->response, "XVERP");
	s->line = mmap_string_new("");
	if (!s->line)
		msg_fatal("out of memory");
	return s;
fail:
	mailsmtp_free(s->session);
	free(s);
	return NULL;
}

int smtp_xverp(const struct smtp *s)
{
	return s->xverp;
}

int smtp_pipelining(const struct smtp *s)
{
	return s->pipelining;
}

/*
 * Read one (possibly multi-line) reply from the stream into r. Returns
 * its code, or 0 when the stream failed or the reply is not SMTP.
 */
static int read_reply(struct smtp *s, struct smtp_reply *r)
{
	for (;;) {
		char *l = mailstream_read_line_remove_eol(s->session->stream, s->line);

		if (!l || !*l) {
			set_reply(r, 0, "connection lost or timed out");
			return 0;
		}
		if (strlen(l) < 3 || !isdigit((unsigned char)l[0]) ||
		    !isdigit((unsigned char)l[1]) || !isdigit((unsigned char)l[2]) ||
		    (l[3] && l[3] != ' ' && l[3] != '-')) {
			set_reply(r, 0, "relay sent a reply that is not SMTP");
			return 0;
		}
		if (l[3] != '-') {
			set_reply(r, atoi(l), l);
			return r->code;
		}
	}
}

/*
 * The connection is gone: every recipient not refused yet has an unknown
 * outcome (an accepted RCPT means nothing without the end of DATA).
 */
static void lost(struct smtp *s, struct smtp_reply *out, size_t n, const char *why)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (out[i].code < 0 || out[i].code / 100 == 2)
			set_reply(&out[i], 0, why);
	s->alive = 0;
}

/* MAIL and RCPTs as one group; replies read after. 0, or -1 when lost. */
static int envelope_pipelined(struct smtp *s, const char *sender, const char *const *rcpts,
			      size_t n, struct smtp_reply *mail, struct smtp_reply *out)
{
	struct strbuf cmds = STRBUF_INIT;
	size_t i;
	int ret = 0;

	strbuf_addf(&cmds, "MAIL FROM:<%s>%s\r\n", sender, s->verp_now ? " XVERP" : "");
	for (i = 0; i < n; i++)
		strbuf_addf(&cmds, "RCPT TO:<%s>\r\n", rcpts[i]);
	if (mailstream_write(s->session->stream, cmds.buf, cmds.len) < 0 ||
	    mailstream_flush(s->session->stream) < 0) {
		set_reply(mail, 0, "connection lost while sending the envelope");
		ret = -1;
		goto out;
	}
	if (!read_reply(s, mail)) {
		ret = -1;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (!read_reply(s, &out[i])) {
			out[i].code = -1;
			ret = -1;
			goto out;
		}
out:
	strbuf_release(&cmds);
	return ret;
}

/* MAIL, then each RCPT, one round trip each. 0, or -1 when lost. */
static int envelope_stepwise(struct smtp *s, const char *sender, const char *const *rcpts,
			     size_t n, struct smtp_reply *mail, struct smtp_reply *out)
{
	size_t i;
	int r;

	if (s->verp_now) {
		/* libetpan's MAIL takes no parameter: written and read here. */
		struct strbuf cmd = STRBUF_INIT;

		strbuf_addf(&cmd, "MAIL FROM:<%s> XVERP\r\n", sender);
		r = mailstream_write(s->session->stream, cmd.buf, cmd.len) < 0 ||
		    mailstream_flush(s->session->stream) < 0;
		strbuf_release(&cmd);
		if (r || !read_reply(s, mail)) {
			set_reply(mail, 0, "connection lost or timed out after MAIL");
			return -1;
		}
	} else {
		r = mailsmtp_mail(s->session, sender);
		if (r == MAILSMTP_ERROR_STREAM) {
			set_reply(mail, 0, "connection lost or timed out after MAIL");
			return -1;
		}
		session_reply(s, mail);
	}
	if (mail->code / 100 != 2)
		return 0;
	for (i = 0; i < n; i++) {
		r = mailsmtp_rcpt(s->session, rcpts[i]);
		if (r == MAILSMTP_ERROR_STREAM)
			return -1;
		session_reply(s, &out[i]);
	}
	return 0;
}

int smtp_send_verp(struct smtp *s, const char *sender, int verp, const char *const *rcpts,
		   size_t n, const void *data, size_t len, struct smtp_reply *out)
{
	int r;

	s->verp_now = verp && s->xverp;
	r = smtp_send(s, sender, rcpts, n, data, len, out);
	s->verp_now = 0;
	return r;
}

int smtp_send(struct smtp *s, const char *sender, const char *const *rcpts, size_t n,
	      const void *data, size_t len, struct smtp_reply *out)
{
	struct smtp_reply mail, data_reply;
	size_t i, accepted = 0;
	const char *msg = data;
	int r, closing = 0;

	for (i = 0; i < n; i++)
		out[i].code = -1;   /* not known yet */
	if (!s->alive) {
		lost(s, out, n, "connection lost");
		return -1;
	}
	mail.code = -1;
	r = s->pipelining ? envelope_pipelined(s, sender, rcpts, n, &mail, out)
			  : envelope_stepwise(s, sender, rcpts, n, &mail, out);
	if (r < 0 || mail.code == 0) {
		lost(s, out, n, mail.code == 0 ? mail.text : "connection lost or timed out");
		return -1;
	}
	if (mail.code == 421)
		closing = 1;
	if (mail.code / 100 != 2) {
		/* Pipelined RCPT replies (503) say nothing: MAIL's reply counts. */
		for (i = 0; i < n; i++)
			out[i] = mail;
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (out[i].code == 421)
			closing = 1;
		if (out[i].code / 100 == 2) {
			accepted++;
			out[i].code = -1;   /* decided by DATA */
		}
	}
	if (!accepted) {
		if (!closing && mailsmtp_reset(s->session) == MAILSMTP_ERROR_STREAM)
			s->alive = 0;
		goto done;
	}
	if (closing) {
		lost(s, out, n, "relay closed the connection (421)");
		return -1;
	}
	r = mailsmtp_data(s->session);
	if (r == MAILSMTP_ERROR_STREAM) {
		lost(s, out, n, "connection lost or timed out after DATA");
		return -1;
	}
	session_reply(s, &data_reply);
	if (data_reply.code == 354) {
		/* libetpan ends the data with CRLF "." CRLF: give it no last CRLF. */
		if (len >= 2 && msg[len - 2] == '\r' && msg[len - 1] == '\n')
			len -= 2;
		r = mailsmtp_data_message(s->session, msg, len);
		if (r == MAILSMTP_ERROR_STREAM) {
			lost(s, out, n, "connection lost or timed out after the message was sent");
			return -1;
		}
		session_reply(s, &data_reply);
	}
	if (data_reply.code == 421)
		closing = 1;
	for (i = 0; i < n; i++)
		if (out[i].code < 0)
			out[i] = data_reply;
done:
	if (closing) {
		s->alive = 0;
		return -1;
	}
	return s->alive ? 0 : -1;
}

void smtp_close(struct smtp *s)
{
	if (!s)
		return;
	if (s->alive)
		mailsmtp_quit(s->session);
	mailsmtp_free(s->session);
	if (s->line)
		mmap_string_free(s->line);
	free(s);
}
