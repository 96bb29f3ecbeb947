// Early-return helpers for absl::Status / absl::StatusOr (Abseil 20220623 ships none).
//
//   absl::StatusOr<Config> Load(const std::string& path) {
//     VMSCAN_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
//     VMSCAN_RETURN_IF_ERROR(Validate(text));
//     ...
//   }
#ifndef VMSCAN_COMMON_STATUS_MACROS_H_
#define VMSCAN_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define VMSCAN_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status vmscan_status_ = (expr);          \
    if (!vmscan_status_.ok()) return vmscan_status_; \
  } while (0)

#define VMSCAN_STATUS_CONCAT_INNER_(a, b) a##b
#define VMSCAN_STATUS_CONCAT_(a, b) VMSCAN_STATUS_CONCAT_INNER_(a, b)

#define VMSCAN_ASSIGN_OR_RETURN(lhs, rexpr) \
  VMSCAN_ASSIGN_OR_RETURN_IMPL_(VMSCAN_STATUS_CONCAT_(vmscan_statusor_, __LINE__), lhs, rexpr)

#define VMSCAN_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                  \
  if (!statusor.ok()) return statusor.status();             \
  lhs = std::move(statusor).value()

#endif  // VMSCAN_COMMON_STATUS_MACROS_H_
