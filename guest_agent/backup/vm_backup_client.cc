#include "guest_agent/backup/vm_backup_client.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "guest_agent/client/svm_channel.h"

namespace vmscan {
namespace {

constexpr int kMaxReplyBytes = 64 << 20;  // a page of records, or one 1 MiB export chunk

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  return absl::FailedPreconditionError(
      absl::StrCat("cannot ", what, " ", path, ": ", std::strerror(errno)));
}

// Backup ids are "<16 hex>-<8 hex>": nothing else may become a file name.
bool PlausibleId(const std::string& id) {
  if (id.size() != 25 || id[16] != '-') return false;
  for (size_t i = 0; i < id.size(); ++i) {
    if (i == 16) continue;
    const char c = id[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string VmBackupClient::RestoreDir(const v1::AgentConfig& config) {
  return !config.restore_dir().empty() ? config.restore_dir() : config.state_dir() + "/restored";
}

std::unique_ptr<VmBackupClient> VmBackupClient::Create(const v1::AgentConfig& config) {
  std::unique_ptr<VmBackupClient> client(new VmBackupClient());
  absl::StatusOr<SvmCredentials> credentials = MakeSvmCredentials(config);
  if (!credentials.ok()) {
    client->setup_error_ = absl::FailedPreconditionError(
        absl::StrCat("cannot set up the connection to the SVMs: ", credentials.status().message()));
    return client;
  }
  for (const std::string& address : config.servers()) {
    client->servers_.push_back({address, v1::BackupAdmin::NewStub(MakeSvmChannel(
                                             config, *credentials, address, kMaxReplyBytes))});
  }
  if (config.timeout_ms() > 0) client->timeout_ = absl::Milliseconds(config.timeout_ms());
  return client;
}

absl::StatusOr<std::vector<v1::BackupRecord>> VmBackupClient::List(
    std::vector<std::string>* servers_failed) {
  VMSCAN_RETURN_IF_ERROR(setup_error_);
  std::vector<v1::BackupRecord> all;
  std::vector<std::string> failures;
  for (const Server& server : servers_) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    v1::ListBackupsRequest request;  // the SVM limits a VM to its own records
    v1::ListBackupsResponse response;
    absl::Status status = FromGrpcStatus(server.stub->ListBackups(&context, request, &response));
    if (!status.ok()) {
      failures.push_back(absl::StrCat(server.address, ": ", status.message()));
      continue;
    }
    for (v1::BackupRecord& r : *response.mutable_records()) all.push_back(std::move(r));
  }
  if (servers_failed != nullptr) *servers_failed = failures;
  if (failures.size() == servers_.size()) {
    return absl::UnavailableError(
        absl::StrCat("no SVM answered (", absl::StrJoin(failures, "; "), ")"));
  }
  std::sort(all.begin(), all.end(), [](const v1::BackupRecord& a, const v1::BackupRecord& b) {
    return a.created_unix_micros() > b.created_unix_micros();
  });
  return all;
}

absl::StatusOr<RestoredFile> VmBackupClient::Restore(const std::string& id,
                                                     const std::string& dir) {
  VMSCAN_RETURN_IF_ERROR(setup_error_);
  if (!PlausibleId(id)) {
    return absl::InvalidArgumentError(absl::StrCat("'", id, "' is not a backup id"));
  }
  std::vector<std::string> failures;
  for (const Server& server : servers_) {
    absl::StatusOr<RestoredFile> file = RestoreFrom(server, id, dir);
    if (file.ok() || !(absl::IsNotFound(file.status()) || absl::IsUnavailable(file.status()))) {
      return file;
    }
    failures.push_back(absl::StrCat(server.address, ": ", file.status().message()));
  }
  return absl::NotFoundError(
      absl::StrCat("backup ", id, " not restored: ", absl::StrJoin(failures, "; ")));
}

absl::StatusOr<RestoredFile> VmBackupClient::RestoreFrom(const Server& server,
                                                         const std::string& id,
                                                         const std::string& dir) const {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoError("create", dir);
  RestoredFile file;
  file.server = server.address;
  file.path = absl::StrCat(dir, "/", id, ".eml");
  const std::string tmp = file.path + ".part";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return ErrnoError("create", tmp);
  fchmod(fd, 0600);
  auto fail = [&](absl::Status status) {
    close(fd);
    unlink(tmp.c_str());
    return status;
  };

  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  v1::ExportBackupRequest request;
  request.set_id(id);
  std::unique_ptr<grpc::ClientReader<v1::ExportBackupResponse>> reader =
      server.stub->ExportBackup(&context, request);
  v1::ExportBackupResponse chunk;
  bool first = true;
  uint64_t written = 0;
  Sha256 hash;
  while (reader->Read(&chunk)) {
    if (first) {
      file.record = chunk.record();
      first = false;
    }
    const std::string& data = chunk.chunk();
    hash.Update(data);
    for (size_t done = 0; done < data.size();) {
      ssize_t n = write(fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        context.TryCancel();
        reader->Finish();
        return fail(ErrnoError("write", tmp));
      }
      done += static_cast<size_t>(n);
    }
    written += data.size();
  }
  absl::Status status = FromGrpcStatus(reader->Finish());
  if (!status.ok()) return fail(status);
  const std::string sha = hash.FinishHex();
  if (first || written != file.record.size() || sha != file.record.sha256()) {
    return fail(absl::DataLossError(absl::StrCat(
        "backup ", id, " arrived damaged from ", server.address, ": ", written, " bytes, SHA-256 ",
        sha, "; the record says ", file.record.size(), " bytes, ", file.record.sha256())));
  }
  if (fsync(fd) != 0) return fail(ErrnoError("sync", tmp));
  close(fd);
  if (rename(tmp.c_str(), file.path.c_str()) != 0) {
    absl::Status renamed = ErrnoError("rename into", file.path);
    unlink(tmp.c_str());
    return renamed;
  }

  grpc::ClientContext confirm_context;
  confirm_context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  v1::ConfirmRestoreRequest confirm;
  confirm.set_id(id);
  confirm.set_sha256(sha);
  confirm.set_written_to(file.path);
  v1::BackupRecord confirmed;
  VMSCAN_RETURN_IF_ERROR(
      FromGrpcStatus(server.stub->ConfirmRestore(&confirm_context, confirm, &confirmed)));
  file.record = std::move(confirmed);
  return file;
}

}  // namespace vmscan
