#!/usr/bin/env bash
# Installs the dependencies, builds vouch, and runs every test: the unit tests
# and the integration tests against a throwaway PostgreSQL cluster (started
# and stopped by the CTest fixture "pg"). Then the same tests again in an
# AddressSanitizer/UBSan build, and a short libFuzzer run of every parser from
# its seed corpus of real dumps. .ci/run calls exactly this script.
#   VOUCH_SKIP_SANITIZE=1  skip the sanitizer pass (quicker local runs)
#   VOUCH_SKIP_FUZZ=1      skip the fuzz run
#   VOUCH_FUZZ_SECONDS=N   seconds per fuzz target (default 20)
# CI gives this script 30 minutes on 2 cores. The sanitizer and fuzz builds use
# -O1 with minimal debug info (line tables: stack traces keep file:line), which
# halves their compile time against -O2 -g (measured: 45 s -> 18 s of CPU for
# engine/src/drill.cc with ASan); the sanitizer build keeps assert() on.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
JOBS=$(nproc)

echo "== Release build and tests"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DVOUCH_WERROR=ON -DVOUCH_BUILD_TESTING=ON -DVOUCH_BENCH=ON
cmake --build build -j "$JOBS"
ctest --test-dir build --output-on-failure -j "$JOBS" --timeout 900

if [ "${VOUCH_SKIP_SANITIZE:-0}" != "1" ]; then
  echo "== AddressSanitizer + UndefinedBehaviorSanitizer build and tests"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVOUCH_WERROR=ON \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DVOUCH_SANITIZE=address,undefined -DVOUCH_BUILD_TESTING=ON -DVOUCH_BENCH=OFF
  cmake --build build-asan -j "$JOBS"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$JOBS" --timeout 1800
fi

if [ "${VOUCH_SKIP_FUZZ:-0}" != "1" ]; then
  echo "== libFuzzer: the parsers on mutated real dumps, ${VOUCH_FUZZ_SECONDS:-20} s each"
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVOUCH_WERROR=ON \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DVOUCH_FUZZ=ON -DVOUCH_BUILD_TESTING=OFF -DVOUCH_BENCH=OFF
  cmake --build build-fuzz -j "$JOBS" --target fuzz_archive_toc fuzz_archive fuzz_plain_dump fuzz_backup_formats
  for target in fuzz_archive_toc fuzz_archive fuzz_plain_dump fuzz_backup_formats; do
    corpus=$(mktemp -d)
    seeds=readers/fuzz/corpus/${target#fuzz_}
    [ -d "$seeds" ] && cp "$seeds"/* "$corpus"/
    rc=0
    build-fuzz/readers/$target "$corpus" -max_total_time="${VOUCH_FUZZ_SECONDS:-20}" -rss_limit_mb=2048 \
      -timeout=20 -print_final_stats=1 -artifact_prefix="build-fuzz/$target-" > "build-fuzz/$target.log" 2>&1 || rc=$?
    grep -E "^(stat::number_of_executed_units|==[0-9]+==|SUMMARY|.*runtime error)" "build-fuzz/$target.log" || true
    rm -rf "$corpus"
    [ "$rc" -eq 0 ] || { echo "$target failed (exit $rc; log build-fuzz/$target.log, input saved as build-fuzz/$target-*)"; exit 1; }
  done
fi
