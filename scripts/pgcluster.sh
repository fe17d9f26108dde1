#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for tests, the demo and benchmarks.
#   pgcluster.sh start DIR [VERSION]
#                            initdb + start on a free loopback port; writes DIR/env.
#                            VERSION: the major version (default: the newest
#                            installed on this machine); one that Debian 12 does
#                            not ship (17, 18) runs from a chroot made by
#                            scripts/pgchroot.sh (root only), its own tools too
#   pgcluster.sh adopt DIR DATA
#                            start a server on an existing data directory (a
#                            restored or combined base backup), of the version
#                            its PG_VERSION names, on a free loopback port:
#                            DATA is moved into the cluster's own directory,
#                            recovers as the server would, and is deleted by stop
#   pgcluster.sh stop DIR    stop it and delete its data directory
#   pgcluster.sh shutdown DIR  a clean shutdown (checkpoint first) that keeps
#                            the data directory, for tools that need a stopped
#                            cluster (pg_checksums); prints its path
#   pgcluster.sh env DIR     print `export KEY=VALUE` lines for eval
#   pgcluster.sh replica DIR RDIR   a hot standby of the cluster in DIR, made with
#                            pg_basebackup -R and streaming from it; RDIR/env as above
# PGCLUSTER_CONF (start): extra postgresql.conf lines for this cluster.
# initdb refuses to run as root: as root the server runs as the `postgres`
# user (from Debian's postgresql package), otherwise as the current user. The
# data directory is a fresh mktemp -d, outside DIR (which may be unreadable for
# that user). Authentication is trust, on 127.0.0.1 only. Data checksums are on
# (initdb -k) so that page checksums of base backups can be tested; replication
# connections are allowed (wal_level replica, max_wal_senders) for pg_basebackup.
# WAL is archived into the cluster's own directory (PG_WAL_ARCHIVE in the env
# file), and from PostgreSQL 17 on WAL summaries are kept (summarize_wal), so
# that incremental backups can be taken.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
version=${3:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|env DIR [VERSION]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)

getvar() { sed -n "s/^$1=//p" "$dir/env" 2>/dev/null; }

# The server's binaries and, for a chroot, the uid:gid its programs run as.
chroot_user=""
if [ "$cmd" = "adopt" ]; then
  [ -f "${3:-}/PG_VERSION" ] || { echo "pgcluster: ${3:-} is not a data directory (no PG_VERSION)" >&2; exit 3; }
  version=$(tr -d '[:space:]' <"$3/PG_VERSION")
fi
if [ "$cmd" != "start" ] && [ "$cmd" != "adopt" ] && [ -f "$dir/env" ]; then
  bindir=$(getvar PG_BINDIR)
  chroot_user=$(getvar PG_CHROOT_USER)
elif [ -z "$version" ]; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$bindir" ] || { echo "pgcluster: no PostgreSQL server found (apt-get install postgresql)" >&2; exit 3; }
elif [ -x "/usr/lib/postgresql/$version/bin/postgres" ]; then
  bindir=/usr/lib/postgresql/$version/bin
else
  bindir=$("$here/pgchroot.sh" bindir "$version") || { echo "pgcluster: no PostgreSQL $version" >&2; exit 3; }
  chroot_user=$("$here/pgchroot.sh" uid "$version")
fi

