#!/bin/sh
# dispatch reads requests as ordinary mail clients send them (PGP/MIME
# from Thunderbird, mutt, Outlook): a greeting and a signature block,
# quoted-printable, format=flowed, the form as an attachment, protected
# headers and multipart/alternative, Shift_JIS and ISO-2022-JP; request-id
# and sent left out; inline PGP refused; every failure reported; replies
# threaded to the request. Synthetic data only.
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"

# form NAME [k=v|k=]...: the default alert form (as request does) in form.NAME
form() {
	name=$1
	shift
	{
		printf '%s\n' "request-id=$name" "sent=2026-11-21T09:40:00+09:00" \
			"type=alert" "status=actual" "registration=R2026-000003" \
			"requester-name=神戸 太郎" "requester-relationship=長男" \
			"police-station=police-ikuta" "police-report-at=2026-11-21T09:30:00+09:00" \
			"missing-since=2026-11-21T07:00:00+09:00" "last-seen=三宮センター街 東口付近" \
			"clothing=紺色のジャンパー、灰色のズボン" "belongings=茶色の手提げかばん"
		for kv in "$@"; do printf '%s\n' "$kv"; done
	} | awk -F= '{ k = $1; v = substr($0, length(k) + 2); if (!(k in val)) order[n++] = k; val[k] = v }
		END { for (i = 0; i < n; i++) if (val[order[i]] != "") printf "%s: %s\n", order[i], val[order[i]] }' \
		>"form.$name"
}

# client STYLE NAME [k=v...]: a client's mail in inbox/new/NAME
client() {
	style=$1
	name=$2
	shift 2
	dispatch_keys &&
	form "$name" "$@" &&
	$MAILTOOL client "$style" "form.$name" demo/operator/gnupg "$OP" \
		"demo/spool/inbox/new/$name" "$name.1@vendor.example.jp"
}

# accept NAME: dispatch accepts inbox/new/NAME; its alert id in ALERT
accept() {
	mimamori --now $NOW dispatch >out 2>err &&
	grep "^accepted inbox/new/$1 A2026-" out >line || { cat out err; return 1; }
	ALERT=$(cut -d" " -f3 line)
}

# reject NAME 'REASON'...: dispatch rejects inbox/new/NAME with each reason
reject() {
	name=$1
	shift
	mimamori --now $NOW dispatch >out 2>err &&
	grep "^rejected inbox/new/$name: " out >line || { cat out err; return 1; }
	for r in "$@"; do
		grep -q -F -- "$r" line || { echo "no '$r' in: $(cat line)"; return 1; }
	done
}

