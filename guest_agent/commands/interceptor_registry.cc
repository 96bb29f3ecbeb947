#include "guest_agent/commands/interceptor_registry.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "guest_agent/milter/milter_server.h"
#include "guest_agent/smtp_proxy/smtp_proxy.h"

namespace vmscan {
namespace {

// Start() of `T` as a factory of the interface.
template <typename T>
absl::StatusOr<std::unique_ptr<Interceptor>> Start(const InterceptorContext& context) {
  absl::StatusOr<std::unique_ptr<T>> started = T::Start(context);
  if (!started.ok()) return started.status();
  return std::unique_ptr<Interceptor>(std::move(*started));
}

}  // namespace

const std::vector<InterceptorKind>& InterceptorKinds() {
  static const auto* kinds = new std::vector<InterceptorKind>{
      {"smtp-proxy", "smtp_proxy.listen",
       [](const v1::AgentConfig& c) { return !c.smtp_proxy().listen().empty(); },
       &Start<SmtpProxy>},
      {"milter", "milter.listen",
       [](const v1::AgentConfig& c) { return !c.milter().listen().empty(); }, &Start<MilterServer>},
  };
  return *kinds;
}

absl::StatusOr<std::vector<std::unique_ptr<Interceptor>>> StartInterceptors(
    const std::vector<InterceptorKind>& kinds, const InterceptorContext& context) {
  std::vector<std::unique_ptr<Interceptor>> started;
  for (const InterceptorKind& kind : kinds) {
    if (!kind.configured(context.config)) continue;
    absl::StatusOr<std::unique_ptr<Interceptor>> interceptor = kind.start(context);
    if (!interceptor.ok()) {
      for (std::unique_ptr<Interceptor>& running : started) running->Stop(absl::ZeroDuration());
      return absl::Status(interceptor.status().code(),
                          absl::StrCat(kind.name, ": ", interceptor.status().message()));
    }
    started.push_back(std::move(*interceptor));
  }
  return started;
}

}  // namespace vmscan
