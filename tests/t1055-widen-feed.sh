#!/bin/sh
# Widening and the CAP feed: an open actual alert for some wards goes to
# the members of every other ward once <escalation after=…/> has passed
# since it was sent (not a second before), marked 【範囲拡大】, the operator
# told; found goes to everyone reached. Every alert, update, found and
# withdraw is a CAP 1.2 document in feed/ (valid against schemas/cap12.xsd,
# no personal data), feed/index.atom lists the open ones, and the feed is
# destroyed with the alert data.
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"

SENT=2026-11-21T10:00:00+09:00
BEFORE=2026-11-21T12:59:59+09:00     # PT3H after SENT, less one second
DUE=2026-11-21T13:00:00+09:00

test_expect_success 'setup: escalation after PT3H' '
	dispatch_setup &&
	sed -i "s|<agencies>|<escalation after=\"PT3H\"/>\n  <agencies>|" demo/mimamori.xml &&
	mimamori check-config >cc.out 2>&1
'

test_expect_success 'a bad escalation duration is a configuration error (78)' '
	sed "s|after=\"PT3H\"|after=\"P0D\"|" demo/mimamori.xml >demo/bad.xml &&
	test_expect_code 78 mimamori -c demo/bad.xml check-config >out 2>&1 &&
	grep -q "escalation" out
'

test_expect_success 'photo="yes" on a community list without trained="yes" is a configuration error (78)' '
	sed "s|<list id=\"cooperators\" |<list id=\"cooperators\" photo=\"yes\" |" demo/mimamori.xml >demo/bad2.xml &&
	test_expect_code 78 mimamori -c demo/bad2.xml check-config >out 2>&1 &&
	grep -q "list .cooperators.: photo=\"yes\" on a community list needs trained=\"yes\"" out &&
	sed "s|<list id=\"cooperators\" |<list id=\"cooperators\" photo=\"yes\" trained=\"yes\" |" demo/mimamori.xml >demo/good2.xml &&
	mimamori -c demo/good2.xml check-config >out 2>&1
'

test_expect_success 'an alert for chuo reaches chuo and the all-ward list' '
	request a1 area=chuo &&
	mimamori --now $SENT dispatch >out &&
	echo "accepted inbox/new/a1 A2026-000001 5" >expect &&
	test_cmp expect out
'

test_expect_success 'one second before escalation/@after: not widened' '
	mimamori --now $BEFORE dispatch >out &&
	! test -s out &&
	mimamori --now $BEFORE expire >out &&
	! grep -q widened out
'

