#!/bin/sh
# Two intake processes on one spool never take the same input.
. "$(dirname "$0")/lib.sh"

N=120

test_expect_success 'setup' '
	setup_demo &&
	mkdir batch &&
	i=1 && while [ $i -le $N ]; do
		make_registration $i >batch/r-$i.xml || return 1
		i=$((i + 1))
	done &&
	mimamori submit batch/*.xml >/dev/null
'

test_expect_success 'two intakes at once' '
	"$MIMAMORI_BIN" intake >out1 2>err1 &
	p1=$! &&
	"$MIMAMORI_BIN" intake >out2 2>err2 &
	p2=$! &&
	wait $p1 && wait $p2 &&
	cat out1 out2 >all &&
	test $(grep -c "^accepted " all) -eq $N &&
	! grep "^rejected " all &&
	sed "s/^accepted \([^ ]*\) .*/\1/" all | sort | uniq -d >dup-inputs &&
	test ! -s dup-inputs &&
	sed "s/^accepted [^ ]* //" all | sort | uniq -d >dup-ids &&
	test ! -s dup-ids &&
	test $(ls demo/spool/registry/records | wc -l) -eq $N &&
	test -z "$(ls demo/spool/incoming)"
'

test_expect_success 'submit and intake racing: nothing lost, nothing twice' '
	mkdir batch2 &&
	i=1 && while [ $i -le 40 ]; do
		make_registration $((500 + i)) >batch2/s-$i.xml || return 1
		i=$((i + 1))
	done &&
	(for f in batch2/*.xml; do "$MIMAMORI_BIN" submit $f >/dev/null; done) &
	ps=$! &&
	(for k in 1 2 3 4 5 6; do "$MIMAMORI_BIN" intake; done) >race.out &
	pi=$! &&
	wait $ps && wait $pi &&
	mimamori intake >>race.out &&
	test $(grep -c "^accepted " race.out) -eq 40 &&
	test $(ls demo/spool/registry/records | wc -l) -eq $((N + 40))
'

test_done
