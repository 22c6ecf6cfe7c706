#!/bin/sh
# kill -9 of intake at random instants: every input ends in exactly one
# place, and the registry holds each accepted person once.
. "$(dirname "$0")/lib.sh"

RUNS=${CRASH_RUNS:-100}
PER=5         # valid registrations per run; one bad one too
N=$((RUNS * PER))
BAD=$RUNS

rand_ms() {
	# 0..$1 milliseconds, from the kernel's random source
	r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	echo $((r % $1))
}

test_expect_success 'setup: good and bad registrations for every run' '
	setup_demo &&
	mkdir batch &&
	i=1 && while [ $i -le $N ]; do
		make_registration $i >batch/good-$i.xml || return 1
		i=$((i + 1))
	done &&
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
		"$MIMAMORI_BIN" intake >>out.log 2>>err.log &
		pid=$! &&
		sleep 0.$(printf %03d $(rand_ms 60)) &&
		kill -9 $pid 2>/dev/null && killed=$((killed + 1))
		wait $pid 2>/dev/null
		run=$((run + 1))
	done &&
	echo "runs=$RUNS killed=$killed" &&
	test $killed -gt 0 &&
	mimamori intake >>out.log 2>>err.log
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

test_expect_success 'the registry holds each accepted person once' '
	test $(ls demo/spool/registry/records | wc -l) -eq $N &&
	! grep -l duplicate demo/spool/rejected/*.reason &&
	for f in $(ls demo/spool/registry/records); do
		id=${f%.*} &&
		mimamori show $id >rec.xml || return 1
		grep -o "<name-kana>[^<]*" rec.xml >>kanas || return 1
	done &&
	test $(sort kanas | uniq | wc -l) -eq $N &&
	test $(wc -l <kanas) -eq $N
'

test_expect_success 'the ids are unique and the audit chain is intact' '
	ls demo/spool/registry/records | sed "s/\.[0-9]*$//" | sort | uniq -d >dups &&
	test ! -s dups &&
	mimamori audit verify
'

test_done
