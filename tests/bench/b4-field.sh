#!/bin/sh
# The field path's latency: N signed requests handed by SMTP to a
# throwaway Postfix on loopback, whose alias pipes them to `mimamori
# receive` (as nobody, the node's user here) while watch runs; from the
# end of the SMTP transaction to the first alert recipient's dump at
# smtp-sink. Baseline: the same Postfix delivering the same mail to a
# plain Maildir (injection to the file in new/). Prints ours, the
# baseline, and ours minus the baseline at p50 and p99. A benchmark
# figure, not a timed test: nothing fails for being slow.
#
# Run by make bench (tests/bench/bench-mail.sh); alone, from the source tree:
#   BUILD=build B4F_REQUESTS=50 B4F_RECIPIENTS=1000 sh tests/bench/b4-field.sh
LIB_TEST_SRC=$(cd "$(dirname "$0")/../.." && pwd)
. "$LIB_TEST_SRC/tests/lib.sh"
. "$TEST_SRC/tests/lib-mail.sh"
. "$TEST_SRC/tests/lib-postfix.sh"
. "$DATA/request/lib.sh"

postfix_require

N=${B4F_REQUESTS:-10}
M=${B4F_RECIPIENTS:-100}
S=demo/spool

test_expect_success "setup: $N people registered, a list of $M members, $N signed requests" '
	setup_demo &&
	add_list bench $M demo/mimamori.xml &&
	i=1 && while [ $i -le $N ]; do
		make_registration $i >r$i.xml || return 1
		i=$((i + 1))
	done &&
	mimamori --now 2026-11-01 submit r*.xml >/dev/null &&
	mimamori --now 2026-11-01 intake >intake.out &&
	test "$(grep -c ^accepted intake.out)" = $N &&
	mkdir -p gen/demo/spool/inbox/new mails &&
	ln -s ../../demo/mimamori.xml ../../demo/operator gen/demo/ &&
	i=1 && while [ $i -le $N ]; do
		id=$(printf "R2026-%06d" $i) &&
		(cd gen && request lat-$i area= registration=$id requester-name= \
			requester-relationship=) &&
		mv gen/demo/spool/inbox/new/lat-$i mails/ || return 1
		i=$((i + 1))
	done &&
	kill_agents "$TRASH/demo" &&
	mkdir -p maildir/new maildir/cur maildir/tmp &&
	chmod 755 "$TRASH"
'

sink_start sink && set_relay "$SINK_PORT" && chown -R nobody:nogroup demo maildir &&
	postfix_start pf "requests: \"|$MIMAMORI_BIN -c $TRASH/demo/mimamori.xml receive\"
baseline: $TRASH/maildir/"
started=$?
setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$TRASH" \
	"$MIMAMORI_BIN" --now $NOW watch --interval 3600 >watch.out 2>watch.err &
WATCH_PID=$!
test_pids="$test_pids $WATCH_PID"

test_expect_success "$N requests through Postfix, then the same mail to a plain Maildir" '
	test $started = 0 &&
	python3 - $N $PF_PORT $S sink maildir >latency <<-\PY &&
	import os, smtplib, sys, time
	n, port, spool, sink, maildir = int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:6]
	audit = os.path.join(spool, "audit", "audit.log")
	deadline = time.monotonic() + 60
	while "\twatch\tstart\t" not in open(audit).read():
	    if time.monotonic() > deadline:
	        sys.exit("watch did not start")
	    time.sleep(0.01)
	time.sleep(0.5)
	def send(to, i):
	    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
	    s.sendmail("ops@vendor.example.jp", [to], open("mails/lat-%d" % i, "rb").read())
	    s.quit()
	    return time.monotonic()
	def pct(lat, p):
	    lat = sorted(lat)
	    return lat[min(len(lat) - 1, int(round(p / 100.0 * len(lat) + 0.5)) - 1)]
	ours, base = [], []
	seen = set(os.listdir(sink))
	for i in range(1, n + 1):
	    t0 = send("requests@example.jp", i)
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
	                seen.add(f)
	        if first is None:
	            time.sleep(0.001)
	    if first is None:
	        sys.exit("request %d: nothing reached the sink in 60 s" % i)
	    ours.append((first - t0) * 1000)
	    deadline = time.monotonic() + 120
	    while os.listdir(os.path.join(spool, "queue/env")) and time.monotonic() < deadline:
	        time.sleep(0.005)
	    seen.update(os.listdir(sink))
	new = os.path.join(maildir, "new")
	for i in range(1, n + 1):
	    before = set(os.listdir(new))
	    t0 = send("baseline@example.jp", i)
	    deadline = t0 + 60
	    while set(os.listdir(new)) == before and time.monotonic() < deadline:
	        time.sleep(0.001)
	    if set(os.listdir(new)) == before:
	        sys.exit("baseline %d: nothing in the Maildir in 60 s" % i)
	    base.append((time.monotonic() - t0) * 1000)
	print("B4 field: %d requests via Postfix: ours p50 %.0f ms, p99 %.0f ms; "
	      "Postfix to a Maildir p50 %.0f ms, p99 %.0f ms; ours minus baseline "
	      "p50 %.0f ms, p99 %.0f ms"
	      % (n, pct(ours, 50), pct(ours, 99), pct(base, 50), pct(base, 99),
	         pct(ours, 50) - pct(base, 50), pct(ours, 99) - pct(base, 99)))
	PY
	cat latency &&
	test "$(grep -c "^accepted inbox/new/.*\.receive A" watch.out)" = $N
'

test_expect_success 'every list member got each alert exactly once' '
	sink_rcpts sink | grep "@bench.example.jp" | sort | uniq -c >counts &&
	test "$(wc -l <counts)" = $M &&
	! grep -v "^ *$N " counts
'

kill "$WATCH_PID" 2>/dev/null
wait "$WATCH_PID" 2>/dev/null
sed 's/^/# /' latency 2>/dev/null
test_done
