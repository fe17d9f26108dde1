#!/usr/bin/env bash
# Installs the dependencies, builds vouch, and runs every test: the unit tests
# and the integration tests against a throwaway PostgreSQL cluster (started
# and stopped by the CTest fixture "pg"). Then the same tests again in an
# AddressSanitizer/UBSan build. .ci/run calls exactly this script.
#   VOUCH_SKIP_SANITIZE=1  skip the sanitizer pass (quicker local runs)
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
    -DVOUCH_SANITIZE=address,undefined -DVOUCH_BUILD_TESTING=ON -DVOUCH_BENCH=OFF
  cmake --build build-asan -j "$JOBS"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$JOBS" --timeout 1800
fi
