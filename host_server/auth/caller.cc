#include "host_server/auth/caller.h"

#include <grpcpp/security/auth_context.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace vmscan {
namespace {

std::vector<std::string> Values(const grpc::AuthContext& auth, const char* property) {
  std::vector<std::string> values;
  for (const grpc::string_ref& v : auth.FindPropertyValues(property)) {
    values.emplace_back(v.data(), v.size());
  }
  return values;
}

Caller::Kind KindOf(PeerRole role) {
  switch (role) {
    case PeerRole::kVm:
      return Caller::Kind::kVm;
    case PeerRole::kAdmin:
      return Caller::Kind::kAdmin;
    case PeerRole::kSvm:
      return Caller::Kind::kSvm;
  }
  return Caller::Kind::kVm;
}

}  // namespace

std::string Caller::Describe() const {
  std::string who;
  switch (kind) {
    case Kind::kLocal:
      who = "local caller";
      break;
    case Kind::kVm:
      who = absl::StrCat(
          "VM ", name,
          common_name.empty() || common_name == name ? "" : absl::StrCat(" (", common_name, ")"));
      break;
    case Kind::kAdmin:
      who = absl::StrCat("administrator ", name);
      break;
    case Kind::kSvm:
      who = absl::StrCat("SVM ", name);
      break;
  }
  return absl::StrCat(who, " at ", peer);
}

absl::StatusOr<Caller> CallerOf(const grpc::ServerContextBase& context, bool tls) {
  Caller caller;
  caller.peer = context.peer();
  if (!tls) return caller;
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) {
    return absl::UnauthenticatedError(
        absl::StrCat("no verified client certificate from ", caller.peer));
  }
  absl::StatusOr<PeerName> name = PeerNameFromUris(Values(*auth, "peer_uri"));
  if (!name.ok()) {
    return absl::PermissionDeniedError(
        absl::StrCat("certificate of ", caller.peer, ": ", name.status().message()));
  }
  caller.kind = KindOf(name->role);
  caller.name = name->name;
  std::vector<std::string> cn = Values(*auth, "x509_common_name");
  if (!cn.empty()) caller.common_name = cn.front();
  return caller;
}

}  // namespace vmscan
