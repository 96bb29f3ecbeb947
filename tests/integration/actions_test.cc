// End to end: the Mail Anti-Virus actions of docs/design.md §2 through the real server in-process
// (gRPC, libclamav with the bundled signatures, LMDB Backup) and the real ScanClient, for every
// action_on_threat × kind of message × channel; the Backup rule (a record exactly for DELETE and
// DELIVER_DISINFECTED, holding the original byte for byte); the disinfected copy; unscannable
// content under on_unscannable=BLOCK; and size retention of the Backup through the server.
#include <openssl/sha.h>

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/integration/test_server.h"
#include "tests/testing/test_mail.h"

namespace vmscan::testing {
namespace {

// Vmscan.Test.Marker (deploy/signatures/README.md), split so that this file is not detected.
constexpr char kMarker[] =
    "VMSCAN-TEST-"
    "THREAT-7f3a9c";
constexpr char kBoundary[] = "=_actions";
// The text part, quoted-printable: its encoded bytes differ from its decoded text, so finding
// them in the disinfected copy shows the part was carried over as sent, not re-encoded.
constexpr char kEncodedText[] =
    "Caf=C3=A9 au lait =E2=80=94 please find the invoice attached; the amount is =\r\n"
    "due in thirty days.\r\n";

enum class Kind {
  kDisinfectable,       // clean text part + EICAR attachment: the attachment can be removed.
  kThreatInRawOnly,     // the marker in a top-level header; no part holds a threat.
  kSinglePartInfected,  // text/plain whose body is EICAR: the threat is the only content.
  kClean,               // text part + harmless attachment.
};

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kDisinfectable:
      return "disinfectable-multipart";
    case Kind::kThreatInRawOnly:
      return "threat-in-raw-only";
    case Kind::kSinglePartInfected:
      return "single-part-infected";
    case Kind::kClean:
      return "clean";
  }
  return "?";
}

// What docs/design.md §2 says must happen, written out by hand, one row per setting × message.
struct Row {
  const char* setting;
  Kind kind;
  v1::Action smtp_out;  // SMTP proxy, outgoing
  v1::Action pop3_in;   // POP3 proxy, incoming
  v1::Action cli;       // vmscan-agent scan (incoming)
};

// clang-format off
constexpr Row kExpected[] = {
  // setting                  message                    SMTP out     POP3 in                  CLI
  {"AUTO",                  Kind::kDisinfectable,      v1::BLOCK,   v1::DELIVER_DISINFECTED, v1::DELIVER_DISINFECTED},
  {"AUTO",                  Kind::kThreatInRawOnly,    v1::BLOCK,   v1::DELETE,              v1::DELETE},
  {"AUTO",                  Kind::kSinglePartInfected, v1::BLOCK,   v1::DELETE,              v1::DELETE},
  {"AUTO",                  Kind::kClean,              v1::DELIVER, v1::DELIVER,             v1::DELIVER},
  {"DISINFECT_ELSE_DELETE", Kind::kDisinfectable,      v1::BLOCK,   v1::DELIVER_DISINFECTED, v1::DELIVER_DISINFECTED},
  {"DISINFECT_ELSE_DELETE", Kind::kThreatInRawOnly,    v1::BLOCK,   v1::DELETE,              v1::DELETE},
  {"DISINFECT_ELSE_DELETE", Kind::kSinglePartInfected, v1::BLOCK,   v1::DELETE,              v1::DELETE},
  {"DISINFECT_ELSE_DELETE", Kind::kClean,              v1::DELIVER, v1::DELIVER,             v1::DELIVER},
  {"DISINFECT",             Kind::kDisinfectable,      v1::BLOCK,   v1::DELIVER_DISINFECTED, v1::DELIVER_DISINFECTED},
  {"DISINFECT",             Kind::kThreatInRawOnly,    v1::BLOCK,   v1::BLOCK,               v1::BLOCK},
  {"DISINFECT",             Kind::kSinglePartInfected, v1::BLOCK,   v1::BLOCK,               v1::BLOCK},
  {"DISINFECT",             Kind::kClean,              v1::DELIVER, v1::DELIVER,             v1::DELIVER},
  {"DELETE",                Kind::kDisinfectable,      v1::BLOCK,   v1::DELETE,              v1::DELETE},
  {"DELETE",                Kind::kThreatInRawOnly,    v1::BLOCK,   v1::DELETE,              v1::DELETE},
  {"DELETE",                Kind::kSinglePartInfected, v1::BLOCK,   v1::DELETE,              v1::DELETE},
  {"DELETE",                Kind::kClean,              v1::DELIVER, v1::DELIVER,             v1::DELIVER},
  {"BLOCK",                 Kind::kDisinfectable,      v1::BLOCK,   v1::BLOCK,               v1::BLOCK},
  {"BLOCK",                 Kind::kThreatInRawOnly,    v1::BLOCK,   v1::BLOCK,               v1::BLOCK},
  {"BLOCK",                 Kind::kSinglePartInfected, v1::BLOCK,   v1::BLOCK,               v1::BLOCK},
  {"BLOCK",                 Kind::kClean,              v1::DELIVER, v1::DELIVER,             v1::DELIVER},
};
// clang-format on

