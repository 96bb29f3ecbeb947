#include "common/config/config_loader.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "vmscan/v1/config.pb.h"

namespace vmscan {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;
using v1::ActionOnThreat;
using v1::AgentConfig;
using v1::OnUnscannable;
using v1::ServerConfig;

constexpr char kSource[] = "server.yaml";

// Non-zero values everywhere it matters, like the embedded defaults of the binaries.
ServerConfig Defaults() {
  ServerConfig config;
  config.set_listen("127.0.0.1:7350");
  config.set_state_dir("./var");
  config.mutable_mail_antivirus()->set_action_on_threat(ActionOnThreat::AUTO);
  config.mutable_mail_antivirus()->set_on_unscannable(OnUnscannable::DELIVER_WITH_HEADER);
  config.mutable_limits()->set_max_message_bytes(50 << 20);
  config.mutable_limits()->set_max_recursion(17);
  config.mutable_limits()->set_max_files(10000);
  config.set_workers(4);
  config.set_queue_depth(64);
  config.set_log_level("info");
  return config;
}

AgentConfig AgentDefaults() {
  AgentConfig config;
  config.add_servers("127.0.0.1:7350");
  config.set_chunk_bytes(262144);
  return config;
}

absl::Status Merge(absl::string_view text, google::protobuf::Message* message) {
  return MergeConfigText(text, kSource, message);
}

// Expects InvalidArgument whose message contains every one of `parts`, and *message unchanged.
template <typename... Parts>
void ExpectRejected(absl::string_view text, const Parts&... parts) {
  ServerConfig config = Defaults();
  absl::Status status = Merge(text, &config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << text << "\n" << status;
  for (const std::string& part : {std::string(parts)...}) {
    EXPECT_THAT(std::string(status.message()), HasSubstr(part)) << text;
  }
  EXPECT_TRUE(MessageDifferencer::Equals(config, Defaults())) << config.DebugString();
}

// ---- Merging files -----------------------------------------------------------------------

TEST(MergeConfigText, KeepsDefaultsForAbsentKeys) {
  ServerConfig config = Defaults();
  ASSERT_TRUE(Merge("workers: 8\nlimits:\n  max_files: 20\n", &config).ok());
  ServerConfig want = Defaults();
  want.set_workers(8);
  want.mutable_limits()->set_max_files(20);
  EXPECT_TRUE(MessageDifferencer::Equals(config, want)) << config.DebugString();
}

TEST(MergeConfigText, ExplicitZeroAndEmptyOverrideDefaults) {
  ServerConfig config = Defaults();
  ASSERT_TRUE(Merge("workers: 0\nlisten: \"\"\nlimits: {max_recursion: 0}\n"
                    "mail_antivirus: {action_on_threat: UNSPECIFIED}\n",
                    &config)
                  .ok());
  EXPECT_EQ(config.workers(), 0u);
  EXPECT_EQ(config.listen(), "");
  EXPECT_EQ(config.limits().max_recursion(), 0u);
  EXPECT_EQ(config.mail_antivirus().action_on_threat(), ActionOnThreat::UNSPECIFIED);
  EXPECT_EQ(config.queue_depth(), 64u);  // Untouched neighbours keep their defaults.
  EXPECT_EQ(config.limits().max_files(), 10000u);
}

TEST(MergeConfigText, ExplicitFalseOverridesTrue) {
  google::protobuf::BoolValue flag;
  flag.set_value(true);
  ASSERT_TRUE(Merge("value: false", &flag).ok());
  EXPECT_FALSE(flag.value());
}

TEST(MergeConfigText, NestedYamlWithCamelCaseKeys) {
  ServerConfig config = Defaults();
  ASSERT_TRUE(Merge("stateDir: /srv/vmscan\n"
                    "mailAntivirus:\n"
                    "  actionOnThreat: block   # case-insensitive value name\n"
                    "  on_unscannable: Block\n"
                    "limits:\n"
                    "  maxMessageBytes: 1048576\n",
                    &config)
                  .ok());
  EXPECT_EQ(config.state_dir(), "/srv/vmscan");
  EXPECT_EQ(config.mail_antivirus().action_on_threat(), ActionOnThreat::BLOCK);
  EXPECT_EQ(config.mail_antivirus().on_unscannable(), OnUnscannable::BLOCK);
  EXPECT_EQ(config.limits().max_message_bytes(), 1048576u);
  EXPECT_EQ(config.limits().max_recursion(), 17u);
}

TEST(MergeConfigText, JsonWithCamelCaseKeys) {
  ServerConfig config = Defaults();
  ASSERT_TRUE(MergeConfigText(R"({"stateDir": "/srv", "scanDeadlineMs": 0,
                                  "mailAntivirus": {"actionOnThreat": "DELETE"},
                                  "limits": {"maxScanTimeMs": 5000}})",
                              "server.json", &config)
                  .ok());
  EXPECT_EQ(config.state_dir(), "/srv");
  EXPECT_EQ(config.scan_deadline_ms(), 0u);
  EXPECT_EQ(config.mail_antivirus().action_on_threat(), ActionOnThreat::DELETE);
  EXPECT_EQ(config.mail_antivirus().on_unscannable(), OnUnscannable::DELIVER_WITH_HEADER);
  EXPECT_EQ(config.limits().max_scan_time_ms(), 5000u);
  EXPECT_EQ(config.limits().max_files(), 10000u);
}

