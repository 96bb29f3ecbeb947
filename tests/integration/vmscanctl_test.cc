// vmscanctl as an administrator runs it: the real vmscan-server binary (free port, temp state
// dir), Backup records made by the real vmscan-agent scanning the sample messages, and the real
// vmscanctl binary listing, showing, exporting, deleting and purging them; then the bad input of
// the issue (unknown and malformed ids, unwritable output, a record damaged on disk).
#include <lmdb.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "host_server/backup/record_format.h"
#include "tests/integration/vmscanctl_runner.h"
#include "tests/testing/test_mail.h"
#include "vmscan/v1/admin.pb.h"
#include "vmscan/v1/scan.pb.h"

namespace vmscan::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

std::string Sample(const std::string& name) {
  return SourcePath(absl::StrCat("deploy/samples/", name));
}

std::string SampleBytes(const std::string& name) { return ReadFile(Sample(name)).value(); }

std::string Rfc3339(int64_t unix_micros) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromUnixMicros(unix_micros),
                          absl::UTCTimeZone());
}

size_t Entries(const std::string& dir) {
  return std::distance(std::filesystem::directory_iterator(dir),
                       std::filesystem::directory_iterator());
}

// One vmscan-server process on a free loopback port.
class ServerProcess {
 public:
  ServerProcess(const std::string& dir, const std::string& state_dir,
                const std::vector<std::string>& sets) {
    const std::string port_file = dir + "/port";
    std::filesystem::remove(port_file);
    std::vector<std::string> args = {VMSCAN_SERVER_BIN,
                                     "--set=listen=127.0.0.1:0",
                                     "--set=state_dir=" + state_dir,
                                     "--set=log_level=warning",
                                     "--port-file",
                                     port_file};
    for (const std::string& set : sets) args.push_back("--set=" + set);
    pid_ = fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      execv(VMSCAN_SERVER_BIN, argv.data());
      _exit(127);
    }
    for (int i = 0; i < 600 && !std::filesystem::exists(port_file); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::ifstream(port_file) >> port_;
  }
  ~ServerProcess() { Stop(); }

