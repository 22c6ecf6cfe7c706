#!/bin/sh
# fetch over a connection that drops midway: what was written stays, the
# rest is fetched next time, nothing twice, exit 75. The drop is made by a
# small TCP relay in front of the real dovecot that cuts the connection
# after a given number of bytes from the server.
. "$(dirname "$0")/lib.sh"
. "$TEST_SRC/tests/lib-imap.sh"

S=demo/spool

cat >relay.py <<'PY'
# relay.py LISTEN-PORT-FILE TARGET-PORT LIMIT [STALL-WORD]: relay 127.0.0.1
# connections to TARGET-PORT; cut each one after LIMIT bytes from the
# server; with STALL-WORD, stop forwarding (and hold the connection open)
# once the client sends that word.
import select, socket, sys, time
portfile, target, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
stall = sys.argv[4].encode() if len(sys.argv) > 4 else None
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(5)
open(portfile + ".tmp", "w").write(str(ls.getsockname()[1]))
import os; os.rename(portfile + ".tmp", portfile)
while True:
    c, _ = ls.accept()
    s = socket.create_connection(("127.0.0.1", target))
    sent = 0
    while True:
        r, _, _ = select.select([c, s], [], [])
        if c in r:
            d = c.recv(65536)
            if not d:
                break
            if stall and stall in d:
                while True:
                    time.sleep(60)
            s.sendall(d)
        if s in r:
            d = s.recv(65536)
            if not d:
                break
            d = d[:max(0, limit - sent)]
            c.sendall(d)
            sent += len(d)
            if sent >= limit:
                break
    c.close()
    s.close()
PY

imap_start || { echo "Bail out! cannot start dovecot"; exit 1; }
python3 relay.py relay.port "$IMAP_PORT" 450000 &
RELAY_PID=$!
test_pids="$test_pids $RELAY_PID"

test_expect_success 'setup: demo, three 200 KB messages, fetch through the relay' '
	setup_demo &&
	i=0 && while [ $i -lt 50 ] && [ ! -s relay.port ]; do sleep 0.1; i=$((i + 1)); done &&
	imap_config &&
	sed -i "s/port=\"$IMAP_PORT\"/port=\"$(cat relay.port)\"/" demo/mimamori.xml &&
	for i in 1 2 3; do
		{ mail_text $i && head -c 200000 /dev/urandom | base64; } >m$i.eml || return 1
	done &&
	imap_append m1.eml m2.eml m3.eml
'

test_expect_success 'the connection drops midway: 75, what was written stays' '
	test_expect_code 75 mimamori fetch >out 2>err &&
	cat out err &&
	grep -q "connection lost" err &&
	test "$(wc -l <out)" -ge 1 && test "$(wc -l <out)" -lt 3 &&
	ls $S/inbox/new >got1 &&
	test "$(wc -l <got1)" = "$(wc -l <out)" &&
	for f in $(cat got1); do
		n=${f##*-} &&
		tr -d "\r" <m$n.eml >want && tr -d "\r" <$S/inbox/new/$f >got &&
		test_cmp want got || return 1
	done &&
	test -z "$(ls $S/tmp)"
'

test_expect_success 'the next fetch gets the rest, nothing twice' '
	imap_config &&
	mimamori fetch >out2 2>err &&
	cat out2 err &&
	cat out out2 | sort >all &&
	v=$(sed -n "s/^fetched inbox\/new\/imap-\([0-9]*\)-[0-9]*$/\1/p" all | head -1) &&
	printf "fetched inbox/new/imap-$v-%s\n" 1 2 3 >expect &&
	test_cmp expect all &&
	test "$(ls $S/inbox/new | wc -l)" = 3 &&
	for i in 1 2 3; do
		tr -d "\r" <m$i.eml >want && tr -d "\r" <$S/inbox/new/imap-$v-$i >got &&
		test_cmp want got || return 1
	done &&
	imap_list >flags &&
	printf "%s \\\\Seen\n" 1 2 3 >expect &&
	test_cmp expect flags
'

test_expect_success 'kill -9 between the copy and the flag: the next fetch does not copy it again' '
	python3 relay.py stall.port "$IMAP_PORT" 100000000 STORE &
	pid=$! &&
	i=0 && while [ $i -lt 50 ] && [ ! -s stall.port ]; do sleep 0.1; i=$((i + 1)); done &&
	for i in 4 5; do mail_text $i >m$i.eml || return 1; done &&
	imap_append m4.eml m5.eml &&
	sed -i "s/port=\"$IMAP_PORT\"/port=\"$(cat stall.port)\"/" demo/mimamori.xml &&
	{ "$MIMAMORI_BIN" fetch >out3 2>err3 & } &&
	fpid=$! &&
	i=0 && while [ $i -lt 100 ] && [ "$(ls $S/inbox/new | wc -l)" -lt 4 ]; do
		sleep 0.05; i=$((i + 1))
	done &&
	sleep 0.2 &&
	kill -9 $fpid && kill $pid &&
	test "$(ls $S/inbox/new | wc -l)" = 4 &&
	imap_list >flags && cat flags &&
	grep -q "^4 *$" flags &&
	imap_config &&
	mimamori fetch >out4 2>err &&
	cat out4 err &&
	v=$(ls $S/inbox/new | sed -n "s/^imap-\([0-9]*\)-1$/\1/p") &&
	echo "fetched inbox/new/imap-$v-5" >expect &&
	test_cmp expect out4 &&
	test "$(ls $S/inbox/new | wc -l)" = 5 &&
	imap_list >flags &&
	printf "%s \\\\Seen\n" 1 2 3 4 5 >expect &&
	test_cmp expect flags
'

test_done
