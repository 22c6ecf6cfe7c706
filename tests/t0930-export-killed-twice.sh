#!/bin/sh
# export killed twice in a row, each time just after a bundle became
# durable and before the registry commit: the first bundle's records must
# still count as sent, so that a later cancellation reaches the agency as a
# deletion (mimamori-export(1)). Deterministic: the kill follows the bundle's rename.
. "$(dirname "$0")/lib.sh"
# Registration ids and dates below are of 2026: the clock is pinned there.
pin_clock 2026-11-21T12:00:00+09:00

# kill_when FILE CMD...: run CMD, kill -9 it as soon as FILE exists.
kill_when() {
	f=$1
	shift
	"$@" >>kill.out 2>&1 &
	p=$!
	while [ ! -e "$f" ] && kill -0 $p 2>/dev/null; do :; done
	kill -9 $p 2>/dev/null || { echo "the run ended before '$f' appeared" >&2; return 1; }
	wait $p 2>/dev/null
	return 0
}

OUT=demo/spool/outgoing/ward-nada

test_expect_success 'setup: a person in ward nada' '
	setup_demo &&
	make_registration 1 >r1.xml && mimamori submit r1.xml >/dev/null &&
	mimamori intake >out && grep -q "^accepted incoming/r1.xml R2026-000001" out
'

test_expect_success 'export killed just after bundle 1 for ward-nada' '
	kill_when $OUT/council-ward-nada-1.tar.gpg "$MIMAMORI_BIN" export &&
	test -f demo/spool/work/export/ward-nada
'

test_expect_success 'a second person; export killed again just after bundle 2' '
	make_registration 2 >r2.xml && mimamori submit r2.xml >/dev/null &&
	mimamori intake >out && grep -q ^accepted out &&
	kill_when $OUT/council-ward-nada-2.tar.gpg "$MIMAMORI_BIN" export
'

test_expect_success 'the first person cancelled: the next export sends the deletion' '
	sed "s/2026-09-30/2026-11-21/" "$DATA/registration/cancellation.xml" >c.xml &&
	mimamori submit c.xml >/dev/null && mimamori intake >out &&
	grep -q "^accepted incoming/c.xml R2026-000001" out &&
	mimamori export >out &&
	cat out &&
	grep -q "^wrote outgoing/ward-nada/.* 1 deletions" out &&
	test -z "$(ls demo/spool/work/export)"
'

test_expect_success 'imported at ward-nada: the first person is gone, the second is there' '
	mv $OUT/*.tar.gpg demo/nodes/ward-nada/spool/import/ &&
	node ward-nada import >out &&
	cat out &&
	! grep -q ^rejected out &&
	test_must_fail node ward-nada show R2026-000001 2>err &&
	node ward-nada show R2026-000002 >/dev/null &&
	node ward-nada audit verify && mimamori audit verify
'

test_done
