// Internals shared by the ControlPlane's source files (control_plane*.cc); not for other callers.
#ifndef VMSCAN_HOST_SERVER_CONTROL_CONTROL_PLANE_INTERNAL_H_
#define VMSCAN_HOST_SERVER_CONTROL_CONTROL_PLANE_INTERNAL_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "host_server/control/control_plane.h"

namespace vmscan {
namespace control_internal {

inline constexpr int kMaxAttempts = 8;
inline constexpr absl::Duration kPersistLastSeenEvery = absl::Minutes(1);

// A random 64-bit id in hex: group, rule.
inline std::string NewId() {
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* gen = new absl::BitGen();
  absl::MutexLock lock(&mu);
  return absl::StrFormat("%016x", absl::Uniform<uint64_t>(*gen));
}

inline int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

template <typename T>
std::string Key(const char* prefix, const T& id) {
  return absl::StrCat(prefix, id);
}

}  // namespace control_internal

template <typename T>
absl::StatusOr<T> ControlPlane::Mutate(const char* what, TxnBody<T> body) {
  // Changes made through this SVM queue up here; the epoch comparison below catches the ones
  // made elsewhere (another SVM on a shared store) between our read and our commit.
  absl::MutexLock serialize(&mutate_mu_);
  for (int attempt = 0; attempt < control_internal::kMaxAttempts; ++attempt) {
    if (attempt > 0) absl::SleepFor(absl::Milliseconds(5 << std::min(attempt, 6)));
    VMSCAN_ASSIGN_OR_RETURN(ControlState state, ControlState::Load(*store_));
    std::vector<Op> ops;
    VMSCAN_ASSIGN_OR_RETURN(T result, body(state, ops));
    if (ops.empty()) return result;
    ops.push_back(Op::Put(control_keys::kEpoch, ""));
    VMSCAN_ASSIGN_OR_RETURN(
        TxnResult committed,
        store_->Commit({Compare::ModRevision(control_keys::kEpoch, state.epoch_revision)}, ops));
    if (committed.ok) {
      WaitForRevision(committed.revision);
      return result;
    }
    VMSCAN_LOG(DEBUG) << what << ": concurrent change, retrying";
  }
  return absl::AbortedError(
      absl::StrCat("cannot ", what, ": the control plane keeps changing concurrently; retry"));
}

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_CONTROL_CONTROL_PLANE_INTERNAL_H_
