#!/bin/sh
# mimamori-listmail(1) and mimamori-members(1): the sealed member store,
# subscribing and unsubscribing by mail with confirmation, forged
# confirmations, bounces (hard, soft, unparsable, not a member, forged
# without the probe), the probe that disables a member and tells the
# owner, a disabled member getting nothing, List-Id and the bounce
# envelope on alert copies, and `show ALERT-ID`.
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"

Q=demo/spool/queue
D=example.jp

# lmail NAME RCPT [FROM] < BODY: a mail as receive --list stores it.
lmail() {
	{ printf 'From: %s\nTo: %s\nSubject: x\nMessage-ID: <%s@t>\n\n' "${3:-new@helper.jp}" "$2" "$1"; cat; } |
	ORIGINAL_RECIPIENT=$2 mimamori receive --list >/dev/null
}

# dsn NAME RCPT ADDR STATUS ACTION [MSGID]: a DSN to RCPT about ADDR.
dsn() {
	printf 'From: MAILER-DAEMON@relay.jp\nTo: %s\nSubject: Undelivered\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary="b1"\n\n--b1\nContent-Type: text/plain\n\nfailed\n\n--b1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; relay.jp\n\nFinal-Recipient: rfc822; %s\nAction: %s\nStatus: %s\n\n--b1\nContent-Type: text/rfc822-headers\n\nMessage-ID: <%s>\nSubject: x\n\n--b1--\n' "$2" "$3" "$5" "$4" "${6:-none@x}" |
	ORIGINAL_RECIPIENT=$2 mimamori receive --list >/dev/null
}

confirm_addr() {
	# the Reply-To of the newest confirmation in the queue
	for e in $(ls -t $Q/env); do
		grep -q "^rcpt $1\$" $Q/env/$e || continue
		sed -n "s/^Reply-To: \(.*\)\r\$/\1/p" $Q/msg/$e | head -1
		return 0
	done
	return 1
}

test_expect_success 'setup: the demo, cooperators with an owner' '
	dispatch_setup &&
	sed -i "s|<list id=\"cooperators\" audience=\"community\" wards=\"\\*\" address=\"alert@example.jp\">|<list id=\"cooperators\" audience=\"community\" wards=\"*\" address=\"alert@example.jp\" owner=\"owner@example.jp\">|" demo/mimamori.xml &&
	grep -q "owner=\"owner@example.jp\"" demo/mimamori.xml &&
	mimamori --now $NOW check-config >/dev/null 2>&1
'

test_expect_success 'members import of 5,000 addresses; the store holds no address in clear' '
	{ echo "address,name,pledge,charset"; i=0; while [ $i -lt 5000 ]; do echo "h$i@docomo.ne.jp,協力者 $i,2026-04-01,"; i=$((i+1)); done; } >m.csv &&
	mimamori --now $NOW members import cooperators m.csv >out &&
	grep -x "imported 5000 member(s) into cooperators" out &&
	mimamori --now $NOW members list cooperators --csv >l &&
	head -1 l | grep -x "list,address,name,state,pledge,score" &&
	test $(grep -c ",active,2026-04-01,0$" l) = 5000 &&
	! grep -rq "docomo" demo/spool/members demo/spool/audit &&
	grep -q "member-import.*members=5000" demo/spool/audit/*
'

test_expect_success 'members import: a bad row rejects the import, naming its line only' '
	printf "address,name\nok@x.jp,a\nnot an address,b\n" >bad.csv &&
	test_expect_code 65 mimamori --now $NOW members import cooperators bad.csv 2>err &&
	grep "line 3: address" err && ! grep "not an address" err &&
	test $(mimamori --now $NOW members list cooperators | wc -l) = 5000
'

test_expect_success 'subscribe: a confirmation to the From: address naming ID+confirm-TOKEN' '
	echo hi | lmail s1 cooperators+subscribe@$D new@helper.jp &&
	mimamori --now $NOW listmail >out &&
	grep "done listbox/new/.*: subscribe: confirmation sent" out &&
	! grep "new@helper.jp" out demo/spool/audit/* &&
	c=$(confirm_addr new@helper.jp) && echo "$c" >c1 &&
	echo "$c" | grep -E "^cooperators\+confirm-[0-9a-f]{24}@example.jp$" &&
	grep -q "^sender cooperators+bounces@example.jp" $(grep -l "^rcpt new@helper.jp" $Q/env/*) &&
	test -z "$(ls demo/spool/inbox/new)"
'

test_expect_success 'forged confirmations: wrong token, token of another list' '
	echo x | lmail f1 cooperators+confirm-0123456789abcdef01234567@$D &&
	tok=$(sed "s/.*confirm-\([0-9a-f]*\)@.*/\1/" c1) &&
	echo x | lmail f2 agencies-chuo+confirm-$tok@$D &&
	mimamori --now $NOW listmail >out &&
	test $(grep -c "^rejected listbox/new/.*unknown or used confirmation token" out) = 2 &&
	mimamori --now $NOW members list cooperators | grep -c helper.jp >n; test "$(cat n)" = 0