as_user() {  # run a server binary as the cluster's owner
  local user=$1; shift
  if [ -n "$chroot_user" ]; then VOUCH_CHROOT_USER=$chroot_user "$@"
  elif [ "$(id -u)" -eq 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

alive() {
  [ -f "$dir/env" ] || return 1
  "$bindir/pg_isready" -q -h 127.0.0.1 -p "$(getvar PGPORT)" 2>/dev/null
}

stop() {
  [ -f "$dir/env" ] || return 0
  local data user
  data=$(getvar PG_DATADIR)
  user=$(getvar PG_RUNAS)
  if [ -n "$data" ] && [ -d "$data" ]; then
    as_user "$user" "$bindir/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$(dirname "$data")"
  fi
  rm -f "$dir/env"
}

free_port() {
  local port=$(( 20000 + ($$ * 7 + RANDOM) % 40000 ))
  for _ in $(seq 1 200); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
    port=$(( port + 1 )); [ "$port" -lt 60000 ] || port=20000
  done
  echo "pgcluster: no free port found" >&2; return 1
}

owner() {  # the user the server runs as
  if [ -n "$chroot_user" ]; then
    echo "${chroot_user%%:*}"
  elif [ "$(id -u)" -eq 0 ]; then
    if id postgres >/dev/null 2>&1; then echo postgres; else
      id vouchpg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin vouchpg
      echo vouchpg
    fi
  else
    id -un
  fi
}

# launch USER TOP DATA PORT: starts the server on DATA and writes DIR/env.
launch() {
  local user=$1 top=$2 data=$3 port=$4 major tries=0
  major=$(tr -d '[:space:]' <"$data/PG_VERSION")
  # Another cluster starting at the same moment (tests run in parallel) can
  # take the port free_port found before this server binds it: then another
  # port (a later "port =" line wins), a few times.
  while ! as_user "$user" "$bindir/pg_ctl" -D "$data" -w -t 120 -l "$top/server.log" start >/dev/null 2>&1; do
    if grep -q "Address already in use" "$top/server.log" && [ "$((tries += 1))" -lt 5 ]; then
      port=$(free_port)
      echo "port = $port" >>"$data/postgresql.conf"
      : >"$top/server.log"
      continue
    fi
    cat "$top/server.log" >&2; echo "pgcluster: server did not start" >&2; exit 3
  done
  cat >"$dir/env" <<ENV
PGHOST=127.0.0.1
PGPORT=$port
PGUSER=vouch
PGDATABASE=postgres
PG_BINDIR=$bindir
PG_DATADIR=$data
PG_RUNAS=$user
PG_MAJOR=$major
PG_WAL_ARCHIVE=$top/wal_archive
PG_CHROOT_USER=$chroot_user
ENV
  "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -t 30
  echo "pgcluster: PostgreSQL $major on 127.0.0.1:$port${chroot_user:+ (chroot)}"
}

# new_top USER: a fresh directory for one cluster (its data directory, socket,
# logs and WAL archive), readable by USER.
new_top() {
  local top
  top=$(mktemp -d /tmp/vouch-pg.XXXXXX)
  chmod 755 "$top"
  mkdir "$top/wal_archive"
  [ "$(id -u)" -ne 0 ] || chown "$1" "$top" "$top/wal_archive"
  echo "$top"
}

adopt() {
  local src=$1
  if alive; then echo "pgcluster: $dir already has a running cluster" >&2; exit 3; fi
  stop
  mkdir -p "$dir"
  local user top data port
  user=$(owner)
  top=$(new_top "$user")
  data=$top/data
  mv "$src" "$data"
  [ "$(id -u)" -ne 0 ] || chown -R "$user" "$top"
  chmod 700 "$data"
  rm -f "$data/postmaster.pid"
  port=$(free_port)
  # Later lines win: the source's port, socket directory and archiving are
  # not this server's.
  cat >>"$data/postgresql.conf" <<CONF
# pgcluster.sh adopt
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$top'
archive_mode = off
CONF
  launch "$user" "$top" "$data" "$port"
}

start() {
  if alive; then return 0; fi
  stop
  mkdir -p "$dir"
  local user top data port
  user=$(owner)
  top=$(new_top "$user")
  data=$top/data
  if ! TZ=UTC as_user "$user" "$bindir/initdb" -D "$data" -k -A trust -U vouch -E UTF8 --locale=C.UTF-8 >"$top/initdb.log" 2>&1; then
    rm -rf "$data"
    TZ=UTC as_user "$user" "$bindir/initdb" -D "$data" -k -A trust -U vouch -E UTF8 --locale=C >"$top/initdb.log" 2>&1 ||
      { cat "$top/initdb.log" >&2; echo "pgcluster: initdb failed" >&2; exit 3; }
  fi
  port=$(free_port)
  # One role that must give a password (scram), for tests of credential handling.
  { echo "host all vouch_pw 127.0.0.1/32 scram-sha-256"; cat "$data/pg_hba.conf"; } >"$top/hba" &&
    cat "$top/hba" >"$data/pg_hba.conf" && rm -f "$top/hba"
  cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$top'
timezone = 'UTC'
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 4GB
shared_buffers = 256MB
maintenance_work_mem = 256MB
wal_level = replica
max_wal_senders = 4
# The base-backup tests copy WAL segments out of pg_wal: keep recent ones
# from being recycled by checkpoints that other tests cause meanwhile.
wal_keep_size = 1GB
archive_mode = on
archive_command = 'test ! -f $top/wal_archive/%f && cp %p $top/wal_archive/%f'
CONF
  [ "$(tr -d '[:space:]' <"$data/PG_VERSION")" -lt 17 ] || echo "summarize_wal = on" >>"$data/postgresql.conf"
  # Extra settings for one cluster (a test of a small lock table), one per line.
  [ -z "${PGCLUSTER_CONF:-}" ] || printf '%s\n' "$PGCLUSTER_CONF" >>"$data/postgresql.conf"
  launch "$user" "$top" "$data" "$port"
}

replica() {
  local rdir=$1
  alive || { echo "pgcluster: no running cluster in $dir" >&2; exit 3; }
  local user port top data rport
  user=$(getvar PG_RUNAS)
  port=$(getvar PGPORT)
  top=$(mktemp -d /tmp/vouch-pg.XXXXXX)
  data=$top/data
  chmod 755 "$top"
  [ "$(id -u)" -ne 0 ] || chown "$user" "$top"
  as_user "$user" "$bindir/pg_basebackup" -h 127.0.0.1 -p "$port" -U vouch -D "$data" -R -X stream -c fast >/dev/null
  rport=$(free_port)
  cat >>"$data/postgresql.conf" <<CONF
port = $rport
unix_socket_directories = '$top'
hot_standby = on
CONF
  as_user "$user" "$bindir/pg_ctl" -D "$data" -w -t 60 -l "$top/server.log" start >/dev/null ||
    { cat "$top/server.log" >&2; echo "pgcluster: replica did not start" >&2; exit 3; }
  mkdir -p "$rdir"
  sed -e "s/^PGPORT=.*/PGPORT=$rport/" -e "s|^PG_DATADIR=.*|PG_DATADIR=$data|" "$dir/env" >"$rdir/env"
}

shutdown() {
  alive || { echo "pgcluster: no running cluster in $dir" >&2; exit 3; }
  local data
  data=$(getvar PG_DATADIR)
  as_user "$(getvar PG_RUNAS)" "$bindir/pg_ctl" -D "$data" -m fast -w -t 120 stop >/dev/null
  rm -f "$dir/env"
  echo "$data"
}

case "$cmd" in
  start) start ;;
  adopt) adopt "$3" ;;
  replica) replica "${3:?usage: $0 replica DIR REPLICA_DIR}" ;;
  stop) stop ;;
  shutdown) shutdown ;;
  env) [ -f "$dir/env" ] || { echo "pgcluster: no cluster in $dir" >&2; exit 3; }; sed 's/^/export /' "$dir/env" ;;
  *) echo "usage: $0 start|adopt|replica|stop|env DIR ..." >&2; exit 2 ;;
esac
