#include "tests/testing/test_mail.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace vmscan::testing {

std::string Eicar() {
  // Assembled so that this source file itself is not detected as EICAR.
  return absl::StrCat("X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");
}

std::string Base64Lines(absl::string_view data, absl::string_view line_end) {
  std::string encoded;
  absl::Base64Escape(data, &encoded);
  std::string lines;
  for (size_t i = 0; i < encoded.size(); i += 76) {
    absl::StrAppend(&lines, absl::string_view(encoded).substr(i, 76), line_end);
  }
  return lines;
}

std::string ToCrlf(absl::string_view lf) { return absl::StrReplaceAll(lf, {{"\n", "\r\n"}}); }

std::string RandomBytes(size_t size) {
  absl::BitGen gen;
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(absl::Uniform<uint8_t>(gen));
  return out;
}

std::string MailWithAttachment(absl::string_view filename, absl::string_view content_type,
                               absl::string_view data) {
  const std::string wrapped = Base64Lines(data, "\r\n");
  return absl::StrCat(
      "From: sender@example.org\r\nTo: rcpt@example.net\r\nSubject: test with ", filename,
      "\r\nMessage-ID: <test-", filename, "@example.org>\r\nMIME-Version: 1.0\r\n",
      "Content-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n",
      "--=_b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee attachment.\r\n\r\n",
      "--=_b\r\nContent-Type: ", content_type, "; name=\"", filename, "\"\r\n",
      "Content-Disposition: attachment; filename=\"", filename, "\"\r\n",
      "Content-Transfer-Encoding: base64\r\n\r\n", wrapped, "--=_b--\r\n");
}

std::string PlainMail(absl::string_view subject, absl::string_view body) {
  return absl::StrCat("From: sender@example.org\r\nTo: rcpt@example.net\r\nSubject: ", subject,
                      "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n", body, "\r\n");
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

absl::StatusOr<std::string> MakeZip(const std::vector<std::pair<std::string, std::string>>& files,
                                    absl::string_view password) {
  static std::atomic<int> counter{0};
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              absl::StrCat("vmscan-zip-", getpid(), "-", counter++);
  std::filesystem::create_directories(dir);
  std::string names;
  for (const auto& [name, content] : files) {
    std::ofstream(dir / name, std::ios::binary) << content;
    absl::StrAppend(&names, " '", name, "'");
  }
  std::string command =
      absl::StrCat("cd '", dir.string(), "' && zip -q -X ",
                   password.empty() ? "" : absl::StrCat("-P '", password, "' "), "out.zip", names);
  if (std::system(command.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("zip failed: ", command));
  }
  absl::StatusOr<std::string> zip = ReadFile((dir / "out.zip").string());
  std::filesystem::remove_all(dir);
  return zip;
}

std::string PythonEmailCorpusDir() { return VMSCAN_PYTHON_EMAIL_CORPUS; }

std::vector<CorpusMessage> PythonEmailCorpus() {
  std::vector<std::string> paths;
  const std::string dir = PythonEmailCorpusDir();
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("msg_", 0) == 0 && entry.path().extension() == ".txt") {
      paths.push_back(entry.path().string());
    }
  }
  std::sort(paths.begin(), paths.end());
  std::vector<CorpusMessage> messages;
  for (std::string& path : paths) {
    absl::StatusOr<std::string> raw = ReadFile(path);
    if (raw.ok()) messages.push_back({std::move(path), *std::move(raw)});
  }
  return messages;
}

CommandRun Shell(const std::string& command) {
  static std::atomic<int> counter{0};
  std::string err_file = std::filesystem::temp_directory_path() /
                         absl::StrCat("vmscan-shell-err-", getpid(), "-", counter++);
  FILE* pipe = popen(absl::StrCat(command, " 2>", err_file).c_str(), "r");
  CommandRun run;
  if (pipe == nullptr) return run;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) run.out.append(buffer, n);
  int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.err = ReadFile(err_file).value_or("");
  std::filesystem::remove(err_file);
  return run;
}

std::string SourcePath(absl::string_view relative) {
  return absl::StrCat(VMSCAN_SOURCE_DIR, "/", relative);
}

}  // namespace vmscan::testing
