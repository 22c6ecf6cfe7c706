#!/bin/sh
# dispatch works in a supervised worker: a request mail that crashes the
# mail parser, hangs it or exhausts its memory ends in rejected/ with its
# reason, and the request behind it is processed in the same run; a mail
# that three runs in a row died holding ends in rejected/ too, never
# taken again first. The faults are made with MIMAMORI_TEST_FAULT
# (core/supervise.c), as a hostile mail would make a library fail.
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"

# check_fault BAD GOOD REASON: BAD rejected with REASON, GOOD (a request
# for an unknown registration) processed after it: rejected for that.
check_fault() {
	cat out err &&
	grep -q "^rejected inbox/new/$1: $3" out &&
	grep -q "^rejected inbox/new/$2: unknown registration" out &&
	test $(wc -l <out) -eq 2 &&
	grep -q "^$3" demo/spool/rejected/$1.reason &&
	test -f demo/spool/rejected/$1 &&
	test -z "$(ls demo/spool/inbox/new)" &&
	test -z "$(ls demo/spool/work/dispatch)" &&
	! test -e demo/spool/work/inflight/dispatch &&
	grep -q "reject.*input=inbox/new/$1 .*reason=worker-died" demo/spool/audit/audit.log &&
	mimamori audit verify >/dev/null
}

# other NAME: a request that is processed to its end and rejected.
other() {
	request "$1" registration=R2026-999999
}

test_expect_success 'setup' '
	dispatch_setup
'

test_expect_success 'a mail that crashes the parser: rejected, the next one processed' '
	other a0 && request a1 && other b1 &&
	MIMAMORI_TEST_FAULT=segv:a1 mimamori --now $NOW dispatch >out 2>err &&
	# the line of the mail finished before the crash is not lost
	grep -q "^rejected inbox/new/a0: unknown registration" out &&
	grep -v "inbox/new/a0:" out >out.rest && mv out.rest out &&
	check_fault a1 b1 "the parser crashed (signal 11)"
'

test_expect_success 'a mail that hangs the parser: rejected after the time limit' '
	request a2 && other b2 &&
	MIMAMORI_TEST_FAULT=hang:a2:1 mimamori --now $NOW dispatch >out 2>err &&
	check_fault a2 b2 "took over"
'

test_expect_success 'a mail that exhausts memory: rejected' '
	if [ -n "$MIMAMORI_SANITIZED" ]; then
		echo "# skipped: no memory limit under the sanitizers"; exit 0
	fi
	request a3 && other b3 &&
	MIMAMORI_TEST_FAULT=nomem:a3 mimamori --now $NOW dispatch >out 2>err &&
	check_fault a3 b3 "over the memory limit"
'

# held: the note of dispatch's worker was touched by its supervisor's
# heartbeat (its time is past the input's start): the input was held
# through a second.
held() {
	f=demo/spool/work/inflight/dispatch
	test -f $f && test "$(stat -c %Y $f)" -gt "$(cut -f4 $f)"
}

# kill_while_held NAME DEATHS [quick]: start dispatch with mail NAME
# hanging, wait until the worker names it (DEATHS runs having died
# holding it before) and, unless quick, until it was held through a
# heartbeat; kill -9 the whole stage and wait for its lock to be free.
kill_while_held() {
	MIMAMORI_TEST_FAULT=hang:$1:300 "$MIMAMORI_BIN" --now $NOW dispatch >>out 2>>err &
	pid=$!
	wait_for 60 grep -q "inbox/new/$1	$2	" demo/spool/work/inflight/dispatch &&
	{ [ "$3" = quick ] || wait_for 60 held; } &&
	kill -9 $pid && wait $pid
	wait_for 60 flock -n demo/spool/lock/dispatch true
}

test_expect_success 'killed three times holding one mail: rejected, the others processed first' '
	: >out && : >err &&
	request k1 &&
	kill_while_held k1 0 &&
	other k2 &&
	kill_while_held k1 1 &&
	grep -q "^rejected inbox/new/k2: unknown registration" out &&
	test -z "$(ls demo/spool/rejected | grep k1)" &&
	kill_while_held k1 2 &&
	other k3 &&
	mimamori --now $NOW dispatch >>out 2>>err &&
	cat out &&
	grep -q "^rejected inbox/new/k1: three runs died while processing it; submit it again" out &&
	grep -q "^rejected inbox/new/k3: unknown registration" out &&
	test -f demo/spool/rejected/k1 &&
	test -z "$(ls demo/spool/inbox/new)" && test -z "$(ls demo/spool/work/dispatch)"
'

test_expect_success 'killed three times in its first second: a kill -9 of the stage, not the mail' '
	: >out && : >err &&
	other q1 &&
	kill_while_held q1 0 quick && kill_while_held q1 0 quick && kill_while_held q1 0 quick &&
	mimamori --now $NOW dispatch >>out 2>>err &&
	cat out &&
	grep -q "^rejected inbox/new/q1: unknown registration" out &&
	! grep -q "three runs died" demo/spool/rejected/q1.reason
'

test_expect_success 'killed once: the mail is taken again, after the new ones' '
	: >out && : >err &&
	request m1 &&
	kill_while_held m1 0 &&
	other m2 &&
	mimamori --now $NOW dispatch >out 2>err &&
	cat out &&
	test "$(sed -n "s/^[a-z]* inbox\/new\/\(m[12]\)[: ].*/\1/p" out | tr "\n" " ")" = "m2 m1 " &&
	grep -q "^accepted inbox/new/m1 A" out &&
	test -z "$(ls demo/spool/work/dispatch)"
'

test_done
