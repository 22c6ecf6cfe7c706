#!/bin/sh
# stats: the figures of a small synthetic register counted by hand:
# active, registered this month, expiring within the reminder period,
# cancelled by reason and expired this year, per ward and in total.
. "$(dirname "$0")/lib.sh"

# reg N WARD: a registration of person N in WARD.
reg() {
	registration_doc name="統計 試子$1" kana="とうけい ためこ$1" \
		birth=1940-03-$(printf %02d "$1") ward=$2 address="神戸市試験町$1" \
		home=078-666-$(printf %04d "$1") consent=2023-05-01
}

# register DATE N:WARD...: intake them on DATE; their ids go to ids (N ID).
register() {
	d=$1 && shift &&
	for nw in "$@"; do
		reg ${nw%%:*} ${nw#*:} >r${nw%%:*}.xml || return 1
		mimamori --now $d submit r${nw%%:*}.xml >/dev/null || return 1
	done &&
	mimamori --now $d intake >out &&
	sed -n "s/^accepted incoming\/r\([0-9]*\).xml /\1 /p" out >>ids &&
	test $(grep -c ^accepted out) -eq $#
}

id() {
	sed -n "s/^$1 //p" ids
}

# cancel DATE N REASON
cancel() {
	cat >cancel.xml <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<cancellation xmlns="urn:mimamori:1">
  <id>$(id $2)</id>
  <date>$1</date>
  <reason>$3</reason>
</cancellation>
EOF
	mimamori --now $1 submit cancel.xml >/dev/null &&
	mimamori --now $1 intake | grep -q ^accepted
}

# The register, on 2026-11-21 (this month: 2026-11, this year: 2026):
#  chuo: 1 (2026-10-15, active)  2 (2026-10-15, death 2026-11-10)
#        4 (2026-11-05, active)  8 (2024-12-01, active, expires 2026-12-01: expiring)
#        9 (2023-06-01, expired 2025-06-01: last year)
#        10 (2025-01-10, death 2025-12-20: last year)
#  nada: 3 (2026-10-15, other 2026-11-12)  5 (2026-11-05, active)
#        6 (2026-11-05, facility 2026-11-10)  7 (2026-11-05, moved-out 2026-11-11)
#        11 (2024-11-01, expired 2026-11-01, destroyed by expire on 2026-11-21)
test_expect_success 'setup: a register of eleven people over three years' '
	setup_demo && : >ids &&
	register 2023-06-01 9:chuo &&
	register 2024-11-01 11:nada &&
	register 2024-12-01 8:chuo &&
	register 2025-01-10 10:chuo &&
	mimamori --now 2025-06-02 expire >out && grep -q "destroyed $(id 9) expired" out &&
	cancel 2025-12-20 10 death &&
	register 2026-10-15 1:chuo 2:chuo 3:nada &&
	register 2026-11-05 4:chuo 5:nada 6:nada 7:nada &&
	cancel 2026-11-10 2 death && cancel 2026-11-10 6 facility &&
	cancel 2026-11-11 7 moved-out && cancel 2026-11-12 3 other &&
	mimamori --now 2026-11-21 expire >out &&
	grep -q "destroyed $(id 11) expired" out &&
	test $(wc -l <ids) -eq 11
'

test_expect_success 'stats --csv: the hand count' '
	mimamori --now 2026-11-21 stats --csv >out &&
	cat out &&
	cat >expect <<-EOF &&
	ward,active,registered-this-month,expiring,cancelled-death,cancelled-facility,cancelled-moved-out,cancelled-other,expired,alerts-actual,alerts-exercise,found,median-hours-to-found
	chuo,3,1,1,1,0,0,0,0,0,0,0,-
	nada,1,3,0,0,1,1,1,1,0,0,0,-
	total,4,4,1,1,1,1,1,1,0,0,0,-
	EOF
	test_cmp expect out
'

test_expect_success 'stats: the same figures as a table' '
	mimamori --now 2026-11-21 stats >out &&
	cat out &&
	grep -q "^# 2026-11-21" out &&
	sed -n "/^chuo/p" out | tr -s " " >row && echo "chuo 3 1 1 1 0 0 0 0 0 0 0 -" >expect &&
	test_cmp expect row &&
	sed -n "/^total/p" out | tr -s " " >row && echo "total 4 4 1 1 1 1 1 1 0 0 0 -" >expect &&
	test_cmp expect row
'

test_expect_success 'a month and a year later the figures move' '
	mimamori --now 2027-01-05 stats --csv >out &&
	grep -q "^total,3,0,0,0,0,0,0,0," out
'

test_expect_success 'stats is audited with counts only' '
	grep "	stats	" demo/spool/audit/audit.log | tail -1 >log &&
	grep -q "active=3" log &&
	test_must_fail grep -q "R20" log &&
	mimamori audit verify &&
	test_expect_code 64 mimamori stats --bogus
'

test_done