  // SIGTERM, then waits; true when the server exited cleanly (status 0).
  bool Stop() {
    if (pid_ <= 0) return true;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// Scans `file` as VM `vm` (named `name`, else after the host) with the real agent; returns the
// Backup id of the reply. The VM joins the server's inventory with that scan.
std::string ScanForBackup(const ServerProcess& server, const std::string& dir,
                          const std::string& vm, const std::string& file,
                          const std::string& name = "") {
  CommandRun run = Shell(absl::StrCat(
      VMSCAN_AGENT_BIN, " scan --server 127.0.0.1:", server.port(), " --set state_dir=", dir,
      "/agent --set vm.id=", vm, name.empty() ? "" : " --set vm.name=" + name, " --json ", file));
  EXPECT_EQ(run.exit_code, 1) << run.err;  // infected
  const v1::ScanResult result = FromJson<v1::ScanResult>(run.out);
  EXPECT_FALSE(result.backup_id().empty()) << run.out;
  return result.backup_id();
}

CommandRun Ctl(int port, const std::string& args) {
  return RunVmscanctl(absl::StrCat("127.0.0.1:", port), args);
}

v1::ListBackupsResponse ListJson(int port, const std::string& filters) {
  CommandRun run = Ctl(port, "--json backup list " + filters);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  return FromJson<v1::ListBackupsResponse>(run.out);
}

std::set<std::string> ListIds(int port, const std::string& filters) {
  std::set<std::string> ids;
  const v1::ListBackupsResponse response = ListJson(port, filters);
  for (const v1::BackupRecord& r : response.records()) ids.insert(r.id());
  return ids;
}

// Rewrites the value of one record in one database of a stopped server's store, as disk damage
// would; uses the layout of host_server/backup/record_format.h.
void DamageRecord(const std::string& backup_dir, const char* db, const std::string& id,
                  const std::function<void(std::string&)>& change) {
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), 0);
  ASSERT_EQ(mdb_env_set_maxdbs(env, 3), 0);
  ASSERT_EQ(mdb_env_open(env, backup_dir.c_str(), 0, 0600), 0);
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
  MDB_dbi dbi;
  ASSERT_EQ(mdb_dbi_open(txn, db, 0, &dbi), 0);
  MDB_val key{id.size(), const_cast<char*>(id.data())};
  MDB_val value;
  ASSERT_EQ(mdb_get(txn, dbi, &key, &value), 0) << id << " not in " << db;
  std::string copy(static_cast<const char*>(value.mv_data), value.mv_size);
  const std::string before = copy;
  change(copy);
  ASSERT_NE(copy, before);
  MDB_val changed{copy.size(), copy.data()};
  ASSERT_EQ(mdb_put(txn, dbi, &key, &changed, 0), 0);
  ASSERT_EQ(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
}

// A fresh temp dir per suite.
std::string MakeDir(const std::string& name) {
  std::string dir =
      std::filesystem::temp_directory_path() / absl::StrCat("vmscanctl-", name, "-", getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Four records on one store: one made by a server set to DELETE, three by a server on the
// default action (AUTO: disinfected), from four VMs (vm-a named desk-a, vm-b and vm-c both
// named shared-desk) and with two different threats.
class VmscanctlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(MakeDir("main"));
    const std::string state = *dir_ + "/state";
    const std::string marker_mail = *dir_ + "/marker.eml";
    std::ofstream(marker_mail, std::ios::binary) << MailWithAttachment(
        "notes.txt", "text/plain", "harmless notes VMSCAN-TEST-THREAT-7f3a9c end\n");
    {
      ServerProcess deleting(*dir_, state, {"mail_antivirus.action_on_threat=DELETE"});
      ASSERT_GT(deleting.port(), 0) << "vmscan-server did not start";
      ids_.deleted = ScanForBackup(deleting, *dir_, "vm-del", Sample("infected-attachment.eml"));
      ASSERT_TRUE(deleting.Stop());
    }
    server_ = new ServerProcess(*dir_, state, {});
    ASSERT_GT(server_->port(), 0) << "vmscan-server did not restart";
    ids_.a = ScanForBackup(*server_, *dir_, "vm-a", Sample("infected-attachment.eml"), "desk-a");
    ids_.b = ScanForBackup(*server_, *dir_, "vm-b", Sample("infected-zip.eml"), "shared-desk");
    ids_.marker = ScanForBackup(*server_, *dir_, "vm-c", marker_mail, "shared-desk");
  }
  static void TearDownTestSuite() {
    if (server_ != nullptr) {
      EXPECT_TRUE(server_->Stop()) << "server did not stop cleanly";
    }
    delete server_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  static CommandRun Vmscanctl(const std::string& args) { return Ctl(server_->port(), args); }
  static int port() { return server_->port(); }

  struct Ids {
    std::string deleted, a, b, marker;
  };
  static Ids ids_;
  static ServerProcess* server_;
  static std::string* dir_;
};

VmscanctlTest::Ids VmscanctlTest::ids_;
ServerProcess* VmscanctlTest::server_ = nullptr;
std::string* VmscanctlTest::dir_ = nullptr;

TEST_F(VmscanctlTest, ListPrintsEveryRecordInAnAlignedTable) {
  CommandRun run = Vmscanctl("backup list");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<std::string> lines = absl::StrSplit(run.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 6u) << run.out;  // header, 4 records, count
  for (const char* column : {"ID", "TIME (UTC)", "VM", "ACTION", "THREATS", "SUBJECT", "SIZE"}) {
    EXPECT_THAT(lines[0], HasSubstr(column));
  }
  // Newest first; every row's VM column starts where the header's does.
  const size_t vm_column = lines[0].find("VM");
  const std::vector<std::pair<std::string, std::string>> rows = {
      {ids_.marker, "vm-c"}, {ids_.b, "vm-b"}, {ids_.a, "vm-a"}, {ids_.deleted, "vm-del"}};
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_TRUE(absl::StartsWith(lines[i + 1], rows[i].first)) << lines[i + 1];
    EXPECT_EQ(lines[i + 1].find(rows[i].second), vm_column) << lines[i + 1];
  }
  EXPECT_THAT(lines[4], HasSubstr(" DELETE "));
  EXPECT_THAT(lines[4], HasSubstr("Invoice 2026-114"));
  EXPECT_THAT(lines[3], HasSubstr("DELIVER_DISINFECTED"));
  EXPECT_THAT(lines[2], HasSubstr("Documents for review"));
  EXPECT_THAT(lines[1], HasSubstr("Vmscan.Test.Marker"));
  EXPECT_EQ(lines[5], "4 records");
  EXPECT_THAT(run.err, IsEmpty());
}

TEST_F(VmscanctlTest, ListJsonHoldsTheRecords) {
  v1::ListBackupsResponse response = ListJson(port(), "");
  ASSERT_EQ(response.records_size(), 4);
  EXPECT_EQ(response.records(0).id(), ids_.marker);
  EXPECT_EQ(response.records(3).id(), ids_.deleted);
  for (int i = 1; i < response.records_size(); ++i) {
    EXPECT_GT(response.records(i - 1).created_unix_micros(),
              response.records(i).created_unix_micros());
  }
  const v1::BackupRecord& a = response.records(2);
  EXPECT_EQ(a.id(), ids_.a);
  EXPECT_EQ(a.vm().id(), "vm-a");
  EXPECT_EQ(a.action(), v1::DELIVER_DISINFECTED);
  EXPECT_EQ(a.size(), SampleBytes("infected-attachment.eml").size());
  EXPECT_EQ(a.sha256(), Sha256Hex(SampleBytes("infected-attachment.eml")));
  EXPECT_EQ(response.records(3).action(), v1::DELETE);
  EXPECT_EQ(response.next_until_unix_micros(), 0);
}

TEST_F(VmscanctlTest, ListFiltersExcludeWhatDoesNotMatch) {
  EXPECT_THAT(ListIds(port(), "--vm vm-a"), UnorderedElementsAre(ids_.a));
  EXPECT_THAT(ListIds(port(), "--vm vm-nobody"), IsEmpty());
  EXPECT_THAT(ListIds(port(), "--action DELETE"), UnorderedElementsAre(ids_.deleted));
  EXPECT_THAT(ListIds(port(), "--action deliver_disinfected"),
              UnorderedElementsAre(ids_.a, ids_.b, ids_.marker));
  EXPECT_THAT(ListIds(port(), "--threat test.marker"), UnorderedElementsAre(ids_.marker));
  EXPECT_THAT(ListIds(port(), "--threat EICAR"),
              UnorderedElementsAre(ids_.deleted, ids_.a, ids_.b));
  EXPECT_THAT(ListIds(port(), "--vm vm-a --action DELETE"), IsEmpty());

  // The DELETE record was made before the server restarted, so a bound at ids_.a splits them.
  const int64_t a_created = ListJson(port(), "--vm vm-a").records(0).created_unix_micros();
  EXPECT_THAT(ListIds(port(), "--since " + Rfc3339(a_created)),
              UnorderedElementsAre(ids_.a, ids_.b, ids_.marker));
  EXPECT_THAT(ListIds(port(), "--until " + Rfc3339(a_created)), UnorderedElementsAre(ids_.deleted));
  EXPECT_THAT(ListIds(port(), "--since 1h"),
              UnorderedElementsAre(ids_.deleted, ids_.a, ids_.b, ids_.marker));
  EXPECT_THAT(ListIds(port(), "--until 1h"), IsEmpty());  // all are younger than an hour

  v1::ListBackupsResponse page = ListJson(port(), "--limit 2");
  ASSERT_EQ(page.records_size(), 2);
  EXPECT_EQ(page.records(0).id(), ids_.marker);
  EXPECT_NE(page.next_until_unix_micros(), 0);
  CommandRun table = Vmscanctl("backup list --limit 2");
  EXPECT_THAT(table.out, HasSubstr("2 records (more match: add --until "));
  CommandRun none = Vmscanctl("backup list --vm vm-nobody");
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_EQ(none.out, "no backup records match\n");
}

// `--vm` takes what `vms show` takes: an id, or a name only one VM has.
TEST_F(VmscanctlTest, ListByVmIdOrName) {
  EXPECT_THAT(ListIds(port(), "--vm vm-a"), UnorderedElementsAre(ids_.a));
  EXPECT_THAT(ListIds(port(), "--vm desk-a"), UnorderedElementsAre(ids_.a));
  EXPECT_THAT(ListIds(port(), "--vm desk-a --action DELETE"), IsEmpty());
  EXPECT_THAT(ListIds(port(), "--vm vm-c"), UnorderedElementsAre(ids_.marker));
  // Not in the inventory (e.g. deleted from it; its records stay): taken as an id.
  EXPECT_THAT(ListIds(port(), "--vm desk-nobody"), IsEmpty());

  CommandRun shared = Vmscanctl("backup list --vm shared-desk");
  EXPECT_EQ(shared.exit_code, 64) << shared.out;
  EXPECT_THAT(shared.err, HasSubstr("backup list --vm shared-desk"));
  EXPECT_THAT(shared.err, HasSubstr("several VMs are named 'shared-desk'; use an id"));
  EXPECT_THAT(shared.out, IsEmpty());
}

TEST_F(VmscanctlTest, ShowPrintsEveryField) {
  CommandRun run = Vmscanctl("backup show " + ids_.a);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (const std::string& want :
       {"id          " + ids_.a, std::string("vm          vm-a"),
        std::string("channel     CLI, INCOMING"), std::string("subject     Invoice 2026-114"),
        std::string("action      DELIVER_DISINFECTED"),
        std::string("threat      Eicar-Test-Signature.UNOFFICIAL in part 2 \"invoice.com\""),
        absl::StrCat("size        ", SampleBytes("infected-attachment.eml").size(), " bytes"),
        "sha256      " + Sha256Hex(SampleBytes("infected-attachment.eml"))}) {
    EXPECT_THAT(run.out, HasSubstr(want));
  }
  CommandRun json = Vmscanctl("backup show --json " + ids_.deleted);
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const v1::BackupRecord record = FromJson<v1::BackupRecord>(json.out);
  EXPECT_EQ(record.id(), ids_.deleted);
  EXPECT_EQ(record.vm().id(), "vm-del");
  EXPECT_EQ(record.action(), v1::DELETE);
}

TEST_F(VmscanctlTest, ExportIsByteIdenticalToTheOriginal) {
  const std::string out_dir = *dir_ + "/export";
  std::filesystem::create_directories(out_dir);
  const std::string file = out_dir + "/a.eml";
  CommandRun run = Vmscanctl(absl::StrCat("backup export ", ids_.a, " -o ", file));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("verified"));
  EXPECT_EQ(ReadFile(file).value_or(""), SampleBytes("infected-attachment.eml"));
  struct stat st;
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // it holds malware
  EXPECT_EQ(Entries(out_dir), 1u);      // no temp file left beside it

