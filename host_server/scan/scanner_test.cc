// Scanner over a fake engine and a fake Backup: the action rules of docs/design.md §2 as the
// pipeline applies them, the Backup rule, the VM's settings and bounds. The same pipeline runs
// against libclamav and LMDB in tests/integration/actions_test.cc.
#include "host_server/scan/scanner.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "host_server/backup/fake_backup_store.h"
#include "host_server/engine/fake_scan_engine.h"
#include "tests/testing/test_mail.h"

namespace vmscan {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::vmscan::testing::MailWithAttachment;
using ::vmscan::testing::PlainMail;
using ActionSetting = v1::ActionOnThreat::Value;

constexpr char kMarker[] = "EVIL-MARKER";
constexpr char kThreat[] = "Fake.Evil";

// An attachment holding the marker: only its decoded part shows it, so the threat is tied to the
// part and disinfection can replace it.
std::string InfectedAttachment() {
  return MailWithAttachment("evil.bin", "application/octet-stream",
                            absl::StrCat("payload ", kMarker, " payload"));
}

// The ways disinfection fails (docs/design.md §2), each as a message.
struct FailingCase {
  const char* what;
  std::string message;
};
std::vector<FailingCase> DisinfectionFailures() {
  std::string nested = "From: a@example.org\r\n";
  // Deeper than mime_parts.h allows: the message cannot be parsed, only the raw scan sees it.
  for (int i = 0; i < 40; ++i) absl::StrAppend(&nested, "Content-Type: message/rfc822\r\n\r\n");
  absl::StrAppend(&nested, "Subject: innermost\r\n\r\n", kMarker, "\r\n");
  return {
      {"threat not tied to a part (in a header)",
       absl::StrCat("X-Evil: ", kMarker, "\r\n", MailWithAttachment("a.txt", "text/plain", "ok"))},
      {"unparsable message", nested},
      {"infected part is the only content", PlainMail("only", kMarker)},
      {"rescan still detects", MailWithAttachment("trap.bin", "application/octet-stream", kMarker)},
  };
}

v1::ScanMetadata Pop3() {
  v1::ScanMetadata metadata;
  metadata.mutable_vm()->set_id("vm-1");
  metadata.set_channel(v1::POP3);
  metadata.set_direction(v1::INCOMING);
  return metadata;
}

v1::MailAntivirusConfig Settings(ActionSetting action, v1::OnUnscannable::Value on_unscannable =
                                                           v1::OnUnscannable::DELIVER_WITH_HEADER) {
  v1::MailAntivirusConfig settings;
  settings.set_action_on_threat(action);
  settings.set_on_unscannable(on_unscannable);
  return settings;
}

class ScannerTest : public ::testing::Test {
 protected:
  ScannerTest() : engine_(std::make_shared<FakeScanEngine>()), slot_(engine_) {
    engine_->AddThreat(kMarker, kThreat);
    engine_->AddUnscannable("LOCKED-MARKER", v1::ENCRYPTED, "Fake.Encrypted");
    // Only the notice that replaces an attachment "trap.bin" says this: the rescan of such a
    // disinfected copy still detects something.
    engine_->AddThreat("the attachment \"trap.bin\"", "Fake.StillThere");
  }

  absl::StatusOr<ScanOutcome> Scan(const v1::MailAntivirusConfig& settings,
                                   const std::string& message,
                                   const v1::ScanMetadata& metadata = Pop3(),
                                   VmSettingsSource per_vm = nullptr) {
    Scanner scanner(&slot_, &backup_, settings, std::move(per_vm));
    return scanner.Scan(metadata, message);
  }

  std::shared_ptr<FakeScanEngine> engine_;
  EngineSlot slot_;
  FakeBackupStore backup_;
};

TEST_F(ScannerTest, DisinfectableAttachmentIsDisinfectedAndBackedUp) {
  absl::StatusOr<ScanOutcome> outcome =
      Scan(Settings(v1::ActionOnThreat::AUTO), InfectedAttachment());
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->result.verdict(), v1::INFECTED);
  EXPECT_EQ(outcome->result.action(), v1::DELIVER_DISINFECTED);
  EXPECT_THAT(outcome->cleaned, HasSubstr("X-Vmscan-Status: disinfected"));
  EXPECT_THAT(outcome->cleaned, Not(HasSubstr(kMarker)));
  EXPECT_EQ(outcome->result.backup_id(), "fake-1");
  EXPECT_EQ(backup_.size(), 1u);
}

