#!/bin/sh
# kill -9 of export and of import at random instants: re-running ends in
# the same state as an uninterrupted run, with no bundle applied twice and
# none lost (mimamori-design(7)). CRASH_RUNS sets the number of runs of each
# (make check: 30; make crash: 200).
. "$(dirname "$0")/lib.sh"
# Registration ids and dates below are of 2026: the clock is pinned there.
pin_clock 2026-11-21T12:00:00+09:00

RUNS=${CRASH_RUNS:-16}
AGENCIES="ward-chuo ward-nada center-chuo-1 center-nada-1 police-ikuta police-nada vendor"

# A person in ward chuo (center-chuo-1) or nada (center-nada-1).
person() {
	n=$1 ward=$2
	make_registration "$n" |
		sed -e "s/ward=\"nada\"/ward=\"$ward\"/" -e "s/center-nada-1/center-$ward-1/"
}

# One round of changes at the custodian: a new person, and every few
# rounds a ward move, a change of care or a cancellation of an earlier one.
round() {
	r=$1
	if [ $((r % 2)) -eq 0 ]; then w=chuo; else w=nada; fi
	person "$r" $w >in-$r.xml &&
	mimamori submit in-$r.xml >/dev/null || return 1
	if [ $r -gt 3 ]; then
		old=$(printf 'R2026-%06d' $((r - 3)))
		case $((r % 4)) in
		0)	# move to the other ward: a deletion for the old one
			{
				echo '<?xml version="1.0" encoding="UTF-8"?>'
				echo "<change xmlns=\"urn:mimamori:1\"><id>$old</id><date>2026-11-21</date>"
				person $((r - 3)) $w | sed -n '/<person>/,/<\/person>/p'
				echo '</change>'
			} >chg-$r.xml ;;
		1)	sed -e "s/R2026-000001/$old/" -e "s/2026-06-01/2026-11-21/" \
				"$DATA/registration/change.xml" >chg-$r.xml ;;
		2)	sed -e "s/R2026-000001/$old/" -e "s/2026-09-30/2026-11-21/" \
				"$DATA/registration/cancellation.xml" >chg-$r.xml ;;
		*)	return 0 ;;
		esac
		mimamori submit chg-$r.xml >/dev/null || return 1
	fi
	return 0
}

# Move every bundle written for an agency to its node's import/.
carry() {
	for a in $AGENCIES; do
		for f in demo/spool/outgoing/$a/*.tar.gpg; do
			[ -f "$f" ] || continue
			basename "$f" >>carried.$a &&
			mv "$f" demo/nodes/$a/spool/import/ || return 1
		done
	done
}

# What a node must hold: for each active record of the custodian, its
# id, version, ward and center ("ID VERSION WARD CENTER" lines).
custodian_records() {
	for rid in $(ls demo/spool/registry/records | sed "s/\.[0-9]*$//" | sort -u); do
		mimamori show "$rid" >rec.xml 2>/dev/null || continue
		v=$(sed -n 's/.*<record[^>]* version="\([0-9]*\)".*/\1/p' rec.xml | head -1)
		w=$(sed -n 's/.*<address ward="\([a-z]*\)".*/\1/p' rec.xml | head -1)
		c=$(sed -n 's/.*<intake center="\([a-z0-9-]*\)".*/\1/p' rec.xml | head -1)
		echo "$rid $v $w $c"
	done
}

# in_scope AGENCY WARD CENTER: whether the agency gets that record.
in_scope() {
	case $1 in
	ward-*|police-ikuta|police-nada)
		case $1 in police-ikuta) aw=chuo ;; police-nada) aw=nada ;; *) aw=${1#ward-} ;; esac
		[ "$2" = "$aw" ] ;;
	center-*) [ "$3" = "$1" ] ;;
	*) true ;;
	esac
}

