#!/bin/sh
# deliver: every recipient exactly once over SMTP (smtp-sink) and into
# local Maildirs; refusals, deferrals, retries, the 24-hour limit, the
# failure report; the queue's bytes sent as they are.
. "$(dirname "$0")/lib.sh"
. "$TEST_SRC/tests/lib-mail.sh"

SP=demo/spool
setup_demo || exit 1
# The demo operator's key.
OPS=$(sed -n 's/.*<operator key="\([^"]*\)".*/\1/p' "$MIMAMORI_CONFIG")
# A message whose lines start with dots (stuffed once on the wire).
printf 'From: alerts@example.jp\nTo: undisclosed-recipients:;\nSubject: test\n\nfirst\n.\n..two dots\n.end\nlast\n' >mail.txt

# An instant (seconds since the epoch) as --now takes it.
at() {
	date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ
}

# Lines of state/QID whose status is WORD.
state_count() {
	cut -f3 "$SP/queue/state/$1" 2>/dev/null | grep -c "^$2\$"
}

test_expect_success 'local delivery: one Maildir per recipient, bad names refused' '
	unset_relay &&
	QUEUE_REPORT=$OPS queue_mail L1 mail.txt a@example.jp b@example.jp "x/y@example.jp" .dot@example.jp >out &&
	mimamori deliver >out &&
	grep -qx "sent queue/L1 2 sent, 2 failed, 0 deferred" out &&
	test "$(ls $SP/mail/a@example.jp/new | wc -l)" = 1 &&
	test "$(ls $SP/mail/b@example.jp/new | wc -l)" = 1 &&
	test_path_is_missing "$SP/mail/x" &&
	test_path_is_missing "$SP/mail/.dot@example.jp" &&
	test_path_is_missing "$SP/queue/env/L1" &&
	test_path_is_missing "$SP/queue/msg/L1" &&
	test_path_is_missing "$SP/queue/state/L1" &&
	f=$(ls $SP/mail/a@example.jp/new/*) &&
	test_cmp mail.txt "$f" &&
	test "$(stat -c %a "$f")" = 600 &&
	test "$(stat -c %a $SP/mail/a@example.jp)" = 700
'

test_expect_success 'local delivery: the failure report is queued to the operator' '
	ls $SP/queue/env >envs &&
	test "$(wc -l <envs)" = 1 &&
	r=$(cat envs) &&
	grep -qx "rcpt ops@vendor.example.jp" "$SP/queue/env/$r" &&
	! grep -q "^report" "$SP/queue/env/$r" &&
	grep -q "multipart/encrypted" "$SP/queue/msg/$r" &&
	! grep -q "x/y@example.jp" "$SP/queue/msg/$r" &&
	grep "deliver	report	queue=L1 report=$r failed=2" $SP/audit/audit.log &&
	mimamori deliver >out &&
	grep -q "^sent queue/$r 1 sent, 0 failed, 0 deferred" out &&
	f=$(ls $SP/mail/ops@vendor.example.jp/new/*) &&
	sed -n "/BEGIN PGP MESSAGE/,/END PGP MESSAGE/p" "$f" |
	gpg --homedir demo/operator/gnupg --batch -q -d >report.txt &&
	grep -q "x/y@example.jp: 550" report.txt &&
	grep -q ".dot@example.jp: 550" report.txt &&
	! grep -q "^a@example.jp" report.txt
'

test_expect_success 'smtp: 2,500 recipients, each exactly once, in 1,000-recipient transactions' '
	sink_start sink &&
	set_relay "$SINK_PORT" &&
	rcpt_list 2500 | queue_mail S1 mail.txt &&
	mimamori deliver >out &&
	grep -qx "sent queue/S1 2500 sent, 0 failed, 0 deferred" out &&
	test "$(sink_rcpt_count sink)" = 2500 &&
	test "$(sink_rcpts sink | sort -u | wc -l)" = 2500 &&
	rcpt_list 2500 | sort >want && sink_rcpts sink | sort >got && test_cmp want got &&
	test "$(sink_mail_count sink)" = 3 &&
	test_path_is_missing "$SP/queue/env/S1" &&
	test_path_is_missing "$SP/queue/state/S1"
'

test_expect_success 'smtp: the message arrives as queued (dots stuffed once, no header added)' '
	for f in sink/*; do
		sink_message "$f" | sed "\$d" >got.txt &&
		test_cmp mail.txt got.txt || return 1
	done
'

test_expect_success 'smtp: no header of a delivered mail names a recipient' '
	for f in sink/*; do
		sink_message "$f" | sed "/^\$/q" | grep "@example.jp" | grep -v "^From: alerts@example.jp" && return 1
	done
	true
'

test_expect_success 'smtp: the audit log counts, never addresses' '
	grep -q "deliver	sent	queue=S1 count=2500" $SP/audit/audit.log &&
	! grep -q "r1@example.jp" $SP/audit/audit.log &&
	mimamori audit verify
'

test_expect_success 'smtp without PIPELINING: each recipient exactly once' '
	sink_stop && rm -rf sink &&
	sink_start sink -p &&
	set_relay "$SINK_PORT" &&
	rcpt_list 1200 | queue_mail S2 mail.txt &&
	mimamori deliver >out &&
	grep -qx "sent queue/S2 1200 sent, 0 failed, 0 deferred" out &&
	test "$(sink_rcpts sink | sort -u | wc -l)" = 1200 &&
	test "$(sink_rcpt_count sink)" = 1200
'

test_expect_success 'relay down: exit 75, nothing lost, every recipient deferred' '
	sink_stop && rm -rf sink &&
	port=$(free_port) && set_relay "$port" &&
	rcpt_list 30 | queue_mail D1 mail.txt &&
	test_expect_code 75 mimamori deliver >out 2>err &&
	grep -qx "sent queue/D1 0 sent, 0 failed, 30 deferred" out &&
	grep -q "cannot connect to 127.0.0.1:$port" err &&
	test -f $SP/queue/env/D1 && test -f $SP/queue/msg/D1 &&
	test "$(state_count D1 deferred)" = 30 &&
	grep -q "deliver	deferred	queue=D1 count=30" $SP/audit/audit.log
'

test_expect_success 'deferred recipients wait for their retry time' '
	test_expect_code 75 mimamori deliver >out &&
	grep -qx "waiting queue/D1 0 sent, 0 failed, 30 deferred" out &&
	test "$(state_count D1 deferred)" = 30
'

test_expect_success 'relay back: each deferred recipient gets exactly one copy' '
	sink_start sink && set_relay "$SINK_PORT" &&
	mimamori --now "$(date -u -d "+2 minutes" +%Y-%m-%dT%H:%M:%SZ)" deliver >out &&
	grep -qx "sent queue/D1 30 sent, 0 failed, 0 deferred" out &&
	test "$(sink_rcpt_count sink)" = 30 &&
	test "$(sink_rcpts sink | sort -u | wc -l)" = 30 &&
	test_path_is_missing $SP/queue/env/D1
'

test_expect_success '4xx to RCPT, then 2xx: deferred, then one copy each' '
	sink_stop && rm -rf sink &&
	sink_start sink -r RCPT && set_relay "$SINK_PORT" &&
	rcpt_list 5 | queue_mail T1 mail.txt &&
	test_expect_code 75 mimamori deliver >out &&
	grep -qx "sent queue/T1 0 sent, 0 failed, 5 deferred" out &&
	grep -q "	deferred	450 4.3.0" $SP/queue/state/T1 &&
	test "$(sink_mail_count sink)" = 0 &&
	sink_stop && rm -rf sink && sink_start sink && set_relay "$SINK_PORT" &&
	mimamori --now "$(date -u -d "+61 seconds" +%Y-%m-%dT%H:%M:%SZ)" deliver >out &&
	grep -qx "sent queue/T1 5 sent, 0 failed, 0 deferred" out &&
	test "$(sink_rcpt_count sink)" = 5 &&
	test "$(sink_rcpts sink | sort -u | wc -l)" = 5
'

test_expect_success 'the retry waits as long as the message has been queued' '
	sink_stop && rm -rf sink &&
	sink_start sink -r RCPT && set_relay "$SINK_PORT" &&
	t0=$(date +%s) &&
	rcpt_list 2 | QUEUE_TIME=$t0 queue_mail T2 mail.txt &&
	test_expect_code 75 mimamori --now "$(at $t0)" deliver >/dev/null &&
	test_expect_code 75 mimamori --now "$(at $((t0 + 59)))" deliver >out &&
	grep -q "^waiting queue/T2" out &&
	test_expect_code 75 mimamori --now "$(at $((t0 + 60)))" deliver >out &&
	grep -q "^sent queue/T2 0 sent, 0 failed, 2 deferred" out &&
	test_expect_code 75 mimamori --now "$(at $((t0 + 119)))" deliver >out &&
	grep -q "^waiting queue/T2" out &&
	test_expect_code 75 mimamori --now "$(at $((t0 + 120)))" deliver >out &&
	grep -q "^sent queue/T2" out &&
	test_expect_code 75 mimamori --now "$(at $((t0 + 239)))" deliver >out &&
	grep -q "^waiting queue/T2" out &&
	test_expect_code 75 mimamori --now "$(at $((t0 + 240)))" deliver >out &&
	grep -q "^sent queue/T2" out &&
	test "$(state_count T2 deferred)" = 8
'

test_expect_success '24 hours after queueing, deferred recipients fail' '
	sink_stop && rm -rf sink &&
	mimamori --now "$(date -u -d "+25 hours" +%Y-%m-%dT%H:%M:%SZ)" deliver >out 2>err &&
	grep -qx "sent queue/T2 0 sent, 2 failed, 0 deferred" out &&
	test_path_is_missing $SP/queue/env/T2 &&
	test_path_is_missing $SP/queue/msg/T2
'

test_expect_success 'a relay down for a day: the state log stays small, then all fail' '
	port=$(free_port) && set_relay "$port" &&
	t0=$(date +%s) &&
	rcpt_list 500 | QUEUE_TIME=$t0 queue_mail DAY mail.txt &&
	t=$t0 && runs=0 &&
	while [ $t -lt $((t0 + 86400)) ]; do
		test_expect_code 75 mimamori --now "$(at $t)" deliver >/dev/null 2>&1 || return 1
		[ "$(wc -l <$SP/queue/state/DAY)" -le $((3 * 500 + 16)) ] || return 1
		t=$((t + 1800)) && runs=$((runs + 1))
	done &&
	test $runs = 48 &&
	mimamori --now "$(at $((t0 + 86400)))" deliver >out 2>/dev/null &&
	grep -qx "sent queue/DAY 0 sent, 500 failed, 0 deferred" out &&
	test_path_is_missing $SP/queue/env/DAY
'

test_expect_success '5xx to RCPT: failed, not retried, failure report queued' '
	sink_start sink -f RCPT && set_relay "$SINK_PORT" &&
	QUEUE_REPORT=$OPS QUEUE_ALERT=A2026-000001 rcpt_list 3 | QUEUE_REPORT=$OPS QUEUE_ALERT=A2026-000001 queue_mail F1 mail.txt &&
	mimamori deliver >out &&
	grep -qx "sent queue/F1 0 sent, 3 failed, 0 deferred" out &&
	test "$(sink_mail_count sink)" = 0 &&
	test_path_is_missing $SP/queue/env/F1 &&
	r=$(ls $SP/queue/env) && test -n "$r" &&
	grep -qx "rcpt ops@vendor.example.jp" "$SP/queue/env/$r" &&
	grep -qx "alert A2026-000001" "$SP/queue/env/$r" &&
	grep -q "deliver	failed	queue=F1 alert=A2026-000001 count=3" $SP/audit/audit.log
'

test_expect_success 'the report itself is refused: no report about the report' '
	mimamori deliver >out &&
	grep -q "^sent queue/.* 0 sent, 1 failed, 0 deferred" out &&
	test -z "$(ls $SP/queue/env)"
'

test_expect_success 'some sent before, the rest refused: state per recipient, only those reported' '
	rcpt_list 4 | QUEUE_REPORT=$OPS queue_mail F2 mail.txt &&
	now=$(date +%s) &&
	printf "%s\tr1@example.jp\tsent\t250 ok\n%s\tr2@example.jp\tdeferred\t450 busy\n%s\tr3@ex" "$now" "$((now - 600))" "$now" >$SP/queue/state/F2 &&
	mimamori deliver >out &&
	grep -qx "sent queue/F2 1 sent, 3 failed, 0 deferred" out &&
	test "$(sink_mail_count sink)" = 0 &&
	r=$(ls $SP/queue/env) && test -n "$r" &&
	rm -f $SP/queue/env/$r $SP/queue/msg/$r
'

test_expect_success 'some recipients of one transaction refused: each its own outcome' '
	sink_stop &&
	peer_start got.txt && set_relay "$PEER_PORT" &&
	QUEUE_REPORT=$OPS queue_mail M1 mail.txt ok1@example.jp bad1@example.jp busy1@example.jp ok2@example.jp bad2@example.jp &&
	test_expect_code 75 mimamori deliver >out &&
	grep -qx "sent queue/M1 2 sent, 2 failed, 1 deferred" out &&
	printf "ok1@example.jp\nok2@example.jp\n" >want.txt && test_cmp want.txt got.txt &&
	grep -q "	bad1@example.jp	failed	550 5.1.1 <bad1@example.jp> no such user" $SP/queue/state/M1 &&
	grep -q "	busy1@example.jp	deferred	451 4.3.0" $SP/queue/state/M1 &&
	grep -q "	ok2@example.jp	sent	250 2.0.0 queued" $SP/queue/state/M1 &&
	test "$(ls $SP/queue/env)" = M1
'

test_expect_success 'then only the deferred one is tried again, and fails after 24 hours' '
	test_expect_code 75 mimamori --now "$(date -u -d "+2 minutes" +%Y-%m-%dT%H:%M:%SZ)" deliver >out &&
	grep -qx "sent queue/M1 2 sent, 2 failed, 1 deferred" out &&
	test_cmp want.txt got.txt &&
	test "$(grep -c "	busy1@example.jp	deferred" $SP/queue/state/M1)" = 2 &&
	mimamori --now "$(date -u -d "+25 hours" +%Y-%m-%dT%H:%M:%SZ)" deliver >out &&
	grep -qx "sent queue/M1 2 sent, 3 failed, 0 deferred" out &&
	test_path_is_missing $SP/queue/env/M1 &&
	test_cmp want.txt got.txt
'

test_expect_success 'the report names exactly the failed ones, with the replies' '
	r=$(ls $SP/queue/env) && test -n "$r" &&
	unset_relay && mimamori deliver >out &&
	f=$(ls -t $SP/mail/ops@vendor.example.jp/new/* | head -1) &&
	sed -n "/BEGIN PGP MESSAGE/,/END PGP MESSAGE/p" "$f" |
	gpg --homedir demo/operator/gnupg --batch -q -d >report.txt &&
	grep -q "^bad1@example.jp: 550 5.1.1" report.txt &&
	grep -q "^bad2@example.jp: 550 5.1.1" report.txt &&
	grep -q "^busy1@example.jp: gave up 24 hours after queueing: 451" report.txt &&
	! grep -q "ok1@example.jp" report.txt &&
	grep -q "failed: *3" report.txt
'

test_expect_success 'without PIPELINING too; all refused: nothing sent, RSET' '
	peer_stop &&
	peer_start got2.txt nopipelining && set_relay "$PEER_PORT" &&
	queue_mail M2 mail.txt bad3@example.jp ok3@example.jp bad4@example.jp &&
	queue_mail M3 mail.txt bad5@example.jp bad6@example.jp &&
	queue_mail M4 mail.txt ok4@example.jp &&
	mimamori deliver >out &&
	grep -qx "sent queue/M2 1 sent, 2 failed, 0 deferred" out &&
	grep -qx "sent queue/M3 0 sent, 2 failed, 0 deferred" out &&
	grep -qx "sent queue/M4 1 sent, 0 failed, 0 deferred" out &&
	printf "ok3@example.jp\nok4@example.jp\n" >want2.txt && test_cmp want2.txt got2.txt &&
	peer_stop
'

test_expect_success 'a report queued by a run killed before the removal is not queued again' '
	rm -rf sink && sink_start sink -f RCPT && set_relay "$SINK_PORT" &&
	rcpt_list 2 | QUEUE_REPORT=$OPS queue_mail K1 mail.txt &&
	now=$(date +%s) &&
	printf "%s\tr1@example.jp\tfailed\t550 no\n%s\tr2@example.jp\tsent\t250 ok\n" "$now" "$now" >$SP/queue/state/K1 &&
	echo "already queued" >$SP/queue/msg/K1-report &&
	printf "sender alerts@example.jp\nqueued %s\nrcpt ops@vendor.example.jp\n" "$now" >$SP/queue/env/K1-report &&
	cp $SP/queue/env/K1-report before &&
	mimamori deliver >out &&
	grep -qx "sent queue/K1 1 sent, 1 failed, 0 deferred" out &&
	test_path_is_missing $SP/queue/env/K1 &&
	! grep -q "deliver	report	queue=K1 " $SP/audit/audit.log &&
	grep -q "^sent queue/K1-report 0 sent, 1 failed" out &&
	test -z "$(ls $SP/queue/env)" &&
	sink_stop
'

test_expect_success '5xx to DATA fails every recipient of the transaction' '
	rm -rf sink &&
	sink_start sink -f DATA && set_relay "$SINK_PORT" &&
	rcpt_list 3 | queue_mail F3 mail.txt &&
	mimamori deliver >out &&
	grep -qx "sent queue/F3 0 sent, 3 failed, 0 deferred" out
'

test_expect_success '4xx to MAIL defers every recipient' '
	sink_stop && rm -rf sink &&
	sink_start sink -r MAIL && set_relay "$SINK_PORT" &&
	rcpt_list 3 | queue_mail F4 mail.txt &&
	test_expect_code 75 mimamori deliver >out &&
	grep -qx "sent queue/F4 0 sent, 0 failed, 3 deferred" out &&
	rm -f $SP/queue/env/F4
'

test_expect_success 'connection dropped after the message: deferred, never lost' '
	sink_stop && rm -rf sink &&
	sink_start sink -q . && set_relay "$SINK_PORT" &&
	rcpt_list 3 | queue_mail C1 mail.txt &&
	test_expect_code 75 mimamori deliver >out &&
	grep -qx "sent queue/C1 0 sent, 0 failed, 3 deferred" out &&
	grep -q "connection lost" $SP/queue/state/C1 &&
	rm -f $SP/queue/env/C1
'

test_expect_success 'a 421 greeting or a drop during RCPT: deferred, with the reason' '
	sink_stop && rm -rf sink &&
	sink_start sink -Q CONNECT && set_relay "$SINK_PORT" &&
	rcpt_list 2 | queue_mail G1 mail.txt &&
	test_expect_code 75 mimamori deliver >out 2>err &&
	grep -q "greeting 421" err &&
	test "$(grep -c "	deferred	cannot connect.*greeting 421" $SP/queue/state/G1)" = 2 &&
	rm -f $SP/queue/env/G1 &&
	sink_stop && rm -rf sink &&
	sink_start sink -q RCPT && set_relay "$SINK_PORT" &&
	rcpt_list 2 | queue_mail G2 mail.txt &&
	test_expect_code 75 mimamori deliver >out &&
	test "$(grep -c "	deferred	connection lost or timed out" $SP/queue/state/G2)" = 2 &&
	rm -f $SP/queue/env/G2
'

test_expect_success 'a stalled relay times out: deferred' '
	sink_stop && rm -rf sink &&
	sink_start sink -W RCPT:5 && set_relay "$SINK_PORT" &&
	rcpt_list 2 | queue_mail W1 mail.txt &&
	MIMAMORI_SMTP_TIMEOUT=1 test_expect_code 75 mimamori deliver >out &&
	grep -qx "sent queue/W1 0 sent, 0 failed, 2 deferred" out &&
	rm -f $SP/queue/env/W1
'

test_expect_success 'two delivers at once send each recipient once' '
	sink_stop && rm -rf sink &&
	sink_start sink && set_relay "$SINK_PORT" &&
	rcpt_list 3000 | queue_mail P1 mail.txt &&
	rcpt_list 3000 q | queue_mail P2 mail.txt &&
	{ mimamori deliver >out1 & p=$!; mimamori deliver >out2; wait $p; } &&
	test "$(sink_rcpt_count sink)" = 6000 &&
	test "$(sink_rcpts sink | sort -u | wc -l)" = 6000
'

test_expect_success 'an envelope without its message goes to rejected/ with the reason' '
	printf "sender a@example.jp\nqueued 1\nrcpt a@example.jp\n" >$SP/queue/env/B1 &&
	mimamori deliver >out &&
	grep -qx "rejected queue/env/B1: envelope without its message" out &&
	test -f $SP/rejected/B1 &&
	grep -q "without its message" $SP/rejected/B1.reason &&
	test_path_is_missing $SP/queue/env/B1
'

test_expect_success 'an envelope without a recipient: it and its message go to rejected/' '
	queue_mail B2 mail.txt </dev/null &&
	rcpt_list 2 | queue_mail B3 mail.txt &&
	mimamori deliver >out &&
	grep -qx "rejected queue/env/B2: envelope without a recipient" out &&
	grep -qx "sent queue/B3 2 sent, 0 failed, 0 deferred" out &&
	test -f $SP/rejected/B2 && test -f $SP/rejected/B2.msg &&
	grep -q "without a recipient" $SP/rejected/B2.msg.reason &&
	test "$(stat -c %a $SP/rejected/B2.msg)" = 600 &&
	test_path_is_missing $SP/queue/msg/B2
'

test_expect_success 'leftovers: an old message without envelope and a lone state file go' '
	echo x >$SP/queue/msg/O1 && touch -d "2 hours ago" $SP/queue/msg/O1 &&
	echo x >$SP/queue/msg/O2 &&
	printf "1\ta@b\tsent\t250\n" >$SP/queue/state/O3 &&
	mimamori deliver >out &&
	test_path_is_missing $SP/queue/msg/O1 &&
	test -f $SP/queue/msg/O2 &&
	test_path_is_missing $SP/queue/state/O3
'

test_expect_success 'deliver takes no arguments' '
	test_expect_code 64 mimamori deliver extra 2>err &&
	grep -q usage err
'

sink_stop
peer_stop
test_done
