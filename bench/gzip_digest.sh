#!/usr/bin/env bash
# End-to-end benchmark: `vouch digest` of a gzip'd plain dump of the drill
# dataset against `gzip -dc dump > /dev/null` on the same file, in one run,
# alternating, several repetitions; prints min/median wall times and the
# ratio (target: vouch ≤ 1.0× gzip -dc). Also zstd against `zstd -dc`.
#   bench/gzip_digest.sh [SCALE=1.0] [REPS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-1.0}
REPS=${2:-3}
source bench/lib.sh
bench_cluster_with_data "$SCALE"
PGTZ=UTC pg_dump -Fp -d bench -f "$work/dump.sql"
gzip -c -6 "$work/dump.sql" > "$work/dump.sql.gz"
zstd -q -3 -c "$work/dump.sql" > "$work/dump.sql.zst"
raw=$(stat -c %s "$work/dump.sql")
rm -f "$work/dump.sql"
scripts/pgcluster.sh stop "$work/pg" >/dev/null  # nothing else competes for the cores

echo "dump: $(awk -v r="$raw" 'BEGIN{printf "%.0f MB", r/1e6}') uncompressed, gzip $(stat -c %s "$work/dump.sql.gz") bytes; $(nproc) cores;$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
bench_report "gzip plain dump" "gzip -dc $work/dump.sql.gz" "$VOUCH digest $work/dump.sql.gz --quiet" "$raw" 1.0
bench_report "zstd plain dump" "zstd -dc $work/dump.sql.zst" "$VOUCH digest $work/dump.sql.zst --quiet" "$raw"
"$VOUCH" digest "$work/dump.sql.gz" 2>&1 >/dev/null | sed 's/^/gzip run: /'
