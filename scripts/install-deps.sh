#!/usr/bin/env bash
# Installs everything vouch needs to build, test and run its demo, from Debian 12
# packages only. Idempotent: does nothing when all packages are present.
# debootstrap makes the chroots of PostgreSQL 17 and 18 (scripts/pgchroot.sh).
# llvm brings llvm-symbolizer, so that a sanitizer or fuzzer report printed in
# CI names functions and lines rather than module offsets.
set -euo pipefail
PKGS=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libxxhash-dev xxhash libssl-dev libpq-dev libtbb-dev libzstd-dev zlib1g-dev
  liblz4-dev libisal-dev libarchive-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libtomlplusplus-dev libfmt-dev clang libclang-rt-14-dev
  llvm
  postgresql postgresql-client zstd lz4 gzip perl util-linux procps iproute2
  time jq gnuplot-nox debootstrap xxd
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
echo "install-deps: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
