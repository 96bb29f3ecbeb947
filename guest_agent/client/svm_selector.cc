#include "guest_agent/client/svm_selector.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace vmscan {

SvmSelector::SvmSelector(std::string own_hypervisor_host,
                         const std::vector<std::string>& configured, absl::Duration retry)
    : retry_(retry), own_host_(std::move(own_hypervisor_host)) {
  for (size_t i = 0; i < configured.size(); ++i) {
    View& view = svms_[configured[i]];
    if (view.configured_index >= 0) continue;  // listed twice: the first place counts
    view.info.set_address(configured[i]);
    view.info.set_load(-1);
    view.configured_index = static_cast<int>(i);
  }
}

void SvmSelector::SetOwnHypervisorHost(std::string host) {
  absl::MutexLock lock(&mu_);
  own_host_ = std::move(host);
}

int SvmSelector::Tier(const View& view, absl::Time now) {
  if (view.down && now < view.retry_at) return 2;
  return view.info.overloaded() ? 1 : 0;
}

std::vector<const SvmSelector::View*> SvmSelector::Sorted(absl::Time now) const {
  std::vector<const View*> out;
  for (const auto& [address, view] : svms_) out.push_back(&view);
  const std::string own_host = own_host_;  // read under mu_; the lambda below uses the copy
  auto key = [&](const View* v) {
    const bool own = !own_host.empty() && v->info.hypervisor_host() == own_host;
    // An SVM not heard from yet ranks after those whose load is known.
    const double load = v->info.load() < 0 ? 1e9 : v->info.load();
    const int configured = v->configured_index < 0 ? 1 << 30 : v->configured_index;
    return std::make_tuple(Tier(*v, now), !own, load, configured, v->info.address());
  };
  std::stable_sort(out.begin(), out.end(),
                   [&](const View* a, const View* b) { return key(a) < key(b); });
  return out;
}

std::vector<std::string> SvmSelector::Order(absl::Time now) const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const View* view : Sorted(now)) out.push_back(view->info.address());
  return out;
}

std::string SvmSelector::Reason(const View& view, absl::Time now) const {
  if (Tier(view, now) == 2) {
    return absl::StrCat("failed (", view.last_error, "); tried last until ",
                        absl::FormatTime("%H:%M:%S", view.retry_at, absl::UTCTimeZone()),
                        " or until it answers again");
  }
  std::string out;
  if (!own_host_.empty() && view.info.hypervisor_host() == own_host_) {
    out = "on this VM's hypervisor host";
  } else if (!view.info.hypervisor_host().empty()) {
    out = absl::StrCat("on hypervisor host ", view.info.hypervisor_host());
  } else {
    out = "hypervisor host not known yet";
  }
  if (view.info.load() >= 0) absl::StrAppendFormat(&out, ", load %.2f", view.info.load());
  if (view.info.overloaded()) absl::StrAppend(&out, ", queue nearly full");
  if (view.down) absl::StrAppend(&out, ", failed before (", view.last_error, "): retrying");
  return out;
}

std::vector<v1::SvmChoice> SvmSelector::Ranking(absl::Time now) const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<v1::SvmChoice> out;
  for (const View* view : Sorted(now)) {
    v1::SvmChoice choice;
    *choice.mutable_svm() = view->info;
    const int tier = Tier(*view, now);
    choice.set_state(tier == 2                    ? "down"
                     : tier == 1                  ? "overloaded"
                     : view->asked && !view->down ? "up"
                                                  : "unknown");
    choice.set_reason(Reason(*view, now));
    choice.set_configured(view->configured_index >= 0);
    choice.set_last_error(view->last_error);
    out.push_back(std::move(choice));
  }
  return out;
}

void SvmSelector::Refresh(const std::map<std::string, absl::StatusOr<v1::SvmList>>& answers,
                          bool discover, absl::Time now) {
  absl::MutexLock lock(&mu_);
  std::set<std::string> listed;
  bool any_answered = false;
  for (const auto& [address, answer] : answers) {
    auto it = svms_.find(address);
    if (it == svms_.end()) continue;  // dropped meanwhile
    View& view = it->second;
    view.asked = true;
    if (!answer.ok()) {
      view.down = true;
      view.retry_at = now + retry_;
      view.last_error = std::string(answer.status().message());
      continue;
    }
    any_answered = true;
    view.down = false;
    for (const v1::SvmInfo& info : answer->svms()) {
      if (info.self()) {
        view.info.set_hypervisor_host(info.hypervisor_host());
        view.info.set_load(info.load());
        view.info.set_overloaded(info.overloaded());
        listed.insert(address);
        if (info.address() != address) listed.insert(info.address());
        continue;
      }
      if (info.address().empty()) continue;
      listed.insert(info.address());
      auto peer = svms_.find(info.address());
      if (peer == svms_.end()) {
        if (!discover) continue;
        View& added = svms_[info.address()];
        added.info.set_address(info.address());
        added.info.set_hypervisor_host(info.hypervisor_host());
        added.info.set_load(-1);
        continue;
      }
      // What an SVM says of a peer never overrides what the peer said of itself.
      if (peer->second.info.hypervisor_host().empty()) {
        peer->second.info.set_hypervisor_host(info.hypervisor_host());
      }
    }
  }
  if (!discover || !any_answered) return;
  for (auto it = svms_.begin(); it != svms_.end();) {
    if (it->second.configured_index < 0 && listed.count(it->first) == 0) {
      it = svms_.erase(it);
    } else {
      ++it;
    }
  }
}

void SvmSelector::Failed(const std::string& address, const absl::Status& why, absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto it = svms_.find(address);
  if (it == svms_.end()) return;
  it->second.asked = true;
  it->second.down = true;
  it->second.retry_at = now + retry_;
  it->second.last_error = std::string(why.message());
}

void SvmSelector::Overloaded(const std::string& address) {
  absl::MutexLock lock(&mu_);
  auto it = svms_.find(address);
  if (it != svms_.end()) it->second.info.set_overloaded(true);  // until it says otherwise
}

void SvmSelector::Succeeded(const std::string& address) {
  absl::MutexLock lock(&mu_);
  auto it = svms_.find(address);
  if (it == svms_.end()) return;
  it->second.asked = true;
  it->second.down = false;
}

std::optional<std::string> SvmSelector::ChoiceChange(absl::Time now) {
  absl::MutexLock lock(&mu_);
  std::vector<const View*> sorted = Sorted(now);
  if (sorted.empty()) return std::nullopt;
  const View& first = *sorted.front();
  if (first.info.address() == reported_) return std::nullopt;
  std::string line =
      absl::StrCat("SVM choice: ", first.info.address(), " (", Reason(first, now), ")");
  if (!reported_.empty()) {
    auto was = svms_.find(reported_);
    absl::StrAppend(&line, "; was ", reported_,
                    was == svms_.end() ? " (no longer listed)"
                                       : absl::StrCat(" (", Reason(was->second, now), ")"));
  }
  reported_ = first.info.address();
  return line;
}

}  // namespace vmscan
