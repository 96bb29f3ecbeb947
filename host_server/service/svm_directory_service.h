// SvmDirectoryService: tells agents which SVMs there are (docs/design.md §6.1) — this one first,
// with its hypervisor host and its current load, then the peers of ServerConfig.svm_directory.
// The agent asks every SVM it knows, so each SVM's load reaches it first-hand; peers' entries
// carry load -1.
//
//   SvmDirectoryService directory(config.svm_directory(), authorizer, [&] { return Load(); });
//   builder.RegisterService(&directory);
//   ... BuildAndStart ...
//   directory.SetSelfAddress("10.0.0.5:7350");  // once the port is bound
//
// Thread-safe; `authorizer` must outlive the service.
#ifndef VMSCAN_HOST_SERVER_SERVICE_SVM_DIRECTORY_SERVICE_H_
#define VMSCAN_HOST_SERVER_SERVICE_SVM_DIRECTORY_SERVICE_H_

#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "host_server/auth/authorizer.h"
#include "vmscan/v1/config.pb.h"
#include "vmscan/v1/directory.grpc.pb.h"

namespace vmscan {

struct SvmLoad {
  double load = 0;          // SvmInfo.load
  bool overloaded = false;  // SvmInfo.overloaded
};

// The load of a scan pool: (busy + queued) / threads; overloaded once the queue is 90 % full
// (a full queue refuses scans with RESOURCE_EXHAUSTED).
SvmLoad PoolLoad(size_t busy, size_t queued, int threads, size_t queue_depth);

// `listen` with a wildcard host ("0.0.0.0", "[::]", "") replaced by this machine's hostname and
// its port by `port` (the port bound): how agents reach this SVM when advertise_address is unset.
std::string AdvertisedAddress(const v1::SvmDirectoryConfig& config, const std::string& listen,
                              int port);

class SvmDirectoryService final : public v1::SvmDirectory::CallbackService {
 public:
  SvmDirectoryService(v1::SvmDirectoryConfig config, const Authorizer* authorizer,
                      std::function<SvmLoad()> load);

  void SetSelfAddress(std::string address);

  // What ListSvms answers (without the authorization).
  v1::SvmList List() const;

  grpc::ServerUnaryReactor* ListSvms(grpc::CallbackServerContext* context,
                                     const v1::ListSvmsRequest* request,
                                     v1::SvmList* response) override;

 private:
  const v1::SvmDirectoryConfig config_;  // hypervisor_host filled in
  const Authorizer* authorizer_;
  const std::function<SvmLoad()> load_;
  mutable absl::Mutex mu_;
  std::string self_address_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_SERVICE_SVM_DIRECTORY_SERVICE_H_
