#!/bin/sh
# make bench: the benchmarks of tests/bench/README.md, each against its baseline,
# both sides measured in this run, back to back, on the same files.
#
#   sh tests/bench/bench.sh [BUILD-DIR]
#
# Environment:
#   BENCH_N=10000      registrations for B1/B2 (and recipients for B3)
#   BENCH_SAMPLE=500   files the B1 baseline loop really runs on; its time
#                      is scaled linearly to BENCH_N (said in the output)
#   BENCH_FULL=1       also run B1 at 10 x BENCH_N (the scaling target) and
#                      B3's memory case at 100,000 recipients
#   BENCH_DIR=...      work folder (default tests/trash/bench; replaced)
#   BENCH_KEEP=1       keep the work folder afterwards
#   BENCH_ONLY=B6      run only B6 (tests/bench/bench-csv.sh, runnable alone);
#                      BENCH_ONLY=B2: B1, B2 and B2i only (B2 exports what B1
#                      took in)
#   BENCH_ONLY=B3      run only B3 (the demo node, then tests/bench/bench-mail.sh
#                      without B4)
#   BENCH_B4=0         skip B4 (it runs tests/t0740-watch-latency.sh: 50
#                      requests of 1,000 recipients, BENCH_B4_REQUESTS and
#                      BENCH_B4_RECIPIENTS change that)
#
# Peak memory is the kernel's figure (maximum resident set size from
# wait4(), printed by /usr/bin/time). Wall times come from date +%s.%N.
# All data is synthetic (tests/bench/gen-registrations.sh).
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
SRC=$(pwd)
case $BUILD in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
BIN=$BUILD/mimamori
N=${BENCH_N:-10000}
SAMPLE=${BENCH_SAMPLE:-500}
[ "$SAMPLE" -gt "$N" ] && SAMPLE=$N
W=${BENCH_DIR:-$SRC/tests/trash/bench}
export MIMAMORI_HOME=$SRC
LC_ALL=C
export LC_ALL
unset GNUPGHOME

[ -x "$BIN" ] || { echo "bench: no binary '$BIN' (make BUILD=... all)" >&2; exit 1; }
[ "${BENCH_ONLY:-}" = B6 ] && exec sh "$SRC/tests/bench/bench-csv.sh" "$BUILD"
for t in xmllint gpg tar perl awk /usr/bin/time; do
	command -v $t >/dev/null 2>&1 || { echo "bench: '$t' is missing (make deps)" >&2; exit 1; }
done
rm -rf "$W" && mkdir -p "$W" || exit 1
RES=$W/results.txt
: >"$RES"

say() { printf '%s\n' "$*"; }
die() { echo "bench: $*" >&2; kill_agents; exit 1; }
now() { date +%s.%N; }
# calc EXPR: floating point arithmetic.
calc() { awk "BEGIN { printf \"%.3f\", ($*) }"; }
# row NAME OURS BASELINE RATIO RSS TARGET MET: one line of the final table.
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RES"; }

kill_agents() {
	for h in $(find "$W" -type d -name gnupg 2>/dev/null); do
		gpgconf --homedir "$h" --kill gpg-agent 2>/dev/null
	done
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
	return 0
}
trap 'kill_agents' EXIT

# run_timed TAG CMD...: run CMD, stdout to $W/TAG.out, stderr to
# $W/TAG.err; sets T (seconds), RSS (peak KiB of the process) and CPU
# (user + system seconds).
run_timed() {
	rt_tag=$1
	shift
	rt_t0=$(now)
	/usr/bin/time -f '%M %U %S' -o "$W/$rt_tag.rss" "$@" >"$W/$rt_tag.out" 2>"$W/$rt_tag.err"
	rc=$?
	T=$(calc "$(now) - $rt_t0")
	RSS=$(tail -n 1 "$W/$rt_tag.rss" | cut -d' ' -f1)
	CPU=$(tail -n 1 "$W/$rt_tag.rss" | awk '{ printf "%.3f", $2 + $3 }')
	return $rc
}

say "mimamori benchmarks, N=$N, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo); load before:$(uptime | sed 's/.*load average://')"
say "gpg: $(gpg --version | head -n 1); xmllint: $(xmllint --version 2>&1 | head -n 1)"

# ---------------------------------------------------------------- setup
# The demo's custodian node (council) and 7 other agencies, plus 5 more
# made here (own keys, in their own GnuPG home): 12 agencies to export to.
say ""
if [ "${BENCH_ONLY:-}" = B3 ]; then
	say "setup: the demo installation"