# The alert's queued text (the copy for the helpers).
alert_text() {
	for e in demo/spool/queue/env/*; do
		if grep -q "^alert $1\$" "$e" && grep -q "^report " "$e"; then
			$MAILTOOL show demo/spool/queue/msg/$(basename "$e") | tr -d "\r"
			return
		fi
	done
}

# The last queued reply to the operator (decrypted in reply.txt, outer
# headers, decoded, in reply.hdr).
last_reply() {
	e=
	for f in $(ls -t demo/spool/queue/env/*); do
		if grep -q -x "rcpt ops@vendor.example.jp" $f && ! grep -q "^report " $f; then
			e=$f
			break
		fi
	done
	test -n "$e" &&
	$MAILTOOL headers demo/spool/queue/msg/$(basename $e) >reply.hdr &&
	$MAILTOOL reply demo/spool/queue/msg/$(basename $e) demo/operator/gnupg >reply.txt
}

# The alert has every circumstance, each on its own line.
alert_complete() {
	alert_text $1 >alert.txt &&
	grep -q -x "服装: 紺色のジャンパー、灰色のズボン" alert.txt &&
	grep -q -x "所持品: 茶色の手提げかばん" alert.txt &&
	grep -q -x "最後に見かけた場所: 三宮センター街 東口付近" alert.txt ||
	{ echo "incomplete alert:"; cat alert.txt; return 1; }
}

# Withdraw the open alert, so the next alert for the person may be made.
close_alert() {
	request close$1 type=withdraw &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^accepted inbox/new/close$1 " out
}

# No personal value of the request in a reason.
no_personal() {
	for v in 神戸 太郎 長男 090 かばん 運動靴 こうべ はなこ 1941; do
		! grep -q -F "$v" "$@" || { echo "'$v' in: $(cat "$@")"; return 1; }
	done
}

test_expect_success 'setup: demo installation, samples taken in' '
	dispatch_setup
'

test_expect_success 'greeting and signature block: accepted, the reply counts 5 ignored lines' '
	client greeting g1 &&
	accept g1 &&
	alert_complete $ALERT &&
	last_reply &&
	grep -q "lines ignored (greeting, signature): 5" reply.txt &&
	grep -q "^Subject: .*g1" reply.hdr &&
	close_alert 1
'

test_expect_success 'quoted-printable body: accepted' '
	client qp q1 &&
	accept q1 &&
	alert_complete $ALERT &&
	close_alert 2
'

test_expect_success 'format=flowed with a trailing space before a field: both fields kept' '
	client flowed fl1 &&
	grep -q "ズボン $(printf "\\r")\$" demo/spool/inbox/new/fl1 &&
	accept fl1 &&
	alert_complete $ALERT &&
	close_alert 3
'

test_expect_success 'the case that lost belongings: clothing ends in 運動靴 and a space' '
	client flowed fl2 clothing="紺色のジャンパー、灰色のズボン、白い運動靴" &&
	grep -q "白い運動靴 $(printf "\\r")\$" demo/spool/inbox/new/fl2 &&
	accept fl2 &&
	alert_text $ALERT >alert.txt &&
	grep -q -x "服装: 紺色のジャンパー、灰色のズボン、白い運動靴" alert.txt &&
	grep -q -x "所持品: 茶色の手提げかばん" alert.txt &&
	close_alert 4
'

test_expect_success 'format=flowed; delsp=yes, and flowed without trailing spaces' '
	client flowed-delsp fd1 &&
	accept fd1 &&
	alert_complete $ALERT &&
	close_alert 5 &&
	client flowed-plain fp1 &&
	accept fp1 &&
	alert_complete $ALERT &&
	close_alert 6
'

test_expect_success 'the form as a .txt attachment under a cover note: accepted' '
	client attachment at1 &&
	accept at1 &&
	alert_complete $ALERT &&
	close_alert 7
'

test_expect_success 'protected headers and multipart/alternative: the text/plain part is read' '
	client alternative al1 &&
	accept al1 &&
	alert_complete $ALERT &&
	close_alert 8
'

test_expect_success 'Shift_JIS and ISO-2022-JP bodies: accepted' '
	client sjis sj1 &&
	accept sj1 &&
	alert_complete $ALERT &&
	close_alert 9 &&
	client iso2022jp jp1 &&
	accept jp1 &&
	alert_complete $ALERT &&
	close_alert 10
'

test_expect_success 'inline PGP: rejected with its reason, the operator is told' '
	client inline in1 &&
	reject in1 "inline PGP is not accepted: send the form as PGP/MIME (RFC 3156)" &&
	grep -q -F "inline PGP is not accepted: send the form as PGP/MIME (RFC 3156)" \
		demo/spool/rejected/in1.reason &&
	test "$(sed "s/^rejected inbox\/new\/in1: //" line)" = \
		"inline PGP is not accepted: send the form as PGP/MIME (RFC 3156)"
'

test_expect_success 'no request-id and no sent: accepted, the id is the hash of the signed entity' '
	client greeting nid request-id= sent= &&
	! grep -q "request-id\|sent" form.nid &&
	cp demo/spool/inbox/new/nid again.eml &&
	id=$($MAILTOOL entity demo/spool/inbox/new/nid | sha256sum | cut -c1-32) &&
	accept nid &&
	alert_complete $ALERT &&
	last_reply &&
	grep -q "^Subject: .*$id" reply.hdr &&
	grep -q "$id" reply.txt &&
	close_alert 11
'

test_expect_success 'the same mail again: a replay' '
	cp again.eml demo/spool/inbox/new/nid2 &&
	reject nid2 "replay of a request seen on 2026-11-21" &&
	last_reply &&
	grep -q "^Subject: .*$id" reply.hdr
'

test_expect_success 'empty request-id and sent lines count as left out' '
	client greeting emp &&
	sed -i "s/^request-id:.*/request-id:/; s/^sent:.*/sent:/" form.emp &&
	$MAILTOOL client greeting form.emp demo/operator/gnupg "$OP" \
		demo/spool/inbox/new/emp "emp.1@vendor.example.jp" &&
	accept emp &&
	close_alert 12
'

test_expect_success 'a bad sent and a bad police station: both in the reply, no personal data' '
	client greeting bad1 sent=yesterday police-station=police-nowhere \
		name-kana="こうべ はなこ" birth-date=1941-99-99 &&
	reject bad1 "<sent>" "police-station" "<birth-date>" &&
	grep -q -F "'"'police-station'"' is not a configured police station" line &&
	no_personal line demo/spool/rejected/bad1.reason &&
	last_reply &&
	grep -q "<sent>" reply.txt &&
	grep -q "police-station" reply.txt &&
	grep -q "lines ignored (greeting, signature): 5" reply.txt
'

test_expect_success 'the reply names the request in In-Reply-To and References' '
	grep -q -x "In-Reply-To: <bad1.1@vendor.example.jp>" reply.hdr &&
	grep -q -x "References: <bad1.1@vendor.example.jp>" reply.hdr &&
	grep -q "^Subject: .*bad1" reply.hdr
'

test_expect_success 'a malformed or overlong Message-ID is not repeated' '
	dispatch_keys &&
	form long1 type=found &&
	long=$(printf "%0250d" 0)@vendor.example.jp &&
	$MAILTOOL client greeting form.long1 demo/operator/gnupg "$OP" \
		demo/spool/inbox/new/long1 "$long" &&
	reject long1 "no alert is open" &&
	last_reply &&
	! grep -q "^In-Reply-To:\|^References:" reply.hdr &&
	form nat1 type=found &&
	$MAILTOOL client greeting form.nat1 demo/operator/gnupg "$OP" \
		demo/spool/inbox/new/nat1 "no-at-sign" &&
	reject nat1 "no alert is open" &&
	last_reply &&
	! grep -q "^In-Reply-To:\|^References:" reply.hdr
'

test_done
