#!/bin/sh
# dispatch, the good path: a signed request becomes one alert per list
# member, with the circumstances and the police station's configured phone
# and none of the person's identifying data; the reply goes to the
# operator's configured address, encrypted; exercise, agency-sharing,
# encrypted requests, update and found with References, then deliver.
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"

test_expect_success 'setup: demo installation with the samples taken in' '
	dispatch_setup
'

test_expect_success 'dispatch with an empty inbox prints nothing and exits 0' '
	mimamori --now $NOW dispatch >out 2>err &&
	! test -s out && ! test -s err
'

test_expect_success 'a signed alert request is accepted with its alert id and recipient count' '
	request a1 area= &&
	mimamori --now $NOW dispatch >out 2>err &&
	echo "accepted inbox/new/a1 A2026-000001 7" >expect &&
	test_cmp expect out &&
	! test -s err &&
	test -z "$(ls demo/spool/inbox/new)" &&
	test -z "$(ls demo/spool/work/dispatch)" &&
	test -z "$(ls demo/spool/rejected)"
'

test_expect_success 'each member of each matching list is queued exactly once' '
	rcpts_of A2026-000001 >got &&
	cat >expect <<-\EOF &&
	center-chuo-1@example.jp
	center-nada-1@example.jp
	commissioner-chuo@example.jp
	helper1@example.jp
	helper2@example.jp
	ward-chuo@example.jp
	ward-nada@example.jp
	EOF
	test_cmp expect got
'

