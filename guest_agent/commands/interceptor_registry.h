// The interceptor kinds `vmscan-agent run` knows, one entry each: whether the config enables it
// and how to start it. A new kind (POP3, IMAP) is one entry in interceptor_registry.cc and its
// own folder implementing Interceptor (guest_agent/interceptor/interceptor.h).
//
//   absl::StatusOr<std::vector<std::unique_ptr<Interceptor>>> started =
//       StartInterceptors(InterceptorKinds(), {config, vm, scan});
//   for (auto& i : *started) i->Stop(grace);
//
// Thread-compatible; the table itself is immutable.
#ifndef VMSCAN_GUEST_AGENT_COMMANDS_INTERCEPTOR_REGISTRY_H_
#define VMSCAN_GUEST_AGENT_COMMANDS_INTERCEPTOR_REGISTRY_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "guest_agent/interceptor/interceptor.h"
#include "vmscan/v1/config.pb.h"

namespace vmscan {

struct InterceptorKind {
  const char* name;        // as Interceptor::name() says it: "smtp-proxy"
  const char* config_key;  // the key that enables it: "smtp_proxy.listen"
  bool (*configured)(const v1::AgentConfig& config);
  absl::StatusOr<std::unique_ptr<Interceptor>> (*start)(const InterceptorContext& context);
};

// Every kind, in the order they start (and stop).
const std::vector<InterceptorKind>& InterceptorKinds();

// Starts each of `kinds` the config of `context` enables, in order, and returns them (possibly
// none). When one cannot start, those already started are stopped at once and its error is
// returned with its name in front ("smtp-proxy: cannot listen on ...").
absl::StatusOr<std::vector<std::unique_ptr<Interceptor>>> StartInterceptors(
    const std::vector<InterceptorKind>& kinds, const InterceptorContext& context);

}  // namespace vmscan

#endif  // VMSCAN_GUEST_AGENT_COMMANDS_INTERCEPTOR_REGISTRY_H_
