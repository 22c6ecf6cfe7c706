#!/bin/sh
# kill -9 of intake at random instants: every input ends in exactly one
# place, and the registry holds each accepted person once.
. "$(dirname "$0")/lib.sh"

RUNS=${CRASH_RUNS:-50}
PER=5         # valid registrations per run; one bad one too
# Then runs of BIG inputs, three commits each, with the parsing threads
# ahead of the commits when the kill lands.
# make check: 3 of them; make crash: CRASH_RUNS / 20.
BIG=2500
BIG_RUNS=3
[ -n "$CRASH_RUNS" ] && [ $((CRASH_RUNS / 20)) -gt 3 ] && BIG_RUNS=$((CRASH_RUNS / 20))
SMALL=$((RUNS * PER))
N=$((SMALL + BIG_RUNS * BIG))
BAD=$RUNS

test_expect_success 'setup: good and bad registrations for every run' '
	setup_demo &&
	mkdir batch &&
	i=1 && while [ $i -le $SMALL ]; do
		make_registration $i >batch/good-$i.xml || return 1
		i=$((i + 1))
	done &&
	mkdir big &&
	make_registration 0 >template.xml &&
	awk -v from=$((SMALL + 1)) -v to=$N "
		{ t[NR] = \$0 }
		END {
			for (n = from; n <= to; n++) {
				f = sprintf(\"big/good-%06d.xml\", n)
				for (l = 1; l <= NR; l++) {
					line = t[l]
					sub(/てすと 0/, \"てすと \" n, line)
					sub(/<name>[^<]*0</, \"<name>大量 \" n \"<\", line)
					print line >f
				}
				close(f)
			}
		}" template.xml &&
	test $(ls big | wc -l) -eq $((N - SMALL)) &&
	grep -q "てすと $N<" big/good-$(printf %06d $N).xml &&
	i=1 && while [ $i -le $BAD ]; do
		make_registration $((100000 + i)) |
			sed "s|<sex>female</sex>|<sex>unknown</sex>|" >batch/bad-$i.xml || return 1
		i=$((i + 1))
	done
'

test_expect_success "kill -9 at random instants over $RUNS runs, each with work" '
	run=1 && killed=0 &&
	while [ $run -le $RUNS ]; do
		first=$(( (run - 1) * PER + 1 )) &&
		files="batch/bad-$run.xml" &&
		for i in $(seq $first $((first + PER - 1))); do
			files="$files batch/good-$i.xml"
		done &&
		mimamori submit $files >/dev/null || return 1
		killed_run 60 "$MIMAMORI_BIN" intake
		run=$((run + 1))
	done &&
	echo "runs=$RUNS killed=$killed" &&
	test $killed -gt 0
'

test_expect_success "kill -9 in runs of $BIG inputs (three commits), $BIG_RUNS runs" '
	run=0 && killed=0 &&
	ls big | sed "s|^|big/|" >big.list &&
	while [ $run -lt $BIG_RUNS ]; do
		sed -n "$((run * BIG + 1)),$(((run + 1) * BIG))p" big.list | xargs "$MIMAMORI_BIN" submit >/dev/null || return 1
		"$MIMAMORI_BIN" intake >>crash.out 2>>crash.err &
		pid=$! &&
		ms=$(rand_ms 1500) &&
		sleep $((ms / 1000)).$(printf %03d $((ms % 1000))) &&
		kill -9 $pid 2>/dev/null && killed=$((killed + 1))
		wait $pid 2>/dev/null
		echo "# big run $((run + 1)): killed after $ms ms, $(ls demo/spool/registry/records | wc -l) records, $(ls demo/spool/work/intake | wc -l) claimed, $(ls demo/spool/incoming | wc -l) waiting"
		run=$((run + 1))
	done &&
	echo "big runs=$BIG_RUNS killed=$killed" &&
	mimamori intake >>crash.out 2>>crash.err
'

test_expect_success 'every input is in exactly one place' '
	test -z "$(ls demo/spool/incoming)" &&
	test -z "$(ls demo/spool/work/intake)" &&
	test -z "$(ls demo/spool/tmp)" &&
	test $(ls demo/spool/rejected/*.reason | wc -l) -eq $BAD &&
	for i in $(seq 1 $BAD); do
		test -f demo/spool/rejected/bad-$i.xml || return 1
	done &&
	! ls demo/spool/rejected | grep -q good-
'

# N records for N different people, and no input refused as a duplicate:
# an input applied twice would have been one. The records of the small
# runs, and every 25th of the big ones, are read back.
test_expect_success 'the registry holds each accepted person once' '
	test $(ls demo/spool/registry/records | wc -l) -eq $N &&
	! grep -l duplicate demo/spool/rejected/*.reason &&
	ls demo/spool/registry/records | sort >records &&
	{ head -n $SMALL records; sed "1,${SMALL}d" records | awk "NR % 25 == 1"; } >sample &&
	for f in $(cat sample); do
		id=${f%.*} &&
		mimamori show $id >rec.xml || return 1
		grep -o "<name-kana>[^<]*" rec.xml >>kanas || return 1
	done &&
	test $(sort kanas | uniq | wc -l) -eq $(wc -l <sample) &&
	test $(wc -l <kanas) -eq $(wc -l <sample)
'

test_expect_success 'the ids are unique and the audit chain is intact' '
	ls demo/spool/registry/records | sed "s/\.[0-9]*$//" | sort | uniq -d >dups &&
	test ! -s dups &&
	mimamori audit verify
'

test_done
