#include "guest_agent/settings/settings_files.h"

#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace vmscan {
namespace {

absl::Status ErrnoError(absl::string_view what, const std::string& path, int error) {
  return absl::Status(absl::ErrnoToStatusCode(error),
                      absl::StrCat("cannot ", what, " ", path, ": ", std::strerror(error)));
}

template <typename T>
absl::StatusOr<std::optional<T>> ReadJsonFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) return std::optional<T>();
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoError("read", path, errno);
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  T message;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(text.str(), &message, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not valid settings JSON: ", status.message().as_string()));
  }
  return std::optional<T>(std::move(message));
}

}  // namespace

std::string LocalSettingsPath(absl::string_view state_dir) {
  return (std::filesystem::path(std::string(state_dir)) / "local-settings.json").string();
}

std::string CachedSettingsPath(absl::string_view state_dir) {
  return (std::filesystem::path(std::string(state_dir)) / "settings.json").string();
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view content, int mode) {
  const std::filesystem::path target(path);
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return absl::UnavailableError(absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  // Hidden, beside the target (same file system, so the rename is atomic), unique per writer.
  std::string temp = (dir / absl::StrCat(".", target.filename().string(), ".XXXXXX")).string();
  const int fd = mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoError("write", path, errno);
  absl::Status status;
  if (fchmod(fd, static_cast<mode_t>(mode)) != 0) status = ErrnoError("chmod", temp, errno);
  while (status.ok() && !content.empty()) {
    const ssize_t n = write(fd, content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = ErrnoError("write", temp, errno);
      break;
    }
    content.remove_prefix(static_cast<size_t>(n));
  }
  if (status.ok() && fsync(fd) != 0) status = ErrnoError("sync", temp, errno);
  if (close(fd) != 0 && status.ok()) status = ErrnoError("close", temp, errno);
  if (status.ok() && rename(temp.c_str(), path.c_str()) != 0) {
    status = ErrnoError("rename over", path, errno);
  }
  if (!status.ok()) unlink(temp.c_str());
  return status;
}

absl::StatusOr<std::optional<v1::MailAntivirusSettings>> ReadLocalSettings(
    absl::string_view state_dir) {
  return ReadJsonFile<v1::MailAntivirusSettings>(LocalSettingsPath(state_dir));
}

absl::Status WriteLocalSettings(absl::string_view state_dir,
                                const v1::MailAntivirusSettings& settings) {
  return WriteFileAtomically(LocalSettingsPath(state_dir), SettingsToJson(settings), 0600);
}

absl::StatusOr<std::optional<v1::VmSettings>> ReadCachedSettings(absl::string_view state_dir) {
  return ReadJsonFile<v1::VmSettings>(CachedSettingsPath(state_dir));
}

absl::Status WriteCachedSettings(absl::string_view state_dir, const v1::VmSettings& settings) {
  return WriteFileAtomically(CachedSettingsPath(state_dir), SettingsToJson(settings), 0644);
}

std::string SettingsToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

}  // namespace vmscan
