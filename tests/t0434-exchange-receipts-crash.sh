#!/bin/sh
# kill -9 of the receipts' way back at random instants: a node's export
# writing receipts, and the custodian's import taking them. Re-running
# ends with every bundle acknowledged, each receipt applied once, none
# rejected (mimamori-spool(5)). CRASH_RUNS sets the number of runs of each
# (make check: 10; make crash: 200).
. "$(dirname "$0")/lib.sh"
pin_clock 2026-11-21T12:00:00+09:00

RUNS=${CRASH_RUNS:-10}
V=vendor

# One new person at the custodian, exported; only the vendor's bundles
# are carried (to its import/), the others dropped.
round() {
	make_registration "$1" >in-$1.xml &&
	mimamori submit in-$1.xml >/dev/null && mimamori intake >>intake.out &&
	mimamori export >>export.out &&
	mv demo/spool/outgoing/$V/*.tar.gpg demo/nodes/$V/spool/import/ &&
	rm -f demo/spool/outgoing/*/*.tar.gpg
}
# The vendor's receipt bundles to the custodian's import/.
back() {
	for f in demo/nodes/$V/spool/outgoing/council/*.tar.gpg; do
		[ -f "$f" ] || continue
		basename "$f" >>carried && mv "$f" demo/spool/import/ || return 1
	done
}

test_expect_success 'setup' '
	setup_demo
'

test_expect_success "receipts written by an export killed at random, $RUNS runs" '
	killed=0 &&
	round 1 && node $V import >/dev/null &&
	timed node $V export && max=$((took + took / 4 + 20)) && back &&
	r=2 && while [ $r -le $RUNS ]; do
		round $r && node $V import >>vimport.out || return 1
		killed_run $max "$MIMAMORI_BIN" -c demo/nodes/$V/mimamori.xml export
		back || return 1
		r=$((r + 1))
	done &&
	echo "receipts export: runs=$RUNS killed=$killed (0..$max ms)" >>stats &&
	node $V export >>crash.out && back &&
	test -z "$(ls demo/nodes/$V/spool/work/export)" &&
	test -z "$(sort carried | uniq -d)"
'

test_expect_success "receipts imported by an import killed at random, $RUNS runs" '
	killed=0 &&
	timed mimamori import && max=$((took + took / 4 + 20)) &&
	r=$((RUNS + 1)) && last=$((RUNS * 2)) &&
	while [ $r -le $last ]; do
		round $r && node $V import >>vimport.out && node $V export >>vexport.out &&
		back || return 1
		killed_run $max "$MIMAMORI_BIN" import
		r=$((r + 1))
	done &&
	echo "receipts import: runs=$RUNS killed=$killed (0..$max ms)" >>stats &&
	mimamori import >>crash.out &&
	test -z "$(ls demo/spool/import)" && test -z "$(ls demo/spool/work/import)"
'

test_expect_success 'each receipt applied once, none rejected; all acknowledged' '
	! grep -q "^rejected" crash.out vimport.out &&
	test -z "$(ls demo/spool/rejected)" &&
	grep "	apply	.*from=$V" demo/spool/audit/audit.log |
		sed "s/.* seq=\([0-9]*\) .*/\1/" | sort -n >applied &&
	test -s applied && test -z "$(uniq -d applied)" &&
	n=$(mimamori exchange --csv | sed -n "s/^$V,\([0-9]*\),.*/\1/p") &&
	mimamori exchange --csv | grep -x "$V,$n,2026-11-21,$n,2026-11-21,0,0,-" &&
	mimamori audit verify && node $V audit verify
'

sed "s/^/# /" stats 2>/dev/null
test_done
