#!/usr/bin/env bash
# Peak memory of the real vmscan-server across one signature reload (docs/design.md §6): the
# server starts on a copy of SIGNATURE_DIR, its peak RSS (VmHWM) is reset through
# /proc/PID/clear_refs once it serves, a file of the copy is touched (a new version), and
# `vmscanctl engine reload` compiles the new engine beside the old one. Prints RSS before, VmHWM
# during the reload and RSS after, from /proc/PID/status.
#
# Usage: scripts/reload-memory.sh [SIGNATURE_DIR] [BUILD_DIR]
#   SIGNATURE_DIR  default deploy/signatures (the bundled set); a production-sized synthetic set:
#                  build/tests/benchmarks/vmscan-bench --write-signatures DIR
#   BUILD_DIR      default build
set -euo pipefail
cd "$(dirname "$0")/.."
sigs=${1:-deploy/signatures}
build=${2:-build}
work=$(mktemp -d /tmp/vmscan-reload-memory.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/sigs"
cp "$sigs"/*.[chimnlpgwy][a-z]* "$work/sigs/" 2>/dev/null || true
rm -f "$work/sigs/"*.md
"$build/host_server/vmscan-server" --set listen=127.0.0.1:0 --set "state_dir=$work/var" \
  --set "signatures_dir=$work/sigs" --set engine.watch_interval_ms=0 --set log_level=warning \
  --port-file "$work/port" 2>"$work/server.log" &
pid=$!
for _ in $(seq 1 3000); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "reload-memory: the server did not start" >&2; cat "$work/server.log" >&2; exit 1; }
server="127.0.0.1:$(cat "$work/port")"
kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/status"; }
start_hwm=$(kib VmHWM)
before=$(kib VmRSS)
echo 5 >"/proc/$pid/clear_refs"  # VmHWM := VmRSS
touch "$work/sigs/"*
t0=$(date +%s.%N)
"$build/tools/vmscanctl/vmscanctl" --server "$server" engine reload
t1=$(date +%s.%N)
sleep 0.5  # the old engine is freed once no scan holds it (none here)
peak=$(kib VmHWM)
after=$(kib VmRSS)
count=$("$build/tools/vmscanctl/vmscanctl" --server "$server" --json engine status |
  sed -n 's/.*"signatureCount":"\([0-9]*\)".*/\1/p')
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
printf 'signatures %s (%s)\n' "$count" "$sigs"
printf 'start-up peak (VmHWM)     %s\n' "$(mib "$start_hwm")"
printf 'RSS before the reload     %s\n' "$(mib "$before")"
printf 'peak during the reload    %s  (+%s, %.2f x the RSS before)\n' "$(mib "$peak")" \
  "$(mib $((peak - before)))" "$(awk -v p="$peak" -v b="$before" 'BEGIN { print p / b }')"
printf 'RSS after the reload      %s\n' "$(mib "$after")"
printf 'reload wall time          %.2f s (vmscanctl engine reload)\n' "$(echo "$t1 - $t0" | bc)"
