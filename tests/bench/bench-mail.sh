# B3 (fan-out) and B4 (latency): sourced by bench.sh. (being written)
for b in "B3 fan-out" "B4 latency"; do
	say ""
	say "${b%% *}: skipped (not built yet)"
	row "$b" "skipped" "-" "-" "-" "-" "-"
done
