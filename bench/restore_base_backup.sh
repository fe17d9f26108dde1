#!/usr/bin/env bash
# End-to-end benchmark of `vouch restore-test` of a base backup (issue
# "Restore and prove"): the drill dataset at SCALE in a base backup, then
# writes after it (a table of 500,000 × SCALE rows) for WAL replay, a vouch
# manifest of the result, and the WAL archived. restore-test of the backup to
# the archive's end, proven against the manifest, is timed against the same
# steps by hand in the same run, alternating, REPS repetitions: cp -a of the
# backup, recovery settings (restore_command from the archive, promote),
# pg_ctl start and a wait until recovery has ended, `vouch digest` of the
# restored database, pg_ctl stop and rm. Target: restore-test ≤ 1.1× that sum
# (orchestration costs under 10%). Then one run of restore-test's own phases.
# restore-test runs with --no-amcheck: the steps by hand check no index.
#   bench/restore_base_backup.sh [SCALE=1.0] [REPS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-1.0}
REPS=${2:-3}
source bench/lib.sh
bench_cluster_with_data "$SCALE"
pg_basebackup -D "$work/base" -X none -c fast
rows=$(awk -v s="$SCALE" 'BEGIN{printf "%d", 500000 * s}')
psql -X -q -d bench -c "CREATE TABLE public.replayed AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, $rows) g"
$VOUCH digest -q "postgresql://$PGUSER@127.0.0.1:$PGPORT/bench" -o "$work/expect.json" >/dev/null
last=$(psql -X -At -d bench -c "SELECT pg_walfile_name(pg_switch_wal())")
for _ in $(seq 1 600); do
  [ "$(psql -X -At -d bench -c "SELECT last_archived_wal >= '$last' FROM pg_stat_archiver")" = t ] && break
  sleep 0.1
done
mkdir -m 755 "$work/scratch"
as=""
[ "$(id -u)" = 0 ] && as="runuser -u postgres --"
port=$((PGPORT + 1))
cat > "$work/by_hand.sh" <<SH
set -e
d=\$(mktemp -d -p "$work/scratch")
cp -a "$work/base" "\$d/data"
chmod 700 "\$d/data"
rm -f "\$d/data/postmaster.pid"
cat >> "\$d/data/postgresql.auto.conf" <<CONF
restore_command = 'cp "$PG_WAL_ARCHIVE/%f" "%p"'
recovery_target_action = 'promote'
archive_mode = off
CONF
touch "\$d/data/recovery.signal"
chown -R postgres "\$d" 2>/dev/null || true
$as $PG_BINDIR/pg_ctl start -D "\$d/data" -l "\$d/server.log" -w -o "-p $port -c listen_addresses=127.0.0.1 -k \$d" >/dev/null
c="host=127.0.0.1 port=$port user=$PGUSER"
until [ "\$($PG_BINDIR/psql -X -At -d "\$c dbname=bench" -c 'SELECT pg_is_in_recovery()')" = f ]; do sleep 0.05; done
$VOUCH digest -q "\$c dbname=bench" >/dev/null
$as $PG_BINDIR/pg_ctl stop -D "\$d/data" -m fast -w >/dev/null
rm -rf "\$d"
SH
bytes=$(du -sb "$work/base" | cut -f1)
echo "restore-test of a base backup: scale $SCALE, backup $(awk -v r="$bytes" 'BEGIN{printf "%.0f MB", r/1e6}'), $(ls "$PG_WAL_ARCHIVE" | wc -l) archived WAL files; $(bench_machine); load average $(cut -d' ' -f1-3 /proc/loadavg) before"
bench_report "restore-test (base backup) vs by hand" "bash $work/by_hand.sh" \
  "$VOUCH restore-test $work/base --wal-archive $PG_WAL_ARCHIVE --expect $work/expect.json --scratch $work/scratch --no-amcheck" "$bytes" 1.1
echo "restore-test phases (one more run):"
$VOUCH restore-test "$work/base" --wal-archive "$PG_WAL_ARCHIVE" --expect "$work/expect.json" --scratch "$work/scratch" --no-amcheck |
  sed -n '/^Recovery$/,/RTO (total)/p'
