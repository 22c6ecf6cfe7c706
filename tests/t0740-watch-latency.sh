#!/bin/sh
# watch, request to relay: each of N signed requests (for N different
# people) moved into inbox/new reaches smtp-sink, every list member once,
# while watch runs. Prints the latency benchmark B4 (tests/bench/README.md) asks about: from the
# rename into inbox/new to the sink's first dump holding an alert
# recipient (the end of the first SMTP transaction, so a little later
# than the first RCPT accepted). A benchmark figure, not a timed test:
# nothing fails for being slow.
#
#   B4_REQUESTS=50 B4_RECIPIENTS=1000 sh tests/run.sh BUILD tests/t0740-watch-latency.sh
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"
. "$TEST_SRC/tests/lib-mail.sh"

N=${B4_REQUESTS:-10}
M=${B4_RECIPIENTS:-100}
S=demo/spool

test_expect_success "setup: $N people registered, a list of $M members, a relay" '
	setup_demo &&
	add_list bench $M demo/mimamori.xml &&
	i=1 && while [ $i -le $N ]; do
		make_registration $i >r$i.xml || return 1
		i=$((i + 1))
	done &&
	mimamori --now 2026-11-01 submit r*.xml >/dev/null &&
	mimamori --now 2026-11-01 intake >intake.out &&
	test "$(grep -c ^accepted intake.out)" = $N &&
	mkdir -p gen/demo/spool/inbox/new &&
	ln -s ../../demo/mimamori.xml ../../demo/operator gen/demo/ &&
	i=1 && while [ $i -le $N ]; do
		id=$(printf "R2026-%06d" $i) &&
		(cd gen && request lat-$i area= registration=$id requester-name= \
			requester-relationship=) || return 1
		i=$((i + 1))
	done &&
	test "$(ls gen/demo/spool/inbox/new | wc -l)" = $N &&
	sink_start sink &&
	set_relay $SINK_PORT &&
	echo $SINK_PORT >sink.port &&
	echo $SINK_PID >sink.pid
'
SINK_PID=$(cat sink.pid 2>/dev/null)
test_pids="$test_pids $SINK_PID"

"$MIMAMORI_BIN" --now $NOW watch --interval 3600 >watch.out 2>watch.err &
WATCH_PID=$!
test_pids="$test_pids $WATCH_PID"

test_expect_success "$N requests in a row reach the sink while watch runs" '
	python3 - $N $S sink >latency <<-\PY &&
	import os, sys, time
	n, spool, sink = int(sys.argv[1]), sys.argv[2], sys.argv[3]
	audit = os.path.join(spool, "audit", "audit.log")
	deadline = time.monotonic() + 60
	while "\twatch\tstart\t" not in open(audit).read():
	    if time.monotonic() > deadline:
	        sys.exit("watch did not start")
	    time.sleep(0.01)
	time.sleep(0.5)
	seen = set(os.listdir(sink))
	lat = []
	for i in range(1, n + 1):
	    name = "lat-%d" % i
	    t0 = time.monotonic()
	    os.rename(os.path.join("gen/demo/spool/inbox/new", name),
	              os.path.join(spool, "inbox/new", name))
	    first = None
	    deadline = t0 + 60
	    while first is None and time.monotonic() < deadline:
	        for f in os.listdir(sink):
	            if f in seen:
	                continue
	            try:
	                head = open(os.path.join(sink, f), "rb").read(4096)
	            except OSError:
	                continue
	            if b"@bench.example.jp" in head:
	                first = time.monotonic()
	            if first is not None or b"Received: " in head:
	                seen.add(f)   # else still being written: look again
	        if first is None:
	            time.sleep(0.001)
	    if first is None:
	        sys.exit("request %d: nothing reached the sink in 60 s" % i)
	    lat.append((first - t0) * 1000)
	    # let this alert finish before the next request lands
	    deadline = time.monotonic() + 120
	    while os.listdir(os.path.join(spool, "queue/env")) and time.monotonic() < deadline:
	        time.sleep(0.005)
	    seen.update(os.listdir(sink))
	lat.sort()
	def pct(p):
	    return lat[min(len(lat) - 1, int(round(p / 100.0 * len(lat) + 0.5)) - 1)]
	print("B4 latency: %d requests x %d+ recipients: p50 %.0f ms, p99 %.0f ms, max %.0f ms"
	      % (n, 0, pct(50), pct(99), lat[-1]))
	PY
	sed "s/x 0+ recipients/x '$M'+ recipients/" latency >latency.txt &&
	cat latency.txt &&
	grep -c "^accepted inbox/new/lat-" watch.out >n &&
	test "$(cat n)" = $N
'

test_expect_success 'every list member got each alert exactly once' '
	sink_rcpts sink | grep "@bench.example.jp" | sort | uniq -c >counts &&
	test "$(wc -l <counts)" = $M &&
	! grep -v "^ *$N " counts
'

test_expect_success 'SIGTERM stops watch' '
	kill -TERM $WATCH_PID &&
	i=0 && while kill -0 $WATCH_PID 2>/dev/null &&
		! grep -q "^[0-9]* ([^)]*) Z" /proc/$WATCH_PID/stat && [ $i -lt 200 ]; do
		sleep 0.05; i=$((i + 1))
	done &&
	grep -q "	watch	stop	signal=yes" $S/audit/audit.log
'

sed 's/^/# /' latency.txt 2>/dev/null
grep -q "inotify" watch.err 2>/dev/null &&
	echo "# (without inotify: $(grep -m1 inotify watch.err))"
test_done
