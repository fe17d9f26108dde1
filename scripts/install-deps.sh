#!/usr/bin/env bash
# Installs everything vouch needs to build, test and run its demo, from Debian 12
# packages only. Idempotent: does nothing when all packages are present.
# debootstrap makes the chroots of PostgreSQL 17 and 18 (scripts/pgchroot.sh).
# llvm brings llvm-symbolizer, so that a sanitizer or fuzzer report printed in
# CI names functions and lines rather than module offsets.
# The regression-database test (scripts/regress-db.sh) builds PostgreSQL's own
# regression database from its source package (`apt-get source
# postgresql-15`): apt gets deb-src entries with the URIs, suites, components
# and keys of this machine's deb entries, dpkg-dev unpacks the source, and
# postgresql-server-dev-15 (of the installed server's version where the mirror
# still has it) compiles the suite's C module against the server.
# prometheus brings promtool, which checks and unit-tests the alerting rules of
# the nightly example (docs/nightly, CTest nightly_alert_rules); on a machine
# with systemd its package also starts a Prometheus server. tmux is the real
# terminal the progress line is tested in (CTest progress_tty_test), and
# chromium the browser the HTML reports are rendered in (html_report_test).
# pgbackrest and barman (with rsync) make the repositories and backups
# verify-backup --pgbackrest and --barman are tested on; bzip2 compresses
# test files the bzip2 decoder is checked against.
# man-db checks the generated manual page (CTest man_page_lint) and zsh
# parses the generated zsh completion (CTest self_doc_test); dpkg-dev's
# dpkg-shlibdeps gives the Debian package its dependencies (cpack -G DEB),
# which needs file(1) to find the executables to ask about.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
src_added=0
if ! grep -qsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
    /etc/apt/sources.list.d/*.list; then
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # Each stanza of Types: deb, without its comments, as Types: deb-src.
    awk 'BEGIN { RS = ""; ORS = "" } /(^|\n)Types:[ \t]*deb[ \t]*(\n|$)/ {
      n = split($0, l, "\n")
      for (i = 1; i <= n; i++) { if (l[i] ~ /^#/) continue; if (l[i] ~ /^Types:/) l[i] = "Types: deb-src"; print l[i] "\n" }
      print "\n" }' "$f"
  done | $SUDO tee /etc/apt/sources.list.d/vouch-src.sources >/dev/null
  [ -s /etc/apt/sources.list.d/vouch-src.sources ] || $SUDO rm -f /etc/apt/sources.list.d/vouch-src.sources
  if grep -qs '^deb ' /etc/apt/sources.list; then
    sed -n 's/^deb /deb-src /p' /etc/apt/sources.list | $SUDO tee /etc/apt/sources.list.d/vouch-src.list >/dev/null
  fi
  src_added=1
fi
PKGS=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libxxhash-dev xxhash libssl-dev libpq-dev libtbb-dev libzstd-dev zlib1g-dev libmimalloc-dev
  liblz4-dev libbz2-dev libisal-dev libarchive-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libtomlplusplus-dev libfmt-dev clang libclang-rt-14-dev
  llvm
  postgresql postgresql-client zstd lz4 gzip perl util-linux procps iproute2
  time jq gnuplot-nox debootstrap xxd dpkg-dev openssl prometheus tmux chromium pgbackrest
  man-db zsh file barman bzip2 rsync
)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
updated=0
update() { [ "$updated" -eq 1 ] || { $SUDO apt-get update -qq; updated=1; }; }
missing=()
for p in "${PKGS[@]}"; do
  installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -ne 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! installed postgresql-server-dev-15; then
  # The installed server's version where the mirror still has it (a point
  # release replaces it), else the newest 15.x.
  server=$(dpkg-query -W -f='${Version}' postgresql-15)
  echo "install-deps: installing postgresql-server-dev-15 (server $server)" >&2
  update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "postgresql-server-dev-15=$server" >/dev/null 2>&1 ||
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql-server-dev-15 >/dev/null
fi
# The new deb-src entries' lists, for apt-get source.
[ "$src_added" -eq 0 ] || update
