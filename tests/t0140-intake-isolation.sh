#!/bin/sh
# intake parses in a worker process: a document that crashes the parser,
# hangs it or exhausts its memory ends in rejected/ with its reason, and
# the documents beside it are taken in the same run. A document that
# three runs in a row died holding goes to rejected/ too. The faults are
# made with MIMAMORI_TEST_FAULT (core/supervise.c), the way a hostile
# document would make a library fail.
. "$(dirname "$0")/lib.sh"

NOW=2026-11-01

# three NAME N: doc-NAME1..3.xml, three new people from N on.
three() {
	for i in 1 2 3; do
		make_registration $(($2 + i)) >"doc-$1$i.xml" || return 1
	done &&
	mimamori --now $NOW submit doc-$1*.xml >/dev/null
}

# check_fault KIND REASON: doc-KIND2.xml fails with REASON; 1 and 3 pass.
check_fault() {
	grep -q "^accepted incoming/doc-${1}1.xml R" out &&
	grep -q "^accepted incoming/doc-${1}3.xml R" out &&
	grep -q "^rejected incoming/doc-${1}2.xml: $2" out &&
	test $(wc -l <out) -eq 3 &&
	grep -q "^$2" "demo/spool/rejected/doc-${1}2.xml.reason" &&
	test -f "demo/spool/rejected/doc-${1}2.xml" &&
	test -z "$(ls demo/spool/incoming)" && test -z "$(ls demo/spool/work/intake)" &&
	grep -q "reject.*input=incoming/doc-${1}2.xml .*reason=worker-died" demo/spool/audit/audit.log &&
	mimamori audit verify >/dev/null
}

test_expect_success 'setup' '
	setup_demo
'

test_expect_success 'a document that crashes the parser is rejected, the others taken' '
	three segv 10 &&
	MIMAMORI_TEST_FAULT=segv:doc-segv2.xml mimamori --now $NOW intake >out 2>err &&
	cat out err &&
	check_fault segv "the parser crashed (signal 11)"
'

test_expect_success 'a document that hangs the parser is rejected after the time limit' '
	three hang 20 &&
	MIMAMORI_TEST_FAULT=hang:doc-hang2.xml:1 mimamori --now $NOW intake >out 2>err &&
	cat out err &&
	check_fault hang "took over"
'

test_expect_success 'a document that exhausts memory is rejected' '
	if [ -n "$MIMAMORI_SANITIZED" ]; then
		echo "# skipped: no memory limit under the sanitizers"; exit 0
	fi
	three nomem 30 &&
	MIMAMORI_TEST_FAULT=nomem:doc-nomem2.xml mimamori --now $NOW intake >out 2>err &&
	cat out err &&
	check_fault nomem "over the memory limit"
'

test_expect_success 'inputs a killed run held are taken after the new ones' '
	three twice 50 && : >out && : >err &&
	MIMAMORI_TEST_FAULT=hang:doc-twice2.xml:300 "$MIMAMORI_BIN" --now $NOW intake >>out 2>>err &
	pid=$! &&
	wait_for 60 sh -c "ls demo/spool/work/intake | grep -q doc-twice2" &&
	kill -9 $pid && wait $pid
	# The worker goes with its supervisor, and the lock with it.
	wait_for 60 flock -n demo/spool/lock/intake true &&
	make_registration 60 >doc-new1.xml &&
	mimamori --now $NOW submit doc-new1.xml >/dev/null &&
	mimamori --now $NOW intake >>out 2>>err &&
	cat out &&
	grep -q "^accepted incoming/doc-twice2.xml R" out &&
	test "$(grep -n "doc-new1" out | cut -d: -f1)" -lt "$(grep -n "doc-twice2" out | cut -d: -f1)" &&
	test -z "$(ls demo/spool/work/intake)"
'

test_done
