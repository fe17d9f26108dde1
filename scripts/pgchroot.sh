#!/usr/bin/env bash
# PostgreSQL servers and tools of other major versions than Debian 12's (15),
# for the test matrix and the benchmarks: each version lives in a Debian
# chroot made with debootstrap from the mirror this machine's apt already
# uses (17 from Debian 13 "trixie", 18 from unstable "sid"), built once and
# cached outside the clone, so that the next run on the same machine reuses it.
#
#   pgchroot.sh bindir VERSION   build the chroot if it is not there yet; print
#                                a directory of wrappers, one per program of
#                                /usr/lib/postgresql/VERSION/bin (psql, pg_dump,
#                                pg_ctl, pg_basebackup, ...), that run it inside
#                                the chroot
#   pgchroot.sh uid VERSION      the numeric uid:gid of the chroot's postgres user
#   pgchroot.sh regress VERSION  what PostgreSQL's regression suite needs beyond
#                                the server (scripts/regress-db.sh): the server's
#                                headers, unpacked once from postgresql-server-dev-
#                                VERSION (the installed server's version where the
#                                mirror has it, else the newest) with dpkg-deb -x,
#                                without its dependencies (clang, llvm), and a
#                                wrapper for the chroot's pg_regress (from
#                                postgresql-client-VERSION) in the bindir; prints
#                                the chroot's root directory, under which the
#                                host finds the headers
#   pgchroot.sh source VERSION DIR
#                                download the Debian source package of
#                                postgresql-VERSION (.dsc and its files; the
#                                installed server's version where the mirror has
#                                it, else the newest) into DIR, with the chroot's
#                                apt and a deb-src entry for its suite; exits 4
#                                when the mirror does not give the package's files
#
# A wrapper runs its program in a private mount namespace (unshare -m) in which
# the host's /tmp, /dev and the directories named in VOUCH_CHROOT_BIND
# (space-separated absolute paths) are mounted at the same paths inside the
# chroot, so that the paths a test passes mean the same thing on both sides;
# the mounts go away with the last process of that namespace (a server
# started by pg_ctl keeps its own until it stops). With VOUCH_CHROOT_USER=UID:GID
# the program runs as that user (initdb and the server refuse root).
# Needs root (chroot, mount). A chroot that cannot be built fails loudly: the
# caller gets a non-zero exit and debootstrap's or apt's log.
#   VOUCH_CHROOT_CACHE   where the chroots live (default /var/cache/vouch-pg)
set -euo pipefail

cmd=${1:-}
ver=${2:-}
[ -n "$cmd" ] && [ -n "$ver" ] || { echo "usage: $0 bindir|uid|regress|source VERSION [DIR]" >&2; exit 2; }
case "$ver" in
  17) suite=trixie ;;
  18) suite=sid ;;
  *) echo "pgchroot: no chroot recipe for PostgreSQL $ver (17 and 18 are known)" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "pgchroot: PostgreSQL $ver runs in a chroot, which needs root" >&2; exit 3; }

cache=${VOUCH_CHROOT_CACHE:-/var/cache/vouch-pg}
top=$cache/pg$ver
root=$top/root

CHROOT_TOOL=pgchroot
source "$(dirname "$0")/chroot-common.sh"

