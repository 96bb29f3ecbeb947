#include "common/command_line.h"

#include "gtest/gtest.h"

namespace vmscan {
namespace {

TEST(CommandLineTest, FlagsSwitchesAndPositionals) {
  CommandLine cl({"--config", "a.yaml", "--set=x.y=1", "--json", "-", "--set", "z=2"});
  std::string config, file;
  std::vector<std::string> sets;
  bool json = false;
  while (!cl.done()) {
    if (cl.Flag("--config", &config) || cl.RepeatedFlag("--set", &sets)) continue;
    if (cl.Switch("--json")) {
      json = true;
      continue;
    }
    ASSERT_TRUE(cl.Positional(&file)) << cl.current();
  }
  EXPECT_TRUE(cl.error().ok());
  EXPECT_EQ(config, "a.yaml");
  EXPECT_EQ(sets, (std::vector<std::string>{"x.y=1", "z=2"}));
  EXPECT_TRUE(json);
  EXPECT_EQ(file, "-");
}

TEST(CommandLineTest, MissingValueIsAnError) {
  CommandLine cl({"--config"});
  std::string config;
  EXPECT_FALSE(cl.Flag("--config", &config));
  EXPECT_FALSE(cl.error().ok());
  EXPECT_EQ(cl.error().message(), "--config needs a value");
  EXPECT_TRUE(cl.done());
}

TEST(CommandLineTest, PrefixOfAnotherFlagDoesNotMatch) {
  CommandLine cl({"--configx=1"});
  std::string config;
  EXPECT_FALSE(cl.Flag("--config", &config));
  EXPECT_FALSE(cl.Positional(&config));
  EXPECT_FALSE(cl.done());
}

}  // namespace
}  // namespace vmscan
