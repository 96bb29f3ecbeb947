#!/usr/bin/env bash
# Configures and builds vmscan. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
# BUILD_DIR defaults to ./build; pass -DVMSCAN_SANITIZE=ON for the ASan+UBSan configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
shift || true
cmake -S . -B "$build_dir" -G Ninja "$@" >/dev/null
ninja -C "$build_dir"
