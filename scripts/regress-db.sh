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
# exact version where the mirror has it, else the newest of that major
# version), unpacked once under CACHE/pgMAJOR and reused by later runs; a
# source tree put there by hand (CACHE/pgMAJOR/src, its name in
# CACHE/pgMAJOR/unpacked) is used as it is. The suite's C module,
# src/test/regress/regress.c, is compiled there against the server's headers
# (`pg_config --includedir-server`), without PostgreSQL's configure; the
# contrib/spi modules its triggers load (autoinc, refint) are the server
# package's. The server reads the suite's data files there, so CACHE must be
# readable by the server's user; the output directory, where it writes files
# of its own (COPY ... TO), is made writable for it.
#
# Where to get them depends on where the server is:
#  - Debian 12's own server (15): the host's apt, with the deb-src entries
#    scripts/install-deps.sh adds, and its postgresql-server-dev-15 (headers,
#    pg_regress).
#  - a server of scripts/pgchroot.sh's chroots (17, 18; PG_CHROOT_USER set in
#    the env file): the chroot's apt (`pgchroot.sh source`), the server's
#    headers unpacked into the chroot (`pgchroot.sh regress`), the module
#    compiled by the host's compiler against them (Debian 12's older glibc
#    loads into the chroot's newer one), and the chroot's pg_regress and psql,
#    which run inside it. CACHE and the output directory must be at the same
#    paths inside the chroot: CACHE is added to VOUCH_CHROOT_BIND for the tools
#    this script runs there, and the server (started earlier, with its own
#    mounts) must have been started with CACHE in VOUCH_CHROOT_BIND (or under
#    a directory there); the output directory is under /tmp, which every
#    wrapper mounts.
#
# The suite's own result (pg_regress compares each test's output with the
# expected one) is printed, its log and differences kept in CACHE/pgMAJOR,
# and a failed test does not fail the script: what matters here is the
# objects the suite leaves behind (a newer server's suite differs from its
# expected output in a few tests on this setup). The script fails when the
# source cannot be fetched, the module cannot be compiled, or the database is
# not there at the end: exit 4 where a chroot's mirror does not give the
# source package's files (a mirror or proxy with the binary packages only),
# 3 for the other causes. It prints the time each step took.
set -euo pipefail

cache=${1:-}
db=${2:-regression}
[ -n "$cache" ] || { echo "usage: $0 CACHE [DBNAME]" >&2; exit 2; }
[ -n "${PGPORT:-}" ] || { echo "regress-db: PGPORT is not set (eval \"\$(scripts/pgcluster.sh env DIR)\")" >&2; exit 2; }
[ -z "${PG_BINDIR:-}" ] || export PATH="$PG_BINDIR:$PATH"
start=$SECONDS
step_start=$SECONDS
step() { echo "regress-db: $1 ($((SECONDS - step_start)) s)"; step_start=$SECONDS; }

here=$(cd "$(dirname "$0")" && pwd)
major=$(psql -X -At -d postgres -c "SELECT current_setting('server_version_num')::int / 10000")
pkg=postgresql-$major
if [ -n "${PG_CHROOT_USER:-}" ]; then
  # The chroot's tools, run inside it; `root` prefixes the paths they print
  # for the host.
  root=$("$here/pgchroot.sh" regress "$major")
  pg_regress=$PG_BINDIR/pg_regress
  pg_config=$PG_BINDIR/pg_config
  psql_dir=/usr/lib/postgresql/$major/bin
else
  root=""
  pg_regress=/usr/lib/postgresql/$major/lib/pgxs/src/test/regress/pg_regress
  pg_config=/usr/lib/postgresql/$major/bin/pg_config
  psql_dir=$(dirname "$(command -v psql)")
