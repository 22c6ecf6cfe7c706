#!/bin/sh
# expire and stats on alerts: alert data destroyed alert-data (P30D) after
# the alert closed, an alert open for 30 days closed and destroyed, the
# alerts of a cancelled registration destroyed at once with their queued
# mails; the tombstones keep what stats counts (alerts by status, found,
# median hours from missing-since to found).
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"

# dispatch_one NAME: dispatch the request NAME, print its alert id.
dispatch_one() {
	mimamori --now $NOW dispatch >d.out &&
	grep -q "^accepted inbox/new/$1 " d.out &&
	sed -n "s/^accepted inbox\/new\/$1 \([A-Z0-9-]*\).*/\1/p" d.out
}

# queued ALERT: the number of queue entries of that alert.
queued() {
	grep -l "^alert $1\$" demo/spool/queue/env/* 2>/dev/null | wc -l
}

CHUO_ACTUAL="missing-since=2026-11-20T22:00:00+09:00"

test_expect_success 'setup: four alerts, two of them found' '
	dispatch_setup &&
	request a1 && A1=$(dispatch_one a1) && test "$A1" = A2026-000001 &&
	request f1 type=found found-at=2026-11-21T09:00:00+09:00 &&
	dispatch_one f1 >/dev/null &&
	request s1 registration=R2026-000001 requester-name= police-station=生田警察署 \
		$CHUO_ACTUAL &&
	A2=$(dispatch_one s1) && test "$A2" = A2026-000002 &&
	request s2 registration=R2026-000001 requester-name= police-station=生田警察署 \
		type=found found-at=2026-11-21T09:00:00+09:00 &&
	dispatch_one s2 >/dev/null &&
	request x1 registration=R2026-000002 requester-name= status=exercise \
		police-station=police-nada area=nada &&
	A3=$(dispatch_one x1) && test "$A3" = A2026-000003 &&
	request a2 && A4=$(dispatch_one a2) && test "$A4" = A2026-000004 &&
	for a in A2026-000001 A2026-000002 A2026-000003 A2026-000004; do
		test $(queued $a) -gt 0 || return 1
	done &&
	spool_grep "紺色のジャンパー" demo/spool/queue >/dev/null &&
	spool_grep "三宮センター街 東口付近" demo/spool/queue >/dev/null
'

test_expect_success 'stats counts alerts, found and the median hours to found' '
	mimamori --now $NOW stats --csv >out &&
	cat out &&
	grep -q "^chuo,2,2,0,0,0,0,0,0,3,0,2,6.5$" out &&
	grep -q "^nada,1,1,0,0,0,0,0,0,0,1,0,-$" out &&
	grep -q "^total,3,3,0,0,0,0,0,0,3,1,2,6.5$" out
'

test_expect_success 'a cancelled registration: its open alert is closed and destroyed at once' '
	sed "s/R2026-000001/R2026-000002/; s/2026-09-30/2026-11-22/; s/facility/death/" \
		$DATA/registration/cancellation.xml >cancel.xml &&
	mimamori --now 2026-11-22 submit cancel.xml >/dev/null &&
	mimamori --now 2026-11-22 intake | grep -q ^accepted &&
	mimamori --now 2026-11-22 expire >out &&
	printf "closed A2026-000003\ndestroyed A2026-000003 alert-data\n" >expect &&
	test_cmp expect out &&
	test $(queued A2026-000003) -eq 0 &&
	test $(queued A2026-000001) -gt 0 && test $(queued A2026-000004) -gt 0 &&
	test -z "$(ls demo/spool/alerts | grep A2026-000003)" &&
	grep -q "destroy.*alert=A2026-000003 registration=R2026-000002 reason=registration" \
		demo/spool/audit/audit.log
'

test_expect_success 'a day before alert-data has passed nothing more goes' '
	mimamori --now 2026-12-20 expire >out &&
	test_must_fail test -s out &&
	test $(queued A2026-000001) -gt 0 &&
	ls demo/spool/alerts | grep -q "^A2026-000001\."
'

test_expect_success 'alert-data after closing, and 30 days open: rendered mails and circumstances gone' '
	mimamori --now 2026-12-21 expire >out &&
	cat out &&
	printf "%s\n" "closed A2026-000004" "destroyed A2026-000001 alert-data" \
		"destroyed A2026-000002 alert-data" "destroyed A2026-000004 alert-data" >expect &&
	test_cmp expect out &&
	for a in A2026-000001 A2026-000002 A2026-000004; do
		test $(queued $a) -eq 0 || return 1
	done &&
	test -z "$(ls demo/spool/alerts | grep "^A2026")" &&
	test $(ls demo/spool/queue/msg | wc -l) -eq $(ls demo/spool/queue/env | wc -l) &&
	test_must_fail spool_grep "三宮センター街 東口付近" demo/spool &&
	test_must_fail spool_grep "紺色のジャンパー" demo/spool &&
	test_must_fail spool_grep "茶色の手提げかばん" demo/spool
'

test_expect_success 'the tombstones still give the year figures' '
	mimamori --now 2026-12-21 stats --csv >out &&
	cat out &&
	grep -q "^chuo,2,0,0,0,0,0,0,0,3,0,2,6.5$" out &&
	grep -q "^nada,0,0,0,1,0,0,0,0,0,1,0,-$" out &&
	mimamori --now 2027-01-02 stats --csv >out &&
	grep -q "^total,2,0,0,0,0,0,0,0,0,0,0,-$" out &&
	mimamori audit verify
'

test_done