  CommandRun to_stdout = Vmscanctl("backup export " + ids_.b);
  ASSERT_EQ(to_stdout.exit_code, 0) << to_stdout.err;
  EXPECT_EQ(to_stdout.out, SampleBytes("infected-zip.eml"));

  CommandRun deleted = Vmscanctl(absl::StrCat("backup export ", ids_.deleted, " --output -"));
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(deleted.out, SampleBytes("infected-attachment.eml"));
}

TEST_F(VmscanctlTest, DeleteRemovesOneRecordThenShowIsNotFound) {
  const std::string doomed = ScanForBackup(*server_, *dir_, "vm-tmp", Sample("infected-zip.eml"));
  ASSERT_EQ(ListIds(port(), "").count(doomed), 1u);
  CommandRun run = Vmscanctl("backup delete " + doomed);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, absl::StrCat("deleted backup ", doomed, "\n"));

  CommandRun show = Vmscanctl("backup show " + doomed);
  EXPECT_EQ(show.exit_code, 1);
  EXPECT_THAT(show.err, HasSubstr("not found"));
  EXPECT_THAT(show.err, HasSubstr(doomed));
  EXPECT_EQ(Vmscanctl("backup delete " + doomed).exit_code, 1);
  EXPECT_EQ(Vmscanctl("backup export " + doomed).exit_code, 1);
  EXPECT_THAT(ListIds(port(), ""), UnorderedElementsAre(ids_.deleted, ids_.a, ids_.b, ids_.marker));
}

