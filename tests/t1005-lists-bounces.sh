#!/bin/sh
# mimamori-listmail(1), bounces: DSNs hard and soft, once a day,
# unparsable and non-members; forged DSNs without the probe disable no
# one; the probe that disables a member and tells the owner; the XVERP
# bounce address; a disabled member gets no alert; the configuration's
# members are not scored.
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"
. "$TEST_SRC/tests/lib-lists.sh"

test_expect_success 'setup: the demo, cooperators with an owner, 20 members' '
	lists_setup &&
	lists_import 20
'

test_expect_success 'DSNs: hard 1, soft 0.5, once a day; unparsable and non-members change nothing' '
	dsn d1 cooperators+bounces@$D h1@docomo.ne.jp 5.1.1 failed &&
	dsn d2 cooperators+bounces@$D h2@docomo.ne.jp 4.2.2 delayed &&
	dsn d3 cooperators+bounces@$D h1@docomo.ne.jp 5.1.1 failed &&
	dsn d4 cooperators+bounces@$D nobody@docomo.ne.jp 5.1.1 failed &&
	echo "just text" | lmail d5 cooperators+bounces@$D MAILER-DAEMON@x &&
	mimamori --now $NOW listmail >out &&
	grep "rejected listbox/new/.*not a delivery status notification" out &&
	grep "bounce: 0 counted, 1 not members" out &&
	mimamori --now $NOW members list cooperators --csv >l &&
	grep -x "cooperators,h1@docomo.ne.jp,協力者 1,active,2026-04-01,1" l &&
	grep -x "cooperators,h2@docomo.ne.jp,協力者 2,active,2026-04-01,0.5" l
'

day() { date -d "2026-11-21 +$1 day" +%Y-%m-%dT10:00:00+09:00; }

test_expect_success 'forged DSNs without the probe disable no one; the probe does, and tells the owner' '
	for i in 1 2 3 4 5 6; do
		dsn x$i cooperators+bounces@$D h7@docomo.ne.jp 5.1.1 failed &&
		mimamori --now $(day $i) listmail >out$i || return 1
	done &&
	grep "probe(s) sent" out5 && grep "1 probe(s) sent" out5 &&
	mimamori --now $(day 6) members list cooperators | grep "^cooperators h7@docomo.ne.jp active" &&
	e=$(grep -l "^rcpt h7@docomo.ne.jp" $Q/env/* | head -1) &&
	probe=$(sed -n "s/^sender \(cooperators+probe-[0-9a-f]*@example.jp\)$/\1/p" $e) &&
	test -n "$probe" &&
	echo x | lmail p0 cooperators+probe-0123456789abcdef01234567@$D &&
	mimamori --now $(day 6) listmail >out &&
	grep "probe: unknown or used probe token" out &&
	dsn p1 $probe h7@docomo.ne.jp 5.1.1 failed &&
	mimamori --now $(day 6) listmail >out &&
	grep "probe bounced: member disabled, owner told" out &&
	mimamori --now $(day 6) members list cooperators | grep "^cooperators h7@docomo.ne.jp disabled" &&
	o=$(grep -l "^rcpt owner@example.jp" $Q/env/*) &&
	grep -q "h7@docomo.ne.jp" $Q/msg/$(basename $o) &&
	! grep -rq "h7@" demo/spool/audit demo/spool/members &&
	grep -q "disable.*list=cooperators" demo/spool/audit/*
'

test_expect_success 'XVERP bounce address: the member is taken from it' '
	dsn v1 cooperators+bounces+h9=docomo.ne.jp@$D someone@else.jp 5.1.1 failed &&
	mimamori --now $(day 7) listmail >out &&
	grep "bounce: 1 counted" out
'

test_expect_success 'a DSN without Final-Recipient to the XVERP address still names the member' '
	printf "From: MAILER-DAEMON@relay.jp\nTo: x\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n\n--b1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; relay.jp\n\nAction: failed\nStatus: 5.1.1\n\n--b1--\n" |
	ORIGINAL_RECIPIENT=cooperators+bounces+h10=docomo.ne.jp@$D mimamori receive --list >/dev/null &&
	printf "From: MAILER-DAEMON@relay.jp\nTo: x\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n\n--b1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; relay.jp\n\nAction: failed\nStatus: 5.1.1\n\n--b1--\n" |
	ORIGINAL_RECIPIENT=cooperators+bounces@$D mimamori receive --list >/dev/null &&
	mimamori --now $(day 7) listmail >out &&
	grep "done .*bounce: 1 counted" out &&
	grep "rejected .*bounce: no recipient in the delivery status notification" out &&
	mimamori --now $(day 7) members list cooperators | grep "^cooperators h10@docomo.ne.jp active .*score 1"
'

test_expect_success 'members of the configuration are not scored' '
	dsn c1 agencies-chuo+bounces@$D ward-chuo@example.jp 5.1.1 failed &&
	mimamori --now $(day 7) listmail >out &&
	grep "bounce: 0 counted, 1 not members, 0 probe(s) sent" out
'

test_expect_success 'an alert: the disabled member gets nothing, the others their list copy' '
	rm -f $Q/env/* $Q/msg/* &&
	request a1 area= &&
	mimamori --now $NOW dispatch >out &&
	grep "^accepted inbox/new/a1 A2026-000001 " out &&
	e=$(grep -l "^rcpt h1@docomo.ne.jp" $Q/env/*) &&
	grep -x "sender cooperators+bounces@example.jp" $e &&
	! grep -rq "^rcpt h7@docomo.ne.jp" $Q/env
'

test_done
