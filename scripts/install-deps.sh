#!/usr/bin/env bash
# Installs every Debian 12 package that vmscan's build, tests, demo and benchmarks need.
# Idempotent and non-interactive; runs as root (or through sudo when it is available).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git clang-format clang-14 libclang-rt-14-dev
  # libraries
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libclamav-dev liblmdb-dev lmdb-utils libgmime-3.0-dev libmilter-dev libzstd-dev
  libyaml-cpp-dev libssl-dev libsystemd-dev prometheus-cpp-dev libcpp-httplib-dev
  # tests
  libgtest-dev libgmock-dev libbenchmark-dev
  clamav-testfiles libpython3.11-testsuite python3 zip unzip
  python3-prometheus-client systemd
  # real peers for integration tests and benchmarks
  clamav clamav-daemon clamdscan clamsmtp postfix swaks python3-aiosmtpd
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# postfix asks how it should run; the tests run their own instances from private config dirs.
echo "postfix postfix/main_mailer_type select No configuration" | "${sudo_cmd[@]}" debconf-set-selections
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