TEST(MergeConfigText, EnumByNumber) {
  ServerConfig config = Defaults();
  ASSERT_TRUE(Merge("mail_antivirus: {action_on_threat: 4}", &config).ok());
  EXPECT_EQ(config.mail_antivirus().action_on_threat(), ActionOnThreat::DELETE);
}

TEST(MergeConfigText, ListReplacesDefaultList) {
  AgentConfig config = AgentDefaults();
  ASSERT_TRUE(Merge("servers: [10.0.0.1:7350, 10.0.0.2:7350]", &config).ok());
  EXPECT_THAT(config.servers(), ElementsAre("10.0.0.1:7350", "10.0.0.2:7350"));
  ASSERT_TRUE(Merge("servers:\n  - a:1\n  - b:2\n  - c:3\n", &config).ok());
  EXPECT_THAT(config.servers(), ElementsAre("a:1", "b:2", "c:3"));
  ASSERT_TRUE(Merge("servers: single:1", &config).ok());
  EXPECT_THAT(config.servers(), ElementsAre("single:1"));
  ASSERT_TRUE(Merge("servers: []", &config).ok());
  EXPECT_THAT(config.servers(), IsEmpty());
  EXPECT_EQ(config.chunk_bytes(), 262144u);
}

TEST(MergeConfigText, EmptyOrCommentOnlyDocumentIsNoOp) {
  for (absl::string_view text : {"", "\n\n", "# nothing here\n  # at all\n", "---\n"}) {
    ServerConfig config = Defaults();
    EXPECT_TRUE(Merge(text, &config).ok()) << "'" << text << "'";
    EXPECT_TRUE(MessageDifferencer::Equals(config, Defaults())) << "'" << text << "'";
  }
}

TEST(MergeConfigText, BoolSpellings) {
  for (absl::string_view yes : {"true", "True", "YES", "on", "1"}) {
    google::protobuf::BoolValue flag;
    EXPECT_TRUE(Merge(absl::StrCat("value: ", yes), &flag).ok()) << yes;
    EXPECT_TRUE(flag.value()) << yes;
  }
  for (absl::string_view no : {"false", "FALSE", "no", "Off", "0"}) {
    google::protobuf::BoolValue flag;
    flag.set_value(true);
    EXPECT_TRUE(Merge(absl::StrCat("value: ", no), &flag).ok()) << no;
    EXPECT_FALSE(flag.value()) << no;
  }
  for (absl::string_view bad : {"maybe", "2", "y", "\"\""}) {
    google::protobuf::BoolValue flag;
    absl::Status status = Merge(absl::StrCat("value: ", bad), &flag);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(status.message()), AllOf(HasSubstr("'value'"), HasSubstr("bool")));
  }
}

