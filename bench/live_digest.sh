#!/usr/bin/env bash
# End-to-end benchmark of `vouch digest postgresql://...` on the drill
# dataset, in one run, alternating, REPS repetitions, against what people run
# today: `psql -c "\copy t TO '/dev/null'"` table after table (target: vouch ≤
# 0.6×), and the in-database check SELECT md5(string_agg(t::text, '' ORDER BY
# pk)) FROM t over all tables (target: vouch ≥ 6× faster). vouch reads with
# binary COPY where it can (--copy-format auto, the default); psql's own
# binary \copy, vouch's text COPY read and its read with large tables in
# TID ranges (--split-over 64M) are timed too, for reference. Then the server's CPU time: the backends'
# user + system time (reaped by the postmaster when their connections close)
# for the text \copy of every table and for vouch's read (target: vouch ≤
# 0.7× of it). Prints vouch's peak RSS (target ≤ 256 MB).
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
bin_cmd=""
md5_cmd=""
for t in $tables; do
  pk=$(psql -X -At -d bench -c "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] WHERE i.indrelid = 'public.$t'::regclass AND i.indisprimary")
  copy_cmd+="psql -X -q -d bench -c \"\\copy public.$t TO '/dev/null'\"; "
  bin_cmd+="psql -X -q -d bench -c \"\\copy public.$t TO '/dev/null' (FORMAT binary)\"; "
  md5_cmd+="psql -X -At -d bench -c \"SELECT md5(string_agg(t::text, '' ORDER BY $pk)) FROM public.$t t\"; "
done

echo "live database: scale $SCALE, $(awk -v r="$bytes" 'BEGIN{printf "%.0f MB", r/1e6}') of table data; $(nproc) cores;$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
bench_report "live vs psql \\copy" "$copy_cmd" "$VOUCH digest $URI --quiet" "$bytes" 0.6
bench_report "\\copy binary vs text" "$copy_cmd" "$bin_cmd" "$bytes"
bench_report "live (text) vs \\copy" "$copy_cmd" "$VOUCH digest $URI --quiet --copy-format text" "$bytes"
bench_report "live (split) vs \\copy" "$copy_cmd" "$VOUCH digest $URI --quiet --split-over 64M" "$bytes"
bench_report "live vs md5(string_agg)" "$md5_cmd" "$VOUCH digest $URI --quiet" "$bytes" 6 faster

# The server's CPU seconds for a command: its backends' user + system time,
# which the postmaster collects as its children's when they exit.
# The postmaster reaps them a moment after the client is gone: wait until
# only its own processes are left.
server_cpu() {
  local pid t0 t1 n0
  pid=$(head -1 "$PG_DATADIR/postmaster.pid")
  n0=$(ps --no-headers --ppid "$pid" | wc -l)
  t0=$(awk '{print $16 + $17}' "/proc/$pid/stat")
  bash -c "$1" >/dev/null
  for _ in $(seq 100); do
    [ "$(ps --no-headers --ppid "$pid" | wc -l)" -le "$n0" ] && break
    sleep 0.1
  done
  sleep 0.3
  t1=$(awk '{print $16 + $17}' "/proc/$pid/stat")
  awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f\n", (b - a) / hz}'
}
ct="" vt="" tt="" bt=""
for ((r = 0; r < REPS; r++)); do
  ct+="$(server_cpu "$copy_cmd")"$'\n'
  vt+="$(server_cpu "$VOUCH digest $URI --quiet")"$'\n'
  tt+="$(server_cpu "$VOUCH digest $URI --quiet --copy-format text")"$'\n'
  bt+="$(server_cpu "$bin_cmd")"$'\n'
done
read -r _ bmed <<<"$(printf '%s' "$bt" | bench_stats)"
read -r _ cmed <<<"$(printf '%s' "$ct" | bench_stats)"
read -r _ vmed <<<"$(printf '%s' "$vt" | bench_stats)"
read -r _ tmed <<<"$(printf '%s' "$tt" | bench_stats)"
awk -v c="$cmed" -v v="$vmed" -v t="$tmed" -v b="$bmed" 'BEGIN {
  printf "server CPU             \\copy text %.2f s | vouch %.2f s (%.2fx) | vouch --copy-format text %.2f s (%.2fx) | \\copy binary %.2f s (%.2fx)  %s\n",
    c, v, v / c, t, t / c, b, b / c, (v / c <= 0.7 ? "PASS" : "FAIL") " (target: vouch <= 0.7x)" }'
"$VOUCH" digest "$URI" 2>&1 >/dev/null | sed 's/^/vouch run: /'
