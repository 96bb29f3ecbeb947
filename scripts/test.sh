#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run): install, check the formatting, build with gcc
# and -Werror, run every test (unit and integration with real peers), then build again with
# clang (-Wthread-safety checks every ABSL_GUARDED_BY) under AddressSanitizer +
# UndefinedBehaviorSanitizer, also -Werror, and run every test again.
# VMSCAN_SKIP_SANITIZE=1 runs only the format check and the gcc build (quick local iterations).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

jobs=$(nproc)
echo "== format (clang-format --dry-run -Werror)"
./scripts/check-format.sh
echo "== build (RelWithDebInfo, gcc, -Werror)"
./scripts/build.sh build -DVMSCAN_WERROR=ON
echo "== tests (RelWithDebInfo)"
ctest --test-dir build --output-on-failure -j "$jobs"

if [ "${VMSCAN_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== build (ASan+UBSan, clang-14 with -Wthread-safety, -Werror)"
  ./scripts/build.sh build-asan -DVMSCAN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DVMSCAN_WERROR=ON \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14
  echo "== tests (ASan+UBSan)"
  # libclamav and GMime are not instrumented; leaks inside them are theirs, reported separately.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs"
fi
