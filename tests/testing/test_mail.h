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

// `data` base64-encoded in lines of 76 characters, each ended by `line_end`.
std::string Base64Lines(absl::string_view data, absl::string_view line_end = "\n");

// `lf` with every "\n" turned into "\r\n".
std::string ToCrlf(absl::string_view lf);

// `size` random bytes (a different sequence every call).
std::string RandomBytes(size_t size);

// Runs `zip` in a fresh temp dir: files (name, content) → zip bytes; `password` empty for none.
absl::StatusOr<std::string> MakeZip(const std::vector<std::pair<std::string, std::string>>& files,
                                    absl::string_view password = "");

absl::StatusOr<std::string> ReadFile(const std::string& path);

// The directory of Python's email test corpus (test_email/data of Debian's
// libpython3.11-testsuite), as CMake found it under /usr/lib/python3*/test; empty when it did not.
std::string PythonEmailCorpusDir();
// Its 47 real messages (msg_*.txt), read, in the order of their paths; empty when the package is
// missing (callers assert the count and name the package).
struct CorpusMessage {
  std::string path;
  std::string raw;
};
std::vector<CorpusMessage> PythonEmailCorpus();
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