TEST_F(ScannerTest, EveryDisinfectionFailureFallsBackAsTheSettingSays) {
  struct Expectation {
    ActionSetting setting;
    v1::Action fallback;
  };
  const Expectation expectations[] = {
      {v1::ActionOnThreat::DISINFECT, v1::BLOCK},
      {v1::ActionOnThreat::DISINFECT_ELSE_DELETE, v1::DELETE},
      {v1::ActionOnThreat::AUTO, v1::DELETE},
  };
  for (const FailingCase& c : DisinfectionFailures()) {
    for (const Expectation& e : expectations) {
      SCOPED_TRACE(absl::StrCat(c.what, ", ", v1::ActionOnThreat::Value_Name(e.setting)));
      const size_t backups_before = backup_.size();
      absl::StatusOr<ScanOutcome> outcome = Scan(Settings(e.setting), c.message);
      ASSERT_TRUE(outcome.ok()) << outcome.status();
      EXPECT_EQ(outcome->result.verdict(), v1::INFECTED);
      EXPECT_EQ(outcome->result.action(), e.fallback);
      EXPECT_THAT(outcome->result.action_reason(), HasSubstr("disinfection failed"));
      EXPECT_THAT(outcome->cleaned, IsEmpty());
      EXPECT_EQ(outcome->result.cleaned_size(), 0u);
      // Deleted: the original is in Backup; blocked: the agent keeps it, nothing to back up.
      const bool deleted = e.fallback == v1::DELETE;
      EXPECT_EQ(backup_.size(), backups_before + (deleted ? 1 : 0));
      EXPECT_EQ(outcome->result.backup_id().empty(), !deleted);
    }
  }
}

TEST_F(ScannerTest, AFailedBackupWriteRefusesTheAction) {
  backup_.fail_puts = absl::UnavailableError("disk gone");
  for (ActionSetting setting : {v1::ActionOnThreat::DELETE, v1::ActionOnThreat::AUTO}) {
    SCOPED_TRACE(v1::ActionOnThreat::Value_Name(setting));
    const int puts_before = backup_.puts();
    absl::StatusOr<ScanOutcome> outcome = Scan(Settings(setting), InfectedAttachment());
    EXPECT_EQ(outcome.status().code(), absl::StatusCode::kAborted);  // not "no scanner"
    EXPECT_THAT(outcome.status().message(), HasSubstr("disk gone"));
    EXPECT_EQ(backup_.puts(), puts_before + 1) << "the copy was attempted";
  }
  EXPECT_EQ(backup_.size(), 0u);
}

TEST_F(ScannerTest, AThreatSentViaSmtpIsBlockedWhateverTheSettingWithoutBackup) {
  v1::ScanMetadata smtp = Pop3();
  smtp.set_channel(v1::SMTP);
  smtp.set_direction(v1::OUTGOING);
  v1::ScanMetadata milter_out = smtp;
  milter_out.set_channel(v1::MILTER);
  for (const v1::ScanMetadata& metadata : {smtp, milter_out}) {
    for (ActionSetting setting :
         {v1::ActionOnThreat::AUTO, v1::ActionOnThreat::DISINFECT_ELSE_DELETE,
          v1::ActionOnThreat::DISINFECT, v1::ActionOnThreat::DELETE, v1::ActionOnThreat::BLOCK}) {
      SCOPED_TRACE(absl::StrCat(v1::Channel_Name(metadata.channel()), ", ",
                                v1::ActionOnThreat::Value_Name(setting)));
      absl::StatusOr<ScanOutcome> outcome = Scan(Settings(setting), InfectedAttachment(), metadata);
      ASSERT_TRUE(outcome.ok()) << outcome.status();
      EXPECT_EQ(outcome->result.action(), v1::BLOCK);
      EXPECT_THAT(outcome->result.action_reason(), HasSubstr("SMTP rule"));
      EXPECT_TRUE(outcome->result.backup_id().empty());
    }
  }
  EXPECT_EQ(backup_.puts(), 0);
  for (const FakeScanEngine::Call& call : engine_->calls()) {
    EXPECT_THAT(call.data, Not(HasSubstr("X-Vmscan-Status"))) << "no disinfection was tried";
  }
}

