#!/bin/sh
# A signed request fetched over IMAP (real dovecot on loopback) is
# processed by dispatch exactly like one delivered into the Maildir, and
# one `run` carries a request from the IMAP server to the recipients'
# Maildirs: fetch, dispatch, deliver in that order.
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"
. "$TEST_SRC/tests/lib-imap.sh"

S=demo/spool

# make_request NAME [k=v]...: a signed request mail in ./NAME.eml
# (request writes into demo/spool/inbox/new: let it write into a folder
# of its own that only looks like it).
make_request() {
	mkdir -p gen/demo/spool/inbox/new &&
	ln -sf ../../demo/mimamori.xml ../../demo/operator gen/demo/ 2>/dev/null
	(cd gen && request "$@") &&
	mv gen/demo/spool/inbox/new/$1 $1.eml
}

imap_start || { echo "Bail out! cannot start dovecot"; exit 1; }

test_expect_success 'setup: demo with the samples taken in, <imap> configured' '
	dispatch_setup &&
	imap_config
'

test_expect_success 'a request fetched over IMAP is accepted by dispatch' '
	make_request a1 area= &&
	imap_append a1.eml &&
	mimamori --now $NOW fetch >out 2>err &&
	cat out err &&
	name=$(sed -n "s/^fetched inbox\/new\/\(imap-[0-9]*-1\)$/\1/p" out) &&
	test -n "$name" &&
	mimamori --now $NOW dispatch >out 2>err &&
	cat out err &&
	echo "accepted inbox/new/$name A2026-000001 7" >expect &&
	test_cmp expect out &&
	test -z "$(ls $S/inbox/new)" &&
	test -z "$(ls $S/rejected)"
'

test_expect_success 'the same request placed in the Maildir is refused as a replay: same bytes' '
	cp a1.eml $S/inbox/new/a1 &&
	mimamori --now $NOW dispatch >out 2>err &&
	cat out &&
	grep -q "^rejected inbox/new/a1: replay of a request seen on 2026-11-21" out
'

test_expect_success 'one run: fetch, dispatch, deliver carry a found notice to the Maildirs' '
	make_request f1 type=found notes="元町駅で保護されました" &&
	imap_append f1.eml &&
	mimamori --now $NOW run >out 2>err &&
	cat out err &&
	grep -n "" out >numbered &&
	f=$(grep "fetched inbox/new/imap-[0-9]*-2$" numbered | cut -d: -f1) &&
	d=$(grep "accepted inbox/new/imap-[0-9]*-2 A2026-000001" numbered | cut -d: -f1) &&
	s=$(grep "^[0-9]*:sent queue/" numbered | head -1 | cut -d: -f1) &&
	test -n "$f" && test -n "$d" && test -n "$s" &&
	test "$f" -lt "$d" && test "$d" -lt "$s" &&
	test -z "$(ls $S/queue/env)" &&
	for a in helper1@example.jp ward-chuo@example.jp; do
		grep -l "元町駅で保護されました" $S/mail/$a/new/* >/dev/null || return 1
	done &&
	imap_list >flags &&
	printf "%s \\\\Seen\n" 1 2 >expect &&
	test_cmp expect flags
'

test_expect_success 'run without new mail: fetch fetches nothing, run exits 0' '
	mimamori --now $NOW run >out 2>err &&
	! grep -q "^fetched" out
'

# utime + stime of a process, in clock ticks (no spinning while idle).
cpu_ticks() {
	sed "s/^.*) //" /proc/$1/stat | awk "{ print \$12 + \$13 }"
}

gone() {
	! kill -0 "$1" 2>/dev/null || grep -q "^[0-9]* ([^)]*) Z" /proc/$1/stat
}

# watch at the top level (test bodies are subshells); the timer is an hour
# away, so only IMAP IDLE can make it fetch.
"$MIMAMORI_BIN" --now $NOW watch --interval 3600 >watch.out 2>watch.err &
WATCH_PID=$!
test_pids="$test_pids $WATCH_PID"

test_expect_success 'watch: mail arriving on the IMAP server is fetched and dispatched at once (IDLE)' '
	wait_for 60 has_line "	watch	start	" $S/audit/audit.log &&
	sleep 1 &&
	make_request a2 area= &&
	imap_append a2.eml &&
	wait_for 60 has_line "^fetched inbox/new/imap-[0-9]*-3$" watch.out &&
	wait_for 60 has_line "^accepted inbox/new/imap-[0-9]*-3 A2026-000002 7" watch.out &&
	cat watch.out watch.err &&
	test "$(grep -c "^fetched" watch.out)" = 1 &&
	imap_list >flags &&
	printf "%s \\\\Seen\n" 1 2 3 >expect &&
	test_cmp expect flags
'

test_expect_success 'watch: the IMAP server going away is reported, watch goes on' '
	imap_stop &&
	wait_for 60 has_line "imap idle: .*connection lost" watch.err &&
	wait_for 60 has_line "fetch: cannot connect to 127.0.0.1:$IMAP_PORT" watch.err &&
	! gone $WATCH_PID &&
	make_registration 8 >r8.xml &&
	mimamori --now $NOW submit r8.xml >/dev/null &&
	wait_for 60 has_line "^accepted incoming/r8.xml R2026-" watch.out &&
	t1=$(cpu_ticks $WATCH_PID) && sleep 1 && t2=$(cpu_ticks $WATCH_PID) &&
	echo "cpu ticks in 1 s: $((t2 - t1))" &&
	test $((t2 - t1)) -lt 30 &&
	kill -TERM $WATCH_PID &&
	wait_for 60 gone $WATCH_PID &&
	grep -q "	watch	stop	signal=yes" $S/audit/audit.log
'

test_expect_success 'run with the IMAP server down: 69, the other stages still run' '
	make_registration 9 >r9.xml &&
	mimamori --now $NOW submit r9.xml >/dev/null &&
	test_expect_code 69 mimamori --now $NOW run >out 2>err &&
	cat out err &&
	grep -q "cannot connect" err &&
	grep -q "^accepted incoming/r9.xml R2026-" out
'

test_done
