#!/bin/sh
# mimamori-spool(5) read literally, black box: one audit line per operation, every
# accept and reject of every stage, every bundle written or applied, every
# alert queued, sent, deferred, failed, closed, every record destroyed,
# every show, match and stats; no personal data; audit verify intact, and
# 65 naming the first bad line after an edit.
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"

L=demo/spool/audit/audit.log

# has STAGE EVENT [PATTERN]: a line of that stage and event (and pattern).
has() {
	grep -P "^[^\t]+\t[^\t]+\t$1\t$2\t" $L | grep -q -- "${3:-}" ||
		{ echo "no '$1 $2 ${3:-}' line in the audit log"; return 1; }
}

test_expect_success 'setup: registrations, a rejected one, a cancellation' '
	dispatch_setup &&
	make_registration 5 | sed "s|ward=\"[a-z]*\"|ward=\"kita\"|" >bad.xml &&
	printf "%s\n" "<cancellation xmlns=\"urn:mimamori:1\"><id>R2026-000002</id><date>2026-11-02</date><reason>death</reason></cancellation>" >cancel.xml &&
	mimamori --now 2026-11-02 submit bad.xml cancel.xml >/dev/null &&
	mimamori --now 2026-11-02 intake >out &&
	grep "^rejected incoming/bad.xml: " out &&
	grep -x "accepted incoming/cancel.xml R2026-000002" out
'

test_expect_success 'intake: accept, reject, and the destroyed record' '
	has submit submit &&
	has intake accept "id=R2026-000003" &&
	has intake reject "bad.xml" &&
	has intake destroy "R2026-000002"
'

test_expect_success 'export and import: bundle written, applied, rejected' '
	mimamori --now 2026-11-02 export >/dev/null &&
	has export bundle "to=police-ikuta" &&
	cp demo/spool/outgoing/police-ikuta/*.tar.gpg demo/nodes/police-ikuta/spool/import/ &&
	node police-ikuta import >out && grep "^accepted " out &&
	cp demo/spool/outgoing/police-ikuta/*.tar.gpg demo/nodes/police-ikuta/spool/import/ &&
	node police-ikuta import >out && grep "^rejected " out &&
	PL=demo/nodes/police-ikuta/spool/audit/audit.log &&
	grep -P "\timport\t(accept|apply)\t" $PL &&
	grep -P "\timport\treject\t" $PL
'

test_expect_success 'dispatch: accept, reject, alert queued' '
	request a1 &&
	request bad1 registration=R2099-000001 &&
	mimamori --now $NOW dispatch >out &&
	grep "^accepted inbox/new/a1 A2026-000001 " out &&
	request a2 registration=R2026-000001 requester-name= police-station=生田警察署 &&
	mimamori --now $NOW dispatch >out2 &&
	grep "^accepted inbox/new/a2 A2026-000002 " out2 &&
	grep "^rejected inbox/new/bad1: " out &&
	has dispatch accept "A2026-000001" &&
	has dispatch reject "bad1" &&
	has dispatch queued "A2026-000001"
'

test_expect_success 'deliver with the relay down: deferred (75), then failed after 24 hours' '
	cp demo/mimamori.xml demo/local.xml &&
	sed -i "s|\(<sender [^>]*/>\)|\1<smtp host=\"127.0.0.1\" port=\"1\"/>|" demo/mimamori.xml &&
	grep -q "<smtp host=\"127.0.0.1\" port=\"1\"/>" demo/mimamori.xml &&
	mimamori check-config >/dev/null &&
	test_expect_code 75 mimamori --now $NOW deliver >out 2>err &&
	has deliver deferred "A2026-000001" &&
	{ mimamori --now 2026-11-22T12:00:00+09:00 deliver >out 2>err; true; } &&
	grep "0 sent, [1-9][0-9]* failed, 0 deferred" out &&
	has deliver failed "A2026-000001"
'

test_expect_success 'deliver locally: sent' '
	cp demo/local.xml demo/mimamori.xml &&
	request u1 type=update clothing=白い帽子 &&
	mimamori --now $NOW dispatch >out &&
	grep "^accepted inbox/new/u1 A2026-000001 " out &&
	mimamori --now $NOW deliver >out &&
	has deliver sent "A2026-000001"
'

test_expect_success 'run: each stage audits under its own name' '
	make_registration 21 >rr.xml &&
	mimamori --now $NOW submit rr.xml >/dev/null &&
	mimamori --now $NOW run >out 2>err &&
	grep "^accepted incoming/rr.xml R2026-" out &&
	has intake accept "rr.xml" &&
	has expire done &&
	has export done &&
	! grep -P "\trun\t(accept|reject)\t" $L
'

test_expect_success 'found closes an alert, expire one left open 30 days; their data destroyed' '
	request f1 type=found &&
	mimamori --now $NOW dispatch >out &&
	grep "^accepted inbox/new/f1 A2026-000001 " out &&
	has dispatch "close[d]*" "A2026-000001" &&
	mimamori --now 2027-01-15 expire >out &&
	grep "A2026-000001" out &&
	has expire destroy "A2026-000001" &&
	grep -x "closed A2026-000002" out &&
	has expire closed "alert=A2026-000002 type=expired" &&
	has expire destroy "A2026-000002"
'

test_expect_success 'show, match and stats are audited' '
	mimamori --now 2026-11-21 show R2026-000001 >/dev/null &&
	mimamori --now 2026-11-21 show R2026-000001 --as police >/dev/null &&
	mimamori --now 2026-11-21 match --sex male --text 杖 >/dev/null &&
	mimamori --now 2026-11-21 stats >/dev/null &&
	mimamori --now 2026-11-21 stats --csv >/dev/null &&
	has show show "R2026-000001" &&
	has show show "as=police" &&
	has match match &&
	test $(grep -cP "\tstats\tstats\t" $L) = 2
'

test_expect_success 'expire destroys an expired record: destroyed' '
	mimamori --now 2028-12-01 expire >out &&
	grep "R2026-000003" out &&
	has expire destroy "R2026-000003"
'

test_expect_success 'each line: time, user, command, event, details; no personal data' '
	! grep -vP "^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\t[^\t]+\t[a-z-]+\t[a-z-]+\t[^\t]*\t[0-9a-f]{64}\$" $L &&
	for s in 神戸 こうべ 花子 太郎 長男 加納町 078-000 090-0000 1941-04-01 三宮 紺色 白い帽子 杖; do
		! grep -F -- "$s" $L demo/nodes/police-ikuta/spool/audit/audit.log || { echo "$s"; return 1; }
	done
'

test_expect_success 'audit verify: intact, then 65 naming the first edited line' '
	mimamori audit verify >out &&
	cp $L log.orig &&
	sed -i "5s/\tshow\t/\tshaw\t/; 5s/\tintake\t/\tintaka\t/; 5s/\tsubmit\t/\tsubmat\t/" $L &&
	! cmp -s $L log.orig &&
	test_expect_code 65 mimamori audit verify >out 2>err &&
	cat out err | grep "line 5"
'

test_done
