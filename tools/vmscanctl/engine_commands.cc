// `vmscanctl engine ...`: the SVM's scan engine over vmscan.v1.EngineAdmin (admin.proto):
// `status` shows the signature set serving and the last reload; `reload` loads the signatures
// again and waits for the outcome (docs/design.md §6).
#include <algorithm>
#include <memory>
#include <ostream>
#include <string>

#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "tools/vmscanctl/cli.h"
#include "tools/vmscanctl/engine_format.h"
#include "tools/vmscanctl/server_channel.h"
#include "tools/vmscanctl/terminal_text.h"
#include "tools/vmscanctl/vmscanctl.h"
#include "vmscan/v1/admin.grpc.pb.h"

namespace vmscan {
namespace {

// `reload` waits for a compile that takes tens of seconds with the official database: at least
// this long, whatever --timeout says.
constexpr absl::Duration kReloadTimeout = absl::Minutes(5);

template <typename Request>
absl::StatusOr<v1::EngineStatus> Call(
    const ServerTarget& target,
    grpc::Status (v1::EngineAdmin::Stub::*method)(grpc::ClientContext*, const Request&,
                                                  v1::EngineStatus*)) {
  ServerChannel channel(target);
  std::unique_ptr<v1::EngineAdmin::Stub> stub = v1::EngineAdmin::NewStub(channel.channel());
  grpc::ClientContext context;
  VMSCAN_RETURN_IF_ERROR(channel.Prepare(context));
  v1::EngineStatus status;
  VMSCAN_RETURN_IF_ERROR(FromGrpcStatus(((*stub).*method)(&context, Request(), &status)));
  return status;
}

int Status(const Invocation& inv, std::ostream& out, std::ostream& err) {
  absl::StatusOr<v1::EngineStatus> status =
      Call(inv.target(), &v1::EngineAdmin::Stub::GetEngineStatus);
  if (!status.ok()) return Fail(err, inv.name(), status.status());
  return WriteOut(out, err, inv.json ? ToJson(*status) : FormatEngineStatus(*status));
}

// Exit 0 when the new signatures serve, 2 when they failed to load (the old ones still serve).
int Reload(const Invocation& inv, std::ostream& out, std::ostream& err) {
  ServerTarget target = inv.target();
  target.timeout = std::max(target.timeout, kReloadTimeout);
  absl::StatusOr<v1::EngineStatus> status = Call(target, &v1::EngineAdmin::Stub::ReloadEngine);
  if (!status.ok()) return Fail(err, inv.name(), status.status());
  int rc = WriteOut(out, err, inv.json ? ToJson(*status) : FormatReloadOutcome(*status));
  if (rc != kCtlOk) return rc;
  if (!status->last_reload().ok()) {
    if (inv.json)
      err << "vmscanctl: engine reload failed: "
          << SanitizeForTerminal(status->last_reload().error()) << "\n";
    return kCtlServerError;
  }
  return kCtlOk;
}

}  // namespace

const std::vector<CommandSpec>& EngineCommands() {
  static const auto* commands = new std::vector<CommandSpec>{
      {"status", {}, false, {}, Status},
      {"reload", {}, false, {}, Reload},
  };
  return *commands;
}

}  // namespace vmscan
