// Helpers that build test messages and files at run time, so no test depends on a fixture that
// an editor or git could rewrite (line endings, binary bytes).
#ifndef VMSCAN_TESTS_TESTING_TEST_MAIL_H_
#define VMSCAN_TESTS_TESTING_TEST_MAIL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmscan::testing {

// The 68-byte EICAR anti-virus test file.
std::string Eicar();

// A multipart/mixed message: a short text part, then `data` base64-encoded as an attachment.
std::string MailWithAttachment(absl::string_view filename, absl::string_view content_type,
                               absl::string_view data);

// A single text/plain message.
std::string PlainMail(absl::string_view subject, absl::string_view body);

// Runs `zip` in a fresh temp dir: files (name, content) → zip bytes; `password` empty for none.
absl::StatusOr<std::string> MakeZip(const std::vector<std::pair<std::string, std::string>>& files,
                                    absl::string_view password = "");

absl::StatusOr<std::string> ReadFile(const std::string& path);

// The 47 real messages of Debian's libpython3.11-testsuite (test_email/data/msg_*.txt), sorted;
// empty when the package is missing (callers assert the count and name the package).
std::vector<std::string> PythonEmailCorpus();
std::string SourcePath(absl::string_view relative);  // inside the source tree

// Runs a shell command line, capturing standard output and standard error separately.
struct CommandRun {
  int exit_code = -1;  // -1 when the command did not exit normally
  std::string out;
  std::string err;
};
CommandRun Shell(const std::string& command);

}  // namespace vmscan::testing

#endif  // VMSCAN_TESTS_TESTING_TEST_MAIL_H_
