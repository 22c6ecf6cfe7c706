/*
 * test_lists - the delivery status notification reader of listmail
 * (lib/mail_parse.c's mail_report_parse(), lists/lists_bounce.c's
 * lm_dsn_read() and lm_dsn_weight()): multipart/report with a
 * message/delivery-status part, several recipients, a group without
 * Final-Recipient, the returned message's Message-ID (headers only or
 * the whole message), what is not a report, and hostile sizes.
 */
#include "unit.h"
#include "lib/mail.h"
#include "lists/lists_int.h"
#include "util/strbuf.h"

/* A DSN around the delivery-status body ds and the returned part ret. */
static void make_dsn(struct strbuf *out, const char *ds, const char *ret_type,
		     const char *ret)
{
	strbuf_addstr(out,
		      "From: MAILER-DAEMON@relay.example.jp\r\n"
		      "To: cooperators+bounces@example.jp\r\n"
		      "Subject: Undelivered Mail Returned to Sender\r\n"
		      "MIME-Version: 1.0\r\n"
		      "Content-Type: multipart/report; report-type=delivery-status;\r\n"
		      "\tboundary=\"BOUNDARY.1\"\r\n"
		      "\r\n"
		      "This is a MIME-encapsulated message.\r\n"
		      "\r\n"
		      "--BOUNDARY.1\r\n"
		      "Content-Type: text/plain; charset=us-ascii\r\n"
		      "\r\n"
		      "I'm sorry to have to inform you that your message could not\r\n"
		      "be delivered to one or more recipients.\r\n"
		      "\r\n"
		      "--BOUNDARY.1\r\n"
		      "Content-Type: message/delivery-status\r\n"
		      "\r\n");
	strbuf_addstr(out, ds);
	strbuf_addstr(out, "\r\n--BOUNDARY.1\r\n");
	if (ret_type) {
		strbuf_addf(out, "Content-Type: %s\r\n\r\n", ret_type);
		strbuf_addstr(out, ret);
		strbuf_addstr(out, "\r\n--BOUNDARY.1--\r\n");
	} else {
		strbuf_addstr(out, "Content-Type: text/plain\r\n\r\nnothing returned\r\n"
			      "--BOUNDARY.1--\r\n");
	}
}

static const char per_message[] =
	"Reporting-MTA: dns; relay.example.jp\r\n"
	"X-Postfix-Queue-ID: 4ZXYZ1234\r\n"
	"Arrival-Date: Sat, 21 Nov 2026 10:00:00 +0900 (JST)\r\n"
	"\r\n";

static const char headers[] =
	"From: alerts@example.jp\r\n"
	"Message-ID: <20261121T100000.abc@example.jp>\r\n"
	"Subject: =?UTF-8?B?5rW3?=\r\n";

TEST(several_recipients)
{
	struct strbuf ds = STRBUF_INIT, mail = STRBUF_INIT, why = STRBUF_INIT;
	struct mail_report rep;
	struct dsn_rcpt r[LM_DSN_MAX];

	strbuf_addstr(&ds, per_message);
	strbuf_addstr(&ds, "Final-Recipient: rfc822; h1@docomo.ne.jp\r\n"
		      "Original-Recipient: rfc822;h1@docomo.ne.jp\r\n"
		      "Action: failed\r\n"
		      "Status: 5.1.1\r\n"
		      "Remote-MTA: dns; mx.docomo.ne.jp\r\n"
		      "Diagnostic-Code: smtp; 550 5.1.1 <h1@docomo.ne.jp>:\r\n"
		      "    Recipient address rejected: User unknown\r\n"
		      "\r\n"
		      "Final-Recipient: RFC822; H2@EZweb.ne.jp\r\n"
		      "Action: delayed\r\n"
		      "Status: 4.4.1\r\n"
		      "\r\n"
		      "Final-Recipient: rfc822; h3@softbank.ne.jp\r\n"
		      "Action: delivered\r\n"
		      "Status: 2.0.0\r\n"
		      "\r\n"
		      "final-recipient: rfc822;h4@gmail.com\r\n"
		      "action: FAILED\r\n"
		      "status: 4.2.2\r\n");
	make_dsn(&mail, ds.buf, "text/rfc822-headers", headers);
	CHECK(mail_report_parse(mail.buf, mail.len, &rep, &why) == 0);
	CHECK_STR(rep.returned_id, "20261121T100000.abc@example.jp");
	CHECK(lm_dsn_read(&rep.status, r, LM_DSN_MAX) == 4);
	CHECK_STR(r[0].addr, "h1@docomo.ne.jp");
	CHECK_STR(r[0].status, "5.1.1");
	CHECK(lm_dsn_weight(&r[0]) == 2);
	CHECK_STR(r[1].addr, "H2@EZweb.ne.jp");
	CHECK(lm_dsn_weight(&r[1]) == 1);
	CHECK_STR(r[2].addr, "h3@softbank.ne.jp");
	CHECK(lm_dsn_weight(&r[2]) == 0);
	CHECK_STR(r[3].addr, "h4@gmail.com");
	CHECK(lm_dsn_weight(&r[3]) == 1);
	mail_report_release(&rep);
	strbuf_release(&ds);
	strbuf_release(&mail);
	strbuf_release(&why);
}

