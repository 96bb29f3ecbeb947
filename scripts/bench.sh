#!/usr/bin/env bash
# The benchmarks in one command: vmscan against the in-process libclamav ceiling and clamd, side by
# side on the same corpus and signatures (see BENCHMARKS.md).
#
#   scripts/bench.sh              # full run, about 10-15 minutes on 2 idle cores
#   scripts/bench.sh --quick      # every phase, small: about 2 minutes
#   scripts/bench.sh --help       # the benchmark's own options (passed through)
#
# Builds vmscan-bench, vmscan-server and vmscan-agent (Release) in $VMSCAN_BENCH_BUILD_DIR
# (default build-bench), runs the benchmark and leaves the Markdown tables and the JSON in
# $VMSCAN_BENCH_OUT (default <build dir>/bench-results/<UTC time>.{md,json}, plus latest.*).
# VMSCAN_BENCH_SKIP_DEPS=1 skips the package check (scripts/install-deps.sh).
# Everything runs on loopback; clamd and vmscan-server are started and stopped by the benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."

for arg in "$@"; do
  case "$arg" in
    -h | --help)
      if [ -x "${VMSCAN_BENCH_BUILD_DIR:-build-bench}/tests/benchmarks/vmscan-bench" ]; then
        "${VMSCAN_BENCH_BUILD_DIR:-build-bench}/tests/benchmarks/vmscan-bench" --help
      else
        sed -n '2,14p' "$0"
      fi
      exit 0
      ;;
  esac
done

if [ "${VMSCAN_BENCH_SKIP_DEPS:-0}" != 1 ]; then
  ./scripts/install-deps.sh
fi
if [ ! -x /usr/sbin/clamd ]; then
  echo "bench: /usr/sbin/clamd is missing (apt-get install clamav-daemon)" >&2
  exit 69
fi

build_dir=${VMSCAN_BENCH_BUILD_DIR:-build-bench}
echo "== build ($build_dir, Release)"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -j "${VMSCAN_BUILD_JOBS:-$(nproc)}" -C "$build_dir" vmscan-bench vmscan-bench-rusage vmscan-server vmscan-agent \
  vmscanctl

out_dir=${VMSCAN_BENCH_OUT:-$build_dir/bench-results}
mkdir -p "$out_dir"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
cores=$(nproc)
load=$(cut -d' ' -f1 /proc/loadavg)
echo "== bench ($cores cores, load average $load)"
if awk -v l="$load" -v c="$cores" 'BEGIN { exit !(l > c / 2) }'; then
  echo "bench: the machine is busy (load $load on $cores cores): ratios stay comparable, absolute" \
    "numbers will be low; re-run when it is idle" >&2
fi
"$build_dir/tests/benchmarks/vmscan-bench" \
  --json "$out_dir/$stamp.json" --markdown "$out_dir/$stamp.md" "$@"
ln -sf "$stamp.json" "$out_dir/latest.json"
ln -sf "$stamp.md" "$out_dir/latest.md"
echo "== results: $out_dir/$stamp.md and $out_dir/$stamp.json"
