#!/usr/bin/env bash
# End-to-end benchmark of base-backup verification: a pg_basebackup of the
# drill dataset at SCALE, verified by pg_verifybackup (the reference: one
# thread, 4 KB reads) and by vouch, alternating, REPS repetitions:
#   - a CRC32C manifest (pg_basebackup's default) and a SHA-256 manifest,
#     vouch with --jobs JOBS against pg_verifybackup (target: vouch in at
#     most 0.6x pg_verifybackup's wall time, issue 7);
#   - vouch --jobs 1 against pg_verifybackup, the same work on one core;
#   - for reference, vouch with --page-checksums too (pg_verifybackup never
#     reads pages), and a tar-format (-Ft -z) backup, which PostgreSQL 15's
#     pg_verifybackup cannot read at all.
# Both tools read the same WAL range (pg_verifybackup through pg_waldump).
#   bench/backup_verify.sh [SCALE=1.0] [REPS=3] [JOBS=$(nproc)]
# VOUCH_BUILD_DIR=build-foo picks another build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-1.0}
REPS=${2:-3}
JOBS=${3:-$(nproc)}
source bench/lib.sh  # reads VOUCH_BUILD_DIR or BUILD
VB="$VOUCH verify-backup --quiet"

bench_cluster_with_data "$SCALE"
psql -qX -d bench -c CHECKPOINT
pg_basebackup -D "$work/crc" -Fp -X fetch -c fast --no-sync --manifest-checksums=CRC32C
pg_basebackup -D "$work/sha" -Fp -X fetch -c fast --no-sync --manifest-checksums=SHA256
pg_basebackup -D "$work/tgz" -Ft -z -X fetch -c fast --no-sync
scripts/pgcluster.sh stop "$work/pg" >/dev/null  # nothing else competes for the cores
bytes=$(du -sb "$work/crc" | cut -f1)
# Both tools must pass the intact backups before they are timed.
for d in crc sha; do
  pg_verifybackup -q "$work/$d" || { echo "pg_verifybackup fails on the intact $d backup" >&2; exit 1; }
done
for d in crc sha tgz; do
  $VB "$work/$d" --quiet || { echo "vouch fails on the intact $d backup (exit $?)" >&2; exit 1; }
done

echo "backup: $(awk -v b="$bytes" 'BEGIN{printf "%.0f MB", b/1e6}') plain ($(find "$work/crc" -type f | wc -l) files), $(du -sb "$work/tgz" | cut -f1) bytes as -Ft -z; $(nproc) cores;$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
# Reading from the page cache on both sides: one untimed pass warms it.
cat "$work"/crc/base/*/* "$work"/sha/base/*/* >/dev/null 2>&1 || true
bench_report "CRC32C -j$JOBS vs pg_vb" "pg_verifybackup -q $work/crc" "$VB $work/crc --jobs $JOBS --quiet" "$bytes" 0.6
bench_report "SHA256 -j$JOBS vs pg_vb" "pg_verifybackup -q $work/sha" "$VB $work/sha --jobs $JOBS --quiet" "$bytes" 0.6
bench_report "CRC32C -j1 vs pg_vb" "pg_verifybackup -q $work/crc" "$VB $work/crc --jobs 1 --quiet" "$bytes"
bench_report "SHA256 -j1 vs pg_vb" "pg_verifybackup -q $work/sha" "$VB $work/sha --jobs 1 --quiet" "$bytes"
bench_report "+pages -j$JOBS vs pg_vb" "pg_verifybackup -q $work/crc" "$VB $work/crc --jobs $JOBS --page-checksums --quiet" "$bytes"
bench_report "tar.gz -j$JOBS vs pg_vb(plain)" "pg_verifybackup -q $work/crc" "$VB $work/tgz --jobs $JOBS --quiet" "$bytes"
$VB "$work/crc" --jobs "$JOBS" --page-checksums | sed 's/^/crc run: /'
