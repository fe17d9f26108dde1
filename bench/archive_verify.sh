#!/usr/bin/env bash
# End-to-end benchmark of `vouch verify-archive` on pg_dump archives of the
# drill dataset, in one run, alternating, REPS repetitions:
#   - custom format (pg_dump -Fc, zlib) against `pg_restore -f /dev/null` of
#     the same file, which decompresses everything but hashes nothing
#     (target: vouch ≤ 1.0×);
#   - directory format (pg_dump -Fd) with --jobs 2 against --jobs 1
#     (target: --jobs 2 faster, ratio < 1.0);
#   - tar format against pg_restore -f /dev/null, for reference.
#   bench/archive_verify.sh [SCALE=1.0] [REPS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-1.0}
REPS=${2:-3}
source bench/lib.sh
bench_cluster_with_data "$SCALE"
pg_dump -Fc -d bench -f "$work/dump.custom"
pg_dump -Fd -d bench -f "$work/dump.dir"
pg_dump -Ft -d bench -f "$work/dump.tar"
raw=$(pg_restore -f - "$work/dump.custom" | wc -c)
scripts/pgcluster.sh stop "$work/pg" >/dev/null  # nothing else competes for the cores

echo "archives: $(awk -v r="$raw" 'BEGIN{printf "%.0f MB", r/1e6}') of SQL when restored; custom $(stat -c %s "$work/dump.custom") bytes; $(nproc) cores;$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
bench_report "custom vs pg_restore" "pg_restore -f /dev/null $work/dump.custom" "$VOUCH verify-archive $work/dump.custom --quiet" "$raw" 1.0
bench_report "directory -j2 vs -j1" "$VOUCH verify-archive $work/dump.dir --jobs 1 --quiet" "$VOUCH verify-archive $work/dump.dir --jobs 2 --quiet" "$raw" 1.0
bench_report "tar vs pg_restore" "pg_restore -f /dev/null $work/dump.tar" "$VOUCH verify-archive $work/dump.tar --quiet" "$raw"
"$VOUCH" verify-archive "$work/dump.custom" 2>&1 >/dev/null | sed 's/^/custom run: /'
