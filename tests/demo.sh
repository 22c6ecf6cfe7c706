#!/bin/sh
# make demo: a throwaway installation in ./demo, run once on sample data.
# Safe to run again: the previous demo folder is replaced.
#   sh tests/demo.sh [BUILD-DIR]
set -e
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
DEMO=${DEMO_DIR:-$TOP/demo}
export MIMAMORI_HOME=$TOP
M="$BUILD/mimamori"

step() {
	printf '\n== %s\n' "$*"
}

for h in $(find "$DEMO" -type d -name gnupg 2>/dev/null); do
	gpgconf --homedir "$h" --kill gpg-agent 2>/dev/null || true
done
rm -rf "$DEMO"

step "init: demo agencies, keys and sample data in $DEMO"
"$M" init "$DEMO" --demo
cd "$DEMO"
export MIMAMORI_CONFIG="$DEMO/mimamori.xml"

step "check-config: the custodian's configuration and keyring"
"$M" check-config

step "submit + intake: the sample registrations enter the registry (encrypted at rest)"
"$M" submit samples/*.xml
"$M" intake

step "a duplicate is rejected with its reason"
"$M" submit samples/registration-kobe-hanako.xml
"$M" intake
echo "reason file: spool/rejected/registration-kobe-hanako.xml.reason:"
sed 's/^/  /' spool/rejected/registration-kobe-hanako.xml.reason

id=$(ls spool/registry/records | sed -n 3p | sed 's/\.[0-9]*$//')
step "show $id --as police: what a police station may hold (person section only)"
"$M" show "$id" --as police | head -12
echo "  ..."

step "show $id --as alert: what an alert may say (no name, birth date, address, phone)"
"$M" show "$id" --as alert | head -12
echo "  ..."

step "encrypted at rest: the persons' names appear in no spool file"
if grep -rl -e '神戸 花子' -e 'こうべ はなこ' -e '090-0000-0001' spool --exclude-dir=rejected; then
	echo "LEAK: the files above hold personal data in clear" >&2
	exit 1
fi
echo "  none (registry/records/* and registry/index are sealed with the node's data key)"

step "audit verify: the hash-chained log of every operation"
"$M" audit verify
tail -n 3 spool/audit/audit.log | cut -f1-5 | sed 's/^/  /'

if "$M" 2>&1 | grep -q ' export'; then
	step "export: encrypted, signed bundles for each agency"
	"$M" export
	for a in police-ikuta ward-chuo; do
		cp spool/outgoing/$a/*.tar.gpg nodes/$a/spool/import/
		step "import at $a"
		"$M" -c nodes/$a/mimamori.xml import
		"$M" -c nodes/$a/mimamori.xml show "$id" | head -6 || true
	done
fi

for h in $(find "$DEMO" -type d -name gnupg); do
	gpgconf --homedir "$h" --kill gpg-agent 2>/dev/null || true
done
step "done. Look around in $DEMO: mimamori.xml, spool/, nodes/*/spool/, samples/"
