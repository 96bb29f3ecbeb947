#!/usr/bin/env bash
# The whole test suite: install, build, run every test (unit and integration with real peers),
# then the same under AddressSanitizer + UndefinedBehaviorSanitizer.
# Set VMSCAN_SKIP_SANITIZE=1 to run only the plain build (for quick local iterations).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

jobs=$(nproc)
echo "== build (RelWithDebInfo)"
./scripts/build.sh build
echo "== tests (RelWithDebInfo)"
ctest --test-dir build --output-on-failure -j "$jobs"

if [ "${VMSCAN_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== build (ASan+UBSan)"
  ./scripts/build.sh build-asan -DVMSCAN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
  echo "== tests (ASan+UBSan)"
  # libclamav and GMime are not instrumented; leaks inside them are theirs, reported separately.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs"
fi
