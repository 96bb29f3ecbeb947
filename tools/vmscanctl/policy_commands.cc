// `vmscanctl policy ...`: Mail Anti-Virus policies over vmscan.v1.PolicyAdmin (control.proto).
// Keys and values are checked here first (settings_args.h), so that a typo is a usage error that
// names the key before anything reaches the server.
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tools/vmscanctl/cli.h"
#include "tools/vmscanctl/inventory_policy_client.h"
#include "tools/vmscanctl/inventory_policy_format.h"
#include "tools/vmscanctl/settings_args.h"
#include "tools/vmscanctl/terminal_text.h"
#include "tools/vmscanctl/vmscanctl.h"

namespace vmscan {
namespace {

std::unique_ptr<InventoryPolicyClient> Client(const Invocation& inv) {
  return InventoryPolicyClient::Create(inv.target());
}

// Who the policy history names: the administrator behind sudo, else the user (from the
// environment, else from the password database: cron and systemd set no $USER), else the uid.
std::string UpdatedBy() {
  for (const char* variable : {"SUDO_USER", "USER", "LOGNAME"}) {
    const char* name = getenv(variable);
    if (name != nullptr && *name != '\0') return name;
  }
  struct passwd entry;
  struct passwd* found = nullptr;
  char buffer[1024];
  if (getpwuid_r(getuid(), &entry, buffer, sizeof(buffer), &found) == 0 && found != nullptr &&
      found->pw_name != nullptr && *found->pw_name != '\0') {
    return found->pw_name;
  }
  return absl::StrCat("uid ", getuid());
}

// Reads --if-version into *version (0 when absent); false after printing a usage error.
bool IfVersion(const Invocation& inv, std::ostream& err, uint64_t* version) {
  *version = 0;
  auto option = inv.options.find("--if-version");
  if (option == inv.options.end()) return true;
  if (!absl::SimpleAtoi(option->second, version) || *version == 0) {
    Usage(err, absl::StrCat("--if-version wants a policy version > 0 (see 'vmscanctl policy "
                            "show'), not \"",
                            SanitizeForTerminal(option->second), "\""));
    return false;
  }
  return true;
}

// Sends the changes as one new version of the group's policy.
int Update(const Invocation& inv, const std::vector<v1::SettingChange>& changes, std::ostream& out,
           std::ostream& err) {
  const std::string& group = inv.args[0];
  v1::UpdatePolicyRequest request;
  request.set_group(group);
  for (const v1::SettingChange& change : changes) *request.add_changes() = change;
  uint64_t expected = 0;
  if (!IfVersion(inv, err, &expected)) return kCtlUsage;
  request.set_expected_version(expected);
  request.set_updated_by(UpdatedBy());
  absl::StatusOr<v1::Policy> policy = Client(inv)->UpdatePolicy(request);
  // ABORTED (changed since --if-version) comes with the server's advice to re-read and retry.
  if (!policy.ok()) return Fail(err, absl::StrCat(inv.name(), " ", group), policy.status());
  return WriteOut(out, err,
                  inv.json ? ToJson(*policy)
                           : absl::StrCat("policy of ", SanitizeForTerminal(policy->group()),
                                          " is now at version ", policy->version(), "\n"));
}

int Show(const Invocation& inv, std::ostream& out, std::ostream& err) {
  const std::string& group = inv.args[0];
  absl::StatusOr<v1::Policy> policy = Client(inv)->GetPolicy(group);
  if (!policy.ok()) return Fail(err, absl::StrCat(inv.name(), " ", group), policy.status());
  return WriteOut(out, err, inv.json ? ToJson(*policy) : FormatPolicy(*policy));
}

int Set(const Invocation& inv, std::ostream& out, std::ostream& err) {
  if (inv.has("--lock") && inv.has("--unlock")) {
    return Usage(err, "policy set: --lock or --unlock, not both");
  }
  const v1::SettingChange::Lock lock = inv.has("--lock")     ? v1::SettingChange::LOCK
                                       : inv.has("--unlock") ? v1::SettingChange::UNLOCK
                                                             : v1::SettingChange::KEEP;
  absl::StatusOr<std::vector<v1::SettingChange>> changes =
      ParseSetArgs(std::vector<std::string>(inv.args.begin() + 1, inv.args.end()), lock);
  if (!changes.ok()) return Usage(err, absl::StrCat("policy set: ", changes.status().message()));
  return Update(inv, *changes, out, err);
}

int Unset(const Invocation& inv, std::ostream& out, std::ostream& err) {
  absl::StatusOr<std::vector<v1::SettingChange>> changes =
      ParseUnsetArgs(std::vector<std::string>(inv.args.begin() + 1, inv.args.end()));
  if (!changes.ok()) return Usage(err, absl::StrCat("policy unset: ", changes.status().message()));
  if (inv.has("--unlock")) {
    for (v1::SettingChange& change : *changes) change.set_lock(v1::SettingChange::UNLOCK);
  }
  return Update(inv, *changes, out, err);
}

int History(const Invocation& inv, std::ostream& out, std::ostream& err) {
  const std::string& group = inv.args[0];
  uint32_t limit = 0;
  if (auto option = inv.options.find("--limit"); option != inv.options.end()) {
    if (!absl::SimpleAtoi(option->second, &limit) || limit == 0) {
      return Usage(err, absl::StrCat("--limit wants a number > 0, not \"",
                                     SanitizeForTerminal(option->second), "\""));
    }
  }
  absl::StatusOr<v1::ListPolicyHistoryResponse> history =
      Client(inv)->ListPolicyHistory(group, limit);
  if (!history.ok()) return Fail(err, absl::StrCat(inv.name(), " ", group), history.status());
  return WriteOut(out, err, inv.json ? ToJson(*history) : FormatPolicyHistory(*history));
}

constexpr ArgSpec kGroup = {"GROUP", "which group? (its path, e.g. \"Managed devices\")"};

}  // namespace

const std::vector<CommandSpec>& PolicyCommands() {
  static const auto* commands = new std::vector<CommandSpec>{
      {"show", {kGroup}, false, {}, Show},
      {"set",
       {kGroup, {"KEY=VALUE", "which settings? KEY=VALUE... (see 'vmscanctl --help')"}},
       true,
       {"--lock", "--unlock", "--if-version"},
       Set},
      {"unset",
       {kGroup, {"KEY", "which settings? KEY... (see 'vmscanctl --help')"}},
       true,
       {"--unlock", "--if-version"},
       Unset},
      {"history", {kGroup}, false, {"--limit"}, History},
  };
  return *commands;
}

}  // namespace vmscan