TEST(MergeConfigText, IntegerLimits) {
  ServerConfig config;
  ASSERT_TRUE(
      Merge("workers: 4294967295\nlimits: {max_file_bytes: 18446744073709551615}", &config).ok());
  EXPECT_EQ(config.workers(), std::numeric_limits<uint32_t>::max());
  EXPECT_EQ(config.limits().max_file_bytes(), std::numeric_limits<uint64_t>::max());

  google::protobuf::Int64Value i64;
  ASSERT_TRUE(Merge("value: -9223372036854775808", &i64).ok());
  EXPECT_EQ(i64.value(), std::numeric_limits<int64_t>::min());
  google::protobuf::Int32Value i32;
  ASSERT_TRUE(Merge("value: -7", &i32).ok());
  EXPECT_EQ(i32.value(), -7);
  EXPECT_EQ(Merge("value: 2147483648", &i32).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Merge("value: 9223372036854775808", &i64).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(i32.value(), -7);
}

TEST(MergeConfigText, RejectsBadUnsignedIntegers) {
  ExpectRejected("workers: -1", "server.yaml: key 'workers' expects uint32", "'-1'");
  ExpectRejected("workers: 4294967296", "key 'workers' expects uint32", "4294967296");
  ExpectRejected("limits: {max_scan_bytes: 18446744073709551616}", "'limits.max_scan_bytes'",
                 "uint64");
  for (absl::string_view bad : {"1.5", "+5", "0x10", "1k", "1e3", "abc", "\"\""}) {
    ExpectRejected(absl::StrCat("queue_depth: ", bad), "key 'queue_depth' expects uint32");
  }
}

TEST(MergeConfigText, FloatingPoint) {
  google::protobuf::DoubleValue d;
  ASSERT_TRUE(Merge("value: 2.5", &d).ok());
  EXPECT_EQ(d.value(), 2.5);
  ASSERT_TRUE(Merge("value: -Infinity", &d).ok());
  EXPECT_EQ(d.value(), -std::numeric_limits<double>::infinity());
  absl::Status status = Merge("value: 1e400", &d);  // Overflow, not infinity.
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("key 'value' expects double"));
  EXPECT_EQ(Merge("value: two", &d).code(), absl::StatusCode::kInvalidArgument);
  google::protobuf::FloatValue f;
  ASSERT_TRUE(Merge("value: 0.25", &f).ok());
  EXPECT_EQ(f.value(), 0.25f);
  status = Merge("value: 1e39", &f);
  EXPECT_THAT(std::string(status.message()), HasSubstr("key 'value' expects float"));
}

TEST(MergeConfigText, RejectsBadEnums) {
  ExpectRejected("mail_antivirus: {action_on_threat: blok}",
                 "key 'mail_antivirus.action_on_threat' expects one of UNSPECIFIED, AUTO, "
                 "DISINFECT_ELSE_DELETE, DISINFECT, DELETE, BLOCK",
                 "'blok'");
  ExpectRejected("mail_antivirus: {on_unscannable: 9}", "'mail_antivirus.on_unscannable'",
                 "DELIVER_WITH_HEADER");
}

TEST(MergeConfigText, RejectsUnknownKeys) {
  ExpectRejected("mail_antivirus:\n  acton_on_threat: block\n",
                 "server.yaml: unknown key 'mail_antivirus.acton_on_threat' "
                 "(vmscan.v1.MailAntivirusConfig has no such field; did you mean "
                 "'action_on_threat'?)");
  ExpectRejected("limits:\n  maxFile: 1\n", "unknown key 'limits.maxFile'", "vmscan.v1.ScanLimits",
                 "did you mean 'maxFiles'?");
  ServerConfig config;
  absl::Status status = Merge("frobnicate: 1", &config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr("unknown key 'frobnicate' (vmscan.v1.ServerConfig has no such"),
                    Not(HasSubstr("did you mean"))));
}

