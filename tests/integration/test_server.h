// Starts a real HostServer (real gRPC on a free loopback port, real libclamav with the bundled
// signatures, real LMDB) in the test process, with its state in a fresh temp dir.
#ifndef VMSCAN_TESTS_INTEGRATION_TEST_SERVER_H_
#define VMSCAN_TESTS_INTEGRATION_TEST_SERVER_H_

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "guest_agent/client/scan_client.h"
#include "host_server/service/host_server.h"
#include "vmscan/v1/config.pb.h"

namespace vmscan::testing {

// Defaults of DefaultServerConfig() with a temp state_dir, port 0 and the bundled signatures;
// `sets` are applied like --set.
absl::StatusOr<v1::ServerConfig> TestServerConfig(const std::vector<std::string>& sets = {});

absl::StatusOr<std::unique_ptr<HostServer>> StartTestServer(
    const std::vector<std::string>& sets = {});

std::unique_ptr<ScanClient> ClientFor(const HostServer& server);

v1::ScanMetadata TestMetadata(v1::Channel channel = v1::CLI,
                              v1::Direction direction = v1::INCOMING);

}  // namespace vmscan::testing

#endif  // VMSCAN_TESTS_INTEGRATION_TEST_SERVER_H_
