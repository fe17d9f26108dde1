#!/usr/bin/env bash
# End-to-end benchmark of `vouch restore-test` (issue "Restore and prove") on
# the drill dataset's custom dump: the whole command against the same steps
# run by hand in the same run, alternating, REPS repetitions. By hand: initdb
# (as postgres when root, as restore-test does), pg_ctl start on a loopback
# port, psql of the globals file, pg_restore --create -j 2, `vouch drill` of
# the dump against the restored database, pg_ctl stop and rm. Target:
# restore-test ≤ 1.1× that sum (orchestration costs under 10%). Then one run
# of restore-test's own phase times.
# restore-test runs with --no-amcheck: the steps by hand check no index.
#   bench/restore_test.sh [SCALE=1.0] [REPS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-1.0}
REPS=${2:-3}
source bench/lib.sh
bench_cluster_with_data "$SCALE"
pg_dump -Fc -d bench -f "$work/bench.custom"
pg_dumpall -g -f "$work/globals.sql"
mkdir -m 755 "$work/scratch"
as=""
[ "$(id -u)" = 0 ] && as="runuser -u postgres --"
superuser=$(sed -n 's/^ALTER ROLE \([^ ]*\) WITH SUPERUSER.*/\1/p' "$work/globals.sql" | head -1)
port=$((PGPORT + 1))
cat > "$work/by_hand.sh" <<SH
set -e
d=\$(mktemp -d -p "$work/scratch")
chown postgres "\$d" 2>/dev/null || true
$as $PG_BINDIR/initdb -D "\$d/data" -U $superuser -A trust --no-sync >/dev/null
$as $PG_BINDIR/pg_ctl start -D "\$d/data" -l "\$d/server.log" -w -o "-p $port -c listen_addresses=127.0.0.1 -k \$d" >/dev/null
c="host=127.0.0.1 port=$port user=$superuser"
$PG_BINDIR/psql -X -q -d "\$c dbname=postgres" -f "$work/globals.sql" >/dev/null 2>&1
$PG_BINDIR/pg_restore --create -j 2 -d "\$c dbname=postgres" "$work/bench.custom"
$VOUCH drill -q "$work/bench.custom" "\$c dbname=bench" >/dev/null
$as $PG_BINDIR/pg_ctl stop -D "\$d/data" -m fast -w >/dev/null
rm -rf "\$d"
SH
bytes=$(stat -c %s "$work/bench.custom")
echo "restore-test: scale $SCALE, custom dump $(awk -v r="$bytes" 'BEGIN{printf "%.0f MB", r/1e6}'); $(bench_machine); load average $(cut -d' ' -f1-3 /proc/loadavg) before"
bench_report "restore-test vs by hand" "bash $work/by_hand.sh" \
  "$VOUCH restore-test $work/bench.custom --globals $work/globals.sql --scratch $work/scratch --no-amcheck" "$bytes" 1.1
echo "restore-test phases (one more run):"
$VOUCH restore-test "$work/bench.custom" --globals "$work/globals.sql" --scratch "$work/scratch" --no-amcheck |
  sed -n '/^Restore phases/,/RTO (total)/p'
