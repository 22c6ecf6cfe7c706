#!/bin/sh
# dispatch on a full disk (mimamori-dispatch(1)): the spool on a small tmpfs filled
# up; dispatch stops with 74, rejects nothing, queues nothing, keeps the
# request; once space is freed a rerun accepts it once. Needs root (mount).
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"

small_disk 4m

test_expect_success 'setup: the spool on a 4 MiB tmpfs, one alert done' '
	dispatch_setup &&
	cp -a demo/spool/. "$MNT"/ &&
	rm -rf demo/spool && ln -s "$MNT" demo/spool &&
	request a1 registration=R2026-000001 requester-name= &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^accepted inbox/new/a1 A2026-000001 " out &&
	request a2 &&
	ls demo/spool/queue/env >env.before &&
	ls demo/spool/alerts >alerts.before
'

test_expect_success 'a full disk: exit 74, nothing rejected, nothing queued' '
	{ dd if=/dev/zero of="$MNT/filler" bs=4k 2>/dev/null; true; } &&
	test_expect_code 74 mimamori --now $NOW dispatch >out 2>err &&
	cat out err &&
	grep -q "No space left on device" err &&
	! grep -q "^rejected" out &&
	test -z "$(ls demo/spool/rejected)" &&
	ls demo/spool/queue/env >env.now &&
	test_cmp env.before env.now &&
	test "$(ls demo/spool/inbox/new demo/spool/work/dispatch | grep -c a2)" = 1
'

test_expect_success 'space freed: the request is accepted once' '
	rm -f "$MNT/filler" &&
	mimamori --now $NOW dispatch >out 2>err &&
	echo "accepted inbox/new/a2 A2026-000002 7" >expect &&
	test_cmp expect out &&
	test -z "$(ls demo/spool/work/dispatch)$(ls demo/spool/inbox/new)" &&
	test -z "$(ls demo/spool/tmp)" &&
	# a copy per list and charset (cooperators in two charsets, two agency
	# lists) and the reply, each once
	test $(for e in demo/spool/queue/env/*; do grep -l "^alert A2026-000002" $e; done | wc -l) = 5 &&
	mimamori --now $NOW dispatch >out &&
	! test -s out &&
	mimamori audit verify
'

test_done
