#!/usr/bin/env bash
# Installs the dependencies, builds vouch, and runs every test: the unit tests
# and the integration tests against throwaway PostgreSQL clusters of 15
# (Debian 12's), 17 and 18 (from Debian chroots, scripts/pgchroot.sh, built
# once per machine and cached), started and stopped by the CTest fixtures
# "pg15", "pg17", "pg18". Then the unit tests and the PostgreSQL 15
# integration tests again in an AddressSanitizer/UBSan build, and a short
# libFuzzer run of every parser from its seed corpus of real dumps. After the
# Release tests the Debian package is built (cpack) and, as root, installed
# on a fresh Debian 12 chroot and removed again (scripts/test-deb.sh). Each
# stage's time is printed at the end. .ci/run calls exactly this script.
#   VOUCH_PG_VERSIONS="15;17;18"  the Release pass's server matrix (17 and 18
#                          need root, for the chroots)
#   VOUCH_SKIP_SANITIZE=1  skip the sanitizer pass (quicker local runs)
#   VOUCH_SKIP_FUZZ=1      skip the fuzz run
#   VOUCH_FUZZ_SECONDS=N   seconds per fuzz target (default 20)
# CI gives this script 60 minutes on 2 cores. The sanitizer and fuzz builds use
# -O1 with minimal debug info (line tables: stack traces keep file:line), which
# halves their compile time against -O2 -g (measured: 45 s -> 18 s of CPU for
# engine/src/drill.cc with ASan); the sanitizer build keeps assert() on.
set -euo pipefail
cd "$(dirname "$0")/.."

STAGES=()
stage_start=$SECONDS
stage() {  # stage NAME: closes the running stage's clock, starts NAME's
  local now=$SECONDS
  [ -z "${stage_name:-}" ] || STAGES+=("$(printf '%-44s %5d s' "$stage_name" $((now - stage_start)))")
  stage_name=${1:-}
  stage_start=$now
  [ -z "$stage_name" ] || echo "== $stage_name"
}
report() {
  stage
  echo "== Stage times"
  for s in "${STAGES[@]}"; do echo "  $s"; done
  echo "  $(printf '%-44s %5d s' total "$SECONDS")"
}
trap report EXIT

stage "install dependencies"
bash scripts/install-deps.sh
JOBS=$(nproc)
PG_VERSIONS=${VOUCH_PG_VERSIONS:-15;17;18}

stage "Release build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DVOUCH_WERROR=ON -DVOUCH_BUILD_TESTING=ON -DVOUCH_BENCH=ON \
  "-DVOUCH_PG_VERSIONS=$PG_VERSIONS"
cmake --build build -j "$JOBS"
stage "Release tests (PostgreSQL ${PG_VERSIONS//;/, })"
ctest --test-dir build --output-on-failure -j "$JOBS" --timeout 900

stage "Debian package"
rm -f build/vouch_*_amd64.deb
(cd build && cpack -G DEB)
if [ "$(id -u)" -eq 0 ]; then
  bash scripts/test-deb.sh build/vouch_*_amd64.deb
else
  echo "Debian package: built; its install test on a fresh Debian 12 (scripts/test-deb.sh) needs root, skipped"
fi

if [ "${VOUCH_SKIP_SANITIZE:-0}" != "1" ]; then
  stage "ASan+UBSan build"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVOUCH_WERROR=ON \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DVOUCH_SANITIZE=address,undefined -DVOUCH_BUILD_TESTING=ON -DVOUCH_BENCH=OFF -DVOUCH_PG_VERSIONS=15
  cmake --build build-asan -j "$JOBS"
  stage "ASan+UBSan tests (PostgreSQL 15)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$JOBS" --timeout 1800
fi

if [ "${VOUCH_SKIP_FUZZ:-0}" != "1" ]; then
  stage "libFuzzer build"
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVOUCH_WERROR=ON \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DVOUCH_FUZZ=ON -DVOUCH_BUILD_TESTING=OFF -DVOUCH_BENCH=OFF
  cmake --build build-fuzz -j "$JOBS" --target fuzz_archive_toc fuzz_archive fuzz_plain_dump fuzz_backup_formats fuzz_binary_copy \
    fuzz_evidence
  stage "libFuzzer: the parsers on mutated real dumps, ${VOUCH_FUZZ_SECONDS:-20} s each"
  for target in fuzz_archive_toc fuzz_archive fuzz_plain_dump fuzz_backup_formats fuzz_binary_copy fuzz_evidence; do
    corpus=$(mktemp -d)
    module=readers
    [ "$target" != fuzz_evidence ] || module=engine/evidence
    seeds=$module/fuzz/corpus/${target#fuzz_}
    [ -d "$seeds" ] && cp "$seeds"/* "$corpus"/
    rc=0
    build-fuzz/$module/$target "$corpus" -max_total_time="${VOUCH_FUZZ_SECONDS:-20}" -rss_limit_mb=2048 \
      -timeout=20 -print_final_stats=1 -artifact_prefix="build-fuzz/$target-" > "build-fuzz/$target.log" 2>&1 || rc=$?
    grep -E "^(stat::number_of_executed_units|==[0-9]+==|SUMMARY|.*runtime error)" "build-fuzz/$target.log" || true
    rm -rf "$corpus"
    [ "$rc" -eq 0 ] || { echo "$target failed (exit $rc; log build-fuzz/$target.log, input saved as build-fuzz/$target-*)"; exit 1; }
  done
fi
