#!/bin/sh
# make demo's script works, and works twice in a row.
. "$(dirname "$0")/lib.sh"

test_expect_success 'the demo runs' '
	DEMO_DIR=$TRASH/d sh "$TEST_SRC/tests/demo.sh" "$BUILD" >out1 2>&1 &&
	grep "^accepted incoming/registration-kobe-hanako.xml R[0-9]*-000003" out1 &&
	grep "rejected incoming/registration-kobe-hanako.xml: duplicate" out1 &&
	grep "audit log intact" out1
'

test_expect_success 'and runs again on top of the first' '
	DEMO_DIR=$TRASH/d sh "$TEST_SRC/tests/demo.sh" "$BUILD" >out2 2>&1 &&
	grep "^accepted incoming/registration-kobe-hanako.xml R[0-9]*-000003" out2 &&
	grep "audit log intact" out2
'

test_done