TEST_F(VmscanctlTest, StatsCountTheRecords) {
  CommandRun run = Vmscanctl("backup stats");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("records        4\n"));
  CommandRun json = Vmscanctl("backup stats --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const v1::BackupStats stats = FromJson<v1::BackupStats>(json.out);
  EXPECT_EQ(stats.records(), 4u);
  uint64_t original = 0;
  const v1::ListBackupsResponse all = ListJson(port(), "");
  for (const v1::BackupRecord& r : all.records()) original += r.size();
  EXPECT_EQ(stats.original_bytes(), original);
  EXPECT_GT(stats.stored_bytes(), 0u);
}

TEST_F(VmscanctlTest, UnknownAndMalformedIdsAreClearErrors) {
  const std::string unknown = "0000000000000001-00000000";
  CommandRun show = Vmscanctl("backup show " + unknown);
  EXPECT_EQ(show.exit_code, 1);
  EXPECT_THAT(show.err, HasSubstr(absl::StrCat("backup show ", unknown, ": not found")));
  EXPECT_THAT(show.out, IsEmpty());

  CommandRun malformed = Vmscanctl("backup show not-an-id");
  EXPECT_EQ(malformed.exit_code, 64);
  EXPECT_THAT(malformed.err, HasSubstr("malformed backup id \"not-an-id\""));
  EXPECT_EQ(Vmscanctl("backup export ../../etc/passwd").exit_code, 64);
  EXPECT_EQ(Vmscanctl("backup delete 0006613C23F0AC64-DBB07111").exit_code, 64);  // upper case

  const std::string out_dir = *dir_ + "/unknown-export";
  std::filesystem::create_directories(out_dir);
  CommandRun exported =
      Vmscanctl(absl::StrCat("backup export ", unknown, " -o ", out_dir, "/x.eml"));
  EXPECT_EQ(exported.exit_code, 1);
  EXPECT_THAT(exported.err, HasSubstr(unknown));
  EXPECT_EQ(Entries(out_dir), 0u);  // neither the file nor a temp file

  EXPECT_EQ(ListIds(port(), "").size(), 4u);  // nothing else lost
}