TEST(missing_final_recipient)
{
	struct strbuf ds = STRBUF_INIT, mail = STRBUF_INIT, why = STRBUF_INIT;
	struct mail_report rep;
	struct dsn_rcpt r[LM_DSN_MAX];

	strbuf_addstr(&ds, per_message);
	strbuf_addstr(&ds, "Original-Recipient: rfc822; h1@docomo.ne.jp\r\n"
		      "Action: failed\r\n"
		      "Status: 5.1.1\r\n"
		      "\r\n"
		      "Final-Recipient: h2@docomo.ne.jp\r\n"
		      "Action: failed\r\n"
		      "Status: 5.1.1\r\n"
		      "\r\n"
		      "Final-Recipient: rfc822; h5@docomo.ne.jp\r\n"
		      "Status: 5.2.2\r\n");
	make_dsn(&mail, ds.buf, "message/rfc822", "Message-ID: <m1@example.jp>\r\n"
		 "Subject: x\r\n\r\nbody\r\n");
	CHECK(mail_report_parse(mail.buf, mail.len, &rep, &why) == 0);
	CHECK_STR(rep.returned_id, "m1@example.jp");
	/* the groups are there, two of them naming no one */
	CHECK(lm_dsn_read(&rep.status, r, LM_DSN_MAX) == 3);
	CHECK_STR(r[0].addr, "");
	CHECK(lm_dsn_weight(&r[0]) == 2);
	CHECK_STR(r[1].addr, "");   /* no "type;" */
	CHECK_STR(r[2].addr, "h5@docomo.ne.jp");
	CHECK(lm_dsn_weight(&r[2]) == 2);   /* no Action: the status says */
	mail_report_release(&rep);
	strbuf_release(&ds);
	strbuf_release(&mail);
	strbuf_release(&why);
}

TEST(only_the_message_group)
{
	struct strbuf ds = STRBUF_INIT, mail = STRBUF_INIT, why = STRBUF_INIT;
	struct mail_report rep;
	struct dsn_rcpt r[LM_DSN_MAX];

	strbuf_addstr(&ds, per_message);
	make_dsn(&mail, ds.buf, NULL, NULL);
	CHECK(mail_report_parse(mail.buf, mail.len, &rep, &why) == 0);
	CHECK(rep.returned_id == NULL);
	CHECK(lm_dsn_read(&rep.status, r, LM_DSN_MAX) == 0);
	mail_report_release(&rep);
	strbuf_release(&ds);
	strbuf_release(&mail);
	strbuf_release(&why);
}

TEST(not_a_report)
{
	static const char plain[] = "From: a@b.jp\r\nSubject: x\r\n\r\nfailed\r\n";
	static const char mixed[] =
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
		"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
		"Final-Recipient: rfc822; h1@docomo.ne.jp\r\nAction: failed\r\n\r\n--b--\r\n";
	static const char no_status[] =
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; boundary=b\r\n\r\n"
		"--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n";
	static const char unclosed[] =
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; boundary=b\r\n\r\n"
		"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
		"Final-Recipient: rfc822; h1@docomo.ne.jp\r\n";
	struct strbuf why = STRBUF_INIT;
	struct mail_report rep;

	CHECK(mail_report_parse(plain, strlen(plain), &rep, &why) < 0);
	CHECK_CONTAINS(why.buf, "not a delivery status notification");
	strbuf_reset(&why);
	CHECK(mail_report_parse(mixed, strlen(mixed), &rep, &why) < 0);
	CHECK_CONTAINS(why.buf, "not a delivery status notification");
	strbuf_reset(&why);
	CHECK(mail_report_parse(no_status, strlen(no_status), &rep, &why) < 0);
	CHECK_CONTAINS(why.buf, "message/delivery-status");
	strbuf_reset(&why);
	CHECK(mail_report_parse(unclosed, strlen(unclosed), &rep, &why) < 0);
	CHECK(why.len > 0);
	strbuf_release(&why);
}

