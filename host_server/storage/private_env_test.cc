#include "host_server/storage/private_env.h"

#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

using ::testing::HasSubstr;

class PrivateEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.what = "test store";
    options_.dir = ::testing::TempDir() + "/private_env_test/" +
                   ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(options_.dir);
    options_.max_dbs = 1;
  }

  // Opens the store and its one database.
  void Open() {
    absl::StatusOr<std::unique_ptr<PrivateEnv>> env = PrivateEnv::Open(options_);
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = std::move(*env);
    ASSERT_TRUE(env_->Write([&](MdbTxn& txn) {
                      return LmdbStatus(mdb_dbi_open(txn.get(), "kv", MDB_CREATE, &dbi_), "dbi");
                    })
                    .ok());
  }

  absl::Status Put(const std::string& key, const std::string& value) {
    return env_->Write([&](MdbTxn& txn) { return txn.Put(dbi_, key, value); });
  }

  PrivateEnvOptions options_;
  std::unique_ptr<PrivateEnv> env_;
  MDB_dbi dbi_ = 0;
};

TEST_F(PrivateEnvTest, OpensInAPrivateDirectoryOnlyOncePerProcess) {
  Open();
  struct stat st;
  ASSERT_EQ(::stat(options_.dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  absl::StatusOr<std::unique_ptr<PrivateEnv>> second = PrivateEnv::Open(options_);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(), HasSubstr("already open"));
  env_.reset();
  EXPECT_TRUE(PrivateEnv::Open(options_).ok()) << "the claim ends with the environment";
}

TEST_F(PrivateEnvTest, BadOptionsAreRefused) {
  PrivateEnvOptions no_dir = options_;
  no_dir.dir.clear();
  EXPECT_EQ(PrivateEnv::Open(no_dir).status().code(), absl::StatusCode::kInvalidArgument);
  PrivateEnvOptions inverted = options_;
  inverted.initial_map_bytes = 2 << 20;
  inverted.max_map_bytes = 1 << 20;
  EXPECT_EQ(PrivateEnv::Open(inverted).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PrivateEnvTest, WritesGrowTheMapAndRunTheirBodyAgainFromScratch) {
  options_.initial_map_bytes = 64 << 10;  // a few pages
  options_.max_map_bytes = 64 << 20;
  Open();
  const uint64_t initial = env_->MapBytes();
  const std::string value(4000, 'v');
  int bodies = 0;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(env_->Write([&](MdbTxn& txn) {
                      ++bodies;
                      return txn.Put(dbi_, absl::StrCat("k", i), value);
                    })
                    .ok())
        << i;
  }
  EXPECT_GT(env_->MapBytes(), initial);
  EXPECT_GT(bodies, 100) << "some writes found the map full and ran again";
  int found = 0;
  ASSERT_TRUE(env_->Read([&](const MdbTxn& txn) -> absl::Status {
                    found = 0;
                    for (int i = 0; i < 100; ++i) {
                      if (txn.Get(dbi_, absl::StrCat("k", i)).ok()) ++found;
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(found, 100);
}

TEST_F(PrivateEnvTest, AtTheCeilingAWriteFailsWithResourceExhaustedAndWritesNothing) {
  options_.initial_map_bytes = 64 << 10;
  options_.max_map_bytes = 128 << 10;
  Open();
  absl::Status status = Put("huge", std::string(1 << 20, 'x'));
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_THAT(status.message(), HasSubstr("test store"));
  EXPECT_EQ(env_->MapBytes(), uint64_t{128} << 10);
  absl::Status absent =
      env_->Read([&](const MdbTxn& txn) { return txn.Get(dbi_, "huge").status(); });
  EXPECT_TRUE(absl::IsNotFound(absent)) << absent;
  EXPECT_TRUE(Put("small", "fits").ok()) << "the store stays usable";
}

// WithMapGrowth is for a caller that runs its own transaction (and may abort it).
TEST_F(PrivateEnvTest, WithMapGrowthPassesOnWhatTheAttemptReturns) {
  Open();
  int attempts = 0;
  absl::Status status = env_->WithMapGrowth([&]() -> absl::Status {
    ++attempts;
    return absl::AbortedError("changed my mind");
  });
  EXPECT_TRUE(absl::IsAborted(status)) << status;
  EXPECT_EQ(attempts, 1) << "only a full or resized map is retried";
}

}  // namespace
}  // namespace vmscan