TEST(MergeConfigText, RejectsWrongShapes) {
  ExpectRejected("limits: 5", "key 'limits' expects a map (vmscan.v1.ScanLimits), got a scalar");
  ExpectRejected("limits: [1, 2]", "key 'limits' expects a map", "got a sequence");
  ExpectRejected("workers: {a: 1}", "key 'workers' expects uint32, got a map");
  ExpectRejected("listen: [a, b]", "key 'listen' expects string, got a sequence");
  AgentConfig agent = AgentDefaults();
  absl::Status status = Merge("servers: [a, [b, c]]", &agent);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("key 'servers[1]' expects a list of string"));
  EXPECT_THAT(agent.servers(), ElementsAre("127.0.0.1:7350"));
}

TEST(MergeConfigText, RejectsKeysWithoutValue) {
  ExpectRejected("listen:\n", "server.yaml: key 'listen' has no value");
  ExpectRejected("workers: 3\nlimits:\n  max_files: ~\n", "key 'limits.max_files' has no value");
  ExpectRejected("mail_antivirus: null", "key 'mail_antivirus' has no value");
  AgentConfig agent = AgentDefaults();
  absl::Status status = Merge("servers: [a, null]", &agent);
  EXPECT_THAT(std::string(status.message()), HasSubstr("key 'servers[1]' has no value"));
  status = Merge("servers:", &agent);
  EXPECT_THAT(std::string(status.message()), HasSubstr("key 'servers' has no value"));
  EXPECT_THAT(agent.servers(), ElementsAre("127.0.0.1:7350"));
}

TEST(MergeConfigText, RejectsBadDocuments) {
  ExpectRejected("- a\n- b\n", "server.yaml: the top level must be a map of keys, got a sequence");
  ExpectRejected("just words", "top level must be a map", "got a scalar");
  ExpectRejected("workers: 1\n---\nworkers: 2\n", "holds 2 YAML documents");
  ExpectRejected("workers: 1\nworkers: 2\n", "key 'workers' is given more than once");
  ExpectRejected("state_dir: a\nstateDir: b\n", "key 'stateDir' is given more than once");
  ExpectRejected("? [a, b]\n: c\n", "a key at top level is a sequence");
  ExpectRejected("limits:\n  ? {a: 1}\n  : 2\n", "a key in 'limits' is a map");
}

TEST(MergeConfigText, SyntaxErrorNamesLineAndColumn) {
  ExpectRejected("workers: 2\nlisten: a\n  bad: x\n",
                 "server.yaml:3:6: YAML syntax error: illegal map value");
  ExpectRejected("workers: 2\nlisten: *nope\n", "server.yaml:2:9: YAML syntax error:");
  ServerConfig config = Defaults();
  absl::Status status = MergeConfigText("{\"workers\" 2}", "server.json", &config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "server.json:1:12: YAML syntax error: end of map flow not found");
  EXPECT_TRUE(MessageDifferencer::Equals(config, Defaults()));
}

TEST(MergeConfigText, MapsAndOneofsAreUnimplemented) {
  google::protobuf::Struct with_map;
  absl::Status status = Merge("fields: {a: 1}", &with_map);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(status.message()), HasSubstr("key 'fields': map"));
  google::protobuf::Value with_oneof;
  status = Merge("numberValue: 1", &with_oneof);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(status.message()), HasSubstr("key 'numberValue': oneof"));
}

// ---- Files -------------------------------------------------------------------------------

class MergeConfigFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = ::testing::TempDir() + "/" + name;
    std::ofstream(path, std::ios::trunc) << text;
    return path;
  }
};

TEST_F(MergeConfigFileTest, ReadsYamlFile) {
  std::string path = Write("config_loader_test_server.yaml",
                           "# vmscan-server\nworkers: 2\nmail_antivirus:\n  action_on_threat: "
                           "disinfect\n");
  ServerConfig config = Defaults();
  ASSERT_TRUE(MergeConfigFile(path, &config).ok());
  EXPECT_EQ(config.workers(), 2u);
  EXPECT_EQ(config.mail_antivirus().action_on_threat(), ActionOnThreat::DISINFECT);
  EXPECT_EQ(config.listen(), "127.0.0.1:7350");
}