struct Channel {
  const char* name;
  v1::Channel channel;
  v1::Direction direction;
};
constexpr Channel kSmtpOut = {"smtp-out", v1::SMTP, v1::OUTGOING};
constexpr Channel kPop3In = {"pop3-in", v1::POP3, v1::INCOMING};
constexpr Channel kCli = {"cli", v1::CLI, v1::INCOMING};

// Independent of the product's own hashing (common/sha256).
std::string Sha256Of(absl::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::string Base64Lines(absl::string_view data) {
  std::string encoded;
  absl::Base64Escape(data, &encoded);
  std::string wrapped;
  for (size_t i = 0; i < encoded.size(); i += 76) {
    absl::StrAppend(&wrapped, encoded.substr(i, 76), "\r\n");
  }
  return wrapped;
}

std::string Headers(absl::string_view token, absl::string_view extra = "") {
  return absl::StrCat("From: sender@example.org\r\nTo: rcpt@example.net\r\nSubject: case ", token,
                      "\r\nMessage-ID: <", token, "@example.org>\r\n", extra,
                      "MIME-Version: 1.0\r\n");
}

std::string Multipart(absl::string_view token, absl::string_view extra_header,
                      absl::string_view filename, absl::string_view type,
                      absl::string_view attachment) {
  return absl::StrCat(Headers(token, extra_header), "Content-Type: multipart/mixed; boundary=\"",
                      kBoundary, "\"\r\n\r\n--", kBoundary,
                      "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                      "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                      kEncodedText, "--", kBoundary, "\r\nContent-Type: ", type, "; name=\"",
                      filename, "\"\r\nContent-Disposition: attachment; filename=\"", filename,
                      "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", Base64Lines(attachment),
                      "--", kBoundary, "--\r\n");
}

// Each message carries `token`, so that no two cases send the same bytes.
std::string MakeMessage(Kind kind, absl::string_view token) {
  switch (kind) {
    case Kind::kDisinfectable:
      return Multipart(token, "", "invoice.com", "application/octet-stream", Eicar());
    case Kind::kThreatInRawOnly:
      return Multipart(token, absl::StrCat("X-Campaign: ", kMarker, "\r\n"), "notes.txt",
                       "text/plain", "harmless notes\n");
    case Kind::kSinglePartInfected:
      return absl::StrCat(Headers(token), "Content-Type: text/plain\r\n\r\n", Eicar(), "\r\n");
    case Kind::kClean:
      return Multipart(token, "", "notes.txt", "text/plain", "harmless notes\n");
  }
  return "";
}

// The detection name expected for an infected kind (libclamav adds ".UNOFFICIAL").
std::string ThreatPrefix(Kind kind) {
  return kind == Kind::kThreatInRawOnly ? "Vmscan.Test.Marker" : "Eicar-Test-Signature";
}

std::vector<std::string> ThreatNames(
    const google::protobuf::RepeatedPtrField<v1::Threat>& threats) {
  std::vector<std::string> names;
  for (const v1::Threat& t : threats) names.push_back(t.name());
  return names;
}

std::set<std::string> StoredIds(BackupStore& store) {
  v1::BackupFilter filter;
  filter.set_limit(100000);
  absl::StatusOr<std::vector<v1::BackupRecord>> records = store.List(filter);
  EXPECT_TRUE(records.ok()) << records.status();
  std::set<std::string> ids;
  if (records.ok()) {
    for (const v1::BackupRecord& r : *records) ids.insert(r.id());
  }
  return ids;
}

// The top-level header block of a message (up to the first empty line).
absl::string_view HeaderBlock(absl::string_view message) {
  size_t end = message.find("\r\n\r\n");
  return end == absl::string_view::npos ? message : message.substr(0, end + 2);
}

// Lines joined by single spaces: the notice is word-wrapped at 76 columns.
std::string Unwrapped(absl::string_view text) {
  std::string joined = absl::StrReplaceAll(text, {{"\r\n", " "}, {"\n", " "}});
  std::string collapsed;
  for (char c : joined) {
    if (c == ' ' && !collapsed.empty() && collapsed.back() == ' ') continue;
    collapsed.push_back(c);
  }
  return collapsed;
}

// A HostServer started by StartTestServer's rules whose state dir (its Backup) is removed when
// the object goes.
class ScopedServer {
 public:
  ~ScopedServer() {
    client_.reset();
    server_.reset();
    if (!state_dir_.empty()) std::filesystem::remove_all(state_dir_);
  }

  absl::Status Start(const std::vector<std::string>& sets) {
    absl::StatusOr<v1::ServerConfig> config = TestServerConfig(sets);
    if (!config.ok()) return config.status();
    state_dir_ = config->state_dir();
    absl::StatusOr<std::unique_ptr<HostServer>> server = HostServer::Start(*config);
    if (!server.ok()) return server.status();
    server_ = *std::move(server);
    client_ = ClientFor(*server_);
    return absl::OkStatus();
  }

  BackupStore& store() { return *server_->backup(); }
  ScanClient& client() { return *client_; }

 private:
  std::string state_dir_;
  std::unique_ptr<HostServer> server_;
  std::unique_ptr<ScanClient> client_;
};

class ActionsTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    absl::Status started =
        server_.Start({absl::StrCat("mail_antivirus.action_on_threat=", GetParam())});
    ASSERT_TRUE(started.ok()) << started;
  }

  // One scan and every check of docs/design.md §2 and §5 that applies to its outcome.
  void CheckCase(Kind kind, const Channel& channel, v1::Action expected) {
    const std::string token =
        absl::StrCat(GetParam(), "-", KindName(kind), "-", channel.name, "-", absl::BitGen()());
    SCOPED_TRACE(token);
    const std::string message = MakeMessage(kind, token);
    v1::ScanMetadata metadata = TestMetadata(channel.channel, channel.direction);
    const std::string vm_id = absl::StrCat("vm-", token);
    metadata.mutable_vm()->set_id(vm_id);
    BackupStore& store = server_.store();
    const std::set<std::string> before = StoredIds(store);

    absl::StatusOr<ScanResponse> r = server_.client().Scan(metadata, message);
    ASSERT_TRUE(r.ok()) << r.status();
    const v1::ScanResult& result = r->result;
    EXPECT_EQ(result.action(), expected)
        << "got " << v1::Action_Name(result.action()) << " (" << result.action_reason() << ")";
    EXPECT_EQ(result.sha256(), Sha256Of(message));
    EXPECT_EQ(result.size(), message.size());
    if (kind == Kind::kClean) {
      EXPECT_EQ(result.verdict(), v1::CLEAN);
      EXPECT_EQ(result.threats_size(), 0);
    } else {
      EXPECT_EQ(result.verdict(), v1::INFECTED);
      ASSERT_GE(result.threats_size(), 1);
      for (const v1::Threat& t : result.threats()) {
        EXPECT_TRUE(absl::StartsWith(t.name(), ThreatPrefix(kind))) << t.name();
      }
      if (kind == Kind::kThreatInRawOnly) {
        for (const v1::Threat& t : result.threats()) EXPECT_EQ(t.part_path(), "") << t.name();
      }
      if (kind == Kind::kDisinfectable) {
        EXPECT_EQ(result.threats(0).filename(), "invoice.com");
      }
    }

    const std::set<std::string> after = StoredIds(store);
    const bool backed_up = expected == v1::DELETE || expected == v1::DELIVER_DISINFECTED;
    if (!backed_up) {
      EXPECT_EQ(result.backup_id(), "");
      EXPECT_EQ(after, before) << "the store gained or lost a record";
    } else {
      ASSERT_NE(result.backup_id(), "");
      std::set<std::string> expected_ids = before;
      expected_ids.insert(result.backup_id());
      EXPECT_EQ(after, expected_ids) << "want exactly one new record, the reply's";
      EXPECT_EQ(before.count(result.backup_id()), 0u);
      CheckBackupRecord(result, metadata, message, token, expected);
    }

    if (expected == v1::DELIVER_DISINFECTED) {
      CheckDisinfected(*r, message);
    } else {
      EXPECT_EQ(r->cleaned, "");
      EXPECT_EQ(result.cleaned_size(), 0u);
    }
  }

  void CheckBackupRecord(const v1::ScanResult& result, const v1::ScanMetadata& metadata,
                         const std::string& message, const std::string& token,
                         v1::Action expected) {
    BackupStore& store = server_.store();
    absl::StatusOr<v1::BackupRecord> record = store.Get(result.backup_id());
    ASSERT_TRUE(record.ok()) << record.status();
    EXPECT_EQ(record->id(), result.backup_id());
    EXPECT_EQ(record->action(), expected);
    EXPECT_EQ(record->vm().id(), metadata.vm().id());
    EXPECT_EQ(record->vm().name(), metadata.vm().name());
    EXPECT_EQ(record->channel(), metadata.channel());
    EXPECT_EQ(record->direction(), metadata.direction());
    EXPECT_EQ(ThreatNames(record->threats()), ThreatNames(result.threats()));
    EXPECT_FALSE(record->threats().empty());
    EXPECT_EQ(record->subject(), absl::StrCat("case ", token));
    EXPECT_EQ(record->message_id(), absl::StrCat("<", token, "@example.org>"));
    EXPECT_EQ(record->size(), message.size());
    EXPECT_EQ(record->sha256(), result.sha256());
    EXPECT_EQ(record->damage(), "");

    absl::StatusOr<std::string> original = store.GetOriginal(result.backup_id());
    ASSERT_TRUE(original.ok()) << original.status();
    EXPECT_TRUE(*original == message) << "stored original differs from what was sent";
    EXPECT_EQ(Sha256Of(*original), result.sha256());
  }

  void CheckDisinfected(const ScanResponse& r, const std::string& message) {
    const std::string& cleaned = r.cleaned;
    ASSERT_FALSE(cleaned.empty());
    EXPECT_EQ(r.result.cleaned_size(), cleaned.size());
    EXPECT_NE(cleaned, message);
    // The status header, in the top-level header block.
    EXPECT_TRUE(absl::StrContains(HeaderBlock(cleaned), "\r\nX-Vmscan-Status: disinfected"))
        << HeaderBlock(cleaned);
    // The notice names the removed file and the threat.
    const std::string text = Unwrapped(cleaned);
    EXPECT_TRUE(absl::StrContains(text, "removed the attachment \"invoice.com\"")) << cleaned;
    EXPECT_TRUE(absl::StrContains(text, r.result.threats(0).name())) << cleaned;
    // The infected attachment is gone; the clean text part is there as it was encoded.
    EXPECT_FALSE(absl::StrContains(cleaned, Base64Lines(Eicar()))) << cleaned;
    EXPECT_TRUE(absl::StrContains(cleaned, kEncodedText)) << cleaned;

    // Sent back through the server, the copy is clean and nothing is backed up.
    BackupStore& store = server_.store();
    const std::set<std::string> before = StoredIds(store);
    v1::ScanMetadata metadata = TestMetadata(v1::POP3, v1::INCOMING);
    absl::StatusOr<ScanResponse> rescan = server_.client().Scan(metadata, cleaned);
    ASSERT_TRUE(rescan.ok()) << rescan.status();
    EXPECT_EQ(rescan->result.verdict(), v1::CLEAN);
    EXPECT_EQ(rescan->result.threats_size(), 0);
    EXPECT_EQ(rescan->result.action(), v1::DELIVER);
    EXPECT_EQ(rescan->result.backup_id(), "");
    EXPECT_EQ(StoredIds(store), before);
  }

  ScopedServer server_;
};

