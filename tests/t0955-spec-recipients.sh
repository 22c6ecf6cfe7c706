#!/bin/sh
# mimamori.xml(5) and mimamori-dispatch(1) on who gets an alert, black box: the members of every
# list whose wards meet the request's area (every ward by default), each
# address once even when it is on two lists; a community member without a
# pledge, or with one in the future, gets nothing; a record with consent
# broadcast="no" (or basis agency-sharing) only reaches agency lists.
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"

test_expect_success 'setup: the samples, and a person who said broadcast="no"' '
	dispatch_setup &&
	make_registration 11 | sed "s|broadcast=\"yes\"|broadcast=\"no\"|" >nob.xml &&
	grep -q "broadcast=\"no\"" nob.xml &&
	mimamori --now 2026-11-01 submit nob.xml >/dev/null &&
	mimamori --now 2026-11-01 intake >out &&
	NOB=$(sed -n "s/^accepted incoming\/nob.xml //p" out) &&
	test -n "$NOB" && echo "$NOB" >nob.id
'

test_expect_success 'setup: ward-chuo also on the community list; members without pledge, with a future one' '
	sed -i "s|<member address=\"helper1@example.jp\"|<member address=\"ward-chuo@example.jp\" name=\"中央区役所\" pledge=\"2026-04-01\"/><member address=\"nopledge@example.jp\" name=\"誓約 なし\"/><member address=\"future@example.jp\" name=\"誓約 未来\" pledge=\"2027-01-01\"/><member address=\"helper1@example.jp\"|" demo/mimamori.xml &&
	grep -q "nopledge@example.jp" demo/mimamori.xml &&
	test_expect_code 0 mimamori --now $NOW check-config >out 2>err &&
	grep "warning: .*nopledge@example.jp" err && grep "warning: .*future@example.jp" err &&
	! grep "ward-chuo@example.jp" err
'

test_expect_success 'an alert for every ward: each address once, no unpledged member' '
	request a1 area= &&
	mimamori --now $NOW dispatch >out 2>err &&
	grep -x "accepted inbox/new/a1 A2026-000001 7" out &&
	rcpts_of A2026-000001 >r &&
	test "$(sort r | uniq -d)" = "" &&
	grep -qx ward-chuo@example.jp r &&
	! grep -q "nopledge@\|future@" r &&
	! grep -rq "nopledge@\|future@" demo/spool/queue/env
'

test_expect_success 'area limits the lists to those whose wards meet it (a * list meets every area)' '
	request a2 registration=R2026-000002 requester-name= police-station=police-nada area=nada &&
	mimamori --now $NOW dispatch >out &&
	grep "^accepted inbox/new/a2 A2026-000002 " out &&
	rcpts_of A2026-000002 >r2 &&
	! grep -q "ward-chuo@\|center-chuo-1@" r2 &&
	grep -q "ward-nada@" r2
'

test_expect_success 'broadcast="no": agency lists only' '
	request b1 registration=$(cat nob.id) requester-name= police-station=police-nada &&
	mimamori --now $NOW dispatch >out &&
	grep "^accepted inbox/new/b1 A2026-00000[0-9] " out &&
	id=$(sed -n "s/^accepted inbox\/new\/b1 \(A[0-9-]*\) .*/\1/p" out) &&
	rcpts_of $id >rb &&
	test -s rb &&
	! grep -q "helper\|commissioner" rb &&
	for a in $(cat rb); do
		grep -q "<list id=\"agencies-[a-z]*\" audience=\"agency\"" demo/mimamori.xml || return 1
		sed -n "/audience=\"agency\"/,/<\/list>/p" demo/mimamori.xml | grep -q "address=\"$a\"" || { echo "$a is not on an agency list"; return 1; }
	done
'

test_done
