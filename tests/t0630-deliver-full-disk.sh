#!/bin/sh
# deliver on a full disk (mimamori-deliver(1) and mimamori-design(7)): the spool on a small tmpfs filled
# up. The first transaction's outcomes cannot be recorded: deliver stops
# with 74 before the next one, loses nothing; after space is freed a rerun
# serves every recipient, repeating at most that one transaction. Needs
# root (mount).
. "$(dirname "$0")/lib.sh"
. "$TEST_SRC/tests/lib-mail.sh"

small_disk 8m

SP=demo/spool
printf 'From: alerts@example.jp\nTo: undisclosed-recipients:;\nSubject: full\n\nbody\n' >mail.txt

test_expect_success 'setup: the demo spool on an 8 MiB tmpfs, a queued message' '
	setup_demo &&
	cp -a demo/spool/. "$MNT"/ &&
	rm -rf demo/spool && ln -s "$MNT" demo/spool &&
	sink_start sink && set_relay "$SINK_PORT" &&
	rcpt_list 3000 | queue_mail FULL mail.txt &&
	mimamori audit verify
'

test_expect_success 'disk full: exit 74 after one transaction, nothing lost' '
	dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null;
	test_expect_code 74 mimamori deliver >out 2>err &&
	grep -q "cannot write .queue/state/FULL" err &&
	test -f $SP/queue/env/FULL && test -f $SP/queue/msg/FULL &&
	test "$(sink_rcpt_count sink)" -le 1000
'

test_expect_success 'space back: every recipient served, at most one transaction twice' '
	rm -f "$MNT/filler" &&
	mimamori deliver >out &&
	grep -qx "sent queue/FULL 3000 sent, 0 failed, 0 deferred" out &&
	test "$(sink_rcpts sink | sort -u | wc -l)" = 3000 &&
	test "$(sink_rcpt_count sink)" -le 4000 &&
	test_path_is_missing $SP/queue/env/FULL &&
	test -z "$(find $SP/tmp -type f)"
'

sink_stop
# Unmounted before test_done removes the trash folder.
cd "$TEST_SRC" && umount "$MNT"
cd "$TRASH" || exit 1
test_done
