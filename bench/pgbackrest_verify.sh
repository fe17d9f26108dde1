#!/usr/bin/env bash
# End-to-end benchmark of `vouch verify-backup --pgbackrest` on a pgBackRest
# repository of the drill dataset (one full set, gzip, taken by Debian's
# pgbackrest with the cluster's WAL archived by archive-push), against
# `pgbackrest verify` with process-max set to the core count, in one run,
# alternating, REPS repetitions:
#   - with --page-checksums (target: vouch <= 1.0x): both read every stored
#     file; vouch also decompresses it, hashes its content, checks every
#     data page and every WAL page header;
#   - without, for reference.
# pgbackrest verify (2.45) hashes the stored bytes of each file against the
# manifest's rck and does not decompress them.
#   bench/pgbackrest_verify.sh [SCALE=1.0] [REPS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-1.0}
REPS=${2:-3}
source bench/lib.sh
command -v pgbackrest >/dev/null || { echo "pgbackrest is not installed (scripts/install-deps.sh)" >&2; exit 2; }
bench_cluster_with_data "$SCALE"
runas=$(sed -n 's/^PG_RUNAS=//p' "$work/pg/env")
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u "$runas" -- "$@"; else "$@"; fi; }
mkdir -p "$work/pgbr"/{repo,log,lock}
socket=$(psql -X -At -d postgres -c "SHOW unix_socket_directories")
cat >"$work/pgbr/pgbackrest.conf" <<CONF
[global]
repo1-path=$work/pgbr/repo
log-path=$work/pgbr/log
lock-path=$work/pgbr/lock
start-fast=y
process-max=$(nproc)
[main]
pg1-path=$PG_DATADIR
pg1-port=$PGPORT
pg1-socket-path=$socket
pg1-user=$PGUSER
CONF
[ "$(id -u)" -ne 0 ] || chown -R "$runas" "$work/pgbr"
chmod 755 "$work"
pgbr="pgbackrest --config=$work/pgbr/pgbackrest.conf --stanza=main --log-level-console=warn"
psql -X -q -d postgres -c "ALTER SYSTEM SET archive_command = '$pgbr archive-push %p'" -c "SELECT pg_reload_conf()" >/dev/null
as_pg $pgbr stanza-create
as_pg $pgbr check
as_pg $pgbr --type=full --compress-type=gz backup
repo_bytes=$(du -sb "$work/pgbr/repo/backup" | cut -f1)
raw=$(psql -X -At -d postgres -c "SELECT sum(pg_database_size(oid)) FROM pg_database")
scripts/pgcluster.sh stop "$work/pg" >/dev/null  # nothing else competes for the cores

echo "pgBackRest repository: $repo_bytes bytes stored (gzip) of a $raw-byte cluster; $(bench_machine)"
verify="$(printf '%q' "$(command -v runuser)") -u $runas -- $pgbr verify"
[ "$(id -u)" -eq 0 ] || verify="$pgbr verify"
bench_report "pgbackrest --page-checksums" "$verify" \
  "$VOUCH verify-backup --pgbackrest $work/pgbr/repo --stanza main --page-checksums --quiet" "$raw" 1.0
bench_report "pgbackrest (no pages)" "$verify" \
  "$VOUCH verify-backup --pgbackrest $work/pgbr/repo --stanza main --quiet" "$raw"
"$VOUCH" verify-backup --pgbackrest "$work/pgbr/repo" --stanza main --page-checksums 2>&1 >/dev/null | sed 's/^/vouch run: /'
