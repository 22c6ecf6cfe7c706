#!/bin/sh
# mimamori-listmail(1) and mimamori-members(1), subscriptions: the sealed
# member store, subscribing and unsubscribing by mail with confirmation,
# forged and expired confirmations, a signed request sent to a list
# address. Bounces and probes: t1005; alert copies and reach: t1010;
# kill -9 of listmail: t1015.
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"
. "$TEST_SRC/tests/lib-lists.sh"

test_expect_success 'setup: the demo, cooperators with an owner' '
	lists_setup
'

test_expect_success 'members import; the store holds no address in clear' '
	lists_import 200 &&
	mimamori --now $NOW members list cooperators --csv >l &&
	head -1 l | grep -x "list,address,name,state,pledge,score" &&
	test $(grep -c ",active,2026-04-01,0$" l) = 200 &&
	! grep -rq "docomo" demo/spool/members demo/spool/audit &&
	grep -q "member-import.*members=200" demo/spool/audit/*
'

test_expect_success 'members import: a bad row rejects the import, naming its line only' '
	printf "address,name\nok@x.jp,a\nnot an address,b\n" >bad.csv &&
	test_expect_code 65 mimamori --now $NOW members import cooperators bad.csv 2>err &&
	grep "line 3: address" err && ! grep "not an address" err &&
	test $(mimamori --now $NOW members list cooperators | wc -l) = 200
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

test_expect_success 'listmail with nothing to do leaves the sealed member index as it was' '
	cp demo/spool/members/index index.before &&
	touch -d "2026-01-01 00:00" demo/spool/members/index &&
	mimamori --now $NOW listmail >out &&
	test_must_fail test -s out &&
	cmp demo/spool/members/index index.before &&
	test "$(stat -c %Y demo/spool/members/index)" = "$(date -d "2026-01-01 00:00" +%s)"
'

test_done