fi
[ -x "$pg_regress" ] && [ -x "$pg_config" ] && [ -d "$root$("$pg_config" --includedir-server)" ] || {
  echo "regress-db: PostgreSQL $major's pg_regress or server headers are not installed on this machine" \
    "(postgresql-server-dev-$major; scripts/install-deps.sh installs those of 15)" >&2
  exit 3
}

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
# The servers' users read the suite's files here (and, in a chroot, through
# a bind mount): readable whatever the umask.
chmod a+rx "$cache"
top=$cache/pg$major
src=$top/src
# One fetch and one compile at a time per cache (the PostgreSQL versions'
# tests of one build may run at once).
exec 9>"$cache/.lock-pg$major"
flock 9
if [ ! -f "$top/unpacked" ]; then
  rm -rf "$top"
  mkdir -p "$top/download"
  if [ -n "$root" ]; then
    rc=0
    "$here/pgchroot.sh" source "$major" "$top/download" >"$top/download.log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
      cat "$top/download.log" >&2
      rm -rf "$top"
      [ "$rc" -eq 4 ] || rc=3
      echo "regress-db: cannot fetch the source of $pkg with the chroot's apt" >&2
      exit "$rc"
    fi
  else
    version=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true)
    # The installed server's own source where the mirror has it, else each
    # version of the same major that the deb-src entries list, newest first
    # (a mirror may serve the main suite's sources and not the security
    # suite's, which the installed server can come from): the suite of
    # another minor release of the same major version.
    fetched=0
    : >"$top/download.log"
    for v in $version $(apt-cache showsrc "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | sort -rV | uniq); do
      rm -f "$top"/download/*
      if (cd "$top/download" && apt-get source -qq --download-only "$pkg=$v" >>"$top/download.log" 2>&1); then
        fetched=1
        break
      fi
    done
    [ "$fetched" = 1 ] || {
      cat "$top/download.log" >&2
      echo "regress-db: cannot fetch the source of $pkg (apt-get source: are deb-src entries configured?" \
        "scripts/install-deps.sh adds them)" >&2
      exit 3
    }
  fi
  dsc=$(ls "$top"/download/*.dsc 2>/dev/null | head -1 || true)
  [ -n "$dsc" ] || { cat "$top/download.log" >&2; echo "regress-db: apt-get source gave no .dsc for $pkg" >&2; exit 3; }
  dpkg-source -x "$dsc" "$src" >"$top/unpack.log" 2>&1 || { cat "$top/unpack.log" >&2; exit 3; }
  chmod -R a+rX "$top"
  rm -rf "$top/download"
  echo "$(basename "$dsc" .dsc)" >"$top/unpacked"
  step "fetched and unpacked $(cat "$top/unpacked")"
fi
regress=$src/src/test/regress
[ -f "$regress/parallel_schedule" ] || { echo "regress-db: $regress has no parallel_schedule" >&2; exit 3; }

lib=$top/lib
if [ ! -f "$lib/regress.so" ] || [ "$regress/regress.c" -nt "$lib/regress.so" ]; then
  mkdir -p "$lib"
  # pg_config's flags but its warnings (-W...): the host's compiler may be
  # older than the one they were chosen for (a chroot's).
  # shellcheck disable=SC2046 # pg_config's flags are words
  cc $(printf '%s\n' $("$pg_config" --cflags) | grep -v '^-W') $("$pg_config" --cflags_sl) \
    -I"$root$("$pg_config" --includedir-server)" -shared -o "$lib/regress.so.tmp" "$regress/regress.c"
  mv "$lib/regress.so.tmp" "$lib/regress.so"
  step "compiled regress.so"
fi
# The suite's triggers also load contrib/spi's autoinc and refint, which the
# server package installs: copies, which the server finds at the same path
# inside a chroot as outside.
pkglib=$root$("$pg_config" --pkglibdir)
for m in autoinc refint; do
  [ -f "$pkglib/$m.so" ] || { echo "regress-db: no $m.so in $pkglib" >&2; exit 3; }
  cmp -s "$pkglib/$m.so" "$lib/$m.so" || { rm -f "$lib/$m.so" && cp "$pkglib/$m.so" "$lib/$m.so"; }
done
flock -u 9

# The suite's results, and the files the server writes (COPY ... TO): a
# directory the server's user can write to.
# A chroot's server sees the host's /tmp, not necessarily TMPDIR.
if [ -n "$root" ]; then
  out=$(mktemp -d /tmp/vouch-regress.XXXXXX)
  export VOUCH_CHROOT_BIND="${VOUCH_CHROOT_BIND:-} $cache"
else
  out=$(mktemp -d "${TMPDIR:-/tmp}/vouch-regress.XXXXXX")
fi
mkdir "$out/results"
chmod 777 "$out" "$out/results"
trap 'rm -rf "$out"' EXIT
rc=0
# A database left by an earlier run must not pass for this one's.
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$db\"" >/dev/null
# The suite's own log and differences stay in the cache, for a look at what
# failed.
log=$top/pg_regress-$db.log
# Inside a chroot, pg_regress and its psql run as the server's user, as the
# files psql writes into the output directory are then the server's to
# overwrite (COPY ... TO, the psql test).
runas=()
[ -z "$root" ] || runas=(env VOUCH_CHROOT_USER="$PG_CHROOT_USER")
"${runas[@]}" "$pg_regress" --inputdir="$regress" --outputdir="$out" --bindir="$psql_dir" \
  --dlpath="$lib" --schedule="$regress/parallel_schedule" --dbname="$db" \
  --host="${PGHOST:-localhost}" --port="$PGPORT" ${PGUSER:+--user="$PGUSER"} >"$log" 2>&1 || rc=$?
rm -f "$top/regression-$db.diffs"
[ ! -f "$out/regression.diffs" ] || cp "$out/regression.diffs" "$top/regression-$db.diffs"
# PostgreSQL 16's pg_regress and later print TAP ("# 2 of 231 tests failed.").
summary=$(grep -E '^(#)? *(All [0-9]+ tests passed|[0-9]+ of [0-9]+ tests failed)' "$log" | sed 's/^#* *//; s/[. ]*$//' || true)
step "ran the regression suite (pg_regress exit $rc${summary:+: $summary}; log $log)"
if [ "$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = '$db'")" != 1 ]; then
  tail -30 "$log" >&2
  echo "regress-db: the regression suite left no database $db" >&2
  exit 1
fi
echo "regress-db: database $db built from $(cat "$top/unpacked") in $((SECONDS - start)) s"
