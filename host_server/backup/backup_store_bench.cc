// Put throughput of LmdbBackupStore with full sync, for a typical infected mail (20 KB).
//
//   backup_store_bench [--benchmark_min_time=5] [dir]   (default dir: ./backup_store_bench.tmp)
//
// The directory should be on the disk the SVM will use: a tmpfs makes fsync free.
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "host_server/backup/lmdb_backup_store.h"
#include "host_server/storage/lmdb_env.h"

namespace vmscan {
namespace {

std::string g_dir = "backup_store_bench.tmp";

// Half text, half base64-looking random: compresses roughly like a mail with an attachment.
std::string Message(size_t size) {
  absl::BitGen gen;
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = "From: a@example.org\r\nTo: b@example.org\r\nSubject: invoice\r\n\r\n";
  while (out.size() < size / 2) out += "Please find the invoice attached. Regards, accounting.\r\n";
  while (out.size() < size) out.push_back(kB64[absl::Uniform<int>(gen, 0, 64)]);
  return out;
}

void BM_Put20KB(benchmark::State& state) {
  std::error_code ec;
  std::filesystem::remove_all(g_dir, ec);
  LmdbBackupOptions options;
  options.dir = g_dir;
  auto store = LmdbBackupStore::Open(options);
  if (!store.ok()) {
    state.SkipWithError(std::string(store.status().message()).c_str());
    return;
  }
  const std::string message = Message(20 * 1000);
  v1::BackupRecord meta;
  meta.mutable_vm()->set_id("vm-1");
  meta.add_threats()->set_name("Eicar-Test-Signature");
  meta.set_action(v1::DELETE);
  for (auto _ : state) {
    auto id = (*store)->Put(meta, message);
    if (!id.ok()) state.SkipWithError(std::string(id.status().message()).c_str());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * message.size());
  auto stats = (*store)->Stats();
  if (stats.ok()) {
    state.counters["stored_ratio"] =
        static_cast<double>(stats->stored_bytes()) / std::max<uint64_t>(stats->original_bytes(), 1);
  }
  store->reset();
  std::filesystem::remove_all(g_dir, ec);
}
BENCHMARK(BM_Put20KB)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Baseline: the same bytes put raw into LMDB, one fully-synced commit each, no compression.
void BM_RawLmdbCommit20KB(benchmark::State& state) {
  std::error_code ec;
  std::filesystem::remove_all(g_dir, ec);
  std::filesystem::create_directories(g_dir, ec);
  MDB_env* raw = nullptr;
  mdb_env_create(&raw);
  MdbEnvPtr env(raw);
  mdb_env_set_mapsize(env.get(), uint64_t{1} << 30);
  if (mdb_env_open(env.get(), g_dir.c_str(), 0, 0600) != 0) {
    state.SkipWithError("mdb_env_open");
    return;
  }
  MDB_dbi dbi = 0;
  {
    auto txn = MdbTxn::Begin(env.get(), 0);
    mdb_dbi_open(txn->get(), nullptr, 0, &dbi);
    (void)txn->Commit();
  }
  const std::string message = Message(20 * 1000);
  uint64_t n = 0;
  for (auto _ : state) {
    auto txn = MdbTxn::Begin(env.get(), 0);
    absl::Status status =
        txn.ok() ? txn->Put(dbi, absl::StrCat(1000000000 + n++), message) : txn.status();
    if (status.ok()) status = txn->Commit();
    if (!status.ok()) state.SkipWithError(std::string(status.message()).c_str());
  }
  state.SetItemsProcessed(state.iterations());
  env.reset();
  std::filesystem::remove_all(g_dir, ec);
}
BENCHMARK(BM_RawLmdbCommit20KB)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace vmscan

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (argc > 1) vmscan::g_dir = argv[1];
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
