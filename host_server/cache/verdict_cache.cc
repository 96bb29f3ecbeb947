#include "host_server/cache/verdict_cache.h"

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace vmscan {
namespace {

// List node, hash slot and the strings' heap blocks: a rough but honest per-entry overhead.
constexpr uint64_t kEntryOverhead = 160;
constexpr uint64_t kThreatOverhead = 64;

}  // namespace

VerdictCache::VerdictCache(uint64_t max_bytes)
    : max_bytes_(max_bytes), shard_max_bytes_(max_bytes / kShards) {}

uint64_t VerdictCache::EntryBytes(const std::string& key, const CachedVerdict& verdict) {
  uint64_t bytes = kEntryOverhead + 2 * key.size() + verdict.unscannable_detail.size();
  for (const v1::Threat& t : verdict.threats) {
    bytes += kThreatOverhead + t.name().size() + t.part_path().size() + t.filename().size() +
             t.content_type().size();
  }
  return bytes;
}

VerdictCache::Shard& VerdictCache::ShardOf(const std::string& key) {
  return shards_[absl::Hash<std::string>()(key) % kShards];
}

std::optional<CachedVerdict> VerdictCache::Lookup(const std::string& key) {
  if (max_bytes_ == 0) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  Shard& shard = ShardOf(key);
  absl::MutexLock lock(&shard.mu);
  auto it = shard.index.find(key);
  if (it == shard.index.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return it->second->verdict;
}

void VerdictCache::Insert(const std::string& key, CachedVerdict verdict) {
  const uint64_t bytes = EntryBytes(key, verdict);
  if (max_bytes_ == 0 || bytes > shard_max_bytes_) return;
  Shard& shard = ShardOf(key);
  absl::MutexLock lock(&shard.mu);
  auto it = shard.index.find(key);
  if (it != shard.index.end()) {  // a concurrent scan of the same content got there first
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
    return;
  }
  while (!shard.lru.empty() && shard.bytes + bytes > shard_max_bytes_) {
    Entry& oldest = shard.lru.back();
    shard.bytes -= oldest.bytes;
    shard.index.erase(oldest.key);
    shard.lru.pop_back();
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
  shard.lru.push_front(Entry{key, std::move(verdict), bytes});
  shard.index.emplace(shard.lru.front().key, shard.lru.begin());
  shard.bytes += bytes;
  inserts_.fetch_add(1, std::memory_order_relaxed);
}

void VerdictCache::Clear() {
  for (Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    shard.index.clear();
    shard.lru.clear();
    shard.bytes = 0;
  }
}

VerdictCacheStats VerdictCache::stats() const {
  VerdictCacheStats s;
  s.hits = hits_.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  s.inserts = inserts_.load(std::memory_order_relaxed);
  s.evictions = evictions_.load(std::memory_order_relaxed);
  s.max_bytes = max_bytes_;
  for (const Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    s.entries += shard.index.size();
    s.bytes += shard.bytes;
  }
  return s;
}

std::string VerdictCacheKey(absl::string_view content_digest, absl::string_view signature_version,
                            absl::string_view engine_settings, absl::string_view vm_bounds) {
  // Length-prefixed parts, hashed: fixed-size keys whatever the version strings look like.
  Sha256 hash;
  for (absl::string_view part : {content_digest, signature_version, engine_settings, vm_bounds}) {
    hash.Update(absl::StrCat(part.size(), ":"));
    hash.Update(part);
  }
  return hash.FinishHex();
}

}  // namespace vmscan
