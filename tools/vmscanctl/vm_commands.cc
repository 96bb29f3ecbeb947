// `vmscanctl vms ...`: the VM inventory over vmscan.v1.InventoryAdmin (control.proto).
#include <memory>
#include <ostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tools/vmscanctl/cli.h"
#include "tools/vmscanctl/inventory_policy_client.h"
#include "tools/vmscanctl/inventory_policy_format.h"
#include "tools/vmscanctl/terminal_text.h"

namespace vmscan {
namespace {

std::unique_ptr<InventoryPolicyClient> Client(const Invocation& inv) {
  return InventoryPolicyClient::Create(inv.target());
}

// "desk-7 (4c4c4544-...)", or the id alone when the VM has no name.
std::string VmName(const v1::VmRecord& vm) {
  if (vm.vm().name().empty()) return SanitizeForTerminal(vm.vm().id());
  return absl::StrCat(SanitizeForTerminal(vm.vm().name()), " (", SanitizeForTerminal(vm.vm().id()),
                      ")");
}

int List(const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto group = inv.options.find("--group");
  const bool recursive = inv.has("--recursive");
  if (recursive && group == inv.options.end()) {
    return Usage(err, "vms list: --recursive goes with --group GROUP");
  }
  const std::string group_path = group == inv.options.end() ? "" : group->second;
  absl::StatusOr<v1::ListVmsResponse> vms = Client(inv)->ListVms(group_path, recursive);
  if (!vms.ok()) {
    return Fail(err,
                group_path.empty() ? inv.name() : absl::StrCat(inv.name(), " --group ", group_path),
                vms.status());
  }
  return WriteOut(out, err, inv.json ? ToJson(*vms) : FormatVmTable(*vms, absl::Now()));
}

int Show(const Invocation& inv, std::ostream& out, std::ostream& err) {
  absl::StatusOr<v1::VmRecord> vm = Client(inv)->GetVm(inv.args[0]);
  if (!vm.ok()) return Fail(err, absl::StrCat(inv.name(), " ", inv.args[0]), vm.status());
  return WriteOut(out, err, inv.json ? ToJson(*vm) : FormatVmDetails(*vm, absl::Now()));
}

int Move(const Invocation& inv, std::ostream& out, std::ostream& err) {
  absl::StatusOr<v1::VmRecord> vm = Client(inv)->MoveVm(inv.args[0], inv.args[1]);
  if (!vm.ok()) {
    return Fail(err, absl::StrCat(inv.name(), " ", inv.args[0], " ", inv.args[1]), vm.status());
  }
  return WriteOut(out, err,
                  inv.json ? ToJson(*vm)
                           : absl::StrCat("moved VM ", VmName(*vm), " to group ",
                                          SanitizeForTerminal(vm->group()), "\n"));
}

int Delete(const Invocation& inv, std::ostream& out, std::ostream& err) {
  const std::string& vm = inv.args[0];
  if (absl::Status s = Client(inv)->DeleteVm(vm); !s.ok()) {
    return Fail(err, absl::StrCat(inv.name(), " ", vm), s);
  }
  return WriteOut(
      out, err,
      inv.json ? DeletedJson("vm", vm)
               : absl::StrCat("deleted VM ", SanitizeForTerminal(vm), " from the inventory\n"));
}

int Effective(const Invocation& inv, std::ostream& out, std::ostream& err) {
  absl::StatusOr<v1::VmSettings> settings = Client(inv)->GetEffectiveSettings(inv.args[0]);
  if (!settings.ok()) {
    return Fail(err, absl::StrCat(inv.name(), " ", inv.args[0]), settings.status());
  }
  return WriteOut(out, err, inv.json ? ToJson(*settings) : FormatEffectiveSettings(*settings));
}

constexpr ArgSpec kVm = {"VM", "which VM? (its id, or a name only one VM has)"};

}  // namespace

const std::vector<CommandSpec>& VmCommands() {
  static const auto* commands = new std::vector<CommandSpec>{
      {"list", {}, false, {"--group", "--recursive"}, List},
      {"show", {kVm}, false, {}, Show},
      {"move", {kVm, {"GROUP", "to which group? (its path)"}}, false, {}, Move},
      {"delete", {kVm}, false, {}, Delete},
      {"effective", {kVm}, false, {}, Effective},
  };
  return *commands;
}

}  // namespace vmscan