test_expect_success 'the member who asked for ISO-2022-JP gets that copy, the others UTF-8' '
	queue_dump >dump &&
	for e in demo/spool/queue/env/*; do
		q=$(basename $e)
		if grep -q "^rcpt helper2@example.jp" $e; then
			grep -q "charset=\"*ISO-2022-JP" demo/spool/queue/msg/$q &&
			test $(grep -c "^rcpt " $e) = 1 || return 1
		elif grep -q "^report " $e; then
			grep -q "charset=\"*UTF-8" demo/spool/queue/msg/$q || return 1
		fi
	done
'

test_expect_success 'the alert holds the circumstances and the police phone from the config' '
	grep -q "三宮センター街 東口付近" dump &&
	grep -q "紺色のジャンパー、灰色のズボン" dump &&
	grep -q "茶色の手提げかばん" dump &&
	grep -q "2026年11月21日 7時00分" dump &&
	grep -q "生田警察署　電話 078-000-0110" dump &&
	grep -q "年齢: 85歳" dump &&
	grep -q "性別: 女性" dump &&
	grep -q "捜索のためだけに使い" dump &&
	grep -q "^Subject: 行方不明高齢者の捜索にご協力ください（A2026-000001）" dump
'

test_expect_success 'the alert holds none of the identifying data' '
	for s in "神戸 花子" "神戸花子" "こうべ" "山田" "1941" "昭和16" "S16" "加納町" \
		 "000-0001" "0000-0001" "R2026-000003" "神戸 太郎" "長男" "見守りハイツ" \
		 "アルツハイマー" "diagnosis" "care-"; do
		if sed -n "/^Subject: 行方不明/,/^== /p" dump |
			grep -v "^== \\|^Message-ID: " | grep -F -q -- "$s"; then
			echo "alert holds $s"; return 1
		fi
	done
'

test_expect_success 'alert headers: no recipient, no Cc/Bcc, auto-submitted, one Message-ID' '
	for e in demo/spool/queue/env/*; do
		grep -q "^report " $e || continue
		m=demo/spool/queue/msg/$(basename $e)
		grep -q "^To: undisclosed-recipients:;" $m &&
		grep -q "^Auto-Submitted: auto-generated" $m &&
		! grep -qi "^\(Cc\|Bcc\):" $m &&
		! sed -n "1,/^\r\$/p" $m | grep -q "@example.jp>*\$" -e "helper" || return 1
	done &&
	test $(grep -h "^Message-ID:" $(for e in demo/spool/queue/env/*; do
		grep -q "^report " $e && echo demo/spool/queue/msg/$(basename $e); done) |
		sort -u | wc -l) = 1
'

test_expect_success 'the reply goes to the configured operator address, signed and encrypted' '
	reply=$(grep -l "^rcpt ops@vendor.example.jp" demo/spool/queue/env/*) &&
	test $(echo "$reply" | wc -l) = 1 &&
	test $(grep -c "^rcpt " $reply) = 1 &&
	m=demo/spool/queue/msg/$(basename $reply) &&
	grep -q "multipart/encrypted" $m &&
	! grep -q "A2026-000001" $m &&
	dispatch_keys &&
	$MAILTOOL reply $m demo/operator/gnupg >reply.txt &&
	grep -q "^GOOD $NODE" reply.txt &&
	grep -q "アラート: A2026-000001" reply.txt &&
	grep -q "7 recipient" reply.txt
'

test_expect_success 'the alert store keeps nothing in clear' '
	! spool_grep "三宮センター街 東口" demo/spool/alerts &&
	! spool_grep "紺色のジャンパー" demo/spool/alerts &&
	ls demo/spool/alerts | grep -q "^A2026-000001\.1$"
'

test_expect_success 'an agency-sharing person is alerted to agency lists only' '
	request s1 registration=R2026-000001 requester-name= police-station=生田警察署 &&
	mimamori --now $NOW dispatch >out &&
	echo "accepted inbox/new/s1 A2026-000002 4" >expect &&
	test_cmp expect out &&
	rcpts_of A2026-000002 >got &&
	cat >expect <<-\EOF &&
	center-chuo-1@example.jp
	center-nada-1@example.jp
	ward-chuo@example.jp
	ward-nada@example.jp
	EOF
	test_cmp expect got
'

test_expect_success 'area limits the lists; an exercise says 訓練 in subject and body' '
	request x1 registration=R2026-000002 requester-name= status=exercise \
		police-station=police-nada area=nada &&
	mimamori --now $NOW dispatch >out &&
	echo "accepted inbox/new/x1 A2026-000003 2" >expect &&
	test_cmp expect out &&
	rcpts_of A2026-000003 >got &&
	printf "%s\n" center-nada-1@example.jp ward-nada@example.jp >expect &&
	test_cmp expect got &&
	queue_dump >dump &&
	grep -q "^Subject: 【訓練】行方不明高齢者.*A2026-000003" dump &&
	grep -q "^【訓練】これは訓練のメールです" dump &&
	grep -q "^Subject: 【訓練】受付: alert A2026-000003" dump &&
	grep -q "灘警察署　電話 078-000-0119" dump &&
	awk "/^== /{ s = 0 } /^Subject: .*行方不明高齢者.*A2026-000003/{ s = 1 } /^To: /{ t = \$0 } s && /^Date: /{ print t }" dump >to &&
	test "$(sort -u to)" = "To: alert-agency-nada@example.jp"
'

test_expect_success 'a signed and encrypted request is accepted too' '
	mimamori --now $NOW dispatch >/dev/null &&
	request --encrypt u1 type=update clothing=白い帽子 last-seen=元町駅 &&
	mimamori --now $NOW dispatch >out &&
	echo "accepted inbox/new/u1 A2026-000001 7" >expect &&
	test_cmp expect out
'

test_expect_success 'the update reaches exactly the alert recipients with References' '
	queue_dump >dump &&
	awk "/^== /{ s = \"\" } /^Subject: /{ s = \$0 } /^Message-ID: /{ if (s ~ /行方不明高齢者の捜索にご協力ください（A2026-000001）/) print \$2 }" dump | sort -u >orig &&
	test $(wc -l <orig) = 1 &&
	awk "/^== /{ s = \"\" } /^Subject: /{ s = \$0 } /^References: /{ if (s ~ /【続報】.*A2026-000001/) print \$2 }" dump >refs &&
	test $(wc -l <refs) = 4 &&
	test "$(sort -u refs)" = "$(cat orig)" &&
	awk "/^== /{ n = 0 } /^rcpt /{ r[n++] = \$2 } /^Subject: .*【続報】.*A2026-000001/{ for (i = 0; i < n; i++) print r[i] }" dump | sort >got &&
	rcpts_of A2026-000001 | sort -u >want &&
	test $(wc -l <want) = 7 &&
	test_cmp want got &&
	grep -q "白い帽子" dump && grep -q "元町駅" dump &&
	grep -q "【続報】" dump
'

test_expect_success 'text ISO-2022-JP cannot carry goes as UTF-8 to the member who asked for it' '
	request u2 type=update notes="目印は😀のバッジ" &&
	ls demo/spool/queue/env >before &&
	mimamori --now $NOW dispatch >out &&
	echo "accepted inbox/new/u2 A2026-000001 7" >expect &&
	test_cmp expect out &&
	ls demo/spool/queue/env >after &&
	e=$(comm -13 before after | sed "s|^|demo/spool/queue/env/|" | xargs grep -l "^rcpt helper2@example.jp") &&
	test $(echo "$e" | wc -l) = 1 &&
	test $(comm -13 before after | sed "s|^|demo/spool/queue/env/|" | xargs grep -l "^list " | xargs cat | grep -c "^rcpt ") = 7 &&
	grep -q "charset=\"*UTF-8" demo/spool/queue/msg/$(basename $e)
'

test_expect_success 'found reaches the same recipients, closes the alert; a second found is refused' '
	request f1 type=found notes="元町駅で保護されました" &&
	mimamori --now $NOW dispatch >out &&
	echo "accepted inbox/new/f1 A2026-000001 7" >expect &&
	test_cmp expect out &&
	queue_dump >dump &&
	grep -q "無事に見つかりました" dump &&
	request f2 type=found &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^rejected inbox/new/f2: .*no alert is open for this registration" out
'

test_expect_success 'after found, a new alert for the same person is accepted' '
	request a2 last-seen="JR神戸駅の改札付近" notes="神戸市中央区の方です" &&
	mimamori --now $NOW dispatch >out &&
	echo "accepted inbox/new/a2 A2026-000004 7" >expect &&
	test_cmp expect out &&
	queue_dump >dump &&
	grep -q "最後に見かけた場所: JR神戸駅の改札付近" dump &&
	grep -q "備考: 神戸市中央区の方です" dump
'

test_expect_success 'name-kana and birth-date find the registration; withdraw closes the alert' '
	request w1 registration= name-kana="なだ　かずお" birth-date=1938-11-23 requester-name= status= \
		type=withdraw notes="家族が見つけました" &&
	mimamori --now $NOW dispatch >out &&
	echo "accepted inbox/new/w1 A2026-000003 2" >expect &&
	test_cmp expect out &&
	queue_dump >dump &&
	grep -q "^Subject: 【訓練】【取り下げ】.*A2026-000003" dump &&
	grep -q "	dispatch	closed	alert=A2026-000003 type=withdrawn" demo/spool/audit/audit.log &&
	request w2 registration= name-kana="なだ かずお" birth-date=1938-11-23 requester-name= type=update &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^rejected inbox/new/w2: no alert is open for this registration" out
'

test_expect_success 'an XML request attachment is validated and accepted like the form' '
	dispatch_keys &&
	$MAILTOOL xml demo/spool/inbox/new/xml1 demo/operator/gnupg $OP $DATA/request/alert.xml &&
	mimamori --now $NOW dispatch >out &&
	echo "accepted inbox/new/xml1 A2026-000005 2" >expect &&
	test_cmp expect out &&
	queue_dump >dump &&
	grep -q "六甲道駅 南口" dump &&
	grep -q "茶色のセーター" dump
'

test_expect_success 'the audit log has accept, queued and closed events without personal data' '
	grep -q "	dispatch	accept	.*alert=A2026-000001" demo/spool/audit/audit.log &&
	! grep -q "なだ\|1938\|xml-0001" demo/spool/audit/audit.log &&
	grep -q "	dispatch	queued	alert=A2026-000001" demo/spool/audit/audit.log &&
	grep -q "	dispatch	closed	alert=A2026-000001 type=found" demo/spool/audit/audit.log &&
	! grep -q "神戸\|三宮\|紺色" demo/spool/audit/audit.log &&
	mimamori audit verify
'

test_expect_success 'deliver puts one alert in each member Maildir' '
	mimamori --now $NOW deliver >deliver.out 2>deliver.err &&
	$MAILTOOL maildirs demo/spool >mail.txt &&
	for a in ward-chuo center-chuo-1 ward-nada center-nada-1 helper1 helper2 commissioner-chuo; do
		n=$(awk -v a="== $a@example.jp/" "index(\$0, a) == 1 { m = 1; next } /^== / { m = 0 }
			m && /^Subject: 行方不明高齢者の捜索にご協力ください（A2026-000001）/ { c++ }
			END { print c + 0 }" mail.txt) &&
		test "$n" = 1 || { echo "$a got $n"; return 1; }
	done &&
	grep -q "生田警察署　電話 078-000-0110" mail.txt &&
	# File names and message ids are random and may hold any digits.
	grep -v "^== \|^Message-ID: \|^In-Reply-To: \|^References: " mail.txt >text.txt &&
	! grep -q "神戸 花子\|こうべ\|1941\|090-0000-0001\|加納町" text.txt &&
	test_path_is_missing demo/spool/mail/x@example.org &&
	test $(ls demo/spool/mail/ops@vendor.example.jp/new | wc -l) = 11
'

test_done
