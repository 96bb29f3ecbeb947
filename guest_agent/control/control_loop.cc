#include "guest_agent/control/control_loop.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "guest_agent/settings/settings_files.h"
#include "guest_agent/settings/settings_text.h"

namespace vmscan {
namespace {

constexpr absl::Duration kFirstBackoff = absl::Milliseconds(500);
constexpr absl::Duration kMaxBackoff = absl::Seconds(5);
constexpr absl::Duration kGoodbyeTimeout = absl::Seconds(2);

absl::Duration Next(absl::Duration backoff) { return std::min(backoff * 2, kMaxBackoff); }

}  // namespace

ControlLoop::ControlLoop(const v1::AgentConfig& config, v1::VmIdentity vm,
                         std::string hypervisor_type)
    : config_(config),
      vm_(std::move(vm)),
      hypervisor_type_(std::move(hypervisor_type)),
      client_(AgentControlClient::Create(config)),
      backups_(VmBackupClient::Create(config)) {}

std::unique_ptr<ControlLoop> ControlLoop::Start(const v1::AgentConfig& config, v1::VmIdentity vm,
                                                std::string hypervisor_type) {
  std::unique_ptr<ControlLoop> loop(
      new ControlLoop(config, std::move(vm), std::move(hypervisor_type)));
  // The settings of the last run are what changes are logged against.
  absl::StatusOr<std::optional<v1::VmSettings>> cached = ReadCachedSettings(config.state_dir());
  if (cached.ok() && cached->has_value() && (*cached)->vm().id() == loop->vm_.id()) {
    absl::MutexLock lock(&loop->mu_);
    loop->settings_ = std::move(**cached);
  }
  loop->control_thread_ = std::thread([raw = loop.get()] { raw->ControlThread(); });
  loop->watch_thread_ = std::thread([raw = loop.get()] { raw->WatchThread(); });
  loop->restore_thread_ = std::thread([raw = loop.get()] { raw->RestoreThread(); });
  return loop;
}

ControlLoop::~ControlLoop() { Stop(); }

void ControlLoop::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    if (watch_cancel_ != nullptr) watch_cancel_->Cancel();
  }
  cancel_.Cancel();
  if (control_thread_.joinable()) control_thread_.join();
  if (watch_thread_.joinable()) watch_thread_.join();
  if (restore_thread_.joinable()) restore_thread_.join();  // a restore in progress finishes
  if (!registered()) return;
  absl::Status goodbye = client_->Unregister(vm_.id(), kGoodbyeTimeout);
  if (goodbye.ok()) {
    VMSCAN_LOG(INFO) << "control: unregistered VM " << vm_.id() << " from the SVM";
  } else {
    VMSCAN_LOG(WARNING) << "control: could not unregister VM " << vm_.id() << ": "
                        << goodbye.message();
  }
}

bool ControlLoop::registered() const {
  absl::MutexLock lock(&mu_);
  return registered_;
}

std::optional<v1::VmSettings> ControlLoop::settings() const {
  absl::MutexLock lock(&mu_);
  return settings_;
}

bool ControlLoop::Sleep(absl::Duration d, std::optional<uint64_t> generation) {
  absl::MutexLock lock(&mu_);
  auto woken = [this, generation]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || (generation.has_value() && generation_ != *generation);
  };
  mu_.AwaitWithTimeout(absl::Condition(&woken), d);
  return !stopping_;
}

void ControlLoop::ControlThread() {
  while (RegisterUntilDone()) HeartbeatUntilLost();
}

bool ControlLoop::RegisterUntilDone() {
  absl::Duration backoff = kFirstBackoff;
  bool warned = false;
  for (;;) {
    {
      // Heartbeats end when the agent stops: registering again then would reach the SVM after
      // the goodbye and make the stopped VM look connected.
      absl::MutexLock lock(&mu_);
      if (stopping_) return false;
    }
    v1::RegisterRequest request;
    *request.mutable_vm() = vm_;
    request.set_hypervisor_type(hypervisor_type_);
    request.set_agent_version(VMSCAN_VERSION);
    absl::StatusOr<std::optional<v1::MailAntivirusSettings>> local =
        ReadLocalSettings(config_.state_dir());
    if (!local.ok()) {
      // The SVM keeps its own copy; sending nothing leaves it as it is.
      VMSCAN_LOG(WARNING) << "control: local settings not sent: " << local.status().message();
    } else if (local->has_value()) {
      *request.mutable_local() = **local;
    }
    absl::StatusOr<v1::VmSettings> settings = client_->Register(request, &cancel_);
    if (settings.ok()) {
      VMSCAN_LOG(INFO) << "control: registered VM " << vm_.id() << " (" << vm_.name() << ", "
                       << hypervisor_type_ << ") in group " << settings->group();
      Apply(*settings, /*from_registration=*/true);
      absl::MutexLock lock(&mu_);
      registered_ = true;
      ++generation_;
      if (watch_cancel_ != nullptr) watch_cancel_->Cancel();  // reopen for the new registration
      return !stopping_;
    }
    if (cancel_.cancelled()) return false;
    if (!warned) {
      VMSCAN_LOG(WARNING) << "control: cannot register with the SVM (" << settings.status()
                          << "); retrying in the background, the interceptors work meanwhile";
      warned = true;
    } else {
      VMSCAN_LOG(DEBUG) << "control: register: " << settings.status();
    }
    if (!Sleep(backoff)) return false;
    backoff = Next(backoff);
  }
}

