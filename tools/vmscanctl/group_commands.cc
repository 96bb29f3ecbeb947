// `vmscanctl groups ...`: the group tree over vmscan.v1.InventoryAdmin (control.proto).
#include <memory>
#include <ostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "tools/vmscanctl/cli.h"
#include "tools/vmscanctl/inventory_policy_client.h"
#include "tools/vmscanctl/inventory_policy_format.h"
#include "tools/vmscanctl/terminal_text.h"

namespace vmscan {
namespace {

std::unique_ptr<InventoryPolicyClient> Client(const Invocation& inv) {
  return InventoryPolicyClient::Create(inv.target());
}

int List(const Invocation& inv, std::ostream& out, std::ostream& err) {
  absl::StatusOr<v1::ListGroupsResponse> groups = Client(inv)->ListGroups();
  if (!groups.ok()) return Fail(err, inv.name(), groups.status());
  return WriteOut(out, err, inv.json ? ToJson(*groups) : FormatGroupTable(*groups));
}

int Create(const Invocation& inv, std::ostream& out, std::ostream& err) {
  const std::string& path = inv.args[0];
  absl::StatusOr<v1::Group> group = Client(inv)->CreateGroup(path);
  if (!group.ok()) return Fail(err, absl::StrCat(inv.name(), " ", path), group.status());
  return WriteOut(out, err,
                  inv.json
                      ? ToJson(*group)
                      : absl::StrCat("created group ", SanitizeForTerminal(group->path()), "\n"));
}

int Delete(const Invocation& inv, std::ostream& out, std::ostream& err) {
  const std::string& path = inv.args[0];
  if (absl::Status s = Client(inv)->DeleteGroup(path); !s.ok()) {
    return Fail(err, absl::StrCat(inv.name(), " ", path), s);
  }
  return WriteOut(out, err,
                  inv.json ? DeletedJson("path", path)
                           : absl::StrCat("deleted group ", SanitizeForTerminal(path), "\n"));
}

int Rename(const Invocation& inv, std::ostream& out, std::ostream& err) {
  const std::string& path = inv.args[0];
  absl::StatusOr<v1::Group> group = Client(inv)->RenameGroup(path, inv.args[1]);
  if (!group.ok()) {
    return Fail(err, absl::StrCat(inv.name(), " ", path, " ", inv.args[1]), group.status());
  }
  return WriteOut(out, err,
                  inv.json ? ToJson(*group)
                           : absl::StrCat("renamed group ", SanitizeForTerminal(path), " to ",
                                          SanitizeForTerminal(group->path()), "\n"));
}

}  // namespace

const std::vector<CommandSpec>& GroupCommands() {
  static const auto* commands = new std::vector<CommandSpec>{
      {"list", {}, false, {}, List},
      {"create",
       {{"PATH", "which group path? (e.g. \"Managed devices/Finance\")"}},
       false,
       {},
       Create},
      {"delete", {{"PATH", "which group path?"}}, false, {}, Delete},
      {"rename",
       {{"PATH", "which group path?"}, {"NEW_PATH", "to which new path?"}},
       false,
       {},
       Rename},
  };
  return *commands;
}

}  // namespace vmscan
