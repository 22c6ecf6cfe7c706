#!/bin/sh
# watch: a registration submitted while it runs is taken in within seconds;
# a signed request dropped into inbox/new reaches the recipients' Maildirs
# (dispatch, then deliver at once); a second watch on the same spool is
# refused; SIGTERM stops it with 0, promptly, with nothing left in work/.
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"

S=demo/spool

# gone PID: the process has exited (a zombie not yet waited for counts).
gone() {
	test_pid_gone "$1"
}

# The claim folders of the stages: empty when nothing was left half done.
claims_left() {
	find $S/work/intake $S/work/import $S/work/dispatch $S/work/export \
		$S/work/fetch -type f 2>/dev/null
}

# request NAME ...: made aside, then moved into inbox/new in one rename,
# as a Maildir delivery does (request-mail writes its temporary file
# beside its output).
drop_request() {
	mkdir -p gen/demo/spool/inbox/new &&
	ln -sf ../../demo/mimamori.xml ../../demo/operator gen/demo/ 2>/dev/null
	(cd gen && request "$@") &&
	mv gen/demo/spool/inbox/new/$1 $S/inbox/new/$1
}

maildir_count() {
	find $S/mail -path "*/new/*" -type f 2>/dev/null | wc -l
}

maildirs_at_least() {
	test "$(maildir_count)" -ge "$1"
}

test_expect_success 'setup: demo with the samples taken in' '
	dispatch_setup
'

# watch runs at the top level (test bodies are subshells).
"$MIMAMORI_BIN" --now $NOW watch --interval 3600 >watch.out 2>watch.err &
WATCH_PID=$!
test_pids="$test_pids $WATCH_PID"

test_expect_success 'watch starts and says so in the audit log' '
	wait_for 60 has_line "	watch	start	interval=3600" $S/audit/audit.log
'

test_expect_success 'a second watch on the same spool is refused with 75' '
	test_expect_code 75 mimamori watch >out 2>err &&
	grep -q "another watch is running" err
'

test_expect_success 'a registration submitted meanwhile is accepted within seconds' '
	make_registration 1 >w1.xml &&
	mimamori --now $NOW submit w1.xml >/dev/null &&
	wait_for 60 has_line "^accepted incoming/w1.xml R2026-" watch.out &&
	test -z "$(ls $S/incoming)" &&
	grep -q "	intake	accept	input=incoming/w1.xml" $S/audit/audit.log
'

test_expect_success 'a file copied in without submit is taken too (close after write)' '
	make_registration 2 >$S/incoming/w2.xml &&
	wait_for 60 has_line "^accepted incoming/w2.xml R2026-" watch.out
'

test_expect_success 'a request dropped into inbox/new reaches the Maildirs at once' '
	test "$(maildir_count)" = 0 &&
	drop_request w-a1 area= &&
	wait_for 60 has_line "^accepted inbox/new/w-a1 A2026-000001 7" watch.out &&
	wait_for 60 maildirs_at_least 8 &&
	for a in helper1@example.jp ward-chuo@example.jp ops@vendor.example.jp; do
		test "$(ls $S/mail/$a/new | wc -l)" = 1 || return 1
	done &&
	test -z "$(ls $S/inbox/new)" &&
	test -z "$(ls $S/queue/env)"
'

# As Postfix's local and virtual deliver: written in inbox/tmp, then
# link()ed into inbox/new (no rename: inotify says IN_CREATE only).
test_expect_success 'a mail linked into inbox/new (Postfix local) is taken at once' '
	mkdir -p gen/demo/spool/inbox/new $S/inbox/tmp &&
	(cd gen && request w-link registration=R2026-999999) &&
	cp gen/demo/spool/inbox/new/w-link $S/inbox/tmp/1.w-link &&
	ln $S/inbox/tmp/1.w-link $S/inbox/new/w-link &&
	rm $S/inbox/tmp/1.w-link &&
	wait_for 60 has_line "^rejected inbox/new/w-link: unknown registration" watch.out
'

test_expect_success 'a bad request is rejected, and watch goes on' '
	echo "not a mail" >$S/inbox/new/junk &&
	wait_for 60 has_line "^rejected inbox/new/junk: " watch.out &&
	test -f $S/rejected/junk.reason &&
	make_registration 3 >w3.xml &&
	mimamori --now $NOW submit w3.xml >/dev/null &&
	wait_for 60 has_line "^accepted incoming/w3.xml R2026-" watch.out
'

claimed() {
	test -n "$(ls $S/work/intake 2>/dev/null)" || has_line "^accepted incoming/many-" watch.out
}

# The watch is stopped whatever happens here: a body that failed before
# its kill would otherwise leave the script waiting for it forever.
test_expect_success 'SIGTERM in the middle of an intake: the batch ends, exit 0, nothing half done' '
	test_when_finished "test_stop_pid $WATCH_PID" &&
	mkdir many &&
	i=100 && while [ $i -lt 300 ]; do
		make_registration $i >many/many-$i.xml || return 1
		i=$((i + 1))
	done &&
	before=$(grep -c "^accepted incoming/" watch.out) &&
	mv many/* $S/incoming/ &&
	wait_for 60 claimed &&
	kill -TERM $WATCH_PID &&
	wait_for 60 gone $WATCH_PID &&
	test -z "$(claims_left)" &&
	done=$(grep -c "^accepted incoming/many-" watch.out) &&
	left=$(ls $S/incoming | wc -l) &&
	echo "accepted before the stop: $done, left in incoming: $left" &&
	test $((done + left)) = 200 &&
	mimamori --now $NOW intake >rest &&
	test "$(grep -c "^accepted incoming/many-" rest)" = $left &&
	grep -q "	watch	stop	signal=yes" $S/audit/audit.log &&
	mimamori audit verify
'

wait $WATCH_PID
WATCH_RC=$?
test_expect_success 'and its exit code was 0' '
	test $WATCH_RC = 0
'

# The same without inotify: the folders' times, looked at every 25 ms.
MIMAMORI_WATCH_SCAN=1 "$MIMAMORI_BIN" --now $NOW watch --interval 3600 >watch2.out 2>watch2.err &
WATCH_PID=$!
test_pids="$test_pids $WATCH_PID"

test_expect_success 'without inotify: a registration is still taken within seconds' '
	test_when_finished "test_stop_pid $WATCH_PID" &&
	wait_for 60 has_line "looking at the folders every 25 ms" watch2.err &&
	make_registration 4 >w4.xml &&
	mimamori --now $NOW submit w4.xml >/dev/null &&
	wait_for 60 has_line "^accepted incoming/w4.xml R2026-" watch2.out &&
	make_registration 5 >w5.xml && mv w5.xml $S/incoming/ &&
	wait_for 60 has_line "^accepted incoming/w5.xml R2026-" watch2.out &&
	kill -TERM $WATCH_PID &&
	wait_for 60 gone $WATCH_PID
'

test_done
