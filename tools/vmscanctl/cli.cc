#include "tools/vmscanctl/cli.h"

#include <google/protobuf/struct.pb.h>

#include <ostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "tools/vmscanctl/terminal_text.h"
#include "tools/vmscanctl/vmscanctl.h"

namespace vmscan {

int Usage(std::ostream& err, absl::string_view message) {
  err << "vmscanctl: " << message << "\n(see 'vmscanctl --help')\n";
  return kCtlUsage;
}

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kCtlOk;
    case absl::StatusCode::kNotFound:
      return kCtlNotFound;
    case absl::StatusCode::kUnavailable:
      return kCtlUnreachable;
    case absl::StatusCode::kInvalidArgument:
      return kCtlUsage;
    default:
      return kCtlServerError;
  }
}

// "vmscanctl: backup show ID: not found: no backup record ID".
int Fail(std::ostream& err, absl::string_view what, const absl::Status& status) {
  std::string kind;
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      kind = "not found";
      break;
    case absl::StatusCode::kDataLoss:
      kind = "the record is damaged (DATA_LOSS)";
      break;
    case absl::StatusCode::kInvalidArgument:
      kind = "invalid request";
      break;
    case absl::StatusCode::kUnavailable:
      kind = "server unavailable";
      break;
    case absl::StatusCode::kAlreadyExists:
      kind = "refused (ALREADY_EXISTS)";
      break;
    case absl::StatusCode::kFailedPrecondition:
      kind = "refused (FAILED_PRECONDITION)";
      break;
    case absl::StatusCode::kAborted:
      kind = "conflict (ABORTED)";
      break;
    case absl::StatusCode::kUnimplemented:
      kind = "this vmscan-server does not offer it (UNIMPLEMENTED)";
      break;
    default:
      kind = absl::StrCat("server error (", absl::StatusCodeToString(status.code()), ")");
  }
  err << "vmscanctl: " << SanitizeForTerminal(what) << ": " << kind << ": "
      << SanitizeForTerminal(status.message()) << "\n";
  return ExitCodeFor(status);
}

std::string DeletedJson(absl::string_view key, absl::string_view value) {
  google::protobuf::Struct json;
  (*json.mutable_fields())[std::string(key)].set_string_value(std::string(value));
  (*json.mutable_fields())["deleted"].set_bool_value(true);
  return ToJson(json);
}

int WriteOut(std::ostream& out, std::ostream& err, absl::string_view text) {
  out << text;
  out.flush();
  if (!out) {
    err << "vmscanctl: cannot write to standard output\n";
    return kCtlCannotWrite;
  }
  return kCtlOk;
}

}  // namespace vmscan
