// OpenSSL contexts for the agent's interceptors: a server context from a PEM certificate chain
// and key (STARTTLS offered to mail clients), and a client context (STARTTLS to an upstream),
// verifying the peer against a CA bundle when one is given. TLS 1.2 at least.
#ifndef VMSCAN_GUEST_AGENT_NET_TLS_CONTEXT_H_
#define VMSCAN_GUEST_AGENT_NET_TLS_CONTEXT_H_

#include <string>

#include "absl/status/statusor.h"
#include "guest_agent/net/connection.h"

namespace vmscan::net {

// InvalidArgument naming the file when the certificate or key cannot be loaded or do not match.
absl::StatusOr<UniqueSslCtx> MakeServerTlsContext(const std::string& cert_file,
                                                  const std::string& key_file);

// `ca_file` empty: the peer is not verified (opportunistic TLS).
absl::StatusOr<UniqueSslCtx> MakeClientTlsContext(const std::string& ca_file);

}  // namespace vmscan::net

#endif  // VMSCAN_GUEST_AGENT_NET_TLS_CONTEXT_H_
