#!/usr/bin/env bash
# End-to-end benchmark: `vouch digest` of a gzip'd plain dump of the drill
# dataset against `gzip -dc dump > /dev/null` on the same file, in one run,
# alternating, several repetitions; prints min/median wall times and the
# ratio (target: vouch ≤ 1.0× gzip -dc). Also zstd against `zstd -dc`.
#   bench/gzip_digest.sh [SCALE=1.0] [REPS=3]
# Needs a build in ./build (scripts/test.sh or the README's cmake lines).
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-1.0}
REPS=${2:-3}
VOUCH=build/cli/vouch
GEN=build/bench/gen/vouch-gen
[ -x "$VOUCH" ] && [ -x "$GEN" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 2; }

work=$(mktemp -d)
chmod 755 "$work"
cleanup() { scripts/pgcluster.sh stop "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
scripts/pgcluster.sh start "$work/pg" >/dev/null
eval "$(scripts/pgcluster.sh env "$work/pg")"
PATH="$PG_BINDIR:$PATH"
createdb bench
echo "generating scale $SCALE ..." >&2
"$GEN" --scale "$SCALE" --dbname bench 2>/dev/null
PGTZ=UTC pg_dump -Fp -d bench -f "$work/dump.sql"
gzip -c -6 "$work/dump.sql" > "$work/dump.sql.gz"
zstd -q -3 -c "$work/dump.sql" > "$work/dump.sql.zst"
raw=$(stat -c %s "$work/dump.sql")
rm -f "$work/dump.sql"
scripts/pgcluster.sh stop "$work/pg" >/dev/null  # nothing else competes for the 2 cores

now() { date +%s.%N; }
time_cmd() { local t0 t1; t0=$(now); "$@" >/dev/null; t1=$(now); awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f\n", b - a}'; }
stats() { sort -g | awk '{a[NR]=$1} END {printf "%.3f %.3f", a[1], a[int((NR+1)/2)]}'; }

report() {  # name baseline-cmd vouch-cmd [target ratio, empty = none]
  local name=$1 bcmd=$2 vcmd=$3 target=${4:-} bt="" vt=""
  for ((r = 0; r < REPS; r++)); do
    bt+="$(time_cmd bash -c "$bcmd")"$'\n'
    vt+="$(time_cmd bash -c "$vcmd")"$'\n'
  done
  read -r bmin bmed <<<"$(printf '%s' "$bt" | stats)"
  read -r vmin vmed <<<"$(printf '%s' "$vt" | stats)"
  awk -v n="$name" -v bmin="$bmin" -v bmed="$bmed" -v vmin="$vmin" -v vmed="$vmed" -v raw="$raw" -v t="$target" 'BEGIN {
    r = vmed / bmed
    verdict = (t == "") ? "(no target; for reference)" : (r <= t ? "PASS" : "FAIL") " (target <= " t ")"
    printf "%-6s baseline min %.3f s  median %.3f s | vouch min %.3f s  median %.3f s (%.0f MB/s uncompressed) | ratio vouch/baseline (median) %.2f  %s\n",
      n, bmin, bmed, vmin, vmed, raw / vmed / 1e6, r, verdict }'
}

echo "dump: $(awk -v r="$raw" 'BEGIN{printf "%.0f MB", r/1e6}') uncompressed, gzip $(stat -c %s "$work/dump.sql.gz") bytes; $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
report gzip "gzip -dc $work/dump.sql.gz > /dev/null" "$VOUCH digest $work/dump.sql.gz --quiet" 1.0
report zstd "zstd -dc $work/dump.sql.zst > /dev/null" "$VOUCH digest $work/dump.sql.zst --quiet"
