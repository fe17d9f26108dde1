# Shared by the end-to-end benchmark scripts: a throwaway cluster with the
# drill dataset, timing, and one report line per comparison. Source it.
VOUCH=build/cli/vouch
GEN=build/bench/gen/vouch-gen
[ -x "$VOUCH" ] && [ -x "$GEN" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 2; }

# bench_cluster_with_data SCALE: starts a cluster in $work/pg, loads database "bench".
bench_cluster_with_data() {
  work=$(mktemp -d)
  chmod 755 "$work"
  trap 'scripts/pgcluster.sh stop "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
  scripts/pgcluster.sh start "$work/pg" >/dev/null
  eval "$(scripts/pgcluster.sh env "$work/pg")"
  PATH="$PG_BINDIR:$PATH"
  createdb bench
  echo "generating scale $1 ..." >&2
  "$GEN" --scale "$1" --dbname bench 2>/dev/null
}

bench_now() { date +%s.%N; }
# Prints the wall seconds of a shell command line.
bench_time() { local t0 t1; t0=$(bench_now); bash -c "$1" >/dev/null; t1=$(bench_now); awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f\n", b - a}'; }
bench_stats() { sort -g | awk '{a[NR]=$1} END {printf "%.3f %.3f", a[1], a[int((NR+1)/2)]}'; }

# bench_report NAME BASELINE_CMD VOUCH_CMD BYTES [TARGET [faster]]: runs both
# REPS times, alternating; prints min/median and the median ratio. With
# "faster", the target is baseline/vouch >= TARGET, else vouch/baseline <= TARGET.
bench_report() {
  local name=$1 bcmd=$2 vcmd=$3 bytes=$4 target=${5:-} mode=${6:-} bt="" vt="" bmin bmed vmin vmed
  for ((r = 0; r < REPS; r++)); do
    bt+="$(bench_time "$bcmd")"$'\n'
    vt+="$(bench_time "$vcmd")"$'\n'
  done
  read -r bmin bmed <<<"$(printf '%s' "$bt" | bench_stats)"
  read -r vmin vmed <<<"$(printf '%s' "$vt" | bench_stats)"
  awk -v n="$name" -v bmin="$bmin" -v bmed="$bmed" -v vmin="$vmin" -v vmed="$vmed" -v raw="$bytes" -v t="$target" -v m="$mode" 'BEGIN {
    r = vmed / bmed
    if (t == "") verdict = "(no target; for reference)"
    else if (m == "faster") verdict = (1 / r >= t ? "PASS" : "FAIL") " (target: vouch >= " t "x faster)"
    else verdict = (r <= t ? "PASS" : "FAIL") " (target <= " t ")"
    printf "%-22s baseline min %.3f s median %.3f s | vouch min %.3f s median %.3f s (%.0f MB/s) | vouch/baseline %.2f  %s\n",
      n, bmin, bmed, vmin, vmed, raw / vmed / 1e6, r, verdict }'
}
