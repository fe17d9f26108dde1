#!/usr/bin/env bash
# End-to-end benchmark of `vouch digest postgresql://...` on the drill
# dataset, in one run, alternating, REPS repetitions, against what people run
# today: `psql -c "\copy t TO '/dev/null'"` table after table (target: vouch ≤
# 1.0×), and the in-database check SELECT md5(string_agg(t::text, '' ORDER BY
# pk)) FROM t over all tables (target: vouch ≥ 4× faster). Prints vouch's
# peak RSS (target ≤ 256 MB).
#   bench/live_digest.sh [SCALE=1.0] [REPS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-1.0}
REPS=${2:-3}
source bench/lib.sh
bench_cluster_with_data "$SCALE"
psql -X -q -d bench -c "VACUUM ANALYZE" >/dev/null
URI="postgresql://$PGUSER@127.0.0.1:$PGPORT/bench"
bytes=$(psql -X -At -d bench -c "SELECT sum(pg_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'")
tables="agents sessions tasks executions tool_calls audit_log"
copy_cmd=""
md5_cmd=""
for t in $tables; do
  pk=$(psql -X -At -d bench -c "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] WHERE i.indrelid = 'public.$t'::regclass AND i.indisprimary")
  copy_cmd+="psql -X -q -d bench -c \"\\copy public.$t TO '/dev/null'\"; "
  md5_cmd+="psql -X -At -d bench -c \"SELECT md5(string_agg(t::text, '' ORDER BY $pk)) FROM public.$t t\"; "
done

echo "live database: scale $SCALE, $(awk -v r="$bytes" 'BEGIN{printf "%.0f MB", r/1e6}') of table data; $(nproc) cores;$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
bench_report "live vs psql \\copy" "$copy_cmd" "$VOUCH digest $URI --quiet" "$bytes" 1.0
bench_report "live vs md5(string_agg)" "$md5_cmd" "$VOUCH digest $URI --quiet" "$bytes" 4 faster
"$VOUCH" digest "$URI" 2>&1 >/dev/null | sed 's/^/vouch run: /'
