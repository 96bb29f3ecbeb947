#include "tools/vmscanctl/inventory_policy_format.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/settings/mail_settings.h"
#include "tools/vmscanctl/settings_args.h"
#include "tools/vmscanctl/terminal_text.h"

namespace vmscan {
namespace {

std::string State(v1::ConnectionState::Value state) {
  switch (state) {
    case v1::ConnectionState::CONNECTED:
      return "connected";
    case v1::ConnectionState::DISCONNECTED:
      return "disconnected";
    default:
      return "unknown";
  }
}

// "hv1/kvm"; "-" for an unknown part.
std::string Hypervisor(const v1::VmRecord& vm) {
  return absl::StrCat(DisplayText(vm.vm().hypervisor_host()), "/",
                      DisplayText(vm.hypervisor_type()));
}

std::string Lines(const std::vector<std::pair<std::string, std::string>>& fields, int width) {
  std::string out;
  for (const auto& [name, value] : fields) {
    absl::StrAppend(&out, absl::StrFormat("%-*s%s\n", width, name, value));
  }
  return out;
}

std::string Plural(size_t n, absl::string_view one, absl::string_view many) {
  return absl::StrCat(n, " ", n == 1 ? one : many);
}

}  // namespace

std::string FormatAgo(int64_t unix_micros, absl::Time now) {
  if (unix_micros == 0) return "never";
  const absl::Duration age = now - absl::FromUnixMicros(unix_micros);
  if (age < -absl::Seconds(1)) return "in the future";
  if (age < absl::Seconds(1)) return "just now";
  if (age < absl::Minutes(1)) return absl::StrCat(absl::ToInt64Seconds(age), "s ago");
  if (age < absl::Hours(1)) return absl::StrCat(absl::ToInt64Minutes(age), "m ago");
  if (age < absl::Hours(48)) return absl::StrCat(absl::ToInt64Hours(age), "h ago");
  return absl::StrCat(absl::ToInt64Hours(age) / 24, "d ago");
}

std::string FormatSource(const v1::SettingSource& source) {
  switch (source.kind()) {
    case v1::SettingSource::DEFAULT:
      return "default";
    case v1::SettingSource::POLICY:
      return absl::StrCat("policy of ", DisplayText(source.group()));
    case v1::SettingSource::LOCKED:
      return absl::StrCat("locked by ", DisplayText(source.group()));
    case v1::SettingSource::LOCAL:
      return "local";
    default:
      return "?";
  }
}

std::string FormatGroupTable(const v1::ListGroupsResponse& response) {
  if (response.groups().empty()) return "no groups\n";
  // Tree order: comparing paths as strings would put "Finance Team" between "Finance" and
  // "Finance/Desktops" (' ' sorts before '/'); comparing their names level by level does not.
  std::vector<std::pair<std::vector<std::string>, const v1::Group*>> sorted;
  for (const v1::Group& g : response.groups()) {
    sorted.emplace_back(absl::StrSplit(g.path(), '/'), &g);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::vector<std::string>> rows = {{"PATH", "VMS", "SUBGROUPS", "POLICY"}};
  for (const auto& [unused, g] : sorted) {
    rows.push_back({DisplayText(g->path()), absl::StrCat(g->vm_count()),
                    absl::StrCat(g->child_count()), g->has_policy() ? "yes" : "no"});
  }
  return AlignedTable(rows, {false, true, true, false}) +
         Plural(response.groups_size(), "group", "groups") + "\n";
}

std::string FormatVmTable(const v1::ListVmsResponse& response, absl::Time now) {
  if (response.vms().empty()) return "no VMs\n";
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "ID", "GROUP", "STATE", "LAST SEEN", "ACTION", "HYPERVISOR", "AGENT"}};
  for (const v1::VmRecord& vm : response.vms()) {
    rows.push_back({DisplayText(vm.vm().name()), DisplayText(vm.vm().id()), DisplayText(vm.group()),
                    State(vm.state()), FormatAgo(vm.last_seen_unix_micros(), now),
                    DisplayText(vm.effective_action()), Hypervisor(vm),
                    DisplayText(vm.agent_version())});
  }
  return AlignedTable(rows, std::vector<bool>(8, false)) +
         Plural(response.vms_size(), "VM", "VMs") + "\n";
}

