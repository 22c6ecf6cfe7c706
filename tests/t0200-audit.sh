#!/bin/sh
# The audit log: one line per operation, no personal data, and a chain
# that names the first edited, removed or reordered line.
. "$(dirname "$0")/lib.sh"

LOG=demo/spool/audit/audit.log

test_expect_success 'setup: operations to audit' '
	setup_demo &&
	mimamori submit demo/samples/*.xml >/dev/null &&
	mimamori intake >out &&
	id=$(sed -n "1s/.* //p" out) &&
	mimamori show $id >/dev/null &&
	mimamori show $id --as alert >/dev/null &&
	make_registration 1 | sed s/female/other/ >bad.xml &&
	mimamori submit bad.xml >/dev/null &&
	mimamori intake >/dev/null &&
	test $(wc -l <$LOG) -ge 10 &&
	cp $LOG log.orig && cp demo/spool/audit/audit.head head.orig
'

test_expect_success 'every stage wrote its events' '
	grep -P "\tsubmit\tsubmit\t" $LOG &&
	grep -P "\tintake\taccept\tinput=incoming/[^ ]* id=R[0-9]{4}-[0-9]{6}\t" $LOG &&
	grep -P "\tintake\treject\tinput=incoming/bad.xml\t" $LOG &&
	grep -P "\tshow\tshow\tid=R[0-9]{4}-[0-9]{6} as=alert\t" $LOG
'

test_expect_success 'no personal data in the audit log' '
	for s in 神戸 こうべ 花子 加納町 078-000 090-0000 1941-04-01 三宮; do
		! grep -F "$s" $LOG || return 1
	done
'

test_expect_success 'an intact log verifies' '
	mimamori audit verify >out &&
	grep "audit log intact" out
'

restore() {
	cp log.orig $LOG && cp head.orig demo/spool/audit/audit.head
}

test_expect_success 'an edited line is found' '
	restore &&
	sed -i "3s/^2/1/" $LOG &&
	test_expect_code 65 mimamori audit verify 2>err &&
	grep "line 3" err
'

test_expect_success 'an edited detail (a changed id) is found' '
	restore &&
	sed -i "5s/id=R/id=X/" $LOG &&
	test_expect_code 65 mimamori audit verify 2>err &&
	grep "line 5" err
'

test_expect_success 'a removed line is found' '
	restore &&
	sed -i "4d" $LOG &&
	test_expect_code 65 mimamori audit verify 2>err &&
	grep "line 4" err
'

test_expect_success 'reordered lines are found' '
	restore &&
	sed -n "1,5p" log.orig >$LOG &&
	sed -n "7p" log.orig >>$LOG &&
	sed -n "6p" log.orig >>$LOG &&
	sed -n "8,\$p" log.orig >>$LOG &&
	test_expect_code 65 mimamori audit verify 2>err &&
	grep "line 6" err
'

test_expect_success 'a removed last line is found' '
	restore &&
	sed -i "\$d" $LOG &&
	test_expect_code 65 mimamori audit verify 2>err &&
	grep "line" err
'

test_expect_success 'the log and its folder are private' '
	restore &&
	test "$(stat -c %a $LOG)" = 600 &&
	test "$(stat -c %a demo/spool/audit)" = 700
'

test_done
