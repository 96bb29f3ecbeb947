// SvmSelector: the order in which the agent tries its SVMs (docs/design.md §6.1).
//
//   SvmSelector selector("esx-1", {"10.0.0.5:7350", "10.0.0.6:7350"}, absl::Seconds(10));
//   for (const std::string& address : selector.Order(absl::Now())) { ... scan there ... }
//   selector.Failed(address, status, absl::Now());   // skipped for retry, tried last meanwhile
//   selector.Refresh(answers, /*discover=*/true, absl::Now());  // loads, peers, comebacks
//
// Order: SVMs that answer and are not overloaded, then overloaded ones, then those that failed
// within `retry` (still tried, last: an SVM never becomes unusable); within each, the SVMs of
// this VM's own hypervisor host first, then the least loaded, then as configured. Refresh() is
// how a failed SVM comes back before `retry` passes: it answered the directory call.
//
// Pure bookkeeping (no I/O), so the rules are unit-tested; ScanClient does the calls.
// Thread-safe.
#ifndef VMSCAN_GUEST_AGENT_CLIENT_SVM_SELECTOR_H_
#define VMSCAN_GUEST_AGENT_CLIENT_SVM_SELECTOR_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "vmscan/v1/directory.pb.h"

namespace vmscan {

class SvmSelector {
 public:
  SvmSelector(std::string own_hypervisor_host, const std::vector<std::string>& configured,
              absl::Duration retry);

  void SetOwnHypervisorHost(std::string host);

  // Every known SVM's address, in the order to try now.
  std::vector<std::string> Order(absl::Time now) const;
  // The same with what the agent knows of each and why it ranks there.
  std::vector<v1::SvmChoice> Ranking(absl::Time now) const;

  // The answers of one refresh round: ListSvms of each SVM asked (an error for those that did
  // not answer). With `discover`, SVMs that answering SVMs list are added; learned SVMs that no
  // answering SVM lists any more are dropped (configured ones stay).
  void Refresh(const std::map<std::string, absl::StatusOr<v1::SvmList>>& answers, bool discover,
               absl::Time now);

  void Failed(const std::string& address, const absl::Status& why, absl::Time now);
  void Overloaded(const std::string& address);  // it refused a scan: queue full
  void Succeeded(const std::string& address);

  // When the first choice differs from the one last reported: a line for the log saying what
  // it is now, why, and what it was. Nothing when it is unchanged.
  std::optional<std::string> ChoiceChange(absl::Time now);

 private:
  struct View {
    v1::SvmInfo info;  // load -1 until the SVM itself answered
    int configured_index = -1;
    bool asked = false;  // answered or failed at least once
    bool down = false;
    absl::Time retry_at;
    std::string last_error;
  };
  // 0 up, 1 overloaded, 2 down (before retry_at).
  static int Tier(const View& view, absl::Time now);
  std::vector<const View*> Sorted(absl::Time now) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  std::string Reason(const View& view, absl::Time now) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const absl::Duration retry_;
  mutable absl::Mutex mu_;
  std::string own_host_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, View> svms_ ABSL_GUARDED_BY(mu_);
  std::string reported_ ABSL_GUARDED_BY(mu_);  // the first choice ChoiceChange last named
};

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_CLIENT_SVM_SELECTOR_H_
