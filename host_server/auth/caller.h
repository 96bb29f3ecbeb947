// Caller: who is on the other end of one RPC, taken from the peer's certificate, never from the
// request (docs/design.md §7, docs/security.md).
//
// With mutual TLS every caller presented a certificate of the deployment's CA that the TLS
// stack verified; its one urn:vmscan: URI SAN names a VM, an administrator or an SVM. On a
// plaintext loopback listener (tls.insecure_loopback, development only) nobody is
// authenticated and every caller is kLocal, with an administrator's reach and the VM identity
// its requests claim.
#ifndef VMSCAN_HOST_SERVER_AUTH_CALLER_H_
#define VMSCAN_HOST_SERVER_AUTH_CALLER_H_

#include <grpcpp/server_context.h>

#include <string>

#include "absl/status/statusor.h"
#include "common/tls/identity.h"

namespace vmscan {

struct Caller {
  enum class Kind { kLocal, kVm, kAdmin, kSvm };
  Kind kind = Kind::kLocal;
  std::string name;         // the VM id, or the administrator's / SVM's name; empty for kLocal
  std::string common_name;  // the certificate's CN (a VM's name), if any
  std::string peer;         // the transport address, as gRPC spells it ("ipv4:10.0.0.7:51234")

  bool administrator() const { return kind == Kind::kLocal || kind == Kind::kAdmin; }
  // "VM 4c4c... (desk-7) at ipv4:10.0.0.7:51234", "local caller at ipv4:127.0.0.1:5000".
  std::string Describe() const;
};

// The caller of `context`. With `tls` false: kLocal. With `tls` true: from the verified peer
// certificate's URI SANs and CN; PermissionDenied when the certificate names no vmscan identity
// or several.
absl::StatusOr<Caller> CallerOf(const grpc::ServerContextBase& context, bool tls);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_AUTH_CALLER_H_
