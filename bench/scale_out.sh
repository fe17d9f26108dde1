#!/usr/bin/env bash
# A measured, local simulation of scale-out (docs/scale-out.md): N processes
# on this machine, each `vouch digest URI --shard k/N --jobs 1 -o part-k.json`,
# all at once, then `vouch merge`. For N = 1, 2, 4 (--shards) it reports the
# wall time, checks that the merged FINAL_VALIDATION_HASH equals a single
# run's, times one shard alone (no competition) to separate what every shard
# pays in full (the server scans the whole table to pick its rows) from what
# it pays for 1/N of the rows, and projects the wall time of 1 TB of heap on N
# machines from those two terms.
#   bench/scale_out.sh [--scale S] [--uri URI] [--shards "1 2 4"] [--reps R]
# Defaults: scale 0.3, shards "1 2 4", 2 repetitions (medians).
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=0.3 URI="" SHARDS="1 2 4" REPS=2
while [ $# -gt 0 ]; do
  case $1 in
    --scale) SCALE=${2:?}; shift 2 ;;
    --uri) URI=${2:?}; shift 2 ;;
    --shards) SHARDS=${2:?}; shift 2 ;;
    --reps) REPS=${2:?}; shift 2 ;;
    *) sed -n '/^#   bench/,/^# Defaults/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
source bench/lib.sh
command -v jq >/dev/null || { echo "scale_out: jq is missing (bash scripts/install-deps.sh)" >&2; exit 2; }
"$VOUCH" digest --help 2>&1 | grep -q -- --shard || { echo "scale_out: this vouch has no 'digest --shard'" >&2; exit 2; }

bench_workdir
if [ -n "$URI" ]; then
  DB=$URI
  PATH="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1):$PATH"
else
  bench_cluster_with_data "$SCALE"
  DB="postgresql://$PGUSER@127.0.0.1:$PGPORT/bench"
  psql -X -q -d "$DB" -c "VACUUM ANALYZE" >/dev/null
fi
HEAP=$(psql -X -At -d "$DB" -c "SELECT sum(pg_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'")
median() { bench_stats | cut -d' ' -f2; }

# The reference: one process, one thread, no --shard.
ref=""
for ((r = 0; r < REPS; r++)); do
  ref+="$(bench_time "$(printf '%q' "$VOUCH") digest $(printf '%q' "$DB") --jobs 1 --quiet -o $work/single.json")"$'\n'
done
T1=$(printf '%s' "$ref" | median)
SINGLE_HASH=$(jq -r .final_validation_hash "$work/single.json")

# run_shards N: all N shards at once; prints the wall seconds.
run_shards() {
  local n=$1 k t0 t1 pids=()
  rm -f "$work"/part-"$n"-*.json
  t0=$(bench_now)
  for ((k = 0; k < n; k++)); do
    "$VOUCH" digest "$DB" --shard "$k/$n" --jobs 1 --quiet -o "$work/part-$n-$k.json" >/dev/null &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || { echo "scale_out: a shard of $n failed" >&2; exit 3; }; done
  t1=$(bench_now)
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", b - a}'
}

echo "scale-out simulation: $(bench_machine); heap $(awk -v b="$HEAP" 'BEGIN {printf "%.0f MB", b / 1e6}'); $REPS repetitions (medians)"
echo "single process (--jobs 1, no --shard): $T1 s, $(awk -v b="$HEAP" -v t="$T1" 'BEGIN {printf "%.1f", b / t / 1e6}') MB/s, final hash ${SINGLE_HASH:0:16}…"
echo
echo "| N shards at once | wall (median) | speed-up vs 1 process | vouch merge | one shard alone | merged hash = single run |"
echo "|---:|---:|---:|---:|---:|---|"
fit=$work/fit.tsv   # 1/N, seconds of one shard alone (N > 1: with the server-side filter)
: >"$fit"
# alone N: median seconds of shard 0/N run by itself.
alone() {
  local r t=""
  for ((r = 0; r < REPS; r++)); do
    t+="$(bench_time "$(printf '%q' "$VOUCH") digest $(printf '%q' "$DB") --shard 0/$1 --jobs 1 --quiet")"$'\n'
  done
  printf '%s' "$t" | median
}
for n in $SHARDS; do
  if [ "$n" -eq 1 ]; then
    echo "| 1 | $T1 s | 1.00× | — | $T1 s | (the reference) |"
    continue
  fi
  walls=""
  for ((r = 0; r < REPS; r++)); do walls+="$(run_shards "$n")"$'\n'; done
  wall=$(printf '%s' "$walls" | median)
  merge_s=$(bench_time "$(printf '%q' "$VOUCH") merge $work/part-$n-*.json -o $work/merged-$n.json")
  merged=$(jq -r .final_validation_hash "$work/merged-$n.json")
  same="❌ no ($merged)"
  [ "$merged" = "$SINGLE_HASH" ] && same="✅ yes"
  t_alone=$(alone "$n")
  awk -v n="$n" -v t="$t_alone" 'BEGIN {printf "%.6f\t%s\n", 1 / n, t}' >>"$fit"
  echo "| $n | $wall s | $(awk -v a="$T1" -v b="$wall" 'BEGIN {printf "%.2f×", a / b}') | $merge_s s | $t_alone s | $same |"
  [ "$merged" = "$SINGLE_HASH" ] || { echo "scale_out: merged hash differs from the single run" >&2; exit 1; }
