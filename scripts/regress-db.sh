#!/usr/bin/env bash
# PostgreSQL's own regression database, built on an existing cluster: the SQL
# of the regression suite (src/test/regress) runs against the server and leaves
# behind nearly every kind of object PostgreSQL has, which is what
# tests/regression_db_pg_test.cc compares through vouch.
#
#   regress-db.sh CACHE [DBNAME]
#
# The server is the one PGHOST/PGPORT/PGUSER name (scripts/pgcluster.sh's env
# file: `eval "$(scripts/pgcluster.sh env DIR)"`), its tools in PG_BINDIR (or
# on PATH). DBNAME defaults to "regression"; it is dropped and created again,
# as pg_regress's installcheck does (with its database settings: lc_messages
# and the other locale categories C, bytea_output hex, timezone_abbreviations
# Default).
#
# The suite's source comes from the Debian source package of the server's
# major version (`apt-get source postgresql-15`, of the installed server's
# exact version where the mirror has it; scripts/install-deps.sh adds the
# deb-src entries), unpacked once under CACHE/pgMAJOR and reused by later
# runs. The suite's C module, src/test/regress/regress.c, is compiled there
# against the installed server's headers (postgresql-server-dev-15,
# `pg_config --includedir-server`), without PostgreSQL's configure; the
# contrib/spi modules its triggers load (autoinc, refint) are the server
# package's. The server reads the suite's data files there, so CACHE must be
# readable by the server's user; the output directory, where it writes files
# of its own (COPY ... TO), is made writable for it.
#
# The suite's own result (pg_regress compares each test's output with the
# expected one) is printed, its log and differences kept in CACHE/pgMAJOR,
# and a failed test does not fail the script: what matters here is the
# objects the suite leaves behind. The script fails when the source cannot
# be fetched, the module cannot be compiled, or the database is not there at
# the end. It prints the time each step took. Only the server's version that
# Debian 12 ships (15) has a source package here; other versions fail with a
# message.
set -euo pipefail

cache=${1:-}
db=${2:-regression}
[ -n "$cache" ] || { echo "usage: $0 CACHE [DBNAME]" >&2; exit 2; }
[ -n "${PGPORT:-}" ] || { echo "regress-db: PGPORT is not set (eval \"\$(scripts/pgcluster.sh env DIR)\")" >&2; exit 2; }
[ -z "${PG_BINDIR:-}" ] || export PATH="$PG_BINDIR:$PATH"
start=$SECONDS
step_start=$SECONDS
step() { echo "regress-db: $1 ($((SECONDS - step_start)) s)"; step_start=$SECONDS; }

major=$(psql -X -At -d postgres -c "SELECT current_setting('server_version_num')::int / 10000")
pkg=postgresql-$major
bindir=/usr/lib/postgresql/$major/bin
pg_regress=/usr/lib/postgresql/$major/lib/pgxs/src/test/regress/pg_regress
pg_config=$bindir/pg_config
[ -x "$pg_regress" ] && [ -x "$pg_config" ] && [ -d "$("$pg_config" --includedir-server)" ] || {
  echo "regress-db: PostgreSQL $major's pg_regress or server headers are not installed on this machine" \
    "(postgresql-server-dev-$major; scripts/install-deps.sh installs those of 15)" >&2
  exit 3
}

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
top=$cache/pg$major
src=$top/src
# One fetch and one compile at a time per cache (the PostgreSQL versions'
# tests of one build may run at once).
exec 9>"$cache/.lock-pg$major"
flock 9
if [ ! -f "$top/unpacked" ]; then
  rm -rf "$top"
  mkdir -p "$top/download"
  version=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true)
  # The installed server's own source where the mirror still has it, else
  # the newest of the same major version.
  if ! (cd "$top/download" && apt-get source -qq --download-only "$pkg${version:+=$version}" >"$top/download.log" 2>&1); then
    (cd "$top/download" && apt-get source -qq --download-only "$pkg" >>"$top/download.log" 2>&1) || {
      cat "$top/download.log" >&2
      echo "regress-db: cannot fetch the source of $pkg (apt-get source: are deb-src entries configured?" \
        "scripts/install-deps.sh adds them)" >&2
      exit 3
    }
  fi
  dsc=$(ls "$top"/download/*.dsc 2>/dev/null | head -1 || true)
  [ -n "$dsc" ] || { cat "$top/download.log" >&2; echo "regress-db: apt-get source gave no .dsc for $pkg" >&2; exit 3; }
  dpkg-source -x "$dsc" "$src" >"$top/unpack.log" 2>&1 || { cat "$top/unpack.log" >&2; exit 3; }
  rm -rf "$top/download"
  echo "$(basename "$dsc" .dsc)" >"$top/unpacked"
  step "fetched and unpacked $(cat "$top/unpacked")"
fi
regress=$src/src/test/regress
[ -f "$regress/parallel_schedule" ] || { echo "regress-db: $regress has no parallel_schedule" >&2; exit 3; }

lib=$top/lib
if [ ! -f "$lib/regress.so" ] || [ "$regress/regress.c" -nt "$lib/regress.so" ]; then
  mkdir -p "$lib"
  # shellcheck disable=SC2046 # pg_config's flags are words
  cc $("$pg_config" --cflags) $("$pg_config" --cflags_sl) -I"$("$pg_config" --includedir-server)" -shared \
    -o "$lib/regress.so.tmp" "$regress/regress.c"
  mv "$lib/regress.so.tmp" "$lib/regress.so"
  step "compiled regress.so"
fi
# The suite's triggers also load contrib/spi's autoinc and refint, which the
# server package installs.
for m in autoinc refint; do
  [ -f "$("$pg_config" --pkglibdir)/$m.so" ] || { echo "regress-db: no $m.so in $("$pg_config" --pkglibdir)" >&2; exit 3; }
  ln -sfn "$("$pg_config" --pkglibdir)/$m.so" "$lib/$m.so"
done
flock -u 9

# The suite's results, and the files the server writes (COPY ... TO): a
# directory the server's user can write to.
out=$(mktemp -d "${TMPDIR:-/tmp}/vouch-regress.XXXXXX")
mkdir "$out/results"
chmod 777 "$out" "$out/results"
trap 'rm -rf "$out"' EXIT
rc=0
# A database left by an earlier run must not pass for this one's.
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$db\"" >/dev/null
# The suite's own log and differences stay in the cache, for a look at what
# failed.
log=$top/pg_regress-$db.log
"$pg_regress" --inputdir="$regress" --outputdir="$out" --bindir="$(dirname "$(command -v psql)")" \
  --dlpath="$lib" --schedule="$regress/parallel_schedule" --dbname="$db" \
  --host="${PGHOST:-localhost}" --port="$PGPORT" ${PGUSER:+--user="$PGUSER"} >"$log" 2>&1 || rc=$?
rm -f "$top/regression-$db.diffs"
[ ! -f "$out/regression.diffs" ] || cp "$out/regression.diffs" "$top/regression-$db.diffs"
summary=$(grep -E '^ *(All [0-9]+ tests passed|[0-9]+ of [0-9]+ tests failed)' "$log" | sed 's/^ *//; s/[. ]*$//' || true)
step "ran the regression suite (pg_regress exit $rc${summary:+: $summary}; log $log)"
if [ "$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = '$db'")" != 1 ]; then
  tail -30 "$log" >&2
  echo "regress-db: the regression suite left no database $db" >&2
  exit 1
fi
echo "regress-db: database $db built from $(cat "$top/unpacked") in $((SECONDS - start)) s"
