#!/usr/bin/env bash
# The units of deploy/systemd/ as systemd sees them: `systemd-analyze verify` (syntax, every
# directive known, the ExecStart binaries executable: here the ones just built, at the paths the
# units name) and `systemd-analyze security --offline=yes` with an exposure of at most 2.5 each.
# Usage: check_units.sh SOURCE_DIR BIN_DIR...   (BIN_DIRs hold vmscan-server and vmscan-agent)
set -euo pipefail
src="$1"
shift
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

units=(vmscan-server.service vmscan-agent.service)
for unit in "${units[@]}"; do
  binary="${unit%.service}"
  found=""
  for dir in "$@"; do
    if [ -x "$dir/$binary" ]; then found="$dir/$binary"; fi
  done
  if [ -z "$found" ]; then
    echo "FAIL: $binary not built in $*" >&2
    exit 1
  fi
  # The installed path (cmake --install's default prefix) is the only thing replaced.
  grep -q "^ExecStart=/usr/local/bin/$binary " "$src/deploy/systemd/$unit" || {
    echo "FAIL: $unit does not start /usr/local/bin/$binary" >&2
    exit 1
  }
  sed "s|^ExecStart=/usr/local/bin/$binary |ExecStart=$found |" "$src/deploy/systemd/$unit" \
    >"$work/$unit"
done

cd "$work"
status=0
# verify prints problems and exits non-zero on errors; warnings are errors for us too.
if ! out="$(systemd-analyze verify "${units[@]}" 2>&1)" || [ -n "$out" ]; then
  echo "FAIL: systemd-analyze verify:" >&2
  echo "$out" >&2
  status=1
fi
for unit in "${units[@]}"; do
  # --threshold is on systemd's internal 0-100 scale: 25 is the 2.5 it prints.
  if ! report="$(systemd-analyze security --offline=yes --threshold=25 "$unit" 2>&1)"; then
    echo "FAIL: $unit is more exposed than 2.5:" >&2
    status=1
  fi
  echo "$report" | grep "Overall exposure level" || { echo "$report" >&2; status=1; }
done
exit $status
