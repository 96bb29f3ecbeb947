// VerdictCache: verdicts shared by every VM of an SVM (docs/design.md §3.2,
// docs/verdict-cache.md). Key: the message's VerdictKey digest + the signature version + the
// verdict-relevant engine settings and the VM's scan bounds (VerdictCacheKey). Value: verdict,
// unscannable reason and threats with their part paths — never the action, which each VM's
// policy decides after the lookup.
//
//   VerdictCache cache(64 << 20);
//   if (std::optional<CachedVerdict> v = cache.Lookup(key)) ... else cache.Insert(key, verdict);
//   cache.Clear();  // new signatures
//
// Bounded by bytes (keys, values and bookkeeping, as estimated by EntryBytes); least recently
// used entries are evicted first. 16 shards, each with its own mutex, so lookups from many
// scan threads do not serialize. Thread-safe.
#ifndef VMSCAN_HOST_SERVER_CACHE_VERDICT_CACHE_H_
#define VMSCAN_HOST_SERVER_CACHE_VERDICT_CACHE_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "vmscan/v1/scan.pb.h"

namespace vmscan {

struct CachedVerdict {
  v1::Verdict verdict = v1::VERDICT_UNSPECIFIED;
  v1::UnscannableReason unscannable_reason = v1::UNSCANNABLE_REASON_UNSPECIFIED;
  std::string unscannable_detail;
  std::vector<v1::Threat> threats;
};

struct VerdictCacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t inserts = 0;
  uint64_t evictions = 0;
  uint64_t entries = 0;
  uint64_t bytes = 0;
  uint64_t max_bytes = 0;
};

class VerdictCache {
 public:
  // 0: caching off (every Lookup misses, Insert does nothing).
  explicit VerdictCache(uint64_t max_bytes);
  VerdictCache(const VerdictCache&) = delete;
  VerdictCache& operator=(const VerdictCache&) = delete;

  std::optional<CachedVerdict> Lookup(const std::string& key);
  void Insert(const std::string& key, CachedVerdict verdict);
  // Drops every entry (a new signature set makes every verdict stale).
  void Clear();
  VerdictCacheStats stats() const;

  // What one entry is charged against max_bytes.
  static uint64_t EntryBytes(const std::string& key, const CachedVerdict& verdict);

 private:
  static constexpr int kShards = 16;
  struct Entry {
    std::string key;
    CachedVerdict verdict;
    uint64_t bytes = 0;
  };
  struct Shard {
    mutable absl::Mutex mu;
    std::list<Entry> lru ABSL_GUARDED_BY(mu);  // most recently used first
    absl::flat_hash_map<absl::string_view, std::list<Entry>::iterator> index ABSL_GUARDED_BY(mu);
    uint64_t bytes ABSL_GUARDED_BY(mu) = 0;
  };
  Shard& ShardOf(const std::string& key);

  const uint64_t max_bytes_;
  const uint64_t shard_max_bytes_;
  std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> hits_{0}, misses_{0}, inserts_{0}, evictions_{0};
};

// The cache key of one scan: the message's VerdictKey digest and everything else a verdict
// depends on. `engine_settings` is the SVM's fingerprint of its engine options and limits;
// `vm_bounds` the VM's own tighter limits, if any (a policy's limits change verdicts).
std::string VerdictCacheKey(absl::string_view content_digest, absl::string_view signature_version,
                            absl::string_view engine_settings, absl::string_view vm_bounds);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_CACHE_VERDICT_CACHE_H_
