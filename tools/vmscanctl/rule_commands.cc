// `vmscanctl rules ...`: the assignment rules over vmscan.v1.InventoryAdmin (control.proto).
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/vmscanctl/cli.h"
#include "tools/vmscanctl/inventory_policy_client.h"
#include "tools/vmscanctl/inventory_policy_format.h"
#include "tools/vmscanctl/terminal_text.h"

namespace vmscan {
namespace {

std::unique_ptr<InventoryPolicyClient> Client(const Invocation& inv) {
  return InventoryPolicyClient::Create(inv.target());
}

std::string Option(const Invocation& inv, const std::string& name) {
  auto it = inv.options.find(name);
  return it == inv.options.end() ? "" : it->second;
}

int List(const Invocation& inv, std::ostream& out, std::ostream& err) {
  absl::StatusOr<v1::ListRulesResponse> rules = Client(inv)->ListRules();
  if (!rules.ok()) return Fail(err, inv.name(), rules.status());
  return WriteOut(out, err, inv.json ? ToJson(*rules) : FormatRuleTable(*rules));
}

int Add(const Invocation& inv, std::ostream& out, std::ostream& err) {
  v1::AssignmentRule rule;
  rule.set_group(Option(inv, "--group"));
  rule.set_vm_name_pattern(Option(inv, "--name"));
  rule.set_hypervisor_host_pattern(Option(inv, "--host"));
  if (rule.group().empty()) return Usage(err, "rules add: into which group? --group GROUP");
  if (rule.vm_name_pattern().empty() && rule.hypervisor_host_pattern().empty()) {
    return Usage(err, "rules add: match on what? --name PATTERN and/or --host PATTERN");
  }
  if (inv.has("--position")) {
    uint32_t position = 0;
    if (!absl::SimpleAtoi(Option(inv, "--position"), &position)) {
      return Usage(err, absl::StrCat("--position wants a number >= 0, not \"",
                                     SanitizeForTerminal(Option(inv, "--position")), "\""));
    }
    rule.set_position(position);
  }
  absl::StatusOr<v1::AssignmentRule> added = Client(inv)->AddRule(rule);
  if (!added.ok()) return Fail(err, inv.name(), added.status());
  std::vector<std::string> conditions;
  if (!added->vm_name_pattern().empty()) {
    conditions.push_back("name " + SanitizeForTerminal(added->vm_name_pattern()));
  }
  if (!added->hypervisor_host_pattern().empty()) {
    conditions.push_back("host " + SanitizeForTerminal(added->hypervisor_host_pattern()));
  }
  return WriteOut(
      out, err,
      inv.json ? ToJson(*added)
               : absl::StrCat("added rule ", SanitizeForTerminal(added->id()), " at position ",
                              added->position(), ": VMs with ", absl::StrJoin(conditions, " and "),
                              " go to ", SanitizeForTerminal(added->group()), "\n"));
}

int Delete(const Invocation& inv, std::ostream& out, std::ostream& err) {
  const std::string& id = inv.args[0];
  if (absl::Status s = Client(inv)->DeleteRule(id); !s.ok()) {
    return Fail(err, absl::StrCat(inv.name(), " ", id), s);
  }
  return WriteOut(out, err,
                  inv.json ? DeletedJson("id", id)
                           : absl::StrCat("deleted rule ", SanitizeForTerminal(id), "\n"));
}

}  // namespace

const std::vector<CommandSpec>& RuleCommands() {
  static const auto* commands = new std::vector<CommandSpec>{
      {"list", {}, false, {}, List},
      {"add", {}, false, {"--group", "--name", "--host", "--position"}, Add},
      {"delete", {{"ID", "which rule id? (see 'vmscanctl rules list')"}}, false, {}, Delete},
  };
  return *commands;
}

}  // namespace vmscan
