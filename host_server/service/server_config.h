// The server's embedded defaults and the one place its configuration is validated.
#ifndef VMSCAN_HOST_SERVER_SERVICE_SERVER_CONFIG_H_
#define VMSCAN_HOST_SERVER_SERVICE_SERVER_CONFIG_H_

#include <cstdint>

#include "absl/status/status.h"
#include "vmscan/v1/config.pb.h"
#include "vmscan/v1/policy.pb.h"

namespace vmscan {

// Every field that has a default is set, so `--print-config` shows what the server will use.
v1::ServerConfig DefaultServerConfig();

// InvalidArgument naming the field and the allowed range on the first problem found.
absl::Status ValidateServerConfig(const v1::ServerConfig& config);

// The settings of a VM that no policy and no local setting changes (docs/design.md §4 "defaults"):
// the server config's mail_antivirus, limits and backup retention, Mail Anti-Virus enabled.
v1::MailAntivirusSettings DefaultVmSettings(const v1::ServerConfig& config);

// What one VM may hold of max_inflight_bytes (scheduler.max_vm_share_percent of it); 0: no
// per-VM bound (no total bound, or a share of 100%).
uint64_t MaxVmInflightBytes(const v1::ServerConfig& config);
// How many scans one VM may have waiting (its share of queue_depth, at least 1); 0: no bound.
int MaxVmQueuedScans(const v1::ServerConfig& config);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SERVICE_SERVER_CONFIG_H_
