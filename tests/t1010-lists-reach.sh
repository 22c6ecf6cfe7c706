#!/bin/sh
# mimamori-dispatch(1) and mimamori-show(1) on the lists: 5,000 members
# of the store, one copy per (list, charset) with List-Id,
# List-Unsubscribe, the bounce envelope and To: naming its own list; a
# removed member gets nothing; `show ALERT-ID` counts per list, with a
# bounce found by Message-ID; expire removes the reach records with the
# alert's data.
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"
. "$TEST_SRC/tests/lib-lists.sh"

test_expect_success 'setup: the demo, 5,000 members imported, one removed' '
	lists_setup &&
	lists_import 5000 &&
	mimamori --now $NOW members list cooperators --csv >l &&
	test $(grep -c ",active,2026-04-01,0$" l) = 5000 &&
	! grep -rq "docomo" demo/spool/members demo/spool/audit &&
	mimamori --now $NOW members remove cooperators h7@docomo.ne.jp >out &&
	grep -x "removed from cooperators" out
'

test_expect_success 'an alert: copies per list with List-Id, List-Unsubscribe, bounce envelope and To: of the list; the removed member gets nothing' '
	request a1 area= &&
	mimamori --now $NOW dispatch >out &&
	grep "^accepted inbox/new/a1 A2026-000001 " out &&
	e=$(grep -l "^rcpt h1@docomo.ne.jp" $Q/env/*) &&
	grep -x "sender cooperators+bounces@example.jp" $e && grep -x "list cooperators" $e && grep -x "verp yes" $e &&
	m=$Q/msg/$(basename $e) &&
	grep -q "^List-Id: <cooperators.example.jp>" $m &&
	grep -q "^List-Unsubscribe: <mailto:cooperators+unsubscribe@example.jp>" $m &&
	test "$(sed -n "s/^To: \(.*\)\r\$/\1/p" $m)" = "alert@example.jp" &&
	! grep -rq "^rcpt h7@docomo.ne.jp" $Q/env &&
	a=$(grep -l "^list agencies-chuo" $Q/env/* | head -1) &&
	test "$(sed -n "s/^To: \(.*\)\r\$/\1/p" $Q/msg/$(basename $a))" = "alert-agency-chuo@example.jp" &&
	grep -x "sender agencies-chuo+bounces@example.jp" $a
'

test_expect_success 'show ALERT-ID: per list, counts and times, bounces counted by Message-ID' '
	mimamori --now $NOW deliver >/dev/null &&
	mid=$(sed -n "s/^Message-ID: <\(.*\)>\r*$/\1/p" $(ls demo/spool/mail/h3@docomo.ne.jp/new/* | head -1)) &&
	dsn b1 cooperators+bounces@$D h3@docomo.ne.jp 5.1.1 failed "$mid" &&
	mimamori --now $NOW listmail >/dev/null &&
	mimamori --now $NOW show A2026-000001 >show &&
	cat show &&
	grep -E "^list cooperators: (499[0-9]|500[0-9]) recipients, (499[0-9]|500[0-9]) sent, 0 failed, 0 deferred, 1 bounced; 50% in [0-9]+ s, 90% in [0-9]+ s, 100% in [0-9]+ s$" show &&
	grep -E "^list agencies-chuo: [0-9]+ recipients" show
'

test_expect_success 'expire destroys the alert data, and its reach records with it' '
	test -d demo/spool/reach/A2026-000001 &&
	mimamori --now 2027-01-10 expire >out &&
	grep "destroyed A2026-000001 alert-data" out &&
	test_must_fail test -e demo/spool/reach/A2026-000001 &&
	test_expect_code 65 mimamori --now 2027-01-10 show A2026-000001 2>err &&
	grep -q "unreach.*alert=A2026-000001" demo/spool/audit/*
'

test_done
