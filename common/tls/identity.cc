#include "common/tls/identity.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace vmscan {
namespace {

absl::string_view PrefixOf(PeerRole role) {
  switch (role) {
    case PeerRole::kVm:
      return kVmUriPrefix;
    case PeerRole::kAdmin:
      return kAdminUriPrefix;
    case PeerRole::kSvm:
      return kSvmUriPrefix;
  }
  return kVmUriPrefix;
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '@' || c == '-';
}

}  // namespace

std::string PeerUri(const PeerName& peer) { return absl::StrCat(PrefixOf(peer.role), peer.name); }

absl::StatusOr<PeerName> PeerNameFromUris(const std::vector<std::string>& uris) {
  std::vector<PeerName> found;
  for (const std::string& uri : uris) {
    for (PeerRole role : {PeerRole::kVm, PeerRole::kAdmin, PeerRole::kSvm}) {
      if (absl::StartsWithIgnoreCase(uri, PrefixOf(role))) {
        found.push_back({role, uri.substr(PrefixOf(role).size())});
      }
    }
  }
  if (found.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat("the certificate names no vmscan identity (a URI SAN urn:vmscan:vm:ID, "
                     "urn:vmscan:admin:NAME or urn:vmscan:svm:NAME); URIs: [",
                     absl::StrJoin(uris, ", "), "]"));
  }
  if (found.size() > 1) {
    return absl::PermissionDeniedError(absl::StrCat("the certificate names ", found.size(),
                                                    " vmscan identities; exactly one is allowed: [",
                                                    absl::StrJoin(uris, ", "), "]"));
  }
  const PeerName& peer = found.front();
  if (peer.name.empty() || peer.name.size() > 128) {
    return absl::PermissionDeniedError("the certificate's vmscan identity has an empty name");
  }
  for (char c : peer.name) {
    if (!IsNameChar(c)) {
      return absl::PermissionDeniedError(
          absl::StrCat("the certificate's vmscan identity '", PeerUri(peer),
                       "' holds a character outside [A-Za-z0-9._:@-]"));
    }
  }
  return peer;
}

std::string DescribePeer(const PeerName& peer) {
  switch (peer.role) {
    case PeerRole::kVm:
      return absl::StrCat("VM ", peer.name);
    case PeerRole::kAdmin:
      return absl::StrCat("administrator ", peer.name);
    case PeerRole::kSvm:
      return absl::StrCat("SVM ", peer.name);
  }
  return peer.name;
}

}  // namespace vmscan