'

test_expect_success 'confirm: the subscriber is pending until the pledge, then active' '
	echo x | lmail c1 "$(cat c1)" someone@else.jp &&
	mimamori --now $NOW listmail >out &&
	grep "confirm: subscribed (pending)" out &&
	mimamori --now $NOW members list cooperators | grep "^cooperators new@helper.jp pending" &&
	echo x | lmail c2 "$(cat c1)" &&
	mimamori --now $NOW listmail >out &&
	grep "rejected .*unknown or used confirmation token" out &&
	mimamori --now $NOW members pledge cooperators new@helper.jp 2026-11-01 >out &&
	grep "(active)" out
'

test_expect_success 'an expired confirmation token is refused' '
	echo hi | lmail s2 cooperators+subscribe@$D late@helper.jp &&
	mimamori --now $NOW listmail >/dev/null &&
	c=$(confirm_addr late@helper.jp) &&
	echo x | lmail c3 "$c" &&
	mimamori --now 2026-12-01T10:00:00+09:00 listmail >out &&
	grep "rejected .*has expired\|rejected .*unknown or used" out &&
	! mimamori --now $NOW members list cooperators | grep late@
'

test_expect_success 'unsubscribe: from a non-member nothing; from a member after confirming' '
	echo x | lmail u0 cooperators+unsubscribe@$D stranger@x.jp &&
	mimamori --now $NOW listmail >out &&
	grep "unsubscribe: not a member, nothing changed" out &&
	! grep -rq "stranger@x.jp" $Q/env &&
	echo x | lmail u1 cooperators+unsubscribe@$D new@helper.jp &&
	mimamori --now $NOW listmail >out &&
	grep "unsubscribe: confirmation sent" out &&
	c=$(confirm_addr new@helper.jp) &&
	echo x | lmail u2 "$c" &&
	mimamori --now $NOW listmail >out &&
	grep "confirm: unsubscribed" out &&
	mimamori --now $NOW members list cooperators | grep "^cooperators new@helper.jp removed"
'

test_expect_success 'a signed request sent to a list address never reaches dispatch' '
	request r0 area= && mv demo/spool/inbox/new/r0 req.eml &&
	{ printf "X-Mimamori-Recipient: cooperators+subscribe@example.jp\n"; cat req.eml; } >demo/spool/listbox/new/r0 &&
	mimamori --now $NOW listmail >out &&
	grep "listbox/new/r0" out &&
	test -z "$(ls demo/spool/inbox/new)"
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

test_expect_success 'an alert: copies per list with List-Id, List-Unsubscribe, bounce envelope; the disabled member gets nothing' '
	rm -f $Q/env/* $Q/msg/* &&
	request a1 area= &&
	mimamori --now $NOW dispatch >out &&
	grep "^accepted inbox/new/a1 A2026-000001 " out &&
	e=$(grep -l "^rcpt h1@docomo.ne.jp" $Q/env/*) &&
	grep -x "sender cooperators+bounces@example.jp" $e && grep -x "list cooperators" $e && grep -x "verp yes" $e &&
	m=$Q/msg/$(basename $e) &&
	grep -q "^List-Id: <cooperators.example.jp>" $m &&
	grep -q "^List-Unsubscribe: <mailto:cooperators+unsubscribe@example.jp>" $m &&
	! grep -rq "^rcpt h7@docomo.ne.jp" $Q/env &&
	! grep -rq "^rcpt new@helper.jp" $Q/env &&
	grep -l "^list agencies-chuo" $Q/env/* >/dev/null
'

test_expect_success 'show ALERT-ID: per list, counts and times, bounces counted by Message-ID' '
	mimamori --now $NOW deliver >/dev/null &&
	mid=$(sed -n "s/^Message-ID: <\(.*\)>\r*$/\1/p" $(ls demo/spool/mail/h3@docomo.ne.jp/new/* | head -1)) &&
	dsn b1 cooperators+bounces@$D h3@docomo.ne.jp 5.1.1 failed "$mid" &&
	mimamori --now $NOW listmail >/dev/null &&
	mimamori --now $NOW show A2026-000001 >show &&
	cat show &&
	grep -E "^list cooperators: 500[0-9] recipients, 500[0-9] sent, 0 failed, 0 deferred, 1 bounced; 50% in [0-9]+ s, 90% in [0-9]+ s, 100% in [0-9]+ s$" show &&
	grep -E "^list agencies-chuo: [0-9]+ recipients" show
'

test_done
