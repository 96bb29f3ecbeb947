#!/bin/sh
# Linker launcher for vmscan-agent (see guest_agent/CMakeLists.txt): runs the link command it is
# given, with every system shared library that has a static archive beside it (gRPC, protobuf,
# Abseil, OpenSSL, yaml-cpp, libmilter, ...) replaced by that archive, libstdc++ and libgcc
# linked statically, and unused sections dropped. glibc stays shared (NSS, dlopen).
#
# Why: the agent runs in every VM and its resident memory is mostly the pages of those shared
# libraries it touches (about 11 MiB mapped for a one-shot scan); a static link keeps only the
# code it uses. Static archives need their own dependencies named, which the shared libraries
# carried: they come from pkg-config --static.
set -eu
libdir=/usr/lib/x86_64-linux-gnu
statics=""
add_static() {
  case " $statics " in *" $1 "*) ;; *) statics="$statics $1" ;; esac
}
# Maps "-lNAME" or a path to libNAME.so[.N] to libNAME.a in $libdir, if there is one.
archive_for() {
  case "$1" in
    -lc|-lm|-ldl|-lrt|-lpthread|-latomic|-lgcc|-lgcc_s|-lstdc++) return 1 ;;
    -l*) name=${1#-l} ;;
    */lib*.so|*/lib*.so.*) base=${1##*/lib}; name=${base%%.so*} ;;
    *) return 1 ;;
  esac
  # The agent speaks plaintext gRPC to the SVM of its own host (InsecureChannelCredentials):
  # gRPC's unsecure build leaves out its TLS, ALTS and xDS code, which gRPC's own init would
  # otherwise reference and so keep. OpenSSL itself stays for the SMTP proxy's STARTTLS.
  case "$name" in grpc|grpc++) name="${name}_unsecure" ;; esac
  [ -f "$libdir/lib$name.a" ] && echo "$libdir/lib$name.a"
}

first=1
for arg in "$@"; do
  if [ $first = 1 ]; then set --; first=0; fi
  if archive=$(archive_for "$arg"); then
    add_static "$archive"
  else
    set -- "$@" "$arg"
  fi
done
for lib in $(pkg-config --static --libs-only-l grpc++ protobuf yaml-cpp openssl zlib); do
  if archive=$(archive_for "$lib"); then add_static "$archive"; fi
done
# shellcheck disable=SC2086 # $statics is a list of paths without spaces
exec "$@" -Wl,--start-group $statics -Wl,--end-group -static-libstdc++ -static-libgcc \
  -Wl,--gc-sections -Wl,-z,pack-relative-relocs -ldl -pthread -latomic
