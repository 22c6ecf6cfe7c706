#!/bin/sh
# gpg-agent killed or not startable: the stages that need the node's
# secret key stop with 69 (a needed service unavailable), say so, and
# leave every input where it was; nothing is rejected for it, and a rerun
# once the agent is back finishes the work.
. "$(dirname "$0")/lib.sh"

# no_agent HOME: keep a new agent of that GnuPG home from starting, then
# kill the running one (in this order, so that a gpg started in between
# cannot start a fresh agent); agent_back HOME undoes it.
no_agent() {
	echo "agent-program /bin/false" >>"$1/gpg.conf" &&
	gpgconf --homedir "$1" --kill gpg-agent
}
agent_back() {
	sed -i "/^agent-program/d" "$1/gpg.conf"
}

records_of() {
	ls "$1/registry/records" | sed "s/\.[0-9]*$//" | sort -u
}

test_expect_success 'setup: one registration in, three waiting' '
	setup_demo &&
	make_registration 100 >r100.xml && mimamori submit r100.xml >/dev/null &&
	mimamori intake >out && grep -q ^accepted out &&
	for i in 1 2 3; do make_registration $i >r$i.xml || return 1; done &&
	mimamori submit r1.xml r2.xml r3.xml >/dev/null
'

test_expect_success 'no agent: intake exits 69, says why, touches nothing' '
	no_agent demo/gnupg &&
	test_expect_code 69 mimamori intake >out 2>err &&
	cat err &&
	grep -q "gpg-agent cannot be reached" err &&
	test ! -s out &&
	test $(ls demo/spool/incoming | wc -l) -eq 3 &&
	test -z "$(ls demo/spool/rejected)" &&
	test -z "$(ls demo/spool/work/intake)"
'

test_expect_success 'no agent: export, import and show exit 69 too' '
	test_expect_code 69 mimamori export 2>err && grep -q "gpg-agent" err &&
	test_expect_code 69 mimamori import 2>err && grep -q "gpg-agent" err &&
	test_expect_code 69 mimamori show R2026-000001 2>err &&
	test_path_is_missing demo/spool/outgoing/vendor
'

test_expect_success 'a missing secret key is still a configuration error (78)' '
	mv demo/gnupg/private-keys-v1.d demo/gnupg/keys.away &&
	test_expect_code 78 mimamori intake 2>err &&
	grep -q "no secret key" err &&
	mv demo/gnupg/keys.away demo/gnupg/private-keys-v1.d
'

test_expect_success 'the agent back: the rerun takes all three' '
	agent_back demo/gnupg &&
	mimamori intake >out &&
	test $(grep -c "^accepted" out) -eq 3 &&
	test -z "$(ls demo/spool/incoming)" &&
	mimamori audit verify
'

test_expect_success 'setup: thirty bundles for the vendor (a window wide enough to kill the agent in)' '
	for i in $(seq 11 40); do
		make_registration $i >r$i.xml && mimamori submit r$i.xml >/dev/null &&
		mimamori intake >/dev/null && mimamori export >/dev/null || return 1
	done &&
	test $(ls demo/spool/outgoing/vendor | wc -l) -eq 30 &&
	mv demo/spool/outgoing/vendor/*.tar.gpg demo/nodes/vendor/spool/import/
'

test_expect_success 'the agent killed in the middle of an import: 69, the rest waits' '
	V=demo/nodes/vendor
	"$MIMAMORI_BIN" -c $V/mimamori.xml import >out 2>err &
	pid=$!
	n=0 && while ! grep -q ^accepted out && [ $n -lt 3000 ]; do
		sleep 0.005; n=$((n + 1))
	done &&
	no_agent $V/gnupg &&
	{ wait $pid; code=$?; } &&
	cat out err &&
	test $code -eq 69 &&
	grep -q "left in import/: gpg-agent cannot be reached" err &&
	! grep -q ^rejected out &&
	test -z "$(ls $V/spool/rejected)" &&
	test -z "$(ls $V/spool/work/import)" &&
	done=$(grep -c ^accepted out) &&
	test $(ls $V/spool/import | wc -l) -eq $((30 - done)) &&
	test $done -lt 30
'

test_expect_success 'the agent back: the rerun applies the rest, in order' '
	V=demo/nodes/vendor &&
	agent_back $V/gnupg &&
	node vendor import >out2 &&
	! grep -q ^rejected out2 &&
	test -z "$(ls $V/spool/import)" &&
	records_of demo/spool >want &&
	records_of $V/spool >got &&
	test_cmp want got &&
	node vendor audit verify
'

test_expect_success 'the agent killed again and again during an export: nothing lost' '
	for i in 41 42 43; do
		make_registration $i >r$i.xml && mimamori submit r$i.xml >/dev/null || return 1
	done &&
	mimamori intake >/dev/null || return 1
	"$MIMAMORI_BIN" export >out 2>err &
	pid=$!
	while kill -0 $pid 2>/dev/null; do
		gpgconf --homedir demo/gnupg --kill gpg-agent; sleep 0.02
	done &&
	{ wait $pid; code=$?; } &&
	echo "export exited $code" &&
	# 0, 69 (agent down) or 78 (an operation failed while the agent was
	# restarting: the bundle for that agency is left pending); never a crash
	case $code in 0|69|78) ;; *) false ;; esac &&
	mimamori export >>out 2>>err &&
	test -z "$(ls demo/spool/work/export)" &&
	mv demo/spool/outgoing/vendor/*.tar.gpg demo/nodes/vendor/spool/import/ &&
	node vendor import >out3 && ! grep -q ^rejected out3 &&
	records_of demo/spool >want &&
	records_of demo/nodes/vendor/spool >got &&
	test_cmp want got &&
	mimamori audit verify
'

test_done
