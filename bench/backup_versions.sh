#!/usr/bin/env bash
# Base-backup verification per PostgreSQL major version, against that
# version's own tools, alternating in the same run (bench_report):
#   - a plain backup (CRC32C manifest) of the drill dataset at SCALE:
#     `vouch verify-backup --page-checksums` (one read: manifest checksums,
#     every page's checksum, WAL) against `pg_verifybackup` followed by
#     `pg_checksums --check` (two reads). pg_checksums refuses a base backup
#     ("cluster must be shut down"), so it checks the same data in a cleanly
#     shut-down cluster: a copy of the backup, recovered to consistency by a
#     server (scripts/pgcluster.sh adopt) and stopped. Target: vouch <= 0.5x.
#   - PostgreSQL 18 only (the first pg_verifybackup that reads tar): tar
#     backups with gzip, lz4 and zstd compression, `vouch verify-backup`
#     (which checks the WAL too) against `pg_verifybackup -n` (which cannot
#     parse WAL in a tar backup). Target: vouch <= 0.5x.
# Versions other than Debian 12's 15 run from the chroots of
# scripts/pgchroot.sh (root only); each of their tools is started through a
# wrapper (unshare + chroot, a few ms a call), which counts against them.
#   bench/backup_versions.sh [SCALE=1.0] [REPS=3] [VERSIONS="15 17 18"] [JOBS=$(nproc)]
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-1.0}
REPS=${2:-3}
VERSIONS=${3:-15 17 18}
JOBS=${4:-$(nproc)}
source bench/lib.sh
VB="$VOUCH verify-backup --quiet --jobs $JOBS"
bench_workdir
echo "base-backup verification per major version: scale $SCALE, $REPS reps, --jobs $JOBS; $(bench_machine)"

for v in $VERSIONS; do
  d=$work/v$v
  bench_version_backups "$SCALE" "$v"
  stopped=$d/recovered/data
  bytes=$(du -sb "$d/plain" | cut -f1)
  # Every tool must pass the intact data before it is timed.
  "$BV_BIN/pg_verifybackup" -q "$d/plain" || { echo "pg_verifybackup $v fails on the intact backup" >&2; exit 1; }
  "$BV_BIN/pg_checksums" --check -D "$stopped" >/dev/null || { echo "pg_checksums $v fails on the recovered copy" >&2; exit 1; }
  $VB --page-checksums "$d/plain" >/dev/null || { echo "vouch fails on the intact $v backup (exit $?)" >&2; exit 1; }
  echo "PostgreSQL $v: plain backup $(awk -v b="$bytes" 'BEGIN{printf "%.0f MB", b/1e6}'), $(find "$d/plain" -type f | wc -l) files"
  cat "$d"/plain/base/*/* "$stopped"/base/*/* >/dev/null 2>&1 || true  # the page cache, warm for both
  bench_report "PG$v plain +pages" \
    "$BV_BIN/pg_verifybackup -q $d/plain && $BV_BIN/pg_checksums --check -D $stopped" \
    "$VB --page-checksums $d/plain" "$bytes" 0.5
  if [ "$v" -ge 18 ]; then
    for c in gzip lz4 zstd; do
      t=$d/tar_$c
      "$BV_BIN/pg_verifybackup" -q -n "$t" || { echo "pg_verifybackup $v -n fails on the intact $c tar backup" >&2; exit 1; }
      $VB "$t" >/dev/null || { echo "vouch fails on the intact $c tar backup" >&2; exit 1; }
      bench_report "PG$v tar $c" "$BV_BIN/pg_verifybackup -q -n $t" "$VB $t" "$(du -sb "$t" | cut -f1)" 0.5
    done
  fi
  rm -rf "$d"
done