TEST_F(MergeConfigFileTest, ErrorsNameThePath) {
  std::string path = Write("config_loader_test_bad.yaml", "workers: 1\nwrokers: 2\n");
  ServerConfig config = Defaults();
  absl::Status status = MergeConfigFile(path, &config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(path + ": unknown key 'wrokers' (vmscan.v1.ServerConfig"));
  EXPECT_EQ(config.workers(), 4u);

  std::string missing = ::testing::TempDir() + "/config_loader_test_missing.yaml";
  status = MergeConfigFile(missing, &config);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(status.message()), HasSubstr(missing));

  status = MergeConfigFile(::testing::TempDir(), &config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("is a directory"));
}

TEST_F(MergeConfigFileTest, UnreadableFileIsPermissionDenied) {
  std::string path = Write("config_loader_test_secret.yaml", "workers: 1\n");
  ASSERT_EQ(chmod(path.c_str(), 0), 0);
  // Root reads every file, so the check runs in a child that drops to an unprivileged user.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(3);
    ServerConfig config;
    absl::Status status = MergeConfigFile(path, &config);
    if (status.code() != absl::StatusCode::kPermissionDenied) _exit(1);
    if (!absl::StrContains(status.message(), path)) _exit(2);
    _exit(0);
  }
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFEXITED(wait_status));
  EXPECT_EQ(WEXITSTATUS(wait_status), 0)
      << "1: not PermissionDenied, 2: path not named, 3: could not drop privileges";
}

// ---- Overrides ---------------------------------------------------------------------------

TEST(ApplyOverride, SetsScalarsByPath) {
  ServerConfig config = Defaults();
  ASSERT_TRUE(ApplyOverride("workers=0", &config).ok());
  ASSERT_TRUE(ApplyOverride("  limits.max_recursion \t=5", &config).ok());
  ASSERT_TRUE(ApplyOverride("mailAntivirus.actionOnThreat=block", &config).ok());
  ASSERT_TRUE(ApplyOverride("state_dir=/a=b", &config).ok());
  ASSERT_TRUE(ApplyOverride("log_level= debug", &config).ok());
  ASSERT_TRUE(ApplyOverride("listen=", &config).ok());
  EXPECT_EQ(config.workers(), 0u);
  EXPECT_EQ(config.limits().max_recursion(), 5u);
  EXPECT_EQ(config.limits().max_files(), 10000u);
  EXPECT_EQ(config.mail_antivirus().action_on_threat(), ActionOnThreat::BLOCK);
  EXPECT_EQ(config.state_dir(), "/a=b");
  EXPECT_EQ(config.log_level(), " debug");  // Value verbatim.
  EXPECT_EQ(config.listen(), "");
}

TEST(ApplyOverride, RepeatedFieldTakesCommaSeparatedList) {
  AgentConfig config = AgentDefaults();
  ASSERT_TRUE(ApplyOverride("servers=a:1,b:2", &config).ok());
  EXPECT_THAT(config.servers(), ElementsAre("a:1", "b:2"));
  ASSERT_TRUE(ApplyOverride("servers=c:3", &config).ok());
  EXPECT_THAT(config.servers(), ElementsAre("c:3"));
  ASSERT_TRUE(ApplyOverride("servers=", &config).ok());
  EXPECT_THAT(config.servers(), IsEmpty());
  ASSERT_TRUE(ApplyOverride("vm.id=vm-42", &config).ok());
  EXPECT_EQ(config.vm().id(), "vm-42");
}

