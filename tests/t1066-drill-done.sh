#!/bin/sh
# The reply to the operator when an exercise is done (mimamori-dispatch(1),
# Exercises): once every list copy of an exercise alert is sent or failed,
# deliver queues one signed reply with, per list, the recipients, sent,
# failed and the time to 90 % (the figures of show ALERT-ID); exactly once,
# also when a run stopped between queueing it and noting it, or could not
# make it at all.
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"

pin_clock $NOW
OPS=demo/spool/mail/ops@vendor.example.jp

# drill_replies ALERT: the Message-IDs of the drill replies for ALERT in the
# operator's Maildir, one a line (a reply delivered twice counts once).
drill_replies() {
	for f in $OPS/new/*; do
		test -f "$f" || continue
		$MAILTOOL headers "$f" >h
		grep -q "^Subject: .*exercise done: $1\$" h && sed -n "s/^Message-ID: //p" h
	done | sort -u
}

test_expect_success 'setup: an exercise alert for chuo' '
	dispatch_setup &&
	request x1 area=chuo status=exercise &&
	mimamori dispatch >out &&
	echo "accepted inbox/new/x1 A2026-000001 5" >expect &&
	test_cmp expect out &&
	test $(grep -c "^copy " demo/spool/reach/A2026-000001/drill) = 3 &&
	grep -q "^operator $OP\$" demo/spool/reach/A2026-000001/drill
'

test_expect_success 'deliver sends the copies, then the reply, in the same run' '
	mimamori deliver >out &&
	grep -q "^sent queue/drill-A2026-000001 1 sent, 0 failed, 0 deferred\$" out &&
	test -f demo/spool/reach/A2026-000001/drill-done &&
	! test -f demo/spool/reach/A2026-000001/drill &&
	test $(drill_replies A2026-000001 | wc -l) = 1
'

test_expect_success 'the reply: signed by the node, per list recipients, sent, failed, 90 %' '
	dispatch_keys &&
	for f in $OPS/new/*; do
		$MAILTOOL headers "$f" | grep -q "exercise done: A2026-000001" && break
	done &&
	$MAILTOOL reply "$f" demo/operator/gnupg | tr -d "\r" >reply.txt &&
	grep -q "^GOOD $NODE" reply.txt &&
	grep -q "^Exercise A2026-000001 is done: every copy was sent or failed (5 recipient(s))." reply.txt &&
	grep -q "^agencies-chuo: 送信先 2 件、送信 2 件、失敗 0 件、90% まで 0 秒\$" reply.txt &&
	grep -q "^  2 recipients, 2 sent, 0 failed; 90% in 0 s\$" reply.txt &&
	grep -q "^cooperators: 送信先 3 件、送信 3 件、失敗 0 件、90% まで 0 秒\$" reply.txt &&
	! grep -q "@example.jp" reply.txt
'

test_expect_success 'the figures are those of show ALERT-ID' '
	mimamori show A2026-000001 >show.out &&
	head -1 show.out >got && echo "state open" >expect && test_cmp expect got &&
	grep -q "^list agencies-chuo: 2 recipients, 2 sent, 0 failed, 0 deferred, 0 bounced; 50% in 0 s, 90% in 0 s, 100% in 0 s\$" show.out &&
	grep -q "^list cooperators: 3 recipients, 3 sent, 0 failed, 0 deferred, 0 bounced;" show.out
'

test_expect_success 'later runs and the found send no second reply' '
	request x1f type=found status= found-at=2026-11-21T09:50:00+09:00 &&
	mimamori dispatch >out &&
	grep -q "^accepted inbox/new/x1f A2026-000001 5" out &&
	mimamori deliver >out &&
	mimamori deliver >out &&
	test $(drill_replies A2026-000001 | wc -l) = 1 &&
	mimamori show A2026-000001 >show.out &&
	head -1 show.out >got && echo "state closed found" >expect && test_cmp expect got
'

test_expect_success 'an actual alert gets no such reply' '
	request a2 request-id=a2 area=chuo &&
	mimamori dispatch >out &&
	grep -q "^accepted inbox/new/a2 A2026-000002 5" out &&
	! test -e demo/spool/reach/A2026-000002/drill &&
	mimamori deliver >out &&
	test -z "$(drill_replies A2026-000002)" &&
	request a2f request-id=a2f type=found status= found-at=2026-11-21T09:50:00+09:00 &&
	mimamori dispatch >out && mimamori deliver >out
'

test_expect_success 'a run that cannot make the reply (no template) leaves it for the next' '
	mkdir home && cp -r "$TEST_SRC/schemas" "$TEST_SRC/templates" home/ &&
	rm home/templates/reply-drill-done.txt &&
	request x3 request-id=x3 area=chuo status=exercise &&
	mimamori dispatch >out &&
	grep -q "^accepted inbox/new/x3 A2026-000003 5" out &&
	MIMAMORI_HOME=$TRASH/home mimamori deliver >out 2>err ;
	grep -q "reply-drill-done" err &&
	test -f demo/spool/reach/A2026-000003/drill &&
	test -z "$(drill_replies A2026-000003)" &&
	mimamori deliver >out &&
	test $(drill_replies A2026-000003 | wc -l) = 1 &&
	test -f demo/spool/reach/A2026-000003/drill-done &&
	request x3f request-id=x3f type=found status= found-at=2026-11-21T09:50:00+09:00 &&
	mimamori dispatch >out && mimamori deliver >out
'

test_expect_success 'a run stopped after queueing the reply, before noting it: sent once' '
	request x4 request-id=x4 area=chuo status=exercise &&
	mimamori dispatch >out &&
	grep -q "^accepted inbox/new/x4 A2026-000004 5" out &&
	rm -rf $OPS && mkdir -p demo/spool/mail && echo blocked >$OPS &&
	mimamori deliver >out ;
	grep -q "^sent queue/drill-A2026-000004 0 sent, 0 failed, 1 deferred\$" out &&
	test -f demo/spool/queue/env/drill-A2026-000004 &&
	mv demo/spool/reach/A2026-000004/drill-done demo/spool/reach/A2026-000004/drill &&
	rm $OPS &&
	mimamori --now 2026-11-21T10:05:00+09:00 deliver >out &&
	grep -q "^sent queue/drill-A2026-000004 1 sent, 0 failed, 0 deferred\$" out &&
	test -f demo/spool/reach/A2026-000004/drill-done &&
	! test -e demo/spool/queue/env/drill-A2026-000004 &&
	test $(drill_replies A2026-000004 | wc -l) = 1 &&
	mimamori --now 2026-11-21T10:06:00+09:00 deliver >out &&
	test $(drill_replies A2026-000004 | wc -l) = 1
'

test_expect_success 'the audit log has drill-done without addresses' '
	cat demo/spool/audit/* >audit &&
	grep -q "$(printf "\tdrill-done\talert=A2026-000001 queue=drill-A2026-000001 recipients=5")" audit &&
	! grep "drill-done" audit | grep -q "@"
'

kill_agents
test_done
