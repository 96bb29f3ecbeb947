// Authorizer: the SVM's one authorization table and the one place that enforces it
// (docs/security.md lists the same table; authorizer_test checks that both agree and that every
// RPC of every vmscan service has a row).
//
// Every handler starts with Authorize(context, its full method name): the caller is taken from
// the peer's certificate (Caller), checked against the RPC's row, and a refusal is logged with
// the method, the caller's identity and address, and answered PERMISSION_DENIED. Handlers whose
// request names a VM then call AuthorizeVm(): a VM may only speak for itself, so a scan,
// registration or settings change that names another VM is refused and logged with both
// identities. Revoked certificates are refused per call too, not only at the next handshake.
//
//   VMSCAN_ASSIGN_OR_RETURN(Caller caller, authorizer.Authorize(*context, kScanMethod));
//   VMSCAN_RETURN_IF_ERROR(authorizer.AuthorizeVm(caller, kScanMethod, metadata.vm().id()));
//
// Thread-safe; Authorize never blocks (a table lookup, at most one certificate parse per
// distinct certificate).
#ifndef VMSCAN_HOST_SERVER_AUTH_AUTHORIZER_H_
#define VMSCAN_HOST_SERVER_AUTH_AUTHORIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/tls/revocation.h"
#include "host_server/auth/caller.h"

namespace vmscan {

// Who may call an RPC (bit set).
enum CallerSet : uint32_t {
  kVmCallers = 1,     // a VM's agent, for itself only
  kAdminCallers = 2,  // administrators (and kLocal callers on a plaintext loopback listener)
  kSvmCallers = 4,    // another SVM of the deployment
};

struct RpcRule {
  absl::string_view method;  // "/vmscan.v1.ScanService/Scan"
  uint32_t callers;          // CallerSet bits
  // What a VM may reach with it, for the docs and the refusal message ("" when VMs may not).
  absl::string_view vm_scope;
};

// The table, one row per RPC of every vmscan service.
const std::vector<RpcRule>& RpcRules();

class Authorizer {
 public:
  // `tls`: the listener requires client certificates (else every caller is kLocal). `revoked`:
  // the CRL the TLS stack also checks; may be null.
  Authorizer(bool tls, std::shared_ptr<RevocationList> revoked)
      : tls_(tls), revoked_(std::move(revoked)) {}
  virtual ~Authorizer() = default;

  absl::StatusOr<Caller> Authorize(const grpc::ServerContextBase& context,
                                   absl::string_view method) const;

  // PermissionDenied (logged) when a VM caller names a VM other than itself. Administrators and
  // kLocal callers may name any VM; an SVM peer may not name a VM at all.
  absl::Status AuthorizeVm(const Caller& caller, absl::string_view method,
                           absl::string_view claimed_vm_id) const;

  bool tls() const { return tls_; }

 protected:
  // Who is calling: CallerOf(context, tls). Unit tests of services override it to present a
  // caller without a TLS handshake; the table is enforced the same way.
  virtual absl::StatusOr<Caller> Identify(const grpc::ServerContextBase& context) const {
    return CallerOf(context, tls_);
  }

 private:
  bool Revoked(const grpc::ServerContextBase& context) const;

  const bool tls_;
  const std::shared_ptr<RevocationList> revoked_;
  mutable absl::Mutex mu_;
  // Serial of each certificate PEM seen (peers reconnect with the same one).
  mutable absl::flat_hash_map<std::string, std::string> serials_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_AUTH_AUTHORIZER_H_
