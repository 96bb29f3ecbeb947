// `vmscanctl server ...`: the server's standard gRPC health and reflection services
// (tools/vmscanctl/probe_client.h), for probes and scripts.
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "tools/vmscanctl/cli.h"
#include "tools/vmscanctl/probe_client.h"
#include "tools/vmscanctl/terminal_text.h"
#include "tools/vmscanctl/vmscanctl.h"

namespace vmscan {
namespace {

// Exit 0 when SERVING; 2 when the server answers anything else (NOT_SERVING while it loads its
// signatures or drains); 1 for a service it does not know; 3 when it cannot be reached.
int Health(const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto service = inv.options.find("--service");
  const std::string name = service == inv.options.end() ? "" : service->second;
  absl::StatusOr<HealthStatus> status = ProbeClient::Create(inv.target())->Check(name);
  if (!status.ok()) {
    return Fail(err, name.empty() ? inv.name() : absl::StrCat(inv.name(), " --service ", name),
                status.status());
  }
  const std::string text = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(*status);
  google::protobuf::Struct json;
  (*json.mutable_fields())["service"].set_string_value(name);
  (*json.mutable_fields())["status"].set_string_value(text);
  const int written = WriteOut(out, err, inv.json ? ToJson(json) : text + "\n");
  if (written != kCtlOk) return written;
  return *status == grpc::health::v1::HealthCheckResponse::SERVING ? kCtlOk : kCtlServerError;
}

int Services(const Invocation& inv, std::ostream& out, std::ostream& err) {
  absl::StatusOr<std::vector<std::string>> services =
      ProbeClient::Create(inv.target())->ListServices();
  if (!services.ok()) return Fail(err, inv.name(), services.status());
  if (inv.json) {
    google::protobuf::Struct json;
    google::protobuf::ListValue* list = (*json.mutable_fields())["services"].mutable_list_value();
    for (const std::string& name : *services) list->add_values()->set_string_value(name);
    return WriteOut(out, err, ToJson(json));
  }
  std::string text;
  for (const std::string& name : *services) absl::StrAppend(&text, SanitizeForTerminal(name), "\n");
  return WriteOut(out, err, text);
}

}  // namespace

const std::vector<CommandSpec>& ServerCommands() {
  static const auto* commands = new std::vector<CommandSpec>{
      {"health", {}, false, {"--service"}, Health},
      {"services", {}, false, {}, Services},
  };
  return *commands;
}

}  // namespace vmscan
