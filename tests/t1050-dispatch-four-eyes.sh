#!/bin/sh
# Four eyes: with <requests approval="second-operator"/> an actual alert
# is held (nothing queued to members) until another configured operator
# approves it within 2 hours; the same operator, a non-operator, a replay,
# an unknown, exercise or late approval (by one second) is rejected; a
# withdraw before approval drops it; exercises need no approval.
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"

HOLD=2026-11-21T10:00:00+09:00
LATE_OK=2026-11-21T12:00:00+09:00      # exactly 2 hours after the hold
LATE=2026-11-21T12:00:01+09:00         # one second more

# Two operators now: OP is the first (the one request() signs with).
dispatch_keys() {
	OP=$(sed -n 's/.*<operator key="\([0-9A-F]*\)".*/\1/p' demo/mimamori.xml | head -1)
	NODE=$(sed -n 's/.*<agency id="council"[^>]* key="\([0-9A-F]*\)".*/\1/p' demo/mimamori.xml)
	test -n "$OP" && test -n "$NODE"
}

# last_reply ADDRESS GNUPGHOME: the newest reply queued to ADDRESS, decrypted, in reply.txt.
last_reply() {
	e=$(grep -l "^rcpt $1\$" demo/spool/queue/env/* | xargs ls -t | head -1) &&
	$MAILTOOL reply demo/spool/queue/msg/$(basename $e) $2 >reply.txt
}

# member_msgs: queued messages for list members (not replies to operators).
member_msgs() {
	n=0
	for e in demo/spool/queue/env/*; do
		test -f "$e" || continue
		grep -q "^rcpt ops" "$e" && continue
		n=$((n + 1))
	done
	echo $n
}

test_expect_success 'setup: a second operator, approval required' '
	dispatch_setup &&
	mkdir -m 700 op2 &&
	gpg --homedir op2 --batch --passphrase "" --quick-gen-key "second <ops2@vendor.example.jp>" future-default default never 2>/dev/null &&
	K2=$(gpg --homedir op2 --with-colons --list-keys ops2@vendor.example.jp | awk -F: "/^fpr/ { print \$10; exit }") &&
	echo $K2 >k2 &&
	gpg --homedir op2 --export --armor $K2 | gpg --homedir demo/gnupg --batch --import 2>/dev/null &&
	gpg --homedir demo/gnupg --export --armor $NODE | gpg --homedir op2 --batch --import 2>/dev/null &&
	sed -i "s|</operators>|  <operator key=\"$K2\" name=\"見守り 副当番\" address=\"ops2@vendor.example.jp\"/>\n  </operators>|; s|<agencies>|<requests approval=\"second-operator\"/>\n  <agencies>|" demo/mimamori.xml &&
	mimamori check-config >cc.out 2>&1
'

# request2 NAME k=v...: a request signed by the second operator.
request2() {
	name=$1
	shift
	{
		for kv in "$@"; do printf "%s\n" "$kv"; done
	} | sed "s/=/: /" >"form.$name" &&
	mimamori request-mail --gnupg-home op2 --key "$(cat k2)" --from ops2@vendor.example.jp \
		--to alerts@example.jp --form "form.$name" -o "demo/spool/inbox/new/$name"
}

test_expect_success 'an actual alert is held: stdout says held, nothing for the members' '
	request h1 area=chuo &&
	mimamori --now $HOLD dispatch >out 2>err &&
	echo "accepted inbox/new/h1 A2026-000001 0 held" >expect &&
	test_cmp expect out &&
	test $(member_msgs) = 0 &&
	test -z "$(ls demo/spool/feed 2>/dev/null | grep -v index.atom)"
'

test_expect_success 'the reply tells the operator it is held until a second operator approves' '
	last_reply ops@vendor.example.jp demo/operator/gnupg &&
	grep -q "held until a second operator approves: A2026-000001" reply.txt &&
	grep -q "第二の運用者が承認するまで保留" reply.txt
'

test_expect_success 'a second alert for the same person is refused while one is held' '
	request h2 area=chuo &&
	mimamori --now $HOLD dispatch >out &&
	grep -q "rejected inbox/new/h2: an alert is already open for this registration (A2026-000001, held)" out
'

test_expect_success 'the same operator approving: rejected, still held' '
	request a-self type=approve alert=A2026-000001 registration= status= requester-name= \
		requester-relationship= police-station= police-report-at= missing-since= \
		last-seen= clothing= belongings= &&
	mimamori --now $HOLD dispatch >out &&
	grep -q "rejected inbox/new/a-self: alert A2026-000001 was asked for by the same operator" out &&
	test $(member_msgs) = 0
'

test_expect_success 'an approval signed by a key that is not an operator: rejected' '
	mkdir -m 700 op3 &&
	gpg --homedir op3 --batch --passphrase "" --quick-gen-key "third <x@example.org>" future-default default never 2>/dev/null &&
	K3=$(gpg --homedir op3 --with-colons --list-keys x@example.org | awk -F: "/^fpr/ { print \$10; exit }") &&
	printf "type: approve\nalert: A2026-000001\nsent: 2026-11-21T10:00:00+09:00\n" >form.a-non &&
	mimamori request-mail --gnupg-home op3 --key $K3 --from ops2@vendor.example.jp \
		--to alerts@example.jp --form form.a-non -o demo/spool/inbox/new/a-non &&
	mimamori --now $HOLD dispatch >out &&
	grep -q "rejected inbox/new/a-non: .*not a configured operator" out &&
	test $(member_msgs) = 0
'

test_expect_success 'approve with a registration, an unknown alert, a wrong status: rejected' '
	request2 a-bad1 request-id=a-bad1 sent=2026-11-21T10:00:00+09:00 type=approve \
		alert=A2026-000001 registration=R2026-000003 &&
	request2 a-bad2 request-id=a-bad2 sent=2026-11-21T10:00:00+09:00 type=approve \
		alert=A2026-000099 &&
	request2 a-bad3 request-id=a-bad3 sent=2026-11-21T10:00:00+09:00 type=approve \
		alert=A2026-000001 status=exercise &&
	mimamori --now $HOLD dispatch >out &&
	grep -q "rejected inbox/new/a-bad1: .approve. names the alert, not a registration" out &&
	grep -q "rejected inbox/new/a-bad2: unknown alert .A2026-000099." out &&
	grep -q "rejected inbox/new/a-bad3: .status. is exercise but alert A2026-000001 is actual" out &&
	test $(member_msgs) = 0
'

test_expect_success 'a second operator approving at exactly 2 hours: sent to the lists' '
	request2 a-ok request-id=a-ok sent=2026-11-21T11:59:00+09:00 type=approve \
		alert=A2026-000001 &&
	mimamori --now $LATE_OK dispatch >out 2>err &&
	echo "accepted inbox/new/a-ok A2026-000001 5" >expect &&
	test_cmp expect out &&
	rcpts_of A2026-000001 >got &&
	cat >expect <<-\EOF &&
	center-chuo-1@example.jp
	commissioner-chuo@example.jp
	helper1@example.jp
	helper2@example.jp
	ward-chuo@example.jp
	EOF
	test_cmp expect got &&
	last_reply ops2@vendor.example.jp op2 &&
	grep -q "承認により送信しました / approved and sent: A2026-000001" reply.txt &&
	queue_dump >dump &&
	grep -q "^Subject: 行方不明高齢者の捜索にご協力ください（A2026-000001）" dump &&
	grep -q "三宮センター街 東口付近" dump &&
	test -f demo/spool/feed/A2026-000001.1.xml &&
	grep -q "A2026-000001.1.xml" demo/spool/feed/index.atom
'

test_expect_success 'the approval replayed, or approved again: rejected, nothing more queued' '
	before=$(member_msgs) &&
	cp demo/spool/queue/msg/$(ls demo/spool/queue/msg | head -1) /dev/null &&
	request2 a-ok request-id=a-ok sent=2026-11-21T11:59:00+09:00 type=approve \
		alert=A2026-000001 &&
	request2 a-again request-id=a-again sent=2026-11-21T11:59:00+09:00 type=approve \
		alert=A2026-000001 &&
	mimamori --now $LATE_OK dispatch >out &&
	grep -q "rejected inbox/new/a-ok: .*replay of a request seen on 2026-11-21" out &&
	grep -q "rejected inbox/new/a-again: alert A2026-000001 is not waiting for approval (it is open)" out &&
	test $(member_msgs) = $before
'

test_expect_success 'an approval one second after the 2 hours: rejected, then closed unsent' '
	request l1 request-id=l1 registration= name-kana="なだ　かずお" birth-date=1938-11-23 \
		requester-name= requester-relationship= area=nada police-station=police-nada &&
	mimamori --now $HOLD dispatch >out &&
	id=$(sed -n "s/^accepted inbox\/new\/l1 \(A2026-[0-9]*\) 0 held$/\1/p" out) &&
	test -n "$id" && echo $id >late-id &&
	before=$(member_msgs) &&
	request2 a-late request-id=a-late sent=2026-11-21T12:00:00+09:00 type=approve alert=$id &&
	mimamori --now $LATE dispatch >out &&
	grep -q "rejected inbox/new/a-late: alert $id was held at 2026-11-21T10:00:00+09:00: approvals are taken for 2 hours only" out &&
	grep -q "^not-approved $id\$" out &&
	test $(member_msgs) = $before
'

test_expect_success 'the audit log has held and approved, without personal data' '
	cat demo/spool/audit/* >audit &&
	grep -q "$(printf "\theld\talert=A2026-000001 ")" audit &&
	grep -q "$(printf "\tapproved\talert=A2026-000001 operator=%s" $(cat k2))" audit &&
	! grep -q "神戸\|こうべ\|1941" audit
'

test_expect_success 'withdraw before approval (another person): dropped, no member mail, no feed' '
	rm -f demo/spool/queue/env/* demo/spool/queue/msg/* &&
	request w-h1 request-id=w-h1 registration= name-kana="なだ　かずお" birth-date=1938-11-23 \
		requester-name= requester-relationship= area=nada police-station=police-nada &&
	mimamori --now $LATE_OK dispatch >out &&
	id=$(sed -n "s/^accepted inbox\/new\/w-h1 \(A2026-[0-9]*\) 0 held$/\1/p" out) &&
	test -n "$id" &&
	request w-h2 request-id=w-h2 registration= name-kana="なだ　かずお" birth-date=1938-11-23 \
		requester-name= type=withdraw status= &&
	mimamori --now $LATE_OK dispatch >out &&
	echo "accepted inbox/new/w-h2 $id 0" >expect &&
	test_cmp expect out &&
	test $(member_msgs) = 0 &&
	last_reply ops@vendor.example.jp demo/operator/gnupg &&
	grep -q "withdrawn before approval: nothing was sent to anyone" reply.txt &&
	! test -f demo/spool/feed/$id.1.xml &&
	request2 a-drop request-id=a-drop sent=2026-11-21T11:59:00+09:00 type=approve alert=$id &&
	mimamori --now $LATE_OK dispatch >out &&
	grep -q "rejected inbox/new/a-drop: alert $id is not waiting for approval (it is closed)" out
'

test_expect_success 'an exercise needs no approval: sent at once, approving it is refused' '
	rm -f demo/spool/queue/env/* demo/spool/queue/msg/* &&
	request x1 request-id=x1 registration= name-kana="なだ　かずお" birth-date=1938-11-23 \
		requester-name= requester-relationship= area=nada police-station=police-nada \
		status=exercise &&
	mimamori --now $LATE_OK dispatch >out &&
	id=$(sed -n "s/^accepted inbox\/new\/x1 \(A2026-[0-9]*\) \([0-9]*\)$/\1/p" out) &&
	test -n "$id" &&
	test $(member_msgs) -gt 0 &&
	request2 a-x request-id=a-x sent=2026-11-21T11:59:00+09:00 type=approve alert=$id &&
	mimamori --now $LATE_OK dispatch >out &&
	grep -q "rejected inbox/new/a-x: alert $id is not waiting for approval (it is an exercise, open)" out
'

test_done