std::string FormatVmDetails(const v1::VmRecord& vm, absl::Time now) {
  auto when = [&](int64_t micros) {
    return micros == 0 ? std::string("never")
                       : absl::StrCat(FormatUtc(micros), " UTC (", FormatAgo(micros, now), ")");
  };
  return Lines(
      {
          {"id", DisplayText(vm.vm().id())},
          {"name", DisplayText(vm.vm().name())},
          {"group",
           absl::StrCat(DisplayText(vm.group()),
                        vm.placed_by_admin() ? " (moved by an administrator)"
                                             : " (placed automatically: by a rule or as default)")},
          {"state", State(vm.state())},
          {"last seen", when(vm.last_seen_unix_micros())},
          {"registered", when(vm.registered_unix_micros())},
          {"action", DisplayText(vm.effective_action())},
          {"hypervisor", absl::StrCat("host ", DisplayText(vm.vm().hypervisor_host()), ", type ",
                                      DisplayText(vm.hypervisor_type()))},
          {"agent", DisplayText(vm.agent_version())},
      },
      12);
}

std::string FormatEffectiveSettings(const v1::VmSettings& settings) {
  std::string out = absl::StrCat("vm     ", DisplayText(settings.vm().id()));
  if (!settings.vm().name().empty())
    absl::StrAppend(&out, " (", DisplayText(settings.vm().name()), ")");
  absl::StrAppend(&out, "\ngroup  ", DisplayText(settings.group()), "\n\n");
  std::vector<std::vector<std::string>> rows = {{"KEY", "VALUE", "SOURCE"}};
  for (const v1::EffectiveSetting& s : settings.effective()) {
    rows.push_back({DisplayText(s.key()), DisplayText(s.value()), FormatSource(s.source())});
  }
  return out + AlignedTable(rows, {false, false, false});
}

std::string FormatPolicy(const v1::Policy& policy) {
  std::string out = absl::StrCat("group    ", DisplayText(policy.group()), "\n");
  if (policy.version() == 0) {
    return out + "version  0: no policy, every setting is inherited\n";
  }
  absl::StrAppend(&out, "version  ", policy.version(), ", updated ",
                  FormatUtc(policy.updated_unix_micros()), " UTC by ",
                  DisplayText(policy.updated_by()), "\n\n");
  std::vector<std::vector<std::string>> rows = {{"KEY", "VALUE", "LOCKED"}};
  auto locked = [&](const std::string& key) {
    return std::find(policy.locked().begin(), policy.locked().end(), key) != policy.locked().end();
  };
  const std::vector<std::pair<std::string, std::string>> set = SetSettings(policy.settings());
  for (const std::string& key : SettingKeys()) {
    auto it = std::find_if(set.begin(), set.end(), [&](const auto& kv) { return kv.first == key; });
    if (it != set.end()) {
      rows.push_back({key, SanitizeForTerminal(it->second), locked(key) ? "yes" : "no"});
    } else if (locked(key)) {
      rows.push_back({key, "(inherited)", "yes"});
    }
  }
  if (rows.size() == 1) return out + "the policy sets and locks nothing\n";
  return out + AlignedTable(rows, {false, false, false});
}

std::string FormatPolicyHistory(const v1::ListPolicyHistoryResponse& response) {
  if (response.versions().empty()) return "no versions: the group never had a policy\n";
  std::vector<std::vector<std::string>> rows = {
      {"VERSION", "UPDATED (UTC)", "BY", "SETTINGS", "LOCKED"}};
  for (const v1::Policy& p : response.versions()) {
    std::vector<std::string> settings;
    for (const auto& [key, value] : SetSettings(p.settings())) {
      settings.push_back(absl::StrCat(key, "=", SanitizeForTerminal(value)));
    }
    std::vector<std::string> locked;
    for (const std::string& key : p.locked()) locked.push_back(SanitizeForTerminal(key));
    rows.push_back({absl::StrCat(p.version()), FormatUtc(p.updated_unix_micros()),
                    DisplayText(p.updated_by()),
                    settings.empty() ? "-" : absl::StrJoin(settings, ", "),
                    locked.empty() ? "-" : absl::StrJoin(locked, ", ")});
  }
  return AlignedTable(rows, {true, false, false, false, false});
}

std::string FormatRuleTable(const v1::ListRulesResponse& response) {
  std::string out;
  if (response.rules().empty()) {
    out = "no assignment rules\n";
  } else {
    std::vector<std::vector<std::string>> rows = {{"POS", "ID", "VM NAME", "HOST", "GROUP"}};
    for (const v1::AssignmentRule& r : response.rules()) {
      auto pattern = [](const std::string& p) {
        return p.empty() ? std::string("(any)") : SanitizeForTerminal(p);
      };
      rows.push_back({absl::StrCat(r.position()), DisplayText(r.id()), pattern(r.vm_name_pattern()),
                      pattern(r.hypervisor_host_pattern()), DisplayText(r.group())});
    }
    out = AlignedTable(rows, {true, false, false, false, false});
  }
  return absl::StrCat(out, "VMs no rule matches go to: ", DisplayText(response.default_group()),
                      "\n");
}

}  // namespace vmscan
