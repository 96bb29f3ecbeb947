#!/usr/bin/env bash
# The main job on embedded defaults: install, build, start vmscan-server with the bundled
# signatures and its state under ./var, push the sample messages through vmscan-agent, print the
# verdict and action for each, stop the server.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh build

mkdir -p var
rm -f var/server.port
./build/host_server/vmscan-server --port-file var/server.port >var/server.log 2>&1 &
server_pid=$!
trap 'kill -TERM $server_pid 2>/dev/null; wait $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  [ -s var/server.port ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "vmscan-server failed to start:"; cat var/server.log; exit 1
  fi
  sleep 0.1
done
[ -s var/server.port ] || { echo "vmscan-server did not come up"; cat var/server.log; exit 1; }
grep -m1 "signatures from the" var/server.log | sed 's/^.*] /server: /'
echo

scan() {  # scan FILE CHANNEL
  local rc=0
  ./build/guest_agent/vmscan-agent scan --channel "$2" "deploy/samples/$1" || rc=$?
  echo "  (exit code $rc)"
  echo
}
scan clean.eml cli
scan infected-attachment.eml cli
scan infected-zip.eml pop3
scan outgoing-smtp.eml smtp-out

ctl() { ./build/tools/vmscanctl/vmscanctl --server "127.0.0.1:$(cat var/server.port)" "$@"; }

echo "Backup copies kept by the SVM (vmscanctl backup list, newest first):"
ctl backup list --limit 5
echo

echo "This VM in the SVM's inventory (vmscanctl vms list):"
ctl vms list
echo
echo "An administrator's policy for every VM, applied at once (vmscanctl policy set):"
ctl policy set "Managed devices" action_on_threat=DELETE
scan infected-attachment.eml cli
ctl policy unset "Managed devices" action_on_threat >/dev/null  # back to the defaults

cat <<'TXT'
Next steps:
  - JSON for scripts:          ./build/guest_agent/vmscan-agent scan --json deploy/samples/infected-zip.eml
  - pipe use (procmail/sieve): ./build/guest_agent/vmscan-agent scan --output - - < message.eml > delivered.eml
  - another action:            ./build/host_server/vmscan-server --set mail_antivirus.action_on_threat=BLOCK
  - see every setting:         ./build/host_server/vmscan-server --print-config
  - groups and policies:       ./build/tools/vmscanctl/vmscanctl --help   (groups, vms, policy, rules)
  - this VM's settings:        ./build/guest_agent/vmscan-agent settings --help
  - a Backup copy, original:   ./build/tools/vmscanctl/vmscanctl backup export ID -o original.eml
  - server log of this run:    var/server.log
TXT
