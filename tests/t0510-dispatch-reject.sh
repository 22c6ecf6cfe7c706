#!/bin/sh
# dispatch rejects every bad request with every reason, moves it to
# rejected/ with NAME.reason, tells the configured operator (never the
# From: of the request) and queues nothing for the helpers.
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"

# Messages queued for helpers (alert copies carry a "report" line).
helper_copies() {
	grep -l "^report " demo/spool/queue/env/* 2>/dev/null | wc -l
}

# dispatch NAME 'REASON' [ALSO...]: dispatch rejects inbox/new/NAME with a
# reason holding each string, keeps it in rejected/, queues no helper copy.
expect_reject() {
	name=$1
	shift
	before=$(helper_copies) &&
	mimamori --now ${WHEN:-$NOW} dispatch >out 2>err &&
	grep "^rejected inbox/new/$name: " out >line &&
	test $(wc -l <out) = 1 &&
	for r in "$@"; do
		grep -q -F -- "$r" line || { echo "no '$r' in: $(cat line)"; return 1; }
		grep -q -F -- "$r" demo/spool/rejected/$name.reason || return 1
	done &&
	test -f demo/spool/rejected/$name &&
	test_path_is_missing demo/spool/inbox/new/$name &&
	test -z "$(ls demo/spool/work/dispatch)" &&
	test "$(helper_copies)" = "$before"
}

# The last queued reply is to the operator's configured address and
# lists the reason.
expect_reply() {
	e=$(ls -t demo/spool/queue/env/* | head -1) &&
	test "$(sed -n "s/^rcpt //p" $e)" = ops@vendor.example.jp &&
	! grep -q "^report " $e &&
	$MAILTOOL reply demo/spool/queue/msg/$(basename $e) demo/operator/gnupg >reply.txt &&
	for r in "$@"; do
		grep -q -F -- "$r" reply.txt || { echo "no '$r' in reply"; cat reply.txt; return 1; }
	done
}

test_expect_success 'setup: demo installation, samples taken in, an open alert' '
	dispatch_setup &&
	request open1 &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^accepted inbox/new/open1 A2026-000001 7" out
'

test_expect_success 'unsigned: rejected, the operator is told' '
	request u1 && dispatch_keys &&
	python3 -c "
import re,sys
raw=open(sys.argv[1],\"rb\").read()
b=re.search(rb\"boundary=\\\"([^\\\"]+)\\\"\", raw).group(1)
head=raw[:raw.index(b\"\\r\\n\\r\\n\")]
head=re.sub(rb\"Content-Type: multipart/signed;[^\\r]*(\\r\\n[ \\t][^\\r]*)*\", b\"Content-Type: text/plain; charset=UTF-8\", head)
s=raw.index(b\"--\"+b+b\"\\r\\n\")+len(b)+4
e=raw.index(b\"\\r\\n--\"+b, s)
part=raw[s:e]
body=part[part.index(b\"\\r\\n\\r\\n\")+4:]
open(sys.argv[1],\"wb\").write(head.replace(b\"MIME-Version\", b\"Content-Transfer-Encoding: quoted-printable\\r\\nMIME-Version\")+b\"\\r\\n\\r\\n\"+body)
" demo/spool/inbox/new/u1 &&
	! grep -q "PGP" demo/spool/inbox/new/u1 &&
	expect_reject u1 "not signed" &&
	expect_reply "not signed"
'

test_expect_success 'unsigned with a forged From: rejected, nobody is told' '
	sed "s/^From: .*/From: someone@example.org\r/" demo/spool/rejected/u1 >demo/spool/inbox/new/u2 &&
	n=$(ls demo/spool/queue/env | wc -l) &&
	expect_reject u2 "not signed" &&
	test $(ls demo/spool/queue/env | wc -l) = $n &&
	! grep -rq "someone@example.org" demo/spool/queue/env
'

test_expect_success 'signed by a key that is not an operator key: rejected' '
	rm -rf op2 && cp -a demo/operator/gnupg op2 && find op2 -name "S.*" -delete &&
	gpg --homedir op2 --batch --passphrase "" --quick-gen-key "second <second@example.org>" future-default default never 2>/dev/null &&
	K2=$(gpg --homedir op2 --with-colons --list-keys second@example.org | awk -F: "/^fpr/ { print \$10; exit }") &&
	echo $K2 >k2 &&
	mimamori request-mail --gnupg-home op2 --key $K2 \
		--from ops@vendor.example.jp --to alerts@example.jp --form form.open1 \
		-o demo/spool/inbox/new/k1 &&
	expect_reject k1 "not a configured operator" &&
	expect_reply "not a configured operator"
'

test_expect_success 'two signatures (the operator and another key): rejected' '
	dispatch_keys &&
	request t1 request-id=t1 registration=R2026-000002 requester-name= police-station=police-nada &&
	$MAILTOOL resign demo/spool/inbox/new/t1 op2 $OP $(cat k2) &&
	gpgconf --homedir op2 --kill gpg-agent &&
	expect_reject t1 "2 signatures" &&
	expect_reply "2 signatures"
'

test_expect_success 'signed text altered after signing: rejected' '
	request t2 registration=R2026-000002 requester-name= police-station=police-nada &&
	$MAILTOOL alter demo/spool/inbox/new/t2 &&
	expect_reject t2 "bad signature" &&
	expect_reply "bad signature"
'

test_expect_success 'encrypted but not signed: rejected' '
	dispatch_keys &&
	request t3 registration=R2026-000002 requester-name= police-station=police-nada &&
	$MAILTOOL encrypt-only demo/spool/inbox/new/t3 demo/operator/gnupg $NODE &&
	grep -q "multipart/encrypted" demo/spool/inbox/new/t3 &&
	expect_reject t3 "not signed" &&
	expect_reply "not signed"
'

test_expect_success 'a replayed request (same mail again): rejected' '
	cp form.open1 form.keep &&
	request r1 registration=R2026-000002 requester-name= police-station=police-nada &&
	cp demo/spool/inbox/new/r1 r1.copy &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^accepted inbox/new/r1 A2026-000002 " out &&
	cp r1.copy demo/spool/inbox/new/r1again &&
	expect_reject r1again "replay of a request seen on 2026-11-21" &&
	expect_reply "replay of a request seen on 2026-11-21"
'

test_expect_success 'sent 25 hours ago: rejected' '
	request s1 sent=2026-11-20T08:59:00+09:00 &&
	expect_reject s1 "more than 24 hours old" &&
	expect_reply "more than 24 hours old"
'

test_expect_success 'sent in the future: rejected' '
	request s2 sent=2026-11-21T12:00:00+09:00 &&
	expect_reject s2 "'"'"'sent'"'"' is in the future"
'

test_expect_success 'unknown registration: rejected' '
	request g1 registration=R2026-000099 &&
	expect_reject g1 "unknown registration '"'"'R2026-000099'"'"'"
'

test_expect_success 'expired registration (--now past its expiry): rejected' '
	request g2 sent=2028-11-02T09:40:00+09:00 police-report-at=2028-11-02T09:30:00+09:00 \
		missing-since=2028-11-02T07:00:00+09:00 &&
	WHEN=2028-11-02T10:00:00+09:00 expect_reject g2 "registration R2026-000003 expired on 2028-11-01"
'

test_expect_success 'cancelled registration: rejected' '
	sed "s/R2026-000001/R2026-000002/; s/2026-09-30/2026-11-10/" $DATA/registration/cancellation.xml >cancel.xml &&
	mimamori --now 2026-11-10 submit cancel.xml >/dev/null &&
	mimamori --now 2026-11-10 intake >out &&
	grep -q "^accepted incoming/cancel.xml R2026-000002" out &&
	request g3 registration=R2026-000002 requester-name= police-station=police-nada type=found &&
	expect_reject g3 "registration R2026-000002 was cancelled"
'

test_expect_success 'requester not listed: rejected' '
	request q1 requester-name="見知らぬ 人" &&
	expect_reject q1 "not one of the registration'"'"'s requesters"
'

test_expect_success 'requester matches after NFKC and without spaces' '
	request q2 requester-name="神戸　　太郎" type=update notes=追加情報 &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^accepted inbox/new/q2 A2026-000001 7" out
'

test_expect_success 'unknown police station: rejected' '
	request p1 registration=R2026-000001 requester-name= police-station=須磨警察署 &&
	expect_reject p1 "not a configured police station"
'

test_expect_success 'an agency that is not a police station is not one' '
	request p2 registration=R2026-000001 requester-name= police-station=ward-chuo &&
	expect_reject p2 "not a configured police station"
'

test_expect_success 'unknown key in the form: rejected, listed with the other failures' '
	dispatch_keys &&
	request k2 registration=R2026-000099 &&
	$MAILTOOL inject demo/spool/inbox/new/k2 "type: alert" "type: alert\\r\\nfavourite-food: x\\r\\ntype: update" demo/operator/gnupg $OP &&
	expect_reject k2 "line 4: unknown key" "duplicate key '"'"'type'"'"'" &&
	expect_reply "line 4: unknown key" &&
	! grep -F favourite-food demo/spool/rejected/k2.reason reply.txt
'

# A reason names the field and what is wrong, never a value of the person
# or of the requester: not on stdout or stderr, in the .reason, the reply
# or the audit log.
no_marker() {
	for f in out err demo/spool/rejected/$1.reason reply.txt demo/spool/audit/audit.log; do
		! grep -F -e "$2" "$f" || { echo "'$2' in $f"; return 1; }
	done
}

test_expect_success 'personal values in a request: the reason names the field, not the value' '
	request v1 birth-date=1941/04/01 name-kana=すま はるこ registration= &&
	expect_reject v1 "<birth-date>: not a valid date" && expect_reply "<birth-date>" &&
	no_marker v1 1941/04/01 && no_marker v1 "すま" &&
	request v2 requester-phone="Zq7x-$(printf "%0200d" 0)" &&
	expect_reject v2 "<requester-phone>: too long" && expect_reply "<requester-phone>" &&
	no_marker v2 Zq7x &&
	request v3 requester-name="$(printf "Kobe Qw8y%0200d" 0)" &&
	expect_reject v3 "<requester-name>: too long" && expect_reply "<requester-name>" &&
	no_marker v3 Qw8y &&
	request v4 name-kana="$(printf "%0300dKana Pl3k" 0)" birth-date=1941-04-01 registration= &&
	expect_reject v4 "<name-kana>: too long" && expect_reply "<name-kana>" &&
	no_marker v4 Pl3k &&
	request v5 &&
	$MAILTOOL inject demo/spool/inbox/new/v5 "type: alert" "type: alert\\r\\nKobe Hanako Mk9v: 090-0000-0001" demo/operator/gnupg $OP &&
	expect_reject v5 ": unknown key" && expect_reply "unknown key" &&
	no_marker v5 Mk9v
'

test_expect_success 'alert already open: rejected' '
	request o1 &&
	expect_reject o1 "an alert is already open for this registration (A2026-000001)" &&
	expect_reply "already open"
'

test_expect_success 'every failure is listed, not only the first' '
	request m1 registration=R2026-000099 sent=2026-11-19T09:00:00+09:00 police-station=x \
		police-report-at=2026-11-22T09:00:00+09:00 last-seen= &&
	expect_reject m1 "more than 24 hours old" "unknown registration" \
		"not a configured police station" "'"'"'police-report-at'"'"' is in the future" \
		"missing '"'"'last-seen'"'"'"
'

test_expect_success 'leak guard: the person phone typed into notes' '
	mimamori --now $NOW dispatch >/dev/null;
	request f1 type=found &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^accepted inbox/new/f1 A2026-000001 7" out &&
	request l1 notes="娘の携帯 090-0000-0001 に連絡を" &&
	expect_reject l1 "leak guard" "contains the person'"'"'s phone" &&
	! grep -q "090-0000-0001" demo/spool/rejected/l1.reason &&
	expect_reply "leak guard"
'

test_expect_success 'leak guard: the phone in full-width digits, the birth date in 和暦' '
	request l2 notes="連絡先 ０９０－００００－０００１" &&
	expect_reject l2 "contains the person'"'"'s phone" &&
	request l3 clothing="昭和16年4月1日生まれと書いた名札" &&
	expect_reject l3 "contains the person'"'"'s birth date" &&
	request l4 last-seen="加納町6-5-1の自宅前" &&
	expect_reject l4 "contains the person'"'"'s address" &&
	test -z "$(ls demo/spool/alerts | grep A2026-000003)" &&
	request l5 requester-phone=080-1234-5678 notes="連絡は080-1234-5678へ" &&
	expect_reject l5 "contains the requester'"'"'s phone"
'

# What the leak guard says: the kind of data and the field, never the value.
PS="the person's"

test_expect_success 'leak guard: the given name alone, the name-kana in half-width, romaji' '
	request l6 notes="花子さんは耳が遠い" &&
	expect_reject l6 "leak guard" "contains $PS given name in <notes>" &&
	! grep -q "花子" demo/spool/rejected/l6.reason &&
	expect_reply "$PS given name in <notes>" &&
	request l7 notes="ｺｳﾍﾞ ﾊﾅｺ" &&
	expect_reject l7 "$PS name-kana in <notes>" &&
	request l8 belongings="Hanako-san と書いたかばん" &&
	expect_reject l8 "$PS given name in romaji in <belongings>" &&
	request l9 notes="$(printf "神\342\200\213戸花子")" &&
	expect_reject l9 "$PS name in <notes>"
'

test_expect_success 'leak guard: era dates, 丁目 番 号, kanji digits, the care office' '
	request l10 clothing="S16/04/01と書いた名札" &&
	expect_reject l10 "$PS birth date in <clothing>" &&
	request l11 notes="昭和十六年四月一日生まれ" &&
	expect_reject l11 "$PS birth date in <notes>" &&
	request l12 last-seen="加納町6丁目5番1号の自宅前" &&
	expect_reject l12 "$PS address in <last-seen>" &&
	request l13 notes="携帯 〇九〇・〇〇〇〇・〇〇〇一" &&
	expect_reject l13 "$PS phone in <notes>" &&
	request l14 notes="中央みまもり居宅介護支援事業所の担当者が同行" &&
	expect_reject l14 "the care manager'"'"'s office in <notes>" &&
	for n in 10 11 12 13 14; do
		! grep -q -e "S16" -e "加納町" -e "〇九〇" -e "みまもり" demo/spool/rejected/l$n.reason ||
		return 1
	done
'

test_expect_success 'a CR LF Bcc: in clothing adds no recipient and no header' '
	dispatch_keys &&
	request b1 clothing=navy-jacket &&
	$MAILTOOL inject demo/spool/inbox/new/b1 "clothing: navy-jacket" "clothing: navy-jacket\\r\\nBcc: x@example.org" demo/operator/gnupg $OP &&
	expect_reject b1 ": unknown key" &&
	! grep -F -e Bcc -e x@example.org demo/spool/rejected/b1.reason &&
	! grep -rq "x@example.org" demo/spool/queue/env &&
	! grep -rqi "^Bcc:" demo/spool/queue/msg
'

test_expect_success 'an XML attachment with a DOCTYPE, or CR LF and an unknown element: rejected' '
	dispatch_keys &&
	$MAILTOOL xml demo/spool/inbox/new/x1 demo/operator/gnupg $OP $DATA/request/bad-doctype.xml &&
	expect_reject x1 "DOCTYPE" &&
	$MAILTOOL xml demo/spool/inbox/new/x2 demo/operator/gnupg $OP $DATA/request/bad-crlf.xml &&
	expect_reject x2 "request attachment" &&
	! grep -rq "x@example.org" demo/spool/queue/env
'

test_expect_success 'a forged From: on a signed request: the reply goes to the configured address' '
	request --from evil@example.org fr1 &&
	ls demo/spool/queue/env >before &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^accepted inbox/new/fr1 A2026-000003 7" out &&
	! grep -rq "evil@example.org" demo/spool/queue/env &&
	ls demo/spool/queue/env >after &&
	e=$(comm -13 before after | sed "s|^|demo/spool/queue/env/|") &&
	test "$(grep -L "^report " $e | wc -l)" = 1 &&
	test "$(sed -n "s/^rcpt //p" $(grep -L "^report " $e))" = ops@vendor.example.jp
'

test_expect_success 'too large, and not a mail at all: rejected' '
	head -c 1100000 /dev/zero | tr "\0" a >demo/spool/inbox/new/big &&
	expect_reject big "too large" &&
	printf "\001\002garbage" >demo/spool/inbox/new/junk &&
	expect_reject junk "not signed"
'

test_expect_success 'the config can require encryption: plain-signed is then refused' '
	sed "s|<agencies>|<requests encrypted=\"required\"/>\n  <agencies>|" demo/mimamori.xml >req.xml &&
	cp req.xml demo/mimamori.xml &&
	mimamori check-config >/dev/null &&
	request e1 registration=R2026-000001 requester-name= &&
	expect_reject e1 "not encrypted (this node requires encrypted requests)" &&
	request --encrypt e2 registration=R2026-000001 requester-name= &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^accepted inbox/new/e2 A2026-" out
'

test_expect_success 'audit: one reject event per rejected input, chain intact' '
	test $(grep -c "	dispatch	reject	" demo/spool/audit/audit.log) = $(ls demo/spool/rejected | grep -v "\.reason$" | wc -l) &&
	mimamori audit verify
'

test_done
