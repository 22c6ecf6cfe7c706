#!/bin/sh
# mimamori-dispatch(1) read literally, black box: the headers of every alert, update,
# found and withdraw mail; recipients once each; References; the police
# station's phone from the config; 【訓練】 in every mail of an exercise;
# ISO-2022-JP only where it can carry the text; nothing from a field in a
# header; the reply to the configured operator; local delivery modes (§5).
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"

Q=demo/spool/queue

# The header block of a queued message (CRLF removed, unfolded).
headers_of() {
	sed -n '1,/^\r\{0,1\}$/p' "$1" | tr -d '\r' |
		awk '/^[ \t]/ { h = h $0; next } { if (h != "") print h; h = $0 } END { if (h != "") print h }'
}

# The queued copies of alert $1 for helpers (their envelopes carry "report").
copies_of() {
	for e in $Q/env/*; do
		grep -q "^alert $1\$" "$e" && grep -q "^report " "$e" && echo "$Q/msg/$(basename "$e")"
	done
	return 0
}

# Check the header list of mimamori-dispatch(1) on message $1; $2 = charset expected.
check_headers() {
	headers_of "$1" >h &&
	test "$(grep -c "^From: " h)" = 1 &&
	grep -q "^From: .*<alerts@example.jp>\$" h &&
	test "$(grep -c "^To: " h)" = 1 &&
	{ grep -qx "To: undisclosed-recipients:;" h || grep -qx "To: alert[-a-z]*@example.jp" h; } &&
	! grep -qi "^cc:" h && ! grep -qi "^bcc:" h &&
	test "$(grep -c "^Subject: " h)" = 1 &&
	grep -q "^Subject: =?$2?[BbQq]?" h &&
	! grep "^Subject: " h | LC_ALL=C grep -q "[^ -~]" &&
	grep -Eq "^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\$" h &&
	test "$(grep -c "^Message-ID: <[^<>@ ]*@[^<> ]*>\$" h)" = 1 &&
	grep -qx "MIME-Version: 1.0" h &&
	grep -Eqi "^Content-Type: text/plain; charset=\"?$2\"?\$" h &&
	grep -qx "Auto-Submitted: auto-generated" h &&
	grep -Eqx "List-Id: <[a-z-]+\.example\.jp>" h &&
	grep -Eqx "List-Unsubscribe: <mailto:[a-z-]+\+unsubscribe@example\.jp>" h
}

# No recipient address of envelope $1 in any header of its message.
no_rcpt_in_headers() {
	m=$Q/msg/$(basename "$1")
	headers_of "$m" >h &&
	for r in $(sed -n "s/^rcpt //p" "$1"); do
		! grep -qiF -- "$r" h || { echo "$r in a header of $m"; return 1; }
	done
}

test_expect_success 'setup: demo installation with the samples taken in' '
	dispatch_setup
'

test_expect_success 'an alert: every copy has exactly the headers of mimamori-dispatch(1)' '
	request a1 area= &&
	mimamori --now $NOW dispatch >out &&
	grep -x "accepted inbox/new/a1 A2026-000001 7" out &&
	copies_of A2026-000001 >copies &&
	# one copy per (list, charset): three lists, one member asks for ISO-2022-JP
	test $(wc -l <copies) = 4 &&
	for m in $(cat copies); do
		if grep -q "^rcpt helper2@example.jp" $Q/env/$(basename $m); then cs=ISO-2022-JP; else cs=UTF-8; fi &&
		check_headers $m $cs || { echo "headers of $m:"; cat h; return 1; }
	done
'

test_expect_success 'no header of any queued mail names one of its recipients' '
	for e in $Q/env/*; do
		grep -q "^report " $e || continue
		no_rcpt_in_headers $e || return 1
	done
'

test_expect_success 'each recipient once: envelopes hold no address twice' '
	for a in A2026-000001; do
		rcpts_of $a >r && test "$(sort r | uniq -d)" = "" && test $(wc -l <r) = 7 || return 1
	done
'

test_expect_success 'the body: circumstances, description, police name and phone, the use line' '
	queue_dump >dump &&
	grep -q "2026年11月21日 7時00分" dump &&
	grep -q "三宮センター街 東口付近" dump &&
	grep -q "紺色のジャンパー、灰色のズボン" dump &&
	grep -q "茶色の手提げかばん" dump &&
	grep -q "生田警察署" dump && grep -q "078-000-0110" dump &&
	grep -q "捜索のためだけに使い" dump && grep -q "削除" dump
'

test_expect_success 'notes reach the body' '
	request n1 registration=R2026-000002 requester-name= police-station=police-nada notes=赤い傘を持っている &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^accepted inbox/new/n1 A2026-000002 " out &&
	queue_dump >dump &&
	grep -q "赤い傘を持っている" dump &&
	grep -q "灘警察署" dump && grep -q "078-000-0119" dump
'

test_expect_success 'police station given by its exact name: the phone still comes from the config' '
	sed -i "s|phone=\"078-000-0110\"|phone=\"078-999-0110\"|" demo/mimamori.xml &&
	request p1 registration=R2026-000001 requester-name= police-station=生田警察署 &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^accepted inbox/new/p1 A2026-000003 " out &&
	for m in $(copies_of A2026-000003); do
		grep -q "078-999-0110" $m || { echo "no configured phone in $m"; return 1; }
	done
'

test_expect_success 'update goes to exactly the open alert recipients with References to it' '
	request u1 type=update clothing=白い帽子 &&
	mimamori --now $NOW dispatch >out &&
	grep -x "accepted inbox/new/u1 A2026-000001 7" out &&
	# The queue ids are random: the first copy in the queue may be the update.
	orig= &&
	for m in $(copies_of A2026-000001); do
		headers_of $m >h
		grep -q "^References: " h && continue
		orig=$(sed -n "s/^Message-ID: //p" h) && break
	done &&
	test -n "$orig" &&
	n=0 &&
	for m in $(copies_of A2026-000001); do
		headers_of $m >h
		grep -q "^References: " h || continue
		grep -qF "References: $orig" h || { cat h; return 1; }
		n=$((n + 1))
		if grep -qxF "Message-ID: $orig" h; then echo "same Message-ID"; return 1; fi
		if grep -q "^rcpt helper2@example.jp" $Q/env/$(basename $m); then cs=ISO-2022-JP; else cs=UTF-8; fi
		check_headers $m $cs || { cat h; return 1; }
	done &&
	test $n = 4
'

test_expect_success 'a second alert for the same person is refused while one is open' '
	request a1b &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^rejected inbox/new/a1b: " out
'

test_expect_success 'withdraw closes the alert: its copies carry References, a later update is refused' '
	request w1 type=withdraw &&
	mimamori --now $NOW dispatch >out &&
	grep -x "accepted inbox/new/w1 A2026-000001 7" out &&
	test $(for m in $(copies_of A2026-000001); do headers_of $m | grep -c "^References: "; done | paste -sd+ | bc) = 8 &&
	request u2 type=update clothing=x &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^rejected inbox/new/u2: " out
'

test_expect_success 'an exercise says 【訓練】 in the subject and body of alert, update and found' '
	request x1 registration=R2026-000002 requester-name= police-station=police-nada status=exercise &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^rejected inbox/new/x1: " out &&
	request f0 type=found registration=R2026-000002 requester-name= police-station=police-nada &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^accepted inbox/new/f0 A2026-000002 " out &&
	request x2 registration=R2026-000002 requester-name= police-station=police-nada status=exercise &&
	request xu registration=R2026-000002 requester-name= police-station=police-nada status=exercise type=update clothing=青い帽子 &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^accepted inbox/new/x2 A2026-000004 " out &&
	grep -q "^accepted inbox/new/xu A2026-000004 " out &&
	request xf registration=R2026-000002 requester-name= police-station=police-nada status=exercise type=found &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^accepted inbox/new/xf A2026-000004 " out &&
	queue_dump >dump &&
	awk "/^== /{ a = 0; s = 0 } /^alert A2026-000004/{ a = 1 } /^report /{ s = 1 } a && s && /^Subject: /{ print }" dump >subjects &&
	# one copy per (list, charset) of each of the three mails
	test $(wc -l <subjects) -ge 3 &&
	! grep -v "^Subject: 【訓練】" subjects &&
	awk "/^== /{ a = 0; s = 0 } /^alert A2026-000004/{ a = 1 } /^report /{ s = 1 } a && s && /^Subject: /{ b = 1; n++; next } b && /^== /{ b = 0 } b && /【訓練】/ { c[n] = 1 } END { for (i = 1; i <= n; i++) if (!c[i]) { print \"no mark in body \" i; exit 1 } }" dump
'

test_expect_success 'an exercise: the reply to the operator says 【訓練】 too (every mail)' '
	for e in $(grep -l "^alert A2026-000004" $Q/env/*); do
		grep -q "^report " $e && continue
		m=$Q/msg/$(basename $e)
		$MAILTOOL reply $m demo/operator/gnupg >reply.txt || return 1
		python3 -c "
import email,sys
from email import policy
m=email.message_from_bytes(open(sys.argv[1],\"rb\").read(),policy=policy.default)
print(m[\"Subject\"])" $m >subj &&
		grep -q "【訓練】" subj || { cat subj reply.txt; return 1; }
	done
'

test_expect_success 'text ISO-2022-JP cannot carry goes out as UTF-8 to the member who asked for it' '
	request k1 registration=R2026-000003 clothing=𠮷の字のシャツ &&
	mimamori --now $NOW dispatch >out &&
	id=$(sed -n "s/^accepted inbox\/new\/k1 \(A[0-9-]*\) .*/\1/p" out) &&
	test -n "$id" &&
	for m in $(copies_of $id); do
		check_headers $m UTF-8 || { cat h; return 1; }
	done &&
	rcpts_of $id | grep -qx helper2@example.jp
'

test_expect_success 'a line break in a form value reaches no header' '
	dispatch_keys &&
	printf "%s\n" "request-id: brk1" " Bcc: evil@example.org" "sent: 2026-11-21T09:40:00+09:00" \
		"type: withdraw" "status: actual" "registration: R2026-000003" \
		"requester-name: 神戸 太郎" "police-station: police-ikuta" \
		"police-report-at: 2026-11-21T09:30:00+09:00" >form.brk &&
	mimamori request-mail --gnupg-home demo/operator/gnupg --key "$OP" --from ops@vendor.example.jp \
		--to alerts@example.jp --form form.brk -o demo/spool/inbox/new/brk1 &&
	mimamori --now $NOW dispatch >out &&
	grep "inbox/new/brk1" out &&
	for m in $Q/msg/*; do
		if headers_of $m | grep -i "^bcc:\|evil@example.org"; then echo "in $m"; return 1; fi
	done &&
	! grep -rq "evil@example.org" $Q/env
'

test_expect_success 'replies go to the configured operator address, not the From: of the request' '
	request --from someone@example.org a9 registration=R2026-000003 type=withdraw &&
	mimamori --now $NOW dispatch >out &&
	grep "inbox/new/a9" out &&
	! grep -rq "someone@example.org" $Q/env
'

test_expect_success 'every helper copy queued (alert, update, found, withdraw) has the §9 headers' '
	n=0 &&
	for e in $Q/env/*; do
		grep -q "^report " $e || continue
		m=$Q/msg/$(basename $e)
		if grep -q "charset=ISO-2022-JP" $m; then cs=ISO-2022-JP; else cs=UTF-8; fi
		check_headers $m $cs || { echo "$m:"; cat h; return 1; }
		no_rcpt_in_headers $e || return 1
		n=$((n + 1))
	done &&
	test $n -ge 12
'

test_expect_success 'local delivery: mail/<address>/{tmp,new,cur}, files 0600, folders 0700' '
	mimamori --now $NOW deliver >out &&
	for a in helper1@example.jp helper2@example.jp ward-chuo@example.jp ops@vendor.example.jp; do
		for d in tmp new cur; do
			test -d demo/spool/mail/$a/$d || { echo "no $a/$d"; return 1; }
		done
	done &&
	find demo/spool -type f ! -perm 600 >bad &&
	find demo/spool -type d ! -perm 700 >>bad &&
	! test -s bad
'

test_expect_success 'the audit log: accept, queued, sent, closed, no personal data; verifies' '
	L=demo/spool/audit/audit.log &&
	grep -P "\tdispatch\taccept\t" $L && grep -P "\tdispatch\treject\t" $L &&
	grep -P "\tdispatch\tqueued\t" $L && grep -P "\tdispatch\tclosed\t" $L &&
	grep -P "\tdeliver\tsent\t" $L &&
	for s in 神戸 こうべ 花子 三宮 紺色 078-000 090-0000 helper1@ evil; do
		! grep -F "$s" $L || return 1
	done &&
	mimamori audit verify
'

test_done