TEST_P(ActionsTest, EveryMessageOnEveryChannelGetsTheActionOfTheSpecTable) {
  int rows = 0;
  for (const Row& row : kExpected) {
    if (absl::string_view(row.setting) != GetParam()) continue;
    ++rows;
    CheckCase(row.kind, kSmtpOut, row.smtp_out);
    CheckCase(row.kind, kPop3In, row.pop3_in);
    CheckCase(row.kind, kCli, row.cli);
  }
  EXPECT_EQ(rows, 4) << "the table must have one row per kind of message";
}

INSTANTIATE_TEST_SUITE_P(AllActionsOnThreat, ActionsTest,
                         ::testing::Values("AUTO", "DISINFECT_ELSE_DELETE", "DISINFECT", "DELETE",
                                           "BLOCK"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

TEST(OnUnscannableTest, BlockBlocksAnEncryptedZipOnEveryChannelWithoutBackup) {
  ScopedServer server;
  absl::Status started = server.Start({"mail_antivirus.on_unscannable=BLOCK"});
  ASSERT_TRUE(started.ok()) << started;
  absl::StatusOr<std::string> zip = MakeZip({{"secret.txt", "harmless but locked"}}, "s3cret");
  ASSERT_TRUE(zip.ok()) << zip.status();
  for (const Channel& channel : {kSmtpOut, kPop3In, kCli}) {
    SCOPED_TRACE(channel.name);
    const std::string message =
        Multipart(absl::StrCat("locked-", channel.name), "", "locked.zip", "application/zip", *zip);
    const std::set<std::string> before = StoredIds(server.store());
    absl::StatusOr<ScanResponse> r =
        server.client().Scan(TestMetadata(channel.channel, channel.direction), message);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->result.verdict(), v1::UNSCANNABLE);
    EXPECT_EQ(r->result.unscannable_reason(), v1::ENCRYPTED);
    EXPECT_EQ(r->result.action(), v1::BLOCK) << r->result.action_reason();
    EXPECT_EQ(r->result.backup_id(), "");
    EXPECT_EQ(r->cleaned, "");
    EXPECT_EQ(StoredIds(server.store()), before);
  }
}

// docs/design.md §5 / backup.proto: what a Backup record says about the message, with an envelope
// (CLI with --from/--to) and without one (POP3).
class BackupRecordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status started = server_.Start({"mail_antivirus.action_on_threat=DELETE"});
    ASSERT_TRUE(started.ok()) << started;
  }

  // Scans `message` (which must be deleted) and returns its Backup record.
  absl::StatusOr<v1::BackupRecord> Delete(const v1::ScanMetadata& metadata,
                                          const std::string& message) {
    absl::StatusOr<ScanResponse> r = server_.client().Scan(metadata, message);
    if (!r.ok()) return r.status();
    if (r->result.action() != v1::DELETE || r->result.backup_id().empty()) {
      return absl::InternalError(absl::StrCat("not deleted: ", r->result.action_reason()));
    }
    return server_.store().Get(r->result.backup_id());
  }

  static std::string Message(absl::string_view subject) {
    return absl::StrCat(
        "From: \"Alice Sender\" <alice@example.org>\r\n"
        "To: \"Bob\" <bob@example.net>, carol@example.net\r\n"
        "Cc: dave@example.net\r\n"
        "Subject: ",
        subject, "\r\nMessage-ID: <record-", absl::BitGen()(),
        "@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n", Eicar(), "\r\n");
  }

  ScopedServer server_;
};