TEST_F(ScannerTest, UnscannableFollowsOnUnscannable) {
  const std::string locked = PlainMail("locked", "LOCKED-MARKER");
  absl::StatusOr<ScanOutcome> delivered =
      Scan(Settings(v1::ActionOnThreat::DELETE, v1::OnUnscannable::DELIVER_WITH_HEADER), locked);
  ASSERT_TRUE(delivered.ok()) << delivered.status();
  EXPECT_EQ(delivered->result.verdict(), v1::UNSCANNABLE);
  EXPECT_EQ(delivered->result.unscannable_reason(), v1::ENCRYPTED);
  EXPECT_EQ(delivered->result.action(), v1::DELIVER);

  absl::StatusOr<ScanOutcome> blocked =
      Scan(Settings(v1::ActionOnThreat::DELETE, v1::OnUnscannable::BLOCK), locked);
  ASSERT_TRUE(blocked.ok()) << blocked.status();
  EXPECT_EQ(blocked->result.verdict(), v1::UNSCANNABLE);
  EXPECT_EQ(blocked->result.action(), v1::BLOCK);
  EXPECT_EQ(backup_.puts(), 0);
}

TEST_F(ScannerTest, WithoutTheVmsSettingsTheServersApplyAndTheFailureIsLogged) {
  ::testing::internal::CaptureStderr();
  absl::StatusOr<ScanOutcome> outcome =
      Scan(Settings(v1::ActionOnThreat::DELETE), InfectedAttachment(), Pop3(),
           [](const v1::VmIdentity&) -> absl::StatusOr<VmScanSettings> {
             return absl::UnavailableError("control store down");
           });
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->result.action(), v1::DELETE) << "the server's action_on_threat";
  EXPECT_THAT(log, HasSubstr("settings of VM vm-1 unavailable"));
  EXPECT_THAT(log, HasSubstr("control store down"));
}

// The VM's limits reach the engine on every scan of its message: the raw scan, the part scans
// and both again for the rescan of the disinfected copy.
TEST_F(ScannerTest, TheVmsBoundsReachEveryEngineScan) {
  v1::MailAntivirusSettings vm;
  vm.set_enabled(true);
  vm.set_action_on_threat(v1::ActionOnThreat::AUTO);
  vm.set_on_unscannable(v1::OnUnscannable::DELIVER_WITH_HEADER);
  vm.mutable_limits()->set_max_scan_bytes(1 << 20);
  vm.mutable_limits()->set_max_file_bytes(4096);
  vm.mutable_limits()->set_max_recursion(3);
  vm.mutable_limits()->set_max_files(7);
  vm.mutable_limits()->set_max_scan_time_ms(250);
  ScanBounds expected;
  expected.max_scan_bytes = 1 << 20;
  expected.max_file_bytes = 4096;
  expected.max_recursion = 3;
  expected.max_files = 7;
  expected.max_scan_time_ms = 250;

  absl::StatusOr<ScanOutcome> outcome =
      Scan(Settings(v1::ActionOnThreat::BLOCK), InfectedAttachment(), Pop3(),
           [&vm](const v1::VmIdentity&) -> absl::StatusOr<VmScanSettings> {
             return VmScanSettings{vm, "Managed devices/Finance"};
           });
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->result.action(), v1::DELIVER_DISINFECTED) << "the VM's AUTO, not BLOCK";
  // The Backup record names the VM's group (docs/design.md §5).
  absl::StatusOr<v1::BackupRecord> record = backup_.Get(outcome->result.backup_id());
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->group(), "Managed devices/Finance");

  int raw = 0, parts = 0, rescans = 0;
  for (const FakeScanEngine::Call& call : engine_->calls()) {
    EXPECT_EQ(call.bounds, expected) << call.name;
    if (absl::StrContains(call.data, "X-Vmscan-Status")) ++rescans;
    (call.recording_inspected ? raw : parts) += 1;
  }
  EXPECT_EQ(raw, 2) << "the message and its disinfected copy";
  EXPECT_EQ(parts, 4) << "two parts each";
  EXPECT_EQ(rescans, 1) << "the rescan's raw scan sees the new header";

  // Without a VM source no bounds beyond the engine's own.
  Scanner plain(&slot_, &backup_, Settings(v1::ActionOnThreat::AUTO));
  const size_t before = engine_->calls().size();
  ASSERT_TRUE(plain.Scan(Pop3(), InfectedAttachment()).ok());
  const std::vector<FakeScanEngine::Call> calls = engine_->calls();
  ASSERT_GT(calls.size(), before);
  for (size_t i = before; i < calls.size(); ++i) EXPECT_TRUE(calls[i].bounds.none());
}

}  // namespace
}  // namespace vmscan
