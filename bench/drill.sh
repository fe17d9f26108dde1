#!/usr/bin/env bash
# End-to-end benchmark of `vouch drill SOURCE RESTORED` (issue 6) on the drill
# dataset: the source database and a restored copy (pg_dump -Fc | pg_restore)
# on one server. In one run, alternating, REPS repetitions: the drill (both
# digests at once, compare, audit chain, gaps, orphans, temporal) against two
# `vouch digest` runs of the same databases, one after the other (target:
# drill ≤ 1.5× their wall time). Then the chain verifier's links/s per core
# from the micro-benchmark (target ≥ 1 M links/s, SHA-256).
#   bench/drill.sh [SCALE=1.0] [REPS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-1.0}
REPS=${2:-3}
source bench/lib.sh
bench_cluster_with_data "$SCALE"
createdb restored
pg_dump -Fc -d bench | pg_restore -d restored
psql -X -q -d bench -c "VACUUM ANALYZE" >/dev/null
psql -X -q -d restored -c "VACUUM ANALYZE" >/dev/null
SRC="postgresql://$PGUSER@127.0.0.1:$PGPORT/bench"
RST="postgresql://$PGUSER@127.0.0.1:$PGPORT/restored"
bytes=$(psql -X -At -d bench -c "SELECT 2 * sum(pg_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'")
links=$(psql -X -At -d bench -c "SELECT count(*) FROM audit_log")

echo "drill: scale $SCALE, $(awk -v r="$bytes" 'BEGIN{printf "%.0f MB", r/1e6}') of table data on both sides, $links audit links; $(nproc) cores;$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
bench_report "drill vs 2x digest" "$VOUCH digest $SRC --quiet; $VOUCH digest $RST --quiet" \
  "$VOUCH drill $SRC $RST --chain audit_log --quiet" "$bytes" 1.5
"$VOUCH" drill "$SRC" "$RST" --chain audit_log --quiet | tail -n 3 | sed 's/^/vouch drill: /'
/usr/bin/time -f "vouch drill peak RSS %M KB" "$VOUCH" drill "$SRC" "$RST" --chain audit_log --quiet >/dev/null

if [ -x "$MICROBENCH" ]; then
  "$MICROBENCH" --benchmark_filter='BM_ChainLink' --benchmark_min_time=0.5 2>/dev/null |
    awk '/BM_ChainLink/ { for (i = 1; i <= NF; i++) if ($i ~ /items_per_second=/) { v = $i; sub(/items_per_second=/, "", v); sub(/\/s$/, "", v); mult = 1;
           if (v ~ /k$/) mult = 1e3; if (v ~ /M$/) mult = 1e6; if (v ~ /G$/) mult = 1e9; sub(/[kMG]$/, "", v);
           printf "%-40s %.2f M links/s per core  %s (target >= 1 M)\n", $1, v * mult / 1e6, (v * mult >= 1e6 ? "PASS" : "FAIL") } }'
fi