void ControlLoop::HeartbeatUntilLost() {
  const absl::Duration interval = absl::Milliseconds(config_.heartbeat_interval_ms());
  bool failing = false;
  bool behind = false;  // the previous heartbeat saw a revision newer than the applied settings
  while (Sleep(interval)) {
    absl::StatusOr<v1::HeartbeatResponse> beat = client_->Heartbeat(vm_.id(), &cancel_);
    if (beat.ok()) {
      if (beat->pending_restores_size() > 0) QueueRestores(beat->pending_restores());
      if (failing) {
        VMSCAN_LOG(INFO) << "control: heartbeats reach the SVM again";
      }
      failing = false;
      uint64_t applied = 0;
      {
        absl::MutexLock lock(&mu_);
        if (settings_.has_value()) applied = settings_->revision();
      }
      // Most revisions change other VMs' settings only, and the stream rightly stays silent;
      // one look per interval at most tells the two cases apart.
      if (beat->revision() > applied && behind) {
        Reconcile();
        behind = false;
      } else {
        behind = beat->revision() > applied;
      }
      continue;
    }
    if (cancel_.cancelled()) return;
    if (absl::IsNotFound(beat.status())) {
      VMSCAN_LOG(WARNING) << "control: the SVM does not know VM " << vm_.id()
                          << " (removed from the inventory?); registering again";
      absl::MutexLock lock(&mu_);
      registered_ = false;
      return;
    }
    if (!failing) {
      VMSCAN_LOG(WARNING) << "control: heartbeat failed: " << beat.status();
      failing = true;
    }
  }
}

void ControlLoop::QueueRestores(const google::protobuf::RepeatedPtrField<std::string>& ids) {
  absl::MutexLock lock(&mu_);
  for (const std::string& id : ids) {
    if (restoring_.insert(id).second) restores_.push_back(id);
  }
}

void ControlLoop::RestoreThread() {
  const std::string dir = VmBackupClient::RestoreDir(config_);
  for (;;) {
    std::string id;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !restores_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (stopping_) return;
      id = restores_.front();
      restores_.pop_front();
    }
    absl::StatusOr<RestoredFile> file = backups_->Restore(id, dir);
    if (file.ok()) {
      VMSCAN_LOG(INFO) << "restore: backup " << id << " (\"" << file->record.subject()
                       << "\") written to " << file->path << " as the SVM asked";
    } else {
      // The SVM keeps it pending: the next heartbeat brings it again.
      VMSCAN_LOG(WARNING) << "restore: backup " << id << " not restored: " << file.status();
    }
    absl::MutexLock lock(&mu_);
    restoring_.erase(id);
  }
}

void ControlLoop::Reconcile() {
  absl::StatusOr<v1::VmSettings> fetched = client_->GetSettings(vm_.id(), &cancel_);
  if (!fetched.ok()) {
    VMSCAN_LOG(DEBUG) << "control: get settings: " << fetched.status();
    return;
  }
  bool missed = false;
  {
    absl::MutexLock lock(&mu_);
    v1::VmSettings had = settings_.value_or(v1::VmSettings());
    v1::VmSettings now = *fetched;
    had.clear_revision();
    now.clear_revision();
    missed = !google::protobuf::util::MessageDifferencer::Equals(had, now);
    if (missed && watch_cancel_ != nullptr) watch_cancel_->Cancel();
  }
  if (missed) {
    VMSCAN_LOG(WARNING) << "control: the settings stream missed a change; reopening it";
  }
  Apply(*fetched, /*from_registration=*/false);
}

void ControlLoop::WatchThread() {
  absl::Duration backoff = kFirstBackoff;
  for (;;) {
    CallCanceller watch_cancel;
    uint64_t generation = 0;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](ControlLoop* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->stopping_ || self->registered_;
          },
          this));
      if (stopping_) return;
      generation = generation_;
      watch_cancel_ = &watch_cancel;
    }
    bool received = false;
    absl::Status ended =
        client_->WatchSettings(vm_.id(), &watch_cancel, [&](const v1::VmSettings& settings) {
          received = true;
          Apply(settings, /*from_registration=*/false);
        });
    bool reregistered = false;
    {
      absl::MutexLock lock(&mu_);
      watch_cancel_ = nullptr;
      if (stopping_) return;
      reregistered = generation_ != generation;
    }
    if (reregistered) {
      backoff = kFirstBackoff;
      continue;  // a fresh registration: open the stream again at once
    }
    if (received) {
      backoff = kFirstBackoff;
      VMSCAN_LOG(WARNING) << "control: settings stream ended (" << ended << "); reconnecting";
    } else {
      VMSCAN_LOG(DEBUG) << "control: settings stream: " << ended << "; retrying in "
                        << absl::FormatDuration(backoff);
    }
    if (!Sleep(backoff, generation)) return;
    backoff = Next(backoff);
  }
}

void ControlLoop::Apply(const v1::VmSettings& settings, bool from_registration) {
  absl::MutexLock lock(&mu_);
  // A stream may deliver an answer computed before the one already applied; a registration
  // starts afresh (the SVM may have lost its store and counts revisions from the start again).
  if (!from_registration && settings_.has_value() && settings.revision() < settings_->revision()) {
    return;
  }
  for (const std::string& line :
       DescribeSettingsChanges(settings_.has_value() ? &*settings_ : nullptr, settings)) {
    VMSCAN_LOG(INFO) << "settings: " << line;
  }
  absl::Status written = WriteCachedSettings(config_.state_dir(), settings);
  if (!written.ok()) {
    VMSCAN_LOG(WARNING) << "control: " << written.message();
  }
  settings_ = settings;
}

}  // namespace vmscan