test_expect_success 'at escalation/@after expire widens it to the members not yet reached' '
	rm -f demo/spool/queue/env/* demo/spool/queue/msg/* &&
	mimamori --now $DUE expire >out &&
	grep -q "^widened A2026-000001 2\$" out &&
	rcpts_of A2026-000001 >got &&
	printf "center-nada-1@example.jp\nward-nada@example.jp\n" >expect &&
	test_cmp expect got &&
	queue_dump >dump &&
	grep -q "^Subject: 【範囲拡大】行方不明高齢者の捜索にご協力ください（A2026-000001）" dump &&
	grep -q "^【範囲拡大】まだ見つかっていないため" dump &&
	grep -q "^References: <" dump &&
	grep -q "前から、ゆっくり近づいて" dump
'

test_expect_success 'the operator is told of the widening' '
	e=$(grep -l "^rcpt ops@vendor.example.jp" demo/spool/queue/env/*) &&
	$MAILTOOL reply demo/spool/queue/msg/$(basename $e) demo/operator/gnupg >reply.txt &&
	grep -q "Widened: alert A2026-000001" reply.txt &&
	grep -q "2 more recipient" reply.txt
'

test_expect_success 'widened once only: a later run sends nothing more' '
	rm -f demo/spool/queue/env/* demo/spool/queue/msg/* &&
	mimamori --now 2026-11-21T18:00:00+09:00 dispatch >out &&
	! test -s out &&
	test -z "$(ls demo/spool/queue/env)"
'

test_expect_success 'found goes to everyone reached, the widening too' '
	request f1 type=found status= found-at=2026-11-21T18:00:00+09:00 &&
	mimamori --now 2026-11-21T18:05:00+09:00 dispatch >out &&
	echo "accepted inbox/new/f1 A2026-000001 7" >expect &&
	test_cmp expect out
'

test_expect_success 'an exercise is never widened; its withdraw is a Cancel' '
	request x1 registration= name-kana="なだ　かずお" birth-date=1938-11-23 \
		requester-name= requester-relationship= area=nada police-station=police-nada \
		status=exercise &&
	mimamori --now $SENT dispatch >out &&
	grep -q "^accepted inbox/new/x1 A2026-000002 " out &&
	mimamori --now $DUE dispatch >out &&
	! grep -q widened out &&
	request x2 registration= name-kana="なだ　かずお" birth-date=1938-11-23 \
		requester-name= type=withdraw status= &&
	mimamori --now $DUE dispatch >out &&
	grep -q "^accepted inbox/new/x2 A2026-000002 " out
'

test_expect_success 'the feed: one CAP document per mail, valid against schemas/cap12.xsd' '
	ls demo/spool/feed >got &&
	cat >expect <<-\EOF &&
	A2026-000001.1.xml
	A2026-000001.2.xml
	A2026-000001.3.xml
	A2026-000002.1.xml
	A2026-000002.2.xml
	index.atom
	EOF
	test_cmp expect got &&
	xmllint --noout --schema "$TEST_SRC/schemas/cap12.xsd" demo/spool/feed/A2026-*.xml 2>xl &&
	test $(stat -c %a demo/spool/feed/A2026-000001.1.xml) = 600 &&
	test $(stat -c %a demo/spool/feed) = 700
'

cap() {
	xmllint --xpath "string(//*[local-name()=\"$2\"])" demo/spool/feed/$1.xml
}

test_expect_success 'msgType, status, responseType and references as CAP wants them' '
	test "$(cap A2026-000001.1 msgType) $(cap A2026-000001.1 status) $(cap A2026-000001.1 responseType)" = "Alert Actual Monitor" &&
	test "$(cap A2026-000001.2 msgType)" = Update &&
	test "$(cap A2026-000001.3 msgType) $(cap A2026-000001.3 responseType)" = "Update AllClear" &&
	test "$(cap A2026-000001.3 references)" = "alerts@example.jp,A2026-000001.1,2026-11-21T10:00:00+09:00 alerts@example.jp,A2026-000001.2,2026-11-21T13:00:00+09:00" &&
	test "$(cap A2026-000002.1 status)" = Exercise &&
	test "$(cap A2026-000002.2 msgType)" = Cancel &&
	test "$(cap A2026-000001.1 sender)" = alerts@example.jp &&
	cap A2026-000001.1 contact | grep -q "生田警察署 078-000-0110" &&
	cap A2026-000001.1 description | grep -q "三宮センター街 東口付近"
'

test_expect_success 'no personal data of the registration in the feed' '
	for s in "神戸 花子" "神戸花子" "こうべ" "はなこ" "山田" "1941" "昭和16" "S16" "加納町" \
		 "000-0001" "0000-0001" "R2026-000003" "神戸 太郎" "長男" "見守りハイツ" \
		 "アルツハイマー" "なだ" "1938-11-23" "19381123" "昭和13" "R2026-000"; do
		if grep -r -F -q -- "$s" demo/spool/feed; then
			echo "feed holds $s"; return 1
		fi
	done
'

test_expect_success 'index.atom lists the open alerts only (none now); a new one appears' '
	xmllint --noout demo/spool/feed/index.atom &&
	! grep -q "<entry>" demo/spool/feed/index.atom &&
	request a3 area=chuo &&
	mimamori --now 2026-11-22T09:00:00+09:00 dispatch >out &&
	grep -q "^accepted inbox/new/a3 A2026-000003 5" out &&
	test $(grep -c "<entry>" demo/spool/feed/index.atom) = 1 &&
	grep -q "href=\"A2026-000003.1.xml\"" demo/spool/feed/index.atom
'

test_expect_success 'the feed is destroyed with the alert data (retention alert-data P30D)' '
	mimamori --now 2026-12-20T10:00:00+09:00 expire >out &&
	test -f demo/spool/feed/A2026-000001.1.xml &&
	mimamori --now 2026-12-21T18:05:00+09:00 expire >out &&
	grep -q "destroyed A2026-000001 alert-data" out &&
	! ls demo/spool/feed | grep -q "^A2026-000001\\." &&
	! ls demo/spool/feed | grep -q "^A2026-000002\\." &&
	ls demo/spool/feed | grep -q "^A2026-000003\\." &&
	mimamori --now 2026-12-23T09:00:00+09:00 expire >out &&
	grep -q "closed A2026-000003" out &&
	ls demo/spool/feed >got &&
	echo index.atom >expect &&
	test_cmp expect got &&
	! grep -q "<entry>" demo/spool/feed/index.atom
'

test_done