TEST_F(BackupRecordTest, EnvelopeSenderAndRecipientsAreRecorded) {
  v1::ScanMetadata metadata = TestMetadata(v1::CLI, v1::INCOMING);
  metadata.set_envelope_sender("bounce@example.org");
  metadata.add_envelope_recipients("r1@example.net");
  metadata.add_envelope_recipients("r2@example.net");
  const int64_t before = absl::ToUnixMicros(absl::Now());
  absl::StatusOr<v1::BackupRecord> record = Delete(metadata, Message("plain subject"));
  const int64_t after = absl::ToUnixMicros(absl::Now());
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->envelope_sender(), "bounce@example.org");
  EXPECT_EQ(std::vector<std::string>(record->recipients().begin(), record->recipients().end()),
            (std::vector<std::string>{"r1@example.net", "r2@example.net"}));
  EXPECT_EQ(record->subject(), "plain subject");
  EXPECT_EQ(record->vm().id(), "test-vm-1");
  EXPECT_EQ(record->group(), "Managed devices");  // the VM's group at backup time
  EXPECT_GE(record->created_unix_micros(), before);
  EXPECT_LE(record->created_unix_micros(), after);
}

// backup.proto: recipients are "SMTP RCPT TO, or the message's To/Cc when no envelope".
TEST_F(BackupRecordTest, RecipientsFallBackToToAndCcWithoutAnEnvelope) {
  absl::StatusOr<v1::BackupRecord> record =
      Delete(TestMetadata(v1::POP3, v1::INCOMING), Message("no envelope"));
  ASSERT_TRUE(record.ok()) << record.status();
  const std::string recipients = absl::StrJoin(record->recipients(), " | ");
  for (const char* address : {"bob@example.net", "carol@example.net", "dave@example.net"}) {
    EXPECT_TRUE(absl::StrContains(recipients, address))
        << address << " missing from recipients [" << recipients << "]";
  }
}

