#!/usr/bin/env bash
# test-deb.sh PACKAGE.deb: the Debian package (cpack -G DEB) on a fresh
# Debian 12. It installs the package with apt, which must find every
# dependency the package declares on the mirror, then checks that
# `vouch --version` prints the package's version, that `man vouch` shows a
# section for every command, that the bash and zsh completions are there
# (the bash one loads), that /usr/bin holds vouch alone; then
# `apt-get remove vouch` must take /usr/bin/vouch away. Prints PASS, or
# names what failed and exits 1.
#
# The fresh Debian 12 is a debootstrap minbase chroot made once per machine
# from the mirror this machine's apt uses (as scripts/pgchroot.sh does) and
# cached; each run works on a copy, with /proc and /dev mounted in a private
# mount namespace, and deletes it at the end. Needs root (debootstrap,
# chroot, mount).
#   VOUCH_DEB_BASE   where the bare Debian 12 is kept (default
#                    /var/cache/vouch-deb-base)
set -euo pipefail

deb=${1:-}
[ -n "$deb" ] && [ -f "$deb" ] || { echo "usage: $0 PACKAGE.deb" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "test-deb: needs root (debootstrap, chroot, mount)" >&2; exit 2; }
deb=$(realpath "$deb")
version=$(dpkg-deb -f "$deb" Version)
package=$(dpkg-deb -f "$deb" Package)

base=${VOUCH_DEB_BASE:-/var/cache/vouch-deb-base}
fail() { echo "test-deb: FAIL: $*" >&2; exit 1; }

CHROOT_TOOL=test-deb
source "$(dirname "$0")/chroot-common.sh"

# The bare Debian 12, once: debootstrap minbase, this machine's bookworm
# sources (updates and security too, as the package was built against
# them), no service starts.
build_base() {
  local new=$base.new log=$base.log m
  m=$(mirror)
  command -v debootstrap >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  }
  rm -rf "$new"
  mkdir -p "$new"
  echo "test-deb: building a bare Debian 12 (bookworm from $m) in $base, once; log $log" >&2
  if ! debootstrap --variant=minbase bookworm "$new/root" "$m" >"$log" 2>&1; then
    tail -20 "$log" >&2
    fail "debootstrap of bookworm failed (log $log)"
  fi
  local r=$new/root
  if [ -f /etc/apt/sources.list.d/debian.sources ] && grep -q bookworm /etc/apt/sources.list.d/debian.sources; then
    cp /etc/apt/sources.list.d/debian.sources "$r/etc/apt/sources.list.d/"
    rm -f "$r/etc/apt/sources.list"
  fi
  # A snapshot mirror's Release files can be past their Valid-Until date.
  echo 'Acquire::Check-Valid-Until "false";' >"$r/etc/apt/apt.conf.d/99vouch-valid-until"
  printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
  chmod 755 "$r/usr/sbin/policy-rc.d"
  rm -rf "$base"
  mv "$new" "$base"
  touch "$base/.ok"
}

mkdir -p "$(dirname "$base")"
exec 9>"$base.lock"
flock 9
[ -f "$base/.ok" ] || build_base
flock -u 9

work=$(mktemp -d /var/tmp/vouch-deb.XXXXXX)
root=$work/root
cleanup() {
  # The mounts live in namespaces gone by now; should one remain, it is
  # detached before the copy is deleted, and rm stays on this file system.
  local m
  for m in $(findmnt -rn -o TARGET | grep -F "$work/" | sort -r); do umount -l "$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
cp -a "$base/root" "$root"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
cp "$deb" "$root/root/"
debname=$(basename "$deb")

# in_chroot SCRIPT: SCRIPT run by bash as root in the copy, /proc and /dev
# mounted, in a private mount namespace; its output on stdout.
in_chroot() {
  unshare -m --propagation unchanged -- /bin/bash -c '
      r=$1; script=$2
      '"$PRIVATE_MOUNTS"'
      mount -t proc proc "$r/proc" && mount --rbind /dev "$r/dev" || exit 97
      exec chroot "$r" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        LANG=C.UTF-8 TERM=dumb MANWIDTH=100 /bin/bash -ec "cd /root; $script"
    ' _ "$root" "$1"
}

echo "test-deb: installing $debname and man-db on a fresh Debian 12" >&2
if ! in_chroot "apt-get update -qq && apt-get install -y -qq --no-install-recommends ./$debname man-db" \
    >"$work/apt.log" 2>&1; then
  tail -30 "$work/apt.log" >&2
  fail "apt-get could not install $debname (are its dependencies on the mirror?)"
fi

out=$(in_chroot 'vouch --version' 2>&1) || fail "vouch --version exited non-zero: $out"
[ "$out" = "vouch $version" ] || fail "vouch --version printed '$out', not 'vouch $version'"

bins=$(in_chroot "dpkg -L $package | grep -E '^/usr/(s?bin|lib)/.' || true")
[ "$bins" = /usr/bin/vouch ] || fail "the package installs other programs or libraries than /usr/bin/vouch: $bins"

# Every command of `vouch --help` (and of `vouch ledger --help`) is a
# section heading of the manual page.
page=$(in_chroot 'man -P cat vouch' 2>"$work/man.err") || fail "man vouch failed: $(cat "$work/man.err")"
commands=$(in_chroot "vouch --help | awk '/^Subcommands:/ { on = 1; next } /^\$/ { on = 0 } on && /^  [a-z]/ { print \$1 }'")
ledger=$(in_chroot "vouch ledger --help | awk '/^Subcommands:/ { on = 1; next } /^\$/ { on = 0 } on && /^  [a-z]/ { print \"ledger \" \$1 }'")
[ "$(wc -w <<<"$commands")" -ge 10 ] || fail "vouch --help lists only: $commands"
while read -r c; do
  [ -n "$c" ] || continue
  grep -qxF "   $c" <<<"$page" || fail "man vouch has no section for '$c'"
done <<<"$commands
$ledger"
for c in verify-backup restore-test; do
  grep -qxF "   $c" <<<"$page" || fail "man vouch has no section for '$c'"
done
grep -q '^EXIT STATUS' <<<"$page" || fail "man vouch has no EXIT STATUS"

out=$(in_chroot 'test -f /usr/share/bash-completion/completions/vouch &&
  bash -c "source /usr/share/bash-completion/completions/vouch && complete -p vouch"' 2>&1) ||
  fail "the bash completion is missing or does not load: $out"
in_chroot 'test -f /usr/share/zsh/vendor-completions/_vouch' || fail "the zsh completion is missing"

in_chroot "apt-get remove -y -qq $package" >>"$work/apt.log" 2>&1 || {
  tail -20 "$work/apt.log" >&2
  fail "apt-get remove $package failed"
}
in_chroot 'test ! -e /usr/bin/vouch && test ! -e /usr/share/man/man1/vouch.1.gz' ||
  fail "/usr/bin/vouch or its manual page is still there after apt-get remove"

echo "test-deb: PASS: $debname installed on a fresh Debian 12 with its dependencies from the mirror;" \
  "vouch $version runs, man vouch has all $(wc -l <<<"$commands
$ledger") command sections, the completions load; removed cleanly"