TEST(ApplyOverride, Errors) {
  struct Case {
    const char* assignment;
    absl::StatusCode code;
    const char* message;
  };
  const Case cases[] = {
      {"workers", absl::StatusCode::kInvalidArgument,
       "override 'workers': expected path.to.field=value"},
      {"=5", absl::StatusCode::kInvalidArgument, "override '=5': empty field path"},
      {"  =5", absl::StatusCode::kInvalidArgument, "override '  =5': empty field path"},
      {"limits..max_files=1", absl::StatusCode::kInvalidArgument,
       "empty key in path 'limits..max_files'"},
      {"limits=5", absl::StatusCode::kInvalidArgument,
       "override 'limits=5': key 'limits' is a message (vmscan.v1.ScanLimits)"},
      {"mail_antivirus.nope=1", absl::StatusCode::kInvalidArgument,
       "unknown key 'mail_antivirus.nope' (vmscan.v1.MailAntivirusConfig"},
      {"workers.x=1", absl::StatusCode::kInvalidArgument,
       "key 'workers' is not a message, so it has no 'x'"},
      {"workers=-1", absl::StatusCode::kInvalidArgument,
       "override 'workers=-1': key 'workers' expects uint32"},
      {"workers= 1", absl::StatusCode::kInvalidArgument, "key 'workers' expects uint32"},
      {"mail_antivirus.on_unscannable=drop", absl::StatusCode::kInvalidArgument,
       "key 'mail_antivirus.on_unscannable' expects one of UNSPECIFIED, DELIVER_WITH_HEADER, "
       "BLOCK"},
  };
  for (const Case& c : cases) {
    ServerConfig config = Defaults();
    absl::Status status = ApplyOverride(c.assignment, &config);
    EXPECT_EQ(status.code(), c.code) << c.assignment << ": " << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.message)) << c.assignment;
    EXPECT_TRUE(MessageDifferencer::Equals(config, Defaults())) << c.assignment;
  }
  google::protobuf::Struct with_map;
  EXPECT_EQ(ApplyOverride("fields.a=1", &with_map).code(), absl::StatusCode::kUnimplemented);
  google::protobuf::Value with_oneof;
  EXPECT_EQ(ApplyOverride("string_value=x", &with_oneof).code(), absl::StatusCode::kUnimplemented);
  AgentConfig agent = AgentDefaults();
  EXPECT_THAT(std::string(ApplyOverride("servers.x=1", &agent).message()),
              HasSubstr("override 'servers.x=1': key 'servers' is a list, so it has no 'x'"));
  google::protobuf::ListValue list_of_messages;
  EXPECT_THAT(std::string(ApplyOverride("values=1", &list_of_messages).message()),
              HasSubstr("key 'values' is a list of messages"));
}

// ---- Printing ----------------------------------------------------------------------------

TEST(ConfigToJson, RoundTripsThroughMergeConfigText) {
  ServerConfig config = Defaults();
  config.mutable_mail_antivirus()->set_action_on_threat(ActionOnThreat::DISINFECT_ELSE_DELETE);
  config.mutable_limits()->set_max_scan_bytes(std::numeric_limits<uint64_t>::max());
  config.set_signatures_dir("/tmp/odd: name # not a comment\t\x01 é");
  std::string json = ConfigToJson(config);
  EXPECT_THAT(json, HasSubstr("\"action_on_threat\": \"DISINFECT_ELSE_DELETE\""));
  EXPECT_THAT(json, HasSubstr("\"max_scan_bytes\": \"18446744073709551615\""));
  ServerConfig back;
  back.set_workers(99);  // Every field is printed, so the zero must overwrite this.
  back.mutable_limits()->set_max_files(77);
  ASSERT_TRUE(MergeConfigText(json, "print-config", &back).ok()) << json;
  // Equivalent: printing every field gives each sub-message presence after the merge.
  EXPECT_TRUE(MessageDifferencer::Equivalent(back, config)) << json << back.DebugString();

  AgentConfig agent = AgentDefaults();
  AgentConfig agent_back;
  ASSERT_TRUE(MergeConfigText(ConfigToJson(agent), "print-config", &agent_back).ok());
  EXPECT_TRUE(MessageDifferencer::Equivalent(agent_back, agent));
}

}  // namespace
}  // namespace vmscan
