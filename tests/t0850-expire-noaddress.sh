#!/bin/sh
# expire: an intake center without an address in the config gets no
# reminder; expire says so, exits 78, and tries again once the address
# is configured (the reminder is not marked as sent meanwhile).
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: one registration by center-nada-1, whose address is removed' '
	setup_demo &&
	mimamori --now 2026-11-21 submit $DATA/registration/valid-minimal.xml >/dev/null &&
	mimamori --now 2026-11-21 intake | grep -q "^accepted .* R2026-000001" &&
	cp demo/mimamori.xml with-address.xml &&
	sed "/agency id=\"center-nada-1\"/s/ address=\"[^\"]*\"//" with-address.xml \
		>demo/mimamori.xml &&
	grep "agency id=\"center-nada-1\"" demo/mimamori.xml >line &&
	test_must_fail grep -q "address=" line
'

test_expect_success 'no address: no reminder, exit 78, a reason naming the center' '
	test_expect_code 78 mimamori --now 2028-09-22 expire >out 2>err &&
	test_must_fail grep -q reminded out &&
	grep -q "center-nada-1.* has no address" err &&
	test -z "$(ls demo/spool/queue/env)"
'

test_expect_success 'the address back: the reminder goes at the next run, once' '
	cp with-address.xml demo/mimamori.xml &&
	mimamori --now 2028-09-23 expire >out &&
	echo "reminded R2026-000001" >expect && test_cmp expect out &&
	grep -q "^rcpt center-nada-1@example.jp" demo/spool/queue/env/* &&
	mimamori --now 2028-09-24 expire >out && test_must_fail test -s out
'

test_done