// backup.proto: subject is the "decoded Subject header" (RFC 2047 encoded words decoded).
TEST_F(BackupRecordTest, SubjectIsDecoded) {
  absl::StatusOr<v1::BackupRecord> record =
      Delete(TestMetadata(v1::POP3, v1::INCOMING), Message("=?utf-8?q?Rechnung_f=C3=BCr_Sie?="));
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->subject(), "Rechnung f\xC3\xBCr Sie");
}

// backup.max_total_bytes through the server: after every DELETE the store keeps the newest
// records whose stored sizes fit in the limit (at least the newest) and removed the older ones.
TEST(BackupRetentionTest, SizeLimitRemovesOldestFirstAndKeepsTheNewest) {
  constexpr uint64_t kLimit = 4096;
  ScopedServer server;
  absl::Status started = server.Start(
      {"mail_antivirus.action_on_threat=DELETE", absl::StrCat("backup.max_total_bytes=", kLimit)});
  ASSERT_TRUE(started.ok()) << started;
  BackupStore& store = server.store();
  absl::BitGen bitgen;

  std::vector<std::string> ids;  // in the order the scans were made
  std::vector<uint64_t> stored_sizes;
  size_t most_kept = 0;
  for (int i = 0; i < 8; ++i) {
    SCOPED_TRACE(absl::StrCat("scan ", i));
    // 1,200 random bytes compress badly (~1,650 stored): two records fit in 4 KiB, three do not.
    std::string payload(1200, '\0');
    for (char& c : payload) c = static_cast<char>(absl::Uniform<uint8_t>(bitgen));
    const std::string message =
        Multipart(absl::StrCat("retention-", i), "", "invoice.com", "application/octet-stream",
                  absl::StrCat(Eicar(), payload));
    absl::StatusOr<ScanResponse> r = server.client().Scan(TestMetadata(), message);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->result.action(), v1::DELETE) << r->result.action_reason();
    ASSERT_NE(r->result.backup_id(), "");
    absl::StatusOr<v1::BackupRecord> record = store.Get(r->result.backup_id());
    ASSERT_TRUE(record.ok()) << record.status();  // the newest record is always kept
    ids.push_back(r->result.backup_id());
    stored_sizes.push_back(record->stored_size());

    // Expected survivors: the newest, then older ones while the total stays within the limit.
    size_t keep = 1;
    uint64_t total = stored_sizes.back();
    while (keep < ids.size() && total + stored_sizes[ids.size() - 1 - keep] <= kLimit) {
      total += stored_sizes[ids.size() - 1 - keep];
      ++keep;
    }
    std::vector<std::string> expected(ids.rbegin(), ids.rbegin() + keep);  // newest first
    v1::BackupFilter filter;
    filter.set_limit(1000);
    absl::StatusOr<std::vector<v1::BackupRecord>> listed = store.List(filter);
    ASSERT_TRUE(listed.ok()) << listed.status();
    std::vector<std::string> listed_ids;
    for (const v1::BackupRecord& rec : *listed) listed_ids.push_back(rec.id());
    EXPECT_EQ(listed_ids, expected);
    absl::StatusOr<v1::BackupStats> stats = store.Stats();
    ASSERT_TRUE(stats.ok()) << stats.status();
    EXPECT_EQ(stats->records(), keep);
    EXPECT_EQ(stats->stored_bytes(), total);
    EXPECT_LE(stats->stored_bytes(), kLimit);
    most_kept = std::max(most_kept, keep);
  }
  // Not vacuous: the limit both kept several records and removed many.
  EXPECT_GE(most_kept, 2u);
  absl::StatusOr<v1::BackupStats> stats = store.Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_GE(ids.size() - stats->records(), 4u) << "too few records were removed";
  for (size_t i = 0; i + stats->records() < ids.size(); ++i) {
    EXPECT_TRUE(absl::IsNotFound(store.Get(ids[i]).status())) << "record " << i << " not removed";
  }
}

}  // namespace
}  // namespace vmscan::testing