build() {
  local new=$top.new log=$top.log m
  m=$(mirror)
  command -v debootstrap >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  }
  rm -rf "$new"
  mkdir -p "$new"
  echo "pgchroot: building PostgreSQL $ver ($suite from $m) in $top, once; log $log" >&2
  if ! debootstrap --variant=minbase "$suite" "$new/root" "$m" >"$log" 2>&1; then
    tail -20 "$log" >&2; echo "pgchroot: debootstrap of $suite failed (log $log)" >&2; return 1
  fi
  local r=$new/root
  cp /etc/resolv.conf "$r/etc/resolv.conf" 2>/dev/null || true
  # sid's Release file can be past its Valid-Until date on a snapshot mirror.
  echo 'Acquire::Check-Valid-Until "false";' >"$r/etc/apt/apt.conf.d/99vouch-valid-until"
  # No default cluster and no service start: the tests make their own clusters.
  mkdir -p "$r/etc/postgresql-common"
  echo 'create_main_cluster = false' >"$r/etc/postgresql-common/createcluster.conf"
  printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d" && chmod 755 "$r/usr/sbin/policy-rc.d"
  # postgresql-common's configuration reads /proc: mount it for the install.
  if ! unshare -m --propagation unchanged -- /bin/bash -c '
      r=$1; ver=$2
      '"$PRIVATE_MOUNTS"'
      mount -t proc proc "$r/proc" && mount --rbind /dev "$r/dev" || exit 1
      chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 \
        /bin/sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql-$ver postgresql-client-$ver"
    ' _ "$r" "$ver" >>"$log" 2>&1; then
    tail -20 "$log" >&2; echo "pgchroot: installing postgresql-$ver in the $suite chroot failed (log $log)" >&2; return 1
  fi
  [ -x "$r/usr/lib/postgresql/$ver/bin/postgres" ] ||
    { echo "pgchroot: the $suite chroot has no /usr/lib/postgresql/$ver/bin/postgres (log $log)" >&2; return 1; }
  rm -rf "$r/var/cache/apt/archives"/*.deb "$r/var/lib/apt/lists"/*_Packages* 2>/dev/null || true
  rm -rf "$top"
  mv "$new" "$top"
  touch "$top/.ok"
}

# Bumped whenever the wrappers change, so that cached ones are written anew.
WRAPPER_VERSION=2

# wrap FILE PROGRAM: FILE runs PROGRAM (a path inside the chroot) there.
wrap() {
  local file=$1 prog=$2
  cat >"$file" <<WRAP
#!/bin/bash
# PostgreSQL $ver's $(basename "$prog"), run inside $root (made by vouch's scripts/pgchroot.sh).
exec unshare -m --propagation unchanged -- /bin/bash -c '
  r=\$1; shift; cwd=\$1; shift
  $PRIVATE_MOUNTS
  mount --bind /tmp "\$r/tmp" && mount --rbind /dev "\$r/dev" && mount -t proc proc "\$r/proc" || exit 97
  for d in \${VOUCH_CHROOT_BIND:-}; do
    [ -d "\$d" ] || continue
    mkdir -p "\$r\$d" && mount --bind "\$d" "\$r\$d" || exit 97
  done
  exec chroot \${VOUCH_CHROOT_USER:+--userspec=\$VOUCH_CHROOT_USER --groups=\${VOUCH_CHROOT_USER#*:}} "\$r" \\
    /bin/sh -c "cd \"\\\$0\" 2>/dev/null || cd /; exec \"\\\$@\"" "\$cwd" $prog "\$@"
' _ "$root" "\$PWD" "\$@"
WRAP
  chmod 755 "$file"
}

wrappers() {
  local w=$top/bin
  [ "$(cat "$w/.ok" 2>/dev/null)" = "$WRAPPER_VERSION" ] && return 0
  rm -rf "$w.new"
  mkdir -p "$w.new"
  local p
  for p in "$root/usr/lib/postgresql/$ver/bin/"*; do
    wrap "$w.new/$(basename "$p")" "/usr/lib/postgresql/$ver/bin/$(basename "$p")"
  done
  echo "$WRAPPER_VERSION" >"$w.new/.ok"
  rm -rf "$w"
  mv "$w.new" "$w"
}

ensure() {
  mkdir -p "$cache"
  exec 9>"$cache/.lock-pg$ver"
  flock 9
  [ -f "$top/.ok" ] || build
  wrappers
  flock -u 9
}

# as_root LOG SCRIPT: SCRIPT run by /bin/sh as root inside the chroot, with
# /proc and /dev mounted (apt, dpkg), in a private mount namespace; its output
# appended to LOG, which is shown when it fails. Returns SCRIPT's exit status.
as_root() {
  local log=$1 script=$2 rc=0
  unshare -m --propagation unchanged -- /bin/bash -c '
      r=$1; script=$2
      '"$PRIVATE_MOUNTS"'
      mount -t proc proc "$r/proc" && mount --rbind /dev "$r/dev" || exit 1
      chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 \
        /bin/sh -ec "$script"
    ' _ "$root" "$script" >>"$log" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || tail -20 "$log" >&2
  return "$rc"
}

# The installed server's package version, for its -dev and source packages.
server_version() {
  chroot "$root" dpkg-query -W -f='${Version}' "postgresql-$ver"
}

regress() {
  local log=$top/regress.log v
  if [ ! -f "$top/.regress-ok" ]; then
    v=$(server_version)
    : >"$log"
    echo "pgchroot: unpacking postgresql-server-dev-$ver into the $suite chroot, once; log $log" >&2
    # The installed server's own headers where the mirror still has them,
    # else the newest of the same major version (same ABI).
    as_root "$log" "rm -rf /var/tmp/vouch-dev && mkdir -p /var/tmp/vouch-dev && cd /var/tmp/vouch-dev
      apt-get update -qq
      apt-get download -qq postgresql-server-dev-$ver=$v || apt-get download -qq postgresql-server-dev-$ver
      dpkg-deb -x postgresql-server-dev-${ver}_*.deb /
      cd / && rm -rf /var/tmp/vouch-dev" ||
      { echo "pgchroot: cannot unpack postgresql-server-dev-$ver in the $suite chroot (log $log)" >&2; return 1; }
    [ -f "$root/usr/include/postgresql/$ver/server/postgres.h" ] ||
      { echo "pgchroot: postgresql-server-dev-$ver left no server headers in $root (log $log)" >&2; return 1; }
    touch "$top/.regress-ok"
  fi
  local prog=/usr/lib/postgresql/$ver/lib/pgxs/src/test/regress/pg_regress
  [ -x "$root$prog" ] || { echo "pgchroot: the $suite chroot has no $prog (postgresql-client-$ver)" >&2; return 1; }
  # Written anew when wrappers() writes the bindir anew.
  [ -x "$top/bin/pg_regress" ] || { wrap "$top/bin/pg_regress.new" "$prog" && mv "$top/bin/pg_regress.new" "$top/bin/pg_regress"; }
}

source_package() {
  local dir=$1 log=$top/source.log v
  v=$(server_version)
  : >"$log"
  # A deb-src entry for each deb entry of the chroot's suite.
  sed -n 's/^deb /deb-src /p' "$root/etc/apt/sources.list" >"$root/etc/apt/sources.list.d/vouch-src.list"
  [ -s "$root/etc/apt/sources.list.d/vouch-src.list" ] ||
    { echo "pgchroot: no deb entry in $root/etc/apt/sources.list to add a deb-src one for" >&2; return 1; }
  local rc=0
  as_root "$log" "rm -rf /var/tmp/vouch-src && mkdir -p /var/tmp/vouch-src && cd /var/tmp/vouch-src
    apt-get update -qq
    for x in $v \$(apt-cache showsrc postgresql-$ver | sed -n 's/^Version: //p' | sort -rV); do
      apt-get source -qq --download-only postgresql-$ver=\$x && exit 0
      rm -f ./*
    done
    exit 4" || rc=$?
  if [ "$rc" -ne 0 ]; then
    rm -rf "$root/var/tmp/vouch-src"
    # 4: apt-get source itself failed: the mirror does not give the
    # package's files (a mirror or proxy that holds binary packages only).
    [ "$rc" -eq 4 ] || rc=1
    echo "pgchroot: cannot download the source of postgresql-$ver with the $suite chroot's apt (log $log)" >&2
    return "$rc"
  fi
  mkdir -p "$dir"
  mv "$root/var/tmp/vouch-src"/* "$dir"/
  rm -rf "$root/var/tmp/vouch-src"
}

case "$cmd" in
  bindir) ensure; echo "$top/bin" ;;
  regress)
    ensure
    exec 9>"$cache/.lock-pg$ver"
    flock 9
    regress
    echo "$root" ;;
  source)
    [ -n "${3:-}" ] || { echo "usage: $0 source VERSION DIR" >&2; exit 2; }
    ensure
    exec 9>"$cache/.lock-pg$ver"
    flock 9
    source_package "$3" ;;
  uid)
    ensure
    awk -F: '$1 == "postgres" { print $3 ":" $4 }' "$root/etc/passwd" | grep . ||
      { echo "pgchroot: no postgres user in $root" >&2; exit 3; } ;;
  *) echo "usage: $0 bindir|uid|regress|source VERSION [DIR]" >&2; exit 2 ;;
esac