# Every node holds exactly the records of its scope, at the custodian's
# version, and nothing else; its import/ and work/import/ are empty and
# nothing was rejected.
check_nodes() {
	custodian_records >expect.all &&
	test -s expect.all &&
	for a in $AGENCIES; do
		sp=demo/nodes/$a/spool
		test -z "$(ls $sp/import)" || { echo "$a: import/ not empty" >&2; return 1; }
		test -z "$(ls $sp/work/import)" || { echo "$a: work/import/ not empty" >&2; return 1; }
		test -z "$(ls $sp/rejected)" || { echo "$a: rejected: $(cat $sp/rejected/*.reason)" >&2; return 1; }
		: >want.$a
		while read rid v w c; do
			in_scope $a $w $c && echo "$rid $v" >>want.$a
		done <expect.all
		: >got.$a
		for rid in $(ls $sp/registry/records | sed "s/\.[0-9]*$//" | sort -u); do
			node $a show "$rid" >nrec.xml 2>/dev/null || continue
			v=$(sed -n 's/.*<record[^>]* version="\([0-9]*\)".*/\1/p' nrec.xml | head -1)
			echo "$rid $v" >>got.$a
		done
		test_cmp want.$a got.$a || { echo "$a holds other records" >&2; return 1; }
		node $a audit verify || return 1
	done
}

test_expect_success 'setup' '
	setup_demo
'

test_expect_success "export killed at random instants over $RUNS runs" '
	killed=0 &&
	round 1 && mimamori intake >/dev/null &&
	timed mimamori export && max=$((took + took / 4 + 20)) &&
	echo "an uninterrupted export: $took ms; kills within 0..$max ms" &&
	r=2 && while [ $r -le $RUNS ]; do
		round $r && mimamori intake >>intake.out || return 1
		killed_run $max "$MIMAMORI_BIN" export
		carry || return 1
		r=$((r + 1))
	done &&
	echo "export: runs=$RUNS killed=$killed (0..$max ms)" >>stats &&
	test $killed -gt 0 &&
	mimamori export >>crash.out &&
	carry &&
	test -z "$(ls demo/spool/work/export)" &&
	! grep -q ^rejected intake.out
'

test_expect_success 'nothing pending: one more export writes nothing' '
	mimamori export >out &&
	! grep -q ^wrote out
'

test_expect_success 'no sequence number was used twice; every agency has bundles' '
	for a in $AGENCIES; do
		sort carried.$a >seqs.$a &&
		test -s seqs.$a &&
		test -z "$(uniq -d seqs.$a)" || return 1
	done
'

test_expect_success 'the bundles, imported all at once, give each node its scope' '
	for a in $AGENCIES; do
		node $a import >import-$a.out 2>import-$a.err || { cat import-$a.err; return 1; }
	done &&
	check_nodes &&
	mimamori audit verify
'

# import: the custodian writes a bundle per round for the vendor (and the
# others); the vendor imports each one, killed at random; bundles wait in
# import/ when a run is killed before it reaches them.
test_expect_success "import killed at random instants over $RUNS runs" '
	killed=0 && b=0 &&
	r=$((RUNS + 1)) && last=$((RUNS * 2)) &&
	while [ $r -le $last ]; do
		round $r && mimamori intake >/dev/null && mimamori export >/dev/null || return 1
		carry || return 1
		if [ $r -eq $((RUNS + 1)) ]; then
			timed node vendor import && max=$((took + took / 4 + 20)) &&
			echo "an uninterrupted import: $took ms; kills within 0..$max ms" || return 1
		else
			killed_run $max "$MIMAMORI_BIN" -c demo/nodes/vendor/mimamori.xml import
		fi
		r=$((r + 1))
	done &&
	echo "import: runs=$RUNS killed=$killed (0..$max ms)" >>stats &&
	test $killed -gt 0 &&
	for a in $AGENCIES; do
		node $a import >>import-$a.out 2>>import-$a.err || return 1
	done
'

test_expect_success 'each bundle was applied exactly once, none rejected' '
	log=demo/nodes/vendor/spool/audit/audit.log &&
	grep "	apply	" $log | sed "s/.* seq=\([0-9]*\) .*/\1/" | sort -n >applied &&
	test -s applied &&
	test -z "$(uniq -d applied)" &&
	! grep -q "replayed" demo/nodes/vendor/spool/rejected/*.reason 2>/dev/null &&
	! grep -q "^rejected" import-vendor.out crash.out
'

test_expect_success 'every node holds exactly its scope at the last version' '
	check_nodes &&
	mimamori audit verify
'

sed "s/^/# /" stats 2>/dev/null
test_done