TEST_F(VmscanctlTest, UnwritableOutputExits74AndCreatesNothing) {
  CommandRun run = Vmscanctl(absl::StrCat("backup export ", ids_.a, " -o /nonexistent-dir/x.eml"));
  EXPECT_EQ(run.exit_code, 74);
  EXPECT_THAT(run.err, HasSubstr("cannot write /nonexistent-dir/x.eml"));
  EXPECT_THAT(run.err, HasSubstr(ids_.a));
  EXPECT_FALSE(std::filesystem::exists("/nonexistent-dir"));
  CommandRun full = Vmscanctl(absl::StrCat("backup export ", ids_.a, " >/dev/full"));
  EXPECT_EQ(full.exit_code, 74);
  EXPECT_THAT(full.err, HasSubstr("cannot write to standard output"));
}

TEST_F(VmscanctlTest, UnreachableServerAndUsage) {
  CommandRun run = Ctl(1, "backup list");
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_THAT(run.err, HasSubstr("cannot reach vmscan-server at 127.0.0.1:1"));
  EXPECT_EQ(Vmscanctl("backup purge").exit_code, 64);
  EXPECT_EQ(Vmscanctl("backup frobnicate").exit_code, 64);
  CommandRun help = Vmscanctl("--help");
  EXPECT_EQ(help.exit_code, 0);
  for (const char* code : {"0   done", "1   no such backup record", "2   the server failed",
                           "3   the server cannot be reached", "64  usage", "74  the output"}) {
    EXPECT_THAT(help.out, HasSubstr(code));
  }
  EXPECT_EQ(ListIds(port(), "").size(), 4u);
}

// Purge on a store of its own, so that it cannot disturb the records above.
TEST(VmscanctlPurgeTest, PurgeByAgeThenAll) {
  const std::string dir = MakeDir("purge");
  ServerProcess server(dir, dir + "/state", {});
  ASSERT_GT(server.port(), 0) << "vmscan-server did not start";
  const int port = server.port();
  const std::string old1 = ScanForBackup(server, dir, "vm-a", Sample("infected-attachment.eml"));
  const std::string old2 = ScanForBackup(server, dir, "vm-b", Sample("infected-zip.eml"));

  CommandRun no_scope = Ctl(port, "backup purge");
  EXPECT_EQ(no_scope.exit_code, 64);
  EXPECT_THAT(no_scope.err, HasSubstr("--older-than AGE (e.g. 30d) or --all"));
  CommandRun young = Ctl(port, "backup purge --older-than 1h");
  ASSERT_EQ(young.exit_code, 0) << young.err;
  EXPECT_EQ(young.out, "removed 0 records older than 1h\n");
  EXPECT_THAT(ListIds(port, ""), UnorderedElementsAre(old1, old2));

  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  const std::string fresh = ScanForBackup(server, dir, "vm-a", Sample("infected-zip.eml"));
  CommandRun by_age = Ctl(port, "--json backup purge --older-than 2s");
  ASSERT_EQ(by_age.exit_code, 0) << by_age.err;
  EXPECT_EQ(FromJson<v1::PurgeBackupsResponse>(by_age.out).removed(), 2u);
  EXPECT_THAT(ListIds(port, ""), UnorderedElementsAre(fresh));

  CommandRun all = Ctl(port, "backup purge --all");
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(all.out, "removed 1 record\n");
  EXPECT_THAT(Ctl(port, "backup stats").out, HasSubstr("records        0\n"));
  EXPECT_EQ(Ctl(port, "backup list").out, "no backup records match\n");
  EXPECT_TRUE(server.Stop());
  std::filesystem::remove_all(dir);
}