else
	say "setup: installation with 12 other agencies, $N registrations"
fi
"$BIN" init "$W/demo" --demo >/dev/null || die "init --demo failed"
CFG=$W/demo/mimamori.xml
export MIMAMORI_CONFIG=$CFG

# table: the final table of the rows in $RES.
table() {
	say ""
	say "load after:$(uptime | sed 's/.*load average://')"
	say ""
	{
		printf 'benchmark\tours\tbaseline\tratio\tpeak RSS\ttarget\tmet?\n'
		cat "$RES"
	} | awk -F'\t' '{ for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n = NF; r = NR }
		END { for (j = 1; j <= r; j++) { for (i = 1; i <= n; i++) printf("%-" w[i] "s  ", c[j, i]); printf "\n" } }'
}

if [ "${BENCH_ONLY:-}" = B3 ]; then
	BENCH_B4=0
	. "$SRC/tests/bench/bench-mail.sh"
	table
	kill_agents
	[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$W"
	exit 0
fi
HOME_C=$W/demo/gnupg
HOME_X=$W/extra/gnupg
mkdir -p "$HOME_X" && chmod 700 "$HOME_X" || die "cannot create '$HOME_X'"
EXTRA="city:city:神戸市保健福祉局::
center-chuo-2:care-center:中央第二あんしんすこやかセンター:chuo:
center-nada-2:care-center:灘第二あんしんすこやかセンター:nada:
police-fukiai:police:葺合警察署:chuo:078-000-0111
police-higashinada:police:東灘警察署:nada:078-000-0112"
agencies_xml=
for line in $(printf '%s\n' "$EXTRA" | tr ' ' '_'); do
	id=$(echo "$line" | cut -d: -f1)
	kind=$(echo "$line" | cut -d: -f2)
	name=$(echo "$line" | cut -d: -f3)
	wards=$(echo "$line" | cut -d: -f4)
	phone=$(echo "$line" | cut -d: -f5)
	gpg --homedir "$HOME_X" --batch --passphrase '' --quick-gen-key \
		"$id (mimamori bench) <$id@example.jp>" ed25519 sign,cert never 2>/dev/null ||
		die "cannot make a key for $id"
	fpr=$(gpg --homedir "$HOME_X" --with-colons --list-keys "<$id@example.jp>" 2>/dev/null |
		awk -F: '/^fpr/ { print $10; exit }')
	gpg --homedir "$HOME_X" --batch --passphrase '' --quick-add-key "$fpr" cv25519 encr never \
		2>/dev/null || die "cannot add an encryption key for $id"
	a="    <agency id=\"$id\" kind=\"$kind\" name=\"$name\" key=\"$fpr\""
	[ -n "$wards" ] && a="$a wards=\"$wards\""
	[ -n "$phone" ] && a="$a phone=\"$phone\""
	agencies_xml="$agencies_xml$a address=\"$id@example.jp\"/>\\n"
	eval "KEY_$(echo "$id" | tr - _)=$fpr"
done
gpg --homedir "$HOME_X" --batch --export | gpg --homedir "$HOME_C" --batch --import 2>/dev/null ||
	die "cannot import the extra keys"
awk -v add="$agencies_xml" '/<\/agencies>/ { printf "%s", add } { print }' "$CFG" >"$CFG.new" &&
	mv "$CFG.new" "$CFG" || die "cannot write '$CFG'"
"$BIN" check-config >"$W/check-config.out" 2>&1 || { cat "$W/check-config.out"; die "check-config failed"; }
AGENCIES=$(awk -F'"' '/<agency / { print $2 }' "$CFG" | grep -vx council)
[ $(echo $AGENCIES | wc -w) -eq 12 ] || die "expected 12 other agencies, have: $AGENCIES"
KEY_COUNCIL=$(awk -F'"' '/<agency id="council"/ { for (i = 1; i < NF; i++) if ($i ~ /key=$/) print $(i + 1) }' "$CFG")
CENTERS="center-chuo-1 center-chuo-2 center-nada-1 center-nada-2"
t0=$(now)
sh "$SRC/tests/bench/gen-registrations.sh" "$N" "$W/regs" "$CENTERS" || die "generator failed"
say "  generated $N files, $(du -sh "$W/regs" | cut -f1) in $(calc "$(now) - $t0") s; $(grep -l '<photo' "$W/regs"/*.xml | wc -l) with a photo ($(perl "$SRC/tests/bench/gen-photo.pl" 20261121 | wc -c) bytes, $(perl "$SRC/tests/bench/gen-photo.pl" 20261121 | head -c 8 | od -An -c | tr -s ' '))"

# ---------------------------------------------------------------- B1
# b1_ours CONFIG DIR TAG: submit every file of DIR (in batches of
# 5,000 arguments), then intake; sets B1_T, B1_SUB_T, B1_INT_T, B1_RSS.
b1_ours() {
	cfg=$1 dir=$2 tag=$3
	t0=$(now)
	find "$dir" -name 'reg-*.xml' | sort |
		MIMAMORI_CONFIG=$cfg xargs -n 5000 /usr/bin/time -a -f '%M %U %S' -o "$W/$tag-submit.rss" \
			"$BIN" submit >"$W/$tag-submit.out" 2>"$W/$tag-submit.err" ||
		die "submit failed: $(tail -n 3 "$W/$tag-submit.err")"
	t1=$(now)
	MIMAMORI_CONFIG=$cfg run_timed "$tag-intake" "$BIN" intake ||
		die "intake failed ($?): $(tail -n 3 "$W/$tag-intake.err")"
	B1_SUB_T=$(calc "$t1 - $t0")
	B1_INT_T=$T
	B1_T=$(calc "$B1_SUB_T + $B1_INT_T")
	sub_rss=$(cut -d' ' -f1 "$W/$tag-submit.rss" | sort -n | tail -n 1)
	B1_CPU=$(awk -v c="$CPU" '{ s += $2 + $3 } END { printf "%.3f", s + c }' "$W/$tag-submit.rss")
	B1_RSS=$RSS
	[ "$sub_rss" -gt "$B1_RSS" ] && B1_RSS=$sub_rss
	acc=$(grep -c '^accepted ' "$W/$tag-intake.out")
	[ "$acc" -eq "$(ls "$dir" | wc -l)" ] ||
		die "intake accepted $acc of $(ls "$dir" | wc -l): $(grep -m 3 '^rejected' "$W/$tag-intake.out")"
}

say ""
say "B1 intake: $N registrations, submit + intake vs xmllint --schema && gpg --encrypt per file (load:$(uptime | sed 's/.*load average://'))"
sync
b1_ours "$CFG" "$W/regs" b1
say "  ours:     submit $B1_SUB_T s + intake $B1_INT_T s = $B1_T s (cpu $B1_CPU s), peak RSS $((B1_RSS / 1024)) MiB ($B1_RSS KiB)"
sync
mkdir -p "$W/b1-base"
ls "$W/regs" | sort | head -n "$SAMPLE" >"$W/b1-sample"
t0=$(now)
GNUPGHOME=$HOME_C XSD=$SRC/schemas/registration.xsd KEY=$KEY_COUNCIL R=$W/regs O=$W/b1-base \
/usr/bin/time -f '%U %S' -o "$W/b1-base.cpu" sh -c '
	while read -r f; do
		xmllint --noout --schema "$XSD" "$R/$f" 2>/dev/null &&
		gpg --batch --yes --trust-model always --encrypt -r "$KEY" -o "$O/$f.gpg" "$R/$f" ||
		exit 1
	done' <"$W/b1-sample" || die "the baseline loop failed"
t1=$(now)
B1_BASE_SAMPLE=$(calc "$t1 - $t0")
B1_BASE_CPU=$(awk -v n="$N" -v s="$SAMPLE" '{ printf "%.3f", ($1 + $2) * n / s }' "$W/b1-base.cpu")
B1_BASE=$(calc "$B1_BASE_SAMPLE * $N / $SAMPLE")
[ $(ls "$W/b1-base" | wc -l) -eq "$SAMPLE" ] || die "the baseline loop made $(ls "$W/b1-base" | wc -l) files"
B1_RATIO=$(calc "$B1_BASE / $B1_T")
say "  baseline: $B1_BASE_SAMPLE s for $SAMPLE files (the first $SAMPLE, every 10th with a photo), scaled x$N/$SAMPLE = $B1_BASE s (cpu $B1_BASE_CPU s)"
say "  ratio:    ${B1_RATIO}x faster (target >= 40x); intake alone $(calc "$B1_BASE / $B1_INT_T")x; in cpu time $(calc "$B1_BASE_CPU / $B1_CPU")x"
met=no
[ "$(calc "$B1_RATIO >= 40")" = 1.000 ] && [ "$B1_RSS" -le 65536 ] && met=yes
row "B1 intake $N" "$B1_T s" "$B1_BASE s" "${B1_RATIO}x faster" "$((B1_RSS / 1024)) MiB" ">=40x, <=64 MiB" $met

if [ "${BENCH_FULL:-0}" = 1 ]; then
	N10=$((N * 10))
	say ""
	say "B1 scaling: $N10 registrations into a fresh registry (same keys)"
	mkdir -p "$W/full" && cp "$CFG" "$W/full/mimamori.xml" &&
		sed -i "s|<gnupg-home>gnupg</gnupg-home>|<gnupg-home>$HOME_C</gnupg-home>|" "$W/full/mimamori.xml" ||
		die "cannot make the second installation"
	sh "$SRC/tests/bench/gen-registrations.sh" "$N10" "$W/regs10" "$CENTERS" || die "generator failed"
	sync
	small_t=$B1_T small_rss=$B1_RSS
	b1_ours "$W/full/mimamori.xml" "$W/regs10" b1full
	rm -rf "$W/regs10"
	scale=$(calc "$B1_T / $small_t")
	say "  ours:     submit $B1_SUB_T s + intake $B1_INT_T s = $B1_T s, peak RSS $((B1_RSS / 1024)) MiB; ${scale}x the time of $N (target <= 11x)"
	met=no
	[ "$(calc "$scale <= 11")" = 1.000 ] && [ "$B1_RSS" -le 65536 ] && met=yes
	row "B1 intake $N10" "$B1_T s" "-" "${scale}x time of $N" "$((B1_RSS / 1024)) MiB" "<=11x, <=64 MiB" $met
fi

# ---------------------------------------------------------------- B2
say ""
say "B2 export: $N records to 12 agencies vs tar | gpg --encrypt --sign of the same views (load:$(uptime | sed 's/.*load average://'))"
sync
run_timed b2 "$BIN" export || die "export failed: $(tail -n 3 "$W/b2.err")"
B2_T=$T B2_RSS=$RSS B2_CPU=$CPU
nb=$(grep -c '^wrote ' "$W/b2.out")
[ "$nb" -eq 12 ] || die "export wrote $nb bundles, not 12: $(cat "$W/b2.out")"
nrec=$(awk '/^wrote/ { s += $3 } END { print s }' "$W/b2.out")
say "  ours:     $B2_T s (cpu $B2_CPU s, gpg's own not counted) for 12 bundles, $nrec record views, $(du -shc "$W"/demo/spool/outgoing/*/*.tar.gpg | tail -n 1 | cut -f1), peak RSS $((B2_RSS / 1024)) MiB"
# The exact views: decrypt each bundle with its agency's key and unpack.
for a in $AGENCIES; do
	home=$W/demo/nodes/$a/gnupg
	[ -d "$home" ] || home=$HOME_X
	mkdir -p "$W/views/$a" &&
	gpg --homedir "$home" --batch --decrypt "$W"/demo/spool/outgoing/$a/*.tar.gpg 2>/dev/null |
		tar xf - -C "$W/views/$a" || die "cannot unpack the bundle for $a"
	[ -d "$W/views/$a/records" ] || die "the bundle for $a has no records/"
done
sync
t0=$(now)
(
	for a in $AGENCIES; do
		key=$(awk -F'"' -v id="$a" '$0 ~ "<agency id=\"" id "\"" { for (i = 1; i < NF; i++) if ($i ~ /key=$/) print $(i + 1) }' "$CFG")
		tar cf - -C "$W/views/$a" . |
		gpg --homedir "$HOME_C" --batch --yes --trust-model always --encrypt --sign \
			-u "$KEY_COUNCIL" -r "$key" -o "$W/views/$a.tar.gpg" || exit 1
	done
) 2>"$W/b2-base.err" || die "the baseline failed: $(tail -n 3 "$W/b2-base.err")"
t1=$(now)
B2_BASE=$(calc "$t1 - $t0")
B2_RATIO=$(calc "$B2_T / $B2_BASE")
say "  baseline: $B2_BASE s (12 x tar cf - | gpg --encrypt --sign, same views, same keys)"
say "  ratio:    ${B2_RATIO}x the baseline's time (target <= 1.0x, peak <= 64 MiB)"
met=no
[ "$(calc "$B2_RATIO <= 1.0")" = 1.000 ] && [ "$B2_RSS" -le 65536 ] && met=yes
row "B2 export $N x 12" "$B2_T s" "$B2_BASE s" "${B2_RATIO}x time" "$((B2_RSS / 1024)) MiB" "<=1.0x, <=64 MiB" $met

# ---------------------------------------------------------------- B2i
# The vendor's bundle (every record) imported at the vendor's node, against
# gpg --decrypt | tar -x and xmllint --schema of every record. Three rounds,
# ours and the baseline one after the other, which first alternating, each
# on a fresh copy (of the vendor's node; a new folder for the baseline);
# nothing is removed before the end, since removing 10,000 files slows the
# next minutes' file creation on some file systems. The medians are
# compared.
VN=$W/demo/nodes/vendor
VB=$(ls "$W"/demo/spool/outgoing/vendor/*.tar.gpg | head -n 1)
say ""
say "B2i import: the vendor's bundle ($(du -sh "$VB" | cut -f1)) at the vendor's node vs gpg --decrypt | tar -x + xmllint --schema, 3 rounds (load:$(uptime | sed 's/.*load average://'))"
kill_agents
b2i_ours() {
	cp -a "$VN" "$VN.$1" && rm -f "$VN.$1"/gnupg/S.* && cp "$VB" "$VN.$1/spool/import/" && sync &&
	run_timed b2i.$1 "$BIN" -c "$VN.$1/mimamori.xml" import ||
		die "import failed: $(tail -n 3 "$W/b2i.$1.err")"
	grep -q '^accepted ' "$W/b2i.$1.out" || die "import did not accept the bundle: $(cat "$W/b2i.$1.out")"
	say "  ours $1:     $T s (cpu $CPU s, gpg's own not counted), $(sed -n 's/^accepted [^ ]* [^ ]* \([0-9]*\)\/.*/\1/p' "$W/b2i.$1.out") records, peak RSS $((RSS / 1024)) MiB"
	echo "$T" >>"$W/b2i.ours"
	[ "$RSS" -le "${B2I_RSS:-0}" ] || B2I_RSS=$RSS
}
b2i_base() {
	mkdir -p "$W/b2i-base.$1" && sync
	t0=$(now)
	{
		gpg --homedir "$VN/gnupg" --batch --decrypt "$VB" 2>/dev/null | tar xf - -C "$W/b2i-base.$1" &&
		find "$W/b2i-base.$1/records" -name '*.xml' | xargs xmllint --noout --schema "$SRC/schemas/registration.xsd" 2>/dev/null
	} >"$W/b2i-base.out" 2>&1 || die "the B2i baseline failed"
	t1=$(now)
	say "  baseline $1: $(calc "$t1 - $t0") s (gpg --decrypt | tar -x, xmllint --schema of $(ls "$W/b2i-base.$1/records" | wc -l) records)"
	calc "$t1 - $t0" >>"$W/b2i.base"
	echo >>"$W/b2i.base"
}
median() { sort -n "$1" | sed -n 2p; }
: >"$W/b2i.ours" && : >"$W/b2i.base"
b2i_ours 1 && b2i_base 1 && b2i_base 2 && b2i_ours 2 && b2i_ours 3 && b2i_base 3
B2I_T=$(median "$W/b2i.ours")
B2I_BASE=$(median "$W/b2i.base")
B2I_RATIO=$(calc "$B2I_T / $B2I_BASE")
say "  medians:  ours $B2I_T s, baseline $B2I_BASE s"
say "  ratio:    ${B2I_RATIO}x the baseline's time (target <= 1.0x, peak <= 64 MiB)"
met=no
[ "$(calc "$B2I_RATIO <= 1.0")" = 1.000 ] && [ "$B2I_RSS" -le 65536 ] && met=yes
row "B2i import $N (median of 3)" "$B2I_T s" "$B2I_BASE s" "${B2I_RATIO}x time" "$((B2I_RSS / 1024)) MiB" "<=1.0x, <=64 MiB" $met

if [ "${BENCH_ONLY:-}" != B2 ]; then
# ---------------------------------------------------------------- B3, B4
. "$SRC/tests/bench/bench-mail.sh"

# ---------------------------------------------------------------- B6
say ""
BENCH_RES=$RES BENCH_N=$N BENCH_DIR=$W/b6 sh "$SRC/tests/bench/bench-csv.sh" "$BUILD" ||
	die "B6 failed"
fi

# ---------------------------------------------------------------- table
table
kill_agents
[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$W"
exit 0
