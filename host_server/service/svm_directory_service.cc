#include "host_server/service/svm_directory_service.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"

namespace vmscan {
namespace {

std::string Hostname() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

v1::SvmDirectoryConfig WithDefaults(v1::SvmDirectoryConfig config) {
  if (config.hypervisor_host().empty()) config.set_hypervisor_host(Hostname());
  return config;
}

}  // namespace

SvmLoad PoolLoad(size_t busy, size_t queued, int threads, size_t queue_depth) {
  SvmLoad out;
  out.load = threads > 0 ? static_cast<double>(busy + queued) / threads : 0;
  // A pool without a queue is overloaded as soon as every thread is busy.
  out.overloaded = queue_depth == 0 ? busy >= static_cast<size_t>(threads)
                                    : static_cast<double>(queued) >= 0.9 * queue_depth;
  return out;
}

std::string AdvertisedAddress(const v1::SvmDirectoryConfig& config, const std::string& listen,
                              int port) {
  if (!config.advertise_address().empty()) return config.advertise_address();
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::") host = Hostname();
  return absl::StrCat(host, ":", port);
}

SvmDirectoryService::SvmDirectoryService(v1::SvmDirectoryConfig config,
                                         const Authorizer* authorizer,
                                         std::function<SvmLoad()> load)
    : config_(WithDefaults(std::move(config))), authorizer_(authorizer), load_(std::move(load)) {}

void SvmDirectoryService::SetSelfAddress(std::string address) {
  absl::MutexLock lock(&mu_);
  self_address_ = std::move(address);
}

v1::SvmList SvmDirectoryService::List() const {
  v1::SvmList list;
  v1::SvmInfo* self = list.add_svms();
  {
    absl::MutexLock lock(&mu_);
    self->set_address(self_address_);
  }
  self->set_hypervisor_host(config_.hypervisor_host());
  const SvmLoad load = load_();
  self->set_load(load.load);
  self->set_overloaded(load.overloaded);
  self->set_self(true);
  for (const v1::SvmPeer& peer : config_.peers()) {
    if (peer.address() == self->address()) continue;
    v1::SvmInfo* info = list.add_svms();
    info->set_address(peer.address());
    info->set_hypervisor_host(peer.hypervisor_host());
    info->set_load(-1);
  }
  return list;
}

grpc::ServerUnaryReactor* SvmDirectoryService::ListSvms(grpc::CallbackServerContext* context,
                                                        const v1::ListSvmsRequest*,
                                                        v1::SvmList* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller =
      authorizer_->Authorize(*context, "/vmscan.v1.SvmDirectory/ListSvms");
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  *response = List();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace vmscan
