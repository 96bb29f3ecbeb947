#include "common/config/proto_fields.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "vmscan/v1/config.pb.h"

namespace vmscan {
namespace {

using ::testing::Optional;

const google::protobuf::Descriptor* Limits() { return v1::ScanLimits::descriptor(); }

TEST(FindFieldTest, ProtoOrJsonName) {
  ASSERT_NE(FindField(Limits(), "max_files"), nullptr);
  EXPECT_EQ(FindField(Limits(), "max_files"), FindField(Limits(), "maxFiles"));
  EXPECT_EQ(FindField(Limits(), "max_files")->name(), "max_files");
  EXPECT_EQ(FindField(Limits(), "MaxFiles"), nullptr);  // names are case-sensitive
  EXPECT_EQ(FindField(Limits(), "max_fils"), nullptr);
  EXPECT_EQ(FindField(Limits(), ""), nullptr);
}

TEST(SuggestKeyTest, ClosestNameWithinTwoEdits) {
  EXPECT_THAT(SuggestKey(Limits(), "max_fils"), Optional(std::string("max_files")));
  EXPECT_THAT(SuggestKey(Limits(), "maxFils"), Optional(std::string("maxFiles")));
  EXPECT_THAT(SuggestKey(Limits(), "max_recursoin"), Optional(std::string("max_recursion")));
  EXPECT_EQ(SuggestKey(Limits(), "max_everything"), absl::nullopt);
  EXPECT_EQ(SuggestKey(Limits(), ""), absl::nullopt);
}

TEST(SetFieldFromTextTest, ConvertsByTypeAndNamesThePathOnError) {
  v1::ScanLimits limits;
  const google::protobuf::FieldDescriptor* files = FindField(Limits(), "max_files");
  ASSERT_TRUE(SetFieldFromText(&limits, files, "100", "limits.max_files").ok());
  EXPECT_EQ(limits.max_files(), 100u);
  absl::Status bad = SetFieldFromText(&limits, files, "-1", "limits.max_files");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message(),
            "key 'limits.max_files' expects uint32 (decimal 0..4294967295), got '-1'");
  EXPECT_EQ(limits.max_files(), 100u) << "unchanged on error";

  v1::MailAntivirusConfig mail;
  const google::protobuf::FieldDescriptor* action =
      FindField(mail.GetDescriptor(), "action_on_threat");
  ASSERT_TRUE(SetFieldFromText(&mail, action, "delete", "action_on_threat").ok());
  EXPECT_EQ(mail.action_on_threat(), v1::ActionOnThreat::DELETE);
  EXPECT_THAT(std::string(SetFieldFromText(&mail, action, "explode", "action_on_threat").message()),
              ::testing::HasSubstr("expects one of UNSPECIFIED, AUTO"));

  v1::AgentConfig agent;
  const google::protobuf::FieldDescriptor* servers = FindField(agent.GetDescriptor(), "servers");
  ASSERT_TRUE(SetFieldFromText(&agent, servers, "a:1", "servers").ok());
  ASSERT_TRUE(SetFieldFromText(&agent, servers, "b:2", "servers").ok());
  EXPECT_EQ(agent.servers_size(), 2) << "a repeated field is appended to";
  const google::protobuf::FieldDescriptor* proxy = FindField(agent.GetDescriptor(), "smtp_proxy");
  EXPECT_THAT(std::string(SetFieldFromText(&agent, proxy, "x", "smtp_proxy").message()),
              ::testing::HasSubstr("is a message"));
}

}  // namespace
}  // namespace vmscan