done

# Least squares of t = a + b/N over the sharded runs timed alone (N > 1, and
# N = 8 for a third point): a is what every shard pays whatever N (the server
# reads every row and hashes its key to select 1/N), b the part that divides
# (COPY out, transfer, canonical text, hashing). N = 1 is left out: without
# --shard the server filters nothing.
for n in 2 4 8; do
  grep -q "^$(awk -v n="$n" 'BEGIN {printf "%.6f", 1 / n}')"$'\t' "$fit" || awk -v n="$n" -v t="$(alone "$n")" 'BEGIN {printf "%.6f\t%s\n", 1 / n, t}' >>"$fit"
done
# What a process pays whatever the data size (start, connect, catalog,
# snapshot): a digest of the smallest table alone. It is taken off every
# timing before the fit and added back once in the projection.
small=$(psql -X -At -d "$DB" -c "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%' ORDER BY pg_relation_size(c.oid) LIMIT 1")
c=""
for ((r = 0; r < REPS; r++)); do
  c+="$(bench_time "$(printf '%q' "$VOUCH") digest $(printf '%q' "$DB") -t $(printf '%q' "$small") --shard 0/4 --jobs 1 --quiet")"$'\n'
done
C=$(printf '%s' "$c" | median)
read -r A B <<<"$(awk -F'\t' -v c="$C" '{y0 = $2 - c; x += $1; y += y0; xx += $1 * $1; xy += $1 * y0; n++}
  END {b = (n * xy - x * y) / (n * xx - x * x); a = (y - b * x) / n; if (n < 2) {b = y; a = 0}; printf "%.4f %.4f\n", a, b}' "$fit")"
echo
echo "one shard alone: t(N) ≈ $C s + $A s + $B s / N: $C s per process whatever the data (a digest of $small alone),"
echo "$A s that every shard pays in full (the server reads every row to pick its 1/N), $B s that divides by N"
echo "(least squares over N = $(awk -F'\t' '{printf "%s ", 1 / $1}' "$fit" | sed 's/ $//; s/ /, /g'): $(awk -F'\t' '{printf "%s s, ", $2}' "$fit" | sed 's/, $//'))"
echo
F=$(awk -v b="$HEAP" 'BEGIN {printf "%.1f", 1e12 / b}')
echo "Projection for 1 TB of heap ($F × this dataset): t = $C s + $F × ($A s + $B s / N); N = 1 is the single run without --shard."
echo "Assumptions: time grows linearly with the data; every shard has two cores as fast as these (one for vouch,"
echo "one for its server backend), as one shard alone had here; each replica reads its heap as fast as this page cache did"
echo "(from disk, a replica scanning 1 TB at 1 GB/s needs 17 min whatever N: a floor under the 'a' term);"
echo "the network carries the COPY text (about the heap's size in total) without becoming the bottleneck."
echo
echo "| N machines | projected wall | aggregate throughput | if a shard read only its own rows (key ranges) |"
echo "|---:|---:|---:|---:|"
for n in 1 4 16 64 256; do
  awk -v n="$n" -v a="$A" -v b="$B" -v c="$C" -v f="$F" -v t1="$T1" 'function dur(s) { return s >= 3600 ? sprintf("%.1f h", s / 3600) : s >= 60 ? sprintf("%.0f min", s / 60) : sprintf("%.0f s", s) }
    BEGIN { t = (n == 1 ? c + f * (t1 - c) : c + f * (a + b / n)); ideal = c + f * (t1 - c) / n
            printf "| %d | %s | %.2f GB/s | %s |\n", n, dur(t), 1e12 / t / 1e9, dur(ideal) }'
done
