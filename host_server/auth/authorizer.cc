#include "host_server/auth/authorizer.h"

#include <grpcpp/security/auth_context.h>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/tls/certificate_info.h"

namespace vmscan {
namespace {

constexpr uint32_t kAdmin = kAdminCallers;
constexpr uint32_t kVmOrAdmin = kVmCallers | kAdminCallers;
constexpr size_t kMaxCachedSerials = 4096;

std::string RoleList(uint32_t callers) {
  std::string out;
  auto add = [&](uint32_t bit, absl::string_view word) {
    if (callers & bit) absl::StrAppend(&out, out.empty() ? "" : " or ", word);
  };
  add(kVmCallers, "VMs");
  add(kAdminCallers, "administrators");
  add(kSvmCallers, "SVMs");
  return out;
}

uint32_t BitOf(Caller::Kind kind) {
  switch (kind) {
    case Caller::Kind::kVm:
      return kVmCallers;
    case Caller::Kind::kAdmin:
      return kAdminCallers;
    case Caller::Kind::kLocal:
      return kVmCallers | kAdminCallers | kSvmCallers;
    case Caller::Kind::kSvm:
      return kSvmCallers;
  }
  return 0;
}

}  // namespace

const std::vector<RpcRule>& RpcRules() {
  static const std::vector<RpcRule>* rules = new std::vector<RpcRule>{
      // Scanning: a VM scans its own mail.
      {"/vmscan.v1.ScanService/Scan", kVmCallers, "its own messages (metadata.vm.id)"},
      {"/vmscan.v1.ScanService/GetScanProtocols", kVmCallers | kAdminCallers | kSvmCallers,
       "what the SVM speaks"},
      // Which SVMs there are and how loaded (docs/design.md §6.1): agents choose among them.
      {"/vmscan.v1.SvmDirectory/ListSvms", kVmCallers | kAdminCallers | kSvmCallers,
       "the SVMs and their load"},
      // Backup: a VM reaches its own records (the store filters by the caller's id).
      {"/vmscan.v1.BackupAdmin/ListBackups", kVmOrAdmin, "its own records"},
      {"/vmscan.v1.BackupAdmin/GetBackup", kVmOrAdmin, "its own records"},
      {"/vmscan.v1.BackupAdmin/ExportBackup", kVmOrAdmin, "its own records"},
      {"/vmscan.v1.BackupAdmin/RestoreBackup", kAdmin, ""},
      {"/vmscan.v1.BackupAdmin/ConfirmRestore", kVmCallers, "restores sent to it"},
      {"/vmscan.v1.BackupAdmin/DeleteBackup", kAdmin, ""},
      {"/vmscan.v1.BackupAdmin/PurgeBackups", kAdmin, ""},
      {"/vmscan.v1.BackupAdmin/GetBackupStats", kAdmin, ""},
      // The scan engine: its signature set and reloading it.
      {"/vmscan.v1.EngineAdmin/ReloadEngine", kAdmin, ""},
      {"/vmscan.v1.EngineAdmin/GetEngineStatus", kAdmin, ""},
      // The control plane: administrators manage, agents speak for their own VM.
      {"/vmscan.v1.InventoryAdmin/CreateGroup", kAdmin, ""},
      {"/vmscan.v1.InventoryAdmin/ListGroups", kAdmin, ""},
      {"/vmscan.v1.InventoryAdmin/DeleteGroup", kAdmin, ""},
      {"/vmscan.v1.InventoryAdmin/RenameGroup", kAdmin, ""},
      {"/vmscan.v1.InventoryAdmin/ListVms", kAdmin, ""},
      {"/vmscan.v1.InventoryAdmin/GetVm", kAdmin, ""},
      {"/vmscan.v1.InventoryAdmin/MoveVm", kAdmin, ""},
      {"/vmscan.v1.InventoryAdmin/DeleteVm", kAdmin, ""},
      {"/vmscan.v1.InventoryAdmin/GetEffectiveSettings", kAdmin, ""},
      {"/vmscan.v1.InventoryAdmin/ListRules", kAdmin, ""},
      {"/vmscan.v1.InventoryAdmin/AddRule", kAdmin, ""},
      {"/vmscan.v1.InventoryAdmin/DeleteRule", kAdmin, ""},
      {"/vmscan.v1.PolicyAdmin/GetPolicy", kAdmin, ""},
      {"/vmscan.v1.PolicyAdmin/UpdatePolicy", kAdmin, ""},
      {"/vmscan.v1.PolicyAdmin/ListPolicyHistory", kAdmin, ""},
      {"/vmscan.v1.AgentControl/Register", kVmCallers, "itself"},
      {"/vmscan.v1.AgentControl/Heartbeat", kVmCallers, "itself"},
      {"/vmscan.v1.AgentControl/Unregister", kVmCallers, "itself"},
      {"/vmscan.v1.AgentControl/WatchSettings", kVmCallers, "itself"},
      {"/vmscan.v1.AgentControl/GetSettings", kVmCallers, "itself"},
      {"/vmscan.v1.AgentControl/UpdateLocalSettings", kVmCallers, "itself"},
  };
  return *rules;
}

absl::StatusOr<Caller> Authorizer::Authorize(const grpc::ServerContextBase& context,
                                             absl::string_view method) const {
  absl::StatusOr<Caller> caller = Identify(context);
  if (!caller.ok()) {
    VMSCAN_LOG(WARNING) << method << " refused: " << caller.status();
    return caller.status();
  }
  const RpcRule* rule = nullptr;
  for (const RpcRule& r : RpcRules()) {
    if (r.method == method) rule = &r;
  }
  if (rule == nullptr) {
    // A handler without a row is a bug of ours: fail closed, loudly.
    VMSCAN_LOG(ERROR) << method << " has no row in the authorization table; refused for "
                      << caller->Describe();
    return absl::PermissionDeniedError(absl::StrCat(method, " is not open to anyone"));
  }
  // A local caller of a plaintext loopback listener is every role at once (development).
  if (caller->kind != Caller::Kind::kLocal && (rule->callers & BitOf(caller->kind)) == 0) {
    VMSCAN_LOG(WARNING) << method << " refused for " << caller->Describe() << ": only "
                        << RoleList(rule->callers) << " may call it";
    return absl::PermissionDeniedError(
        absl::StrCat(method, " is for ", RoleList(rule->callers), " only"));
  }
  if (Revoked(context)) {
    VMSCAN_LOG(WARNING) << method << " refused for " << caller->Describe()
                        << ": its certificate is revoked";
    return absl::PermissionDeniedError("the client certificate is revoked");
  }
  return caller;
}

absl::Status Authorizer::AuthorizeVm(const Caller& caller, absl::string_view method,
                                     absl::string_view claimed_vm_id) const {
  if (caller.administrator()) return absl::OkStatus();
  if (caller.kind == Caller::Kind::kVm && claimed_vm_id == caller.name) return absl::OkStatus();
  VMSCAN_LOG(WARNING) << method << " refused for " << caller.Describe() << ": it names VM '"
                      << claimed_vm_id << "'";
  return absl::PermissionDeniedError(
      absl::StrCat("this certificate is for ", caller.kind == Caller::Kind::kVm ? "VM " : "SVM ",
                   caller.name, "; it may not act for VM '", claimed_vm_id, "'"));
}

bool Authorizer::Revoked(const grpc::ServerContextBase& context) const {
  if (revoked_ == nullptr || !tls_) return false;
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  std::vector<grpc::string_ref> pems = auth->FindPropertyValues("x509_pem_cert");
  if (pems.empty()) return false;
  std::string pem(pems.front().data(), pems.front().size());
  std::string serial;
  {
    absl::MutexLock lock(&mu_);
    auto it = serials_.find(pem);
    if (it != serials_.end()) serial = it->second;
  }
  if (serial.empty()) {
    absl::StatusOr<CertificateInfo> info = CertificateInfoFromPem(pem, "peer certificate");
    if (!info.ok()) return true;  // the TLS stack accepted it, so this cannot happen; fail closed
    serial = info->serial_hex;
    absl::MutexLock lock(&mu_);
    if (serials_.size() >= kMaxCachedSerials) serials_.clear();
    serials_.emplace(std::move(pem), serial);
  }
  return revoked_->IsRevoked(serial);
}

}  // namespace vmscan