// Damage on disk, made while the server is stopped: the damaged record fails clearly, everything
// else keeps working.
TEST(VmscanctlDamageTest, DamagedRecordFailsAloneAndNamesItsId) {
  const std::string dir = MakeDir("damage");
  const std::string state = dir + "/state";
  std::string damaged_copy, damaged_meta, intact;
  {
    ServerProcess server(dir, state, {});
    ASSERT_GT(server.port(), 0) << "vmscan-server did not start";
    damaged_copy = ScanForBackup(server, dir, "vm-x", Sample("infected-attachment.eml"));
    intact = ScanForBackup(server, dir, "vm-y", Sample("infected-zip.eml"));
    damaged_meta = ScanForBackup(server, dir, "vm-z", Sample("infected-attachment.eml"));
    ASSERT_TRUE(server.Stop());
  }
  DamageRecord(state + "/backup", kContentDbName, damaged_copy,
               [](std::string& v) { v[v.size() / 2] ^= 0x20; });
  DamageRecord(state + "/backup", kMetaDbName, damaged_meta,
               [](std::string& v) { v[v.size() - 3] ^= 0x01; });

  ServerProcess server(dir, state, {});
  ASSERT_GT(server.port(), 0) << "vmscan-server did not restart on the damaged store";
  const int port = server.port();
  const std::string out_dir = dir + "/out";
  std::filesystem::create_directories(out_dir);

  CommandRun to_file =
      Ctl(port, absl::StrCat("backup export ", damaged_copy, " -o ", out_dir, "/damaged.eml"));
  EXPECT_EQ(to_file.exit_code, 2);
  EXPECT_THAT(to_file.err, HasSubstr(absl::StrCat("backup export ", damaged_copy)));
  EXPECT_THAT(to_file.err, HasSubstr("damaged"));
  EXPECT_THAT(to_file.err, HasSubstr("DATA_LOSS"));
  EXPECT_EQ(Entries(out_dir), 0u);  // no partial file, no temp file
  CommandRun to_stdout = Ctl(port, "backup export " + damaged_copy);
  EXPECT_EQ(to_stdout.exit_code, 2);
  EXPECT_THAT(to_stdout.out, IsEmpty());

  CommandRun good = Ctl(port, absl::StrCat("backup export ", intact, " -o ", out_dir, "/ok.eml"));
  ASSERT_EQ(good.exit_code, 0) << good.err;
  EXPECT_EQ(ReadFile(out_dir + "/ok.eml").value_or(""), SampleBytes("infected-zip.eml"));

  CommandRun show_copy = Ctl(port, "backup show " + damaged_copy);  // its metadata is intact
  EXPECT_EQ(show_copy.exit_code, 0) << show_copy.err;
  CommandRun show_meta = Ctl(port, "backup show " + damaged_meta);
  EXPECT_EQ(show_meta.exit_code, 2);
  EXPECT_THAT(show_meta.err, HasSubstr(damaged_meta));
  EXPECT_THAT(show_meta.err, HasSubstr("damaged"));

  CommandRun list = Ctl(port, "backup list");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr(damaged_copy));
  EXPECT_THAT(list.out, HasSubstr(intact));
  EXPECT_THAT(list.out, HasSubstr(damaged_meta));
  EXPECT_THAT(list.out, HasSubstr("DAMAGED"));
  EXPECT_THAT(list.out, HasSubstr("3 records"));
  EXPECT_THAT(Ctl(port, "backup stats").out, HasSubstr("records        3\n"));

  CommandRun remove = Ctl(port, "backup delete " + damaged_meta);
  EXPECT_EQ(remove.exit_code, 0) << remove.err;
  EXPECT_THAT(ListIds(port, ""), UnorderedElementsAre(damaged_copy, intact));
  EXPECT_THAT(Ctl(port, "backup list").out, Not(HasSubstr("DAMAGED")));
  EXPECT_TRUE(server.Stop());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vmscan::testing