TEST(hostile_sizes)
{
	struct strbuf ds = STRBUF_INIT, mail = STRBUF_INIT, why = STRBUF_INIT, big = STRBUF_INIT;
	struct mail_report rep;
	struct dsn_rcpt r[LM_DSN_MAX];
	size_t i, n;

	/* a 10 KB address, a status and an action of 1 KB with controls */
	strbuf_addstr(&ds, per_message);
	strbuf_addstr(&ds, "Final-Recipient: rfc822; ");
	for (i = 0; i < 10000; i++)
		strbuf_addch(&ds, 'a');
	strbuf_addstr(&ds, "@docomo.ne.jp\r\nAction: failed");
	for (i = 0; i < 1000; i++)
		strbuf_addch(&ds, i % 2 ? '\x01' : 'x');
	strbuf_addstr(&ds, "\r\nStatus: 5.1.1");
	for (i = 0; i < 1000; i++)
		strbuf_addstr(&ds, "\x7f" "9");
	strbuf_addstr(&ds, "\r\n\r\n");
	/* then 300 recipient groups: only LM_DSN_MAX are read */
	for (i = 0; i < 300; i++)
		strbuf_addf(&ds, "Final-Recipient: rfc822; h%zu@docomo.ne.jp\r\n"
			    "Action: failed\r\nStatus: 5.1.1\r\n\r\n", i);
	make_dsn(&mail, ds.buf, NULL, NULL);
	CHECK(mail_report_parse(mail.buf, mail.len, &rep, &why) == 0);
	n = lm_dsn_read(&rep.status, r, LM_DSN_MAX);
	CHECK(n == LM_DSN_MAX);
	CHECK(strlen(r[0].addr) == sizeof(r[0].addr) - 1);
	CHECK(strlen(r[0].action) == sizeof(r[0].action) - 1);
	CHECK(strlen(r[0].status) == sizeof(r[0].status) - 1);
	for (i = 0; i < strlen(r[0].action); i++)
		CHECK((unsigned char)r[0].action[i] > ' ' && r[0].action[i] != 0x7f);
	CHECK(!strncmp(r[0].status, "5.1.1", 5));
	CHECK(lm_dsn_weight(&r[0]) == 0);   /* "failedxx…" is no action we know */
	CHECK_STR(r[LM_DSN_MAX - 1].addr, "h98@docomo.ne.jp");
	mail_report_release(&rep);

	/* over the size cap: refused before any parsing */
	strbuf_reset(&mail);
	strbuf_addstr(&big, per_message);
	while (big.len < MAIL_MAX_SIZE + 10)
		strbuf_addstr(&big, "X-Filler: 0123456789012345678901234567890123456789\r\n");
	make_dsn(&mail, big.buf, NULL, NULL);
	strbuf_reset(&why);
	CHECK(mail_report_parse(mail.buf, mail.len, &rep, &why) < 0);
	CHECK_CONTAINS(why.buf, "larger than");

	/* a top-level header field over 100 KiB */
	strbuf_reset(&mail);
	strbuf_addstr(&mail, "Subject: ");
	for (i = 0; i < 110 * 1024; i++)
		strbuf_addch(&mail, 'x');
	strbuf_addstr(&mail, "\r\nContent-Type: multipart/report; boundary=b\r\n\r\n--b--\r\n");
	strbuf_reset(&why);
	CHECK(mail_report_parse(mail.buf, mail.len, &rep, &why) < 0);
	CHECK_CONTAINS(why.buf, "header too large");

	/* a delivery-status body of one line with no end, no blank line */
	mail_report_init(&rep);
	strbuf_reset(&ds);
	strbuf_addstr(&ds, "Final-Recipient: rfc822; h1@docomo.ne.jp");
	strbuf_reset(&rep.status);
	strbuf_addbuf(&rep.status, &ds);
	CHECK(lm_dsn_read(&rep.status, r, LM_DSN_MAX) == 1);
	CHECK_STR(r[0].addr, "h1@docomo.ne.jp");
	CHECK(lm_dsn_weight(&r[0]) == 0);
	mail_report_release(&rep);
	strbuf_release(&ds);
	strbuf_release(&mail);
	strbuf_release(&why);
	strbuf_release(&big);
}

UNIT_MAIN(T(several_recipients), T(missing_final_recipient), T(only_the_message_group),
	  T(not_a_report), T(hostile_sizes))
