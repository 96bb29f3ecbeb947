#include "host_server/engine/clamav_verdict.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace vmscan {
namespace {

constexpr absl::string_view kEncryptedPrefix = "Heuristics.Encrypted.";
constexpr absl::string_view kLimitsPrefix = "Heuristics.Limits.Exceeded.";
constexpr absl::string_view kScanTimeAlert = "Heuristics.Limits.Exceeded.MaxScanTime";

template <typename T>
bool Contains(const std::vector<T>& items, absl::string_view item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

class VerdictBuilder {
 public:
  void AddThreat(absl::string_view name) {
    if (!Contains(verdict_.threats, name)) verdict_.threats.emplace_back(name);
  }

  void AddUnscannable(v1::UnscannableReason reason, absl::string_view detail) {
    if (!verdict_.unscannable.has_value()) verdict_.unscannable = reason;
    if (Contains(details_, detail)) return;
    details_.emplace_back(detail);
    if (!verdict_.unscannable_detail.empty()) verdict_.unscannable_detail += "; ";
    absl::StrAppend(&verdict_.unscannable_detail, detail);
  }

  bool has_alerts() const { return !verdict_.threats.empty() || !details_.empty(); }

  EngineVerdict Build() && { return std::move(verdict_); }

 private:
  EngineVerdict verdict_;
  std::vector<std::string> details_;
};

}  // namespace

EngineVerdict ClamavVerdict(cl_error_t rc, const std::vector<std::string>& alerts,
                            absl::string_view logged_error, absl::string_view callback_detail) {
  VerdictBuilder builder;
  for (const std::string& name : alerts) {
    if (absl::StartsWith(name, kEncryptedPrefix)) {
      builder.AddUnscannable(v1::ENCRYPTED, name);
    } else if (name == kScanTimeAlert) {
      builder.AddUnscannable(v1::TIMEOUT, name);
    } else if (absl::StartsWith(name, kLimitsPrefix)) {
      builder.AddUnscannable(v1::LIMITS_EXCEEDED, name);
    } else if (name == kCallbackAlert) {
      builder.AddUnscannable(v1::LIMITS_EXCEEDED,
                             callback_detail.empty() ? absl::string_view(name) : callback_detail);
    } else {
      builder.AddThreat(name);
    }
  }

  switch (rc) {
    case CL_CLEAN:
    case CL_VERIFIED:
    case CL_BREAK:
      break;
    case CL_VIRUS:
      if (!builder.has_alerts()) {
        builder.AddUnscannable(v1::ENGINE_ERROR, "libclamav reported a detection without a name");
      }
      break;
    case CL_ETIMEOUT:
      builder.AddUnscannable(v1::TIMEOUT, cl_strerror(rc));
      break;
    case CL_EMAXSIZE:
    case CL_EMAXFILES:
    case CL_EMAXREC:
      builder.AddUnscannable(v1::LIMITS_EXCEEDED, cl_strerror(rc));
      break;
    default:
      builder.AddUnscannable(v1::ENGINE_ERROR, cl_strerror(rc));
      break;
  }

  if (!logged_error.empty()) {
    builder.AddUnscannable(v1::ENGINE_ERROR, absl::StrCat("libclamav: ", logged_error));
  }
  return std::move(builder).Build();
}

}  // namespace vmscan
