#!/bin/sh
# Replication converges over lossy hand carriage: the custodian and three
# nodes, a few hundred changes of every kind, 30 % of the bundles lost or
# held back to arrive after newer ones, some duplicated; transfers go on
# until quiet. Then each node holds exactly the custodian's view of its
# scope and every destruction is acknowledged by every node it reached
# (tests/converge.py). $CONVERGE_CHANGES, $CONVERGE_SEED, $CONVERGE_AGENCIES
# and $CONVERGE_FULL=1 (compare every record, not a sample) for more.
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	setup_demo
'

test_expect_success 'every node converges to the custodian, every destruction is proven' '
	python3 "$TEST_SRC/tests/converge.py" "$MIMAMORI_BIN" "$TRASH/demo" "$DATA" \
		${CONVERGE_SEED:-14} ${CONVERGE_CHANGES:-200} 30 \
		${CONVERGE_AGENCIES:-ward-chuo ward-nada police-ikuta} >figures &&
	sed "s/^/# /" figures &&
	grep -q "^converged " figures
'

test_done
